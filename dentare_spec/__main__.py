"""`python -m dentare_spec`: the spec as a profile decides it, for tools that
read plain OpenAPI (schemathesis, openapi-core, Spectral).

    python -m dentare_spec decided [--profile FILE] [--spec PATH] [-o FILE]
    python -m dentare_spec guide [--spec PATH] [-o FILE]     # the guide's contract (as written)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import yaml

from ._exceptions import SpecError
from ._model import load_spec


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dentare_spec", description=__doc__.splitlines()[0])
    parser.add_argument("view", choices=["decided", "guide"], help="the decided document, or the guide's contract")
    parser.add_argument("--spec", default=None, help="the spec (default: the kit's spec/openapi.yaml)")
    parser.add_argument("--profile", default=None, help="with `decided`: a profile file (default: the kit's choices)")
    parser.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        spec = load_spec(args.spec, args.profile)
    except SpecError as exc:
        print(f"python -m dentare_spec: error: {exc}", file=sys.stderr)
        return 2
    document = spec.document if args.view == "decided" else spec.written
    text = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
