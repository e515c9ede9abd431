"""Every rule module; importing this package registers all rules, in table order."""

from . import auth, pagination, scoping, validation, business, schema, stateful  # noqa: F401, I001  (table order)

__all__: list[str] = []
