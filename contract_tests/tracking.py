"""What a run creates, so it can be archived when the run ends.

Everything the suite creates carries an `external_id` starting with
`contract-<run id>-`, and is archived (`is_active: false`) at the end, so a
run against a live deployment leaves nothing active behind.
"""

from __future__ import annotations

from itertools import count

from ._types import JsonObject
from .transport import Exchange

__all__ = ["Tracker"]


class Tracker:
    def __init__(self, run_id: str) -> None:
        self.prefix = f"contract-{run_id}-"
        #: patient id -> the token that created it
        self.created: dict[int, str] = {}
        self._serial = count(1)

    def new_tag(self) -> str:
        return f"{self.prefix}{next(self._serial)}"

    def track(self, exchange: Exchange, token: str) -> None:
        """Remember a patient this run created (from any 201 answer)."""
        if exchange.status == 201:
            body = exchange.json()
            data = body.get("data") if isinstance(body, dict) else None
            if isinstance(data, dict) and isinstance(data.get("id"), int):
                self.created[data["id"]] = token

    def track_listed(self, data: list[JsonObject], token: str) -> None:
        """Remember listed patients that carry this run's tag (made by a server that should not have)."""
        for item in data:
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                tag = item.get("external_id")
                if not isinstance(tag, str) or tag.startswith(self.prefix):
                    self.created.setdefault(item["id"], token)

    def ours(self, patient_id: int) -> bool:
        return patient_id in self.created
