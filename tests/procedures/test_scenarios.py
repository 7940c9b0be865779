"""Every legal scenario of ``workflows/scenarios/`` holds on the procedure files of ``workflows/``."""

from __future__ import annotations

import dataclasses
from datetime import date
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


# A scenario must be able to fail: one more día inhábil declared inside one of its terms (through the
# simulator's calendar override, the files untouched) moves the term, and the scenario names the
# expectation with what it expected and what it now computes.
FAILING = [
    # Art. 54: notified Friday 18 December 2026; with Wednesday 23 December inhábil: 21 (1), 22 (2), 24 (3),
    # [25-27], 28 (4), Tuesday 29 December (5).
    ("sancion/sin_recurso_cobro.toml", date(2026, 12, 23),
     "plazo «interponer_recurso»: se esperaba 2026-12-28T23:59:59-07:00, se computó 2026-12-29T23:59:59-07:00"),
    # Art. 33: received Monday 1 March 2027; with Thursday 4 March inhábil: 2 (1), 3 (2), 5 (3), [6-7],
    # 8 (4), Tuesday 9 March (5).
    ("agravio/admitida_sin_agravio.toml", date(2027, 3, 4),
     "plazo «informar_sistema_estatal»: se esperaba 2027-03-08T23:59:59-07:00, se computó 2027-03-09T23:59:59-07:00"),
    # Reglamento art. 41: risk ended Wednesday 3 March 2027; 5 natural days end Monday 8 March; declared
    # inhábil, the term moves to Tuesday 9 March.
    ("orden_proteccion/tercero_no_ratifica.toml", date(2027, 3, 8),
     "plazo «ratificar_solicitud»: se esperaba 2027-03-08T23:59:59-07:00, se computó 2027-03-09T23:59:59-07:00"),
]


@pytest.mark.parametrize(("name", "day", "failure"), FAILING, ids=[f[0] for f in FAILING])
def test_an_extra_non_working_day_inside_a_term_makes_the_scenario_fail(name: str, day: date, failure: str,
                                                                        files) -> None:  # type: ignore[no-untyped-def]
    sc = scenario.load(ROOT / "workflows" / "scenarios" / name)
    assert runner.run(sc, files).passed
    moved = dataclasses.replace(sc, extra_days={day: "Día inhábil declarado (acuerdo hipotético)"})
    result = runner.run(moved, files)
    assert not result.passed and failure in result.failures, result.failures
