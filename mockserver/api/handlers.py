"""The business logic of each operation, registered by operationId.

Handlers are plain async functions of a `RequestContext`. They hold only what
the spec cannot say: scoping to the token's account, write preparation
(writes.py), localization (views.py), and the open points of paging and
reading that `ApiRules` decide (`ctx.rules`). Routing, validation and response
shapes come from the spec.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import Missing
from ..decisions import ApiRules
from ..store.backend import Backend, Caller, Principal
from ..store.planner import PatientQuery
from .views import PatientView
from .writes import prepare_create, prepare_update

__all__ = ["HANDLERS", "Handler", "Reply", "RequestContext", "operation"]


_KIT = ApiRules()


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any


@dataclass(slots=True)
class RequestContext:
    backend: Backend
    view: PatientView
    #: Who the request acts as; the backend checks its token (store/backend.py).
    caller: Caller
    path: Mapping[str, Any]
    query: Mapping[str, Any]
    read_body: Callable[[], dict[str, Any]]
    rules: ApiRules = _KIT

    async def principal(self) -> Principal:
        """Who the request acts as, its token checked now if no statement has yet (401 if refused)."""
        return await self.backend.principal(self.caller)

    def body(self) -> dict[str, Any]:
        """The validated JSON body (415, 400 and 422 are raised from here)."""
        return self.read_body()


Handler = Callable[[RequestContext], Awaitable[Reply]]
HANDLERS: dict[str, Handler] = {}


def operation(operation_id: str) -> Callable[[Handler], Handler]:
    """Register `handler` as the implementation of the spec's `operation_id`."""

    def register(handler: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise ValueError(f"operation {operation_id!r} has two handlers")
        HANDLERS[operation_id] = handler
        return handler

    return register


@operation("getMe")
async def get_me(ctx: RequestContext) -> Reply:
    user = (await ctx.principal()).user
    return Reply(
        200,
        {
            "id": user.id,
            "name": user.name,
            "avatar_url": user.avatar_url or f"https://dentare.io/users/{user.id}/avatar.png",
            "sgid": _signed_global_id(user.id),
        },
    )


@operation("listPatients")
async def list_patients(ctx: RequestContext) -> Reply:
    query, rules = ctx.query, ctx.rules
    page, per_page = query["page"], query["per_page"]
    if rules.clamp_per_page_to is not None:
        per_page = min(per_page, rules.clamp_per_page_to)
    patients, total = await ctx.backend.list_patients(
        ctx.caller,
        PatientQuery(
            is_active=query["is_active"],
            q=query.get("q"),
            email=query.get("email"),
            phone=query.get("phone"),
            personal_no=query.get("personal_no"),
            external_id=query.get("external_id"),
            legacy_id=query.get("legacy_id"),
        ),
        page=page,
        per_page=per_page,
    )
    if rules.page_past_end_not_found and not patients and page > 1:
        raise Missing("page", page)
    fields, lang = query.get("fields", ()) if rules.fields_on_list else (), query.get("lang")
    return Reply(
        200,
        {
            "data": [ctx.view(p, lang, fields) for p in patients],
            "meta": {"page": page, "per_page": per_page, "total": total},
        },
    )


@operation("getPatient")
async def get_patient(ctx: RequestContext) -> Reply:
    patient = await ctx.backend.get_patient(ctx.caller, ctx.path["id"])
    if ctx.rules.archived_not_found_by_id and not patient.is_active:
        raise Missing("patient", patient.id)
    return Reply(200, {"data": ctx.view(patient, ctx.query.get("lang"), ctx.query.get("fields", ()))})


@operation("createPatient")
async def create_patient(ctx: RequestContext) -> Reply:
    values = prepare_create(ctx.body(), ctx.rules)
    patient = await ctx.backend.create_patient(ctx.caller, values)
    return Reply(201, {"data": ctx.view(patient, None, ())})


@operation("updatePatient")
async def update_patient(ctx: RequestContext) -> Reply:
    existing = await ctx.backend.get_patient(ctx.caller, ctx.path["id"])  # 404 before any body error
    changes = prepare_update(ctx.body(), existing, ctx.rules)
    patient = await ctx.backend.update_patient(ctx.caller, existing.id, changes)
    return Reply(200, {"data": ctx.view(patient, None, ())})


def _signed_global_id(user_id: int) -> str:
    """A stand-in for Rails' signed global id: opaque, stable, safe to ignore."""
    payload = base64.b64encode(f'{{"gid":"gid://dentare/User/{user_id}"}}'.encode()).decode()
    digest = hashlib.sha256(f"dentare-mock:{payload}".encode()).hexdigest()[:40]
    return f"{payload}--{digest}"
