"""States and event kinds have one name each (``engine.store.states``), and the engine cannot write a kind
that is not one: the source passes members, never string literals, and the writers refuse anything else."""

from __future__ import annotations

import ast
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.store.models import Event
from engine.store.states import EventKind, FiringOutcome, InstanceStatus, TaskState, TimerStatus, event_kind

ROOT = Path(__file__).resolve().parents[3]
STATES = ROOT / "engine" / "store" / "states.py"
SOURCES = sorted(p for folder in ("engine", "web") for p in (ROOT / folder).rglob("*.py")
                 if "migrations" not in p.parts and p != STATES)

# The parameter that carries the event kind, by the name of the function that writes it, and its position.
KIND_PARAMETERS = {"Event": None, "transition": 3, "record": 3, "_persist": 6, "_rearm": 5, "_write": 6}


def test_values_are_the_strings_the_database_holds() -> None:
    """Renaming a value would orphan every row already written: these lists change only with a migration."""
    assert [s.value for s in InstanceStatus] == ["running", "completed", "cancelled", "suspended", "error"]
    assert [s.value for s in TaskState] == ["READY", "COMPLETED", "CANCELLED"]
    assert [s.value for s in TimerStatus] == ["pending", "fired", "cancelled"]
    assert [s.value for s in FiringOutcome] == ["fired", "skipped", "error"]
    assert {k.value for k in EventKind} >= {"instance_started", "task_completed", "timer_fired", "term_suspended",
                                            "timer_rearmed", "case_started", "message_not_delivered", "case_opened"}
    assert TaskState.READY == "READY" and f"{InstanceStatus.RUNNING}" == "running"


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _kind_arguments(tree: ast.AST) -> list[tuple[int, ast.expr]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _name(node.func) not in KIND_PARAMETERS:
            continue
        position = KIND_PARAMETERS[_name(node.func)]
        found += [(node.lineno, kw.value) for kw in node.keywords if kw.arg == "kind"]
        if position is not None and len(node.args) > position:
            found.append((node.lineno, node.args[position]))
    for node in ast.walk(tree):  # {"kind": ...} handed to the prebuilt insert of a transition
        if isinstance(node, ast.Call) and _name(node.func) == "insert_event" and node.args \
                and isinstance(node.args[0], ast.Dict):
            d = node.args[0]
            found += [(node.lineno, v) for k, v in zip(d.keys, d.values)
                      if isinstance(k, ast.Constant) and k.value == "kind"]
    return found


def test_the_engine_passes_event_kinds_as_members_never_as_strings() -> None:
    """A kind written as a literal could be one with no label; every writer takes an ``EventKind``."""
    problems, members = [], 0
    for path in SOURCES:
        tree = ast.parse(path.read_text(), str(path))
        for line, arg in _kind_arguments(tree):
            where = f"{path.relative_to(ROOT)}:{line}"
            if isinstance(arg, ast.Constant):
                problems.append(f"{where}: kind {arg.value!r} written as a literal; use EventKind")
            elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "EventKind":
                assert arg.attr in EventKind.__members__, f"{where}: EventKind.{arg.attr} does not exist"
                members += 1
        # Nor anywhere else: a literal equal to a kind is a kind spelt out by hand.
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value in EventKind._value2member_map_:
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r} spelt out; use EventKind")
    assert not problems, "\n".join(problems)
    assert members >= 15, "the scan found the writers (Event, transition, record, _rearm)"


def test_templates_compare_with_the_enums() -> None:
    """Templates get the enums as globals; a quoted task state or event kind in one is a bare string again."""
    quoted = {f"'{v}'" for v in [*TaskState, *EventKind]} | {f'"{v}"' for v in [*TaskState, *EventKind]}
    problems = [f"{p.relative_to(ROOT)}: {q}" for p in (ROOT / "web" / "templates").rglob("*.html")
                for q in quoted if q in p.read_text()]
    assert not problems, problems


def test_a_kind_that_is_not_a_member_is_refused_before_it_is_written(db_url: str) -> None:
    from engine.store.db import Database
    from engine.store.statements import statements

    with pytest.raises(ValueError, match="not an audit event kind"):
        Event(instance_id=None, at=datetime.now(timezone.utc), actor="x", kind="kind_without_label", detail={})
    assert Event(kind="case_opened").kind is EventKind.CASE_OPENED  # stored values read back as members
    with pytest.raises(ValueError):
        event_kind("")
    db = Database(db_url)
    try:
        with pytest.raises(ValueError, match="kind_without_label"):
            with db.write() as s:
                statements(s, db).insert_event({"instance_id": None, "task_id": None, "actor": "x",
                                                "at": datetime.now(timezone.utc), "kind": "kind_without_label",
                                                "detail": {}})
        with db.read() as s:
            assert s.query(Event).count() == 0
    finally:
        db.dispose()
