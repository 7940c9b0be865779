"""Every legal scenario of ``workflows/scenarios/`` holds on the procedure files of ``workflows/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.services.simulator import folder_files
from engine.simulate import runner, scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "workflows" / "scenarios").rglob("*.toml"))


@pytest.fixture(scope="module")
def files():  # type: ignore[no-untyped-def]
    return folder_files([ROOT / "workflows"])


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_scenario_holds(path: Path, files) -> None:  # type: ignore[no-untyped-def]
    result = runner.run(scenario.load(path), files)
    assert result.passed, "\n".join(result.failures)
