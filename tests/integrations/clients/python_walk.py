"""An integrator's script, written against the client openapi-python-client
generates from spec/openapi.yaml (package `dentare_client`), run against the
mock: every call goes through the generated functions and models.

`walk(base_url, token, run_id)` imports 20 legacy patients, walks every page,
searches, clears a field with null, archives, lists the archived, reads a
typed 422 and asks for two expansion fields. Any step that the generated
client or the mock gets wrong fails an assertion naming it.
"""

from __future__ import annotations

from typing import Any

from dentare_client import AuthenticatedClient  # type: ignore[import-not-found]
from dentare_client.api.account import get_me  # type: ignore[import-not-found]
from dentare_client.api.patients import (  # type: ignore[import-not-found]
    create_patient,
    get_patient,
    list_patients,
    update_patient,
)
from dentare_client.models import (  # type: ignore[import-not-found]
    ApiError,
    ExpansionField,
    PatientCreate,
    PatientEnvelope,
    PatientList,
    PatientWritable,
    User,
    ValidationError,
)
from dentare_client.types import UNSET  # type: ignore[import-not-found]

#: Names as an old system exported them: upper case, no diacritics.
LEGACY_NAMES = [
    ("DESHIRA", "CELAJ"),
    ("ARBEN", "XHAFERI"),
    ("MERITA", "GJONI"),
    ("BESNIK", "DOCI"),
    ("LIRIE", "CEKU"),
]


def walk(base_url: str, token: str, run_id: str) -> dict[str, Any]:
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    with client as c:
        me = get_me.sync(client=c)
        assert isinstance(me, User), me

        # 1. import 20 legacy patients, each with its id from the old system
        imported: dict[int, str] = {}
        for n in range(20):
            first, last = LEGACY_NAMES[n % len(LEGACY_NAMES)]
            external_id = f"{run_id}-{n:02d}"
            body = PatientCreate(first_name=first, last_name=f"{last}-{n:02d}", external_id=external_id)
            answer = create_patient.sync_detailed(client=c, body=body)
            assert answer.status_code == 201, (answer.status_code, answer.content)
            assert isinstance(answer.parsed, PatientEnvelope), answer.parsed
            created = answer.parsed.data
            assert created.external_id == external_id and created.first_name == first
            imported[created.id] = external_id

        # 2. walk every page of the account: each patient once, the imported ones among them
        seen: list[int] = []
        page = 1
        while True:
            listed = list_patients.sync(client=c, page=page, per_page=7)
            assert isinstance(listed, PatientList), listed
            if not listed.data:
                break
            seen += [p.id for p in listed.data]
            page += 1
        assert len(seen) == len(set(seen)) == listed.meta.total, (len(seen), listed.meta.total)
        assert set(imported) <= set(seen)

        # 3. search: accents and case do not matter (`Çelaj` finds `CELAJ`)
        found = list_patients.sync(client=c, q="çelaj", per_page=100)
        assert isinstance(found, PatientList)
        celaj = {p.id for p in found.data} & set(imported)
        assert len(celaj) == 4, [p.last_name for p in found.data]
        by_external = list_patients.sync(client=c, external_id=f"{run_id}-07")
        assert isinstance(by_external, PatientList) and len(by_external.data) == 1

        # 4. patch with a null: the generated model sends `"external_id": null`, and it is cleared
        target = by_external.data[0].id
        change = PatientWritable(external_id=None, email="a@example.com")
        patched = update_patient.sync(client=c, id=target, body=change)
        assert isinstance(patched, PatientEnvelope), patched
        assert patched.data.external_id is None and patched.data.email == "a@example.com"
        assert patched.data.is_active is True  # the update sent no is_active

        # 5. archive, and 6. list the archived
        archived = update_patient.sync(client=c, id=target, body=PatientWritable(is_active=False))
        assert isinstance(archived, PatientEnvelope) and archived.data.is_active is False
        active = list_patients.sync(client=c, q="çelaj", per_page=100)
        assert isinstance(active, PatientList) and target not in {p.id for p in active.data}
        listed_archived = list_patients.sync(client=c, is_active=False, per_page=100)
        assert isinstance(listed_archived, PatientList)
        assert target in {p.id for p in listed_archived.data}
        assert all(p.is_active is False for p in listed_archived.data)

        # 7. a typed 422: the generated ValidationError, its errors by field
        refused = create_patient.sync_detailed(
            client=c, body=PatientCreate(first_name="Maria", last_name="Hoxha", email="not-an-email")
        )
        assert refused.status_code == 422
        assert isinstance(refused.parsed, ValidationError), refused.parsed
        assert refused.parsed.error == "Validation failed"
        assert refused.parsed.errors.additional_properties == {"email": ["is invalid"]}

        # 8. fields with two values (the client sends fields=allergies&fields=vip)
        first_id = next(iter(imported))
        expanded = get_patient.sync(client=c, id=first_id, fields=[ExpansionField.ALLERGIES, ExpansionField.VIP])
        assert isinstance(expanded, PatientEnvelope), expanded
        assert expanded.data.allergies is None and expanded.data.vip is False
        assert expanded.data.blood_type is UNSET and expanded.data.insurance_id is UNSET
        plain = get_patient.sync(client=c, id=first_id)
        assert isinstance(plain, PatientEnvelope) and plain.data.allergies is UNSET

        # 9. an unknown id is the typed 404
        missing = get_patient.sync_detailed(client=c, id=2**62)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, ApiError) and missing.parsed.error == "Not Found", missing.parsed
        return {"imported": len(imported), "pages": page - 1, "archived": target}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(walk(*sys.argv[1:4])))
