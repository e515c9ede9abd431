"""OpenAPI Overlay 1.0 actions, applied to a document.

An action names its `target` with a JSONPath and either `update`s it (an
object is merged in recursively; an array gets the value appended) or
`remove`s it. Targets here are the definite subset of JSONPath: `$`, then
names as `.name` or `['name']` (so paths such as `$.paths['/patients'].get`
work); anything else is refused when the spec is loaded, never guessed at.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._exceptions import SpecError

__all__ = ["apply_actions", "target_path"]

_SEGMENT = re.compile(r"\.([A-Za-z0-9_$-]+)|\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*\"((?:[^\"\\]|\\.)*)\"\s*\]")


def target_path(target: str) -> tuple[str, ...]:
    """The names a definite JSONPath target walks, from the root."""
    if not target.startswith("$"):
        raise SpecError(f"overlay target {target!r} does not start with $")
    names: list[str] = []
    at = 1
    while at < len(target):
        match = _SEGMENT.match(target, at)
        if match is None:
            raise SpecError(f"overlay target {target!r}: only $.name and $['name'] segments are supported")
        name = next(group for group in match.groups() if group is not None)
        names.append(name.replace("\\'", "'").replace('\\"', '"'))
        at = match.end()
    return tuple(names)


def apply_actions(document: Mapping[str, Any], actions: Sequence[Mapping[str, Any]], where: str) -> dict[str, Any]:
    """A copy of `document` with `actions` applied in order; SpecError naming
    `where` for an action whose target does not exist."""
    result: dict[str, Any] = copy.deepcopy(dict(document))
    for index, action in enumerate(actions):
        label = f"{where}, action {index + 1} ({action.get('target')!r})"
        path = target_path(str(action.get("target", "")))
        parent, node = _locate(result, path, label)
        if action.get("remove") is True:
            if not path:
                raise SpecError(f"{label}: the root cannot be removed")
            if isinstance(parent, list):
                parent.pop(int(path[-1]))
            else:
                del parent[path[-1]]
        elif "update" in action:
            _update(node, copy.deepcopy(action["update"]), label)
        else:
            raise SpecError(f"{label}: an action needs `update` or `remove: true`")
    return result


def _locate(document: Any, path: tuple[str, ...], label: str) -> tuple[Any, Any]:
    parent, node = None, document
    for name in path:
        parent = node
        if isinstance(node, Mapping) and name in node:
            node = node[name]
        elif isinstance(node, list) and name.isdigit() and int(name) < len(node):
            node = node[int(name)]
        else:
            raise SpecError(f"{label}: the target does not exist (no {name!r})")
    return parent, node


def _update(node: Any, value: Any, label: str) -> None:
    if isinstance(node, list):
        node.append(value)
    elif isinstance(node, dict) and isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(node.get(key), dict) and isinstance(item, Mapping):
                _update(node[key], item, label)
            else:
                node[key] = item
    else:
        raise SpecError(f"{label}: an update needs an object or array target (and an object for an object)")
