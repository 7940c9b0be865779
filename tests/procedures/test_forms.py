"""Every form accepts its documented examples and rejects its documented bad inputs, naming the article.

Each schema in workflows/forms carries ``examples`` (valid data) and, where the law constrains a
field, ``x-ejemplos-invalidos``: a list of ``{datos, articulo}``. The engine's validator
(engine.forms.validate, what ``complete`` runs) must refuse each bad input field by field, with
a message that cites ``articulo``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from engine.run import forms
from engine.errors import InvalidInput
from tests.procedures.conftest import FORMS, WORKFLOWS

SCHEMAS = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(FORMS.glob("*.schema.json"))}
EXAMPLES = [(name, i) for name, s in SCHEMAS.items() for i in range(len(s.get("examples", [])))]
INVALID = [(name, i) for name, s in SCHEMAS.items() for i in range(len(s.get("x-ejemplos-invalidos", [])))]
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def test_the_forms_are_there() -> None:
    assert len(SCHEMAS) >= 40
    assert len(INVALID) >= 30  # the documented bad inputs this suite checks


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_valid_spanish_and_documented(name: str) -> None:
    schema = SCHEMAS[name]
    Draft202012Validator.check_schema(schema)
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("additionalProperties") is False, "unknown fields must be refused"
    assert schema.get("examples"), "every form documents at least one valid example"
    for field, prop in schema["properties"].items():
        assert prop.get("title"), f"{field} has no title"
    for bad in schema.get("x-ejemplos-invalidos", []):
        assert set(bad) == {"datos", "articulo"}
        assert re.search(r"\bart(\.|ículo|iculo|s\.)", bad["articulo"]), bad["articulo"]


@pytest.mark.parametrize(("name", "index"), EXAMPLES)
def test_examples_are_accepted(name: str, index: int) -> None:
    forms.validate(SCHEMAS[name], SCHEMAS[name]["examples"][index])


@pytest.mark.parametrize(("name", "index"), INVALID)
def test_documented_bad_inputs_are_refused_naming_the_article(name: str, index: int) -> None:
    bad = SCHEMAS[name]["x-ejemplos-invalidos"][index]
    with pytest.raises(InvalidInput) as err:
        forms.validate(SCHEMAS[name], bad["datos"])
    messages = err.value.fields
    assert messages, "the refusal names the wrong fields"
    assert any(bad["articulo"] in message for message in messages.values()), (bad["articulo"], messages)


def test_every_form_is_used_by_a_diagram() -> None:
    used = set()
    for path in (WORKFLOWS / "bpmn").glob("*.bpmn"):
        root = etree.parse(str(path)).getroot()
        used |= {p.get("value") for p in root.iter(f"{{{SPIFF}}}property")
                 if p.get("name") == "formJsonSchemaFilename"}
    assert set(SCHEMAS) == used


def test_refusal_is_reported_field_by_field() -> None:
    """Several wrong fields: each is named with its own message (what a page shows next to it)."""
    schema = SCHEMAS["sancion_resolucion.schema.json"]
    data: dict[str, Any] = dict(schema["examples"][0], multa_uma=500, apercibimiento=False, extra="x")
    with pytest.raises(InvalidInput) as err:
        forms.validate(schema, data)
    fields = err.value.fields
    assert "art. 47" in fields["multa_uma"] and "art. 52" in fields["apercibimiento"]
    assert "extra" in fields


def test_every_form_file_is_json_with_spanish_title() -> None:
    for path in Path(FORMS).glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema.get("title") and schema.get("$id") == path.name


def _rule(schema: dict[str, Any], **conditions: str) -> dict[str, Any]:
    """The ``then.properties`` of the allOf rule whose ``if`` fixes exactly these constants."""
    for rule in schema.get("allOf", []):
        fixed = {k: v.get("const") for k, v in rule["if"].get("properties", {}).items()}
        if fixed == conditions:
            return rule["then"].get("properties", {})
    raise AssertionError(f"no rule for {conditions}")


@pytest.mark.parametrize("name", ["sancion_resolucion.schema.json", "sancion_resolucion_recurso.schema.json"])
def test_form_limits_match_the_legal_parameters(name: str) -> None:
    """The forms repeat the figures of parameters.toml (JSON Schema cannot read them): they must agree,
    or a legal designer's change to a parameter would leave the form refusing or accepting the wrong range."""
    from engine.deploy.parameters import load_parameters

    p = load_parameters(WORKFLOWS / "parameters.toml")["sancion"]
    schema = SCHEMAS[name]
    props = schema["properties"]
    assert props["multa_uma"]["maximum"] == p["multa_general_uma_max"]
    assert props["arresto_horas"]["maximum"] == p["arresto_max_horas"]
    general = _rule(schema, tipo_sancion="multa", tipo_infraccion="general", condicion_economica="asalariado")
    assert (general["multa_uma"]["minimum"], general["multa_uma"]["maximum"]) == (
        p["multa_general_uma_min"], p["multa_general_uma_max"])
    convenio = _rule(schema, tipo_sancion="multa", tipo_infraccion="incumplimiento_convenio",
                     condicion_economica="asalariado")
    assert (convenio["multa_uma"]["minimum"], convenio["multa_uma"]["maximum"]) == (
        p["multa_convenio_uma_min"], p["multa_convenio_uma_max"])
    desempleado = _rule(schema, tipo_sancion="multa", condicion_economica="desempleado")
    assert desempleado["multa_uma"]["maximum"] == p["multa_desempleado_uma_max"]
    assert props["multa_dias_ingreso"]["minimum"] == props["multa_dias_ingreso"]["maximum"] == p["multa_jornalero_dias_ingreso"]
    assert _rule(schema, reincidente=True)["arresto_horas"]["const"] == p["arresto_reincidencia_horas"]


def test_order_and_arrest_limits_match_the_legal_parameters() -> None:
    from engine.deploy.parameters import load_parameters

    p = load_parameters(WORKFLOWS / "parameters.toml")
    emision = SCHEMAS["orden_proteccion_emision.schema.json"]["properties"]
    assert emision["vigencia_dias"]["maximum"] == p["orden_proteccion"]["vigencia_max_dias"]
    revaloracion = SCHEMAS["orden_proteccion_revaloracion.schema.json"]["properties"]
    assert revaloracion["dias_prorroga_acordados"]["maximum"] == p["orden_proteccion"]["prorroga_dias"]
    arresto = SCHEMAS["sancion_orden_arresto.schema.json"]["properties"]
    assert arresto["horas_arresto"]["maximum"] == p["sancion"]["arresto_max_horas"]


def test_every_date_a_caseworker_types_is_ordered() -> None:
    """Item 19: every date or date-time field of every form (inside objects too) carries a date rule: an act
    already done is not in the future (x-no-futura), a scheduled act follows the act that schedules it
    (x-despues-de). The rule's message is the schema's, so it names the act the date must follow."""
    def dates(props: dict, path: str = ""):  # type: ignore[no-untyped-def,type-arg]
        for name, sub in props.items():
            if isinstance(sub, dict) and isinstance(sub.get("properties"), dict):
                yield from dates(sub["properties"], f"{path}{name}.")
            elif isinstance(sub, dict) and sub.get("format") in ("date", "date-time") and not sub.get("readOnly"):
                yield path + name, sub
    missing = []
    for form in sorted(FORMS.glob("*.schema.json")):
        schema = json.loads(form.read_text(encoding="utf-8"))
        for name, sub in dates(schema.get("properties") or {}):
            if not ({"x-no-futura", "x-despues-de"} & set(sub)):
                missing.append(f"{form.name}: {name}")
            for key in ("x-despues-de", "x-antes-de"):
                refs = sub.get(key)
                for ref in refs if isinstance(refs, list) else [refs] if refs else []:
                    assert str(ref.get("mensaje", "")).rstrip(".").endswith(")"), f"{form.name}: {name}: {ref}"
    assert missing == []
