"""workflows/datos/: the names of the case data each procedure's scripts and decision tables write.

No form describes those variables, so without these files the case page would show
``numero_orden`` as "Numero orden" and ``tipo_recomendado`` as "emergencia". The files must
name exactly what the diagrams write: a new script variable without a name fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
ASSIGNED = re.compile(r"^\s*([a-z]\w*)\s*=[^=]", re.M)
DECISIONS = {"orden_proteccion": ["riesgo_orden_proteccion"], "sancion": ["rango_sancion"], "agravio": [],
             "auxilio_policial": []}


def _form_fields() -> set[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            found.update((node.get("properties") or {}).keys())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in (WORKFLOWS / "forms").glob("*.schema.json"):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return found


def _written_without_a_form(key: str) -> set[str]:
    root = etree.parse(str(WORKFLOWS / "bpmn" / f"{key}.bpmn"))
    written = {m.group(1) for script in root.iter(f"{BPMN}script") for m in ASSIGNED.finditer(script.text or "")}
    for table in DECISIONS[key]:
        dmn = etree.parse(str(WORKFLOWS / "dmn" / f"{table}.dmn"))
        written |= {o.get("name") for o in dmn.iter() if etree.QName(o).localname == "output"}
    return written - _form_fields()


@pytest.mark.parametrize("key", sorted(DECISIONS))
def test_the_dictionary_names_exactly_what_the_procedure_writes(key: str) -> None:
    schema = json.loads((WORKFLOWS / "datos" / f"{key}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    written = _written_without_a_form(key)
    assert written, key
    assert set(schema["properties"]) == written
    for name, sub in schema["properties"].items():
        title = sub["title"]
        assert title and title != name.replace("_", " ").capitalize(), name  # a real name, not the variable's


def test_decision_outputs_name_their_values() -> None:
    schema = json.loads((WORKFLOWS / "datos" / "orden_proteccion.schema.json").read_text(encoding="utf-8"))
    dmn = etree.parse(str(WORKFLOWS / "dmn" / "riesgo_orden_proteccion.dmn"))
    outputs = [o.get("name") for o in dmn.iter() if etree.QName(o).localname == "output"]
    column = outputs.index("tipo_recomendado")
    values = {[e for e in rule if etree.QName(e).localname == "outputEntry"][column].findtext("{*}text").strip('"')
              for rule in dmn.iter() if etree.QName(rule).localname == "rule"}
    assert values and {o["const"] for o in schema["properties"]["tipo_recomendado"]["oneOf"]} >= values
