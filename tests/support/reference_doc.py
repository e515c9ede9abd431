"""The reference guide's curl examples and the responses it shows, read from
the saved guide itself (spec/guide/patients-api.txt, a copy of ../shared/reference/), so the tests run
exactly what an integrator would paste."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from .paths import ROOT

__all__ = ["GUIDE_PATH", "SHARED_GUIDE_PATH", "CurlExample", "read_examples"]

# A copy kept in the repo, so a fresh clone has it; tests/mockserver/test_reference_guide.py
# checks it still equals the shared original when that is beside the checkout.
GUIDE_PATH = ROOT / "spec" / "guide" / "patients-api.txt"
SHARED_GUIDE_PATH = ROOT.parent / "shared" / "reference" / "patients-api.txt"
_RESPONSE_LABEL = re.compile(r"(Expected response|Response)(?: \((\d{3})[^)]*\))?:\s*$")


@dataclass
class CurlExample:
    line: int
    argv: list[str]
    method: str = "GET"
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    response_status: int | None = None
    response_example: Any = None

    @property
    def title(self) -> str:
        return f"line {self.line}: {self.method} {self.url.removeprefix('https://dentare.io/api/v1')}"


def read_examples(text: str | None = None) -> list[CurlExample]:
    text = GUIDE_PATH.read_text(encoding="utf-8") if text is None else text
    examples: list[CurlExample] = []
    for match in re.finditer(r"(?m)^curl ", text):
        command, end = _command_at(text, match.start())
        example = _parse(command, text.count("\n", 0, match.start()) + 1)
        example.response_status, example.response_example = _response_after(text, end)
        examples.append(example)
    return examples


def _command_at(text: str, start: int) -> tuple[str, int]:
    """The shell command starting at `start`: up to the first newline outside
    quotes; text glued after the last closing quote (the saved page lost its
    line breaks there) is cut off."""
    quote: str | None = None
    last_quote_end = start
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
                last_quote_end = i + 1
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and text[i + 1 : i + 2] == "\n":
            i += 2
            continue
        elif ch == "\n":
            break
        i += 1
    line_start = text.rfind("\n", start, i) + 1
    tail = text[max(line_start, last_quote_end) : i]
    end = last_quote_end if tail.strip() and last_quote_end > line_start else i
    return text[start:end].replace("\\\n", " "), end


def _parse(command: str, line: int) -> CurlExample:
    argv = shlex.split(command)
    example = CurlExample(line=line, argv=argv)
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            example.method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(":")
            example.headers[name.strip()] = value.strip()
        elif arg in ("-d", "--data"):
            example.body = next(args)
            if example.method == "GET":
                example.method = "POST"
        else:
            example.url = arg
    return example


def _response_after(text: str, end: int) -> tuple[int | None, Any]:
    """The JSON response shown right after a command, before the next one."""
    next_curl = text.find("\ncurl ", end)
    window = text[end : next_curl if next_curl != -1 else len(text)]
    label = None
    for line_match in re.finditer(r"[^\n]*\n", window):
        line = line_match.group(0)
        found = _RESPONSE_LABEL.search(line.rstrip("\n"))
        if found:
            label = found
            start = line_match.end()
            if window[start:].startswith("{"):
                status = int(label.group(2)) if label.group(2) else 200
                return status, json.JSONDecoder().raw_decode(window[start:])[0]
    return None, None
