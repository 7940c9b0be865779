"""Running cases on an earlier version that a newer version changes: what each can still reach that is gone.

A fix reaches new cases only (a case keeps the version it started with). For each running,
suspended or failed case of a procedure on an older version, this lists the elements of its version
that the newest version no longer has and that the case can still reach from where it waits (e.g.
an order that can still lapse through «registrar_caducidad» without a new risk assessment), so that
it can be moved by an instance migration or handled by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import serializer
from engine.deploy import versions
from engine.store.db import Database
from engine.store.models import Instance

OPEN = ("running", "suspended", "error")


@dataclass(frozen=True)
class AffectedCase:
    instance_id: int
    reference: str | None
    status: str
    version: int
    latest_version: int
    waiting_at: list[str]  # where the case waits now (BPMN ids)
    reachable_removed: list[str]  # elements of its version, gone in the newest, it can still reach


def _ids(loaded: versions.LoadedSpec) -> dict[str, str]:
    """BPMN id -> name of every element in a version (subprocesses included)."""
    out = {}
    for spec in [loaded.spec, *loaded.subprocess_specs.values()]:
        for ts in spec.task_specs.values():
            if getattr(ts, "bpmn_id", None):
                out[ts.bpmn_id] = ts.bpmn_name or ts.bpmn_id
    return out


def _reachable(loaded: versions.LoadedSpec, start: set[str]) -> set[str]:
    """BPMN ids reachable from the task specs named in ``start`` (following outputs, into subprocesses)."""
    specs = [loaded.spec, *loaded.subprocess_specs.values()]
    by_name = {ts.name: ts for spec in specs for ts in spec.task_specs.values()}
    inner = {name: spec for name, spec in loaded.subprocess_specs.items()}
    seen: set[str] = set()
    stack = [by_name[n] for n in start if n in by_name]
    found: set[str] = set()
    while stack:
        ts = stack.pop()
        if ts.name in seen:
            continue
        seen.add(ts.name)
        if getattr(ts, "bpmn_id", None):
            found.add(ts.bpmn_id)
        stack.extend(ts.outputs)
        sub = inner.get(getattr(ts, "spec", None) or "")
        if sub is not None:
            stack.extend(sub.task_specs.values())
    return found


def affected(db: Database, specs: versions.SpecCache, key: str) -> tuple[int, list[AffectedCase]]:
    with db.read() as s:
        latest = versions.latest_process(s, key)
        newest = specs.get(s, latest.id)
        current = set(_ids(newest))
        rows = s.execute(select(Instance.id, Instance.reference, Instance.status, Instance.definition_id, Instance.state)
                         .where(Instance.process_key == key, Instance.status.in_(OPEN),
                                Instance.definition_id != latest.id).order_by(Instance.id)).all()
        out = []
        for iid, reference, status, definition_id, state in rows:
            loaded = specs.get(s, definition_id)
            removed = set(_ids(loaded)) - current
            wf = serializer.load_state(state, loaded.spec, loaded.subprocess_specs)
            live = [t for t in wf.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)]
            waiting = sorted({t.task_spec.bpmn_id for t in live if getattr(t.task_spec, "bpmn_id", None)})
            reach = _reachable(loaded, {t.task_spec.name for t in live}) & removed
            if reach:
                out.append(AffectedCase(iid, reference, status, loaded.version, latest.version, waiting,
                                        sorted(reach)))
    return latest.version, out
