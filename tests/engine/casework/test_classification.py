"""Every form field and every data name carries its classification, and the rule reads only it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.casework import classification
from engine.casework.classification import Clasificacion
from engine.casework.people import UserView
from engine.casework.access import MASK, mask_data

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows"
SCHEMAS = sorted([*WORKFLOWS.glob("forms/*.schema.json"), *WORKFLOWS.glob("datos/*.schema.json")])
# Names that, in Spanish, almost always hold a person's identity: a guard against a new field left as
# "general" by mistake. It only checks the annotations; it decides nothing at run time.
LOOKS_IDENTIFYING = re.compile(r"(^nombre|_nombre|domicilio|tel[eé]fono|correo|curp|rfc|^persona_agresora$|(?<!caracter_)promovente$|"
                               r"(?<!comparecio_)persona_generadora|personas_receptoras|persona_notificada)")


def _leaves(schema: dict, path: str):  # type: ignore[no-untyped-def]
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        nested = sub.get("type") == "object" or (sub.get("type") == "array" and
                                                 (sub.get("items") or {}).get("type") == "object")
        if nested and classification.KEYWORD not in sub:
            yield from _leaves(sub if sub.get("type") == "object" else sub["items"], f"{path}.{name}")
        else:
            yield f"{path}.{name}", name, sub


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_field_is_classified(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    missing, wrong, suspicious = [], [], []
    for where, name, sub in _leaves(schema, path.stem):
        value = sub.get(classification.KEYWORD)
        if value is None:
            missing.append(where)
        elif value not in {c.value for c in Clasificacion}:
            wrong.append(f"{where}: {value}")
        elif LOOKS_IDENTIFYING.search(name) and value == "general":
            suspicious.append(where)
    assert not missing, f"add x-clasificacion to: {missing}"
    assert not wrong, wrong
    assert not suspicious, f"these look identifying but are classified general: {suspicious}"


def test_unclassified_free_text_is_sensitive_and_shapes_are_general() -> None:
    assert classification.of({"type": "string"}) is Clasificacion.SENSIBLE
    assert classification.of({"type": "string", "format": "date"}) is Clasificacion.GENERAL
    assert classification.of({"type": "string", "enum": ["a"]}) is Clasificacion.GENERAL
    assert classification.of({"type": "boolean"}) is Clasificacion.GENERAL
    assert classification.of(None) is Clasificacion.SENSIBLE  # described nowhere: the safe side
    assert classification.of({"type": "string", "x-clasificacion": "general"}) is Clasificacion.GENERAL
    with pytest.raises(ValueError):
        classification.of({"type": "string", "x-clasificacion": "publico"})


def test_the_role_rule_masks_by_class_not_by_name() -> None:
    manager = UserView(1, "g", "G", "manager", "ISM")
    caseworker = UserView(2, "a", "A", "caseworker", "ISM")
    schemas = {"x": {"type": "string", "x-clasificacion": "identificativo"},
               "nombre_autoridad": {"type": "string", "x-clasificacion": "general"},
               "relato": {"type": "string"},
               "lista": {"type": "array", "items": {"type": "object", "properties": {
                   "quien": {"type": "string", "x-clasificacion": "identificativo"},
                   "cuando": {"type": "string", "format": "date", "x-clasificacion": "general"}}}}}
    data = {"x": "María", "nombre_autoridad": "Fiscalía", "relato": "texto", "lista": [{"quien": "P", "cuando": "2026-01-02"}]}
    assert mask_data(data, caseworker, schemas) == data
    assert mask_data(data, manager, schemas) == {"x": MASK, "nombre_autoridad": "Fiscalía", "relato": MASK,
                                                 "lista": [{"quien": MASK, "cuando": "2026-01-02"}]}
