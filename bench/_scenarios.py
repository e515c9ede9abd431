"""The requests each benchmark sends, drawn from the store being measured.

Queries are taken from real patients of the running mock (pages spread over
the whole id range), so a search at 1M patients looks for names, digits and
emails that exist at that size, and every scenario rotates over several of
them with a fixed seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

__all__ = ["POST_BODY", "Sample", "Scenario", "prism_scenarios", "sample_store", "scaling_scenarios"]

SEED = 4821
POST_BODY = (
    b'{"first_name":"Maria","last_name":"Hoxha","email":"maria@example.com","phone":"+389 70 123 456","locale":"sq"}'
)
EXPANSIONS = "allergies,vip,preferences"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    paths: tuple[str, ...]
    method: str = "GET"
    body: bytes | None = None


@dataclass(frozen=True)
class Sample:
    """What the store holds: its active total and some real patients."""

    total: int
    patients: tuple[dict[str, Any], ...]


def sample_store(base_url: str, token: str, *, pages: int = 5) -> Sample:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        first = client.get("/patients", params={"per_page": 100}).raise_for_status().json()
        total = first["meta"]["total"]
        last_page = max(1, -(-total // 100))
        picked = sorted({max(1, round(last_page * k / (pages + 1))) for k in range(1, pages + 1)})
        patients = list(first["data"])
        for page in picked:
            answer = client.get("/patients", params={"per_page": 100, "page": page}).raise_for_status()
            patients += answer.json()["data"]
    unique = {p["id"]: p for p in patients}
    return Sample(total=total, patients=tuple(unique[i] for i in sorted(unique)))


def scaling_scenarios(sample: Sample, *, rotate: int = 20) -> list[Scenario]:
    """Default page, deep page, q by name and by phone digits, email and phone filters, get by id."""
    rng = random.Random(SEED)
    people = list(sample.patients)
    rng.shuffle(people)
    last_names = _distinct(p["last_name"] for p in people)[:rotate]
    phones = [p["phone_e164"] for p in people if p.get("phone_e164")]
    emails = [p["email"] for p in people if p.get("email")][:rotate]
    ids = [p["id"] for p in people][:rotate]
    deep = max(1, sample.total // 20 - 1)
    return [
        Scenario("list", "GET /patients (first page of 20)", ("/patients",)),
        Scenario("deep_page", "GET /patients?page=<last full page>", (f"/patients?page={deep}",)),
        Scenario("q_name", "GET /patients?q=<last name>", tuple(_q({"q": n}) for n in last_names)),
        # Seven digits from the national number: what someone types from a business card.
        Scenario("q_phone", "GET /patients?q=<7 phone digits>", tuple(_q({"q": e[-7:]}) for e in phones[:rotate])),
        Scenario("email", "GET /patients?email=<exact email>", tuple(_q({"email": e}) for e in emails)),
        Scenario("phone", "GET /patients?phone=<6 digits>", tuple(_q({"phone": e[-6:]}) for e in phones[:rotate])),
        Scenario("get", "GET /patients/{id}", tuple(f"/patients/{i}" for i in ids)),
    ]


def prism_scenarios(sample: Sample) -> list[Scenario]:
    """The four requests compared with Prism; the same paths go to both servers."""
    name = next((p["last_name"] for p in sample.patients if p["last_name"].isascii()), "Hoxha")
    patient_id = sample.patients[len(sample.patients) // 2]["id"] if sample.patients else 1
    return [
        Scenario("list", "GET /patients", ("/patients",)),
        Scenario("q", f"GET /patients?q={name.lower()}", (_q({"q": name.lower()}),)),
        Scenario(
            "get_fields",
            f"GET /patients/{{id}}?fields={EXPANSIONS}",
            (f"/patients/{patient_id}?" + urlencode({"fields": EXPANSIONS}, safe=","),),
        ),
        Scenario("post", "POST /patients", ("/patients",), method="POST", body=POST_BODY),
    ]


def _q(params: dict[str, str]) -> str:
    return "/patients?" + urlencode(params, quote_via=quote)


def _distinct(values: Any) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)
