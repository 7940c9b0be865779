"""Before moving a running case to a newer version: where its open tasks and timers would land, which
deadlines the new version computes differently, or why it cannot move (SpiffWorkflow's spec diff).

Only the preview is here; cases stay on the version they started on until they are moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import diff_workflow
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import serializer
from engine.deploy import library
from engine.deploy.diff import VersionDiff
from engine.store.models import Definition, Instance

_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class MovePreview:
    instance_id: int
    reference: str | None
    from_version: int
    to_version: int
    can_move: bool
    lines: list[str] = field(default_factory=list)  # Spanish: where each open step goes, what changes


def preview(session: Any, specs: Any, instance: Instance, target: Definition, changes: VersionDiff) -> MovePreview:
    current = session.get(Definition, instance.definition_id)
    out = MovePreview(instance.id, instance.reference, current.version, target.version, True)
    old = specs.get(session, current.id)
    new = specs.get(session, target.id)
    wf = serializer.load_state(instance.state, old.spec, old.subprocess_specs)
    top, subs = diff_workflow(serializer.REGISTRY, wf, new.spec, new.subprocess_specs)
    by_element = {e.id: e for e in changes.elements}
    removed = {t.task_spec.name for t in top.removed}
    for sub_id, sub_diff in subs.items():
        if sub_diff is None:
            out.can_move = False
            out.lines.append("Un subproceso en curso ya no existe en la nueva versión: el caso no puede moverse.")
        else:
            removed |= {t.task_spec.name for t in sub_diff.removed}
    for task in wf.get_tasks(state=_OPEN):
        spec = task.task_spec
        element = getattr(spec, "bpmn_id", None)
        if element is None:
            continue
        title = spec.bpmn_name or element
        if spec.name in removed:
            out.can_move = False
            out.lines.append(f"«{title}» ({element}) no existe en la versión {target.version}: el caso no puede "
                             "moverse hasta que ese paso termine.")
            continue
        change = by_element.get(element)
        if change is None:
            out.lines.append(f"«{title}» sigue igual en la versión {target.version}.")
        else:
            out.lines.append(f"«{title}» cambia: {'; '.join(change.details) or 'sus propiedades'}. Sus plazos se "
                             "vuelven a calcular con los datos del caso al moverlo.")
    if instance.status not in library.OPEN_STATUSES:
        out.can_move = False
        out.lines.insert(0, "El caso ya concluyó: no se mueve.")
    return out
