"""Settings travel to worker processes as JSON (`dentare-mock --workers N`):
every field comes back as it was, and what is not a setting is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.settings import FaultSettings, MockSettings, settings_from_json, settings_to_json


def test_every_setting_survives_the_trip() -> None:
    settings = MockSettings(
        spec_path=Path("/x/spec.yaml"),
        fixtures_dir=None,
        generate=7,
        state_file=Path("/tmp/s.json"),
        admin_key="k",
        faults=FaultSettings(rate=0.5, kinds=("429", "drop"), latency_ms=3, seed=1),
        check_responses=True,
        cors_origins=("http://a", "http://b"),
        store="postgresql://u@h:1/d",
        pool_size=9,
    )
    assert settings_from_json(settings_to_json(settings)) == settings
    assert settings_from_json(settings_to_json(MockSettings())) == MockSettings()


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown settings"):
        settings_from_json('{"nope": 1}')
