"""What one run knows: its options, the spec, the client, and what it created.

Everything the suite creates carries an `external_id` starting with
`contract-<run id>-` and is archived (`is_active: false`) when the run ends,
so a run against a live deployment leaves nothing active behind.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from itertools import count
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._exceptions import ContractError, RuleFailure, TargetUnreachable, UsageError
from .client import Client, Exchange
from .spec import SpecFacts, load_spec
from .types import Json, JsonObject, Params

__all__ = ["ENV_TOKENS", "RunConfig", "RunContext", "preflight"]

# Tokens can come from the environment so they stay out of shell history and CI logs.
ENV_TOKENS = {
    "token": "DENTARE_TOKEN",
    "other_token": "DENTARE_OTHER_TOKEN",
    "revoked_token": "DENTARE_REVOKED_TOKEN",
}

DEFAULT_MAX_EXAMPLES = 30
# A gentle default for live deployments; a local full run makes ~1000 requests, so it costs little.
DEFAULT_RATE = 100.0
DEFAULT_MAX_REQUESTS = 20_000
QUICK_MAX_EXAMPLES = 4


@dataclass
class RunConfig:
    base_url: str
    token: str
    other_token: str | None = None
    revoked_token: str | None = None
    read_only: bool = False
    max_examples: int | None = None
    seed: int | None = None
    quick: bool = False
    spec_path: str | None = None
    max_requests: int = DEFAULT_MAX_REQUESTS
    rate: float = DEFAULT_RATE  # requests per second; 0 means unbounded
    timeout: float = 10.0
    run_id: str = field(default_factory=lambda: f"{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}")

    @classmethod
    def from_options(cls, **options: Any) -> RunConfig:
        """Build from CLI/pytest options, filling tokens from the environment."""
        for key, env in ENV_TOKENS.items():
            if not options.get(key):
                options[key] = os.environ.get(env) or None
        if not options.get("base_url"):
            raise UsageError("--base-url is required")
        if not options.get("token"):
            raise UsageError(f"a token is required: --token or ${ENV_TOKENS['token']}")
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in options.items() if k in known and v is not None})

    @property
    def examples(self) -> int:
        if self.max_examples is not None:
            return self.max_examples
        return QUICK_MAX_EXAMPLES if self.quick else DEFAULT_MAX_EXAMPLES

    @property
    def secrets(self) -> dict[str, str]:
        """The tokens by the environment variable that carries them (used to mask them)."""
        values = {"token": self.token, "other_token": self.other_token, "revoked_token": self.revoked_token}
        return {ENV_TOKENS[key]: value for key, value in values.items() if value}


def api_base_url(base_url: str, spec: SpecFacts) -> str:
    """The API root: a bare origin gets the spec's base path (/api/v1) appended."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url must be an http(s) URL, got {base_url!r}")
    if parts.path in ("", "/"):
        parts = parts._replace(path=spec.base_path)
    return urlunsplit(parts).rstrip("/")


class RunContext:
    """Shared by every rule of one run."""

    def __init__(self, config: RunConfig, spec: SpecFacts | None = None) -> None:
        self.config = config
        self.spec = spec or load_spec(config.spec_path)
        self.base_url = api_base_url(config.base_url, self.spec)
        self.client = Client(
            self.base_url,
            secrets=config.secrets,
            max_requests=config.max_requests,
            rate=config.rate,
            timeout=config.timeout,
        )
        self.tag = f"contract-{config.run_id}-"
        self.created: dict[int, str] = {}  # patient id -> token that created it
        self._serial = count(1)
        self._cache: dict[str, Any] = {}

    # -- identity ---------------------------------------------------------

    @property
    def token(self) -> str:
        return self.config.token

    def new_tag(self) -> str:
        return f"{self.tag}{next(self._serial)}"

    # -- paths ------------------------------------------------------------

    @property
    def list_path(self) -> str:
        return self.spec.list_operation.path

    def patient_path(self, patient_id: int | str) -> str:
        return self.spec.get_operation.path.replace("{id}", str(patient_id))

    # -- requests the rules share -----------------------------------------

    def list_patients(self, token: str | None = None, **params: Any) -> Exchange:
        return self.client.get(self.list_path, token=token or self.token, params=_params(params))

    def get_patient(self, patient_id: int | str, token: str | None = None, **params: Any) -> Exchange:
        return self.client.get(self.patient_path(patient_id), token=token or self.token, params=_params(params))

    def patch_patient(self, patient_id: int | str, body: Json, token: str | None = None) -> Exchange:
        return self.client.patch(self.patient_path(patient_id), token=token or self.token, json_body=body)

    def create_patient(self, token: str | None = None, **fields: Any) -> Exchange:
        """POST a patient tagged with this run's external_id (unless the caller sets one)."""
        body: JsonObject = {"first_name": "Contract", "last_name": "Test", **fields}
        body.setdefault("external_id", self.new_tag())
        if body["external_id"] is None:
            del body["external_id"]
        exchange = self.client.post(self.list_path, token=token or self.token, json_body=body)
        self.track(exchange, token or self.token)
        return exchange

    def track(self, exchange: Exchange, token: str) -> None:
        """Remember a patient this run created (from any 201 answer), to archive it at the end."""
        if exchange.status == 201:
            data = (exchange.json() or {}).get("data") if isinstance(exchange.json(), dict) else None
            if isinstance(data, dict) and isinstance(data.get("id"), int):
                self.created[data["id"]] = token

    def track_list(self, data: list[JsonObject], token: str | None = None) -> None:
        """Remember listed patients that carry this run's tag (created by a server that should not have)."""
        for item in data:
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                self.created.setdefault(item["id"], token or self.token)

    def created_patient(self, rule: str, token: str | None = None, **fields: Any) -> JsonObject:
        """Create a patient or fail `rule` saying creating one did not work."""
        exchange = self.create_patient(token, **fields)
        body = exchange.json()
        if exchange.status != 201 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise RuleFailure(
                rule,
                "201 with the created patient (needed to set up this rule)",
                exchange.describe_response(),
                exchange,
            )
        return dict(body["data"])

    def walk(
        self, rule: str, token: str | None = None, per_page: int | None = None, **params: Any
    ) -> Iterator[tuple[Exchange, list[JsonObject], JsonObject]]:
        """Every page of a list, in order: (exchange, data, meta)."""
        per_page = per_page or self.spec.per_page[2]
        page = self.spec.page_min
        while True:
            exchange = self.list_patients(token, page=page, per_page=per_page, **params)
            data, meta = self.expect_list(rule, exchange)
            yield exchange, data, meta
            if page * per_page >= meta["total"] or not data:
                return
            page += 1

    def all_ids(self, rule: str, token: str | None = None, **params: Any) -> list[int]:
        return [item["id"] for _, data, _ in self.walk(rule, token, **params) for item in data]

    def ensure_patients(self, rule: str, active: int = 12) -> None:
        """Pagination needs several pages: top the account up with tagged patients (not in --read-only)."""
        if self.config.read_only or self._cache.get("ensured", 0) >= active:
            return
        _, meta = self.expect_list(rule, self.list_patients(per_page=1))
        for _ in range(active - meta["total"]):
            self.created_patient(rule)
        self._cache["ensured"] = active

    def sample_patient(self, rule: str) -> JsonObject:
        """One patient of the main account: the first one listed, or one created for the purpose."""
        if "sample" not in self._cache:
            data, _ = self.expect_list(rule, self.list_patients(per_page=1))
            if not data:
                if self.config.read_only:
                    raise RuleFailure(
                        rule, "at least one patient in the account (read-only run)", "an empty list", self.client.last
                    )
                data = [self.created_patient(rule)]
            self._cache["sample"] = data[0]
        return dict(self._cache["sample"])

    # -- expectations -------------------------------------------------------

    def expect_status(self, rule: str, exchange: Exchange, status: int, what: str = "") -> Json:
        if exchange.status != status:
            raise RuleFailure(rule, f"{status}{' ' + what if what else ''}", exchange.describe_response(), exchange)
        return exchange.json()

    def expect_list(self, rule: str, exchange: Exchange) -> tuple[list[JsonObject], JsonObject]:
        body = self.expect_status(rule, exchange, 200, "with a page of patients")
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("data"), list)
            or not isinstance(body.get("meta"), dict)
        ):
            raise RuleFailure(rule, "a {data: [...], meta: {...}} body", exchange.describe_response(), exchange)
        meta = body["meta"]
        if not all(isinstance(meta.get(k), int) for k in ("page", "per_page", "total")):
            raise RuleFailure(rule, "integer meta.page, meta.per_page and meta.total", repr(meta), exchange)
        return body["data"], meta

    def expect_patient(self, rule: str, exchange: Exchange, status: int = 200) -> JsonObject:
        body = self.expect_status(rule, exchange, status, "with a patient")
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise RuleFailure(rule, "a {data: {...}} body", exchange.describe_response(), exchange)
        return dict(body["data"])

    def expect(
        self, rule: str, condition: bool, expected: str, actual: Any, exchange: Exchange | None = None, detail: str = ""
    ) -> None:
        if not condition:
            raise RuleFailure(
                rule,
                expected,
                actual if isinstance(actual, str) else repr(actual),
                exchange if exchange is not None else self.client.last,
                detail=detail,
            )

    # -- the end of a run -----------------------------------------------------

    def cleanup(self) -> list[str]:
        """Archive every patient this run created; returns problems, never raises."""
        problems: list[str] = []
        for patient_id, token in list(self.created.items()):
            try:
                exchange = self.patch_patient(patient_id, {"is_active": False}, token)
                if exchange.status != 200:
                    problems.append(f"archiving patient {patient_id}: {exchange.status}")
                else:
                    del self.created[patient_id]
            except ContractError as exc:
                problems.append(f"archiving patient {patient_id}: {exc}")
        return problems

    def close(self) -> None:
        self.client.close()


def _params(params: dict[str, Any]) -> Params:
    out: Params = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = value
    return out


def preflight(ctx: RunContext) -> None:
    """Fail fast (exit 2, one line) unless the target answers like the API: `/me.json`
    with the token is a JSON 200. A proxy's HTML page, a redirect, a 5xx or a refused
    token mean the target cannot be checked, which is not a rule failure."""
    path = ctx.spec.me_operation.path
    try:
        exchange = ctx.client.get(path, token=ctx.token)
    except ContractError:
        raise
    except Exception as exc:  # requests' own errors (bad URL, TLS)
        raise TargetUnreachable(f"{ctx.base_url} did not answer: {type(exc).__name__}") from None
    status = f"{exchange.status} {HTTPStatus(exchange.status).phrase if exchange.status in _STATUSES else ''}".strip()
    where = f"{ctx.base_url}{path}"
    if 300 <= exchange.status < 400:
        location = exchange.response_headers.get("location", "?")
        raise TargetUnreachable(f"{where} redirects ({status} to {location}): give the API root as --base-url")
    if "json" not in exchange.content_type.lower() or exchange.json() is None:
        kind = exchange.content_type.split(";")[0] or "no content type"
        raise TargetUnreachable(f"{where} answered {status} with {kind}, not JSON: is this the Patients API?")
    if exchange.status >= 500:
        raise TargetUnreachable(f"{where} answered {status}: the target is failing")
    if exchange.status == 401:
        raise UsageError(f"{where} refused the token (401): check --token / ${ENV_TOKENS['token']}")
    if exchange.status != 200:
        raise TargetUnreachable(f"{where} answered {status}: is --base-url the API root (e.g. .../api/v1)?")


_STATUSES = {s.value for s in HTTPStatus}
