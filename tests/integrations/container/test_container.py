"""The Containerfile: built with podman FROM a Debian rootfs made by
debootstrap (podman.py says why each option is there), the image serves
`dentare-mock` on 0.0.0.0 with its control API locked to the admin key from
DENTARE_MOCK_ADMIN_KEY, and runs `dentare-contract` against it.

The mock's port is published on 127.0.0.1 only; requests from the host reach
the container from the bridge's gateway, a non-loopback client, which is what
makes the lock observable. The contract container uses the host's network to
reach that port (it starts no server). Containers are removed by their id.
"""

from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import free_port, missing_tool

from . import podman

ADMIN_KEY = "container-test-key"


@pytest.fixture(scope="module")
def image() -> str:
    missing = podman.missing_tools()
    if missing:
        missing_tool(f"{', '.join(missing)} not installed (bash .ci/ecosystem.sh installs them)")
    return podman.build_image()


@contextlib.contextmanager
def mock_container(image: str, *env: str) -> Iterator[str]:
    port = free_port()
    started = podman.run("run", "-d", "--rm", "-p", f"127.0.0.1:{port}:8000", *env, image)
    container = started.stdout.strip().splitlines()[-1]
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{root}/api/v1/me.json", timeout=2)
                break
            if time.monotonic() > deadline:
                logs = podman.run("logs", container, check=False)
                raise RuntimeError(f"the container did not answer:\n{logs.stdout}{logs.stderr}")
            time.sleep(0.3)
        yield root
    finally:
        podman.run("rm", "-f", "-t", "5", container, check=False)


def test_the_image_serves_the_mock_with_the_control_api_locked(image: str, tokens: Any) -> None:
    with mock_container(image, "-e", f"DENTARE_MOCK_ADMIN_KEY={ADMIN_KEY}") as root:
        me = httpx.get(f"{root}/api/v1/me.json", headers={"Authorization": f"Bearer {tokens[1].token}"})
        assert me.status_code == 200 and me.json()["name"] == "Elira Basha"
        assert (
            httpx.get(f"{root}/api/v1/patients/4821", headers={"Authorization": f"Bearer {tokens[1].token}"}).json()[
                "data"
            ]["last_name"]
            == "Hoxha"
        )
        assert httpx.post(f"{root}/__mock/reset", json={}).status_code == 403
        assert httpx.post(f"{root}/__mock/reset", json={}, headers={"X-Mock-Admin-Key": "wrong"}).status_code == 403
        assert httpx.post(f"{root}/__mock/reset", json={}, headers={"X-Mock-Admin-Key": ADMIN_KEY}).status_code == 200
    with mock_container(image) as root:  # no key: nobody outside the container
        assert httpx.post(f"{root}/__mock/reset", json={}, headers={"X-Mock-Admin-Key": ADMIN_KEY}).status_code == 403


def test_the_image_runs_the_contract_suite_against_the_container(image: str, tokens: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)  # the image runs as an unprivileged user
    with mock_container(image, "-e", f"DENTARE_MOCK_ADMIN_KEY={ADMIN_KEY}") as root:
        run = podman.run(
            "run",
            "--rm",
            "--network=host",
            "-v",
            f"{out}:/out",
            "-e",
            f"DENTARE_TOKEN={tokens[1].token}",
            "-e",
            f"DENTARE_OTHER_TOKEN={tokens[2].token}",
            "-e",
            f"DENTARE_REVOKED_TOKEN={tokens[1].revoked[0]}",
            image,
            "dentare-contract",
            "--base-url",
            f"{root}/api/v1",
            "--quick",
            "--junit-xml",
            "/out/contract.xml",
            timeout=600,
            check=False,
        )
    output = run.stdout + run.stderr
    # 0: conforms, 1: a rule failed: both mean the suite ran against the container (2: it could not).
    assert run.returncode in (0, 1), output[-3000:]
    assert "auth.missing_token" in output and "pass" in output, output[-3000:]
    suite = ET.parse(out / "contract.xml").getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) >= 20, ET.tostring(suite)[:500]
    assert tokens[1].token not in (out / "contract.xml").read_text() and tokens[1].token not in output
