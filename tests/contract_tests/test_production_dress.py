"""No false alarm on what production servers add around a correct answer:
more fields in a list's `meta`, in error bodies (a request id, new on every
answer), in the user and in each patient (a `lock_version` that every update
moves; the guide does not say no other field may come: the extra_fields
decision point), a `sgid` signed anew on every answer ("safe to ignore"),
`charset=UTF-8` and a media type in capitals in the content type, gzip, and
headers the guide never mentions. The default run passes and reports only
extra_fields; --strict fails on exactly that point.

Nor on the checks a stricter server makes beyond the guide's (a preferred
doctor that must exist, no birthdate to come, an emergency contact's phone
checked as a phone, a personal number stored upper-cased): the default run
passes.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.middleware.gzip import GZipMiddleware

from .asgi_tools import ASGIApp, Mutant, Request, Response, call, collect, send_response
from .conftest import ContractRun, mock_app, run_contract, serve
from .mutants import Accounts

PRODUCTION_HEADERS = {
    "x-request-id": "0f6c1d2e",
    "etag": 'W/"1"',
    "cache-control": "no-store",
    "x-ratelimit-remaining": "99",
    "strict-transport-security": "max-age=63072000",
}


class Dressed:
    """ASGI middleware: the mock's answers as a production server sends them (the
    request goes through untouched: a repeated parameter stays repeated)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.lock_versions: dict[int, int] = {}  # patient id -> updates answered

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = await collect(self.app, scope, receive)
        if scope["method"] == "PATCH" and response.status == 200:
            patient_id = int(scope["path"].rsplit("/", 1)[1])
            self.lock_versions[patient_id] = self.lock_versions.get(patient_id, 0) + 1
        self._dress(response)
        await send_response(send, response)

    def _dress(self, response: Response) -> None:
        body = response.json()
        if isinstance(body, dict):
            data = body.get("data")
            for patient in _patients(data):
                patient["lock_version"] = self.lock_versions.get(patient["id"], 0)  # Rails' optimistic locking
            if isinstance(body.get("meta"), dict):
                meta = body["meta"]
                meta["total_pages"] = -(-meta["total"] // max(meta["per_page"], 1))
            elif "sgid" in body:  # the user of /me.json: signed anew (with an expiry) on every answer
                body["sgid"] = f"{secrets.token_urlsafe(24)}--{secrets.token_hex(20)}"
                body["served_at"] = time.time_ns()
            elif isinstance(body.get("error"), str):
                body["request_id"] = str(uuid.uuid4())
            response.set_json(body)
        if response.headers.get("content-type") == "application/json":
            response.headers["content-type"] = "Application/JSON; charset=UTF-8"
        response.headers.update(PRODUCTION_HEADERS)


def _patients(data: Any) -> list[dict[str, Any]]:
    """The patients an answer's `data` holds: a page's items, or one record."""
    return data if isinstance(data, list) else [data] if isinstance(data, dict) else []


#: The fixtures' doctors: a stricter server's `preferred_doctor_id` must name one.
DOCTORS = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 24, 25, 31, 33, 34, 35})


async def stricter(app: ASGIApp, request: Request) -> Response:
    """A server that checks more than the guide says on a write, answering in the
    guide's 422 shape, and stores a personal number upper-cased."""
    body = request.json()
    if request.method not in ("POST", "PATCH") or not isinstance(body, dict):
        return await call(app, request)
    errors: dict[str, list[str]] = {}
    doctor = body.get("preferred_doctor_id")
    if doctor is not None and doctor not in DOCTORS:
        errors["preferred_doctor_id"] = ["must exist"]
    birthdate = body.get("birthdate")
    if isinstance(birthdate, str) and birthdate > datetime.date.today().isoformat():
        errors["birthdate"] = ["can't be in the future"]
    phone = body.get("emergency_contact_phone")
    if isinstance(phone, str) and not re.fullmatch(r"\+?[0-9 ()-]{6,20}", phone):
        errors["emergency_contact_phone"] = ["is invalid"]
    if errors:
        response = Response(422, {"content-type": "application/json"})
        response.set_json({"error": "Validation failed", "errors": errors})
        return response
    if isinstance(body.get("personal_no"), str):
        body["personal_no"] = body["personal_no"].upper()
        request = replace(request, body=json.dumps(body, ensure_ascii=False).encode())
    return await call(app, request)


def _detail(run: ContractRun) -> str:
    return f"exit {run.code}, failed {sorted(run.failed)}\n{run.stdout[-4000:]}\n{run.stderr[-1500:]}"


def test_a_correct_target_dressed_for_production_passes(accounts: Accounts, tmp_path: Path) -> None:
    target: Any = GZipMiddleware(Dressed(mock_app()), minimum_size=0)
    with serve(target) as base_url:
        (tmp_path / "default").mkdir()
        default = run_contract(base_url, accounts, "--quick", "--seed", "4821", tmp_path=tmp_path / "default")
        (tmp_path / "strict").mkdir()
        strict = run_contract(base_url, accounts, "--strict", "--rule", "decided", tmp_path=tmp_path / "strict")

    assert default.code == 0, _detail(default)
    assert "differs from the kit's decisions: 1 of" in default.stdout, _detail(default)
    assert "  extra_fields: " in default.stdout, _detail(default)
    assert strict.code == 1 and strict.failed == {"decided.extra_fields"}, _detail(strict)


def test_a_stricter_correct_target_passes(accounts: Accounts, tmp_path: Path) -> None:
    with serve(Mutant(mock_app(), stricter)) as base_url:
        run = run_contract(base_url, accounts, "--quick", "--seed", "4821", tmp_path=tmp_path)
    assert run.code == 0, _detail(run)


async def surname_first_in_english(app: ASGIApp, request: Request) -> Response:
    """A server whose English display_name puts the surname first ("Hoxha Maria"):
    localizing is the server's, the guide never shows a localized name."""
    response = await call(app, request)
    body = response.json()
    data = body.get("data") if isinstance(body, dict) else None
    lang = request.query.get("lang")
    for patient in _patients(data):
        name = patient.get("display_name")
        if isinstance(name, str) and (lang or patient.get("locale") or "en") == "en":
            patient["display_name"] = " ".join(reversed(name.split(" ")))
    if data is not None:
        response.set_json(body)
    return response


def test_a_target_ordering_names_its_own_way_per_lang_passes(accounts: Accounts, tmp_path: Path) -> None:
    with serve(Mutant(mock_app(), surname_first_in_english)) as base_url:
        run = run_contract(base_url, accounts, "--rule", "reads", "--seed", "4821", tmp_path=tmp_path)
    assert run.code == 0, _detail(run)
    assert "reads.lang_on_reads" in run.stdout, _detail(run)
