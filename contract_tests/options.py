"""Every option of a run, declared once: this table feeds the CLI's argparse,
the pytest plugin's options and the command line the CLI hands to pytest."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["OPTIONS", "TOKEN_OPTIONS", "Option", "add_to_argparse", "add_to_pytest", "to_pytest_args"]


@dataclass(frozen=True)
class Option:
    flag: str
    help: str
    type: Callable[[str], Any] | None = None
    default: Any = None
    flag_action: str | None = None  # "store_true" or "append"
    env: str | None = None  # the environment variable that can carry it (tokens)
    metavar: str | None = None
    pytest_flag: str | None = None  # where pytest already owns `flag`

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def in_pytest(self) -> str:
        return self.pytest_flag or self.flag

    def kwargs(self) -> dict[str, Any]:
        help_text = self.help + (f" (or ${self.env})" if self.env else "")
        if self.default not in (None, False, []) and self.flag_action is None:
            help_text += f" (default: {self.default})"
        found: dict[str, Any] = {"help": help_text, "default": self.default}
        if self.flag_action:
            found["action"] = self.flag_action
        if self.type is not None:
            found["type"] = self.type
        if self.metavar:
            found["metavar"] = self.metavar
        return found


OPTIONS: tuple[Option, ...] = (
    Option("--base-url", "API root, e.g. http://127.0.0.1:8000/api/v1 (a bare origin gets the spec's base path)"),
    Option("--token", "account A's token", env="DENTARE_TOKEN"),
    Option("--other-token", "account B's token: enables the scoping and two-account checks", env="DENTARE_OTHER_TOKEN"),
    Option("--revoked-token", "a revoked token: enables auth.revoked_token", env="DENTARE_REVOKED_TOKEN"),
    Option("--read-only", "send only requests that change nothing (GET)", flag_action="store_true", default=False),
    Option(
        "--strict",
        "a target that decides an open point otherwise than the profile fails the run",
        flag_action="store_true",
        default=False,
        pytest_flag="--strict-decisions",
    ),
    Option(
        "--profile",
        "the decisions to hold the target to (a file `calibrate` writes; default: the kit's)",
        metavar="FILE",
    ),
    Option("--spec", "the OpenAPI document (default: the kit's)", metavar="PATH"),
    Option("--seed", "seed for generated data (printed in the report; default: a random one)", type=int),
    Option("--max-examples", "schemathesis examples per operation and mode", type=int),
    Option("--quick", "a fast smoke profile (few examples)", flag_action="store_true", default=False),
    Option("--max-requests", "stop after this many requests", type=int, default=20_000),
    Option("--rate", "at most this many requests per second (0: no limit)", type=float, default=100.0),
    Option("--request-timeout", "seconds for one whole answer", type=float, default=10.0),
    Option("--max-retries", "retries of an edge answer (429, 502, 503, 504) before giving up", type=int, default=3),
    Option("--retry-seconds", "what all the retries of a run may wait in total", type=float, default=60.0),
    Option("--max-response-bytes", "the largest answer read", type=int, default=16 * 1024 * 1024),
    Option(
        "--example-db",
        "where hypothesis keeps failing examples: a folder or redis://host:port/N (default: a per-user cache folder)",
        metavar="DIR|URL",
    ),
    Option("--rule", "run only checks matching this glob or group (repeatable)", flag_action="append", metavar="GLOB"),
)

TOKEN_OPTIONS = tuple(option for option in OPTIONS if option.env)


def add_to_argparse(parser: argparse.ArgumentParser) -> None:
    for option in OPTIONS:
        parser.add_argument(option.flag, dest=option.dest, **option.kwargs())


def add_to_pytest(group: Any) -> None:
    for option in OPTIONS:
        group.addoption(option.in_pytest, dest=f"contract_{option.dest}", **option.kwargs())


def to_pytest_args(values: Mapping[str, Any]) -> Iterator[str]:
    """The pytest command line for `values` (by dest); tokens are left out: they travel in the environment."""
    for option in OPTIONS:
        value = values.get(option.dest)
        if option.env or value is None or value is False or value == []:
            continue
        if option.flag_action == "store_true":
            yield option.in_pytest
        elif option.flag_action == "append":
            for item in value:
                yield from (option.in_pytest, str(item))
        elif value != option.default:
            yield from (option.in_pytest, str(value))
