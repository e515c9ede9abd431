"""The patients table's columns, from the spec's `Patient` (through the store's
`PatientSchema`), and a patient as a row and back.

Each stored field is a column typed by its schema: strings `text`, booleans
`boolean`, integers `bigint` (when their bounds fit, else `jsonb`; `id` always), a
`date-time` field `bigint` epoch milliseconds (as the records keep it), and
everything else (objects, arrays, numbers) `jsonb`, which gives the JSON value
back as it was. Beside them: `account_id`, `names_key` and the other search
keys (keys.py). Column names are the spec's property names, always quoted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dentare_spec import ApiSpec, constraints, object_shape

from ...domain.records import Patient, PatientSchema
from .keys import KEY_COLUMNS, SearchKeys

if TYPE_CHECKING:
    from asyncpg import Record

__all__ = ["Column", "PatientTable", "quote"]

_INT64 = 2**63 - 1
_BY_TYPE = {"string": "text", "boolean": "boolean"}


def quote(name: str) -> str:
    """An identifier as SQL writes it, whatever it holds."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str

    @property
    def ddl(self) -> str:
        return f"{quote(self.name)} {self.sql_type}"


def _sql_type(schema: Mapping[str, Any] | None, timestamp: bool) -> str:
    if timestamp:
        return "bigint"
    found = constraints(schema)
    if found.type == "integer":
        low, high = found.minimum, found.maximum
        fits = low is not None and high is not None and low >= -_INT64 and high <= _INT64
        return "bigint" if fits else "jsonb"
    return _BY_TYPE.get(found.type or "", "jsonb")


class PatientTable:
    """How patients are laid out in the `patients` table, for one spec."""

    def __init__(self, spec: ApiSpec, schema: PatientSchema):
        self.schema = schema
        properties = object_shape(spec.schema("Patient")).properties
        #: Every stored field of the spec, typed (the table may hold more: fields a spec dropped).
        self.fields = tuple(
            Column(f.name, "bigint" if f.name == "id" else _sql_type(properties.get(f.name), f.timestamp))
            for f in schema.fields
        )
        self.types = {c.name: c.sql_type for c in self.fields}
        # The record type's own field order (spec fields, then account_id and
        # names_key), so that a row selected in this order builds a record positionally.
        self.record_columns = tuple(f.name for f in dataclasses.fields(schema.type))
        missing = {"account_id", "names_key"} - set(self.record_columns)
        if missing:  # pragma: no cover - records.py always adds them
            raise TypeError(f"patient records lack {sorted(missing)}")
        #: What a row is written with: every record column but `id` (the sequence's), then the keys.
        self.write_columns = (*(n for n in self.record_columns if n != "id"), *KEY_COLUMNS)
        self.keys = SearchKeys()

    @cached_property
    def select_list(self) -> str:
        return ", ".join(quote(name) for name in self.record_columns)

    @cached_property
    def copy_columns(self) -> tuple[str, ...]:
        """The columns of a bulk load, `id` included."""
        return ("id", *self.write_columns)

    def from_row(self, row: Sequence[Any] | Record) -> Patient:
        """A record from a row selected with `select_list`."""
        patient: Patient = self.schema.type(*row)
        return patient

    def write_values(self, p: Patient) -> list[Any]:
        """The values of `write_columns` (the keys computed now; `names_key` is set on `p`)."""
        keys = self.keys(p)
        return [*(getattr(p, name) for name in self.record_columns if name != "id"), *keys]

    def copy_row(self, p: Patient) -> tuple[Any, ...]:
        return (p.id, *self.write_values(p))
