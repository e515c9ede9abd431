"""The kit's decisions: the points the guide leaves open, as data.

The spec (`x-decisions` at its root) lists each open point: the guide's words
that leave it open, its named alternatives and the kit's default. An
alternative that changes what the document says carries OpenAPI Overlay 1.0
actions (_overlay.py): the document as written is the guide's contract, and
the kit's decided document is that plus the actions of the chosen
alternatives. A `Profile` chooses one alternative per point; the mock answers
by it (`dentare-mock --profile FILE`), the contract suite checks a target
against it (`--strict`), and `dentare-contract calibrate` writes one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._exceptions import SpecError
from ._overlay import apply_actions

__all__ = ["Alternative", "Catalogue", "DecisionPoint", "Profile", "read_catalogue"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Alternative:
    name: str
    description: str
    actions: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class DecisionPoint:
    name: str
    summary: str
    guide: str  # the guide's words that leave the point open
    default: str
    alternatives: Mapping[str, Alternative]

    @property
    def decided(self) -> Alternative:
        """The kit's own choice."""
        return self.alternatives[self.default]


@dataclass(frozen=True)
class Catalogue:
    points: Mapping[str, DecisionPoint]

    def __iter__(self) -> Iterator[DecisionPoint]:
        return iter(self.points.values())

    def __len__(self) -> int:
        return len(self.points)

    def point(self, name: str) -> DecisionPoint:
        try:
            return self.points[name]
        except KeyError:
            raise SpecError(f"no decision point {name!r}; the spec's are {', '.join(self.points)}") from None

    @property
    def defaults(self) -> Profile:
        return Profile(self, {p.name: p.default for p in self})

    def profile(self, choices: Mapping[str, Any], source: str = "profile") -> Profile:
        """The defaults with `choices` applied; SpecError naming an unknown point or alternative."""
        chosen = {p.name: p.default for p in self}
        for name, alternative in choices.items():
            try:
                point = self.point(str(name))
            except SpecError as exc:
                raise SpecError(f"{source}: {exc}") from None
            if not isinstance(alternative, str) or alternative not in point.alternatives:
                raise SpecError(
                    f"{source}: {name}: no alternative {alternative!r}; choose one of {', '.join(point.alternatives)}"
                )
            chosen[point.name] = str(alternative)
        return Profile(self, chosen)

    def load_profile(self, path: str | Path) -> Profile:
        """A profile file: YAML (or JSON) with `decisions: {point: alternative}`."""
        source = Path(path)
        try:
            document = yaml.load(source.read_text(encoding="utf-8"), Loader=_Loader)
        except OSError as exc:
            raise SpecError(f"cannot read the profile {source}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise SpecError(f"{source} is not valid YAML: {' '.join(str(exc).split())}") from None
        choices = document.get("decisions") if isinstance(document, Mapping) else None
        if not isinstance(choices, Mapping):
            raise SpecError(f"{source}: expected a mapping with `decisions: {{point: alternative}}`")
        return self.profile({name: _yaml_name(value) for name, value in choices.items()}, str(source))


@dataclass(frozen=True)
class Profile:
    """One alternative per decision point."""

    catalogue: Catalogue = field(repr=False)
    choices: Mapping[str, str]

    def __getitem__(self, point: str) -> str:
        return self.choices[self.catalogue.point(point).name]

    def chose(self, point: str, alternative: str) -> bool:
        """Whether the profile takes `alternative` at `point` (both names checked)."""
        found = self.catalogue.point(point)
        if alternative not in found.alternatives:
            raise SpecError(f"decision point {point!r} has no alternative {alternative!r}")
        return self.choices[point] == alternative

    @property
    def differences(self) -> dict[str, str]:
        """The points where this profile takes another alternative than the kit."""
        return {p.name: self.choices[p.name] for p in self.catalogue if self.choices[p.name] != p.default}

    def apply(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """The document as this profile decides it: the chosen alternatives' actions, in catalogue order."""
        result = dict(document)
        for point in self.catalogue:
            alternative = point.alternatives[self.choices[point.name]]
            if alternative.actions:
                result = apply_actions(result, alternative.actions, f"x-decisions.{point.name}.{alternative.name}")
        return result

    def dump(self, header: str = "") -> str:
        """The profile as a file `load_profile` reads (only the points that differ are needed, all are written)."""
        lines = [f"# {line}" for line in header.splitlines()] if header else []
        lines.append("decisions:")
        lines += [f"  {name}: {_yaml_scalar(alternative)}" for name, alternative in self.choices.items()]
        return "\n".join(lines) + "\n"


def _yaml_name(value: Any) -> Any:
    """An alternative as a profile file names it: YAML reads a bare `null`,
    `true` or `false` as a value, but in a profile it is the alternative of
    that name (`unset_expansions: null`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _yaml_scalar(name: str) -> str:
    """`name` as a YAML scalar that reads back as the same string."""
    return name if yaml.load(name, Loader=_Loader) == name else json.dumps(name)


def read_catalogue(document: Mapping[str, Any], source: str) -> Catalogue:
    raw = document.get("x-decisions") or {}
    if not isinstance(raw, Mapping):
        raise SpecError(f"{source}: x-decisions must map decision points to their alternatives")
    points: dict[str, DecisionPoint] = {}
    for name, entry in raw.items():
        where = f"{source}: x-decisions.{name}"
        alternatives = entry.get("alternatives") if isinstance(entry, Mapping) else None
        if not isinstance(alternatives, Mapping) or len(alternatives) < 2:
            raise SpecError(f"{where} needs at least two alternatives")
        default = entry.get("default")
        if default not in alternatives:
            raise SpecError(f"{where}: the default {default!r} is not one of its alternatives")
        for key in ("summary", "guide"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise SpecError(f"{where} needs a `{key}`")
        points[name] = DecisionPoint(
            name=name,
            summary=entry["summary"].strip(),
            guide=entry["guide"].strip(),
            default=str(default),
            alternatives={
                alt: Alternative(
                    alt, str((body or {}).get("description", "")).strip(), tuple((body or {}).get("actions") or ())
                )
                for alt, body in alternatives.items()
            },
        )
    return Catalogue(points)
