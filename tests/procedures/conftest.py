"""Fixtures for the procedure scenarios: the real engine, the real diagrams, a clock we move.

Each scenario runs on a fresh copy of a database where ``workflows/`` was deployed once
per session (deploying is the slow part), so every test starts from the same state as a
fresh ``make run``. Most scenarios run on SQLite (fixture ``tramita_sqlite``); fixture
``tramita_any`` runs the scenario on SQLite and on the PostgreSQL server the session starts.

Every instant in these tests is written in Hermosillo time (UTC−7, no DST) because that is
how the articles' deadlines are read; the engine stores UTC.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from SpiffWorkflow.util.task import TaskState

from engine.run import firing as timers
from engine.time.clock import FrozenClock
from engine.store.db import Database
from engine.store.models import Instance

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
FORMS = WORKFLOWS / "forms"
HMO = timezone(timedelta(hours=-7))
USER = "pruebas"
WORKER = "pruebas-scheduler"


def hmo(text: str) -> datetime:
    """An instant written as in the articles' reading: ``2026-12-28T23:59:59`` is Hermosillo time."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=HMO)


def example(form: str, index: int = 0, **changes: Any) -> dict[str, Any]:
    """A documented example of a form (``examples`` in its schema), optionally changed."""
    schema = json.loads((FORMS / f"{form}.schema.json").read_text(encoding="utf-8"))
    data = json.loads(json.dumps(schema["examples"][index]))
    for key, value in changes.items():
        if value is DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


DROP = object()


# --- databases with the workflows deployed -----------------------------------------------------------

def _deploy(url: str) -> None:
    from tests.driver import Driver

    t = Driver(url)
    t.deploy_paths([WORKFLOWS], "instalacion")
    t.db.dispose()


@pytest.fixture(scope="session")
def deployed_sqlite(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    path = tmp_path_factory.mktemp("procedures") / "deployed.db"
    shutil.copy(sqlite_template, path)
    _deploy(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    with db.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def deployed_pg(pg_server: Any, pg_template: str) -> str:
    name = "tramita_procedures"
    url = pg_server.create_database(name, template=pg_template)
    _deploy(url)
    return name


def _sqlite_url(tmp_path: Path, deployed: Path) -> str:
    path = tmp_path / "tramita.db"
    shutil.copy(deployed, path)
    return f"sqlite:///{path}"


@pytest.fixture
def tramita_sqlite(tmp_path: Path, deployed_sqlite: Path) -> Iterator[Any]:
    from tests.driver import Driver

    t = Driver(_sqlite_url(tmp_path, deployed_sqlite))
    yield t
    t.db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def tramita_any(request: pytest.FixtureRequest, tmp_path: Path, deployed_sqlite: Path) -> Iterator[Any]:
    from tests.driver import Driver

    if request.param == "sqlite":
        url = _sqlite_url(tmp_path, deployed_sqlite)
    else:
        server = request.getfixturevalue("pg_server")
        template = request.getfixturevalue("deployed_pg")
        url = server.create_database(f"p_{uuid.uuid4().hex[:12]}", template=template)
    t = Driver(url)
    yield t
    t.db.dispose()


# --- driving a case --------------------------------------------------------------------------------

@dataclass
class Case:
    """One instance of a procedure, driven through the public engine API at chosen instants."""

    t: Any
    clock: FrozenClock
    id: int
    key: str
    fired: list[Any] = field(default_factory=list)

    # time
    def at(self, instant: str) -> "Case":
        self.clock.set(hmo(instant))
        return self

    def fire(self, instant: str) -> list[Any]:
        """What ``tramita timers fire --as-of INSTANT`` does, with the clock at that instant too."""
        when = hmo(instant)
        self.clock.set(when)
        fired = timers.fire_due(self.t.runtime, as_of=when, worker=WORKER)
        self.fired.extend(fired)
        return fired

    # tasks
    def open(self) -> list[str]:
        return sorted(t.name for t in self.t.tasks(instance_id=self.id))

    def task(self, name: str) -> Any:
        found = [t for t in self.t.tasks(instance_id=self.id) if t.name == name]
        assert len(found) == 1, f"expected one open {name!r}, open tasks: {self.open()}"
        return found[0]

    def do(self, name: str, data: dict[str, Any], at: str | None = None) -> "Case":
        if at:
            self.at(at)
        self.t.complete(self.task(name).id, data, USER)
        return self

    def send(self, message: str, payload: dict[str, Any], at: str | None = None) -> "Case":
        if at:
            self.at(at)
        self.t.send_message(self.id, message, payload, USER)
        return self

    # what happened
    def detail(self) -> Any:
        return self.t.instance(self.id)

    @property
    def status(self) -> str:
        return self.detail().instance.status

    def data(self) -> dict[str, Any]:
        return self.detail().data

    def all_tasks(self, name: str | None = None) -> list[Any]:
        return [t for t in self.detail().tasks if name is None or t.name == name]

    def timers(self, name: str, status: str | None = "pending") -> list[Any]:
        return [t for t in self.detail().timers if t.task_name == name and (status is None or t.status == status)]

    def timer(self, name: str) -> Any:
        found = self.timers(name)
        assert len(found) == 1, f"expected one pending timer {name!r}: {[(t.task_name, t.status) for t in self.detail().timers]}"
        return found[0]

    def reached(self) -> set[str]:
        """Every element (task, event, gateway) the instance has completed, subprocesses included."""
        return set(self.t.diagram(self.id).completed)

    def workflow(self) -> Any:
        """The stored workflow, restored as the engine restores it (read-only use)."""
        from engine.bpmn import safe_xml, serializer

        with self.t.db.read() as s:
            row = s.get(Instance, self.id)
            loaded = self.t.runtime.specs.get(s, row.definition_id)
            return serializer.load_state(row.state, loaded.spec, loaded.subprocess_specs)

    def values(self, element: str, key: str) -> list[Any]:
        """``key`` as each completed run of ``element`` left it (works across parallel branches)."""
        runs = [t for t in self.workflow().get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == element]
        runs.sort(key=lambda t: t.last_state_change)
        return [t.data[key] for t in runs if key in t.data]

    def value(self, element: str, key: str) -> Any:
        found = self.values(element, key)
        assert found, f"{element} never completed with {key!r}"
        return found[-1]


@pytest.fixture
def start(frozen_clock: FrozenClock) -> Any:
    """``start(t, key, data, at)`` -> :class:`Case`, with the engine's clock at ``at``."""

    def _start(t: Any, key: str, data: dict[str, Any], at: str) -> Case:
        frozen_clock.set(hmo(at))
        r = t.start(key, data, USER)
        return Case(t, frozen_clock, r.instance_id, key)

    return _start


def deadline_days(deadline: dict[str, Any]) -> list[tuple[str, str]]:
    """The skipped días inhábiles of a stored deadline explanation, as (date, reason)."""
    return [(s["day"], s["reason"]) for s in deadline["skipped"]]


def local(value: datetime) -> str:
    """A stored instant as Hermosillo ISO text, for comparing with hand-computed literals."""
    return value.astimezone(HMO).isoformat()
