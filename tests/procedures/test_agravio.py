"""Agravio investigation (Reglamento arts. 32–40): every path of workflows/bpmn/agravio.bpmn.

Calendar facts used below (computed by hand, America/Hermosillo):
* 2026-03-02 is a Monday; 7–8 March are a weekend.
* 16 March 2026 is the third Monday of March: LFT art. 74 holiday (Natalicio de Benito Juárez).
* Holy Thursday 2 April and Good Friday 3 April 2026 are in workflows/calendar/sonora.toml with a source
  "pendiente de confirmar": until their acuerdo is cited they are días hábiles (issue 10, item 17), and
  the deadlines that run over them list them as pending.
* 1 May 2026 (Friday) is an LFT art. 74 holiday.
* A term in days runs from the day after its start and ends at 23:59:59 of its last day.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import InvalidInput
from tests.procedures.conftest import DROP, Case, deadline_days, example, local

INICIO = example("agravio_inicio")  # received in writing on Monday 2026-03-02
RECIBIDA = "2026-03-02T10:00:00"


def registrada(t: Any, start: Any, **registro: Any) -> Case:
    c = start(t, "agravio", INICIO, RECIBIDA)
    assert c.open() == ["registrar_solicitud"]
    c.do("registrar_solicitud", example("agravio_registro", **registro))
    return c


def revisada(t: Any, start: Any, omitidos: list[str]) -> Case:
    c = registrada(t, start)
    c.do("informar_sistema_estatal", example("agravio_informe_sistema"), at="2026-03-04T12:00:00")
    c.do("revisar_requisitos", {"requisitos_omitidos": omitidos}, at="2026-03-05T12:00:00")
    return c


def admitida(t: Any, start: Any) -> Case:
    """Complete on receipt; radicación accepted on Monday 2026-03-09 (fecha_acuerdo_radicacion)."""
    c = revisada(t, start, [])
    c.do("resolver_radicacion", example("agravio_radicacion", 0), at="2026-03-09T12:00:00")
    assert c.open() == ["planear_investigacion"]
    return c


def hasta_remision(t: Any, start: Any, recepcion_acuerdo: str) -> Case:
    c = admitida(t, start)
    c.do("planear_investigacion", example("agravio_plan_investigacion", 1), at="2026-03-20T10:00:00")
    c.do("elaborar_proyecto_dictamen", example("agravio_proyecto_dictamen"), at="2026-04-20T10:00:00")
    c.do("convocar_sesion_extraordinaria", example("agravio_convocatoria"))
    c.do("celebrar_sesion_extraordinaria", example("agravio_sesion_extraordinaria", 1), at="2026-04-27T10:00:00")
    c.do("resolver_existencia_agravio", example("agravio_resolucion_sistema", 0), at="2026-05-11T10:00:00")
    c.do("responder_procedencia", example("agravio_respuesta_procedencia"), at="2026-05-12T10:00:00")
    assert c.open() == ["remitir_acuerdo_autoridad"]
    c.do("remitir_acuerdo_autoridad", example("agravio_remision_acuerdo", fecha_recepcion_acuerdo=recepcion_acuerdo),
         at=f"{recepcion_acuerdo}T10:00:00")
    assert c.open() == []
    return c


# --- 1. registration and 2. the six-month bar ----------------------------------------------------------

def test_registro_exige_un_organismo_del_art_33(tramita_sqlite: Any, start: Any) -> None:
    c = start(tramita_sqlite, "agravio", INICIO, RECIBIDA)
    with pytest.raises(InvalidInput) as err:
        c.do("registrar_solicitud", example("agravio_registro", tipo_solicitante="persona_fisica"))
    assert "art. 33" in err.value.fields["tipo_solicitante"]
    assert c.open() == ["registrar_solicitud"]  # nothing was saved


# Art. 36, third paragraph, by the administrative month rule (LFPA art. 29; parameter
# agravio.impedimento_desechamiento_regla): the six months end at 23:59:59 of the same day number six
# months later (moved to the next business day if inhábil); a new request is admissible the day after.
@pytest.mark.parametrize(("desechada", "admisible_desde", "impedida"), [
    # Desechada Monday 2025-12-15: the bar ends Monday 2026-06-15; admissible from 16 June: refused.
    ("2025-12-15", "2026-06-16", True),
    # Desechada 2025-09-02: the bar ends Monday 2026-03-02 itself, the day of receipt: refused.
    ("2025-09-02", "2026-03-03", True),
    # Desechada 2025-08-28: 28 February 2026 is a Saturday, 1 March a Sunday -> the bar ends Monday
    # 2 March: refused.
    ("2025-08-28", "2026-03-03", True),
    # Desechada 2025-08-27: the bar ends Friday 2026-02-27; admissible from Saturday 28 February.
    ("2025-08-27", "2026-02-28", False),
])
def test_seis_meses_desde_el_desechamiento(tramita_sqlite: Any, start: Any, desechada: str, admisible_desde: str,
                                           impedida: bool) -> None:
    c = registrada(tramita_sqlite, start, solicitud_previa_desechada=True, expediente_previo="AGR-2025-007",
                   fecha_desechamiento_previo=desechada)
    assert c.value("verificar_impedimento_seis_meses", "impedida_por_desechamiento") is impedida
    assert c.value("verificar_impedimento_seis_meses", "fecha_admisible_desde") == admisible_desde
    if not impedida:
        assert c.open() == ["informar_sistema_estatal"]
        return
    assert c.open() == ["notificar_rechazo_impedimento"]
    c.do("notificar_rechazo_impedimento", example("agravio_rechazo_impedimento"), at="2026-03-03T10:00:00")
    assert c.status == "completed"
    assert {"fin_rechazo_impedimento"} <= c.reached()
    assert "informar_sistema_estatal" not in c.reached()


# --- 3. informing the Sistema Estatal ----------------------------------------------------------------

def test_informe_al_sistema_estatal_en_cinco_dias_habiles_y_escalado(tramita_sqlite: Any, start: Any) -> None:
    c = registrada(tramita_sqlite, start)
    # Art. 33: received Monday 2 March -> 3, 4, 5, 6 (days 1-4), weekend 7-8 skipped, Monday 9 = day 5.
    informe = c.task("informar_sistema_estatal")
    assert local(informe.due_at) == "2026-03-09T23:59:59-07:00"
    assert informe.deadline["citation"] == "Reglamento art. 33"
    assert informe.deadline["unit"] == "business" and informe.deadline["count"] == 5
    assert deadline_days(informe.deadline) == [("2026-03-07", "Sábado"), ("2026-03-08", "Domingo")]
    timer = c.timer("plazo_informe_vencido")
    assert local(timer.due_at) == "2026-03-09T23:59:59-07:00" and not timer.interrupting
    assert timer.deadline == informe.deadline

    assert c.fire("2026-03-09T23:59:58") == []  # still within the term
    [fired] = c.fire("2026-03-10T00:00:00")
    assert fired.outcome == "fired" and fired.task_name == "plazo_informe_vencido"
    # The authority missed its term: the task stays open, flagged overdue, and the escalation is recorded.
    informe = c.task("informar_sistema_estatal")
    assert informe.overdue
    assert "escalado_informe" in c.reached()
    event = [e for e in c.detail().events if e.kind == "timer_fired"][-1]
    assert event.detail["deadline_missed_on"] == "informar_sistema_estatal"
    c.do("informar_sistema_estatal", example("agravio_informe_sistema", fecha_informe="2026-03-10"))
    assert c.open() == ["revisar_requisitos"]


# --- 4. completeness check and prevención ---------------------------------------------------------------

def test_prevencion_no_desahogada_desecha_y_activa_el_impedimento(tramita_sqlite: Any, start: Any) -> None:
    c = revisada(tramita_sqlite, start, ["V", "VII"])
    assert c.open() == ["emitir_prevencion"]
    # The prevención is notified in writing on Friday 2026-03-06.
    c.do("emitir_prevencion", example("agravio_prevencion"), at="2026-03-06T12:00:00")
    subsanar = c.task("subsanar_prevencion")
    # Art. 36: 3 días hábiles from Fri 6 March -> weekend 7-8 skipped, Mon 9 (1), Tue 10 (2), Wed 11 (3).
    assert local(subsanar.due_at) == "2026-03-11T23:59:59-07:00"
    assert subsanar.deadline["citation"] == "Reglamento art. 36, primer párrafo"
    assert deadline_days(subsanar.deadline) == [("2026-03-07", "Sábado"), ("2026-03-08", "Domingo")]
    timer = c.timer("plazo_prevencion_vencido")
    assert timer.interrupting and timer.attached_to == "subsanar_prevencion"

    assert c.fire("2026-03-11T23:59:59") == []
    c.fire("2026-03-12T00:00:01")
    # The timer no longer desecha by itself (a cure filed on time may not have been captured yet): the
    # Instituto first certifies that nothing was filed, and only then the request is desechada.
    assert "registrar_desechamiento" not in c.reached()
    assert c.open() == ["certificar_desahogo_prevencion"]
    c.do("certificar_desahogo_prevencion", example("agravio_certificacion_desahogo", 0), at="2026-03-12T09:00:00")
    # Not cured in time: the Instituto agrees the dismissal, an act with its own date, typed on the
    # 13th for an acuerdo dated Thursday 12 March (not the day it was keyed in).
    assert c.open() == ["acordar_desechamiento"]
    assert "calificar_oportunidad_desahogo" not in c.reached()
    assert [t.state for t in c.all_tasks("subsanar_prevencion")] == ["CANCELLED"]
    c.do("acordar_desechamiento", example("agravio_desechamiento", fecha_desechamiento="2026-03-12"),
         at="2026-03-13T09:00:00")
    # ... and notifies it to the applicant.
    assert c.open() == ["notificar_desechamiento"]
    c.do("notificar_desechamiento", example("agravio_notificacion_desechamiento"), at="2026-03-13T12:00:00")
    assert c.status == "completed"
    assert {"registrar_desechamiento", "fin_desechada"} <= c.reached()
    data = c.data()
    assert data["fecha_desechamiento"] == "2026-03-12"
    assert data["fecha_notificacion_desechamiento"] == "2026-03-13"
    # Art. 36, third paragraph, administrative month rule: six months from Thursday 12 March -> 12 September
    # 2026 is a Saturday, 13 a Sunday -> the bar ends Monday 14 September, 23:59:59; admissible from the 15th.
    assert data["fin_impedimento"] == "2026-09-14T23:59:59-07:00"
    assert data["fecha_admisible_nueva_solicitud"] == "2026-09-15"
    assert "art. 36" in data["motivo_desechamiento"] and "2026-09-15" in data["motivo_desechamiento"]
    assert "2026-03-11T23:59:59-07:00" in data["motivo_desechamiento"]  # the computed deadline is shown

    # A new request about the same facts in August is refused, stating 15 September: the same rule.
    again = start(tramita_sqlite, "agravio", example("agravio_inicio", fecha_recepcion="2026-08-20"),
                  "2026-08-20T10:00:00")
    again.do("registrar_solicitud", example("agravio_registro", solicitud_previa_desechada=True,
                                            fecha_desechamiento_previo=data["fecha_desechamiento"]))
    assert again.open() == ["notificar_rechazo_impedimento"]
    assert again.value("verificar_impedimento_seis_meses", "fecha_admisible_desde") == "2026-09-15"


def test_prevencion_desahogada_y_no_admitida(tramita_sqlite: Any, start: Any) -> None:
    c = revisada(tramita_sqlite, start, ["V"])
    c.do("emitir_prevencion", example("agravio_prevencion", requisitos_a_subsanar=["V"]), at="2026-03-06T12:00:00")
    # Cured on Tuesday 10 March, within the term (due Wednesday 11).
    c.do("subsanar_prevencion", example("agravio_desahogo_prevencion"), at="2026-03-10T12:00:00")
    # The normal filing path is judged by the filing date too: 10 March <= 11 March.
    assert c.value("calificar_oportunidad_desahogo", "desahogo_extemporaneo") is False
    assert c.open() == ["revisar_requisitos"]
    assert c.timers("plazo_prevencion_vencido", status="cancelled")
    c.do("revisar_requisitos", {"requisitos_omitidos": []})
    assert c.value("sellar_solicitud_completa", "fecha_solicitud_completa") == "2026-03-10"
    radicacion = c.task("resolver_radicacion")
    # Art. 36: 5 días hábiles from Tue 10 March -> 11 (1), 12 (2), 13 (3); 14-15 weekend and Monday 16
    # (third Monday of March, LFT art. 74) skipped; 17 (4), 18 (5).
    assert local(radicacion.due_at) == "2026-03-18T23:59:59-07:00"
    assert deadline_days(radicacion.deadline) == [
        ("2026-03-14", "Sábado"), ("2026-03-15", "Domingo"), ("2026-03-16", "Natalicio de Benito Juárez")]
    assert radicacion.deadline["citation"] == "Reglamento art. 36, primer párrafo"
    # Art. 35: systematic violence not shown -> not admitted, and the requester is notified.
    c.do("resolver_radicacion", example("agravio_radicacion", 1, fecha_acuerdo_radicacion="2026-03-17"),
         at="2026-03-17T10:00:00")
    assert c.open() == ["notificar_no_admision"]
    c.do("notificar_no_admision", example("agravio_no_admision", fecha_notificacion="2026-03-17"))
    assert c.status == "completed"
    assert "fin_no_admitida" in c.reached() and "investigacion" not in c.reached()


def test_la_prevencion_se_hace_una_sola_vez(tramita_sqlite: Any, start: Any) -> None:
    c = revisada(tramita_sqlite, start, ["V"])
    c.do("emitir_prevencion", example("agravio_prevencion", requisitos_a_subsanar=["V"]), at="2026-03-06T12:00:00")
    c.do("subsanar_prevencion", {"fecha_desahogo": "2026-03-10"}, at="2026-03-10T12:00:00")
    # Still incomplete after the only prevención (art. 36, «por una sola vez»): no second prevención; and
    # while the 3 días hábiles run (they end Wednesday 11 March, 23:59:59) the request is not desechada:
    # art. 36 desecha only «transcurrido el plazo sin que se desahogue».
    c.do("revisar_requisitos", {"requisitos_omitidos": ["V"]}, at="2026-03-11T10:00:00")
    assert c.open() == ["subsanar_prevencion"]
    assert local(c.task("subsanar_prevencion").due_at) == "2026-03-11T23:59:59-07:00"
    assert "acordar_desechamiento" not in c.reached()
    assert len(c.all_tasks("emitir_prevencion")) == 1
    # The term runs out with nothing more filed: certified, then desechada by an acuerdo dated the 12th.
    c.fire("2026-03-12T00:00:01")
    c.do("certificar_desahogo_prevencion", example("agravio_certificacion_desahogo", 0), at="2026-03-12T09:00:00")
    c.do("acordar_desechamiento", example("agravio_desechamiento", fecha_desechamiento="2026-03-12"))
    c.do("notificar_desechamiento", example("agravio_notificacion_desechamiento"), at="2026-03-13T09:00:00")
    assert c.status == "completed" and "fin_desechada" in c.reached()
    assert len(c.all_tasks("emitir_prevencion")) == 1
    assert c.data()["fecha_desechamiento"] == "2026-03-12"


def test_desahogo_incompleto_el_segundo_dia_no_desecha_y_se_completa_en_plazo(tramita_any: Any,
                                                                             start: Any) -> None:
    """Item 11: an incomplete cure on day 2 does not dismiss while the term runs; a complete one on day 3 wins."""
    c = revisada(tramita_any, start, ["V", "VII"])
    # Notified Friday 6 March: Monday 9 (1), Tuesday 10 (2), Wednesday 11 (3) -> 2026-03-11T23:59:59.
    c.do("emitir_prevencion", example("agravio_prevencion"), at="2026-03-06T12:00:00")
    c.do("subsanar_prevencion", {"fecha_desahogo": "2026-03-10"}, at="2026-03-10T12:00:00")  # day 2
    c.do("revisar_requisitos", {"requisitos_omitidos": ["VII"]}, at="2026-03-10T13:00:00")
    assert c.open() == ["subsanar_prevencion"] and c.status == "running"
    c.do("subsanar_prevencion", {"fecha_desahogo": "2026-03-11"}, at="2026-03-11T11:00:00")  # day 3
    c.do("revisar_requisitos", {"requisitos_omitidos": []}, at="2026-03-11T12:00:00")
    assert c.open() == ["resolver_radicacion"]
    assert "acordar_desechamiento" not in c.reached()
    # Radicación: 5 días hábiles from the complete filing on Wednesday 11 March: 12, 13, (14-15 weekend,
    # 16 LFT holiday), 17, 18, 19 -> Thursday 19 March.
    assert c.value("sellar_solicitud_completa", "fecha_solicitud_completa") == "2026-03-11"
    assert local(c.task("resolver_radicacion").due_at) == "2026-03-19T23:59:59-07:00"


def test_el_desechamiento_no_puede_fecharse_antes_del_vencimiento_ni_en_el_futuro(tramita_sqlite: Any,
                                                                                  start: Any) -> None:
    """Item 12 and 19: the acuerdo's date follows the term it closes and is not in the future."""
    c = revisada(tramita_sqlite, start, ["V"])
    c.do("emitir_prevencion", example("agravio_prevencion"), at="2026-03-06T12:00:00")
    c.fire("2026-03-12T00:00:01")
    c.do("certificar_desahogo_prevencion", example("agravio_certificacion_desahogo", 0), at="2026-03-12T09:00:00")
    with pytest.raises(InvalidInput) as err:  # the term ended on the 11th: «transcurrido el plazo»
        c.do("acordar_desechamiento", example("agravio_desechamiento", fecha_desechamiento="2026-03-11"))
    assert err.value.fields["fecha_desechamiento"].startswith("El desechamiento debe ser posterior al vencimiento")
    with pytest.raises(InvalidInput) as err:  # tomorrow (the clock says 12 March)
        c.do("acordar_desechamiento", example("agravio_desechamiento", fecha_desechamiento="2026-03-13"))
    assert "no puede ser posterior a hoy" in err.value.fields["fecha_desechamiento"]
    assert c.open() == ["acordar_desechamiento"]
    c.do("acordar_desechamiento", example("agravio_desechamiento", fecha_desechamiento="2026-03-12"))
    with pytest.raises(InvalidInput) as err:  # notified before the acuerdo it notifies
        c.do("notificar_desechamiento", example("agravio_notificacion_desechamiento",
                                                fecha_notificacion_desechamiento="2026-03-11"))
    assert "anterior al acuerdo de desechamiento" in err.value.fields["fecha_notificacion_desechamiento"]


# --- 5. radicación, 6. investigation, 7. resolution, 8. amendment --------------------------------------

def test_radicacion_fuera_de_plazo_escala(tramita_sqlite: Any, start: Any) -> None:
    c = revisada(tramita_sqlite, start, [])
    # Complete on receipt (2 March): 5 días hábiles -> Monday 9 March (weekend 7-8 skipped).
    assert c.value("sellar_solicitud_completa", "fecha_solicitud_completa") == "2026-03-02"
    assert local(c.task("resolver_radicacion").due_at) == "2026-03-09T23:59:59-07:00"
    c.fire("2026-03-10T08:00:00")
    assert "escalado_radicacion" in c.reached()
    assert c.task("resolver_radicacion").overdue


def test_investigacion_con_grupo_informacion_comision_y_norma_reformada(tramita_any: Any, start: Any) -> None:
    c = admitida(tramita_any, start)
    # Art. 36, second paragraph: 45 días hábiles from the acceptance on Monday 9 March 2026.
    # March: 10-13 (4), 16 holiday, 17-20 (8), 23-27 (13), 30-31 (15);
    # April: 1-3 (18; Holy Thursday 2 and Good Friday 3 count: "pendiente de confirmar"), 6-10 (23),
    # 13-17 (28), 20-24 (33), 27-30 (37); May: 1 holiday, 4-8 (42), 11-13 (45) -> Wednesday 13 May 2026.
    plan = c.task("planear_investigacion")
    assert local(plan.due_at) == "2026-05-13T23:59:59-07:00"
    assert plan.deadline["citation"] == "Reglamento art. 36, segundo párrafo"
    inhabiles = dict(deadline_days(plan.deadline))
    assert {d for d, r in inhabiles.items() if r not in ("Sábado", "Domingo")} == {"2026-03-16", "2026-05-01"}
    assert {p["day"]: p["reason"] for p in plan.deadline["pending"]} == {
        "2026-04-02": "Jueves Santo", "2026-04-03": "Viernes Santo"}
    assert len(inhabiles) == 2 + 18  # and the 9 weekends between 14 March and 10 May
    assert local(c.timer("plazo_procedencia_vencido").due_at) == "2026-05-13T23:59:59-07:00"

    # Art. 37: an inter-institutional group, and more information from the requester.
    c.do("planear_investigacion", example("agravio_plan_investigacion", 0), at="2026-03-12T10:00:00")
    assert c.open() == ["conformar_grupo_interinstitucional"]
    c.do("conformar_grupo_interinstitucional", example("agravio_grupo_interinstitucional"), at="2026-03-16T10:00:00")
    c.do("recibir_estudio_grupo", example("agravio_estudio_grupo"), at="2026-04-10T10:00:00")
    # Requirement notified on Monday 13 April: 5 días hábiles -> 14-17 (4), weekend, Monday 20 (5).
    c.do("solicitar_informacion_adicional", example("agravio_solicitud_informacion"), at="2026-04-13T10:00:00")
    remitir = c.task("remitir_informacion_adicional")
    assert local(remitir.due_at) == "2026-04-20T23:59:59-07:00"
    assert remitir.deadline["citation"] == "Reglamento art. 37, primer párrafo"
    assert c.fire("2026-04-20T23:59:59") == []
    c.fire("2026-04-21T00:00:01")
    # The timer no longer records the omission by itself: the Instituto first certifies that nothing
    # was sent (information sent on time but not yet captured would still count).
    assert c.open() == ["certificar_informacion_adicional"]
    assert "registrar_informacion_no_remitida" not in c.reached()
    c.do("certificar_informacion_adicional", example("agravio_certificacion_informacion", 0), at="2026-04-21T09:00:00")
    # Not sent in time: recorded, and the investigation goes on with what is available.
    assert "registrar_informacion_no_remitida" in c.reached()
    assert "calificar_oportunidad_informacion" not in c.reached()
    assert "2026-04-20T23:59:59-07:00" in c.value("registrar_informacion_no_remitida", "nota_informacion")
    assert c.value("registrar_informacion_no_remitida", "informacion_adicional_remitida") is False
    assert c.open() == ["elaborar_proyecto_dictamen"]

    # Arts. 37-38: proyecto de dictamen, extraordinary session, comisión dictaminadora, resolution.
    c.do("elaborar_proyecto_dictamen", example("agravio_proyecto_dictamen"), at="2026-04-22T10:00:00")
    c.do("convocar_sesion_extraordinaria", example("agravio_convocatoria"))
    c.do("celebrar_sesion_extraordinaria", example("agravio_sesion_extraordinaria", 0), at="2026-04-27T10:00:00")
    assert c.open() == ["dictaminar_comision"]
    c.do("dictaminar_comision", example("agravio_comision_dictaminadora"), at="2026-05-04T10:00:00")
    c.do("resolver_existencia_agravio", example("agravio_resolucion_sistema", 0), at="2026-05-11T10:00:00")
    c.do("responder_procedencia", example("agravio_respuesta_procedencia"), at="2026-05-12T10:00:00")
    # Answered within the 45 días hábiles: the escalation timer was cancelled, never fired.
    assert c.timers("plazo_procedencia_vencido", status="cancelled")
    assert "escalado_procedencia" not in c.reached()

    # Art. 39: the agreement reaches the issuing authority on Friday 15 May 2026.
    c.do("remitir_acuerdo_autoridad", example("agravio_remision_acuerdo"), at="2026-05-15T10:00:00")
    # Art. 40: 90 días naturales from 15 May -> 14 June (30), 14 July (60), Thursday 13 August (90).
    reforma = c.timer("plazo_reforma_vencido")
    assert local(reforma.due_at) == "2026-08-13T23:59:59-07:00"
    assert reforma.deadline["unit"] == "natural" and reforma.deadline["count"] == 90
    assert reforma.deadline["citation"] == "Reglamento art. 40" and reforma.deadline["skipped"] == []

    # The norm is amended (message): verified, and the case closes as resolved.
    c.send("norma_reformada", {"fecha_publicacion": "2026-07-01", "medio": "Boletín Oficial"}, at="2026-07-02T10:00:00")
    assert c.open() == ["verificar_reforma"]
    assert c.value("esperar_reforma", "reforma") == {"fecha_publicacion": "2026-07-01", "medio": "Boletín Oficial"}
    c.do("verificar_reforma", example("agravio_verificacion_reforma", 0))
    assert c.status == "completed"
    assert "fin_agravio_subsanado" in c.reached() and "solicitar_alerta_genero" not in c.reached()
    assert c.timers("plazo_reforma_vencido", status="cancelled")
    assert c.detail().timers and all(t.status != "pending" for t in c.detail().timers)


def test_informacion_adicional_remitida_en_plazo(tramita_sqlite: Any, start: Any) -> None:
    c = admitida(tramita_sqlite, start)
    c.do("planear_investigacion", example("agravio_plan_investigacion", 0, conformar_grupo_interinstitucional=False))
    assert c.open() == ["solicitar_informacion_adicional"]
    c.do("solicitar_informacion_adicional", example("agravio_solicitud_informacion"), at="2026-04-13T10:00:00")
    c.do("remitir_informacion_adicional", example("agravio_informacion_adicional"), at="2026-04-15T10:00:00")
    assert c.open() == ["elaborar_proyecto_dictamen"]
    assert "registrar_informacion_no_remitida" not in c.reached()
    assert c.timers("plazo_informacion_vencido", status="cancelled")
    assert c.value("calificar_oportunidad_informacion", "informacion_adicional_remitida") is True


def test_procedencia_vencida_a_los_45_dias_habiles_escala(tramita_sqlite: Any, start: Any) -> None:
    c = admitida(tramita_sqlite, start)
    c.do("planear_investigacion", example("agravio_plan_investigacion", 1), at="2026-03-20T10:00:00")
    # The investigation is still at the proyecto de dictamen when the 45th día hábil (13 May) ends.
    assert c.fire("2026-05-13T23:59:59") == []
    [fired] = c.fire("2026-05-14T08:00:00")
    assert fired.task_name == "plazo_procedencia_vencido" and fired.outcome == "fired"
    assert "escalado_procedencia" in c.reached()
    # The boundary timer sits on the subprocess: the task open inside it is the one flagged overdue.
    proyecto = c.task("elaborar_proyecto_dictamen")
    assert proyecto.overdue and local(proyecto.due_at) == "2026-05-13T23:59:59-07:00"
    event = [e for e in c.detail().events if e.kind == "timer_fired"][-1]
    assert event.detail["deadline_missed_on"] == "investigacion"
    # The case continues (non-interrupting) to an answer without agravio.
    c.do("elaborar_proyecto_dictamen", example("agravio_proyecto_dictamen", propone_existencia_agravio=False))
    c.do("convocar_sesion_extraordinaria", example("agravio_convocatoria"))
    c.do("celebrar_sesion_extraordinaria", example("agravio_sesion_extraordinaria", 1))
    assert c.open() == ["resolver_existencia_agravio"]  # no comisión dictaminadora
    c.do("resolver_existencia_agravio", example("agravio_resolucion_sistema", 1))
    c.do("responder_procedencia", example("agravio_respuesta_procedencia", fecha_respuesta="2026-05-20"),
         at="2026-05-20T10:00:00")
    assert c.status == "completed"
    assert "fin_sin_agravio" in c.reached() and "remitir_acuerdo_autoridad" not in c.reached()


def test_sin_reforma_en_90_dias_naturales_se_solicita_la_alerta(tramita_sqlite: Any, start: Any) -> None:
    # Received by the authority on Monday 18 May: 90 días naturales -> 17 June (30), 17 July (60),
    # Sunday 16 August (90); a term cannot end on a día inhábil (LFPA art. 29): Monday 17 August.
    c = hasta_remision(tramita_sqlite, start, "2026-05-18")
    reforma = c.timer("plazo_reforma_vencido")
    assert local(reforma.due_at) == "2026-08-17T23:59:59-07:00"
    assert deadline_days(reforma.deadline) == [("2026-08-16", "Domingo")]
    assert reforma.interrupting and reforma.attached_to == "esperar_reforma"
    assert c.fire("2026-08-17T23:59:59") == []
    assert c.open() == []
    c.fire("2026-08-18T00:00:00")
    alerta = c.task("solicitar_alerta_genero")
    assert alerta.title == "Solicitar inicio del procedimiento de declaratoria de alerta de violencia de género"
    # A message after the term is no longer awaited.
    with pytest.raises(Exception, match="not waiting"):
        c.send("norma_reformada", {"medio": "Boletín Oficial"})
    c.do("solicitar_alerta_genero", example("agravio_solicitud_alerta", fecha_solicitud_avgm="2026-08-18"))
    assert c.status == "completed"
    assert "fin_solicitud_alerta" in c.reached() and "fin_agravio_subsanado" not in c.reached()


def test_reforma_insuficiente_sigue_el_plazo_y_luego_alerta(tramita_sqlite: Any, start: Any) -> None:
    c = hasta_remision(tramita_sqlite, start, "2026-05-15")
    c.send("norma_reformada", {"medio": "Gaceta municipal"}, at="2026-07-02T10:00:00")
    c.do("verificar_reforma", example("agravio_verificacion_reforma", 1))
    # The agravio subsists: back to waiting, with the same 90-day term (Thursday 13 August).
    assert c.open() == []
    assert local(c.timer("plazo_reforma_vencido").due_at) == "2026-08-13T23:59:59-07:00"
    c.fire("2026-08-14T00:00:01")
    assert c.open() == ["solicitar_alerta_genero"]
    c.do("solicitar_alerta_genero", example("agravio_solicitud_alerta", fecha_solicitud_avgm="2026-08-14"))
    assert "fin_solicitud_alerta" in c.reached() and "fin_agravio_subsanado" not in c.reached()


def test_inicio_exige_solicitud_escrita(tramita_sqlite: Any, start: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        start(tramita_sqlite, "agravio", example("agravio_inicio", presentada_por_escrito=False,
                                                 folio_recepcion=DROP), RECIBIDA)
    assert "art. 33" in err.value.fields["presentada_por_escrito"]


# --- filing date, not capture date: the prevención (art. 36) ---------------------------------------------

def prevenida_el_12_de_marzo(t: Any, start: Any) -> Case:
    """Prevención notified on Thursday 2026-03-12; its 3 días hábiles end on Wednesday 18 March."""
    c = revisada(t, start, ["V"])
    c.do("emitir_prevencion", example("agravio_prevencion", fecha_notificacion_prevencion="2026-03-12",
                                      requisitos_a_subsanar=["V"]), at="2026-03-12T12:00:00")
    # Art. 36: 3 días hábiles from Thursday 12 March (Hermosillo): Friday 13 (1); Saturday 14 and
    # Sunday 15 skipped; Monday 16 skipped too (third Monday of March, Natalicio de Benito Juárez,
    # LFT art. 74 moves it there); Tuesday 17 (2), Wednesday 18 (3) -> 2026-03-18T23:59:59-07:00.
    limite = "2026-03-18T23:59:59-07:00"
    assert c.value("fijar_plazo_prevencion", "fecha_limite_prevencion") == limite
    subsanar = c.task("subsanar_prevencion")
    assert local(subsanar.due_at) == limite
    assert deadline_days(subsanar.deadline) == [
        ("2026-03-14", "Sábado"), ("2026-03-15", "Domingo"), ("2026-03-16", "Natalicio de Benito Juárez")]
    assert local(c.timer("plazo_prevencion_vencido").due_at) == limite
    return c


def test_desahogo_presentado_en_plazo_y_capturado_tarde_se_tramita(tramita_sqlite: Any, start: Any) -> None:
    c = prevenida_el_12_de_marzo(tramita_sqlite, start)
    assert c.fire("2026-03-18T23:59:59") == []
    c.fire("2026-03-19T00:00:01")
    assert c.open() == ["certificar_desahogo_prevencion"]
    # Filed at the oficialía de partes on the last day (18 March), captured on 19 March.
    c.do("certificar_desahogo_prevencion",
         example("agravio_certificacion_desahogo", 1, fecha_certificacion="2026-03-19", fecha_desahogo="2026-03-18"),
         at="2026-03-19T10:00:00")
    assert c.value("calificar_oportunidad_desahogo", "desahogo_extemporaneo") is False
    assert "registrar_desechamiento" not in c.reached()
    # Continues as a cured request: reviewed again, and radicación counts from the filing date.
    assert c.open() == ["revisar_requisitos"]
    c.do("revisar_requisitos", {"requisitos_omitidos": []})
    assert c.value("sellar_solicitud_completa", "fecha_solicitud_completa") == "2026-03-18"
    assert c.open() == ["resolver_radicacion"]


def test_desahogo_extemporaneo_certificado_desecha_mostrando_el_plazo(tramita_sqlite: Any, start: Any) -> None:
    c = prevenida_el_12_de_marzo(tramita_sqlite, start)
    c.fire("2026-03-19T00:00:01")
    # Filed on Thursday 19 March, one day after the term ended on Wednesday 18 March.
    c.do("certificar_desahogo_prevencion",
         example("agravio_certificacion_desahogo", 1, fecha_certificacion="2026-03-19", fecha_desahogo="2026-03-19"),
         at="2026-03-19T10:00:00")
    assert c.value("calificar_oportunidad_desahogo", "desahogo_extemporaneo") is True
    assert c.open() == ["acordar_desechamiento"]
    c.do("acordar_desechamiento", example("agravio_desechamiento", fecha_desechamiento="2026-03-19"))
    c.do("notificar_desechamiento", example("agravio_notificacion_desechamiento",
                                            fecha_notificacion_desechamiento="2026-03-19"))
    assert c.status == "completed"
    assert {"registrar_desechamiento", "fin_desechada"} <= c.reached()
    data = c.data()
    assert data["fecha_desechamiento"] == "2026-03-19"
    # Art. 36, third paragraph: six months from Thursday 19 March -> 19 September 2026 is a Saturday ->
    # the bar ends Monday 21 September; admissible from Tuesday 22 September.
    assert data["fecha_admisible_nueva_solicitud"] == "2026-09-22"
    motivo = data["motivo_desechamiento"]
    assert motivo.startswith("Reglamento art. 36, primer párrafo")
    assert "2026-03-19" in motivo and "2026-03-18T23:59:59-07:00" in motivo and "2026-09-22" in motivo


def test_desahogo_extemporaneo_capturado_antes_del_timer_desecha(tramita_sqlite: Any, start: Any) -> None:
    # The scheduler has not run yet; the clerk captures a cure filed on 19 March: still late.
    c = prevenida_el_12_de_marzo(tramita_sqlite, start)
    c.do("subsanar_prevencion", example("agravio_desahogo_prevencion", fecha_desahogo="2026-03-19"),
         at="2026-03-19T08:00:00")
    assert c.value("calificar_oportunidad_desahogo", "desahogo_extemporaneo") is True
    assert c.open() == ["acordar_desechamiento"]
    c.do("acordar_desechamiento", example("agravio_desechamiento", fecha_desechamiento="2026-03-19"))
    assert "2026-03-18T23:59:59-07:00" in c.data()["motivo_desechamiento"]


def test_sin_desahogo_certificado_se_desecha(tramita_sqlite: Any, start: Any) -> None:
    c = prevenida_el_12_de_marzo(tramita_sqlite, start)
    c.fire("2026-03-19T00:00:01")
    c.do("certificar_desahogo_prevencion",
         example("agravio_certificacion_desahogo", 0, fecha_certificacion="2026-03-19"), at="2026-03-19T10:00:00")
    assert c.open() == ["acordar_desechamiento"]
    c.do("acordar_desechamiento", example("agravio_desechamiento", fecha_desechamiento="2026-03-19"))
    c.do("notificar_desechamiento", example("agravio_notificacion_desechamiento",
                                            fecha_notificacion_desechamiento="2026-03-19"))
    assert {"registrar_desechamiento", "fin_desechada"} <= c.reached()
    assert "calificar_oportunidad_desahogo" not in c.reached()
    assert "2026-03-18T23:59:59-07:00" in c.data()["motivo_desechamiento"]


def test_certificacion_del_desahogo_exige_la_fecha(tramita_sqlite: Any, start: Any) -> None:
    c = prevenida_el_12_de_marzo(tramita_sqlite, start)
    c.fire("2026-03-19T00:00:01")
    with pytest.raises(InvalidInput) as err:
        c.do("certificar_desahogo_prevencion", {"fecha_certificacion": "2026-03-19", "desahogo_recibido": True})
    assert any("art. 36" in m for m in err.value.fields.values())
    assert c.open() == ["certificar_desahogo_prevencion"]


# --- filing date, not capture date: additional information (art. 37) ------------------------------------

def requerida_el_31_de_marzo(t: Any, start: Any) -> Case:
    """Requirement notified on Tuesday 2026-03-31; its 5 días hábiles end on Tuesday 7 April."""
    c = admitida(t, start)
    c.do("planear_investigacion", example("agravio_plan_investigacion", 0, conformar_grupo_interinstitucional=False),
         at="2026-03-20T10:00:00")
    c.do("solicitar_informacion_adicional",
         example("agravio_solicitud_informacion", fecha_notificacion_requerimiento="2026-03-31"), at="2026-03-31T10:00:00")
    # Art. 37: 5 días hábiles from Tuesday 31 March: Wednesday 1 April (1); Holy Thursday 2 (2) and Good
    # Friday 3 (3) count, their calendar entries being "pendiente de confirmar"; weekend 4-5 skipped;
    # Monday 6 (4), Tuesday 7 (5) -> 2026-04-07T23:59:59-07:00.
    limite = "2026-04-07T23:59:59-07:00"
    assert c.value("fijar_plazo_informacion", "fecha_limite_informacion") == limite
    remitir = c.task("remitir_informacion_adicional")
    assert local(remitir.due_at) == limite
    assert deadline_days(remitir.deadline) == [("2026-04-04", "Sábado"), ("2026-04-05", "Domingo")]
    assert [(p["day"], p["reason"]) for p in remitir.deadline["pending"]] == [
        ("2026-04-02", "Jueves Santo"), ("2026-04-03", "Viernes Santo")]
    assert c.fire("2026-04-07T23:59:59") == []
    return c


def test_informacion_remitida_en_plazo_y_capturada_tarde_se_considera(tramita_sqlite: Any, start: Any) -> None:
    c = requerida_el_31_de_marzo(tramita_sqlite, start)
    c.fire("2026-04-08T00:00:01")
    assert c.open() == ["certificar_informacion_adicional"]
    # Sent on the last day (7 April), captured on 8 April.
    c.do("certificar_informacion_adicional",
         example("agravio_certificacion_informacion", 1, fecha_certificacion="2026-04-08", fecha_remision="2026-04-07"),
         at="2026-04-08T10:00:00")
    assert c.value("calificar_oportunidad_informacion", "informacion_extemporanea") is False
    assert c.value("calificar_oportunidad_informacion", "informacion_adicional_remitida") is True
    assert "registrar_informacion_no_remitida" not in c.reached()
    assert c.open() == ["elaborar_proyecto_dictamen"]


def test_informacion_extemporanea_certificada_continua_sin_ella(tramita_sqlite: Any, start: Any) -> None:
    c = requerida_el_31_de_marzo(tramita_sqlite, start)
    c.fire("2026-04-08T00:00:01")
    # Sent on Wednesday 8 April, one day after the term ended on Tuesday 7 April.
    c.do("certificar_informacion_adicional",
         example("agravio_certificacion_informacion", 1, fecha_certificacion="2026-04-08", fecha_remision="2026-04-08"),
         at="2026-04-08T10:00:00")
    assert c.value("calificar_oportunidad_informacion", "informacion_extemporanea") is True
    assert c.value("registrar_informacion_no_remitida", "informacion_adicional_remitida") is False
    nota = c.value("registrar_informacion_no_remitida", "nota_informacion")
    assert nota.startswith("Reglamento art. 37, primer párrafo")
    assert "2026-04-08" in nota and "2026-04-07T23:59:59-07:00" in nota
    assert c.open() == ["elaborar_proyecto_dictamen"]


def test_informacion_extemporanea_capturada_antes_del_timer(tramita_sqlite: Any, start: Any) -> None:
    # Captured before the scheduler ran, but sent on 8 April: late all the same.
    c = requerida_el_31_de_marzo(tramita_sqlite, start)
    c.do("remitir_informacion_adicional", example("agravio_informacion_adicional", fecha_remision="2026-04-08"),
         at="2026-04-08T08:00:00")
    assert "registrar_informacion_no_remitida" in c.reached()
    assert "2026-04-07T23:59:59-07:00" in c.value("registrar_informacion_no_remitida", "nota_informacion")
    assert c.open() == ["elaborar_proyecto_dictamen"]


def test_sin_informacion_certificada_continua_sin_ella(tramita_sqlite: Any, start: Any) -> None:
    c = requerida_el_31_de_marzo(tramita_sqlite, start)
    c.fire("2026-04-08T00:00:01")
    c.do("certificar_informacion_adicional",
         example("agravio_certificacion_informacion", 0, fecha_certificacion="2026-04-08"), at="2026-04-08T10:00:00")
    assert "calificar_oportunidad_informacion" not in c.reached()
    assert c.value("registrar_informacion_no_remitida", "informacion_adicional_remitida") is False
    assert "2026-04-07T23:59:59-07:00" in c.value("registrar_informacion_no_remitida", "nota_informacion")
    assert c.open() == ["elaborar_proyecto_dictamen"]
