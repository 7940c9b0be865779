"""The server-side JSON-Schema form on the real procedures' schemas (workflows/forms)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.run import forms
from tests.web.conftest import REAL_WORKFLOWS
from web.cases import form_values, schema_form, schema_reading, value_display


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
            parsed = form_values.parse(s, form)
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
            if schema_reading.options(items) is not None:
                yield key + "__present", "1"  # the page's hidden marker: "none checked" is an empty list
                yield from ((key, schema_reading.as_text(v)) for v in value)
            else:
                yield key, "\n".join(str(v) for v in value)
        elif sub.get("format") == "date-time":
            yield key, schema_reading.local_input(value)
        else:
            yield key, schema_reading.as_text(value)


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
    data = form_values.parse(s, MultiDict({"decision_emision": "otorgar", "vigencia_dias": "90",
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
    parsed = form_values.parse(s, form)
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
    more = form_values.parse(s, MultiDict({**form, form_values.ADD_ROW: "integrantes"}))
    [rows, _] = schema_form.build(s, raw=more.raw)
    assert len(rows.rows) == 4
    # Stored values are shown back in the rows.
    [rows, _] = schema_form.build(s, {"integrantes": parsed.data["integrantes"]})
    assert by_name(rows.rows[0])["integrantes.0.persona"].value == "Ana"


def test_script_dates_are_shown_in_hermosillo_time() -> None:
    # Item 23: long Spanish dates in Hermosillo time (UTC instants converted), money as pesos.
    assert value_display.display("2026-03-02T10:05:00-07:00", None) == "2 de marzo de 2026, 10:05"
    assert value_display.display("2026-12-05T06:59:00Z", None) == "4 de diciembre de 2026, 23:59"
    assert value_display.display("2026-05-01", None) == "1 de mayo de 2026"
    assert value_display.display({"tipo_orden": "emergencia", "vigente_hasta": "2026-05-01T23:59:59-07:00"}, None) \
        == "Tipo orden: emergencia; Vigente hasta: 1 de mayo de 2026, 23:59"
    assert value_display.display(5865.5, {"x-formato": "moneda"}) == "$5,865.50"
    assert value_display.display(7038.6, {"title": "Multa (pesos)", "x-formato": "moneda"}) == "$7,038.60"
    assert value_display.display(117.31, None) == "117.31" and value_display.display(12000, None) == "12,000"


def test_nan_and_infinity_typed_in_a_number_field_are_not_numbers() -> None:
    s = {"type": "object", "properties": {"monto": {"type": "number", "title": "Monto"}}}
    for typed in ["nan", "inf", "-Infinity"]:
        data = form_values.parse(s, MultiDict({"monto": typed})).data
        assert data == {"monto": typed}
        try:
            forms.validate(s, data)
            errors: dict[str, str] = {}
        except Exception as exc:  # InvalidInput
            errors = exc.fields  # type: ignore[attr-defined]
        assert "monto" in errors
    assert form_values.parse(s, MultiDict({"monto": "12,5"})).data == {"monto": 12.5}


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


def test_protection_order_dates_follow_the_acts_they_answer() -> None:
    """Item 19 for the protection orders and the police's start: the same keywords, read by the renderer (the
    input's min/max and the rules shown) and by the server (the field named, problem first, article second).

    Case (Hermosillo time): the authority learned the facts Monday 2 March 2026, 10:00; the order was issued at
    11:00; a violation happened Wednesday 4 March, 21:50; the ratification term (5 natural days from the end of
    the risk on Wednesday 4 March) ended Monday 9 March, 23:59:59. Today is Thursday 5 March, 09:00.
    """
    from datetime import datetime, timedelta, timezone

    import pytest

    from engine.errors import InvalidInput
    from engine.run.date_rules import Context

    hmo = timezone(timedelta(hours=-7))
    caso = {"fecha_conocimiento": "2026-03-02T10:00:00-07:00", "fecha_emision": "2026-03-02T11:00:00-07:00",
            "fecha_hechos_violacion": "2026-03-04T21:50:00-07:00",
            "fecha_limite_ratificacion": "2026-03-09T23:59:59-07:00"}
    ctx = Context(datetime(2026, 3, 5, 9, 0, tzinfo=hmo), caso, {})

    def refused(name: str, data: dict[str, Any], at: Context = ctx) -> dict[str, str]:
        with pytest.raises(InvalidInput) as err:
            forms.validate(schema(name), data, at)
        return err.value.fields  # type: ignore[no-any-return]

    # Notification (Reglamento art. 43; LGAMVLV art. 34 Decies): from the issue (2 March) to today (5 March),
    # also for the notification of the person the order is issued against (a field inside an object).
    s = schema("orden_proteccion_notificacion")
    [fecha, _, agresora] = schema_form.build(s, context=ctx)
    assert (fecha.minimum, fecha.maximum) == ("2026-03-02T00:00", "2026-03-05T23:59")
    hora = by_name(agresora.children)["notificacion_persona_agresora.fecha_hora"]
    assert (hora.minimum, hora.maximum) == ("2026-03-02T00:00", "2026-03-05T23:59")
    ok = s["examples"][0]
    forms.validate(s, ok, ctx)  # 2 March 12:00 and 11:30: after the issue at 11:00, before now
    early = dict(ok, fecha_hora_notificacion="2026-03-02T10:30:00-07:00",
                 notificacion_persona_agresora=dict(ok["notificacion_persona_agresora"],
                                                    fecha_hora="2026-03-05T10:00:00-07:00"))
    assert refused("orden_proteccion_notificacion", early) == {
        "fecha_hora_notificacion": "La notificación no puede ser anterior a la emisión de la orden (Reglamento art. 43).",
        "notificacion_persona_agresora.fecha_hora":
            "La notificación a la persona agresora no puede ser posterior a este momento (LGAMVLV art. 34 Decies)."}

    # Instants compare to the minute a person types: notified «11:00» while the order was stamped 11:00:40.
    stamped = Context(ctx.now, dict(caso, fecha_emision="2026-03-02T11:00:40-07:00"), {})
    forms.validate(s, dict(ok, fecha_hora_notificacion="2026-03-02T11:00:00-07:00",
                           notificacion_persona_agresora=dict(ok["notificacion_persona_agresora"],
                                                              fecha_hora="2026-03-02T11:00:00-07:00")), stamped)
    assert refused("orden_proteccion_notificacion", dict(ok, fecha_hora_notificacion="2026-03-02T10:59:00-07:00"),
                   stamped) == {"fecha_hora_notificacion":
                                "La notificación no puede ser anterior a la emisión de la orden (Reglamento art. 43)."}

    # The request: the moment the authority learned the facts is not later than now (LGAMVLV art. 28); one hour
    # ahead is refused at the start of the case, the same minute as now is accepted.
    inicio = schema("orden_proteccion_inicio")["examples"][0]
    assert refused("orden_proteccion_inicio", dict(inicio, fecha_hora_conocimiento="2026-03-05T10:00:00-07:00")) == {
        "fecha_hora_conocimiento":
            "La fecha y hora en que la autoridad conoció los hechos no puede ser posterior a este momento (LGAMVLV art. 28)."}
    forms.validate(schema("orden_proteccion_inicio"), dict(inicio, fecha_hora_conocimiento="2026-03-05T09:00:00-07:00"),
                   ctx)

    # The police intervene after the violation (Reglamento art. 44): 21:40 on 4 March is before the facts.
    intervencion = schema("orden_proteccion_intervencion_policial")["examples"][0]
    assert refused("orden_proteccion_intervencion_policial",
                   dict(intervencion, fecha_hora_intervencion="2026-03-04T21:40:00-07:00")) == {
        "fecha_hora_intervencion":
            "La intervención no puede ser anterior a los hechos de la violación reportada (Reglamento art. 44)."}
    # ... and after the call for help when the police's own procedure started the case.
    llamada = Context(ctx.now, {"fecha_hora_llamada": "2026-03-04T22:00:00-07:00"}, {})
    assert refused("orden_proteccion_intervencion_policial",
                   dict(intervencion, fecha_hora_intervencion="2026-03-04T21:55:00-07:00"), llamada) == {
        "fecha_hora_intervencion": "La intervención no puede ser anterior a la llamada de auxilio (Reglamento art. 44)."}

    # Certifying the ratification term (Reglamento art. 41): only once it ended (strictly after 9 March), and the
    # appearance it certifies is not after the certification. Today: Tuesday 10 March.
    diez = Context(datetime(2026, 3, 10, 9, 0, tzinfo=hmo), caso, {})
    f = by_name(schema_form.build(schema("orden_proteccion_certificacion_ratificacion"), context=diez))
    assert (f["fecha_certificacion"].minimum, f["fecha_certificacion"].maximum) == ("2026-03-10", "2026-03-10")
    assert (f["fecha_ratificacion"].minimum, f["fecha_ratificacion"].maximum) == ("2026-03-02", "2026-03-10")
    assert "La comparecencia no puede ser posterior a la certificación que la hace constar" \
           " (Reglamento art. 41, primer párrafo)." in f["fecha_ratificacion"].rules
    assert refused("orden_proteccion_certificacion_ratificacion", {
        "fecha_certificacion": "2026-03-09", "ratificacion_recibida": True, "fecha_ratificacion": "2026-03-10"},
        diez) == {
        "fecha_certificacion": "La certificación debe ser posterior al vencimiento del plazo para ratificar"
                               " (Reglamento art. 41, primer párrafo).",
        "fecha_ratificacion": "La comparecencia no puede ser posterior a la certificación que la hace constar"
                              " (Reglamento art. 41, primer párrafo)."}
    forms.validate(schema("orden_proteccion_certificacion_ratificacion"), {
        "fecha_certificacion": "2026-03-10", "ratificacion_recibida": True, "fecha_ratificacion": "2026-03-09"}, diez)

    # Reports to the register (Reglamento art. 28) and the follow-up contact (LGAMVLV art. 34 Bis).
    assert refused("orden_proteccion_informe_orden", {"fecha_informe_orden": "2026-03-01",
                                                      "oficio_informe_orden": "MP/OP/10/2026"}) == {
        "fecha_informe_orden": "El informe no puede ser anterior a la emisión de la orden que informa (Reglamento art. 28)."}
    assert refused("orden_proteccion_informe_violacion", {"fecha_informe": "2026-03-03", "oficio_informe": "1"}) == {
        "fecha_informe": "El informe no puede ser anterior a la violación que informa"
                         " (Reglamento arts. 23, fracción IV, y 28)."}
    contacto = schema("orden_proteccion_contacto")["examples"][0]
    assert refused("orden_proteccion_contacto", dict(contacto, fecha_hora_contacto="2026-03-06T09:00:00-07:00")) == {
        "fecha_hora_contacto": "El contacto con la víctima no puede ser posterior a este momento (LGAMVLV art. 34 Bis)."}
