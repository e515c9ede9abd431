"""Podman as this sandbox lets it run, and the kit's image built with it.

What it takes here (root in a VM without CAP_SYS_RESOURCE, cgroups v1 with a
v2 hierarchy beside it, no registry but PyPI/npm/Debian):

- storage `vfs` (no overlay in the sandbox), cgroup manager `cgroupfs`,
  events to a file (no systemd/journald);
- runtime runc, through ./runc, which drops the OCI rlimits: crun and runc
  both fail on `setrlimit(RLIMIT_NOFILE)` inside the container, and crun also
  refuses the hybrid cgroup layout;
- a base image made from Debian's packages: debootstrap (minbase, bookworm,
  with python3 and python3-venv) piped into `podman import`, since a
  `FROM docker.io/...` pull cannot reach a registry;
- a TLS-intercepting proxy between the build and PyPI: its CA bundle (the
  host's PIP_CERT) is mounted into the build and passed to pip.

    python -m tests.integrations.container.podman   # build both images, print their names
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
BASE_IMAGE = "localhost/dentare-debian:bookworm"
IMAGE = "localhost/dentare-mock:test"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
BUILD_TIMEOUT = 1500


def podman() -> list[str]:
    return [
        "podman",
        "--storage-driver=vfs",
        "--cgroup-manager=cgroupfs",
        "--events-backend=file",
        "--runtime",
        str(HERE / "runc"),
    ]


def run(*args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*podman(), *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def image_exists(name: str) -> bool:
    return run("image", "exists", name, check=False).returncode == 0


def ensure_base_image() -> str:
    """A Debian bookworm image with python3, from Debian's packages (kept once made)."""
    if image_exists(BASE_IMAGE):
        return BASE_IMAGE
    with tempfile.TemporaryDirectory(prefix="dentare-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,ca-certificates",
                "bookworm",
                str(rootfs),
                DEBIAN_MIRROR,
            ],
            check=True,
            capture_output=True,
            timeout=BUILD_TIMEOUT,
        )
        for cache in (rootfs / "var/cache/apt/archives", rootfs / "var/lib/apt/lists"):
            for item in cache.glob("*"):
                if item.is_file():
                    item.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            imported = subprocess.run(
                [*podman(), "import", "--change", 'CMD ["/bin/bash"]', "-", BASE_IMAGE],
                stdin=tar.stdout,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
            )
        finally:
            if tar.stdout is not None:
                tar.stdout.close()
            tar.wait(timeout=BUILD_TIMEOUT)
        if imported.returncode != 0:
            raise RuntimeError(f"podman import failed:\n{imported.stderr}")
    return BASE_IMAGE


def build_image(tag: str = IMAGE) -> str:
    """The repository's Containerfile, FROM the Debian base image."""
    args = [
        "build",
        "--network=host",
        "-f",
        str(ROOT / "Containerfile"),
        "--build-arg",
        f"BASE_IMAGE={ensure_base_image()}",
        "-t",
        tag,
    ]
    cert = os.environ.get("PIP_CERT")
    if cert and Path(cert).is_file():
        args += [
            "--build-arg",
            "PIP_CERT=/etc/ssl/certs/dentare-build-ca.crt",
            "-v",
            f"{cert}:/etc/ssl/certs/dentare-build-ca.crt:ro",
        ]
    run(*args, str(ROOT), timeout=BUILD_TIMEOUT)
    return tag


def missing_tools() -> list[str]:
    return [tool for tool in ("podman", "debootstrap", "tar") if shutil.which(tool) is None] + (
        [] if any(Path(p).is_file() for p in ("/usr/sbin/runc", "/usr/bin/runc")) else ["runc"]
    )


if __name__ == "__main__":
    print(build_image())
    sys.exit(0)
