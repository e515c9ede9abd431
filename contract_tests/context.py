"""What one run holds: its configuration, the spec's facts, the client, the
Patients API calls, the expectations and what the run created; and the
preflight that decides whether the target can be checked at all."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._exceptions import ContractError, TargetUnreachable, UsageError
from .api import PatientsApi
from .config import RunConfig
from .expect import Expect
from .facts import SpecFacts, load_facts
from .tracking import Tracker
from .transport import Client

__all__ = ["RunContext", "api_base_url", "preflight"]


def api_base_url(base_url: str, facts: SpecFacts) -> tuple[str, str]:
    """The API root, and a note when the spec's base path was added to a bare origin."""
    parts = urlsplit(base_url)
    if parts.path in ("", "/") and facts.base_path:
        root = urlunsplit(parts._replace(path=facts.base_path)).rstrip("/")
        return root, f"the spec's base path {facts.base_path} was added to --base-url {base_url}"
    return urlunsplit(parts).rstrip("/"), ""


class RunContext:
    """Shared by every check of one run."""

    def __init__(self, config: RunConfig, facts: SpecFacts | None = None) -> None:
        self.config = config
        self.facts = facts or load_facts(config.spec, config.profile)
        self.base_url, self.base_note = api_base_url(config.base_url, self.facts)
        self.client = Client(
            self.base_url,
            secrets=config.secrets,
            max_requests=config.max_requests,
            rate=config.rate,
            timeout=config.request_timeout,
            max_retries=config.max_retries,
            retry_seconds=config.retry_seconds,
            max_response_bytes=config.max_response_bytes,
        )
        self.tracker = Tracker(config.run_id)
        #: The check now running (named in every failure the expectations raise).
        self.current = "preflight"
        self.expect = Expect(self.client, lambda: self.current)
        self.api = PatientsApi(self.client, self.facts, self.tracker, self.expect, config.token, config.read_only)
        #: Values checks share within a run (a schemathesis schema, a probe's finding).
        self.cache: dict[str, Any] = {}

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def tokens(self) -> set[str]:
        """Which of the optional tokens the run has."""
        return {name for name in ("other_token", "revoked_token") if getattr(self.config, name)}

    def expected(self, point: str) -> str:
        """The alternative the run holds the target to at `point` (its profile, else the kit's)."""
        return self.facts.profile[point]

    def cleanup(self) -> list[str]:
        """Archive every patient this run created; returns problems, never raises."""
        problems: list[str] = []
        for patient_id, token in list(self.tracker.created.items()):
            try:
                exchange = self.api.patch(patient_id, {"is_active": False}, token)
                if exchange.status != 200:
                    problems.append(f"archiving patient {patient_id}: {exchange.status}")
                else:
                    del self.tracker.created[patient_id]
            except ContractError as exc:
                problems.append(f"archiving patient {patient_id}: {exc}")
        return problems

    def close(self) -> None:
        self.client.close()


def preflight(ctx: RunContext) -> None:
    """Fail fast (exit 2, one line) unless the target can be checked: `/me.json`
    with the token is a JSON 200; the other token is another clinic's; the
    revoked token is refused; and (unless read-only) a patient created can be
    read back. A proxy's HTML page, a redirect, a 5xx or a refused token mean
    the target cannot be checked, which is not a rule failure."""
    me = _me(ctx, ctx.token, "--token / $DENTARE_TOKEN")
    other = ctx.config.other_token
    if other:
        their = _me(ctx, other, "--other-token / $DENTARE_OTHER_TOKEN")
        if their.get("id") == me.get("id"):
            raise UsageError(
                f"--other-token belongs to the same user as --token (/me.json says user {me.get('id')} for both): "
                "give a token of another clinic account"
            )
        mine = {item["id"] for item in ctx.expect.listing(ctx.api.list(per_page=ctx.facts.per_page[2]))[0]}
        theirs = {item["id"] for item in ctx.expect.listing(ctx.api.list(other, per_page=ctx.facts.per_page[2]))[0]}
        if mine & theirs:
            raise UsageError(
                "--other-token lists the same patients as --token: it is a token of the same clinic account; "
                "give one of another account"
            )
    revoked = ctx.config.revoked_token
    if revoked:
        exchange = ctx.api.me(revoked)
        if exchange.status == 200:
            raise UsageError("the --revoked-token still works (/me.json answers 200): give a revoked token")
    if not ctx.config.read_only:
        created = ctx.api.create(first_name="Contract", last_name="Preflight")
        if created.status == 201:
            patient = ctx.expect.patient(created, 201)
            read = ctx.api.get(patient["id"])
            if read.status != 200:
                raise TargetUnreachable(
                    f"{ctx.base_url} does not keep state: the patient it created ({patient['id']}) answers "
                    f"{read.status} to GET {ctx.facts.patient_path(patient['id'])}: is this a static example server?"
                )


def _me(ctx: RunContext, token: str, which: str) -> dict[str, Any]:
    path = ctx.facts.me_operation.path
    try:
        exchange = ctx.api.me(token)
    except ContractError:
        raise
    except Exception as exc:  # requests' own errors (bad URL, TLS)
        raise TargetUnreachable(f"{ctx.base_url} did not answer: {type(exc).__name__}") from None
    status = f"{exchange.status} {HTTPStatus(exchange.status).phrase if exchange.status in _STATUSES else ''}".strip()
    where = f"{ctx.base_url}{path}" + (f" ({ctx.base_note})" if ctx.base_note else "")
    if 300 <= exchange.status < 400:
        location = exchange.response_headers.get("location", "?")
        raise TargetUnreachable(f"{where} redirects ({status} to {location}): give the API root as --base-url")
    if "json" not in exchange.content_type.lower() or exchange.json() is None:
        kind = exchange.content_type.split(";")[0] or "no content type"
        raise TargetUnreachable(f"{where} answered {status} with {kind}, not JSON: is this the Patients API?")
    if exchange.status >= 500:
        raise TargetUnreachable(f"{where} answered {status}: the target is failing")
    if exchange.status == 401:
        raise UsageError(f"{where} refused the token (401): check {which}")
    if exchange.status != 200:
        raise TargetUnreachable(f"{where} answered {status}: is --base-url the API root (e.g. .../api/v1)?")
    body = exchange.json()
    return body if isinstance(body, dict) else {}


_STATUSES = {s.value for s in HTTPStatus}
