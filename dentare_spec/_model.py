"""The spec as objects: operations with their parameters, bodies, responses,
examples and links, the servers and the base path, as a profile decides them.

The document as written is the guide's contract plus the catalogue of the
kit's decisions (_decisions.py); `load_spec` gives it as a profile decides it
(the kit's defaults unless told otherwise), and `ApiSpec.guide_contract()`
the document as written, which holds only what the guide says.

Each object keeps both views of its part of the document: `resolved` values
(every `$ref` inlined) for those who validate or shape data, and the names of
the components it refers to (`schema_ref`) for those who generate artifacts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._decisions import Catalogue, Profile, read_catalogue
from ._exceptions import SpecError
from ._loader import read_document, resolve_pointer, resolve_refs, validate_document
from ._resources import default_spec_path
from ._schema import value_type

__all__ = ["ApiSpec", "Link", "Operation", "Parameter", "Response", "load_spec"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header, cookie
    schema: Mapping[str, Any]
    required: bool = False
    explode: bool = True
    description: str = ""
    example: Any = None
    ref: str | None = None  # the component name when the spec refers to one (`patientId`)

    @cached_property
    def type(self) -> str:
        # Read on every request the mock validates: worked out once.
        return value_type(self.schema) or "string"

    @property
    def default(self) -> Any:
        return self.schema.get("default")


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: a value of one answer that names a parameter of another operation."""

    name: str
    operation_id: str
    parameters: Mapping[str, str]  # parameter -> runtime expression ($response.body#/data/id)


@dataclass(frozen=True)
class Response:
    status: int
    description: str
    schema: Mapping[str, Any] | None  # the application/json schema, resolved
    schema_ref: str | None  # its component name, when it is one
    examples: Mapping[str, Any]  # name -> value
    links: tuple[Link, ...]
    headers: Mapping[str, Mapping[str, Any]]  # name -> resolved header object


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # as written in the spec, e.g. /patients/{id}
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    body_schema: Mapping[str, Any] | None
    body_schema_ref: str | None
    body_required: bool
    body_examples: Mapping[str, Any]
    responses: Mapping[int, Response]
    secured: bool

    def parameters_in(self, location: str) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == location)

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise SpecError(f"{self.label} has no parameter {name!r}")

    def response_schema(self, status: int) -> Mapping[str, Any] | None:
        response = self.responses.get(status)
        return response.schema if response is not None else None

    @property
    def success_status(self) -> int:
        statuses = sorted(s for s in self.responses if 200 <= s < 300)
        if not statuses:
            raise SpecError(f"{self.label} documents no 2xx answer")
        return statuses[0]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def writes(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class ApiSpec:
    source: Path
    document: Mapping[str, Any] = field(repr=False)  # as `profile` decides it, `$ref`s included
    resolved: Mapping[str, Any] = field(repr=False)  # the same, every `$ref` inlined
    operations: tuple[Operation, ...] = field(repr=False)
    written: Mapping[str, Any] = field(repr=False)  # as written: the guide's contract and the catalogue
    catalogue: Catalogue = field(repr=False)
    profile: Profile | None = field(repr=False)  # None: the document as written (the guide's contract)

    def decided_by(self, profile: Profile | Mapping[str, str] | str | Path | None) -> ApiSpec:
        """The same spec as another profile decides it."""
        return _build(self.source, self.written, self.catalogue, _profile(self.catalogue, profile))

    def guide_contract(self) -> ApiSpec:
        """The document as written: only what the guide states, no decision taken."""
        return _build(self.source, self.written, self.catalogue, None)

    # -- servers --------------------------------------------------------------------------

    @cached_property
    def local_server_url(self) -> str:
        """The URL of the spec's local (mock) server, else of its first server."""
        servers = [str(s["url"]).rstrip("/") for s in self.document.get("servers") or [{"url": "/"}]]
        local = [url for url in servers if urlsplit(url).hostname in _LOCAL_HOSTS]
        return (local or servers)[0]

    @cached_property
    def base_path(self) -> str:
        """The path every API route sits under (`/api/v1`): that of `local_server_url`."""
        return urlsplit(self.local_server_url).path.rstrip("/")

    # -- components -----------------------------------------------------------------------

    def schema(self, name: str) -> Mapping[str, Any]:
        """A component schema, resolved."""
        try:
            return self.resolved["components"]["schemas"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise SpecError(f"{self.source}: components.schemas.{name} is missing") from None

    def raw(self, pointer: str) -> Any:
        """The node at a JSON pointer of the document as written (`#/components/...`)."""
        return resolve_pointer(self.document, pointer)

    # -- operations -----------------------------------------------------------------------

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise SpecError(f"{self.source}: no operation with operationId {operation_id!r}")

    def operation_at(self, method: str, path: str) -> Operation | None:
        return self.paths.get(path, {}).get(method.upper())

    @cached_property
    def paths(self) -> dict[str, dict[str, Operation]]:
        """Spec path -> HTTP method (upper case) -> operation, in document order."""
        table: dict[str, dict[str, Operation]] = {}
        for op in self.operations:
            table.setdefault(op.path, {})[op.method] = op
        return table

    def iter_operations(self, *, writes: bool = True) -> Iterator[Operation]:
        return (op for op in self.operations if writes or not op.writes)


def load_spec(
    path: str | Path | None = None, profile: Profile | Mapping[str, str] | str | Path | None = None
) -> ApiSpec:
    """Read, validate and resolve the spec (default: the kit's own) once, as
    `profile` decides it (a Profile, a mapping of choices, a profile file;
    None: the kit's defaults)."""
    source = Path(path) if path is not None else default_spec_path()
    written = read_document(source)
    catalogue = read_catalogue(written, str(source))
    return _build(source, written, catalogue, _profile(catalogue, profile))


def _profile(catalogue: Catalogue, profile: Profile | Mapping[str, str] | str | Path | None) -> Profile:
    if profile is None:
        return catalogue.defaults
    if isinstance(profile, Profile):
        return catalogue.profile(profile.choices)
    if isinstance(profile, Mapping):
        return catalogue.profile(profile)
    return catalogue.load_profile(profile)


def _build(source: Path, written: Mapping[str, Any], catalogue: Catalogue, profile: Profile | None) -> ApiSpec:
    document = profile.apply(written) if profile is not None else dict(written)
    if document != written:  # the actions must leave a valid document
        validate_document(document, f"{source} as decided by the profile")
    resolved = resolve_refs(document, document)
    return ApiSpec(
        source=source,
        document=document,
        resolved=resolved,
        operations=tuple(_operations(document, resolved, source)),
        written=written,
        catalogue=catalogue,
        profile=profile,
    )


def _operations(document: Mapping[str, Any], resolved: Mapping[str, Any], source: Path) -> Iterator[Operation]:
    default_security = resolved.get("security") or []
    for path, item in resolved.get("paths", {}).items():
        raw_item = document["paths"][path]
        for method in HTTP_METHODS:
            if method not in item:
                continue
            raw, written = item[method], raw_item[method]
            if "operationId" not in raw:
                raise SpecError(f"{source}: {method.upper()} {path} has no operationId")
            parameters = _parameters(
                [*item.get("parameters", []), *raw.get("parameters", [])],
                [*raw_item.get("parameters", []), *written.get("parameters", [])],
            )
            body = raw.get("requestBody")
            body_media = _json_media(body) if body else {}
            written_body = _json_media(_follow(document, written.get("requestBody", {})))
            yield Operation(
                operation_id=raw["operationId"],
                method=method.upper(),
                path=path,
                summary=str(raw.get("summary", "")),
                description=str(raw.get("description", "")).strip(),
                parameters=parameters,
                body_schema=body_media.get("schema"),
                body_schema_ref=_ref_name(written_body.get("schema")),
                body_required=bool(body and body.get("required")),
                body_examples=_examples(body_media),
                responses={
                    int(status): _response(int(status), response, _follow(document, written["responses"][status]))
                    for status, response in raw.get("responses", {}).items()
                    if status.isdigit()
                },
                secured=bool(raw.get("security", default_security)),
            )


def _parameters(resolved: list[Mapping[str, Any]], written: list[Mapping[str, Any]]) -> tuple[Parameter, ...]:
    """Path-level then operation-level; a later one with the same name and place wins."""
    found: dict[tuple[str, str], Parameter] = {}
    for param, raw in zip(resolved, written, strict=True):
        style = param.get("style", "form" if param["in"] in ("query", "cookie") else "simple")
        found[(param["name"], param["in"])] = Parameter(
            name=param["name"],
            location=param["in"],
            schema=param.get("schema", {}),
            required=bool(param.get("required", False)),
            explode=bool(param.get("explode", style == "form")),
            description=str(param.get("description", "")).strip(),
            example=_parameter_example(param),
            ref=_ref_name(raw),
        )
    return tuple(found.values())


def _response(status: int, response: Mapping[str, Any], written: Mapping[str, Any]) -> Response:
    media = _json_media(response)
    return Response(
        status=status,
        description=str(response.get("description", "")),
        schema=media.get("schema"),
        schema_ref=_ref_name(_json_media(written).get("schema")),
        examples=_examples(media),
        links=tuple(
            Link(name, str(link["operationId"]), dict(link.get("parameters") or {}))
            for name, link in (response.get("links") or {}).items()
            if "operationId" in link
        ),
        headers=dict(response.get("headers") or {}),
    )


def _json_media(holder: Mapping[str, Any]) -> Mapping[str, Any]:
    media = holder.get("content", {}).get("application/json")
    return media if isinstance(media, Mapping) else {}


def _parameter_example(param: Mapping[str, Any]) -> Any:
    """`example`, else the first of the named `examples` (the two are exclusive)."""
    if "example" in param:
        return param["example"]
    for named in (param.get("examples") or {}).values():
        if isinstance(named, Mapping) and "value" in named:
            return named["value"]
    return None


def _examples(media: Mapping[str, Any]) -> dict[str, Any]:
    if "example" in media:
        return {"example": media["example"]}
    return {name: example.get("value") for name, example in (media.get("examples") or {}).items()}


def _follow(document: Mapping[str, Any], node: Any) -> Mapping[str, Any]:
    """A written node with its own `$ref` chain followed (its children are left as written)."""
    for _ in range(32):
        if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
            break
        node = resolve_pointer(document, node["$ref"])
    return node if isinstance(node, Mapping) else {}


def _ref_name(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, Mapping) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None
