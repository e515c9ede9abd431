"""The guide's checks: each holds a target to sentences of the guide (quoted
in spec/guide-rules.yaml) and accepts every alternative the spec's
x-decisions allows. Importing this package registers them, in report order."""

from . import auth, scoping, pagination, listing, reads, writes, schema, stateful  # noqa: F401, I001  (report order)

__all__: list[str] = []
