"""The reading layer's one exception.

SpecError      the document cannot be read, is not valid OpenAPI, or lacks
               what a reader asked of it (says where)
"""

from __future__ import annotations

__all__ = ["SpecError"]


class SpecError(Exception):
    """The spec cannot be used as it is; the message names the file and the place."""
