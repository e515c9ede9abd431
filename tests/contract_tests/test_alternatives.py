"""No false alarm on a correct server that decides an open point otherwise.

For every alternative of every decision point of the spec, the mock answering
by it (`--profile`) passes a default-mode run (exit 0), and `--strict`
against the kit's own profile reports exactly that decision point. And
`calibrate` finds a profile back: against a mock started with a random
profile it writes that profile, and `--strict --profile FILE` then passes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from contract_tests.calibrate import ALIKE
from dentare_spec import load_spec
from mockserver import MockSettings, create_app

from .conftest import FIXTURES, ContractRun, run_contract, serve
from .mutants import Accounts

CATALOGUE = load_spec().catalogue
ALTERNATIVES = [(p.name, a) for p in CATALOGUE for a in p.alternatives if a != p.default]
RANDOM_PROFILES = 20
# The module's fixtures run every alternative's mock and two contract runs
# against each before the first test: one budget for all of them.
pytestmark = pytest.mark.timeout(2400)


def _profile_file(folder: Path, choices: dict[str, str]) -> Path:
    path = folder / "profile.yaml"
    path.write_text(yaml.safe_dump({"decisions": choices}), encoding="utf-8")
    return path


@contextmanager
def _mock(profile: Path) -> Iterator[str]:
    with serve(create_app(MockSettings(fixtures_dir=FIXTURES, profile=profile))) as base_url:
        yield base_url


def _runs_for(point: str, alternative: str, accounts: Accounts, folder: Path) -> tuple[ContractRun, ContractRun]:
    folder.mkdir()
    with _mock(_profile_file(folder, {point: alternative})) as base_url:
        (folder / "default").mkdir()
        default = run_contract(base_url, accounts, "--quick", "--seed", "4821", tmp_path=folder / "default")
        (folder / "strict").mkdir()
        strict = run_contract(base_url, accounts, "--strict", "--rule", "decided", tmp_path=folder / "strict")
    return default, strict


@pytest.fixture(scope="module")
def alternative_runs(
    accounts: Accounts, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], tuple[ContractRun, ContractRun]]:
    root = tmp_path_factory.mktemp("alternatives")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            (point, alt): pool.submit(_runs_for, point, alt, accounts, root / f"{point}-{alt}")
            for point, alt in ALTERNATIVES
        }
        return {key: future.result() for key, future in futures.items()}


def _detail(run: ContractRun) -> str:
    return f"exit {run.code}, failed {sorted(run.failed)}\n{run.stdout[-3500:]}\n{run.stderr[-1500:]}"


@pytest.mark.parametrize(("point", "alternative"), ALTERNATIVES, ids=[f"{p}-{a}" for p, a in ALTERNATIVES])
def test_no_false_alarm_on_any_alternative(
    point: str, alternative: str, alternative_runs: dict[tuple[str, str], tuple[ContractRun, ContractRun]]
) -> None:
    default, _ = alternative_runs[(point, alternative)]
    assert default.code == 0 and default.failed == set(), _detail(default)
    assert f"  {point}: " in default.stdout, "the difference is reported: " + _detail(default)


@pytest.mark.parametrize(("point", "alternative"), ALTERNATIVES, ids=[f"{p}-{a}" for p, a in ALTERNATIVES])
def test_strict_reports_exactly_that_point(
    point: str, alternative: str, alternative_runs: dict[tuple[str, str], tuple[ContractRun, ContractRun]]
) -> None:
    _, strict = alternative_runs[(point, alternative)]
    assert strict.code == 1 and strict.failed == {f"decided.{point}"}, _detail(strict)


def _calibrated(
    seed: int, accounts: Accounts, folder: Path
) -> tuple[dict[str, str], dict[str, str], ContractRun, ContractRun]:
    rng = random.Random(seed)
    choices = {p.name: rng.choice(list(p.alternatives)) for p in CATALOGUE}
    folder.mkdir()
    written = folder / "calibrated.yaml"
    with _mock(_profile_file(folder, choices)) as base_url:
        (folder / "calibrate").mkdir()
        calibration = run_contract(
            base_url, accounts, "calibrate", "--write-profile", str(written), tmp_path=folder / "calibrate", junit=False
        )
        assert calibration.code == 0, _detail(calibration)
        found = yaml.safe_load(written.read_text(encoding="utf-8"))["decisions"]
        (folder / "strict").mkdir()
        strict = run_contract(
            base_url,
            accounts,
            "--strict",
            "--profile",
            str(written),
            "--quick",
            "--seed",
            str(seed),
            tmp_path=folder / "strict",
        )
    return choices, found, calibration, strict


@pytest.fixture(scope="module")
def calibrations(
    accounts: Accounts, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[dict[str, str], dict[str, str], ContractRun, ContractRun]]:
    root = tmp_path_factory.mktemp("calibrations")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_calibrated, seed, accounts, root / f"profile-{seed}") for seed in range(RANDOM_PROFILES)
        ]
        return [future.result() for future in futures]


@pytest.mark.parametrize("index", range(RANDOM_PROFILES))
def test_calibrate_finds_the_profile_and_strict_holds_the_target_to_it(
    index: int, calibrations: list[tuple[dict[str, str], dict[str, str], ContractRun, ContractRun]]
) -> None:
    choices, found, calibration, strict = calibrations[index]
    # Where the calibration says the target answers alike under several alternatives, any of them is right.
    alike = {
        point: set(others.split(", "))
        for point, others in re.findall(rf"^  (\w+) .*\(([\w, ]+) {ALIKE}\)$", calibration.stdout, re.MULTILINE)
    }
    wrong = {k: (v, found.get(k)) for k, v in choices.items() if found.get(k) != v and v not in alike.get(k, ())}
    assert wrong == {}, calibration.stdout
    assert strict.code == 0, _detail(strict)
