"""A patient as the API shows it: every field an answer may carry, the
computed `display_*` localized by `lang`; each operation's response schema
then keeps its own (shaping.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from ..domain.models import Patient
from ..domain.text import localize
from ..domain.timestamps import fast_format

__all__ = ["patient_view"]

_DISPLAY_LANGUAGES = frozenset({"en", "sq", "mk"})
# Names repeat a lot; the cache is bounded (bench/README.md: transliteration was
# a third of a list page before it).
_localized: Callable[[str, str], str] = lru_cache(maxsize=1 << 16)(localize)


def patient_view(p: Patient, lang: str | None, fields: Sequence[str]) -> dict[str, Any]:
    language = lang or p.locale or "en"
    if language not in _DISPLAY_LANGUAGES:  # a spec may accept more; display falls back to Latin
        language = "en"
    first, last = _localized(p.first_name, language), _localized(p.last_name, language)
    view = {
        "id": p.id,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "display_name": f"{first} {last}",
        "display_first_name": first,
        "display_last_name": last,
        "email": p.email,
        "phone": p.phone,
        "phone_e164": p.phone_e164,
        "phone_country": p.phone_country,
        "birthdate": p.birthdate,
        "gender": p.gender,
        "personal_no": p.personal_no,
        "external_id": p.external_id,
        "legacy_id": p.legacy_id,
        "preferred_doctor_id": p.preferred_doctor_id,
        "locale": p.locale,
        "is_active": p.is_active,
        "created_at": fast_format(p.created_at),
        "updated_at": fast_format(p.updated_at),
    }
    for name in fields:
        view[name] = getattr(p, name)
    return view
