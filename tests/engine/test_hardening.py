"""Smaller holes of the security review: XML that hides a DTD or is huge, data a script leaves that JSON
cannot hold, and a command line that never shows a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.bpmn import safe_xml
from engine.errors import DeploymentRejected, ExecutionFailed
from tests.cli_runner import runner as _runner
from tests.conftest import ROOT
from tests.diagrams import TWO_TASKS, bundle, flows, process, script_task, user_task

FIXTURES = Path("/work/shared/fixtures")


def test_a_doctype_after_a_long_comment_is_refused() -> None:
    xml = TWO_TASKS.encode()
    head, rest = xml.split(b"\n", 1)
    hidden = head + b"\n<!--" + b"x" * 10_000 + b"-->\n<!DOCTYPE d [<!ENTITY e 'boom'>]>\n" + rest
    with pytest.raises(safe_xml.UnsafeXML, match="DTD"):
        safe_xml.load_xml(hidden, "hidden.bpmn")
    lower = head + b"\n<!--" + b"x" * 10_000 + b"-->\n<!doctype definitions>\n" + rest
    with pytest.raises(safe_xml.UnsafeXML, match="DTD"):
        safe_xml.load_xml(lower, "lower.bpmn")


def test_a_doctype_in_utf16_is_refused() -> None:
    text = TWO_TASKS.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    head, rest = text.split("\n", 1)
    xml = (head + "\n<!DOCTYPE definitions>\n" + rest).encode("utf-16")
    with pytest.raises(safe_xml.UnsafeXML, match="DTD"):
        safe_xml.load_xml(xml, "u16.bpmn")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tramita, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(safe_xml.MAX_BYTES_ENV, "0.05")  # 52 kB
    padded = TWO_TASKS.replace("<bpmn:process", "<!--" + "x" * 60_000 + "-->\n<bpmn:process", 1)
    with pytest.raises(DeploymentRejected, match="at most 0.05 MB"):
        tramita.deploy([bundle("big.bpmn", padded)])
    path = tmp_path / "big.bpmn"
    path.write_text(padded)
    with pytest.raises(DeploymentRejected, match="TRAMITA_MAX_DIAGRAM_MB"):
        tramita.deploy_paths([path])
    assert tramita.processes() == []


NOT_JSON = process("no_json", "\n".join([
    '<bpmn:startEvent id="start"/>', user_task("primero"), script_task("mapea", "m = map(str, [1])"),
    user_task("despues"), '<bpmn:endEvent id="end"/>',
    flows(("start", "primero"), ("primero", "mapea"), ("mapea", "despues"), ("despues", "end")),
]))


@pytest.mark.parametrize("script", ["m = map(str, [1])", "s = {1, 2}", "big = 2 ** 70", "d = {1: 'a'}"])
def test_a_value_json_cannot_hold_is_an_incident_naming_the_element(tramita, script: str) -> None:  # type: ignore[no-untyped-def]
    tramita.deploy([bundle("n.bpmn", NOT_JSON.replace("m = map(str, [1])", script))])
    r = tramita.start("no_json", {}, "ana")
    with pytest.raises(ExecutionFailed, match="not JSON|64 bits|not text"):
        tramita.complete(r.open_tasks[0], {}, "ana")
    detail = tramita.instance(r.instance_id)
    assert detail.instance.status == "error"
    [incident] = detail.incidents
    assert incident.task_name == "mapea"


def test_the_cli_prints_no_traceback_for_a_script_value(db_url: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    run = _runner(db_url, monkeypatch, capsys)
    from engine.deploy.versions import BundleFile
    from tests.driver import Driver

    t = Driver(db_url)
    t.deploy([BundleFile("n.bpmn", NOT_JSON.encode())])
    r = t.start("no_json", {}, "ana")
    t.db.dispose()
    line = run("complete", r.open_tasks[0]).one_line_error  # exit 2, one line, no traceback
    assert "mapea" in line or "not JSON" in line


def test_the_cli_prints_one_line_for_an_unexpected_error(db_url: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from engine import cli

    run = _runner(db_url, monkeypatch, capsys)

    def boom(args):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire\nsecond line")

    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser(), boom))
    result = run("tasks")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.strip() == "tramita: unexpected error (RuntimeError): disk on fire"


def _with_func(parser, func):  # type: ignore[no-untyped-def]
    original = parser.parse_args

    def parse(argv=None):  # type: ignore[no-untyped-def]
        args = original(argv)
        args.func = func
        return args

    parser.parse_args = parse
    return parser


def test_instance_piped_into_head_does_not_traceback(tramita, db_url: str) -> None:  # type: ignore[no-untyped-def]
    tramita.deploy([bundle("t.bpmn", TWO_TASKS)])
    r = tramita.start("two_tasks", {"nota": "x" * 200_000}, "ana")  # more than a pipe's buffer
    env = {**os.environ, "TRAMITA_DATABASE_URL": db_url}
    proc = subprocess.run(f"'{sys.executable}' -m engine.cli instance {r.instance_id} | head -1", shell=True, env=env,
                          cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("name", ["evil", "bomb", "broken", "runaway_loop", "runaway_power"])
def test_hostile_fixtures_are_refused_with_exit_2(db_url: str, monkeypatch, capsys, name: str) -> None:  # type: ignore[no-untyped-def]
    from tests.driver import Driver

    Driver(db_url).db.dispose()
    run = _runner(db_url, monkeypatch, capsys)
    line = run("deploy", FIXTURES / f"{name}.bpmn").one_line_error
    assert f"{name}.bpmn" in line
