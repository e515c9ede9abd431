"""Patients as the store keeps them: a slotted record type built from the
spec's `Patient` schema, so that the field list lives in the spec alone.

Every property of `Patient` (its expansion fields included) is a stored field,
except those the API computes when it answers (`display_*`, named by the
caller). A field's default is the schema's `x-stored-default` (a response
schema's `default` is what client generators fill an absent field with), else
`None` when it is nullable, else the empty value of its type; a `format: date-time` field is
kept as integer epoch milliseconds. Adding a property to the spec adds it to
every record, to the state documents and to the answers, with no code change.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, make_dataclass
from dataclasses import fields as dataclass_fields
from functools import cached_property
from operator import itemgetter
from typing import Any, Protocol

from dentare_spec import ApiSpec, constraints, object_shape

from .._exceptions import FixtureError
from .timestamps import format_timestamp, parse_timestamp

__all__ = ["Patient", "PatientSchema", "RecordField", "patient_schema"]

_EMPTY: dict[str, Any] = {"boolean": False, "array": [], "object": {}, "string": "", "integer": 0, "number": 0}
#: Kept beside the spec's fields: the owning account, and the folded names search uses (store/account.py).
_INTERNAL: tuple[tuple[str, Any], ...] = (("account_id", 0), ("names_key", ""))


class Patient(Protocol):
    """The fields the store's own rules read by name (search, filters, phones,
    timestamps); any other field is reached by `getattr`."""

    id: int
    account_id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    phone_e164: str | None
    phone_country: str | None
    personal_no: str | None
    external_id: str | None
    legacy_id: str | None
    locale: str | None
    is_active: bool
    created_at: int
    updated_at: int
    names_key: str


@dataclass(frozen=True)
class RecordField:
    name: str
    default: Any = field(hash=False)  # may be a (never mutated) list or dict
    timestamp: bool = False

    @property
    def key(self) -> tuple[str, str, bool]:
        return self.name, repr(self.default), self.timestamp


@dataclass(frozen=True)
class PatientSchema:
    """The stored fields of a patient, and how records are made, read and written."""

    fields: tuple[RecordField, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        return PatientSchema, (self.fields,)  # without the cached type, rebuilt on load

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def record_keys(self) -> tuple[str, ...]:
        """The keys of a stored record (`to_record`), in order."""
        return ("id", "account_id", *(name for name in self.names if name != "id"))

    @cached_property
    def timestamps(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.timestamp)

    @cached_property
    def type(self) -> type:
        return _record_type(self.fields)

    def new(self, **values: Any) -> Patient:
        """A record with every field not given at its default."""
        record: Patient = self.type(**values)
        return record

    @cached_property
    def _known(self) -> frozenset[str]:
        return frozenset(self.names) | {"account_id"}

    @cached_property
    def _nullable(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.default is None)

    def maker(self, names: Sequence[str]) -> Callable[[tuple[Any, ...]], Patient]:
        """A function making a Patient of a tuple of the fields `names` (in that
        order; the rest at their defaults), values as stored: timestamps as epoch
        ms. For loading many records at once (store/generate.py's rows)."""
        kind = self.type
        order = [f.name for f in dataclass_fields(kind)]
        unknown = set(names) - set(order)
        if unknown:
            raise FixtureError(f"unknown fields {sorted(unknown)}")
        defaults = {f.name: f.default for f in self.fields} | dict(_INTERNAL)
        rest = tuple(name for name in order if name not in names)
        if any(isinstance(defaults[name], (list, dict)) for name in rest):
            # A container default must be each record's own: make those the slow way.
            def make_slowly(row: tuple[Any, ...]) -> Patient:
                return self.new(**dict(zip(names, row, strict=True)))

            return make_slowly
        filler = tuple(defaults[name] for name in rest)
        where = {name: i for i, name in enumerate((*names, *rest))}
        arrange = itemgetter(*(where[name] for name in order))

        def make(row: tuple[Any, ...]) -> Patient:
            record: Patient = kind(*arrange(row + filler))
            return record

        return make

    def from_record(self, record: Mapping[str, Any]) -> Patient:
        """A stored record (fixtures, state documents) as a Patient; values are trusted as stored."""
        if not record.keys() <= self._known:
            unknown = set(record) - self._known
            raise FixtureError(f"patient {record.get('id')}: unknown fields {sorted(unknown)}")
        # A null where the field is never null (an empty container, a flag) means its default.
        nullable = self._nullable
        values = {k: v for k, v in record.items() if v is not None or k in nullable}
        for name in self.timestamps:
            if values.get(name) is not None:
                values[name] = parse_timestamp(values[name])
        if values.get("updated_at") is None and "created_at" in values:
            values["updated_at"] = values["created_at"]
        return self.new(**values)

    def to_record(self, p: Patient) -> dict[str, Any]:
        """The stored fields as JSON-ready values (state documents)."""
        record = {name: getattr(p, name) for name in self.record_keys}
        for name in self.timestamps:
            record[name] = format_timestamp(record[name])
        return record


def patient_schema(spec: ApiSpec, computed: Collection[str]) -> PatientSchema:
    """The stored fields of the spec's `Patient`: all its properties but `computed`."""
    fields = []
    for name, schema in object_shape(spec.schema("Patient")).properties.items():
        if name in computed:
            continue
        found = constraints(schema)
        stored = schema.get("x-stored-default", found.default)
        if stored is not None:
            default = stored
        elif found.nullable:
            default = None
        else:
            default = _EMPTY.get(found.type or "")
        fields.append(RecordField(name, default, timestamp=found.format == "date-time"))
    return PatientSchema(tuple(fields))


# Record type by its fields, and back (a pickled store pickles records by their fields).
_TYPES: dict[tuple[tuple[str, str, bool], ...], type] = {}
_FIELDS: dict[type, tuple[RecordField, ...]] = {}


def _record_type(fields: tuple[RecordField, ...]) -> type:
    key = tuple(f.key for f in fields)
    kind = _TYPES.get(key)
    if kind is None:
        spec: list[tuple[str, Any, Any]] = [(f.name, Any, _default(f.default)) for f in fields]
        spec += [(name, Any, field(default=default)) for name, default in _INTERNAL if name not in _names(fields)]
        kind = make_dataclass("Patient", spec, slots=True, eq=False, namespace={"__reduce__": _reduce})
        kind.__module__ = __name__
        _TYPES[key] = kind
        _FIELDS[kind] = fields
    return kind


def _names(fields: tuple[RecordField, ...]) -> set[str]:
    return {f.name for f in fields}


def _default(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return field(default_factory=lambda: copy.copy(value))
    return field(default=value)


def _reduce(self: Any) -> tuple[Any, ...]:
    fields = _FIELDS[type(self)]
    return _restore, (fields, {name: getattr(self, name) for name in self.__slots__})


def _restore(fields: tuple[RecordField, ...], values: dict[str, Any]) -> Any:
    return _record_type(fields)(**values)
