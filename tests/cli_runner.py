"""Running ``engine.cli.main`` in-process as an operator would run ``tramita``: one engine per call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from engine import cli


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def one_line_error(self) -> str:
        """The refusal, asserting it is exactly one line and no traceback."""
        assert self.code == 2, (self.code, self.out, self.err)
        assert "Traceback" not in self.err
        lines = self.err.strip("\n").split("\n")
        assert len(lines) == 1, self.err
        assert lines[0].startswith("tramita: "), lines[0]
        return lines[0]


def runner(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    monkeypatch.setenv("TRAMITA_DATABASE_URL", url)
    monkeypatch.delenv("TRAMITA_USER", raising=False)
    made = []
    real = cli._tramita

    def tracking():  # type: ignore[no-untyped-def]
        t = real()
        made.append(t)
        return t

    monkeypatch.setattr(cli, "_tramita", tracking)

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            code = cli.main([str(a) for a in args])
        finally:
            while made:  # one engine per invocation, closed as the process would close it
                made.pop().db.dispose()
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
