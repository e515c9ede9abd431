"""A patient as the API shows it: every stored field but the expansion ones
(those come only when named in `fields`), timestamps written out, and the
computed `display_*` localized by `lang`. Each operation's response schema
then keeps its own (shaping.py). The fields come from the spec (through the
store's `PatientSchema`); only the computed ones are written here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from operator import attrgetter
from typing import Any

from dentare_spec import ApiSpec, constraints

from ..domain.records import Patient, PatientSchema
from ..domain.text import localize
from ..domain.timestamps import fast_format

__all__ = ["COMPUTED", "PatientView", "expansion_fields"]

#: The fields an answer computes rather than stores.
COMPUTED = ("display_name", "display_first_name", "display_last_name")
_DISPLAY_LANGUAGES = frozenset({"en", "sq", "mk"})
# Names repeat a lot; the cache is bounded (bench/README.md has what it saves).
_localized: Callable[[str, str], str] = lru_cache(maxsize=1 << 16)(localize)


def expansion_fields(spec: ApiSpec) -> tuple[str, ...]:
    """The values `fields` takes on GET /patients/{id}: the fields shown only when asked for."""
    items = constraints(spec.operation("getPatient").parameter("fields").schema).items or {}
    return tuple(constraints(items).enum or ())


class PatientView:
    def __init__(self, spec: ApiSpec, schema: PatientSchema):
        expansion = set(expansion_fields(spec))
        self._names = tuple(name for name in schema.names if name not in expansion)
        self._values = attrgetter(*self._names)
        self._timestamps = tuple(name for name in schema.timestamps if name not in expansion)

    def __call__(self, p: Patient, lang: str | None, fields: Sequence[str]) -> dict[str, Any]:
        view = dict(zip(self._names, self._values(p), strict=True))
        for name in self._timestamps:
            view[name] = fast_format(view[name])
        language = lang or p.locale or "en"
        if language not in _DISPLAY_LANGUAGES:  # a spec may accept more; display falls back to Latin
            language = "en"
        first, last = _localized(p.first_name, language), _localized(p.last_name, language)
        view["display_name"] = f"{first} {last}"
        view["display_first_name"] = first
        view["display_last_name"] = last
        for name in fields:
            view[name] = getattr(p, name)
        return view
