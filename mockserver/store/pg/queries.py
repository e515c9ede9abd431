"""A list request as SQL: the same matches, order and total as the memory
store's planner (store/planner.py), whose predicates are the definition.

Every filter compares the search keys computed at write time (keys.py) with
values computed here by the same functions: a substring is `LIKE '%needle%'`
with the needle's `\\ % _` escaped (served by the trigram indexes), an exact
match `=`. A filter that cannot match anything (a phone filter without a
digit) is `false`; so is one holding NUL, which no stored text can hold
(`= NULL`, `LIKE NULL` are never true).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...domain.text import fold
from ..backend import StoreRules
from ..planner import _PHONE_CHARS, PatientQuery, _digits  # the planner's own readings of `q`

__all__ = ["ListQuery", "list_query"]


@dataclass(frozen=True)
class ListQuery:
    """`where` with its arguments ($1 gives the account), the order (`order_keys`,
    each ascending or all `descending`), and whether the total can be read from
    `patient_counts` (no filter: `status` is the status, None for both)."""

    where: str
    args: tuple[Any, ...]
    order_keys: tuple[str, ...]
    descending: bool
    filtered: bool
    status: bool | None


def contains(text: str) -> str:
    """The LIKE pattern of "holds `text` anywhere"."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_query(account: str, account_arg: Any, query: PatientQuery, rules: StoreRules) -> ListQuery:
    """`account` is the SQL of the account's id, from $1 (`account_arg`)."""
    args: list[Any] = [account_arg]

    def arg(value: Any) -> str:
        if isinstance(value, str) and "\x00" in value:
            return "NULL"  # PostgreSQL text cannot hold NUL, so nothing stored holds one: no match
        args.append(value)
        return f"${len(args)}"

    status: bool | None = None if not query.is_active and rules.inactive_lists_all else query.is_active
    conditions: list[str] = []
    if status is not None:
        conditions.append(f"is_active = {arg(status)}")
    filters: list[str] = []
    if query.email:
        # The folded key narrows through its index; a case-sensitive match also wants the value itself.
        filters.append(f"key_email = {arg(query.email.casefold())}")
        if rules.case_sensitive_filters:
            filters.append(f"email = {arg(query.email)}")
    if query.personal_no:
        filters.append(f"key_personal_no = {arg(query.personal_no.casefold())}")
        if rules.case_sensitive_filters:
            filters.append(f"personal_no = {arg(query.personal_no)}")
    if query.external_id:
        # `<> ''` lets the partial index serve a generic plan too.
        filters.append(f"external_id = {arg(query.external_id)} AND external_id <> ''")
    if query.legacy_id:
        filters.append(f"legacy_id = {arg(query.legacy_id)}")
    if query.phone is not None:
        digits = _digits(query.phone)
        if not digits:
            filters.append("false")
        else:
            # E.164 digits are inside key_digits, so its index narrows both readings.
            pattern = arg(contains(digits))
            filters.append(f"key_digits LIKE {pattern}")
            if rules.phone_e164_only:
                filters.append(f"phone_e164 LIKE {pattern}")
    if query.q:
        q = query.q
        digits = _digits(q) if set(q) <= _PHONE_CHARS else ""
        plain = arg(contains(q.casefold()))
        if rules.plain_search:
            parts = [f"key_plain_names LIKE {plain}", f"key_email LIKE {plain}", f"key_personal_no LIKE {plain}"]
            if digits:
                parts.append(f"key_plain_digits LIKE {arg(contains(digits))}")
        else:
            parts = [
                f"names_key LIKE {arg(contains(fold(q)))}",
                f"key_email LIKE {plain}",
                f"key_personal_no LIKE {plain}",
            ]
            if digits:
                parts.append(f"key_digits LIKE {arg(contains(digits))}")
        filters.append("(" + " OR ".join(parts) + ")")
    order_keys: tuple[str, ...] = ("id",)
    if filters:
        conditions.insert(0, f"account_id = {account}")
    else:
        # An unfiltered page keeps one (generic) plan, ordered by the page index's key.
        # `=` would make account_id a constant to the planner, and that order then just
        # `id`: a plan walking the primary key through every account's rows to find a
        # small one's page. A range keeps the page index's order the only one that fits.
        conditions.insert(0, f"account_id BETWEEN {account} AND {account}")
        order_keys = ("account_id", "id") if status is None else ("account_id", "is_active", "id")
    return ListQuery(
        where=" AND ".join(conditions + filters),
        args=tuple(args),
        order_keys=order_keys,
        descending=rules.newest_first,
        filtered=bool(filters),
        status=status,
    )
