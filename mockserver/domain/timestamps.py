"""Timestamps as the store keeps them (integer epoch milliseconds, UTC) and as
the API writes them (RFC 3339 with milliseconds, `2026-04-25T14:32:00.000Z`,
or in whole seconds, `2026-04-25T14:32:00Z`, under timestamps=seconds)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache

__all__ = ["fast_format", "fast_format_seconds", "format_timestamp", "now_ms", "parse_timestamp"]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def format_timestamp(epoch_ms: int) -> str:
    seconds, millis = divmod(epoch_ms, 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    # The year by hand: strftime's %Y does not pad years before 1000 ("100-01-01").
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{millis:03d}Z"


def parse_timestamp(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


# `format_timestamp` for the hot path (a list page formats 40 of them): the
# same text from a per-day date and a per-second clock string, both made once;
# bench/README.md has what this saves. Bounded, so memory stays flat.
_DAY_PREFIX: dict[int, str] = {}
_CLOCK: list[str | None] = [None] * 86_400
_MILLIS = [f"{millis:03d}Z" for millis in range(1000)]


@lru_cache(maxsize=1 << 16)  # a page read again formats nothing
def fast_format(epoch_ms: int) -> str:
    seconds, millis = divmod(epoch_ms, 1000)
    day, second_of_day = divmod(seconds, 86_400)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        if len(_DAY_PREFIX) >= 100_000:
            _DAY_PREFIX.clear()
        midnight = format_timestamp(day * 86_400_000)
        prefix = _DAY_PREFIX[day] = midnight[: midnight.index("T") + 1]  # "YYYY-MM-DDT" (any year width)
    clock = _CLOCK[second_of_day]
    if clock is None:
        hours, rest = divmod(second_of_day, 3600)
        minutes, secs = divmod(rest, 60)
        clock = _CLOCK[second_of_day] = f"{hours:02d}:{minutes:02d}:{secs:02d}."
    return f"{prefix}{clock}{_MILLIS[millis]}"


def fast_format_seconds(epoch_ms: int) -> str:
    """`fast_format` without the milliseconds (they are cut, never rounded up)."""
    return fast_format(epoch_ms)[:-5] + "Z"
