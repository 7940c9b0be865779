"""The ``tramita`` command end to end, on SQLite and PostgreSQL, against a database named by
``TRAMITA_DATABASE_URL``: exit 0 on success, exit 2 with one line on stderr on bad input, and
nothing stored when it refuses.

Most runs call ``engine.cli.main`` in this process (each command builds its own engine, as a
real invocation does); a few run the real program in a child process to prove the same holds
for what an operator types.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import text

from engine.store.db import Database
from tests.cli_runner import Run, runner as _runner
from tests.conftest import ROOT, SHARED
from tests.diagrams import CALLER, FAILING_SCRIPT, TWO_TASKS, flows, process, user_task

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TABLES = ("deployments", "deployed_files", "definitions", "instances", "tasks", "events", "incidents", "timers")

# A user task with a business-day boundary timer that always lies ahead (counted from today).
TIMED = process("plazo_cli", "\n".join([
    '<bpmn:startEvent id="start"/>', user_task("resolver", "Resolver"),
    '<bpmn:boundaryEvent id="vence" attachedToRef="resolver" cancelActivity="true">'
    '<bpmn:timerEventDefinition><bpmn:timeDate>plazo_habil(hoy(), 5, "art. 54")</bpmn:timeDate>'
    '</bpmn:timerEventDefinition></bpmn:boundaryEvent>',
    '<bpmn:endEvent id="fin"/>', '<bpmn:endEvent id="fin_vencido"/>',
    flows(("start", "resolver"), ("resolver", "fin"), ("vence", "fin_vencido")),
]))


@pytest.fixture
def tramita_cli(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                ) -> Iterator[Callable[..., Run]]:
    yield _runner(db_url, monkeypatch, capsys)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server = request.getfixturevalue("pg_server")
    return server.create_database(f"e_{uuid.uuid4().hex[:12]}")


def counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.engine.connect() as c:
            return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
    finally:
        db.dispose()


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


# --- schema --------------------------------------------------------------------------------------


def test_init_db_creates_the_schema_and_is_idempotent(empty_url: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    run = _runner(empty_url, monkeypatch, capsys)
    first = run("init-db")
    assert first.code == 0 and first.out.startswith("database ready: ") and first.err == ""
    assert "postgres@" in first.out or "sqlite" in first.out
    assert run("init-db").code == 0
    assert run("tasks").out.strip() == "no open tasks"
    assert set(counts(empty_url).values()) == {0}


@pytest.mark.parametrize("args", [
    ["tasks"], ["start", "x"], ["instance", "1"], ["retry", "1"],
    ["complete", "00000000-0000-0000-0000-000000000000"], ["timers", "fire"],
])
def test_a_database_without_schema_says_run_init_db(empty_url: str, monkeypatch, capsys, args) -> None:  # type: ignore[no-untyped-def]
    run = _runner(empty_url, monkeypatch, capsys)
    line = run(*args).one_line_error
    assert "run `tramita init-db`" in line


def test_deploy_to_a_database_without_schema_says_run_init_db(empty_url: str, monkeypatch, capsys,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    run = _runner(empty_url, monkeypatch, capsys)
    assert "run `tramita init-db`" in run("deploy", write(tmp_path, "two.bpmn", TWO_TASKS)).one_line_error


# --- the happy path ------------------------------------------------------------------------------


def test_deploy_start_tasks_complete_instance(tramita_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = tramita_cli
    path = write(tmp_path, "two.bpmn", TWO_TASKS)
    deployed = run("deploy", path)  # an operator's deploy acts as sistema
    assert (deployed.code, deployed.out, deployed.err) == (0, "process two_tasks version 1: deployed\n", "")
    assert run("deploy", path).out == "process two_tasks version 1: unchanged\n"
    # a folder deploys every diagram in it
    assert run("deploy", tmp_path).out == "process two_tasks version 1: unchanged\n"

    # a named account acts as itself, and must exist
    assert "no active account named 'ana'" in run("--user", "ana", "start", "two_tasks").one_line_error
    assert run("users", "add", "ana", "--role", "caseworker", "--institution", "ISM",
               "--password", "una-clave-larga").code == 0
    started = run("--user", "ana", "start", "two_tasks", "--data", '{"expediente": "ISM-1"}', "--reference", "ISM-1")
    assert started.code == 0, started.err
    m = re.fullmatch(rf"instance (\d+) running; open tasks: ({UUID_RE.pattern})\n", started.out)
    assert m, started.out
    instance_id, first = m.group(1), m.group(2)

    listed = run("tasks")
    assert listed.code == 0
    [line] = listed.out.splitlines()
    assert line.startswith(f"{first}  instance {instance_id}  a  ") and line.endswith("Primera")
    assert run("tasks", "--instance", instance_id).out == listed.out
    assert run("tasks", "--instance", "999").out.strip() == "no open tasks"
    as_json = json.loads(run("tasks", "--json").out)
    assert [(t["id"], t["name"], t["state"]) for t in as_json] == [(first, "a", "READY")]

    done = run("complete", first, "--data", '{"x": 1}')
    assert done.code == 0, done.err
    m = re.fullmatch(rf"instance {instance_id} running; open tasks: ({UUID_RE.pattern})\n", done.out)
    assert m, done.out
    second = m.group(1)

    shown = run("instance", instance_id)
    assert shown.code == 0
    lines = shown.out.splitlines()
    assert re.match(rf"instance {instance_id}: two_tasks v1  status running  started \S+ by ana$", lines[0])
    assert lines[1] == "open tasks:"
    assert lines[2].startswith(f"  {second}  b  ")
    assert "pending timers:" in lines and "history:" in lines
    history = lines[lines.index("history:") + 1:]
    assert [h.split()[1:3] for h in history] == [["ana", "instance_started"], ["sistema", "task_completed"]]
    assert '"changes": {"x": 1}' in history[1]

    finished = run("complete", second, "--data", "{}")
    assert finished.out == f"instance {instance_id} completed; open tasks: none\n"
    detail = json.loads(run("instance", instance_id, "--json").out)
    assert detail["instance"]["status"] == "completed"
    assert [(t["name"], t["state"], t["completed_by"]) for t in detail["tasks"]] == [
        ("a", "COMPLETED", "sistema"), ("b", "COMPLETED", "sistema")]
    assert detail["data"]["x"] == 1 and detail["data"]["expediente"] == "ISM-1"
    assert run("tasks").out.strip() == "no open tasks"


def test_instance_shows_pending_timers(tramita_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = tramita_cli
    assert run("deploy", write(tmp_path, "timed.bpmn", TIMED)).code == 0
    started = run("start", "plazo_cli")
    instance_id = started.out.split()[1]
    out = run("instance", instance_id).out.splitlines()
    pending = out[out.index("pending timers:") + 1]
    assert re.fullmatch(r"  vence \(date\) due \d{4}-\d\d-\d\dT23:59:59-07:00", pending) or \
        re.fullmatch(r"  vence \(date\) due \d{4}-\d\d-\d\dT06:59:59\+00:00", pending), pending
    # the task's due date is the timer's
    task_line = out[out.index("open tasks:") + 1]
    assert " resolver " in task_line and " due " in task_line and "due -" not in task_line


def test_retry_after_an_incident(tramita_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = tramita_cli
    assert run("deploy", write(tmp_path, "failing.bpmn", FAILING_SCRIPT)).code == 0
    instance_id, task = run("start", "failing").out.split()[1], UUID_RE.search(run("tasks").out).group(0)

    refused = run("complete", task, "--data", '{"boom": true}')
    assert re.search(r"is now in error: .*division by zero", refused.one_line_error)
    shown = run("instance", instance_id).out
    assert "status error" in shown and re.search(r"incident: calc: .*division by zero", shown)

    again = run("retry", instance_id)
    assert "division by zero" in again.one_line_error
    assert "must be a JSON object" in run("retry", instance_id, "--data", "[1]").one_line_error

    fixed = run("retry", instance_id, "--data", '{"boom": false}')
    assert (fixed.code, fixed.out) == (0, f"instance {instance_id} running\n")
    shown = run("instance", instance_id).out
    assert "status running" in shown and "incident:" not in shown
    assert re.search(r"^  \S+  b  ", shown, re.M)
    assert "sistema  instance_retried" in shown
    assert "needs it error" in run("retry", instance_id).one_line_error


# --- bad input: exit 2, one line, nothing stored -------------------------------------------------


def _fixture(name: str) -> Path:
    path = SHARED / "fixtures" / name
    if not path.exists():
        pytest.skip(f"{path} missing")
    return path


@pytest.mark.parametrize("case, message", [
    ("malformed_xml", "malformed XML"),
    ("xsd", "notAnElement"),
    ("duplicate_ids", "Duplicate process ID: two_tasks"),
    ("missing_called_process", "called process two_tasks is neither in the bundle nor deployed"),
    ("forbidden_expression", "element sneaky: forbidden expression"),
    ("forbidden_condition", "forbidden expression"),
    ("not_bpmn", "not a BPMN 2.0 document"),
    ("no_such_file", "no such file or folder"),
    ("evil_fixture", "forbidden expression"),
    ("bomb_fixture", "DTD and entity declarations are not allowed"),
    ("broken_fixture", "malformed XML"),
])
def test_deploy_refuses_bad_bundles(tramita_cli, db_url: str, tmp_path: Path, case: str, message: str) -> None:  # type: ignore[no-untyped-def]
    sneaky = process("evil_p", "\n".join([
        '<bpmn:startEvent id="start"/>',
        '<bpmn:scriptTask id="sneaky"><bpmn:script>x = ().__class__.__base__.__subclasses__()</bpmn:script>'
        '</bpmn:scriptTask>', '<bpmn:endEvent id="end"/>', flows(("start", "sneaky"), ("sneaky", "end"))]))
    condition = process("gw_p", "\n".join([
        '<bpmn:startEvent id="start"/>', '<bpmn:exclusiveGateway id="gw"/>', user_task("a"),
        '<bpmn:endEvent id="end"/>',
        flows(("start", "gw"), ("gw", "a"), ("a", "end"), cond={"gw>a": "__import__('os').system('id')"})]))
    paths: list[Path] = {
        "malformed_xml": lambda: [write(tmp_path, "bad.bpmn", TWO_TASKS[:300])],
        "xsd": lambda: [write(tmp_path, "bad.bpmn", TWO_TASKS.replace(
            '<bpmn:endEvent id="end"/>', '<bpmn:endEvent id="end"/><bpmn:notAnElement id="x"/>'))],
        "duplicate_ids": lambda: [write(tmp_path, "one.bpmn", TWO_TASKS), write(tmp_path, "other.bpmn", TWO_TASKS)],
        "missing_called_process": lambda: [write(tmp_path, "caller.bpmn", CALLER)],
        "forbidden_expression": lambda: [write(tmp_path, "evil.bpmn", sneaky)],
        "forbidden_condition": lambda: [write(tmp_path, "gw.bpmn", condition)],
        "not_bpmn": lambda: [write(tmp_path, "other.bpmn", '<?xml version="1.0"?><html><body/></html>')],
        "no_such_file": lambda: [tmp_path / "missing.bpmn"],
        "evil_fixture": lambda: [_fixture("evil.bpmn")],
        "bomb_fixture": lambda: [_fixture("bomb.bpmn")],
        "broken_fixture": lambda: [_fixture("broken.bpmn")],
    }[case]()
    started = time.perf_counter()
    result = tramita_cli("deploy", *paths)
    assert time.perf_counter() - started < 5
    assert message in result.one_line_error
    assert result.out == ""
    assert set(counts(db_url).values()) == {0}, counts(db_url)


def test_a_refused_bundle_stores_none_of_its_good_files(tramita_cli, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = write(tmp_path, "two.bpmn", TWO_TASKS)
    result = tramita_cli("deploy", good, _fixture("evil.bpmn"))
    assert "forbidden expression" in result.one_line_error
    assert set(counts(db_url).values()) == {0}


def test_instance_commands_refuse_bad_input_and_store_nothing(tramita_cli, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = tramita_cli
    assert run("deploy", write(tmp_path, "two.bpmn", TWO_TASKS)).code == 0
    instance_id = run("start", "two_tasks").out.split()[1]
    task = UUID_RE.search(run("tasks").out).group(0)
    before = counts(db_url)

    refusals = {
        ("start", "nope"): "unknown process key 'nope'; deployed: two_tasks",
        ("start", "two_tasks", "--data", "[1, 2]"): "data must be a JSON object",
        ("start", "two_tasks", "--data", '"texto"'): "data must be a JSON object",
        ("start", "two_tasks", "--data", "{nope"): "--data is not valid JSON",
        ("complete", "00000000-0000-0000-0000-000000000000"): "does not exist",
        ("complete", "not-a-task"): "task 'not-a-task' does not exist",
        ("complete", task, "--data", "[1]"): "data must be a JSON object",
        ("complete", task, "--data", "null"): "data must be a JSON object",
        ("complete", task, "--data", "{'x': 1}"): "--data is not valid JSON",
        ("instance", "999"): "instance 999 does not exist",
        ("retry", "999"): "instance 999 does not exist",
        ("retry", instance_id): f"instance {instance_id} is running; instance_retried needs it error",
        ("deadline", "2026-12-18", "5", "--unit", "weeks"): "weeks",
        ("deadline", "2026-12-18", "0", "--unit", "business"): "0",
        ("deadline", "el lunes", "5", "--unit", "business"): "el lunes",
    }
    for args, message in refusals.items():
        line = run(*args).one_line_error
        assert message in line, (args, line)
    assert counts(db_url) == before

    # a task that is no longer READY
    assert run("complete", task).code == 0
    after = counts(db_url)
    assert "already completed" in run("complete", task).one_line_error
    assert counts(db_url) == after


def test_an_unknown_command_is_a_usage_error(tramita_cli) -> None:  # type: ignore[no-untyped-def]
    assert tramita_cli("no-such-command").code == 2  # argparse's usage error, not a crash


# --- deadlines -----------------------------------------------------------------------------------


def test_deadline_prints_the_instant_then_the_explanation(tramita_cli) -> None:  # type: ignore[no-untyped-def]
    result = tramita_cli("deadline", "2026-12-18", "5", "--unit", "business", "--cite", "Ley art. 54")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "2026-12-28T23:59:59-07:00"
    assert len(lines) > 2 and any("Ley art. 54" in line for line in lines)
    as_json = json.loads(tramita_cli("deadline", "2026-12-18", "5", "--unit", "business", "--json").out)
    assert "2026-12-28T23:59:59-07:00" in json.dumps(as_json)
    natural = tramita_cli("deadline", "2026-12-18", "3", "--unit", "natural")
    assert natural.code == 0 and natural.out.splitlines()[0].startswith("2026-12-2")


def test_deadline_in_months_by_the_rule_named(tramita_cli) -> None:  # type: ignore[no-untyped-def]
    """Issue 10, item 15: months by the administrative rule (LFPA art. 29) or the prescription rule (Código
    Civil art. 1180), named on the command line as the diagrams name it from a cited parameter.

    Worked by hand (Hermosillo):
    * 16 February 2026 + 3 months: 16 May 2026 is a Saturday. Administrative: moved past Saturday 16 and
      Sunday 17 to Monday 18 May, 23:59:59. Prescription: the first day counts whole and the last must be
      complete, so it has run at 00:00 of Saturday 16 May, not moved by días inhábiles.
    * 31 August 2026 + 6 months: February 2027 has no day 31. Administrative: the first business day of the
      following month, Monday 1 March 2027, 23:59:59. Prescription: once 28 February is complete, 00:00 of
      1 March 2027.
    * Art. 53 (one year): an infraction on Tuesday 15 December 2026 prescribes at 00:00 of 15 December 2027.
    """
    cases = {
        ("2026-02-16", "3", "administrativa"): "2026-05-18T23:59:59-07:00",
        ("2026-02-16", "3", "prescripcion"): "2026-05-16T00:00:00-07:00",
        ("2026-08-31", "6", "administrativa"): "2027-03-01T23:59:59-07:00",
        ("2026-08-31", "6", "prescripcion"): "2027-03-01T00:00:00-07:00",
        ("2026-12-15", "12", "prescripcion"): "2027-12-15T00:00:00-07:00",
    }
    for (start, n, rule), due in cases.items():
        result = tramita_cli("deadline", start, n, "--unit", "months", "--rule", rule, "--cite", "Ley art. 53")
        assert result.code == 0, result.err
        lines = result.out.splitlines()
        assert lines[0] == due, (start, n, rule)
        assert ("LFPA art. 29" if rule == "administrativa" else "Código Civil art. 1180") in result.out
        assert lines[-1] == "Fundamento: Ley art. 53"
    moved = tramita_cli("deadline", "2026-02-16", "3", "--unit", "months", "--rule", "administrativa", "--json")
    assert [d["day"] for d in json.loads(moved.out)["skipped"]] == ["2026-05-16", "2026-05-17"]
    refusals = {
        ("2026-02-16", "3", "--unit", "months"): "--rule administrativa o prescripcion",
        ("2026-02-16", "3", "--unit", "months", "--rule", "civil"): "regla de meses desconocida: 'civil'",
        ("2026-02-16", "3", "--unit", "natural", "--rule", "prescripcion"): "--rule solo aplica a plazos en meses",
        ("2026-02-16", "0", "--unit", "months", "--rule", "prescripcion"): "entero positivo",
    }
    for args, message in refusals.items():
        bad = tramita_cli("deadline", *args)
        assert bad.code == 2 and message in bad.one_line_error, (args, bad.err)


# --- the real program ----------------------------------------------------------------------------


def _program(url: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "TRAMITA_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "engine.cli", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_installed_program_exits_0_and_2(db_url: str, tmp_path: Path) -> None:
    ok = _program(db_url, "deploy", write(tmp_path, "two.bpmn", TWO_TASKS))
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "process two_tasks version 1: deployed\n", "")
    started = _program(db_url, "start", "two_tasks", "--data", '{"a": 1}')
    assert started.returncode == 0 and started.stdout.startswith("instance "), started.stderr
    task = UUID_RE.search(started.stdout).group(0)
    assert _program(db_url, "complete", task).returncode == 0
    bad = _program(db_url, "complete", task)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("tramita: ") and "already completed" in bad.stderr
    bomb = _program(db_url, "deploy", _fixture("bomb.bpmn"))
    assert bomb.returncode == 2 and bomb.stderr.count("\n") == 1 and "DTD" in bomb.stderr
    deadline = _program(db_url, "deadline", "2026-12-18", "5", "--unit", "business")
    assert deadline.returncode == 0 and deadline.stdout.splitlines()[0] == "2026-12-28T23:59:59-07:00"


def test_the_installed_program_on_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    missing = _program(url, "tasks")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr == "tramita: the database has no Tramita tables yet: run `tramita init-db`\n"
    assert _program(url, "init-db").returncode == 0
    listed = _program(url, "tasks")
    assert (listed.returncode, listed.stdout) == (0, "no open tasks\n")
