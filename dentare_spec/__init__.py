"""The Dentare spec, read once for every reader.

    from dentare_spec import load_spec
    spec = load_spec()                      # spec/openapi.yaml, validated, `$ref`s inlined
    spec.operation("listPatients").parameter("per_page").schema["maximum"]

Loading, validation and `$ref` resolution (`_loader`), the schema walker
(`_schema`) and the operation model (`_model`) live here, so the mock server
and the contract suite, which never import each other, read the spec the same
way and only interpret it for their own jobs. The spec's catalogue of decisions
(`x-decisions`) and the profiles that choose among them are read here too
(`_decisions`, `_overlay`).
"""

from __future__ import annotations

from ._decisions import Alternative, Catalogue, DecisionPoint, Profile
from ._exceptions import SpecError
from ._loader import read_document, resolve_pointer, resolve_refs
from ._model import ApiSpec, Link, Operation, Parameter, Response, load_spec
from ._pointers import at_pointer, response_body_pointer, split_pointer
from ._resources import default_spec_path, spec_dir
from ._schema import Constraints, ObjectShape, all_of, constraints, json_type_of, json_types, object_shape, value_type

__all__ = [
    "Alternative",
    "ApiSpec",
    "Catalogue",
    "Constraints",
    "DecisionPoint",
    "Link",
    "ObjectShape",
    "Operation",
    "Parameter",
    "Profile",
    "Response",
    "SpecError",
    "all_of",
    "at_pointer",
    "constraints",
    "default_spec_path",
    "json_type_of",
    "json_types",
    "load_spec",
    "object_shape",
    "read_document",
    "resolve_pointer",
    "resolve_refs",
    "response_body_pointer",
    "spec_dir",
    "split_pointer",
    "value_type",
]
