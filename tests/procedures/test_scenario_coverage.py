"""The legal scenarios of ``workflows/scenarios/`` together walk every sequence flow and reach every end
event of the shipped diagrams (subprocesses, boundary timers and message events included).

How a flow counts as taken: the simulator reads SpiffWorkflow's task tree at the end of each run
(``runner._finish``). A task's parent in that tree is the task whose completion created it, so for each
task that was reached (completed, waiting, open, or opened in the inbox and later cancelled by a
boundary event) the nearest ancestor that is a diagram element is where its token came from. The pair
(ancestor, task) is a flow taken when the diagram has a sequence flow from the one to the other; pairs
the diagram has no flow for (a boundary event and its host task) name nothing. This reads what the
engine did, not what the diagram allows: a flow is covered only if a token really crossed it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from lxml import etree

from engine.services.simulator import folder_files
from engine.simulate import runner, scenario

ROOT = Path(__file__).resolve().parents[2]
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SCENARIOS = sorted((ROOT / "workflows" / "scenarios").rglob("*.toml"))

# Elements no dry run can reach, each with the reason. The simulator fires every timer on time, as a
# scheduler that is never late; these are reached only when a timer fires late.
UNREACHABLE = {
    "orden_proteccion": {
        "flujo_gw_mas_contactos_a_fin_seguimiento_orden_concluida":
            "a contact recorded after the order's vigencia ended but before the scheduler fired the end of "
            "the vigencia (fin_vigencia_seguimiento), or after a substitution whose signal has not arrived",
        "fin_seguimiento_orden_concluida": "idem",
    },
}


def diagram(path: Path) -> tuple[str, dict[tuple[str, str], list[str]], set[str]]:
    """The process key, its sequence flows by (source, target), and its end events."""
    tree = etree.parse(str(path))
    process = tree.find(f"{BPMN}process")
    flows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in process.iter(f"{BPMN}sequenceFlow"):
        flows[(f.get("sourceRef"), f.get("targetRef"))].append(f.get("id"))
    ends = {e.get("id") for e in process.iter(f"{BPMN}endEvent")}
    return process.get("id"), flows, ends


def test_the_scenarios_cover_every_flow_and_end_of_the_shipped_diagrams() -> None:
    files = folder_files([ROOT / "workflows"])
    taken: dict[str, set[tuple[str, str]]] = defaultdict(set)
    reached: dict[str, set[str]] = defaultdict(set)
    for path in SCENARIOS:
        sc = scenario.load(path)
        result = runner.run(sc, files)
        assert result.passed, f"{path.name}: " + "\n".join(result.failures)
        taken[sc.procedure] |= result.flows
        reached[sc.procedure] |= set(result.ends)
    missing = []
    for path in sorted((ROOT / "workflows" / "bpmn").glob("*.bpmn")):
        key, flows, ends = diagram(path)
        exempt = UNREACHABLE.get(key, {})
        known = {i for ids in flows.values() for i in ids} | ends
        assert set(exempt) <= known, f"{key}: exempt ids not in the diagram: {sorted(set(exempt) - known)}"
        flows = {pair: [i for i in ids if i not in exempt] for pair, ids in flows.items()}
        ends -= set(exempt)
        uncovered = sorted(i for pair, ids in flows.items() if pair not in taken[key] for i in ids)
        unreached = sorted(ends - reached[key])
        if uncovered:
            missing.append(f"{key}: flujos sin recorrer {uncovered}")
        if unreached:
            missing.append(f"{key}: fines sin alcanzar {unreached}")
    assert not missing, "\n".join(missing)
