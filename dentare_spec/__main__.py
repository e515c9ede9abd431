"""`python -m dentare_spec`: the spec as a profile decides it, for tools that
read plain OpenAPI (schemathesis, openapi-core, Spectral), and the catalogue
of the kit's decisions.

    python -m dentare_spec decided [--profile FILE] [--spec PATH] [-o FILE]
    python -m dentare_spec guide [--spec PATH] [-o FILE]     # the guide's contract (as written)
    python -m dentare_spec decisions [--profile FILE]        # every open point, its alternatives, the choice
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import yaml

from ._exceptions import SpecError
from ._model import ApiSpec, load_spec


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dentare_spec", description=__doc__.splitlines()[0])
    parser.add_argument(
        "view",
        choices=["decided", "guide", "decisions"],
        help="the decided document, the guide's contract, or the decision catalogue",
    )
    parser.add_argument("--spec", default=None, help="the spec (default: the kit's spec/openapi.yaml)")
    parser.add_argument("--profile", default=None, help="with `decided`: a profile file (default: the kit's choices)")
    parser.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        spec = load_spec(args.spec, args.profile)
    except SpecError as exc:
        print(f"python -m dentare_spec: error: {exc}", file=sys.stderr)
        return 2
    if args.view == "decisions":
        text = _catalogue(spec)
    else:
        document = spec.document if args.view == "decided" else spec.written
        text = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    return 0


def _catalogue(spec: ApiSpec) -> str:
    assert spec.profile is not None
    lines = []
    for point in spec.catalogue:
        chosen = spec.profile[point.name]
        lines.append(f"{point.name}: {point.summary}")
        for name, alternative in point.alternatives.items():
            mark = "*" if name == chosen else " "
            lines.append(f"  {mark} {name:<20} {' '.join(alternative.description.split())[:110]}")
    lines.append(f"{len(spec.catalogue)} points; * the {'profile' if spec.profile.differences else 'kit'}'s choice")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
