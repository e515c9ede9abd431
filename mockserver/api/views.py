"""A patient as the API shows it: every stored field but the expansion ones
(those come only when named in `fields`), timestamps written out, and the
computed `display_*` localized by `lang`. Each operation's response schema
then keeps its own (shaping.py). The fields come from the spec (through the
store's `PatientSchema`); only the computed ones are written here. How
names are shown, timestamps written and unset expansions answered is as
`ApiRules` say (transliteration, timestamps, unset_expansions)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from operator import attrgetter
from typing import Any

from dentare_spec import ApiSpec, constraints

from ..decisions import ApiRules
from ..domain.records import Patient, PatientSchema
from ..domain.text import localize
from ..domain.timestamps import fast_format, fast_format_seconds

__all__ = ["COMPUTED", "PatientView", "expansion_fields"]

#: The fields an answer computes rather than stores.
COMPUTED = ("display_name", "display_first_name", "display_last_name")
_DISPLAY_LANGUAGES = frozenset({"en", "sq", "mk"})
# Names repeat a lot; the cache is bounded (bench/README.md has what it saves).
_localized: Callable[[str, str], str] = lru_cache(maxsize=1 << 16)(localize)


def _as_stored(name: str, lang: str) -> str:
    return name


def expansion_fields(spec: ApiSpec) -> tuple[str, ...]:
    """The values `fields` takes on GET /patients/{id}: the fields shown only
    when asked for. Read from the guide's contract, since a decision may
    loosen the parameter (unknown_fields_entry=ignore drops its list)."""
    contract = spec.guide_contract() if spec.profile is not None else spec
    items = constraints(contract.operation("getPatient").parameter("fields").schema).items or {}
    return tuple(constraints(items).enum or ())


class PatientView:
    def __init__(self, spec: ApiSpec, schema: PatientSchema, rules: ApiRules | None = None):
        rules = rules or ApiRules()
        expansion = set(expansion_fields(spec))
        self._names = tuple(name for name in schema.names if name not in expansion)
        self._values = attrgetter(*self._names)
        self._timestamps = tuple(name for name in schema.timestamps if name not in expansion)
        self._format = fast_format_seconds if rules.timestamps_in_seconds else fast_format
        self._localized = _localized if rules.transliterate else _as_stored
        # unset_expansions=omitted: each expansion field's unset values (null, its empty default).
        self._unset: dict[str, tuple[Any, ...]] | None = None
        if rules.omit_unset_expansions:
            self._unset = {f.name: (None, f.default) for f in schema.fields if f.name in expansion}

    def __call__(self, p: Patient, lang: str | None, fields: Sequence[str]) -> dict[str, Any]:
        view = dict(zip(self._names, self._values(p), strict=True))
        for name in self._timestamps:
            view[name] = self._format(view[name])
        language = lang or p.locale or "en"
        if language not in _DISPLAY_LANGUAGES:  # a spec may accept more; display falls back to Latin
            language = "en"
        localized = self._localized
        first, last = localized(p.first_name, language), localized(p.last_name, language)
        view["display_name"] = f"{first} {last}"
        view["display_first_name"] = first
        view["display_last_name"] = last
        unset = self._unset
        for name in fields:
            value = getattr(p, name)
            if unset is not None and _is_unset(value, unset.get(name, (None,))):
                continue
            view[name] = value
        return view


def _is_unset(value: Any, unset: tuple[Any, ...]) -> bool:
    # By type as well as value: `0 == False`, and a vip_notes of "" is a value.
    return any(value is u or (type(value) is type(u) and value == u) for u in unset)
