"""JSON pointers and the runtime expressions of links (dentare_spec/_pointers.py)."""

from __future__ import annotations

import pytest

from dentare_spec import at_pointer, load_spec, resolve_pointer, response_body_pointer, split_pointer


def test_split_pointer_unescapes_each_key() -> None:
    assert split_pointer("") == []
    assert split_pointer("/data/id") == ["data", "id"]
    assert split_pointer("/paths/~1patients~1{id}/a~0b") == ["paths", "/patients/{id}", "a~b"]
    assert split_pointer("/~01") == ["~1"]  # `~1` is decoded before `~0` (RFC 6901)


def test_split_pointer_refuses_a_pointer_without_leading_slash() -> None:
    with pytest.raises(ValueError, match="starts with '/'"):
        split_pointer("data/id")


def test_at_pointer_follows_keys_and_array_indexes() -> None:
    value = {"data": [{"id": 4821}, {"id": 4822, "a/b": True}]}
    assert at_pointer(value, "") is value
    assert at_pointer(value, "/data/1/id") == 4822
    assert at_pointer(value, "/data/1/a~1b") is True
    assert at_pointer({"id": None}, "/id", "absent") is None  # present and null is not absent


@pytest.mark.parametrize("pointer", ["/meta", "/data/2/id", "/data/x", "/data/0/id/deeper"])
def test_at_pointer_gives_the_default_where_the_value_has_nothing(pointer: str) -> None:
    assert at_pointer({"data": [{"id": 4821}]}, pointer, "absent") == "absent"


def test_response_body_pointer_reads_only_response_body_expressions() -> None:
    assert response_body_pointer("$response.body#/data/id") == "/data/id"
    assert response_body_pointer("$response.body#") == ""
    assert response_body_pointer("$request.path.id") is None
    assert response_body_pointer("4821") is None


def test_the_spec_links_point_into_their_examples() -> None:
    """The create answer's links name `/data/id`, which its example holds."""
    spec = load_spec()
    created = spec.operation("createPatient").responses[201]
    pointers = {response_body_pointer(expr) for link in created.links for expr in link.parameters.values()}
    assert pointers == {"/data/id"}
    assert at_pointer(created.examples["minimal"], "/data/id") == 4821


def test_resolve_pointer_reads_refs_with_the_same_keys() -> None:
    spec = load_spec()
    assert resolve_pointer(spec.document, "#/paths/~1patients~1{id}/get")["operationId"] == "getPatient"
