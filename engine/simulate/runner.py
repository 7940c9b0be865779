"""Run a scenario on a throwaway engine: its own temporary database, its own frozen clock.

The clock advances act by act; before each act every timer due by then fires, earliest first, at
its due instant, as the scheduler would fire it. The result is a timeline of what happened (each act,
each task opened with its deadline and explanation, each timer armed and fired, the end) and the
expectations that failed, each with what was expected and what happened.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from engine.deploy import versions
from engine.deploy.versions import BundleFile
from engine.errors import InvalidInput, TramitaError
from engine.run import firing, transitions
from engine.run.runtime import Runtime
from engine.simulate.scenario import HERMOSILLO, Scenario, resolve_data
from engine.store.db import Database
from engine.store import accounts as _accounts  # noqa: F401  (its tables belong to the schema)
from engine.store.models import Base, Definition, Instance, Task, Timer
from engine.store.states import TaskState as RowState, TimerStatus
from engine.time import calendar, clock
from engine.time.deadline import long_date

ACTOR = "simulador"


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # acto, tarea, plazo, temporizador, disparo, fin, error
    element: str
    text: str
    deadline: dict[str, Any] | None = None


@dataclass
class Result:
    scenario: Scenario
    timeline: list[Entry] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    deadlines: dict[str, datetime] = field(default_factory=dict)  # element -> last due instant computed
    ends: list[str] = field(default_factory=list)
    status: str = ""
    flows: set[tuple[str, str]] = field(default_factory=set)  # (source, target) element ids taken
    completed: set[str] = field(default_factory=set)

    @property
    def passed(self) -> bool:
        return not self.failures


def local(value: datetime) -> str:
    """An instant as the scenario file writes it (the failures quote the file's own syntax)."""
    return value.astimezone(HERMOSILLO).isoformat(timespec="seconds")


def for_people(value: datetime) -> str:
    """An instant as the timeline shows it to a designer: «lunes 28 de diciembre de 2026 a las 23:59:59»."""
    here = value.astimezone(HERMOSILLO)
    return f"{long_date(here.date())} a las {here:%H:%M:%S}"


def run(scenario: Scenario, files: Sequence[BundleFile]) -> Result:
    """Run ``scenario`` against the procedure ``files`` (a deployed version's or a draft's)."""
    forms = {f.name.removesuffix(".json").removesuffix(".schema"): json.loads(f.content)
             for f in files if f.name.endswith(".json")}
    result = Result(scenario)
    template = _deployed_template(files)
    with tempfile.TemporaryDirectory(prefix="tramita-sim-") as tmp:
        shutil.copy(template, Path(tmp) / "sim.db")
        db = Database(f"sqlite:///{Path(tmp) / 'sim.db'}")
        try:
            frozen = clock.FrozenClock(scenario.start_at)
            rt = Runtime(db, clock=frozen)
            if scenario.extra_days:  # the calendar in force (deployed with the bundle) plus the declared days
                rt.own_calendar = calendar.with_days(rt.calendar()[1], scenario.extra_days)
            with clock.using(frozen):
                _play(rt, frozen, scenario, forms, result)
        finally:
            db.dispose()
    _check(result)
    return result


_TEMPLATES: dict[str, Path] = {}
_TEMPLATE_DIR: tempfile.TemporaryDirectory[str] | None = None
_TEMPLATE_LOCK = threading.Lock()


def _deployed_template(files: Sequence[BundleFile]) -> Path:
    """A database with the schema and ``files`` deployed, made once per process and bundle: deploying
    (parsing and checking every diagram) costs seconds, copying the file milliseconds."""
    global _TEMPLATE_DIR
    key = hashlib.sha256(b"".join(f.name.encode() + b"\0" + f.sha256.encode() for f in
                                  sorted(files, key=lambda f: f.name))).hexdigest()
    with _TEMPLATE_LOCK:
        if key not in _TEMPLATES:
            if _TEMPLATE_DIR is None:
                _TEMPLATE_DIR = tempfile.TemporaryDirectory(prefix="tramita-sim-templates-")
            path = Path(_TEMPLATE_DIR.name) / f"{key}.db"
            db = Database(f"sqlite:///{path}")
            try:
                Base.metadata.create_all(db.engine)
                versions.deploy(db, files, ACTOR)
                with db.engine.connect() as c:
                    c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                db.dispose()
            _TEMPLATES[key] = path
        return _TEMPLATES[key]


def _play(rt: Runtime, frozen: clock.FrozenClock, sc: Scenario, forms: dict[str, Any], result: Result) -> None:
    seen: set[str] = set()
    try:
        started = transitions.start(rt, sc.procedure, resolve_data(sc.start_data, forms, f"{sc.path}: inicio"),
                                    ACTOR, reference="SIMULACION")
    except TramitaError as exc:
        result.failures.append(f"el caso no inició: {exc.message}")
        return
    iid = started.instance_id
    result.timeline.append(Entry(sc.start_at, "acto", sc.procedure, "Inicio del caso"))
    _observe(rt, iid, frozen.now(), result, seen)
    for number, act in enumerate(sc.acts, 1):
        _pass_time(rt, frozen, iid, act.at, result, seen)
        frozen.set(act.at)
        where = f"acto {number} ({local(act.at)})"
        try:
            if act.complete:
                task = _open_task(rt, iid, act.complete)
                if task is None:
                    result.failures.append(f"{where}: no hay tarea abierta «{act.complete}»; abiertas: "
                                           f"{', '.join(_open(rt, iid)) or 'ninguna'}")
                    break
                transitions.complete_task(rt, task.id, resolve_data(act.data, forms, f"{sc.path}: {where}"), ACTOR)
                result.timeline.append(Entry(act.at, "acto", act.complete, f"Completa «{task.title or task.name}»"))
            elif act.message:
                transitions.send_message(rt, iid, act.message, resolve_data(act.data, forms, f"{sc.path}: {where}"),
                                         ACTOR)
                result.timeline.append(Entry(act.at, "acto", act.message, f"Registra el evento «{act.message}»"))
        except TramitaError as exc:
            result.timeline.append(Entry(act.at, "error", act.complete or act.message or "", exc.message))
            result.failures.append(f"{where}: {exc.message}")
            break
        if act.complete or act.message:  # an act that only lets time pass changed nothing since the timers fired
            _observe(rt, iid, act.at, result, seen)
        if act.open_after is not None:
            actual = sorted(_open(rt, iid))
            if sorted(act.open_after) != actual:
                result.failures.append(f"{where}: se esperaban abiertas {sorted(act.open_after)}, "
                                       f"están abiertas {actual}")
    _finish(rt, iid, result)


def _pass_time(rt: Runtime, frozen: clock.FrozenClock, iid: int, until: datetime, result: Result,
               seen: set[str]) -> None:
    """Fire, earliest first and each at its own instant, every timer that fires by ``until``: a term's last
    second still belongs to it, so a timer due at ``until`` itself has not fired yet at that instant."""
    for _ in range(10_000):
        with rt.db.read() as s:
            due = s.execute(select(Timer.due_at).where(Timer.instance_id == iid, Timer.status == TimerStatus.PENDING,
                                                       Timer.due_at <= until - timedelta(seconds=1))
                                .order_by(Timer.due_at).limit(1)).scalar()
        if due is None:
            return
        # A term's last second still belongs to it: its timer fires the second after it ends.
        frozen.set(max(due + timedelta(seconds=1), frozen.now()))
        for fired in firing.fire_due(rt, as_of=frozen.now(), worker=ACTOR):
            if fired.outcome == "fired":
                result.timeline.append(Entry(frozen.now(), "disparo", fired.task_name,
                                             f"Vence y se dispara «{fired.task_name}»"))
        _observe(rt, iid, frozen.now(), result, seen)
    raise InvalidInput("más de 10 000 temporizadores en un escenario: revise los ciclos", field="actos")


def _open_task(rt: Runtime, iid: int, name: str) -> Task | None:
    with rt.db.read() as s:
        return s.execute(select(Task).where(Task.instance_id == iid, Task.name == name, Task.state == RowState.READY)
                         .limit(1)).scalar()


def _open(rt: Runtime, iid: int) -> list[str]:
    with rt.db.read() as s:
        return list(s.execute(select(Task.name).where(Task.instance_id == iid, Task.state == RowState.READY)).scalars())


def _observe(rt: Runtime, iid: int, at: datetime, result: Result, seen: set[str]) -> None:
    """New tasks and timers since the last look, with their deadlines."""
    with rt.db.read() as s:
        for t in s.execute(select(Task).where(Task.instance_id == iid).order_by(Task.created_at)).scalars():
            if f"t{t.id}" in seen:
                continue
            seen.add(f"t{t.id}")
            text = f"Se abre «{t.title or t.name}»" + (f"; vence el {for_people(t.due_at)}" if t.due_at else "")
            result.timeline.append(Entry(at, "tarea", t.name, text, t.deadline))
            if t.due_at:
                result.deadlines[t.name] = t.due_at
        for tm in s.execute(select(Timer).where(Timer.instance_id == iid).order_by(Timer.id)).scalars():
            if f"m{tm.id}" in seen:
                continue
            seen.add(f"m{tm.id}")
            result.timeline.append(Entry(at, "temporizador", tm.task_name,
                                         f"Corre el plazo «{tm.task_name}»: vence el {for_people(tm.due_at)}", tm.deadline))
            result.deadlines[tm.task_name] = tm.due_at


def _finish(rt: Runtime, iid: int, result: Result) -> None:
    """The end reached, and the path taken, read from SpiffWorkflow's task tree.

    A task of the tree was *reached* when it completed, is waiting or open, or was opened as a task
    of the inbox (a user task a boundary timer later cancelled was reached all the same). The tree's
    parent of a reached task is the task that created it, so the nearest ancestor that is a diagram
    element (skipping Spiff's hidden Start, BoundaryEventSplit and EndJoin specs) is where the token
    came from: the pair (that ancestor, the task) is a transition taken. A pair names a sequence flow
    when the diagram has one from the first to the second (the coverage test checks that; a boundary
    event's pair with its host names no flow).
    """
    with rt.db.read() as s:
        inst = s.get(Instance, iid)
        info = s.get(Definition, inst.definition_id).task_info or {}
        state = json.loads(inst.state)
        opened = set(s.execute(select(Task.id).where(Task.instance_id == iid)).scalars())
    result.status = inst.status
    tasks = {tid: t for tid, t in state.get("tasks", {}).items()}
    for sp in state.get("subprocesses", {}).values():
        tasks.update(sp.get("tasks", {}))
    alive = (TaskState.COMPLETED, TaskState.READY, TaskState.WAITING, TaskState.STARTED)
    reached = {tid for tid, t in tasks.items() if t["state"] in alive or tid in opened}
    for tid in reached:
        name = tasks[tid]["task_spec"]
        if name not in info:
            continue
        if tasks[tid]["state"] == TaskState.COMPLETED:
            result.completed.add(name)
            if info[name].get("type") == "EndEvent":
                result.ends.append(name)
        parent = tasks[tid].get("parent")
        while parent and parent in tasks and tasks[parent]["task_spec"] not in info:
            parent = tasks[parent].get("parent")
        if parent and parent in tasks and tasks[parent]["state"] == TaskState.COMPLETED:
            result.flows.add((tasks[parent]["task_spec"], name))
    result.ends = sorted(set(result.ends))
    result.timeline.append(Entry(clock.now(), "fin", ",".join(result.ends) or "-",
                                 f"Estado del caso: {inst.status}; fin alcanzado: {', '.join(result.ends) or 'ninguno'}"))


def _check(result: Result) -> None:
    sc = result.scenario
    for expected in sc.deadlines:
        actual = result.deadlines.get(expected.element)
        if actual is None:
            result.failures.append(f"plazo «{expected.element}»: se esperaba que venciera {local(expected.due)}, "
                                   "pero no se computó")
        elif actual != expected.due:
            result.failures.append(f"plazo «{expected.element}»: se esperaba {local(expected.due)}, "
                                   f"se computó {local(actual)}")
    if sc.end is not None and sc.end not in result.ends:
        result.failures.append(f"fin: se esperaba «{sc.end}», se alcanzó {', '.join(result.ends) or 'ninguno'} "
                               f"(estado {result.status})")
    if sc.status is not None and sc.status != result.status:
        result.failures.append(f"estado: se esperaba {sc.status}, quedó {result.status}")
