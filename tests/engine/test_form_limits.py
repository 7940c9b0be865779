"""Form bounds read from the legal parameters (``x-minimo-parametro`` / ``x-maximo-parametro``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.deploy.parameters import load_parameters
from engine.errors import InvalidInput
from engine.run import forms
from engine.run.form_limits import BOUNDS, parameter, resolve

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
SCHEMA = {"type": "object", "properties": {"vigencia_dias": {
    "type": "integer", "minimum": 1, "maximum": 60, "x-maximo-parametro": "orden_proteccion.vigencia_max_dias",
    "description": "Hasta {maximo} días.", "x-error": "La vigencia debe ser de {minimo} a {maximo} días naturales."}}}


def test_the_bound_and_its_message_follow_the_parameter() -> None:
    resolved = resolve(SCHEMA, {"orden_proteccion": {"vigencia_max_dias": 45}})
    field = resolved["properties"]["vigencia_dias"]
    assert field["maximum"] == 45 and field["description"] == "Hasta 45 días."
    assert field["x-error"] == "La vigencia debe ser de 1 a 45 días naturales."
    assert SCHEMA["properties"]["vigencia_dias"]["maximum"] == 60  # the schema itself is not changed
    # Without parameters (a linter, an example check) the literal bound stands, also in the words.
    assert resolve(SCHEMA, None)["properties"]["vigencia_dias"]["description"] == "Hasta 60 días."


def test_the_server_refuses_past_the_parameter() -> None:
    context = forms.context({}, {"orden_proteccion": {"vigencia_max_dias": 45}})
    forms.validate(SCHEMA, {"vigencia_dias": 45}, context)
    with pytest.raises(InvalidInput) as refused:
        forms.validate(SCHEMA, {"vigencia_dias": 46}, context)
    assert refused.value.fields == {"vigencia_dias": "La vigencia debe ser de 1 a 45 días naturales."}
    forms.validate(SCHEMA, {"vigencia_dias": 50}, forms.context({}, {"orden_proteccion": {"vigencia_max_dias": 90}}))


def test_every_shipped_form_names_a_numeric_parameter() -> None:
    """A typo in a parameter path would leave the literal bound silently in force."""
    params = load_parameters(WORKFLOWS / "parameters.toml")
    found = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key in BOUNDS:
                if key in node:
                    value = parameter(params, str(node[key]))
                    assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{where}: {node[key]}"
                    found.append(node[key])
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}/{i}")

    for path in sorted((WORKFLOWS / "forms").glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")), path.name)
    assert "orden_proteccion.vigencia_max_dias" in found
