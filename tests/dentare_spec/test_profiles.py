"""Profile files: read by name, refused with the valid choices, written so they read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from dentare_spec import SpecError, load_spec

CATALOGUE = load_spec(Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml").catalogue


@pytest.mark.parametrize("point", [p.name for p in CATALOGUE])
def test_every_alternative_reads_back_from_a_dumped_profile(tmp_path: Path, point: str) -> None:
    for alternative in CATALOGUE.point(point).alternatives:
        path = tmp_path / "profile.yaml"
        path.write_text(CATALOGUE.profile({point: alternative}).dump("written by a test"), encoding="utf-8")
        assert CATALOGUE.load_profile(path)[point] == alternative


def test_a_bare_null_names_the_alternative_called_null(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text("decisions:\n  unset_expansions: null\n  list_order: newest_first\n", encoding="utf-8")
    profile = CATALOGUE.load_profile(path)
    assert profile["unset_expansions"] == "null" and profile.differences == {"list_order": "newest_first"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "decisions:\n  list_order: [1, 2]\n",
            "list_order: no alternative [1, 2]; choose one of id_ascending, newest_",
        ),
        ("decisions:\n  nope: x\n", "profile.yaml: no decision point 'nope'; the spec's are list_order, "),
        ("decisions: [\n", "is not valid YAML: "),
    ],
)
def test_a_bad_profile_is_one_line_naming_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        CATALOGUE.load_profile(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)
