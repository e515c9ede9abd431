"""The business rules of the guide and the spec's "Decided:" notes.

Search and filters, archiving, expansion fields, localized display names,
partial PATCH with `null` clearing, E.164 phones, refused methods, `/me.json`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..client import Exchange
from ..context import RunContext
from ..registry import rule, writes
from ..types import JsonObject
from .scoping import unique_values

__all__: list[str] = []

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")


def _ids(ctx: RunContext, name: str, **params: Any) -> tuple[list[int], Exchange]:
    exchange = ctx.list_patients(per_page=ctx.spec.per_page[2], **params)
    data, _ = ctx.expect_list(name, exchange)
    return [item["id"] for item in data], exchange


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@rule("business.search_fields", "q matches first and last name, email, phone and personal number")
@writes
def search_fields(ctx: RunContext) -> None:
    name = "business.search_fields"
    values = unique_values(ctx)
    patient = ctx.created_patient(name, **values)
    pid = patient["id"]
    queries: list[tuple[str, str, bool]] = [
        ("first_name", values["first_name"], True),
        ("first_name", values["first_name"][2:].upper(), True),  # substring, any case
        ("last_name", values["last_name"], True),
        ("last_name", values["last_name"].lower(), True),
        ("email", values["email"], True),
        ("email", values["email"].split("@")[0].upper(), True),
        ("phone", values["phone"], False),
        ("phone", _digits(values["phone"])[-6:], False),
        ("personal_no", values["personal_no"], True),
        ("personal_no", values["personal_no"].lower(), True),
    ]
    for field, q, unique in queries:
        ids, exchange = _ids(ctx, name, q=q)
        expected = [pid] if unique else None
        ok = ids == expected if unique else pid in ids
        ctx.expect(
            name,
            ok,
            f"q={q!r} (from {field}) to find patient {pid}" + (" only" if unique else ""),
            f"ids {ids[:10]}",
            exchange,
        )
    ids, exchange = _ids(ctx, name, q=f"zz{values['first_name']}zz")
    ctx.expect(name, pid not in ids, "a q matching nothing not to find the patient", f"ids {ids[:10]}", exchange)


@rule("business.search_existing", "q and the filters find existing patients by their own values (read-only)")
def search_existing(ctx: RunContext) -> None:
    name = "business.search_existing"
    first, meta = ctx.expect_list(name, ctx.list_patients(per_page=10))
    last, _ = ctx.expect_list(name, ctx.list_patients(per_page=10, page=max(1, -(-meta["total"] // 10))))
    for item in [i for i in first[:1] + last[-6:] if i["id"] not in ctx.created][:4]:
        patient = ctx.expect_patient(name, ctx.get_patient(item["id"]))
        pid = patient["id"]
        searches: list[dict[str, Any]] = []
        for field in ("first_name", "last_name", "email", "phone", "personal_no"):
            if isinstance(patient.get(field), str) and patient[field].strip():
                searches.append({"q": patient[field]})
        for field in ctx.spec.string_filters:
            if isinstance(patient.get(field), str) and patient[field].strip():
                searches.append({field: patient[field]})
        for params in searches:
            ids, exchange = _ids(ctx, name, **params)
            ctx.expect(name, pid in ids, f"patient {pid} found by its own value {params}", f"ids {ids[:10]}", exchange)


@rule("business.filters_and", "each filter matches as the spec says, and filters and q combine with AND")
@writes
def filters_and(ctx: RunContext) -> None:
    name = "business.filters_and"
    one_values = unique_values(ctx)
    two_values = {**unique_values(ctx), "last_name": one_values["last_name"]}
    one = ctx.created_patient(name, **one_values)
    two = ctx.created_patient(name, **two_values)
    a, b = one["id"], two["id"]
    cases: list[tuple[dict[str, Any], list[int] | None, int | None]] = [
        ({"email": one["email"]}, [a], None),
        ({"email": one["email"].upper()}, [a], None),  # case-insensitive
        ({"personal_no": one["personal_no"]}, [a], None),
        ({"external_id": one["external_id"]}, [a], None),
        ({"external_id": one["external_id"].upper()}, [], None),  # case-sensitive
        ({"phone": _digits(one["phone"])[-6:]}, None, a),  # partial
        ({"q": one["last_name"]}, [a, b], None),
        ({"q": one["last_name"], "external_id": two["external_id"]}, [b], None),
        ({"q": one["first_name"], "email": two["email"]}, [], None),
        ({"email": one["email"], "personal_no": one["personal_no"]}, [a], None),
        ({"email": one["email"], "personal_no": two["personal_no"]}, [], None),
        ({"external_id": one["external_id"], "phone": _digits(two["phone"])[-6:]}, [], None),
        ({"email": one["email"], "is_active": False}, [], None),
    ]
    for params, exactly, contains in cases:
        ids, exchange = _ids(ctx, name, **params)
        if exactly is not None:
            ctx.expect(name, ids == exactly, f"exactly {exactly} for {params}", f"ids {ids[:10]}", exchange)
        else:
            ctx.expect(
                name, contains in ids, f"patient {contains} among the results for {params}", f"ids {ids[:10]}", exchange
            )


@rule("business.archived_patients", "archived patients are out of lists by default and in with is_active=false")
@writes
def archived_patients(ctx: RunContext) -> None:
    name = "business.archived_patients"
    values = unique_values(ctx)
    patient = ctx.created_patient(name, **values)
    pid, tag = patient["id"], patient["external_id"]
    archived = ctx.expect_patient(name, ctx.patch_patient(pid, {"is_active": False}))
    ctx.expect(name, archived.get("is_active") is False, "is_active false after archiving", archived.get("is_active"))
    for params, want in (
        ({"external_id": tag}, []),
        ({"external_id": tag, "is_active": True}, []),
        ({"external_id": tag, "is_active": False}, [pid]),
        ({"q": values["first_name"]}, []),
        ({"q": values["first_name"], "is_active": False}, [pid]),
    ):
        ids, exchange = _ids(ctx, name, **params)
        ctx.expect(name, ids == want, f"exactly {want} for {params} once archived", f"ids {ids[:10]}", exchange)
    exchange = ctx.get_patient(pid)
    got = ctx.expect_patient(name, exchange)
    ctx.expect(name, got.get("is_active") is False, "an archived patient still readable by id", got, exchange)
    ctx.expect_patient(name, ctx.patch_patient(pid, {"is_active": True}))
    ids, exchange = _ids(ctx, name, external_id=tag)
    ctx.expect(name, ids == [pid], "listed again once reactivated", f"ids {ids}", exchange)


@rule("business.expansion_fields", "expansion fields appear only when named in `fields`")
def expansion_fields(ctx: RunContext) -> None:
    name = "business.expansion_fields"
    expansion = ctx.spec.expansion_fields
    pid = ctx.sample_patient(name)["id"]
    exchange = ctx.get_patient(pid)
    base = ctx.expect_patient(name, exchange)
    shown = sorted(set(base) & set(expansion))
    ctx.expect(name, not shown, "no expansion field without `fields`", f"fields {shown}", exchange)
    for asked in ([expansion[0]], expansion[1:3], expansion, [expansion[0], expansion[0]]):
        exchange = ctx.get_patient(pid, fields=asked)
        got = ctx.expect_patient(name, exchange)
        extra = set(got) - set(base)
        ctx.expect(
            name,
            extra == set(asked),
            f"exactly {sorted(set(asked))} added with fields={','.join(asked)}",
            f"added {sorted(extra)}",
            exchange,
        )
    exchange = ctx.list_patients(per_page=5)
    data, _ = ctx.expect_list(name, exchange)
    leaked = sorted({k for item in data for k in item} & set(expansion))
    ctx.expect(name, not leaked, "no expansion field in list items without `fields`", f"fields {leaked}", exchange)
    asked = expansion[:2]
    exchange = ctx.list_patients(per_page=5, fields=asked)
    data, _ = ctx.expect_list(name, exchange)
    for item in data:
        ctx.expect(
            name,
            set(asked) <= set(item) and not (set(item) & set(expansion)) - set(asked),
            f"each list item with exactly the expansion fields {asked}",
            f"item {item.get('id')} has {sorted(set(item) & set(expansion))}",
            exchange,
        )


def _check_display(
    ctx: RunContext, name: str, item: JsonObject, lang: str, stored: JsonObject, exchange: Exchange
) -> None:
    for field in ("first_name", "last_name"):
        ctx.expect(
            name,
            item.get(field) == stored[field],
            f"{field} as stored with lang={lang}",
            f"{item.get(field)!r} (stored {stored[field]!r})",
            exchange,
        )
    parts = [item.get("display_first_name"), item.get("display_last_name")]
    if all(isinstance(p, str) for p in parts):
        ctx.expect(
            name,
            item.get("display_name") == f"{parts[0]} {parts[1]}",
            "display_name == display_first_name + ' ' + display_last_name",
            f"{item.get('display_name')!r} from {parts}",
            exchange,
        )
    shown = str(item.get("display_name"))
    if lang == "mk":
        ok = bool(_CYRILLIC.search(shown)) and not _LATIN.search(shown)
        want = "display_name in Macedonian Cyrillic"
    elif lang == "en":
        ok = shown.isascii() and bool(_LATIN.search(shown))
        want = "display_name in ASCII Latin"
    else:
        ok = not _CYRILLIC.search(shown) and bool(_LATIN.search(shown))
        want = f"display_name in Latin script for lang={lang}"
    ctx.expect(name, ok, f"{want} (lang={lang})", repr(shown), exchange)


@rule("business.lang_localizes", "lang picks the script of the display_* fields; names stay as stored")
@writes
def lang_localizes(ctx: RunContext) -> None:
    name = "business.lang_localizes"
    cyrillic = ctx.created_patient(name, first_name="Марија", last_name="Хоџа")
    latin = ctx.created_patient(name, first_name="Maria", last_name="Hoxha", locale="mk")
    for stored in (cyrillic, latin):
        for lang in ctx.spec.langs:
            exchange = ctx.get_patient(stored["id"], lang=lang)
            _check_display(ctx, name, ctx.expect_patient(name, exchange), lang, stored, exchange)
            exchange = ctx.list_patients(external_id=stored["external_id"], lang=lang)
            data, _ = ctx.expect_list(name, exchange)
            ctx.expect(name, len(data) == 1, "the patient listed by its external_id", f"{len(data)} items", exchange)
            _check_display(ctx, name, data[0], lang, stored, exchange)
    # Without lang: the patient's locale, else English.
    exchange = ctx.get_patient(latin["id"])
    _check_display(ctx, name, ctx.expect_patient(name, exchange), "mk", latin, exchange)
    exchange = ctx.get_patient(cyrillic["id"])
    _check_display(ctx, name, ctx.expect_patient(name, exchange), "en", cyrillic, exchange)


@rule("business.patch_partial", "PATCH changes only what is sent, null clears, updated_at moves, created_at not")
@writes
def patch_partial(ctx: RunContext) -> None:
    name = "business.patch_partial"
    values = unique_values(ctx)
    created = ctx.created_patient(name, **values, gender="female", birthdate="1990-05-15")
    pid = created["id"]
    before = ctx.expect_patient(name, ctx.get_patient(pid))
    steps: list[tuple[JsonObject, bool]] = [
        ({"email": f"new-{values['email']}"}, True),
        ({"gender": None, "birthdate": None}, True),
        ({"phone": None}, True),
        ({}, False),
        ({"email": f"new-{values['email']}"}, False),  # the same value again changes nothing
    ]
    for body, moves in steps:
        exchange = ctx.patch_patient(pid, body)
        after = ctx.expect_patient(name, exchange)
        for field, value in body.items():
            ctx.expect(
                name,
                after.get(field) == value,
                f"{field} == {value!r} after PATCH {body}",
                f"{field} == {after.get(field)!r}",
                exchange,
            )
        if "phone" in body and body["phone"] is None:
            ctx.expect(
                name,
                after.get("phone_e164") is None,
                "phone_e164 cleared with the phone",
                after.get("phone_e164"),
                exchange,
            )
        ignored = set(body) | {"updated_at", "phone_e164", "phone_country"}
        changed = {
            k: (before.get(k), after.get(k))
            for k in set(before) | set(after)
            if k not in ignored and before.get(k) != after.get(k)
        }
        ctx.expect(
            name, not changed, f"only {sorted(body)} changed by PATCH {body}", f"also changed {changed}", exchange
        )
        ctx.expect(
            name,
            after.get("created_at") == created["created_at"],
            "created_at never changes",
            f"{created['created_at']} -> {after.get('created_at')}",
            exchange,
        )
        old, new = _timestamp(before.get("updated_at")), _timestamp(after.get("updated_at"))
        ctx.expect(name, old is not None and new is not None, "RFC 3339 updated_at", after.get("updated_at"), exchange)
        assert old is not None and new is not None
        if moves:
            ctx.expect(
                name,
                new > old,
                f"updated_at strictly later after PATCH {body}",
                f"{before.get('updated_at')} -> {after.get('updated_at')}",
                exchange,
            )
        else:
            ctx.expect(
                name,
                new == old,
                f"updated_at unchanged by PATCH {body} (nothing changed)",
                f"{before.get('updated_at')} -> {after.get('updated_at')}",
                exchange,
            )
        exchange = ctx.get_patient(pid)
        read = ctx.expect_patient(name, exchange)
        ctx.expect(
            name,
            read == after,
            "GET reads back exactly what PATCH answered",
            {k: (after.get(k), read.get(k)) for k in set(read) | set(after) if read.get(k) != after.get(k)},
            exchange,
        )
        before = read


@rule("business.phone_e164", "phones in any common notation are normalized to E.164")
@writes
def phone_e164(ctx: RunContext) -> None:
    name = "business.phone_e164"
    pattern = re.compile(ctx.spec.e164_pattern)
    cases = [  # the guide's and the spec's examples
        ({"phone": "+355691234567"}, "+355691234567", "AL"),
        ({"phone": "+355 69 123 4567"}, "+355691234567", "AL"),
        ({"phone": "00355691234567"}, "+355691234567", "AL"),
        ({"phone": "069 123 4567", "phone_country": "AL"}, "+355691234567", "AL"),
        ({"phone": "070 123 456", "phone_country": "mk"}, "+38970123456", "MK"),
        ({"phone": "+38970123456", "phone_country": "AL"}, "+38970123456", "MK"),
    ]
    for fields, e164, region in cases:
        exchange = ctx.create_patient(**fields)
        got = ctx.expect_patient(name, exchange, 201)
        ctx.expect(
            name,
            got.get("phone_e164") == e164 and bool(pattern.match(e164)),
            f"phone_e164 {e164} for {fields}",
            got.get("phone_e164"),
            exchange,
        )
        ctx.expect(name, got.get("phone") == fields["phone"], "phone stored as sent", got.get("phone"), exchange)
        ctx.expect(
            name,
            got.get("phone_country") == region,
            f"phone_country {region} for {fields}",
            got.get("phone_country"),
            exchange,
        )
    # The stored phone_country is the hint when only the phone changes.
    patient = ctx.created_patient(name, phone="+355691234567")
    exchange = ctx.patch_patient(patient["id"], {"phone": "069 222 3344"})
    got = ctx.expect_patient(name, exchange)
    ctx.expect(
        name,
        got.get("phone_e164") == "+355692223344",
        "the stored phone_country as the hint on PATCH",
        got.get("phone_e164"),
        exchange,
    )
    for fields in ({"phone": "069 123 4567"}, {"phone": "12"}):
        exchange = ctx.create_patient(**fields)
        body = exchange.json()
        ok = exchange.status == 422 and isinstance(body, dict) and bool((body.get("errors") or {}).get("phone"))
        ctx.expect(name, ok, f"422 with errors.phone for {fields}", exchange.describe_response(), exchange)
    exchange = ctx.list_patients(per_page=ctx.spec.per_page[2])
    data, _ = ctx.expect_list(name, exchange)
    bad = [item.get("phone_e164") for item in data if item.get("phone_e164") and not pattern.match(item["phone_e164"])]
    ctx.expect(name, not bad, "every listed phone_e164 in E.164", f"{bad[:5]}", exchange)


@rule("business.methods_refused", "PUT and DELETE on a patient: 405 with Allow, and the patient unchanged")
@writes
def methods_refused(ctx: RunContext) -> None:
    name = "business.methods_refused"
    patient = ctx.created_patient(name)
    # Only on a patient this run created: a broken server must not get to DELETE anything else.
    for path in [p for p in ctx.spec.paths if "{id}" in p]:
        allowed = ctx.spec.methods_for(path)
        concrete = path.replace("{id}", str(patient["id"]))
        for method in ("PUT", "DELETE"):
            if method in allowed:
                continue
            body = {"first_name": "Replaced", "last_name": "Replaced"} if method == "PUT" else None
            exchange = ctx.client.request(method, concrete, token=ctx.token, json_body=body)
            ctx.track(exchange, ctx.token)
            payload = exchange.json()
            ok = exchange.status == 405 and isinstance(payload, dict) and isinstance(payload.get("error"), str)
            ctx.expect(name, ok, f'405 {{"error": ...}} for {method} {path}', exchange.describe_response(), exchange)
            allow = {m.strip().upper() for m in exchange.response_headers.get("allow", "").split(",") if m.strip()}
            ctx.expect(
                name,
                allowed <= allow and method not in allow,
                f"an Allow header listing {sorted(allowed)}",
                f"Allow: {sorted(allow)}",
                exchange,
            )
    exchange = ctx.get_patient(patient["id"])
    got = ctx.expect_patient(name, exchange)
    same = {k: got.get(k) for k in ("first_name", "last_name", "is_active", "updated_at")}
    want = {k: patient.get(k) for k in same}
    ctx.expect(name, same == want, "the patient untouched by PUT and DELETE", same, exchange)


@rule("business.me_shape", "/me.json answers the documented User shape, with any lang")
def me_shape(ctx: RunContext) -> None:
    name = "business.me_shape"
    path = ctx.spec.me_operation.path
    validator = ctx.spec.component_validator("User")
    first: Any = None
    for params in ({}, *({"lang": lang} for lang in ctx.spec.langs)):
        exchange = ctx.client.get(path, token=ctx.token, params=params)
        body = ctx.expect_status(name, exchange, 200, "with the user")
        problems = [f"{e.message} at /{'/'.join(map(str, e.instance_path))}" for e in validator.iter_errors(body)]
        ctx.expect(
            name,
            not problems,
            "the User schema (id, name, avatar_url, sgid and nothing else)",
            "; ".join(problems[:3]),
            exchange,
        )
        first = body if first is None else first
        ctx.expect(name, body == first, f"the same user with {params}", body, exchange)
