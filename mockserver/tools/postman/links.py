"""Which answer sets which collection variable, read from the spec's `links`.

A link of an operation's success answer that takes a path parameter of
another operation from the answer's body (`$response.body#/data/id`) becomes
a collection variable: the producing request stores the value, the consuming
requests put it in their path. The variable is named after the parameter's
component (`patientId`), so every operation that shares the parameter shares
the variable.
"""

from __future__ import annotations

from dataclasses import dataclass

from dentare_spec import ApiSpec, Operation, SpecError, at_pointer, response_body_pointer

__all__ = ["LinkVariable", "link_variables", "path_variable"]


@dataclass(frozen=True)
class LinkVariable:
    """A collection variable that one operation's answer sets and other
    operations' path parameters read."""

    name: str
    producer: str  # operationId whose success answer sets it
    pointer: str  # JSON pointer into that answer's body
    consumers: tuple[tuple[str, str], ...]  # (operationId, path parameter) that read it
    initial: str  # from the producer's answer example, so a lone request works too

    def description(self) -> str:
        readers = ", ".join(f"{op_id} as `{name}`" for op_id, name in self.consumers)
        return f"Set by {self.producer} from `{self.pointer}` of its answer; read by {readers}."


def path_variable(op: Operation, name: str) -> str:
    """The variable for a path parameter: its component's name when it is a `$ref`."""
    parameter = next((p for p in op.parameters_in("path") if p.name == name), None)
    return parameter.ref or name if parameter is not None else name


def link_variables(spec: ApiSpec) -> list[LinkVariable]:
    """One variable per linked path parameter; SpecError when two links set it from different places."""
    found: dict[str, LinkVariable] = {}
    for op in spec.operations:
        answer = op.responses[op.success_status]
        example = next(iter(answer.examples.values()), None)
        for link in answer.links:
            target = spec.operation(link.operation_id)
            for parameter, expression in link.parameters.items():
                pointer = response_body_pointer(expression) if isinstance(expression, str) else None
                if pointer is None:
                    continue
                name = path_variable(target, parameter)
                known = found.get(name)
                if known is not None and (known.producer, known.pointer) != (op.operation_id, pointer):
                    raise SpecError(
                        f"links set the path parameter {name} from two places: "
                        f"{known.producer} {known.pointer} and {op.operation_id} {pointer}"
                    )
                initial = at_pointer(example, pointer)
                found[name] = LinkVariable(
                    name=name,
                    producer=op.operation_id,
                    pointer=pointer,
                    consumers=(*(known.consumers if known else ()), (target.operation_id, parameter)),
                    initial="" if initial is None else str(initial),
                )
    return list(found.values())
