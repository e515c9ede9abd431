"""The guide's curls as the collection sends them, read from the fixtures
(`guide_examples.json`), with the fixture patient they use looked up in
`patients.json` of the same folder.

Which patient the curls read and write, and what state they leave it in, is
knowledge of the fixtures, so it is written beside them, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._exceptions import FixtureError
from ...store.documents import read_json

__all__ = ["GUIDE_EXAMPLES_FILE", "GuideExample", "GuideExamples", "read_guide_examples"]

GUIDE_EXAMPLES_FILE = "guide_examples.json"
_REQUIRED = object()


@dataclass(frozen=True)
class GuideExample:
    """One curl of the guide: which operation, the URL below the base URL, and
    the request body as the spec example of that name."""

    name: str
    operation_id: str
    target: str
    body_example: str | None = None
    accept: bool = True  # the guide sends `Accept: application/json`


@dataclass(frozen=True)
class GuideExamples:
    """The curls, in the guide's order, and the fixture patient they use."""

    examples: tuple[GuideExample, ...]
    patient_id: int
    patient_name: str
    account_id: int
    leaves_patient: str  # its state after the curls ran, e.g. "archived"


def read_guide_examples(fixtures_dir: Path) -> GuideExamples:
    """FixtureError naming the file when it, or the patient it names, is missing or malformed."""
    source = fixtures_dir / GUIDE_EXAMPLES_FILE
    document = read_json(source)
    try:
        patient_id = _field(document, "patient", int)
        examples = tuple(_example(raw) for raw in _field(document, "examples", list))
        leaves = _field(document, "leaves_patient", str)
    except (TypeError, ValueError) as exc:
        raise FixtureError(f"{source}: {exc}") from None
    first_name, last_name, account_id = _patient(fixtures_dir / "patients.json", patient_id)
    return GuideExamples(
        examples=examples,
        patient_id=patient_id,
        patient_name=f"{first_name} {last_name}",
        account_id=account_id,
        leaves_patient=leaves,
    )


def _example(raw: Any) -> GuideExample:
    if not isinstance(raw, Mapping):
        raise TypeError(f"each example is an object, not {raw!r}")
    body_example = raw.get("body_example")
    if body_example is not None and not isinstance(body_example, str):
        raise TypeError(f"example {raw.get('name')!r}: body_example is the name of a spec example")
    return GuideExample(
        name=_field(raw, "name", str),
        operation_id=_field(raw, "operation", str),
        target=_field(raw, "target", str),
        body_example=body_example,
        accept=_field(raw, "accept", bool, default=True),
    )


def _field(holder: Any, key: str, kind: type, default: Any = _REQUIRED) -> Any:
    if not isinstance(holder, Mapping):
        raise TypeError(f"expected an object with {key!r}")
    if key not in holder and default is not _REQUIRED:
        return default
    value = holder.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{key!r} must be {kind.__name__}, not {value!r}")
    return value


def _patient(source: Path, patient_id: int) -> tuple[str, str, int]:
    """First name, last name and account of the patient with this id."""
    document = read_json(source) if source.exists() else {}
    patients = document.get("patients") if isinstance(document, Mapping) else None
    for patient in patients if isinstance(patients, list) else []:
        if isinstance(patient, Mapping) and patient.get("id") == patient_id:
            try:
                return (
                    _field(patient, "first_name", str),
                    _field(patient, "last_name", str),
                    _field(patient, "account_id", int),
                )
            except (TypeError, ValueError) as exc:
                raise FixtureError(f"{source}: patient {patient_id}: {exc}") from None
    raise FixtureError(f"{source}: no patient {patient_id}, which {GUIDE_EXAMPLES_FILE} says the guide's curls use")
