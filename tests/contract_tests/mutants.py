"""Variants of the mock, each changing exactly one thing: most break a rule
of the guide (the suite must fail, naming the check, in default mode and with
--strict); some take a choice the guide leaves open another way than the kit
(the suite must pass in default mode, report the decision point, and fail
with --strict naming `decided.<point>`).

A mutant is an ASGI middleware around the real mock app. `MUTANTS` lists,
for each, the check that must catch it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .asgi_tools import ASGIApp, Handler, Request, Response, call

API = "/api/v1"
PATIENT_PATH = re.compile(rf"^{API}/patients/[^/]+$")


@dataclass(frozen=True)
class Accounts:
    """Fixture tokens: live and revoked, by account id."""

    live: dict[int, list[str]]
    revoked: dict[int, list[str]]

    def account_of(self, token: str | None) -> int | None:
        for account, tokens in (*self.live.items(), *self.revoked.items()):
            if token in tokens:
                return account
        return None

    def others(self, token: str | None) -> list[str]:
        mine = self.account_of(token)
        return [tokens[0] for account, tokens in self.live.items() if account != mine]


@dataclass(frozen=True)
class MutantSpec:
    """A variant of the mock. `rule` is the check that must catch it: a guide
    check (caught in default mode and with --strict), or `decided.<point>` for
    a variant the guide allows but the kit decides otherwise (reported in
    default mode, a failure only with --strict)."""

    name: str
    rule: str
    make: Callable[[Accounts], Handler]
    doc: str

    @property
    def group(self) -> str:
        """The part of the suite to run for it."""
        return self.rule if self.decided else self.rule.split(".")[0]

    @property
    def decided(self) -> bool:
        return self.rule.startswith("decided.")


MUTANTS: list[MutantSpec] = []


def mutant(name: str, rule: str, doc: str) -> Callable[[Callable[[Accounts], Handler]], Callable[[Accounts], Handler]]:
    def register(make: Callable[[Accounts], Handler]) -> Callable[[Accounts], Handler]:
        MUTANTS.append(MutantSpec(name, rule, make, doc))
        return make

    return register


def _auth(request: Request, value: str | None) -> Request:
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    if value is not None:
        headers["authorization"] = value
    return replace(request, headers=headers)


def _is_list(request: Request) -> bool:
    return request.method == "GET" and request.path == f"{API}/patients"


def _without_param(request: Request, name: str) -> Request:
    """`request` with the query parameter `name` dropped."""
    return replace(request, query={k: v for k, v in request.query.items() if k != name})


# -- auth -------------------------------------------------------------------


@mutant("auth_lowercase_bearer", "auth.wrong_scheme", "accepts `bearer` (lower case) as the scheme")
def _lowercase_bearer(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        value = request.headers.get("authorization", "")
        if value.startswith("bearer "):
            request = _auth(request, "Bearer " + value[7:])
        return await call(app, request)

    return handle


@mutant("auth_no_www_authenticate", "decided.error_wording", "401 without the WWW-Authenticate header")
def _no_www_authenticate(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        response.headers.pop("www-authenticate", None)
        return response

    return handle


@mutant("auth_anonymous_is_account_1", "auth.missing_token", "no token at all acts as account 1")
def _anonymous(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if "authorization" not in request.headers:
            request = _auth(request, f"Bearer {accounts.live[1][0]}")
        return await call(app, request)

    return handle


@mutant("auth_prefix_match", "auth.unknown_token", "a live token with anything appended is accepted")
def _prefix_match(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        token = request.token or ""
        for tokens in accounts.live.values():
            for live in tokens:
                if token.startswith(live) and token != live:
                    request = _auth(request, f"Bearer {live}")
        return await call(app, request)

    return handle


# -- pagination ---------------------------------------------------------------


@mutant("pagination_default_25", "pagination.default_page_size", "the default page size is 25, not 20")
def _default_25(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if _is_list(request) and "per_page" not in request.query:
            request = replace(request, query={**request.query, "per_page": "25"})
        return await call(app, request)

    return handle


@mutant("pagination_no_maximum", "pagination.per_page_bounds", "per_page above 100 is answered in full")
def _no_maximum(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        per_page = request.query.get("per_page", "")
        if not (_is_list(request) and per_page.isdigit() and int(per_page) > 100):
            return await call(app, request)
        first = await call(app, replace(request, query={**request.query, "per_page": "100"}))
        second = await call(app, replace(request, query={**request.query, "per_page": "100", "page": "2"}))
        body = first.json()
        if first.status == 200 and second.status == 200:
            body["data"] += second.json()["data"][: int(per_page) - 100]
            body["meta"]["per_page"] = int(per_page)
            first.set_json(body)
        return first

    return handle


@mutant("pagination_total_off_by_one", "pagination.meta_consistent", "meta.total counts one patient too many")
def _total_off(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        body = response.json()
        if _is_list(request) and response.status == 200:
            body["meta"]["total"] += 1
            response.set_json(body)
        return response

    return handle


@mutant("pagination_past_end_repeats", "decided.page_past_end", "a page past the end repeats the first page")
def _past_end(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        body = response.json()
        if _is_list(request) and response.status == 200 and not body["data"] and body["meta"]["total"]:
            first = (await call(app, replace(request, query={**request.query, "page": "1"}))).json()
            body["data"] = first["data"]
            response.set_json(body)
        return response

    return handle


@mutant("pagination_pages_reversed", "pagination.walk_all_pages", "each page descends, the pages ascend")
def _newest_first(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if _is_list(request) and response.status == 200:
            body = response.json()
            body["data"].reverse()
            response.set_json(body)
        return response

    return handle


# -- scoping --------------------------------------------------------------------


async def _as_others(app: ASGIApp, request: Request, accounts: Accounts, response: Response) -> Response:
    """On a 404, try the same request as every other account (a scoping leak)."""
    if response.status != 404 or not PATIENT_PATH.match(request.path):
        return response
    for token in accounts.others(request.token):
        leaked = await call(app, _auth(request, f"Bearer {token}"))
        if leaked.status < 300:
            return leaked
    return response


@mutant("scoping_get_leak", "scoping.get_other_account", "GET reads another account's patient")
def _get_leak(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        return await _as_others(app, request, accounts, response) if request.method == "GET" else response

    return handle


@mutant("scoping_patch_leak", "scoping.patch_other_account", "PATCH changes another account's patient")
def _patch_leak(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        return await _as_others(app, request, accounts, response) if request.method == "PATCH" else response

    return handle


async def _others_lists(app: ASGIApp, request: Request, accounts: Accounts) -> list[dict[str, Any]]:
    """The same searched or filtered list as every other account gets it ([] for any other request)."""
    if not (_is_list(request) and set(request.query) - {"page", "per_page", "fields", "lang", "is_active"}):
        return []
    answers = [await call(app, _auth(request, f"Bearer {token}")) for token in accounts.others(request.token)]
    return [answer.json() for answer in answers if answer.status == 200]


@mutant("scoping_search_leak", "scoping.list_isolation", "searches and filters also return other accounts' matches")
def _search_leak(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        others = await _others_lists(app, request, accounts)
        if response.status == 200 and others:
            body = response.json()
            for other in others:
                body["data"].extend(other["data"])
            response.set_json(body)
        return response

    return handle


@mutant("scoping_404_with_detail", "decided.extra_fields", '404 bodies carry a field beside {"error": "Not Found"}')
def _404_detail(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if response.status == 404 and PATIENT_PATH.match(request.path):
            response.set_json({"error": "Not Found", "detail": "no patient with this id"})
        return response

    return handle


@mutant("scoping_404_in_own_words", "decided.error_wording", '404 bodies say {"error": "Patient not found"}')
def _404_own_words(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if response.status == 404 and PATIENT_PATH.match(request.path):
            response.set_json({"error": "Patient not found"})
        return response

    return handle


# -- the 422 format ------------------------------------------------------------------


@mutant("validation_errors_as_list", "writes.required_fields", "422 errors as a flat list of sentences")
def _errors_list(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        body = response.json()
        if response.status == 422 and isinstance(body, dict):
            body["errors"] = [f"{k} {m}" for k, ms in body.get("errors", {}).items() for m in ms]
            response.set_json(body)
        return response

    return handle


@mutant("validation_creates_anyway", "writes.required_fields", "a refused create still stores a patient")
def _creates_anyway(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        body = request.json()
        if request.method == "POST" and response.status == 422 and isinstance(body, dict):
            salvage = {"first_name": "Salvaged", "last_name": "Salvaged"}
            if isinstance(body.get("external_id"), str):
                salvage["external_id"] = body["external_id"]
            await call(app, replace(request, body=json.dumps(salvage).encode()))
        return response

    return handle


@mutant("validation_patch_half_applied", "writes.patch_invalid", "a refused PATCH still applies its valid fields")
def _patch_half(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        body = request.json()
        if request.method == "PATCH" and response.status == 422 and isinstance(body, dict):
            bad = set((response.json() or {}).get("errors", {}))
            good = {k: v for k, v in body.items() if k not in bad}
            if good:
                await call(app, replace(request, body=json.dumps(good).encode()))
        return response

    return handle


@mutant("validation_lang_ignored", "decided.unknown_lang", "an unknown `lang` is ignored instead of 422")
def _lang_ignored(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if request.query.get("lang") not in (None, "en", "sq", "mk"):
            request = _without_param(request, "lang")
        return await call(app, request)

    return handle


# -- business rules ----------------------------------------------------------------------


@mutant("business_q_skips_personal_no", "listing.search_fields", "q does not search the personal number")
def _q_personal_no(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        q = request.query.get("q", "")
        if _is_list(request) and response.status == 200 and q:
            body = response.json()
            kept = []
            for item in body["data"]:
                detail = (await call(app, replace(request, path=f"{API}/patients/{item['id']}", query={}))).json()
                name_etc = " ".join(str(detail["data"].get(k) or "") for k in ("first_name", "last_name", "email"))
                if q.lower() in name_etc.lower() or (re.sub(r"\D", "", q) and not re.search(r"[A-Za-z]", q)):
                    kept.append(item)
            body["data"] = kept
            response.set_json(body)
        return response

    return handle


@mutant("business_filters_or", "listing.filters_and", "email and personal_no together: only email applies")
def _filters_or(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if _is_list(request) and "email" in request.query and "personal_no" in request.query:
            request = _without_param(request, "personal_no")
        return await call(app, request)

    return handle


@mutant("business_is_active_ignored", "listing.archived_patients", "is_active=false is ignored: archived never listed")
def _is_active_ignored(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if _is_list(request) and request.query.get("is_active") == "false":
            request = _without_param(request, "is_active")
        return await call(app, request)

    return handle


@mutant("business_expansion_always", "reads.expansion_fields", "GET always includes the medical fields")
def _expansion_always(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if request.method == "GET" and PATIENT_PATH.match(request.path) and "fields" not in request.query:
            request = replace(request, query={**request.query, "fields": "allergies,medical_conditions"})
        return await call(app, request)

    return handle


@mutant("business_lang_ignored", "decided.transliteration", "`lang` is ignored; display names are always as stored")
def _lang_dropped(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if request.query.get("lang") in ("en", "sq", "mk"):
            request = _without_param(request, "lang")
        return await call(app, request)

    return handle


@mutant("business_null_ignored", "writes.patch_partial", "PATCH ignores null values instead of clearing")
def _null_ignored(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        body = request.json()
        if request.method == "PATCH" and isinstance(body, dict):
            kept = {k: v for k, v in body.items() if v is not None}
            request = replace(request, body=json.dumps(kept).encode())
        return await call(app, request)

    return handle


@mutant("business_updated_at_frozen", "decided.noop_patch", "updated_at never moves (always created_at)")
def _updated_frozen(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("data"), dict) and "updated_at" in body["data"]:
            body["data"]["updated_at"] = body["data"]["created_at"]
            response.set_json(body)
        return response

    return handle


@mutant("business_phone_not_normalized", "writes.phone_e164", "phone_e164 keeps the spaces of the input")
def _phone_raw(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        body = response.json()
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict) and data.get("phone_e164") and str(data.get("phone")).startswith("+"):
            data["phone_e164"] = data["phone"]
            response.set_json(body)
        return response

    return handle


@mutant("business_put_as_patch", "writes.no_put_or_delete", "PUT is served as a PATCH")
def _put_as_patch(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if request.method == "PUT":
            request = replace(request, method="PATCH")
        return await call(app, request)

    return handle


@mutant("business_me_adds_email", "decided.extra_fields", "/me.json adds the user's email")
def _me_email(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if request.path == f"{API}/me.json" and response.status == 200:
            body = response.json()
            body["email"] = "someone@example.com"
            response.set_json(body)
        return response

    return handle


# -- schema and stateful ----------------------------------------------------------------------


@mutant("schema_list_without_created_at", "reads.list_items", "list items lack created_at")
def _no_created_at(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if _is_list(request) and response.status == 200:
            body = response.json()
            for item in body["data"]:
                item.pop("created_at", None)
            response.set_json(body)
        return response

    return handle


@mutant("schema_list_never_422", "decided.invalid_paging", "invalid list parameters answer an empty 200 page")
def _list_never_422(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if _is_list(request) and response.status == 422:
            return Response(
                200, {"content-type": "application/json"}, b'{"data":[],"meta":{"page":1,"per_page":20,"total":0}}'
            )
        return response

    return handle


@mutant("stateful_patch_not_stored", "stateful.two_accounts", "PATCH answers the change but never stores it")
def _patch_not_stored(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        body = request.json()
        if request.method == "PATCH" and isinstance(body, dict) and set(body) - {"is_active"}:
            current = await call(app, replace(request, method="GET", body=b""))
            if current.status != 200:
                return current
            check = await call(app, request)  # validate, then undo by writing the old values back
            if check.status == 200:
                old = current.json()["data"]
                await call(app, replace(request, body=json.dumps({k: old.get(k) for k in body}).encode()))
            return check
        return await call(app, request)

    return handle


# -- writes and reads the guide shows ------------------------------------------------------------


def _rewrite_data(response: Response, change: Callable[[dict[str, Any]], None]) -> Response:
    body = response.json()
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict):
        change(data)
        response.set_json(body)
    return response


@mutant("writes_create_without_display_name", "writes.create_patient", "the create answer lacks display_name")
def _create_without_display(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if request.method == "POST" and response.status == 201:
            return _rewrite_data(response, lambda data: data.pop("display_name", None))
        return response

    return handle


@mutant("reads_get_without_birthdate", "reads.get_record", "GET by id lacks birthdate")
def _get_without_birthdate(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if request.method == "GET" and PATIENT_PATH.match(request.path) and response.status == 200:
            return _rewrite_data(response, lambda data: data.pop("birthdate", None))
        return response

    return handle


@mutant("writes_gender_unchecked", "writes.invalid_on_create", "a gender outside the list is dropped, not refused")
def _gender_unchecked(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        body = request.json()
        if (
            request.method in ("POST", "PATCH")
            and isinstance(body, dict)
            and body.get("gender") not in (None, "male", "female", "other")
        ):
            del body["gender"]
            request = replace(request, body=json.dumps(body).encode())
        return await call(app, request)

    return handle


@mutant("writes_delete_archives", "writes.no_put_or_delete", "DELETE archives the patient")
def _delete_archives(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if request.method == "DELETE" and PATIENT_PATH.match(request.path):
            request = replace(
                request,
                method="PATCH",
                body=b'{"is_active": false}',
                headers={**request.headers, "content-type": "application/json"},
            )
        return await call(app, request)

    return handle


@mutant("writes_names_decomposed", "writes.utf8_round_trip", "names are stored decomposed (NFD)")
def _names_decomposed(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        body = request.json()
        if request.method == "POST" and isinstance(body, dict):
            for key in ("first_name", "last_name"):
                if isinstance(body.get(key), str):
                    body[key] = unicodedata.normalize("NFD", body[key])
            request = replace(request, body=json.dumps(body, ensure_ascii=False).encode())
        return await call(app, request)

    return handle


@mutant("listing_q_case_sensitive", "listing.search_fields", "q matches names case included")
def _q_case_sensitive(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        q = request.query.get("q", "")
        if _is_list(request) and response.status == 200 and q:

            def kept(item: dict[str, Any]) -> bool:  # drop what only a case-insensitive name match found
                names = f"{item.get('first_name') or ''} {item.get('last_name') or ''}"
                return q in names or q.lower() not in names.lower()

            body = response.json()
            body["data"] = [item for item in body["data"] if kept(item)]
            response.set_json(body)
        return response

    return handle


def _filter_ignored(name: str) -> Callable[[Accounts], Handler]:
    """A list that drops the `name` filter from its query."""

    def make(accounts: Accounts) -> Handler:
        async def handle(app: ASGIApp, request: Request) -> Response:
            if _is_list(request) and name in request.query:
                request = _without_param(request, name)
            return await call(app, request)

        return handle

    return make


mutant("listing_email_filter_ignored", "listing.filters_and", "the email filter is ignored")(_filter_ignored("email"))


@mutant("reads_lang_renames", "reads.lang_on_reads", "with lang=mk the stored names come back transliterated")
def _lang_renames(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if request.method == "GET" and request.query.get("lang") == "mk" and response.status == 200:

            def rename(data: dict[str, Any]) -> None:
                data["first_name"] = data.get("display_first_name", data.get("first_name"))
                data["last_name"] = data.get("display_last_name", data.get("last_name"))

            return _rewrite_data(response, rename)
        return response

    return handle


def _live_like(accounts: Accounts, token: str, alike: Callable[[str, str], bool]) -> str | None:
    """The live token `token` is taken for by a lookup that finds it `alike`, unless it is that token."""
    for tokens in accounts.live.values():
        for live in tokens:
            if token != live and alike(token, live):
                return live
    return None


@mutant("auth_token_case_insensitive", "auth.unknown_token", "the token is looked up ignoring case (a `_ci` column)")
def _token_case_insensitive(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        live = _live_like(accounts, request.token or "", lambda sent, live: sent.lower() == live.lower())
        return await call(app, _auth(request, f"Bearer {live}") if live else request)

    return handle


@mutant("auth_token_prefix", "auth.unknown_token", "a token is found by its start (`LIKE 'sent%'`)")
def _token_prefix(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        live = _live_like(accounts, request.token or "", lambda sent, live: len(sent) >= 8 and live.startswith(sent))
        return await call(app, _auth(request, f"Bearer {live}") if live else request)

    return handle


@mutant("scoping_total_counts_others", "scoping.list_isolation", "a filtered list's meta.total counts every account")
def _total_counts_others(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        others = await _others_lists(app, request, accounts)
        if response.status == 200 and others:
            body = response.json()
            body["meta"]["total"] += sum(other["meta"]["total"] for other in others)
            response.set_json(body)
        return response

    return handle


@mutant("listing_email_filter_partial", "listing.filters_and", "the email filter matches part of an email (ILIKE)")
def _email_partial(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        email = request.query.get("email")
        if not (_is_list(request) and email and "q" not in request.query):
            return await call(app, request)
        query = {k: v for k, v in request.query.items() if k != "email"}
        response = await call(app, replace(request, query={**query, "q": email}))
        body = response.json()
        if response.status == 200:
            body["data"] = [i for i in body["data"] if email.casefold() in (i.get("email") or "").casefold()]
            body["meta"]["total"] = len(body["data"])
            response.set_json(body)
        return response

    return handle


mutant("listing_legacy_id_ignored", "listing.search_existing", "the legacy_id filter is ignored")(
    _filter_ignored("legacy_id")
)


def _with_body(request: Request, change: Callable[[dict[str, Any]], None]) -> Request:
    body = request.json()
    if request.method in ("POST", "PATCH") and isinstance(body, dict):
        change(body)
        request = replace(request, body=json.dumps(body, ensure_ascii=False).encode())
    return request


@mutant("writes_is_active_on_create_ignored", "writes.create_patient", "a create's is_active is not permitted")
def _is_active_on_create_ignored(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if request.method == "POST":
            request = _with_body(request, lambda body: body.pop("is_active", None))
        return await call(app, request)

    return handle


@mutant("writes_patch_refuses_charset", "writes.utf8_round_trip", "a PATCH with `; charset=utf-8` is a 415")
def _patch_refuses_charset(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if request.method == "PATCH" and "charset" in request.headers.get("content-type", ""):
            response = Response(415, {"content-type": "application/json"})
            response.set_json({"error": "Unsupported Media Type"})
            return response
        return await call(app, request)

    return handle


@mutant("writes_lenient_dates", "writes.invalid_on_create", "a date as 15.05.1990 or 1990/05/15 is read, not refused")
def _lenient_dates(accounts: Accounts) -> Handler:
    def as_iso(body: dict[str, Any]) -> None:
        for key, value in body.items():
            if isinstance(value, str) and (found := re.fullmatch(r"(\d\d)\.(\d\d)\.(\d{4})", value)):
                body[key] = f"{found[3]}-{found[2]}-{found[1]}"
            elif isinstance(value, str) and re.fullmatch(r"\d{4}/\d\d/\d\d", value):
                body[key] = value.replace("/", "-")

    async def handle(app: ASGIApp, request: Request) -> Response:
        return await call(app, _with_body(request, as_iso))

    return handle


# -- what a page shows, and how it agrees with the records -----------------------------------------


def _list_items(response: Response, change: Callable[[dict[str, Any]], None]) -> Response:
    body = response.json()
    if response.status == 200 and isinstance(body, dict) and isinstance(body.get("data"), list):
        for item in body["data"]:
            change(item)
        response.set_json(body)
    return response


@mutant(
    "pagination_narrowed_pages_of_50",
    "pagination.default_page_size",
    "a list with a query but no per_page: pages of 50",
)
def _narrowed_pages_of_50(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if _is_list(request) and request.query and "per_page" not in request.query:
            request = replace(request, query={**request.query, "per_page": "50"})
        return await call(app, request)

    return handle


@mutant("listing_search_total_plus_one", "listing.search_fields", "a search's meta.total counts one patient too many")
def _search_total_plus_one(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        body = response.json()
        if _is_list(request) and "q" in request.query and response.status == 200 and body["data"]:
            body["meta"]["total"] += 1
            response.set_json(body)
        return response

    return handle


@mutant("listing_q_dropped_for_archived", "listing.archived_patients", "with is_active=false, q is ignored")
def _q_dropped_for_archived(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if _is_list(request) and request.query.get("is_active") == "false":
            request = _without_param(request, "q")
        return await call(app, request)

    return handle


@mutant("reads_list_items_all_active", "reads.list_items_agree", "every list item says is_active: true")
def _list_items_all_active(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        return _list_items(response, lambda item: item.update(is_active=True)) if _is_list(request) else response

    return handle


@mutant("reads_list_without_phone_e164", "reads.list_items_agree", "list items show phone_e164 as null")
def _list_without_phone_e164(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        return _list_items(response, lambda item: item.update(phone_e164=None)) if _is_list(request) else response

    return handle


@mutant("reads_list_in_english", "reads.list_items_agree", "a list without lang shows English names, not the locale's")
def _list_in_english(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        if _is_list(request) and "lang" not in request.query:
            request = replace(request, query={**request.query, "lang": "en"})
        return await call(app, request)

    return handle


@mutant(
    "reads_display_parts_as_stored",
    "reads.lang_on_reads",
    "display_first/last_name stay as stored; display_name is localized",
)
def _display_parts_as_stored(accounts: Accounts) -> Handler:
    async def handle(app: ASGIApp, request: Request) -> Response:
        response = await call(app, request)
        if request.method == "GET" and PATIENT_PATH.match(request.path) and response.status == 200:

            def as_stored(data: dict[str, Any]) -> None:
                data["display_first_name"], data["display_last_name"] = data.get("first_name"), data.get("last_name")

            return _rewrite_data(response, as_stored)
        return response

    return handle
