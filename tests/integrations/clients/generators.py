"""The three client generators run on a spec, and what they made of it.

Used by test_generated_clients.py, and as a report for any spec (the figures of
issue 14 came from it):

    .venv/bin/python -m tests.integrations.clients.generators spec/openapi.yaml OLD.yaml

A generator's *warnings* are every line it prints beyond its own progress
lines: openapi-python-client prints a block per schema or response it dropped,
openapi-typescript a ` ⚠ ` line, hey-api its logger's lines. A *typed answer*
is a documented 2xx, 401, 404 or 422 answer whose body the generated code
gives a model (not `unknown`, not omitted).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
NODE_BIN = ROOT / "node_modules" / ".bin"
PYTHON_BIN = Path(sys.executable).parent
#: The statuses whose answers must be typed (issue 14).
TYPED_STATUSES = re.compile(r"2[0-9][0-9]|401|404|422")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TIMEOUT = 300


@dataclass
class Generated:
    tool: str
    out: Path
    output: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    """One documented answer of one operation."""

    path: str
    method: str
    operation_id: str
    status: str

    @property
    def type_prefix(self) -> str:
        """hey-api's name stem for the operation (`createPatient` -> `CreatePatient`)."""
        return self.operation_id[0].upper() + self.operation_id[1:]


def answers(spec: Path) -> list[Answer]:
    """The 2xx/401/404/422 answers with a JSON body the spec documents."""
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            for status in operation.get("responses", {}):
                if TYPED_STATUSES.fullmatch(str(status)):
                    found.append(Answer(path, method, operation["operationId"], str(status)))
    return found


def _run(command: list[str], cwd: Path, **extra_env: str) -> str:
    # The venv's bin first: openapi-python-client's post-hooks run its `ruff`.
    env = {**os.environ, "PATH": f"{PYTHON_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1", **extra_env}
    run = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT, env=env)
    output = _ANSI.sub("", run.stdout + run.stderr)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {run.returncode}:\n{output}")
    return output


def _blocks(output: str, progress: re.Pattern[str], headline: re.Pattern[str] | None = None) -> list[str]:
    """The output less its progress lines: each line, or with `headline` each block from one
    matching line to the next (a warning and the schema it quotes)."""
    kept = [line for line in output.splitlines() if line.strip() and not progress.match(line.strip())]
    if headline is None:
        return kept
    blocks: list[str] = []
    for line in kept:
        if headline.match(line) or not blocks:
            blocks.append(line)
        else:
            blocks[-1] += "\n" + line
    return blocks


# -- openapi-python-client ---------------------------------------------------------------------

_PY_PROGRESS = re.compile(r"^Generating .*$")
#: The first line of each of its warnings (a dropped response or schema, a post-hook not run).
_PY_WARNING = re.compile(r"^(WARNING|Unable to|Skipping|Error)\b")


def openapi_python_client(spec: Path, out: Path, executable: str | None = None) -> Generated:
    """The package is `out` itself (`--meta none`): put `out.parent` on sys.path, import `out.name`."""
    exe = executable or str(PYTHON_BIN / "openapi-python-client")
    if out.exists():
        shutil.rmtree(out)
    output = _run(
        [
            exe,
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(out),
            "--meta",
            "none",
            "--config",
            str(HERE / "openapi-python-client.yaml"),
        ],
        cwd=out.parent,
    )
    return Generated("openapi-python-client", out, output, _blocks(output, _PY_PROGRESS, _PY_WARNING))


# -- datamodel-code-generator -------------------------------------------------------------------


def datamodel_codegen(spec: Path, out_file: Path, executable: str | None = None) -> Generated:
    """Pydantic v2 models of the spec's schemas, with the options its docs give for
    code that type-checks (`--use-annotated --field-constraints`: no `constr()` in annotations)."""
    exe = executable or str(PYTHON_BIN / "datamodel-codegen")
    command = [exe, "--input", str(spec), "--input-file-type", "openapi", "--output", str(out_file)]
    command += ["--output-model-type", "pydantic_v2.BaseModel", "--use-annotated", "--field-constraints"]
    output = _run([*command, "--formatters", "black", "isort"], cwd=out_file.parent)
    if not out_file.exists():
        raise RuntimeError(f"datamodel-codegen wrote no {out_file.name}:\n{output}")
    return Generated("datamodel-code-generator", out_file, output, [])


_PY_PARSE = re.compile(r"if response\.status_code == (\d+):\n\s+response_\d+ = (\w+)\.from_dict")


def python_typed_answers(generated: Generated) -> dict[tuple[str, str], str]:
    """(operationId, status) -> model of each answer the generated client parses into a model."""
    typed: dict[tuple[str, str], str] = {}
    for module in (generated.out / "api").rglob("*.py"):
        if module.name == "__init__.py":
            continue
        operation_id = _camel(module.stem)
        for status, model in _PY_PARSE.findall(module.read_text(encoding="utf-8")):
            typed[(operation_id, status)] = model
    return typed


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


# -- openapi-typescript -----------------------------------------------------------------------

_OT_PROGRESS = re.compile(r"^(✨ openapi-typescript \S+|🚀 .* → .*)$")


def openapi_typescript(spec: Path, out_file: Path, executable: str | None = None) -> Generated:
    exe = executable or str(NODE_BIN / "openapi-typescript")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    output = _run([exe, str(spec), "--output", str(out_file)], cwd=out_file.parent)
    return Generated("openapi-typescript", out_file, output, _blocks(output, _OT_PROGRESS))


def openapi_typescript_answer_types(spec: Path, module: str) -> str:
    """TypeScript that compiles only if every answer's body has a type (not `unknown`/`any`)."""
    lines = [f'import type {{ paths }} from "{module}";', "", _TYPED_HELPER]
    for a in answers(spec):
        body = f'paths["{a.path}"]["{a.method}"]["responses"][{a.status}]["content"]["application/json"]'
        lines.append(f"typed<{body}>(); // {a.operation_id} {a.status}")
    return "\n".join(lines) + "\n"


# -- @hey-api/openapi-ts ----------------------------------------------------------------------

_HEY_PROGRESS = re.compile(
    r"^(@hey-api/openapi-ts v\S+|\[Job \d+\] ⏳ Generating from \d+ inputs?:|\[Job \d+\]\s+\[\d+\] \S+"
    r"|\[Job \d+\] ✅ Done! Your output is in \S+)$"
)


def hey_api(spec: Path, out_dir: Path, executable: str | None = None) -> Generated:
    """Types, SDK and its fetch client, with hey-api's own spec validation on (`warn`)."""
    exe = executable or str(NODE_BIN / "openapi-ts")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    # The config file reads its input and output from the environment.
    output = _run(
        [exe, "--file", str(HERE / "openapi-ts.config.mjs")],
        cwd=ROOT,
        DENTARE_HEY_INPUT=str(spec),
        DENTARE_HEY_OUTPUT=str(out_dir),
    )
    return Generated("@hey-api/openapi-ts", out_dir, output, _blocks(output, _HEY_PROGRESS))


def hey_api_answer_types(spec: Path, module: str) -> str:
    """TypeScript that compiles only if every answer hey-api typed is not `unknown`/`any`."""
    lines = [_TYPED_HELPER]
    names = set()
    for a in answers(spec):
        group = "Responses" if a.status.startswith("2") else "Errors"
        names.add(f"{a.type_prefix}{group}")
        lines.append(f"typed<{a.type_prefix}{group}[{a.status}]>(); // {a.operation_id} {a.status}")
    header = f'import type {{ {", ".join(sorted(names))} }} from "{module}";'
    return "\n".join([header, "", *lines]) + "\n"


#: `typed<T>()` compiles only when T is a real type: `unknown` and `any` demand an argument of type never.
_TYPED_HELPER = "function typed<T>(..._untyped: unknown extends T ? [never] : []): void {}\n"

#: JavaScript built-ins a generated type must not shadow (`type Date = string`, `type Error = ...`).
JS_BUILTINS = frozenset(
    {
        "Array",
        "ArrayBuffer",
        "BigInt",
        "Blob",
        "Boolean",
        "DataView",
        "Date",
        "Error",
        "EvalError",
        "File",
        "FormData",
        "Function",
        "Headers",
        "Intl",
        "JSON",
        "Map",
        "Math",
        "Number",
        "Object",
        "Promise",
        "Proxy",
        "RangeError",
        "Record",
        "ReferenceError",
        "Reflect",
        "RegExp",
        "Request",
        "Response",
        "Set",
        "String",
        "Symbol",
        "SyntaxError",
        "Text",
        "TypeError",
        "URIError",
        "URL",
        "WeakMap",
        "WeakSet",
        "Event",
        "Node",
        "Document",
        "Element",
        "Location",
        "Storage",
        "Partial",
        "Required",
        "Readonly",
        "Pick",
        "Omit",
    }
)


def name_collisions(names: list[str]) -> list[str]:
    """Names that shadow a JS built-in, or that a generator numbered to tell two apart (`Email2`)."""
    taken = set(names)
    numbered = [n for n in names if (m := re.fullmatch(r"(\w+?)\d+", n)) and m.group(1) in taken]
    return sorted({*(n for n in names if n in JS_BUILTINS), *numbered})


def hey_api_type_names(generated: Generated) -> list[str]:
    text = (generated.out / "types.gen.ts").read_text(encoding="utf-8")
    return re.findall(r"^export type (\w+)", text, flags=re.MULTILINE)


# -- the report --------------------------------------------------------------------------------


def report(spec: Path) -> dict[str, Any]:
    """Warnings and typed answers of each generator on `spec` (typed counts for TS by compiling)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(spec, work / "openapi.yaml")
        spec_copy = work / "openapi.yaml"
        expected = answers(spec_copy)
        py = openapi_python_client(spec_copy, work / "dentare_client")
        py_typed = python_typed_answers(py)
        ot = openapi_typescript(spec_copy, work / "ts" / "schema.d.ts")
        hey = hey_api(spec_copy, work / "ts" / "hey")
        (work / "ts" / "ot_answers.ts").write_text(openapi_typescript_answer_types(spec_copy, "./schema"))
        (work / "ts" / "hey_answers.ts").write_text(hey_api_answer_types(spec_copy, "./hey/types.gen"))
        names = hey_api_type_names(hey)
        return {
            "answers": len(expected),
            "openapi-python-client": {
                "warnings": len(py.warnings),
                "typed": sum((a.operation_id, a.status) in py_typed for a in expected),
            },
            "openapi-typescript": {
                "warnings": len(ot.warnings),
                "typed": len(expected) - _untyped(work / "ts" / "ot_answers.ts"),
            },
            "@hey-api/openapi-ts": {
                "warnings": len(hey.warnings),
                "typed": len(expected) - _untyped(work / "ts" / "hey_answers.ts"),
                "collisions": name_collisions(names),
            },
        }


def _untyped(program: Path) -> int:
    """How many `typed<...>()` lines of `program` fail to compile."""
    run = subprocess.run(
        [
            str(NODE_BIN / "tsc"),
            "--noEmit",
            "--strict",
            "--skipLibCheck",
            "--target",
            "es2022",
            "--module",
            "esnext",
            "--moduleResolution",
            "bundler",
            "--lib",
            "es2022,dom,dom.iterable",
            str(program),
        ],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
    )
    return sum("error TS2554" in line for line in run.stdout.splitlines())


def main(argv: list[str]) -> int:
    for spec in argv:
        print(spec, report(Path(spec)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
