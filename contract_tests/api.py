"""The Patients API as the checks call it: one method per request they
share, each through the run's client, and the small walks built on them
(every page of a list, a sample patient, enough patients for pagination)."""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterator, Mapping
from typing import Any

from ._exceptions import RuleFailure
from ._types import Json, JsonObject, Params
from .expect import Expect
from .facts import SpecFacts
from .tracking import Tracker
from .transport import Client, Exchange

__all__ = ["PatientsApi"]


class PatientsApi:
    def __init__(
        self, client: Client, facts: SpecFacts, tracker: Tracker, expect: Expect, token: str, read_only: bool
    ) -> None:
        self.client = client
        self.facts = facts
        self.tracker = tracker
        self.expect = expect
        self.token = token
        self.read_only = read_only
        self._sample: JsonObject | None = None
        self._ensured = 0

    # -- requests ---------------------------------------------------------

    @property
    def list_path(self) -> str:
        return self.facts.list_operation.path

    def me(self, token: str | None = None, **params: Any) -> Exchange:
        return self.client.get(self.facts.me_operation.path, token=token or self.token, params=_params(params))

    def list(self, token: str | None = None, *, accept: bool = True, **params: Any) -> Exchange:
        return self.client.get(self.list_path, token=token or self.token, params=_params(params), accept=accept)

    def get(self, patient_id: int | str, token: str | None = None, *, accept: bool = True, **params: Any) -> Exchange:
        return self.client.get(
            self.facts.patient_path(patient_id), token=token or self.token, params=_params(params), accept=accept
        )

    def patch(
        self, patient_id: int | str, body: Json, token: str | None = None, *, headers: dict[str, str] | None = None
    ) -> Exchange:
        return self.client.patch(
            self.facts.patient_path(patient_id), token=token or self.token, json_body=body, headers=headers
        )

    def create(self, token: str | None = None, *, headers: Mapping[str, str] | None = None, **fields: Any) -> Exchange:
        """POST a patient tagged with this run's external_id (unless the caller sets one, or None)."""
        body: JsonObject = {"first_name": "Contract", "last_name": "Test", **fields}
        body.setdefault("external_id", self.tracker.new_tag())
        if body["external_id"] is None:
            del body["external_id"]
        exchange = self.client.post(
            self.list_path, token=token or self.token, json_body=body, headers=dict(headers or {})
        )
        self.tracker.track(exchange, token or self.token)
        return exchange

    def created(self, token: str | None = None, **fields: Any) -> JsonObject:
        """Create a patient or fail the check saying creating one did not work:
        the answer's fields, and for a field sent that the answer leaves out
        (the guide's create example shows only some) the value sent, so a
        check can always find the patient again by its `external_id` tag."""
        exchange = self.create(token, **fields)
        body = exchange.json()
        if exchange.status != 201 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise self.expect.fail(
                "201 with the created patient (needed to set up this check)", exchange.describe_response(), exchange
            )
        sent = exchange.sent_json()
        return {**(sent if isinstance(sent, dict) else {}), **body["data"]}

    # -- walks ------------------------------------------------------------

    def walk(
        self, token: str | None = None, per_page: int | None = None, **params: Any
    ) -> Iterator[tuple[Exchange, builtins.list[JsonObject], JsonObject]]:
        """Every page of a list, in order: (exchange, data, meta)."""
        per_page = per_page or self.facts.per_page[2]
        page = self.facts.page_min
        while True:
            exchange = self.list(token, page=page, per_page=per_page, **params)
            data, meta = self.expect.listing(exchange)
            yield exchange, data, meta
            if page * per_page >= meta["total"] or not data:
                return
            page += 1

    def all_ids(self, token: str | None = None, **params: Any) -> builtins.list[int]:
        return [item["id"] for _, data, _ in self.walk(token, **params) for item in data]

    def total(self, token: str | None = None, **params: Any) -> int:
        _, meta = self.expect.listing(self.list(token, per_page=1, **params))
        return int(meta["total"])

    def ensure_patients(self, active: int = 12) -> None:
        """Pagination needs several pages: top the account up with tagged patients (not in --read-only)."""
        if self.read_only or self._ensured >= active:
            return
        for _ in range(active - self.total()):
            self.created()
        self._ensured = active

    def sample(self) -> JsonObject:
        """One active patient of the main account that this run did not create
        (checks archive their own): the first listed, or one created for the purpose."""
        if self._sample is None:
            data, _ = self.expect.listing(self.list(per_page=self.facts.per_page[2]))
            data = [item for item in data if item.get("id") not in self.tracker.created]
            if not data:
                if self.read_only:
                    raise RuleFailure(
                        self.expect._check(),
                        "at least one patient in the account (read-only run)",
                        "an empty list",
                        self.client.last,
                    )
                data = [self.created()]
            self._sample = data[0]
        return dict(self._sample)

    def last_page(self, total: int, per_page: int) -> int:
        return max(1, math.ceil(total / per_page))


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
