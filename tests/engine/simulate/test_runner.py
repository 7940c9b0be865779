"""The simulator: a scenario runs on a throwaway engine, agrees with the real engine, can fail, and
writes nothing to the real database."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidInput
from engine.services import SYSTEM
from engine.services.simulator import folder_files
from engine.simulate import runner, scenario
from engine.store.models import Event, Instance
from tests.driver import Driver

ROOT = Path(__file__).resolve().parents[3]
SANCION = ROOT / "workflows" / "scenarios" / "sancion" / "sin_recurso_cobro.toml"


@pytest.fixture(scope="module")
def files():  # type: ignore[no-untyped-def]
    return folder_files([ROOT / "workflows"])


def test_the_recurso_term_of_the_issue_example(files) -> None:  # type: ignore[no-untyped-def]
    # Notified Friday 18 December 2026: 21, 22, 23, 24 (1-4), 25 Christmas, 26-27 weekend, 28 (5):
    # the recurso term ends Monday 28 December 2026 at 23:59:59 in Hermosillo.
    result = runner.run(scenario.load(SANCION), files)
    assert result.passed, result.failures
    assert runner.local(result.deadlines["interponer_recurso"]) == "2026-12-28T23:59:59-07:00"
    [fired] = [e for e in result.timeline if e.kind == "disparo"]
    assert runner.local(fired.at) == "2026-12-29T00:00:00-07:00" and fired.element == "plazo_recurso_vencido"
    explained = next(e for e in result.timeline if e.element == "interponer_recurso" and e.kind == "tarea")
    assert [d["day"] for d in explained.deadline["skipped"]] == ["2026-12-19", "2026-12-20", "2026-12-25",
                                                                    "2026-12-26", "2026-12-27"]
    assert result.ends == ["fin_cobro", "fin_procedimiento"] and result.status == "completed"


def test_an_extra_non_working_day_inside_the_term_makes_the_scenario_fail(files) -> None:  # type: ignore[no-untyped-def]
    sc = scenario.load(SANCION)
    vacation = dataclasses.replace(sc, extra_days={date(2026, 12, 23): "Vacaciones (acuerdo hipotético)"})
    result = runner.run(vacation, files)
    assert not result.passed
    assert ("plazo «interponer_recurso»: se esperaba 2026-12-28T23:59:59-07:00, se computó "
            "2026-12-29T23:59:59-07:00") in result.failures


def test_a_bad_scenario_is_refused_naming_the_act(tmp_path: Path) -> None:
    bad = tmp_path / "malo.toml"
    bad.write_text('procedimiento = "sancion"\ninicio = "2026-03-11T09:00:00"\n'
                   '[[actos]]\nen = "2026-03-10T09:00:00"\ncompletar = "x"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="acto 1: 2026-03-10T09:00:00 es anterior al acto previo"):
        scenario.load(bad)
    bad.write_text('procedimiento = "sancion"\ninicio = "el lunes"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="inicio: 'el lunes' no es una fecha y hora"):
        scenario.load(bad)


def test_the_simulator_agrees_with_the_real_engine_and_touches_nothing(db_url: str, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    """The same acts through the real engine (a real database, the process clock) give the same deadlines
    and end; the dry run on the deployed version writes no case, task or audit row there."""
    from engine.run import firing

    t = Driver(db_url)
    t.deploy_paths([ROOT / "workflows"], "d")
    sc = scenario.load(SANCION)
    forms = {f.name.removesuffix(".json").removesuffix(".schema"): __import__("json").loads(f.content)
             for f in folder_files([ROOT / "workflows"]) if f.name.endswith(".json")}
    with t.db.read() as s:
        before = (s.execute(select(func.count(Instance.id))).scalar(), s.execute(select(func.count(Event.id))).scalar())
    simulated = t.simulator.run(SYSTEM, SANCION)  # the latest deployed version
    with t.db.read() as s:
        after = (s.execute(select(func.count(Instance.id))).scalar(), s.execute(select(func.count(Event.id))).scalar())
    assert before == after == (0, 0)
    assert simulated.passed and simulated.version == "v1"

    frozen_clock.set(sc.start_at)
    iid = t.start(sc.procedure, scenario.resolve_data(sc.start_data, forms, "inicio"), "real").instance_id
    for act in sc.acts:
        frozen_clock.set(act.at)
        firing.fire_due(t.runtime, as_of=act.at)
        [task] = [x for x in t.tasks(instance_id=iid) if x.name == act.complete]
        t.complete(task.id, scenario.resolve_data(act.data, forms, "acto"), "real")
    real = t.instance(iid)
    due = {x.name: x.due_at for x in real.tasks if x.due_at} | {m.task_name: m.due_at for m in real.timers}
    sim_due = {e.element: e for e in simulated.timeline if e.kind in ("tarea", "temporizador") and e.deadline}
    for element, entry in sim_due.items():
        assert runner.for_people(due[element]) in entry.text, element
    assert real.instance.status == simulated.status == "completed"
    t.db.dispose()
