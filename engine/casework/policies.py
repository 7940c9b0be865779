"""Per-procedure access policy: who may start a procedure, and what a caseworker of another institution
sees of a case while one of its tasks is theirs.

It is written in ``workflows/lanes.toml`` as ``[policies.<process_key>]`` (organizational, like the lanes:
it follows the institutions' agreements, not a diagram version)::

    [policies.orden_proteccion]
    start_roles = ["caseworker"]                 # who may start it (default: caseworkers)
    start_groups = ["autoridad_emisora_orden"]   # and of which groups (default: any group)
    foreign_task_holder_sees = ["form", "instructions"]   # + "attachments", "documents"
    # ("form" is always granted: without it the task cannot be done; "instructions" may be withheld)
    foreign_task_holder_data = ["tipo_orden"]    # case data beyond what the task's form names

A procedure without a table keeps the defaults: any caseworker starts it; another institution's task
holder sees the form, the instructions and the case data the form names, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from engine.casework.people import UserView

# What a task holder of another institution may be granted beyond the form's own data.
SEES = frozenset({"form", "instructions", "attachments", "documents"})
DEFAULT_SEES = frozenset({"form", "instructions"})


@dataclass(frozen=True)
class ProcedurePolicy:
    start_roles: tuple[str, ...] = ("caseworker",)
    start_groups: tuple[str, ...] = ()  # empty: any group
    foreign_task_holder_sees: frozenset[str] = DEFAULT_SEES
    foreign_task_holder_data: tuple[str, ...] = ()

    def may_start(self, user: UserView) -> bool:
        if user.role not in self.start_roles:
            return False
        return not self.start_groups or bool(set(self.start_groups) & set(user.groups))

    def grants(self, part: str) -> bool:
        return part in self.foreign_task_holder_sees


def _strings(table: Mapping[str, Any], name: str, key: str) -> tuple[str, ...] | None:
    value = table.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"lanes.toml [policies.{key}] {name}: debe ser una lista de textos")
    return tuple(value)


def parse(key: str, table: Mapping[str, Any] | None) -> ProcedurePolicy:
    """The policy of one procedure from its ``[policies.<key>]`` table (``None``: the defaults).
    A misspelt entry is an error, not a silent grant or refusal."""
    if not table:
        return ProcedurePolicy()
    unknown = set(table) - {"start_roles", "start_groups", "foreign_task_holder_sees", "foreign_task_holder_data"}
    if unknown:
        raise ValueError(f"lanes.toml [policies.{key}]: clave desconocida {sorted(unknown)[0]!r}")
    sees = _strings(table, "foreign_task_holder_sees", key)
    if sees is not None and set(sees) - SEES:
        raise ValueError(f"lanes.toml [policies.{key}] foreign_task_holder_sees: valor desconocido "
                         f"{sorted(set(sees) - SEES)[0]!r} (valores: {', '.join(sorted(SEES))})")
    return ProcedurePolicy(start_roles=_strings(table, "start_roles", key) or ("caseworker",),
                           start_groups=_strings(table, "start_groups", key) or (),
                           foreign_task_holder_sees=frozenset(sees) if sees is not None else DEFAULT_SEES,
                           foreign_task_holder_data=_strings(table, "foreign_task_holder_data", key) or ())
