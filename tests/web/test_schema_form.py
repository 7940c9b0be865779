"""The server-side JSON-Schema form on the real procedures' schemas (workflows/forms)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.run import forms
from tests.web.conftest import REAL_WORKFLOWS
from web.cases import schema_form


def schema(name: str) -> dict[str, Any]:
    return json.loads((REAL_WORKFLOWS / "forms" / f"{name}.schema.json").read_text(encoding="utf-8"))


def by_name(fields: list[schema_form.Field]) -> dict[str, schema_form.Field]:
    return {f.name: f for f in fields}


def test_every_real_form_renders_and_parses_its_own_examples() -> None:
    """Each example of each form, typed into the widgets, comes back as the same data and validates."""
    for path in sorted((REAL_WORKFLOWS / "forms").glob("*.schema.json")):
        s = json.loads(path.read_text(encoding="utf-8"))
        assert schema_form.build(s), path.name
        for example in s.get("examples", []):
            form = MultiDict(list(_typed(s, example)))
            parsed = schema_form.parse(s, form)
            assert parsed.data == example, path.name
            forms.validate(s, parsed.data)


def _typed(s: dict[str, Any], data: dict[str, Any], prefix: str = "") -> Any:
    """What a browser would submit for these values."""
    for name, value in data.items():
        sub = (s.get("properties") or {}).get(name, {})
        key = prefix + name
        if isinstance(value, dict):
            yield from _typed(sub, value, key + ".")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, item in enumerate(value):
                yield from _typed(sub["items"], item, f"{key}.{i}.")
        elif isinstance(value, list):
            items = sub.get("items") or {}
            if schema_form._options(items) is not None:
                yield key + "__present", "1"  # the page's hidden marker: "none checked" is an empty list
                yield from ((key, schema_form._str(v)) for v in value)
            else:
                yield key, "\n".join(str(v) for v in value)
        elif sub.get("format") == "date-time":
            yield key, schema_form._local_input(value)
        else:
            yield key, schema_form._str(value)


def test_oneof_const_title_enums_and_widgets() -> None:
    f = by_name(schema_form.build(schema("orden_proteccion_inicio")))
    assert f["solicitante_tipo"].kind == "radio"
    assert f["solicitante_tipo"].options == [("victima", "La persona afectada"),
                                             ("tercero", "Otra persona (tercero), excepcionalmente")]
    assert f["tipo_orden_solicitada"].kind == "select" and len(f["tipo_orden_solicitada"].options) == 4
    assert f["nombre_victima"].kind == "text"  # a name (maxLength 300) is one line
    assert f["hechos"].kind == "textarea"  # maxLength 5000
    n = by_name(schema_form.build(schema("orden_proteccion_notificacion")))
    assert n["fecha_hora_notificacion"].kind == "datetime"
    assert n["autoridades_notificadas"].kind == "checkboxes"
    group = by_name(n["notificacion_persona_agresora"].children)
    assert group["notificacion_persona_agresora.por_conducto_de_la_victima"].kind == "boolean"
    assert group["notificacion_persona_agresora.medio"].kind == "select"


def test_if_then_requirements_are_shown_on_the_fields_they_concern() -> None:
    f = by_name(schema_form.build(schema("orden_proteccion_emision")))
    otorgar = "«Decisión» es «Otorgar la orden»"
    for name in ("tipo_orden", "vigencia_dias", "medidas", "lugar_emision", "autoridad_emisora", "persona_agresora"):
        assert f[name].required_when == [otorgar] and not f[name].required, name
    assert f["motivo_negativa"].required_when == ["«Decisión» es «Negar la orden (motivadamente)»"]
    assert f["decision_emision"].required and f["decision_emision"].required_when == []
    r = by_name(schema_form.build(schema("sancion_recurso")))
    assert r["folio_garantia"].required_when and " o " in r["folio_garantia"].required_when[0]  # an enum condition
    s = by_name(schema_form.build(schema("sancion_resolucion")))
    assert len(s["arresto_horas"].required_when) == 2  # two rules make it obligatory
    assert any(" y " in c for c in s["multa_uma"].required_when)  # a rule on several fields


def test_x_error_messages_land_next_to_their_fields() -> None:
    s = schema("orden_proteccion_emision")
    data = schema_form.parse(s, MultiDict({"decision_emision": "otorgar", "vigencia_dias": "90",
                                           "fundamentacion": "x"})).data
    try:
        forms.validate(s, data)
    except Exception as exc:  # InvalidInput
        errors = exc.fields  # type: ignore[attr-defined]
    fields = schema_form.build(s, raw={"vigencia_dias": "90"})
    assert schema_form.attach_errors(fields, errors) == {}
    f = by_name(fields)
    # Problem first, article second (issue 10, item 21).
    assert f["vigencia_dias"].error == "La vigencia debe ser de 1 a 60 días naturales (LGAMVLV art. 28)."
    assert f["lugar_emision"].error == "Escriba el lugar donde se emite la orden (Reglamento art. 43)."


def test_arrays_of_objects_are_rows_and_blank_rows_are_dropped() -> None:
    s = schema("agravio_grupo_interinstitucional")
    [rows, fecha] = schema_form.build(s)
    assert rows.kind == "rows" and len(rows.rows) == 2  # minItems 2
    assert [c.name for c in rows.rows[1]] == ["integrantes.1.institucion", "integrantes.1.persona",
                                             "integrantes.1.disciplina"]
    assert fecha.kind == "date"
    form = MultiDict({"integrantes.0.institucion": "ISM", "integrantes.0.persona": "Ana", "integrantes.0.disciplina":
                      "Derecho", "integrantes.1.institucion": "", "integrantes.2.institucion": "UNISON",
                      "fecha_instalacion": "2026-03-02"})
    parsed = schema_form.parse(s, form)
    assert parsed.data["integrantes"] == [{"institucion": "ISM", "persona": "Ana", "disciplina": "Derecho"},
                                          {"institucion": "UNISON"}]
    assert parsed.raw["integrantes.1.institucion"] == "UNISON"  # renumbered like the data
    try:
        forms.validate(s, parsed.data)
    except Exception as exc:
        errors = exc.fields  # type: ignore[attr-defined]
    assert "integrantes.1.persona" in errors
    [rows, _] = fields = schema_form.build(s, raw=parsed.raw)
    assert schema_form.attach_errors(fields, errors) == {}
    assert len(rows.rows) == 3  # the two kept and a blank one
    assert by_name(rows.rows[1])["integrantes.1.institucion"].value == "UNISON"
    assert by_name(rows.rows[1])["integrantes.1.persona"].error == "Este campo es obligatorio."
    # "Agregar renglón" asks for more rows without saving.
    more = schema_form.parse(s, MultiDict({**form, schema_form.ADD_ROW: "integrantes"}))
    [rows, _] = schema_form.build(s, raw=more.raw)
    assert len(rows.rows) == 4
    # Stored values are shown back in the rows.
    [rows, _] = schema_form.build(s, {"integrantes": parsed.data["integrantes"]})
    assert by_name(rows.rows[0])["integrantes.0.persona"].value == "Ana"


def test_script_dates_are_shown_in_hermosillo_time() -> None:
    # Item 23: long Spanish dates in Hermosillo time (UTC instants converted), money as pesos.
    assert schema_form.display("2026-03-02T10:05:00-07:00", None) == "2 de marzo de 2026, 10:05"
    assert schema_form.display("2026-12-05T06:59:00Z", None) == "4 de diciembre de 2026, 23:59"
    assert schema_form.display("2026-05-01", None) == "1 de mayo de 2026"
    assert schema_form.display({"tipo_orden": "emergencia", "vigente_hasta": "2026-05-01T23:59:59-07:00"}, None) \
        == "Tipo orden: emergencia; Vigente hasta: 1 de mayo de 2026, 23:59"
    assert schema_form.display(5865.5, {"x-formato": "moneda"}) == "$5,865.50"
    assert schema_form.display(7038.6, {"title": "Multa (pesos)", "x-formato": "moneda"}) == "$7,038.60"
    assert schema_form.display(117.31, None) == "117.31" and schema_form.display(12000, None) == "12,000"


def test_nan_and_infinity_typed_in_a_number_field_are_not_numbers() -> None:
    s = {"type": "object", "properties": {"monto": {"type": "number", "title": "Monto"}}}
    for typed in ["nan", "inf", "-Infinity"]:
        data = schema_form.parse(s, MultiDict({"monto": typed})).data
        assert data == {"monto": typed}
        try:
            forms.validate(s, data)
            errors: dict[str, str] = {}
        except Exception as exc:  # InvalidInput
            errors = exc.fields  # type: ignore[attr-defined]
        assert "monto" in errors
    assert schema_form.parse(s, MultiDict({"monto": "12,5"})).data == {"monto": 12.5}


def test_date_rules_bound_the_inputs_and_the_engine_checks_the_same_rules() -> None:
    """Item 19: one syntax (x-no-futura, x-despues-de, x-antes-de) read by the renderer and by the server."""
    from datetime import datetime, timedelta, timezone

    import pytest

    from engine.errors import InvalidInput
    from engine.run.date_rules import Context

    today = datetime(2026, 3, 12, 9, 0, tzinfo=timezone(timedelta(hours=-7)))
    ctx = Context(today, {"fecha_limite_prevencion": "2026-03-11T23:59:59-07:00"}, {})
    s = schema("agravio_desechamiento")
    f = by_name(schema_form.build(s, context=ctx))["fecha_desechamiento"]
    # today (engine clock) is the max; case data written earlier (the term's end, strictly after) the min
    assert (f.minimum, f.maximum) == ("2026-03-12", "2026-03-12")
    assert any(r.startswith("El desechamiento debe ser posterior al vencimiento") for r in f.rules)
    with pytest.raises(InvalidInput) as err:
        forms.validate(s, {"fecha_desechamiento": "2026-03-11", "numero_acuerdo": "1", "fundamentacion": "x"}, ctx)
    assert err.value.fields["fecha_desechamiento"].startswith("El desechamiento debe ser posterior")
    forms.validate(s, {"fecha_desechamiento": "2026-03-12", "numero_acuerdo": "1", "fundamentacion": "x"}, ctx)

    # a legal parameter: the Ley de Violencia Familiar's entry into force is the infraction's min
    ctx = Context(today, {}, {"sancion": {"ley_vigente_desde": "2000-01-30"}})
    f = by_name(schema_form.build(schema("sancion_registro"), context=ctx))["fecha_infraccion"]
    assert (f.minimum, f.maximum) == ("2000-01-30", "2026-03-12")

    # another field of the same form: shown as a rule, checked on submission (no static bound)
    s = schema("sancion_citacion")
    f = by_name(schema_form.build(s, context=Context(today, {"fecha_infraccion": "2026-03-10"}, {})))
    assert f["fecha_hora_comparecencia"].maximum is None  # a scheduled act may be in the future
    assert f["fecha_hora_comparecencia"].minimum is None
    assert f["fecha_citacion"].minimum == "2026-03-10" and f["fecha_citacion"].maximum == "2026-03-12"
    assert f["fecha_hora_comparecencia"].rules == [
        "La comparecencia no puede ser anterior a la citación que la fija (Ley de Violencia Familiar art. 50)."]


def test_a_fixed_legal_value_is_a_select_and_messages_name_the_problem_first() -> None:
    """Items 20 and 21."""
    import pytest

    from engine.errors import InvalidInput

    f = by_name(schema_form.build(schema("sancion_notificacion")))["tipo_notificacion"]
    assert f.kind == "select" and f.options == [("personal", "Personal")] and f.value == "personal"
    f = by_name(schema_form.build(schema("agravio_convocatoria")))["tipo_sesion"]
    assert f.kind == "select" and f.value == "extraordinaria"
    with pytest.raises(InvalidInput) as err:
        forms.validate(schema("agravio_convocatoria"), {"fecha_convocatoria": "2026-04-20",
                                                       "fecha_sesion": "2026-04-27", "tipo_sesion": "ordinaria"})
    assert err.value.fields["tipo_sesion"] == "La sesión es extraordinaria (Reglamento art. 37, segundo párrafo)."
    s = schema("orden_proteccion_emision")
    data = {"decision_emision": "otorgar", "fundamentacion": "Reglamento arts. 42 y 43."}
    with pytest.raises(InvalidInput) as err:
        forms.validate(s, data)
    fields = err.value.fields
    assert fields["lugar_emision"] == "Escriba el lugar donde se emite la orden (Reglamento art. 43)."
    assert fields["vigencia_dias"].startswith("Escriba la vigencia de la orden, de 1 a 60 días")
    assert len(set(fields.values())) == len(fields)  # not the same sentence of art. 43 five times
    with pytest.raises(InvalidInput) as err:
        forms.validate(s, {**data, "vigencia_dias": 0})
    assert err.value.fields["vigencia_dias"] == "La vigencia debe ser de 1 a 60 días naturales (LGAMVLV art. 28)."
