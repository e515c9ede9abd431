"""spec/guide-rules.yaml and the suite agree: every check has an entry with
its provenance and scope, every entry names a real check, statement or
decision point, every quote is the guide's own words, every spec element it
names exists, and every statement a deployment can show has a check."""

from __future__ import annotations

import re

import pytest

from contract_tests import load_facts, select_checks
from contract_tests.provenance import load_table
from dentare_spec import SpecError, resolve_pointer
from tests.support.reference_doc import GUIDE_PATH

TABLE = load_table()
FACTS = load_facts()
CHECKS = {c.name: c for c in select_checks(None)}


def _squeezed(text: str) -> str:
    """The guide's text as words only: its tables and line breaks vary."""
    return re.sub(r"[\s|]+", "", text)


GUIDE = _squeezed(GUIDE_PATH.read_text(encoding="utf-8"))


def test_every_check_has_an_entry_and_every_entry_a_check() -> None:
    assert sorted(set(CHECKS) - set(TABLE.checks)) == [], "checks missing from spec/guide-rules.yaml"
    assert sorted(set(TABLE.checks) - set(CHECKS)) == [], "entries naming no check"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_check_has_its_provenance_and_scope(name: str) -> None:
    entry, found = TABLE.checks[name], CHECKS[name]
    assert entry.scope, f"{name}: say which scope it covers"
    if found.is_probe:
        assert entry.decided == found.point and not entry.enforces, f"{name} probes {found.point}"
        FACTS.decided.catalogue.point(found.point or "")  # the spec's x-decisions has it
    else:
        assert entry.decided is None and entry.enforces, f"{name}: a guide check names the statements it enforces"
        unknown = set(entry.enforces) - set(TABLE.statements)
        assert not unknown, f"{name} enforces unknown statements {unknown}"


@pytest.mark.parametrize("sid", sorted(TABLE.statements))
def test_each_statement_quotes_the_guide_and_points_into_the_spec(sid: str) -> None:
    statement = TABLE.statements[sid]
    for fragment in re.split(r"\.\.\.|;", statement.guide):
        words = _squeezed(fragment.strip(" ,."))
        assert words in GUIDE, f"{sid}: {fragment.strip()!r} is not in the guide"
    for pointer in statement.spec:
        try:
            resolve_pointer(FACTS.guide.written, pointer)
        except SpecError as exc:
            pytest.fail(f"{sid}: {exc}")


def test_every_testable_statement_has_a_check() -> None:
    enforced = {sid for entry in TABLE.checks.values() for sid in entry.enforces}
    orphans = [sid for sid, s in TABLE.statements.items() if not s.untestable and sid not in enforced]
    assert orphans == []
    untestable = [sid for sid, s in TABLE.statements.items() if s.untestable]
    assert all(sid not in enforced for sid in untestable), "a statement with a check is testable"


def test_the_table_counts() -> None:
    """The numbers the closing note reports come from here."""
    guide_checks = [c for c in CHECKS.values() if not c.is_probe]
    assert len(TABLE.statements) >= 45 and len(guide_checks) >= 30
    assert len(FACTS.decided.catalogue) == len([c for c in CHECKS.values() if c.is_probe])
