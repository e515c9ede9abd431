"""Every curl example of the reference guide, run against the mock with a
fixture token and the local base URL, answers what the guide shows: the same
status, and every field the guide shows with the same JSON type."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from dentare_spec import constraints, load_spec, object_shape
from tests.support import SPEC_PATH
from tests.support.reference_doc import GUIDE_PATH, SHARED_GUIDE_PATH, CurlExample, read_examples

EXAMPLES = read_examples()
PRODUCTION = "https://dentare.io/api/v1"


def _nullable_fields() -> frozenset[str]:
    """Patient fields the spec lets be null: the guide shows them with a value
    (Maria's email), but another patient may have none."""
    spec = load_spec(SPEC_PATH)
    names = set()
    for schema_name in ("Patient", "PatientListItem"):
        for name, schema in object_shape(spec.schema(schema_name)).properties.items():
            if constraints(schema).nullable:
                names.add(name)
    return frozenset(names)


NULLABLE = _nullable_fields()


@pytest.mark.skipif(not SHARED_GUIDE_PATH.exists(), reason="no ../shared beside this checkout")
def test_the_repo_copy_of_the_guide_is_current() -> None:
    assert GUIDE_PATH.read_bytes() == SHARED_GUIDE_PATH.read_bytes(), "copy the new guide into spec/guide/"


def test_the_guide_has_all_its_examples() -> None:
    # Guards the parser: if it silently lost examples, the tests below would shrink.
    assert len(EXAMPLES) == 11
    assert sum(1 for e in EXAMPLES if e.response_example is not None) == 5


def _send(api: Any, example: CurlExample) -> Any:
    headers = {k: v for k, v in example.headers.items() if k != "Authorization"}
    client = api(account=1)
    return client.request(
        example.method,
        example.url.removeprefix(PRODUCTION),  # relative to the client's base URL, the mock's
        headers=headers,
        content=example.body.encode() if example.body is not None else None,
    )


def assert_same_shape(documented: Any, actual: Any, where: str = "body") -> None:
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in documented.items():
            assert key in actual, f"{where}.{key} is missing"
            assert_same_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list) and actual, f"{where}: expected a non-empty list, got {actual!r}"
        for index, item in enumerate(actual):
            assert_same_shape(documented[0], item, f"{where}[{index}]")
    elif documented is None:
        assert actual is None or isinstance(actual, str), f"{where}: expected null or a string, got {actual!r}"
    elif actual is None and where.rsplit(".", 1)[-1] in NULLABLE:
        pass
    else:
        assert type(actual) is type(documented), f"{where}: expected {type(documented).__name__}, got {actual!r}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.title)
def test_guide_example_answers_as_documented(api: Any, example: CurlExample) -> None:
    response = _send(api, example)
    expected_status = example.response_status or (201 if example.method == "POST" else 200)
    assert response.status_code == expected_status, response.text
    body = response.json()
    if example.response_example is not None:
        assert_same_shape(example.response_example, body)
    if example.body is not None:
        sent = json.loads(example.body)
        for key, value in sent.items():
            assert body["data"][key] == value, f"{key} was sent as {value!r}, answered {body['data'][key]!r}"


def test_guide_patient_4821_is_the_documented_record(api: Any) -> None:
    documented = next(e for e in EXAMPLES if e.url.endswith("/patients/4821") and e.method == "GET")
    actual = api(account=1).get("/patients/4821").json()["data"]
    for key, value in documented.response_example["data"].items():
        if key in ("created_at", "updated_at"):
            assert actual[key].startswith(value.removesuffix("Z")), key  # same instant, with milliseconds
        else:
            assert actual[key] == value, key


def test_guide_search_filter_and_expansion_find_maria(api: Any) -> None:
    client = api(account=1)
    for path in ("/patients?q=hoxha", "/patients?email=maria@example.com"):
        assert 4821 in [p["id"] for p in client.get(path).json()["data"]], path
    expanded = client.get("/patients/4821?fields=allergies,medical_conditions,insurance_provider").json()["data"]
    assert {"allergies", "medical_conditions", "insurance_provider"} <= expanded.keys()
    assert "blood_type" not in expanded


def test_guide_curls_run_verbatim_with_curl(reset_mock: Any, tokens: Any, require_tool: Any) -> None:
    """The literal commands, only with the base URL and token substituted."""
    curl = require_tool("curl")
    for example in EXAMPLES:
        argv = [
            arg.replace(PRODUCTION, reset_mock.base_url).replace("YOUR_API_TOKEN", tokens[1].token)
            for arg in example.argv[1:]
        ]
        result = subprocess.run(
            [curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", *argv],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        expected = example.response_status or (201 if example.method == "POST" else 200)
        assert result.stdout == str(expected), f"{example.title}: {result.stdout} {result.stderr}"
        reset_mock.reset()
