"""Moving a running case to another version of its procedure (an instance migration), and its preview.

SpiffWorkflow 3.2 gives the two halves (``SpiffWorkflow.bpmn.util.diff``): ``diff_workflow`` aligns
the case's tasks with the new version's task specs by element id, and ``migrate_workflow`` rebinds
them and resets the open ones (READY and WAITING) so that they are predicted again on the new
diagram; spiff-arena's process-instance migration does the same and refuses a case with a task
whose element is gone. Tramita adds what a legal case needs:

- the case moves only while it runs (not in error, suspended or concluded) and only when every open
  step, and every step it already went through, exists in the new version (its history is drawn on
  the new diagram);
- a reset restarts timers, so each deadline keeps the instant it had unless the new version computes
  it differently (another expression, or other legal parameters): then it is counted again from the
  case's data and its explanation says which version and why; a deadline that would already have
  passed is refused, to be handled by hand;
- the case takes the new version's parts (forms, lanes and groups, parameters) with its pin;
- one case, one transaction, one audit event (``instance_moved``) with the reason.

The preview runs the same migration in memory and writes nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import serializer
from engine.deploy import versions as deployments
from engine.errors import InvalidInput, NotFound
from engine.run import terms, timers
from engine.run.persist import _head, _Moved, _persist, _restore
from engine.run.runtime import Runtime
from engine.script import budget, sandbox
from engine.script.helpers import DeadlineLog, _computed
from engine.store.models import Definition, Instance, Task, Timer
from engine.store.states import EventKind, InstanceStatus, TimerStatus
from engine.store.statements import OPEN
from engine.time.calendar import HERMOSILLO

_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_ATTEMPTS = 3

_STATUS_REFUSALS = {
    InstanceStatus.ERROR: "El caso tiene un incidente sin resolver: resuélvalo antes de moverlo.",
    InstanceStatus.SUSPENDED: "El caso está suspendido: reanúdelo antes de moverlo.",
    InstanceStatus.COMPLETED: "El caso ya concluyó: no se mueve.",
    InstanceStatus.CANCELLED: "El caso fue cancelado: no se mueve.",
}


class MoveRefused(InvalidInput):
    """The case cannot move; nothing was changed. The message says why, in Spanish."""


@dataclass
class MovePreview:
    instance_id: int
    reference: str | None
    from_version: int
    to_version: int
    can_move: bool
    lines: list[str] = field(default_factory=list)  # Spanish: where each open step goes, what changes
    # Elements of its version, gone in the newest, that the case can still reach (issue 10: a fix it lacks)
    reachable_removed: list[str] = field(default_factory=list)


@dataclass
class _TimerChange:
    element: str
    title: str
    old: str
    new: str
    why: str


@dataclass
class _Plan:
    """A case migrated in memory: what the write needs, and what the preview says."""

    head: Any
    old: deployments.LoadedSpec
    new: deployments.LoadedSpec
    wf: BpmnWorkflow
    lines: list[str]
    refusals: list[str]
    changed: list[_TimerChange]
    parameters: list[str]


def _all(wf: BpmnWorkflow) -> list[Any]:
    found = list(wf.get_tasks())
    for sub in wf.subprocesses.values():
        found.extend(sub.get_tasks())
    return found


def _expression(task: Any) -> str | None:
    return getattr(getattr(task.task_spec, "event_definition", None), "expression", None)


def _iso(value: Any) -> str:
    """A timer's instant as its rows key it: a cycle's next occurrence, else the value itself."""
    return str(value["next"]) if isinstance(value, dict) else str(value)


def _local(value: Any) -> str:
    try:
        return timers._instant(str(value["next"] if isinstance(value, dict) else value)).astimezone(
            HERMOSILLO).strftime("%d/%m/%Y %H:%M")
    except (ValueError, KeyError, TypeError):
        return str(value)


def _changed_parameters(before: Any, after: Any, prefix: str = "") -> list[str]:
    """The parameter paths whose value differs (``orden_proteccion.emision_horas``)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after)):
            out += _changed_parameters(before.get(key), after.get(key), f"{prefix}.{key}" if prefix else str(key))
        if before.keys() >= {"value"} or after.keys() >= {"value"}:  # one parameter: name it once
            return [prefix] if out else []
        return out
    return [] if before == after else [prefix]


def _new_parameters(case: dict[str, Any] | None, old: deployments.LoadedSpec,
                    new: deployments.LoadedSpec) -> dict[str, Any] | None:
    """The case's ``parametros`` with its version's tables replaced by the new version's; the values by
    period it copied at start (the UMA) stay."""
    if case is None and not new.parts.parameters:
        return None
    out = copy.deepcopy(case or {})
    for name in set(old.parts.parameters) - set(new.parts.parameters):
        out.pop(name, None)
    for name, table in new.parts.parameters.items():
        kept = out.get(name)
        out[name] = ({**kept, **copy.deepcopy(table)} if isinstance(kept, dict) and isinstance(table, dict)
                     else copy.deepcopy(table))
    return out


_DETAILS: dict[tuple[int, int], dict[str, list[str]]] = {}


def _details(s: Session, old: deployments.LoadedSpec, target: Definition) -> dict[str, list[str]]:
    """Element id -> what changed in it between the two versions, in a lawyer's words (the studio's diff:
    "5 (parámetro …) días naturales → 10 días naturales"). Versions never change, so it is kept."""
    key = (old.definition_id, target.id)
    found = _DETAILS.get(key)
    if found is None:
        from engine.deploy import library
        from engine.deploy.diff import diff

        current = s.get(Definition, old.definition_id)
        try:
            changes = diff(target.key, current.version, library.source(s, current)[1], target.version,
                           library.source(s, target)[1], params=old.parts.toml("parameters"))
            found = {e.id: list(e.details) for e in changes.elements if e.change == "changed"}
        except Exception:  # noqa: BLE001 - the words are a courtesy: the expressions say it otherwise
            found = {}
        if len(_DETAILS) > 256:
            _DETAILS.clear()
        _DETAILS[key] = found
    return found


def _plan(rt: Runtime, s: Session, instance_id: int, target: Definition) -> _Plan:
    """Migrate the case in memory (inside a ``DeadlineLog``); refusals are collected, not raised."""
    head = _head(rt, s, instance_id)
    if head.definition_id == target.id:
        raise MoveRefused(f"El caso ya está en la versión {target.version}.", field="to_version")
    if head.process_key != target.key:
        raise InvalidInput(f"El caso {instance_id} es de «{head.process_key}», no de «{target.key}».",
                           field="instance")
    old, new = rt.specs.get(s, head.definition_id), rt.specs.get(s, target.id)
    wf = _restore(rt, s, instance_id, old)
    lines: list[str] = []
    refusals: list[str] = []
    if head.status in _STATUS_REFUSALS:  # said alone: nothing else matters until it runs again
        return _Plan(head, old, new, wf, lines, [_STATUS_REFUSALS[InstanceStatus(head.status)]], [], [])
    before = {t.id: (t.state, copy.deepcopy(t.data), dict(t.internal_data), _expression(t))
              for t in _all(wf) if t.state & _OPEN}
    titles = {t.id: t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY)}
    top, subs = diff_workflow(serializer.REGISTRY, wf, new.spec, new.subprocess_specs)
    gone = list(top.removed)
    altered = {t.id for t in top.changed} | {t.id for d in subs.values() if d is not None for t in d.changed}
    for sub_id, sub_diff in subs.items():
        if sub_diff is None:
            refusals.append(f"El subproceso en curso «{wf.subprocesses[sub_id].spec.name}» no existe en la "
                            f"versión {target.version}.")
        else:
            gone += sub_diff.removed
    named: set[str] = set()
    passed: list[str] = []
    inner = False  # an engine-internal step (a boundary split) of an element that is gone
    for task in sorted(gone, key=lambda x: not x.state & _OPEN):
        spec = task.task_spec
        if task.state & TaskState.PREDICTED_MASK or spec.name in named:
            continue  # a step not reached yet: the migration predicts the new diagram instead
        named.add(spec.name)
        if not getattr(spec, "bpmn_id", None):
            inner = True
            continue
        title = spec.bpmn_name or spec.bpmn_id
        if task.state & _OPEN:
            refusals.append(f"El paso abierto «{title}» ({spec.bpmn_id}) no existe en la versión "
                            f"{target.version}: el caso no puede moverse hasta que ese paso termine.")
        else:
            passed.append(f"«{title}» ({spec.bpmn_id})")
    if passed:
        refusals.append(f"El caso ya pasó por {', '.join(passed)}, que no existe en la versión {target.version}: "
                        "su historial no cabe en la nueva versión.")
    if inner and not refusals:
        refusals.append(f"El caso está en un paso cuya forma cambió en la versión {target.version}: no puede "
                        "moverse hasta que ese paso termine.")
    changed: list[_TimerChange] = []
    parameters: list[str] = []
    if refusals:
        return _Plan(head, old, new, wf, lines, refusals, changed, parameters)

    case_params = wf.data.get("parametros")
    params = _new_parameters(case_params, old, new)
    if params is not None:
        parameters = _changed_parameters(case_params or {}, params)
        wf.data["parametros"] = params
    limits = sandbox.limits_for(wf)
    with budget.limits_scope(limits), budget.transition_scope(limits):
        _migrate(top, wf, new.spec)
        for sub_id, sub_diff in subs.items():
            sub = wf.subprocesses[sub_id]
            _migrate(sub_diff, sub, new.subprocess_specs[sub.spec.name])
    wf.subprocess_specs = new.subprocess_specs
    for task in _all(wf):
        kept = before.get(task.id)
        if kept is None:
            continue
        state, data, internal, expression = kept
        task.data = data  # the reset copied the parent's data over what the open step held
        if expression is None:
            task.internal_data = internal
            continue
        element = task.task_spec.bpmn_id or task.task_spec.name
        title = task.task_spec.bpmn_name or element
        old_value, new_value = internal.get("event_value"), task._get_internal_data("event_value")
        new_expression = _expression(task)
        if new_expression != expression:
            words = "; ".join(_details(s, old, target).get(element, [])) or f"«{expression}» → «{new_expression}»"
            why = f"la versión {target.version} lo calcula de otro modo: {words}"
        elif parameters and new_value != old_value and not _duration(task):
            why = (f"la versión {target.version} cambia los parámetros legales "
                   f"({', '.join(parameters)})")
        else:
            why = ""
        if not why or new_value == old_value:
            task.internal_data = internal  # the instant stays as it was counted
            if task.state != state:
                task._set_state(state)
            lines.append(f"El plazo «{title}» se conserva: vence el {_local(old_value)}.")
            continue
        if task.state != TaskState.WAITING:
            refusals.append(f"Con la versión {target.version} el plazo «{title}» ya habría vencido "
                            f"({why}): mueva este caso a mano.")
            continue
        changed.append(_TimerChange(element, title, _iso(old_value), _iso(new_value), why))
        lines.append(f"El plazo «{title}» se recalcula: vencía el {_local(old_value)}, vencerá el "
                     f"{_local(new_value)}, porque {why}.")
    for task in _all(wf):
        if task.task_spec.name not in _specs(new):
            refusals.append(f"El paso «{task.task_spec.bpmn_name or task.task_spec.name}» no existe en la versión "
                            f"{target.version}.")
            break
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        title = task.task_spec.bpmn_name or task.task_spec.bpmn_id
        was = titles.get(task.id, title)
        how = (f" como «{title}»" if was != title else "") + (", con cambios en el paso" if task.id in altered else "")
        lines.insert(0, f"«{was}» sigue abierta en la versión {target.version}{how}.")
    return _Plan(head, old, new, wf, lines, refusals, changed, parameters)


def _migrate(diff: Any, workflow: Any, spec: Any) -> None:
    """``migrate_workflow``, keeping the workflow's last task: SpiffWorkflow 3.2 looks the task object up
    among the task ids (``workflow.last_task not in workflow.tasks``), so it always forgets it, and the
    case data (read from the last task's branch, ``serializer.case_data``) would be lost."""
    last = workflow.last_task
    migrate_workflow(diff, workflow, spec)
    if last is not None and workflow.tasks.get(last.id) is last:
        workflow.last_task = last
    elif last is not None:  # it was reset away: the branch the case waits on holds its data
        waiting = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING, skip_subprocesses=True)
        workflow.last_task = waiting[0].parent if waiting and waiting[0].parent is not None else None


def _duration(task: Any) -> bool:
    return timers._kind(task.task_spec.event_definition) == "duration"


def _specs(loaded: deployments.LoadedSpec) -> set[str]:
    names = set(loaded.spec.task_specs)
    for sub in loaded.subprocess_specs.values():
        names |= set(sub.task_specs)
    return names


def preview(rt: Runtime, s: Session, instance: Instance, target: Definition) -> MovePreview:
    """Where the case's open steps and deadlines land in ``target``, or why it cannot move."""
    current = s.get(Definition, instance.definition_id)
    with DeadlineLog(rt.calendar, rt.periods):
        plan = _plan(rt, s, instance.id, target)
    lines = plan.refusals or plan.lines or [f"El caso pasa a la versión {target.version} sin cambios en sus pasos."]
    if plan.parameters and not plan.refusals:
        lines.append("Toma los parámetros legales de la nueva versión (cambian: " + ", ".join(plan.parameters) + ").")
    return MovePreview(instance.id, instance.reference, current.version, target.version, not plan.refusals, lines)


@dataclass(frozen=True)
class MoveResult:
    instance_id: int
    reference: str | None
    moved: bool
    from_version: int | None
    to_version: int
    reason: str  # why it was refused ('' when it moved)
    lines: tuple[str, ...] = ()


def move(rt: Runtime, instance_id: int, target_id: int, user: str, reason: str) -> MoveResult:
    """Move one case to version ``target_id`` in its own transaction, or raise ``MoveRefused``."""
    for _attempt in range(_ATTEMPTS):
        with DeadlineLog(rt.calendar, rt.periods) as deadlines:
            with rt.db.read() as s:
                target = s.get(Definition, target_id)
                if target is None:
                    raise NotFound(f"La versión {target_id} no existe.", field="to_version")
                plan = _plan(rt, s, instance_id, target)
                if plan.refusals:
                    raise MoveRefused(" ".join(plan.refusals), field="instance")
                open_ids = set(_open_task_ids(s, instance_id))
                reference = s.execute(select(Instance.reference).where(Instance.id == instance_id)).scalar()
                explanations = _previous_explanations(s, instance_id)
            dues = _task_dues(rt, plan, open_ids)  # before the notes below: a dueDate records its entry again
            annotated: dict[Any, dict[str, Any]] = {}
            for change in plan.changed:
                entry = dict((_computed.get() or {}).get(change.new) or {})
                entry["rule"] = (f"Recalculado al mover el caso de la versión {plan.old.version} a la "
                                 f"{plan.new.version}, porque {change.why}; vencía el {_local(change.old)}. "
                                 + str(entry.get("rule", "")))
                entry["moved"] = {"from_version": plan.old.version, "to_version": plan.new.version,
                                  "why": change.why, "previous_due": change.old, "reason": reason}
                if change.element in explanations:
                    entry["previous"] = explanations[change.element]
                terms._explain(change.new, entry)
                try:
                    annotated[timers._instant(change.new)] = entry
                except ValueError:  # not an instant: no task takes its due date from it
                    pass
            dues = {k: (due, annotated.get(due, deadline)) for k, (due, deadline) in dues.items()}
            state = serializer.dump_state(plan.wf)
            detail = {"from_version": plan.old.version, "to_version": plan.new.version, "reason": reason,
                      "lines": plan.lines, "timers": [c.__dict__ for c in plan.changed],
                      "parameters": plan.parameters}
            try:
                with rt.db.write() as s:
                    i = Instance.__table__
                    if s.execute(update(i).where(i.c.id == instance_id, i.c.revision == plan.head.revision)
                                 .values(definition_id=target_id)).rowcount != 1:
                        raise _Moved()
                    _rebind_tasks(s, plan, dues)
                    _persist(rt, s, plan.head, plan.wf, plan.new, user, EventKind.INSTANCE_MOVED, detail, deadlines,
                             state=state)
            except _Moved:
                continue
        return MoveResult(instance_id, reference, True, plan.old.version, plan.new.version, "", tuple(plan.lines))
    raise MoveRefused("El caso cambió mientras se movía: inténtelo de nuevo.", field="instance")


def _open_task_ids(s: Session, instance_id: int) -> list[str]:
    return list(s.execute(select(Task.id).where(Task.instance_id == instance_id, Task.state == OPEN)).scalars())


def _previous_explanations(s: Session, instance_id: int) -> dict[str, Any]:
    rows = s.execute(select(Timer.task_name, Timer.deadline).where(
        Timer.instance_id == instance_id, Timer.status == TimerStatus.PENDING)).all()
    return {name: deadline for name, deadline in rows if deadline is not None}


def _task_dues(rt: Runtime, plan: _Plan, open_ids: set[str]) -> dict[str, tuple[datetime | None, Any]]:
    """The due date each open user task has on the new version (its boundary timers, else its ``dueDate``)."""
    out = {}
    for task in plan.wf.get_tasks(state=TaskState.READY, manual=True):
        if str(task.id) in open_ids:
            out[str(task.id)] = timers.due_for_task(rt, task, plan.new.task_info.get(task.task_spec.bpmn_id, {}))
    return out


def _rebind_tasks(s: Session, plan: _Plan, dues: dict[str, tuple[datetime | None, Any]]) -> None:
    """Open task rows take the new version's title, lane and group, and a due date it counts differently."""
    t = Task.__table__
    rows = {r.id: r for r in s.execute(select(t.c.id, t.c.due_at).where(
        t.c.instance_id == plan.head.id, t.c.state == OPEN)).all()}
    for task in plan.wf.get_tasks(state=TaskState.READY, manual=True):
        row = rows.get(str(task.id))
        if row is None:
            continue
        spec = task.task_spec
        lane = plan.new.task_info.get(spec.bpmn_id, {}).get("lane") or spec.lane
        values: dict[str, Any] = {"title": spec.bpmn_name, "lane": lane,
                                  "candidate_group": plan.new.parts.group_for_lane(lane)}
        due, deadline = dues.get(str(task.id), (None, None))
        if due != row.due_at:
            if deadline is not None and "moved" not in deadline:
                deadline = {**deadline, "rule": f"Recalculado al mover el caso de la versión {plan.old.version} a la "
                            f"{plan.new.version}, que calcula este vencimiento de otro modo. " + str(deadline.get("rule", ""))}
            values["due_at"], values["deadline"] = due, deadline
        s.execute(update(t).where(t.c.id == row.id).values(**values))
