"""``tramita versions KEY`` and ``tramita show KEY [--version N] [--part P]``, end to end on both databases:
what each version holds, and a one-line refusal (exit 2) for a bad key, version or part."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.cli_runner import Run, runner as _runner
from tests.engine.deploy.test_parts import DATOS, FORM, PROCESS, lanes, parameters


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Iterator[Callable[..., Run]]:
    yield _runner(db_url, monkeypatch, capsys)


def folder(tmp_path: Path, plazo: int) -> Path:
    root = tmp_path / f"v{plazo}"
    (root / "datos").mkdir(parents=True, exist_ok=True)
    (root / "p.bpmn").write_text(PROCESS, encoding="utf-8")
    (root / "revisar.schema.json").write_bytes(FORM)
    (root / "datos" / "con_partes.schema.json").write_bytes(DATOS)
    (root / "parameters.toml").write_bytes(parameters(plazo).content)
    (root / "lanes.toml").write_bytes(lanes("revisores").content)
    return root


def test_versions_lists_each_version_and_show_prints_what_it_holds(run, tmp_path: Path) -> None:
    assert run("deploy", folder(tmp_path, 5)).out == "process con_partes version 1: deployed\n"
    assert run("deploy", folder(tmp_path, 5)).out == "process con_partes version 1: unchanged\n"
    assert run("deploy", folder(tmp_path, 7) / "parameters.toml").out == "process con_partes version 2: deployed\n"

    listed = run("versions", "con_partes")
    assert listed.code == 0 and listed.err == ""
    lines = listed.out.splitlines()
    assert lines[0] == "con_partes: 2 versions"
    rows = [line.split() for line in lines[2:]]
    assert [(r[0], r[2]) for r in rows] == [("1", "sistema"), ("2", "sistema")]
    assert all(re.fullmatch(r"[0-9a-f]{64}", r[3]) for r in rows) and rows[0][3] != rows[1][3]

    assert run("show", "con_partes", "--version", "1", "--part", "parameters").out == \
        parameters(5).content.decode()
    assert run("show", "con_partes", "--part", "parameters").out == parameters(7).content.decode()
    assert run("show", "con_partes", "--part", "bpmn").out == PROCESS
    assert '"Nota"' in run("show", "con_partes", "--part", "forms").out
    summary = run("show", "con_partes", "--version", "2").out.splitlines()
    assert summary[0] == "con_partes version 2"
    assert summary[1].startswith("deployed ") and summary[1].endswith(" by sistema")
    assert summary[3:] == ["parts:", "  bpmn         p.bpmn", "  datos        datos/con_partes.schema.json",
                           "  forms        revisar.schema.json", "  lanes        lanes.toml",
                           "  parameters   parameters.toml"]


@pytest.mark.parametrize("args, message", [
    (("versions", "no_existe"), "unknown process key 'no_existe'; deployed: con_partes"),
    (("show", "no_existe"), "unknown process key 'no_existe'"),
    (("show", "con_partes", "--version", "9"), "con_partes has no version 9; its versions: 1"),
    (("show", "con_partes", "--version", "dos"), "--version must be a version number (1, 2, ...), not 'dos'"),
    (("show", "con_partes", "--version", "0"), "--version must be a version number"),
    (("show", "con_partes", "--part", "escenarios"),
     "version 1 of con_partes has no part 'escenarios'; its parts: bpmn, datos, forms, lanes, parameters"),
])
def test_a_bad_key_version_or_part_is_refused_in_one_line(run, tmp_path: Path, args: tuple[str, ...],
                                                          message: str) -> None:
    run("deploy", folder(tmp_path, 5))
    refused = run(*args)
    assert message in refused.one_line_error and refused.out == ""
