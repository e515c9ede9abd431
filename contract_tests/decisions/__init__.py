"""The decision probes: one per point of the spec's x-decisions. Each finds
which alternative the target takes (or that it takes none of them); the run
compares that with its profile, `calibrate` writes it down. Importing this
package registers them."""

from . import lists, reads, writes, phones, search, errors  # noqa: F401, I001  (report order)

__all__: list[str] = []
