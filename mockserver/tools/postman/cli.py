"""`dentare-mock postman --out DIR`: write the collection and environment."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dentare_spec import ApiSpec, SpecError, load_spec

from ..._exceptions import MockError
from ..._resources import default_fixtures_dir
from .collection import COLLECTION_FILE, ENVIRONMENT_FILE, build_collection, build_environment, render
from .guide import read_guide_examples

__all__ = ["build_parser", "main", "write_postman"]


def write_postman(spec: ApiSpec, out_dir: Path, fixtures_dir: Path, base_url: str | None = None) -> list[Path]:
    """Both files, written to `out_dir`; the guide examples come from `fixtures_dir`."""
    documents = {
        COLLECTION_FILE: build_collection(spec, read_guide_examples(fixtures_dir)),
        ENVIRONMENT_FILE: build_environment(spec, base_url),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in documents.items():
        path = out_dir / name
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dentare-mock postman",
        description="Write the Postman collection and environment generated from the spec.",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write them to")
    parser.add_argument("--spec", type=Path, default=None, help="OpenAPI spec (default: the packaged one)")
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=None,
        metavar="DIR",
        help="fixtures folder with guide_examples.json and patients.json (default: the packaged fixtures)",
    )
    parser.add_argument(
        "--base-url", default=None, help="the environment's baseUrl (default: the spec's local mock server)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # The guide's contract: the collection's checks hold against production as against the mock.
        spec = load_spec(args.spec).guide_contract()
        written = write_postman(spec, args.out, args.fixtures or default_fixtures_dir(), args.base_url)
    except (MockError, SpecError, OSError) as exc:
        print(f"dentare-mock postman: error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
