from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from engine.errors import Conflict, ExecutionFailed, InvalidInput, InvalidState, NotFound
from engine.store.models import Event, Incident, Instance, Task
from tests.diagrams import FAILING_SCRIPT, GATEWAY, PARALLEL, TWO_TASKS, bundle


@pytest.fixture
def two(tramita):  # type: ignore[no-untyped-def]
    tramita.deploy([bundle("two.bpmn", TWO_TASKS)], "d")
    return tramita


def rows(tramita, model, **where):  # type: ignore[no-untyped-def]
    with tramita.db.read() as s:
        q = select(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return list(s.execute(q).scalars())


def test_start_materializes_tasks_and_audits(two) -> None:
    r = two.start("two_tasks", {"expediente": "ISM-1"}, "ana", reference="ISM-1")
    assert r.status == "running" and len(r.open_tasks) == 1
    task = two.task(r.open_tasks[0])
    assert (task.name, task.title, task.state) == ("a", "Primera", "READY")
    events = rows(two, Event, instance_id=r.instance_id)
    assert [e.kind for e in events] == ["instance_started"]
    assert events[0].actor == "ana" and events[0].detail["data"] == {"expediente": "ISM-1"}


def test_state_is_stored_without_the_spec(two) -> None:
    r = two.start("two_tasks", {}, "ana")
    inst = rows(two, Instance, id=r.instance_id)[0]
    state = json.loads(inst.state)
    assert "spec" not in state and "subprocess_specs" not in state
    assert "task_specs" not in inst.state


def test_complete_runs_to_the_end_and_records_who(two) -> None:
    r = two.start("two_tasks", {}, "ana")
    r2 = two.complete(r.open_tasks[0], {"x": 1}, "beto")
    r3 = two.complete(r2.open_tasks[0], {"y": 2}, "carla")
    assert r3.status == "completed" and r3.open_tasks == []
    done = sorted(rows(two, Task, instance_id=r.instance_id), key=lambda t: t.created_at)
    assert [(t.name, t.state, t.completed_by) for t in done] == [("a", "COMPLETED", "beto"), ("b", "COMPLETED", "carla")]
    detail = two.instance(r.instance_id)
    assert detail.data["x"] == 1 and detail.data["y"] == 2
    assert [e.kind for e in detail.events] == ["instance_started", "task_completed", "task_completed"]
    assert detail.events[1].detail["changes"] == {"x": 1}
    assert detail.instance.ended_at is not None


def test_gateway_takes_the_branch_the_data_chooses(tramita) -> None:
    tramita.deploy([bundle("gw.bpmn", GATEWAY)], "d")
    big = tramita.start("gateway", {}, "u")
    small = tramita.start("gateway", {}, "u")
    assert tramita.task(tramita.complete(big.open_tasks[0], {"amount": 500}, "u").open_tasks[0]).name == "big"
    assert tramita.task(tramita.complete(small.open_tasks[0], {"amount": 5}, "u").open_tasks[0]).name == "small"


@pytest.mark.parametrize("task_id, error", [("not-a-uuid", NotFound), ("00000000-0000-0000-0000-000000000000", NotFound)])
def test_unknown_task_is_refused(two, task_id: str, error: type) -> None:
    with pytest.raises(error, match="does not exist"):
        two.complete(task_id, {}, "u")


@pytest.mark.parametrize("data", [[1, 2], "text", 3, None])
def test_data_must_be_an_object(two, data) -> None:  # type: ignore[no-untyped-def]
    r = two.start("two_tasks", {}, "u")
    with pytest.raises(InvalidInput, match="JSON object") as exc:
        two.complete(r.open_tasks[0], data, "u")
    assert exc.value.field == "data"
    with pytest.raises(InvalidInput):
        two.start("two_tasks", data, "u")


def test_unknown_process_key(two) -> None:
    with pytest.raises(NotFound, match="unknown process key 'nope'") as exc:
        two.start("nope", {}, "u")
    assert exc.value.field == "key"


def test_completing_a_finished_task_is_a_conflict_and_writes_nothing(two) -> None:
    r = two.start("two_tasks", {}, "u")
    two.complete(r.open_tasks[0], {"x": 1}, "u")
    before = len(rows(two, Event, instance_id=r.instance_id))
    with pytest.raises(Conflict, match="already completed"):
        two.complete(r.open_tasks[0], {"x": 2}, "u")
    assert len(rows(two, Event, instance_id=r.instance_id)) == before
    assert two.instance(r.instance_id).data["x"] == 1


def test_two_users_complete_the_same_task_at_once_exactly_one_wins(two) -> None:
    r = two.start("two_tasks", {}, "u")
    task_id = r.open_tasks[0]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def attempt(user: str) -> None:
        barrier.wait()
        try:
            two.complete(task_id, {"by": user}, user)
            outcomes[user] = "ok"
        except Conflict as exc:
            outcomes[user] = exc

    threads = [threading.Thread(target=attempt, args=(u,)) for u in ("ana", "beto")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [u for u, o in outcomes.items() if o == "ok"]
    assert len(winners) == 1, outcomes
    loser = next(u for u in outcomes if u not in winners)
    assert isinstance(outcomes[loser], Conflict)
    detail = two.instance(r.instance_id)
    assert detail.data["by"] == winners[0]
    assert [e.actor for e in detail.events if e.kind == "task_completed"] == winners
    assert detail.instance.revision == 2


def test_failing_script_puts_instance_in_error_keeps_the_users_work_and_retry_recovers(tramita) -> None:
    tramita.deploy([bundle("f.bpmn", FAILING_SCRIPT)], "d")
    r = tramita.start("failing", {}, "u")
    with pytest.raises(ExecutionFailed, match="division by zero"):
        tramita.complete(r.open_tasks[0], {"boom": True}, "ana")
    detail = tramita.instance(r.instance_id)
    assert detail.instance.status == "error"
    assert [(i.task_name, i.resolved_at) for i in detail.incidents] == [("calc", None)]
    assert "division by zero" in detail.incidents[0].message
    # the user's completion was kept, nothing past it was applied
    assert detail.data["boom"] is True and "result" not in detail.data
    assert [t.state for t in detail.tasks] == ["COMPLETED"]
    with pytest.raises(Conflict, match="already completed"):
        tramita.complete(r.open_tasks[0], {}, "ana")
    # retry while the cause is still there: still in error, a second incident
    with pytest.raises(ExecutionFailed):
        tramita.retry(r.instance_id, "admin")
    assert tramita.instance(r.instance_id).instance.status == "error"


def test_retry_after_the_cause_is_fixed(tramita) -> None:
    """The cause here is data: an operator fixes the case data through the engine API, then retries."""
    tramita.deploy([bundle("f.bpmn", FAILING_SCRIPT)], "d")
    r = tramita.start("failing", {}, "u")
    with pytest.raises(ExecutionFailed):
        tramita.complete(r.open_tasks[0], {"boom": True}, "ana")
    tramita.retry(r.instance_id, "admin", data={"boom": False})
    detail = tramita.instance(r.instance_id)
    assert detail.instance.status == "running"
    assert detail.data["result"] == 42
    assert all(i.resolved_at is not None for i in detail.incidents)
    assert [t.name for t in detail.tasks if t.state == "READY"] == ["b"]


def test_cancel_suspend_resume(two) -> None:
    r = two.start("two_tasks", {}, "u")
    two.suspend(r.instance_id, "jefa", "en revisión")
    with pytest.raises(InvalidState, match="suspended"):
        two.complete(r.open_tasks[0], {}, "u")
    with pytest.raises(InvalidState):
        two.suspend(r.instance_id, "jefa")
    two.resume(r.instance_id, "jefa")
    two.complete(r.open_tasks[0], {}, "u")
    c = two.cancel(r.instance_id, "jefa", "duplicado")
    assert c.status == "cancelled" and c.open_tasks == []
    tasks = rows(two, Task, instance_id=r.instance_id)
    assert sorted(t.state for t in tasks) == ["CANCELLED", "COMPLETED"]
    kinds = [e.kind for e in two.instance(r.instance_id).events]
    assert kinds == ["instance_started", "instance_suspended", "instance_resumed", "task_completed",
                     "instance_cancelled"]
    with pytest.raises(InvalidState):
        two.cancel(r.instance_id, "jefa")


def test_list_instances_with_filters(two) -> None:
    a = two.start("two_tasks", {}, "u")
    b = two.start("two_tasks", {}, "u")
    two.cancel(b.instance_id, "u")
    assert [i.id for i in two.instances(status="running")] == [a.instance_id]
    assert [i.id for i in two.instances(process_key="two_tasks")] == [b.instance_id, a.instance_id]
    assert two.count_instances("cancelled") == 1


def test_inbox_query_by_user_and_group(two) -> None:
    r = two.start("two_tasks", {}, "u")
    assert two.tasks(user="nadie") == []
    with two.db.write() as s:
        s.get(Task, r.open_tasks[0]).candidate_group = "instituto"
    assert [t.id for t in two.tasks(user="ana", groups=["instituto"])] == r.open_tasks


def test_two_tasks_of_one_instance_completed_at_once_both_succeed(tramita) -> None:  # type: ignore[no-untyped-def]
    """The loser of the race for the revision runs again on the winner's state instead of failing."""
    tramita.deploy([bundle("parallel.bpmn", PARALLEL)], "d")
    for round_ in range(5):
        r = tramita.start("parallel", {}, "u")
        by_name = {t.name: t.id for t in tramita.tasks(instance_id=r.instance_id)}
        barrier = threading.Barrier(2)
        outcomes: dict[str, object] = {}

        def attempt(name: str) -> None:
            barrier.wait()
            try:
                outcomes[name] = tramita.complete(by_name[name], {name: round_}, name)
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                outcomes[name] = exc

        threads = [threading.Thread(target=attempt, args=(n,)) for n in ("left", "right")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(not isinstance(o, Exception) for o in outcomes.values()), outcomes
        detail = tramita.instance(r.instance_id)
        assert detail.instance.status == "completed" and detail.instance.revision == 3
        assert (detail.data["left"], detail.data["right"]) == (round_, round_)
        assert sorted(e.actor for e in detail.events if e.kind == "task_completed") == ["left", "right"]


def test_a_task_claimed_by_someone_else_is_not_closed_for_another_user(two) -> None:
    """The guard on the task row itself: a claim that lands after the checks still wins."""
    from engine.store.statements import statements

    r = two.start("two_tasks", {}, "u")
    task_id = r.open_tasks[0]
    with two.db.write() as s:
        s.execute(update(Task).where(Task.id == task_id).values(assignee="beto"))
    at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with two.db.write() as s:
        assert statements(s, two.db).complete_task(task_id, at, "ana") is False
    with two.db.write() as s:
        assert statements(s, two.db).complete_task(task_id, at, "beto") is True
    assert rows(two, Task, id=task_id)[0].completed_by == "beto"


@pytest.mark.parametrize("value, field", [
    (float("nan"), "x"), (float("inf"), "x"), ({"monto": float("-inf")}, "x.monto"), ([1, 2**64], "x[1]"),
])
def test_numbers_json_cannot_hold_are_refused_naming_the_field(two, value, field) -> None:  # type: ignore[no-untyped-def]
    r = two.start("two_tasks", {}, "u")
    before = len(rows(two, Event, instance_id=r.instance_id))
    with pytest.raises(InvalidInput) as caught:
        two.complete(r.open_tasks[0], {"x": value}, "u")
    assert caught.value.field == field
    assert len(rows(two, Event, instance_id=r.instance_id)) == before
    assert rows(two, Task, id=r.open_tasks[0])[0].state == "READY"
