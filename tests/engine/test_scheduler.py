"""The timer service on real databases, in real processes: exactly-once firing under concurrency and crashes.

Schedulers run as separate OS processes (``tramita scheduler``) against the test's database, on the
real clock; the instances are started through the engine API under a frozen clock set before their
due instant, so that every timer is pending when it is created and overdue when the schedulers look.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import func, select

from engine.time import clock
from engine.run import firing as timers
from engine.errors import InvalidInput
from engine.time.scheduler import TimerService
from tests.driver import Driver
from engine.store.models import Event, Instance, Task, Timer
from tests.diagrams import bundle, flows, process, user_task
from tests.engine.test_timers import boundary_process

UTC = timezone.utc
ROOT = Path(__file__).resolve().parents[2]
TRAMITA = Path(sys.executable).with_name("tramita")
COMMAND = [str(TRAMITA)] if TRAMITA.exists() else [sys.executable, "-m", "engine.cli"]

# start -> intermediate timeDate timer on the field `vence` -> user task -> end
WAIT = process("espera", "\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:intermediateCatchEvent id="vence"><bpmn:timerEventDefinition>'
    '<bpmn:timeDate>vence</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
    user_task("despues", "Después del plazo"), '<bpmn:endEvent id="fin"/>',
    flows(("start", "vence"), ("vence", "despues"), ("despues", "fin")),
]))


# --- helpers --------------------------------------------------------------------------------------


class Schedulers:
    """``tramita scheduler`` processes for one test; whatever is still running at the end is killed."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}

    def spawn(self, url: str, *, lease: float | None = None, interval: float = 0.2) -> subprocess.Popen[bytes]:
        env = {**os.environ, "TRAMITA_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        env.pop(timers.LEASE_ENV, None)
        if lease is not None:
            env[timers.LEASE_ENV] = str(lease)
        log = self.tmp_path / f"scheduler-{len(self.procs)}.log"
        with log.open("wb") as out:  # a file, not a pipe: thousands of log lines must never block the worker
            proc = subprocess.Popen([*COMMAND, "scheduler", "--interval", str(interval)], cwd=ROOT, env=env,
                                    stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self.logs[proc.pid] = log
        return proc

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        return self.logs[proc.pid].read_text(errors="replace")

    def check_alive(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None and proc.returncode != -signal.SIGKILL:
                pytest.fail(f"scheduler {proc.pid} exited with {proc.returncode}:\n{self.log(proc)[-3000:]}")

    def stop(self, proc: subprocess.Popen[bytes]) -> int:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=30)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def schedulers(tmp_path: Path) -> Iterator[Schedulers]:
    s = Schedulers(tmp_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def pg_url(pg_server, pg_template) -> str:  # type: ignore[no-untyped-def]
    return pg_server.create_database(f"t_{uuid.uuid4().hex[:12]}", template=pg_template)


def worker_of(proc: subprocess.Popen[bytes]) -> str:
    """The name ``engine.scheduler.worker_name`` gives that process."""
    return f"{socket.gethostname()}:{proc.pid}"


def wait_until(condition: Callable[[], bool], timeout: float, schedulers: Schedulers | None = None,
               every: float = 0.2, what: str = "condition") -> float:
    start = time.monotonic()
    while not condition():
        if schedulers is not None:
            schedulers.check_alive()
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what} not reached within {timeout} s")
        time.sleep(every)
    return time.monotonic() - start


def start_overdue(t: Driver, n: int, due: datetime) -> list[int]:
    """Start ``n`` instances through the API whose timer is due at ``due`` (started an hour before it)."""
    t.deploy([bundle("espera.bpmn", WAIT)], "d")
    with clock.frozen_at(due - timedelta(hours=1)):
        return [t.start("espera", {"vence": due.isoformat()}, "u").instance_id for _ in range(n)]


def status_counts(t: Driver) -> Counter[str]:
    with t.db.read() as s:
        return Counter(dict(s.execute(select(Timer.status, func.count()).group_by(Timer.status)).all()))


def pending_count(t: Driver) -> int:
    with t.db.read() as s:
        return int(s.execute(select(func.count()).select_from(Timer).where(Timer.status == "pending")).scalar_one())


def assert_each_fired_exactly_once(t: Driver, instance_ids: list[int]) -> None:
    n = len(instance_ids)
    with t.db.read() as s:
        assert status_counts(t) == Counter({"fired": n}), "every timer row fired, none left pending, no duplicates"
        assert s.execute(select(func.count()).select_from(Timer).where(Timer.fired_at.is_(None))).scalar_one() == 0
        per_instance = dict(s.execute(select(Event.instance_id, func.count()).where(Event.kind == "timer_fired")
                                      .group_by(Event.instance_id)).all())
        assert set(per_instance) == set(instance_ids)
        assert Counter(per_instance.values()) == Counter({1: n}), "each instance advanced exactly once"
        revisions = Counter(s.execute(select(Instance.revision).where(Instance.id.in_(instance_ids))).scalars())
        assert revisions == Counter({2: n}), "started (1) then fired (2): no other write"
        open_tasks = Counter(s.execute(select(Task.name).where(Task.state == "READY")).scalars())
        assert open_tasks == Counter({"despues": n})


# --- two schedulers, 5,000 timers -----------------------------------------------------------------


@pytest.mark.slow
def test_two_scheduler_processes_fire_5000_timers_exactly_once_on_postgresql(pg_url, schedulers) -> None:
    n = 5000
    t = Driver(pg_url)
    try:
        due = datetime.now(UTC).replace(microsecond=0)
        created = time.monotonic()
        ids = start_overdue(t, n, due)
        created = time.monotonic() - created
        assert pending_count(t) == n

        procs = [schedulers.spawn(pg_url) for _ in range(2)]
        took = wait_until(lambda: pending_count(t) == 0, 150, schedulers, every=0.5, what="all 5,000 fired")
        assert [schedulers.stop(p) for p in procs] == [0, 0]

        assert_each_fired_exactly_once(t, ids)
        with t.db.read() as s:
            by_worker = dict(s.execute(select(Timer.claimed_by, func.count()).group_by(Timer.claimed_by)).all())
        assert set(by_worker) == {worker_of(p) for p in procs} and all(by_worker.values()), by_worker
        for p in procs:
            assert "Traceback" not in schedulers.log(p)
        print(f"\n5,000 instances started in {created:.1f} s; fired in {took:.1f} s; per worker {by_worker}")
    finally:
        t.db.dispose()


# --- kill -9 mid-run ------------------------------------------------------------------------------


def test_a_killed_scheduler_is_replaced_and_every_timer_still_fires_exactly_once(db_url, schedulers) -> None:
    n, lease = 500, 2.0
    t = Driver(db_url)
    try:
        ids = start_overdue(t, n, datetime.now(UTC).replace(microsecond=0))
        first = schedulers.spawn(db_url, lease=lease, interval=0.1)
        dead = worker_of(first)

        def leased_by_dead() -> int:
            with t.db.read() as s:
                return int(s.execute(select(func.count()).select_from(Timer).where(
                    Timer.status == "pending", Timer.claimed_by == dead)).scalar_one())

        # Kill it in the middle of a batch: some fired, and some claimed by it but not yet fired.
        wait_until(lambda: status_counts(t)["fired"] >= 50 and leased_by_dead() > 0, 60, schedulers, every=0.01,
                   what="the first scheduler at work")
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        killed_at = datetime.now(UTC)
        fired_before = status_counts(t)["fired"]
        assert 0 < fired_before < n
        with t.db.read() as s:
            orphans = dict(s.execute(select(Timer.id, Timer.claimed_until).where(
                Timer.status == "pending", Timer.claimed_by == dead)).all())
        assert orphans, "the killed worker left leased rows behind"

        second = schedulers.spawn(db_url, lease=lease, interval=0.1)
        wait_until(lambda: pending_count(t) == 0, 60, schedulers, what="every timer fired after the restart")
        assert schedulers.stop(second) == 0

        assert_each_fired_exactly_once(t, ids)
        with t.db.read() as s:
            taken = s.execute(select(Timer.id, Timer.claimed_by, Timer.fired_at).where(Timer.id.in_(orphans))).all()
        for timer_id, worker, fired_at in taken:
            assert worker == worker_of(second)
            # The orphans waited for the dead worker's lease to run out; nobody stole them before.
            assert fired_at >= orphans[timer_id] >= killed_at - timedelta(seconds=lease)
        assert "Traceback" not in schedulers.log(second)
    finally:
        t.db.dispose()


# --- catch-up after downtime ----------------------------------------------------------------------


CAUGHT_UP = re.compile(r"caught up timer (\d+) of instance (\d+), (\d+) s late")


def test_timers_overdue_while_no_scheduler_ran_fire_at_start_up_and_say_how_late(db_url, schedulers) -> None:
    n, late = 20, timedelta(hours=2)
    t = Driver(db_url)
    try:
        ids = start_overdue(t, n, datetime.now(UTC).replace(microsecond=0) - late)
        # With 60 s between passes, only the pass at start-up can fire them before the deadline below.
        proc = schedulers.spawn(db_url, interval=60)
        wait_until(lambda: pending_count(t) == 0, 45, schedulers, every=0.1, what="catch-up on the first pass")
        assert schedulers.stop(proc) == 0

        assert_each_fired_exactly_once(t, ids)
        lines = CAUGHT_UP.findall(schedulers.log(proc))
        assert sorted(int(i) for _, i, _ in lines) == sorted(ids)
        with t.db.read() as s:
            rows = {r.id: r for r in s.execute(select(Timer)).scalars()}
        for timer_id, _, seconds in lines:
            row = rows[int(timer_id)]
            actual = (row.fired_at - row.due_at).total_seconds()
            assert abs(int(seconds) - actual) <= 1  # the log line is written just after the commit
            assert late.total_seconds() <= actual < late.total_seconds() + 120
    finally:
        t.db.dispose()


# --- tramita timers fire --as-of ------------------------------------------------------------------


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAMITA_DATABASE_URL": url}
    return subprocess.run([*COMMAND, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_timers_fire_as_of_processes_what_is_due_at_that_instant(db_url, frozen_clock) -> None:
    t = Driver(db_url)
    try:
        # Notified Friday 2026-12-18: 5 días hábiles end Monday 2026-12-28 at 23:59:59 Hermosillo.
        t.deploy([bundle("p.bpmn", boundary_process('plazo_habil(fecha_notificacion, 5)', interrupting=True))], "d")
        frozen_clock.set(datetime(2026, 12, 18, 17, 0, tzinfo=UTC))
        r = t.start("plazo", {"fecha_notificacion": "2026-12-18"}, "u")
        [timer] = [tm for tm in t.instance(r.instance_id).timers if tm.status == "pending"]

        before = run_cli(db_url, "timers", "fire", "--as-of", "2026-12-28T23:59:58-07:00")
        assert (before.returncode, before.stdout, before.stderr) == (0, "0 timer(s) fired\n", "")
        assert t.instance(r.instance_id).instance.revision == 1

        after = run_cli(db_url, "timers", "fire", "--as-of", "2026-12-29T00:00:00-07:00")
        assert after.returncode == 0, after.stderr
        assert after.stdout.splitlines() == [
            f"timer {timer.id} vence of instance {r.instance_id}: fired (1 s after due)", "1 timer(s) fired"]
        detail = t.instance(r.instance_id)
        assert [tk.name for tk in detail.tasks if tk.state == "READY"] == ["tras_vencimiento"]
        [fired] = [e for e in detail.events if e.kind == "timer_fired"]
        assert fired.at == datetime(2026, 12, 29, 7, 0, tzinfo=UTC)  # the clock was set to --as-of

        again = run_cli(db_url, "timers", "fire", "--as-of", "2027-01-31T00:00:00-07:00")
        assert (again.returncode, again.stdout) == (0, "0 timer(s) fired\n")
    finally:
        t.db.dispose()


@pytest.mark.parametrize("instant", ["mañana", "2026-13-45T00:00:00-07:00", "28/12/2026"])
def test_timers_fire_with_a_bad_instant_exits_2_with_one_line(tmp_path, instant) -> None:
    result = run_cli(f"sqlite:///{tmp_path / 'none.db'}", "timers", "fire", "--as-of", instant)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("tramita: --as-of is not an ISO 8601 instant") and repr(instant) in line


# --- the in-process service -----------------------------------------------------------------------


def test_timer_service_starts_fires_due_timers_and_stops(tramita, frozen_clock) -> None:
    tramita.deploy([bundle("p.bpmn", boundary_process('plazo_habil(fecha, 1)', interrupting=True))], "d")
    first = tramita.start("plazo", {"fecha": "2026-12-01"}, "u")  # due 2026-12-02 23:59:59 Hermosillo
    frozen_clock.set(datetime(2026, 12, 3, 7, 0, 1, tzinfo=UTC))  # one second after the deadline

    service = TimerService(tramita.runtime, interval=0.05)
    service.start()
    try:
        wait_until(lambda: service.fired_count == 1, 10, every=0.02, what="the service firing the due timer")
    finally:
        service.stop()
    assert not service._scheduler.running
    assert [tm.status for tm in tramita.instance(first.instance_id).timers] == ["fired"]

    # Stopped means stopped: a timer coming due afterwards waits for the next service or the CLI.
    second = tramita.start("plazo", {"fecha": "2026-12-10"}, "u")
    frozen_clock.advance(timedelta(days=30))
    time.sleep(0.3)
    assert service.fired_count == 1
    assert [tm.status for tm in tramita.instance(second.instance_id).timers] == ["pending"]
    assert [f.outcome for f in timers.fire_due(tramita.runtime)] == ["fired"]


# --- the lease ------------------------------------------------------------------------------------


def test_a_lease_keeps_other_workers_off_until_it_expires(tramita, frozen_clock, monkeypatch) -> None:
    monkeypatch.setenv(timers.LEASE_ENV, "30")
    tramita.deploy([bundle("p.bpmn", boundary_process('plazo_habil("2026-12-01", 1)', interrupting=True))], "d")
    tramita.start("plazo", {}, "u")
    frozen_clock.set(datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    rt = tramita.runtime
    [claimed] = timers.claim_due(rt, "a", frozen_clock.now())
    assert timers.claim_due(rt, "b", frozen_clock.now()) == []
    frozen_clock.advance(timedelta(seconds=29))
    assert timers.claim_due(rt, "b", frozen_clock.now()) == []
    frozen_clock.advance(timedelta(seconds=2))
    assert timers.claim_due(rt, "b", frozen_clock.now()) == [claimed]
    # The first worker's lease is gone: its attempt is a harmless skip, and b fires it once.
    assert timers.fire(rt, claimed, "a").outcome == "skipped"
    assert timers.fire(rt, claimed, "b").outcome == "fired"
    assert timers.fire(rt, claimed, "b").outcome == "skipped"


@pytest.mark.parametrize("value", ["0", "-5", "soon", "nan", "inf"])
def test_a_bad_lease_setting_is_refused_naming_the_variable(monkeypatch, value) -> None:
    monkeypatch.setenv(timers.LEASE_ENV, value)
    with pytest.raises(InvalidInput, match=timers.LEASE_ENV) as exc:
        timers.lease()
    assert exc.value.field == timers.LEASE_ENV


def test_the_default_lease_is_five_minutes(monkeypatch) -> None:
    monkeypatch.delenv(timers.LEASE_ENV, raising=False)
    assert timers.lease() == timedelta(minutes=5)
    monkeypatch.setenv(timers.LEASE_ENV, "2.5")
    assert timers.lease() == timedelta(seconds=2.5)


def test_the_scheduler_refuses_to_start_with_a_bad_lease(tmp_path) -> None:
    env = {**os.environ, "TRAMITA_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}", timers.LEASE_ENV: "five"}
    result = subprocess.run([*COMMAND, "scheduler"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    expected = f"tramita: {timers.LEASE_ENV} must be a positive number of seconds, not 'five'"
    assert result.stderr.splitlines()[-1] == expected
