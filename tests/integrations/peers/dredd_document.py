"""spec/openapi.yaml as Dredd can read it, written as JSON.

Dredd's OpenAPI 3 parser reads a parameter's value from `example` only; the
spec names its `id` examples (`examples`: patient, contact, archive) because
Specmatic pairs a request's parameters with its body and answer by example
name, and a parameter may not have both. This copy replaces each parameter's
named `examples` by its first value as `example`; nothing else changes.

    python -m tests.integrations.peers.dredd_document > dredd.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

SPEC = Path(__file__).resolve().parents[3] / "spec" / "openapi.yaml"


def dredd_document(spec: Path = SPEC) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(spec.read_text(encoding="utf-8"))
    parameters = list(document.get("components", {}).get("parameters", {}).values())
    for item in document["paths"].values():
        parameters += [p for p in item.get("parameters", []) if "$ref" not in p]
        for operation in item.values():
            if isinstance(operation, dict):
                parameters += [p for p in operation.get("parameters", []) if "$ref" not in p]
    for parameter in parameters:
        named = parameter.pop("examples", None)
        if named and "example" not in parameter:
            parameter["example"] = next(iter(named.values()))["value"]
    return document


if __name__ == "__main__":
    json.dump(dredd_document(), sys.stdout, indent=1, ensure_ascii=False)
