"""The clock belongs to an engine: a frozen-clock engine works beside the system clock without moving it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from engine.services import SYSTEM, FrozenClock
from engine.time import clock
from tests.diagrams import bundle, flows, process, user_task
from tests.driver import Driver

HMO = timezone(timedelta(hours=-7))

RELATIVE = process("relativo", "\n".join([
    '<bpmn:startEvent id="start"/>', user_task("resolver", "Resolver"),
    '<bpmn:boundaryEvent id="vence" attachedToRef="resolver" cancelActivity="true">'
    '<bpmn:timerEventDefinition><bpmn:timeDate>plazo_habil(hoy(), 5, "Ley art. 54")</bpmn:timeDate>'
    '</bpmn:timerEventDefinition></bpmn:boundaryEvent>',
    '<bpmn:endEvent id="fin"/>', '<bpmn:endEvent id="fin_vencido"/>',
    flows(("start", "resolver"), ("resolver", "fin"), ("vence", "fin_vencido")),
]))


def test_an_engine_on_a_frozen_clock_leaves_the_process_clock_alone(db_url: str) -> None:
    frozen = FrozenClock(datetime(2026, 12, 18, 10, 0, tzinfo=HMO))  # Friday 18 December 2026
    t = Driver(db_url, clock=frozen)
    t.deploy([bundle("r.bpmn", RELATIVE)], "d")
    before = datetime.now(timezone.utc)
    with t.bound():
        assert clock.now() == frozen.now()
        started = t.start("relativo", {}, "u")
        # Five días hábiles from Friday 18 December 2026: 21, 22, 23, 24 and (25 is Christmas,
        # 26-27 the weekend) 28 December: due Monday 28 December 2026 at 23:59:59 in Hermosillo.
        due = t.task(started.open_tasks[0]).due_at
        assert due == datetime(2026, 12, 28, 23, 59, 59, tzinfo=HMO)
        [event] = [e for e in t.instance(started.instance_id).events if e.kind == "instance_started"]
        assert event.at == frozen.now()
    # Outside the engine's binding, and in any other thread, time is the system's.
    seen: list[datetime] = []
    worker = threading.Thread(target=lambda: seen.append(clock.now()))
    with t.bound():
        worker.start()
        worker.join()
    assert seen[0] >= before and abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)
    t.db.dispose()


def test_advancing_an_engine_clock_fires_its_timers(db_url: str) -> None:
    frozen = FrozenClock(datetime(2026, 12, 18, 10, 0, tzinfo=HMO))
    t = Driver(db_url, clock=frozen)
    t.deploy([bundle("r.bpmn", RELATIVE)], "d")
    with t.bound():
        started = t.start("relativo", {}, "u")
    with t.bound():
        assert t.monitor.fire_due_timers(SYSTEM) == []  # on the engine clock the term still runs
    frozen.set(datetime(2026, 12, 29, 0, 0, tzinfo=HMO))  # one second after the term ended
    with t.bound():
        fired = t.monitor.fire_due_timers(SYSTEM)
    assert [f.outcome for f in fired] == ["fired"]
    assert t.instance(started.instance_id).instance.status == "completed"
    t.db.dispose()
