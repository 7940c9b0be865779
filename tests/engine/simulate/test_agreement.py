"""The simulator and the real engine agree: the same scenario, act by act, through the simulator's
throwaway engine and through the real one (``Driver`` on the test database, SQLite and PostgreSQL, the
process clock frozen and moved by the test), gives the same due instant for every deadline and reaches
the same end events.

The two fire timers differently on purpose: the simulator fires each timer the second after its term
ends, one by one; here the timers due before an act fire all at once just before it, as a scheduler
catching up would. Deadlines come from the case's data (notification and filing dates), never from
when a timer fired, so both must agree.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.run import firing
from engine.services.simulator import folder_files
from engine.simulate import runner, scenario
from tests.driver import Driver

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ROOT / "workflows" / "scenarios"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
ONE_PER_PROCEDURE = ["sancion/escalado_modificada.toml", "auxilio_policial/intervencion_tardia.toml",
                     "orden_proteccion/vigencia_prorroga_nueva_orden.toml", "agravio/admitida_sin_agravio.toml"]


def end_events(procedure: str) -> set[str]:
    tree = etree.parse(str(ROOT / "workflows" / "bpmn" / f"{procedure}.bpmn"))
    return {e.get("id") for e in tree.iter(f"{BPMN}endEvent")}


def real_run(t: Driver, frozen: Any, sc: scenario.Scenario, forms: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    frozen.set(sc.start_at)
    iid = t.start(sc.procedure, scenario.resolve_data(sc.start_data, forms, "inicio"), "real").instance_id
    for act in sc.acts:
        frozen.set(act.at)
        firing.fire_due(t.runtime, as_of=act.at - timedelta(seconds=1), worker="real")
        data = scenario.resolve_data(act.data, forms, "acto")
        if act.complete:
            [task] = [x for x in t.tasks(instance_id=iid) if x.name == act.complete]
            t.complete(task.id, data, "real")
        elif act.message:
            t.send_message(iid, act.message, data, "real")
    detail = t.instance(iid)
    due: dict[str, Any] = {}
    for task in sorted(detail.tasks, key=lambda x: x.created_at):
        if task.due_at:
            due[task.name] = task.due_at
    for timer in sorted(detail.timers, key=lambda m: m.id):
        due[timer.task_name] = timer.due_at
    ends = sorted(set(t.diagram(iid).completed) & end_events(sc.procedure))
    return due, ends


@pytest.mark.parametrize("name", ONE_PER_PROCEDURE)
def test_the_simulator_and_the_real_engine_agree(name: str, db_url: str, frozen_clock: Any) -> None:
    path = SCENARIOS / name
    if not path.exists():
        pytest.fail(f"missing scenario {name}")
    files = folder_files([ROOT / "workflows"])
    forms = {f.name.removesuffix(".json").removesuffix(".schema"): json.loads(f.content)
             for f in files if f.name.endswith(".json")}
    sc = scenario.load(path)
    simulated = runner.run(sc, files)
    assert simulated.passed, simulated.failures
    t = Driver(db_url)
    try:
        t.deploy_paths([ROOT / "workflows"], "d")
        due, ends = real_run(t, frozen_clock, sc, forms)
    finally:
        t.db.dispose()
    assert {k: runner.local(v) for k, v in due.items()} == {k: runner.local(v) for k, v in simulated.deadlines.items()}
    assert due and ends == simulated.ends and ends
