"""What the checks need to know of the spec, read through `dentare_spec`.

Checks never hard-code the API's shape: limits, required and writable fields,
enums, the expansion fields, the guide's example answers and the operations
come from here. Two views: `guide` is the document as written (only what the
guide states: what guide checks and default-mode schemathesis hold a target
to) and `decided` the document as the run's profile decides it (what
`--strict` holds it to).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs

from dentare_spec import ApiSpec, Constraints, Operation, Profile, SpecError, constraints, load_spec, object_shape

from ._exceptions import UsageError
from ._types import JsonObject

__all__ = ["SpecFacts", "load_facts"]


def load_facts(spec_path: str | Path | None = None, profile: str | Path | None = None) -> SpecFacts:
    try:
        decided = load_spec(spec_path, profile)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    return SpecFacts(decided)


@dataclass(frozen=True)
class SpecFacts:
    decided: ApiSpec

    @cached_property
    def guide(self) -> ApiSpec:
        return self.decided.guide_contract()

    @property
    def profile(self) -> Profile:
        assert self.decided.profile is not None
        return self.decided.profile

    # -- operations -------------------------------------------------------

    @cached_property
    def me_operation(self) -> Operation:
        return self.guide.operation("getMe")

    @cached_property
    def list_operation(self) -> Operation:
        return self.guide.operation("listPatients")

    @cached_property
    def create_operation(self) -> Operation:
        return self.guide.operation("createPatient")

    @cached_property
    def get_operation(self) -> Operation:
        return self.guide.operation("getPatient")

    @cached_property
    def update_operation(self) -> Operation:
        return self.guide.operation("updatePatient")

    @property
    def operations(self) -> tuple[Operation, ...]:
        return self.guide.operations

    def methods_for(self, path: str) -> set[str]:
        return set(self.guide.paths.get(path, {}))

    @property
    def base_path(self) -> str:
        return self.guide.base_path

    # -- the guide's facts -------------------------------------------------

    @cached_property
    def per_page(self) -> tuple[int, int, int]:
        """(minimum, default, maximum) of `per_page`: "Default page size is 20, maximum is 100"."""
        found = constraints(self.list_operation.parameter("per_page").schema)
        return int(found.minimum or 1), int(found.default), int(found.maximum or 100)

    @cached_property
    def page_min(self) -> int:
        return int(constraints(self.list_operation.parameter("page").schema).minimum or 1)

    @cached_property
    def string_filters(self) -> list[str]:
        """The list's string filters (email, phone, ...): not q, paging, fields or lang."""
        skip = {"page", "per_page", "q", "fields", "lang", "is_active"}
        return [p.name for p in self.list_operation.parameters_in("query") if p.name not in skip and p.type == "string"]

    @cached_property
    def expansion_fields(self) -> list[str]:
        return list(self.guide.schema("ExpansionField")["enum"])

    @cached_property
    def langs(self) -> list[str]:
        return list(self.guide.schema("Locale")["enum"])

    @cached_property
    def create_required(self) -> list[str]:
        return sorted(object_shape(self.create_operation.body_schema).required)

    @cached_property
    def writable(self) -> dict[str, Mapping[str, Any]]:
        """Writable fields with their schemas (as the guide types them)."""
        return dict(object_shape(self.create_operation.body_schema).properties)

    def field(self, name: str, *, decided: bool = False) -> Constraints:
        """A writable field's constraints, as the guide states them or as the profile decides them."""
        spec = self.decided if decided else self.guide
        return constraints(object_shape(spec.operation("createPatient").body_schema).properties[name])

    @cached_property
    def record_fields(self) -> list[str]:
        return [k for k in object_shape(self.guide.schema("Patient")).properties if k not in self.expansion_fields]

    def is_date_time(self, name: str) -> bool:
        """Whether the patient field `name` is a date-time (created_at, updated_at)."""
        schema = object_shape(self.guide.schema("Patient")).properties.get(name)
        return schema is not None and constraints(schema).format == "date-time"

    @cached_property
    def read_only_fields(self) -> list[str]:
        computed = {"display_name", "display_first_name", "display_last_name"}
        return [name for name in self.record_fields if name not in self.writable and name not in computed]

    def example_keys(self, operation: Operation, name: str) -> list[str]:
        """The keys of `data` in the guide's example answer `name` of `operation`."""
        example = operation.responses[operation.success_status].examples[name]
        data = example["data"]
        return list((data[0] if isinstance(data, list) else data).keys())

    @cached_property
    def e164_pattern(self) -> str:
        return str(self.guide.schema("E164Number")["pattern"])

    @cached_property
    def guide_examples(self) -> dict[str, Any]:
        """The guide's answers: a list page, a read, a create, an update."""
        return {
            "list": self.list_operation.responses[200].examples["firstPage"],
            "get": self.get_operation.responses[200].examples["patient"],
            "create": self.create_operation.responses[201].examples["minimal"],
            "update": self.update_operation.responses[200].examples["contact"],
        }

    # -- validators ---------------------------------------------------------

    def validator(self, schema_name: str, *, decided: bool = False) -> jsonschema_rs.Validator:
        """A validator of a component schema (as written, or as decided)."""
        spec = self.decided if decided else self.guide
        cache = self.__dict__.setdefault("_validators", {})
        key = (schema_name, decided)
        if key not in cache:
            cache[key] = jsonschema_rs.validator_for(
                {"$schema": "https://json-schema.org/draft/2020-12/schema", **spec.schema(schema_name)},
                validate_formats=True,
            )
        found: jsonschema_rs.Validator = cache[key]
        return found

    def problems(self, schema_name: str, value: Any, *, decided: bool = False) -> list[str]:
        return [
            f"{e.message} at /{'/'.join(map(str, e.instance_path))}"
            for e in self.validator(schema_name, decided=decided).iter_errors(value)
        ]

    def patient_path(self, patient_id: int | str) -> str:
        return self.get_operation.path.replace("{id}", str(patient_id))

    def describe(self) -> JsonObject:
        return {
            "operations": [op.label for op in self.operations],
            "per_page": self.per_page,
            "expansion_fields": self.expansion_fields,
            "create_required": self.create_required,
            "decision_points": len(self.decided.catalogue),
        }
