"""Type aliases shared across the package."""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["Json", "JsonObject", "Params"]

Json: TypeAlias = Any
JsonObject: TypeAlias = dict[str, Any]
Params: TypeAlias = dict[str, str | int | list[str]]
