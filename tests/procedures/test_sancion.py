"""Sanction and recurso de reconsideración (Ley de Prevención y Atención de la Violencia Familiar arts. 46–57).

Calendar facts used below (computed by hand, America/Hermosillo, UTC−7):
* Friday 2026-12-18; 19–20 and 26–27 December are weekends; 25 December (Friday) is an LFT
  art. 74 holiday; 1 January 2027 (Friday) is an LFT art. 74 holiday; 2–3 January 2027 weekend.
  (No winter vacation is declared in workflows/calendar/sonora.toml, so none is skipped.)
* UMA (periodos/uma.toml): 113.14 from 2025-02-01 to 2026-01-31; 117.31 from 2026-02-01 to 2027-01-31.
* Art. 54: 5 días hábiles from the day after the personal notification.
* Art. 57: the recurso is resolved within 10 días hábiles of its filing.
* Art. 53: the power to sanction prescribes in one year; the day of the infraction counts whole, so
  it is lost at 00:00 of the same calendar day of the following year (parameters.toml note).
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import InvalidInput
from tests.procedures.conftest import DROP, Case, deadline_days, example, local

LEY = "Ley de Prevención y Atención de la Violencia Familiar"
REGISTRO = example("sancion_registro")  # infraction on Tuesday 2026-03-10
RESOLUCION = example("sancion_resolucion", 0)  # general, asalariado, 60 UMA
REINCIDENTE = example("sancion_resolucion", 1)  # 36 h of arrest (art. 49)
DESEMPLEADO = example("sancion_resolucion", 2)  # 1 UMA
JORNALERO = example("sancion_resolucion", 3)  # one day of income, 350 pesos
CONVENIO = example("sancion_resolucion", 4)  # art. 48, 90 UMA
RECURSO = example("sancion_recurso")  # filed Tuesday 2026-12-22, asks for suspension, fianza
SIN_SUSPENSION = example("sancion_recurso", solicita_suspension=False, garantia="ninguna", folio_garantia=DROP)
INICIO = example("sancion_inicio")


def registrada(t: Any, start: Any, registro: dict[str, Any] = REGISTRO) -> Case:
    c = start(t, "sancion", INICIO, "2026-03-11T09:00:00")
    assert c.open() == ["registrar_infraccion"]
    c.do("registrar_infraccion", registro)
    assert c.open() == ["citar_partes"]
    return c


def resuelta(t: Any, start: Any, resolucion: dict[str, Any] = RESOLUCION,
             registro: dict[str, Any] = REGISTRO) -> Case:
    c = registrada(t, start, registro)
    c.do("citar_partes", example("sancion_citacion"), at="2026-04-01T10:00:00")
    c.do("desahogar_comparecencia", example("sancion_comparecencia"), at="2026-04-10T10:00:00")
    c.do("dictar_resolucion", resolucion, at="2026-06-15T10:00:00")
    assert c.open() == ["notificar_resolucion"]
    return c


def notificada(t: Any, start: Any, resolucion: dict[str, Any] = RESOLUCION) -> Case:
    """Resolution notified personally on Friday 2026-12-18."""
    c = resuelta(t, start, resolucion)
    c.do("notificar_resolucion", example("sancion_notificacion"), at="2026-12-18T12:00:00")
    assert c.open() == ["interponer_recurso"]
    return c


def en_recurso(t: Any, start: Any, recurso: dict[str, Any], resolucion: dict[str, Any] = RESOLUCION) -> Case:
    c = notificada(t, start, resolucion)
    c.do("interponer_recurso", recurso, at="2026-12-22T09:00:00")
    return c


# Art. 54: notified Friday 18 December -> Mon 21 (1), Tue 22 (2), Wed 23 (3), Thu 24 (4);
# Fri 25 is Christmas, 26-27 the weekend; Monday 28 December is the 5th día hábil.
FIN_RECURSO = "2026-12-28T23:59:59-07:00"
INHABILES_RECURSO = [("2026-12-19", "Sábado"), ("2026-12-20", "Domingo"), ("2026-12-25", "Navidad"),
                     ("2026-12-26", "Sábado"), ("2026-12-27", "Domingo")]
# Art. 57: filed Tuesday 22 December -> 23 (1), 24 (2), [25 holiday, 26-27], 28 (3), 29 (4), 30 (5),
# 31 (6), [1 January holiday, 2-3 weekend], 4 (7), 5 (8), 6 (9), Thursday 7 January 2027 (10).
FIN_RESOLVER_RECURSO = "2027-01-07T23:59:59-07:00"


# --- 1-3. registration, citation, resolution at the UMA of the infraction date --------------------------

def test_sin_recurso_la_resolucion_queda_firme_y_se_remite_al_cobro(tramita_any: Any, start: Any) -> None:
    c = registrada(tramita_any, start)
    # Art. 53: infraction on 10 March 2026 -> the power to sanction is lost at 00:00 of 10 March 2027.
    prescripcion = c.timer("prescripcion")
    assert local(prescripcion.due_at) == "2027-03-10T00:00:00-07:00"
    assert prescripcion.interrupting and prescripcion.attached_to == "procedimiento_sancionador"
    assert prescripcion.deadline["unit"] == "months" and prescripcion.deadline["count"] == 12
    assert prescripcion.deadline["citation"] == f"{LEY} art. 53"
    assert prescripcion.deadline["start"] == "2026-03-10T00:00:00-07:00" and prescripcion.deadline["skipped"] == []
    citar = c.task("citar_partes")
    assert local(citar.due_at) == "2027-03-10T00:00:00-07:00" and citar.deadline == prescripcion.deadline
    # Art. 50: both parties are cited before the resolution.
    c.do("citar_partes", example("sancion_citacion"), at="2026-04-01T10:00:00")
    c.do("desahogar_comparecencia", example("sancion_comparecencia"), at="2026-04-10T10:00:00")
    c.do("dictar_resolucion", RESOLUCION, at="2026-06-15T10:00:00")
    # Arts. 47 I and 51-52: 60 UMA at the UMA in force on 10 March 2026 (117.31) = 7,038.60 pesos.
    assert c.value("verificar_sancion", "uma_infraccion") == 117.31
    assert c.value("verificar_sancion", "multa_pesos") == 7038.60
    assert (c.value("determinar_rango_sancion", "uma_min"), c.value("determinar_rango_sancion", "uma_max")) == (30, 180)
    assert c.value("dictar_resolucion", "apercibimiento") is True
    assert c.timers("prescripcion", status="cancelled")  # resolved in time: no prescription

    c.do("notificar_resolucion", example("sancion_notificacion"), at="2026-12-18T12:00:00")
    assert c.value("computar_plazo_recurso", "fecha_limite_recurso") == FIN_RECURSO
    recurso = c.task("interponer_recurso")
    assert local(recurso.due_at) == FIN_RECURSO
    assert recurso.deadline["citation"] == f"{LEY} art. 54"
    assert recurso.deadline["start"] == "2026-12-18T00:00:00-07:00" and recurso.deadline["count"] == 5
    assert deadline_days(recurso.deadline) == INHABILES_RECURSO
    assert c.timer("plazo_recurso_vencido").deadline == recurso.deadline

    assert c.fire("2026-12-28T23:59:59") == []  # the last second of the term still belongs to it
    [fired] = c.fire("2026-12-29T00:00:00")
    assert fired.task_name == "plazo_recurso_vencido"
    # The term ran out with no recurso registered: the authority certifies none was received, the
    # resolution is firm (art. 54) and goes for collection (art. 53).
    assert [t.state for t in c.all_tasks("interponer_recurso")] == ["CANCELLED"]
    assert c.open() == ["certificar_recurso"]
    c.do("certificar_recurso", example("sancion_certificacion_recurso", 0), at="2026-12-29T10:00:00")
    assert c.open() == ["remitir_cobro"]
    assert c.value("declarar_firmeza", "resolucion_firme") is True
    assert c.value("declarar_firmeza", "fecha_firmeza") == "2026-12-29"
    c.do("remitir_cobro", example("sancion_remision_cobro"), at="2027-01-05T10:00:00")
    # Art. 47, last paragraph: the fiscal authority reports whether the fine was paid.
    assert c.open() == ["registrar_resultado_cobro"]
    c.do("registrar_resultado_cobro", example("sancion_resultado_cobro", 0), at="2027-01-20T10:00:00")
    assert c.status == "completed"
    assert "fin_cobro" in c.reached() and "acordar_desechamiento_recurso" not in c.reached()


def test_la_multa_usa_la_uma_del_dia_de_la_infraccion(tramita_sqlite: Any, start: Any) -> None:
    # Infraction on 20 January 2026 (UMA 113.14), resolved in June 2026 (when 117.31 is in force):
    # 60 × 113.14 = 6,788.40 pesos.
    c = resuelta(tramita_sqlite, start, registro=dict(REGISTRO, fecha_infraccion="2026-01-20"))
    assert c.value("verificar_sancion", "uma_infraccion") == 113.14
    assert c.value("verificar_sancion", "multa_pesos") == 6788.40
    # And its prescription date follows the infraction: 00:00 of 20 January 2027.
    assert local(c.timers("prescripcion", status="cancelled")[0].due_at) == "2027-01-20T00:00:00-07:00"


@pytest.mark.parametrize(("resolucion", "pesos", "tope"), [
    (JORNALERO, 350.0, "un_dia_de_ingreso"),  # art. 47 I, 2nd paragraph: one day of income (350 pesos)
    (DESEMPLEADO, 117.31, "una_uma"),          # art. 47 I, 2nd paragraph: at most 1 UMA (117.31)
    (CONVENIO, 10557.9, "ninguno"),            # art. 48: 90 UMA × 117.31 = 10,557.90
])
def test_casos_especiales_de_la_multa(tramita_sqlite: Any, start: Any, resolucion: dict[str, Any], pesos: float,
                                      tope: str) -> None:
    c = resuelta(tramita_sqlite, start, resolucion)
    assert c.value("determinar_rango_sancion", "tope") == tope
    assert c.value("verificar_sancion", "multa_pesos") == pesos
    assert c.value("verificar_sancion", "sancion_valida") is True


def test_reincidencia_arresto_inconmutable(tramita_sqlite: Any, start: Any) -> None:
    c = notificada(tramita_sqlite, start, REINCIDENTE)
    assert c.value("determinar_rango_sancion", "tope") == "arresto_inconmutable"
    assert c.value("determinar_rango_sancion", "arresto_conmutable") is False
    c.fire("2026-12-29T00:00:00")
    c.do("certificar_recurso", example("sancion_certificacion_recurso", 0), at="2026-12-29T10:00:00")
    assert c.open() == ["ordenar_arresto"]
    with pytest.raises(InvalidInput) as err:  # art. 47 II: never more than 36 hours
        c.do("ordenar_arresto", example("sancion_orden_arresto", horas_arresto=40), at="2027-01-05T10:00:00")
    assert "art. 47, fracción II" in err.value.fields["horas_arresto"]
    c.do("ordenar_arresto", example("sancion_orden_arresto"))
    assert c.status == "completed" and "fin_arresto" in c.reached() and "remitir_cobro" not in c.reached()


@pytest.mark.parametrize(("cambios", "campo", "articulo"), [
    ({"multa_uma": 200}, "multa_uma", "art. 47, fracción I"),
    ({"multa_uma": 20}, "multa_uma", "art. 47, fracción I"),
    ({"tipo_infraccion": "incumplimiento_convenio", "multa_uma": 100}, "multa_uma", "art. 48"),
    ({"condicion_economica": "desempleado", "multa_uma": 2}, "multa_uma", "art. 47, fracción I, segundo párrafo"),
    ({"condicion_economica": "jornalero_obrero_no_asalariado", "multa_uma": DROP, "multa_dias_ingreso": 2,
      "ingreso_diario_pesos": 350}, "multa_dias_ingreso", "art. 47, fracción I, segundo párrafo"),
    ({"reincidente": True}, "tipo_sancion", "art. 49"),
    ({"tipo_sancion": "arresto", "multa_uma": DROP, "arresto_horas": 48}, "arresto_horas", "art. 47, fracción II"),
    ({"apercibimiento": False}, "apercibimiento", "art. 52"),
])
def test_sancion_fuera_de_los_limites_se_rechaza_en_el_formulario(tramita_sqlite: Any, start: Any,
                                                                  cambios: dict[str, Any], campo: str,
                                                                  articulo: str) -> None:
    c = registrada(tramita_sqlite, start)
    c.do("citar_partes", example("sancion_citacion"), at="2026-04-01T10:00:00")
    c.do("desahogar_comparecencia", example("sancion_comparecencia"), at="2026-04-10T10:00:00")
    with pytest.raises(InvalidInput) as err:
        c.do("dictar_resolucion", example("sancion_resolucion", 0, **cambios), at="2026-06-15T10:00:00")
    assert f"{LEY} {articulo}" in err.value.fields[campo], err.value.fields
    assert c.open() == ["dictar_resolucion"]  # nothing was saved
    assert not [e for e in c.detail().events if e.detail and e.detail.get("task") == "dictar_resolucion"]


def test_infraccion_no_acreditada_concluye_sin_sancion(tramita_sqlite: Any, start: Any) -> None:
    c = registrada(tramita_sqlite, start)
    c.do("citar_partes", example("sancion_citacion"), at="2026-04-01T10:00:00")
    c.do("desahogar_comparecencia", example("sancion_comparecencia", infraccion_acreditada=False))
    assert c.status == "completed"
    assert {"fin_no_acreditada", "fin_sin_sancion"} <= c.reached() and "notificar_resolucion" not in c.reached()


# --- 4. prescription -----------------------------------------------------------------------------------

def test_prescripcion_al_ano_sin_resolucion(tramita_sqlite: Any, start: Any) -> None:
    c = registrada(tramita_sqlite, start)
    c.do("citar_partes", example("sancion_citacion"), at="2026-04-01T10:00:00")
    assert c.fire("2027-03-10T00:00:00") == []  # the instant itself: not yet past
    [fired] = c.fire("2027-03-10T00:00:01")
    assert fired.task_name == "prescripcion"
    assert c.status == "completed"
    assert {"registrar_prescripcion", "fin_prescrita"} <= c.reached() and "dictar_resolucion" not in c.reached()
    assert [t.state for t in c.all_tasks("desahogar_comparecencia")] == ["CANCELLED"]
    data = c.data()
    assert data["prescrita"] is True and data["fecha_prescripcion"] == "2027-03-10"
    assert data["motivo_conclusion"].startswith(f"{LEY} art. 53")


# --- 5-6. notification, late recurso ----------------------------------------------------------------------

def test_recurso_extemporaneo_tras_el_vencimiento_se_desecha_mostrando_el_plazo(tramita_any: Any,
                                                                                 start: Any) -> None:
    c = notificada(tramita_any, start)
    # The scheduler closed the term at midnight; a recurso is filed on Tuesday 29 December at 09:00.
    c.fire("2026-12-29T00:00:01")
    assert c.open() == ["certificar_recurso"]
    c.do("certificar_recurso", example("sancion_certificacion_recurso", 1), at="2026-12-29T10:00:00")
    assert c.open() == ["acordar_desechamiento_recurso"]
    motivo = c.value("calificar_oportunidad_recurso", "motivo_desechamiento")
    assert motivo.startswith(f"{LEY} art. 54")
    assert "2026-12-29" in motivo and "2026-12-18" in motivo and FIN_RECURSO in motivo
    c.do("acordar_desechamiento_recurso", example("sancion_desechamiento_recurso"), at="2026-12-30T10:00:00")
    assert c.open() == ["remitir_cobro"]
    assert "resolver_recurso" not in c.reached()
    c.do("remitir_cobro", example("sancion_remision_cobro"), at="2027-01-05T10:00:00")
    c.do("registrar_resultado_cobro", example("sancion_resultado_cobro", 0), at="2027-01-20T10:00:00")
    assert c.status == "completed" and "fin_cobro" in c.reached()


def test_recurso_oportuno_capturado_tras_el_vencimiento_se_tramita(tramita_sqlite: Any, start: Any) -> None:
    c = notificada(tramita_sqlite, start)
    c.fire("2026-12-29T00:00:01")
    # Filed on Monday 28 December (the last día hábil) but captured only after the timer pass: what
    # counts is the filing date, so it is timely and is processed.
    c.do("certificar_recurso", example("sancion_certificacion_recurso", 1, fecha_presentacion_recurso="2026-12-28"),
         at="2026-12-29T10:00:00")
    assert c.value("calificar_oportunidad_recurso", "recurso_extemporaneo") is False
    # No suspension was asked for (art. 56, fraction I): the fine is collected while the recurso is resolved.
    assert c.open() == ["remitir_cobro", "resolver_recurso"]
    # Art. 57 from the filing on 28 December: 29 (1), 30 (2), 31 (3), [1 January holiday, 2-3
    # weekend], 4 (4), 5 (5), 6 (6), 7 (7), 8 (8), [9-10 weekend], 11 (9), Tuesday 12 January (10).
    assert local(c.task("resolver_recurso").due_at) == "2027-01-12T23:59:59-07:00"


def test_certificacion_exige_capturar_el_recurso_recibido(tramita_sqlite: Any, start: Any) -> None:
    c = notificada(tramita_sqlite, start)
    c.fire("2026-12-29T00:00:01")
    with pytest.raises(InvalidInput) as err:
        c.do("certificar_recurso", {"fecha_certificacion": "2026-12-29", "recurso_recibido": True})
    assert any(f"{LEY} art. 55" in m for m in err.value.fields.values())
    assert c.open() == ["certificar_recurso"]


def test_recurso_extemporaneo_se_desecha_mostrando_el_plazo(tramita_sqlite: Any, start: Any) -> None:
    c = notificada(tramita_sqlite, start)
    # Filed on Tuesday 29 December, the day after the term ended (registered before any timer pass).
    c.do("interponer_recurso", dict(SIN_SUSPENSION, fecha_presentacion_recurso="2026-12-29"),
         at="2026-12-29T09:00:00")
    assert c.open() == ["acordar_desechamiento_recurso"]
    motivo = c.value("calificar_oportunidad_recurso", "motivo_desechamiento")
    assert motivo.startswith(f"{LEY} art. 54")
    assert "2026-12-29" in motivo and "2026-12-18" in motivo and FIN_RECURSO in motivo
    assert c.value("calificar_oportunidad_recurso", "recurso_extemporaneo") is True
    c.do("acordar_desechamiento_recurso", example("sancion_desechamiento_recurso"), at="2026-12-30T10:00:00")
    assert c.open() == ["remitir_cobro"]
    assert c.value("declarar_firmeza", "resolucion_firme") is True
    assert "resolver_recurso" not in c.reached()


def test_recurso_el_ultimo_dia_es_oportuno(tramita_sqlite: Any, start: Any) -> None:
    c = notificada(tramita_sqlite, start)
    c.do("interponer_recurso", dict(SIN_SUSPENSION, fecha_presentacion_recurso="2026-12-28"),
         at="2026-12-28T23:59:59")
    assert c.value("calificar_oportunidad_recurso", "recurso_extemporaneo") is False
    assert c.open() == ["remitir_cobro", "resolver_recurso"]  # no suspension: enforced meanwhile (art. 56)


def test_recurso_sin_motivos_o_preceptos_se_rechaza(tramita_sqlite: Any, start: Any) -> None:
    c = notificada(tramita_sqlite, start)
    with pytest.raises(InvalidInput) as err:
        c.do("interponer_recurso", dict(SIN_SUSPENSION, preceptos_conculcados=[]))
    assert "art. 55" in err.value.fields["preceptos_conculcados"]
    with pytest.raises(InvalidInput) as err:
        c.do("interponer_recurso", dict(SIN_SUSPENSION, presentado_por_escrito=False))
    assert "art. 55" in err.value.fields["presentado_por_escrito"]


# --- 7. suspension ------------------------------------------------------------------------------------------

def test_suspension_concedida_con_los_cuatro_requisitos_y_recurso_confirmado(tramita_sqlite: Any,
                                                                             start: Any) -> None:
    c = en_recurso(tramita_sqlite, start, RECURSO)
    assert c.open() == ["valorar_suspension"]
    c.do("valorar_suspension", example("sancion_valoracion_suspension"))
    assert c.value("resolver_suspension", "suspension_otorgada") is True
    assert c.value("resolver_suspension", "requisitos_suspension_incumplidos") == []
    # Art. 56: granted, so the fine waits for the recurso's resolution (nothing is sent for collection yet).
    assert c.open() == ["resolver_recurso"]
    resolver = c.task("resolver_recurso")
    assert local(resolver.due_at) == FIN_RESOLVER_RECURSO
    c.do("resolver_recurso", example("sancion_resolucion_recurso", 0, fecha_resolucion_recurso="2027-01-06"),
         at="2027-01-06T10:00:00")
    assert c.timers("plazo_resolver_recurso", status="cancelled")
    c.do("notificar_resolucion_recurso", example("sancion_notificacion_recurso"), at="2027-01-06T12:00:00")
    assert c.open() == ["remitir_cobro"]  # confirmed: the resolution is firm and only now collected
    assert c.value("declarar_firmeza", "fecha_ejecutable") == "2027-01-06"
    c.do("remitir_cobro", example("sancion_remision_cobro", fecha_remision="2027-01-07"), at="2027-01-07T10:00:00")
    c.do("registrar_resultado_cobro", example("sancion_resultado_cobro", 0), at="2027-01-20T10:00:00")
    assert c.status == "completed" and "fin_cobro" in c.reached() and "escalado_resolver_recurso" not in c.reached()


@pytest.mark.parametrize(("recurso", "valoracion", "resolucion", "fraccion"), [
    (dict(RECURSO, solicita_suspension=False), None, RESOLUCION, "I"),
    (dict(SIN_SUSPENSION, solicita_suspension=True), {"causa_perjuicio": False}, RESOLUCION, "II"),
    (RECURSO, {"causa_perjuicio": True}, RESOLUCION, "III"),
    (RECURSO, {"causa_perjuicio": False}, REINCIDENTE, "IV"),
])
def test_suspension_negada_nombra_el_requisito_faltante(tramita_sqlite: Any, start: Any, recurso: dict[str, Any],
                                                       valoracion: dict[str, Any] | None,
                                                       resolucion: dict[str, Any], fraccion: str) -> None:
    c = en_recurso(tramita_sqlite, start, recurso, resolucion)
    if valoracion is None:  # not requested: nothing to assess
        assert "resolver_recurso" in c.open()
        faltantes = c.value("calificar_oportunidad_recurso", "requisitos_suspension_incumplidos")
    else:
        c.do("valorar_suspension", dict(valoracion, consideraciones_suspension="Valoración."))
        assert c.value("resolver_suspension", "suspension_otorgada") is False
        faltantes = c.value("resolver_suspension", "requisitos_suspension_incumplidos")
    assert len(faltantes) == 1 and faltantes[0].startswith(f"{LEY} art. 56, fracción {fraccion}:")
    # Art. 56: the suspension is refused, so the sanction is enforced while the recurso is resolved.
    enforce = "ordenar_arresto" if resolucion is REINCIDENTE else "remitir_cobro"
    assert c.open() == sorted([enforce, "resolver_recurso"])
    assert c.value("marcar_ejecucion_sin_suspension", "fecha_ejecutable") == "2026-12-22"


# --- 8. resolution of the recurso ----------------------------------------------------------------------------

def test_recurso_no_resuelto_en_diez_dias_habiles_escala_y_luego_se_modifica(tramita_sqlite: Any,
                                                                             start: Any) -> None:
    c = en_recurso(tramita_sqlite, start, SIN_SUSPENSION)
    resolver = c.task("resolver_recurso")
    assert local(resolver.due_at) == FIN_RESOLVER_RECURSO
    assert resolver.deadline["citation"] == f"{LEY} art. 57" and resolver.deadline["count"] == 10
    assert deadline_days(resolver.deadline) == [
        ("2026-12-25", "Navidad"), ("2026-12-26", "Sábado"), ("2026-12-27", "Domingo"),
        ("2027-01-01", "Año Nuevo"), ("2027-01-02", "Sábado"), ("2027-01-03", "Domingo")]
    assert c.fire("2027-01-07T23:59:59") == []
    [fired] = c.fire("2027-01-08T00:00:00")
    assert fired.task_name == "plazo_resolver_recurso"
    assert "escalado_resolver_recurso" in c.reached()
    assert c.task("resolver_recurso").overdue
    # Modified to the unemployed limit: 1 UMA of the infraction date (117.31).
    c.do("resolver_recurso", example("sancion_resolucion_recurso", 1, fecha_resolucion_recurso="2027-01-11"),
         at="2027-01-11T10:00:00")
    assert c.value("verificar_sancion_recurso", "multa_pesos") == 117.31
    c.do("notificar_resolucion_recurso", example("sancion_notificacion_recurso", fecha_notificacion_recurso="2027-01-11"))
    # Enforced without suspension since 22 December: the modified sanction is told to the enforcing authority.
    assert c.open() == ["comunicar_recurso_ejecutora", "remitir_cobro"]
    c.do("comunicar_recurso_ejecutora", example("sancion_comunicacion_ejecutora", fecha_comunicacion="2027-01-11"))
    c.do("remitir_cobro", example("sancion_remision_cobro", fecha_remision="2027-01-11"))
    c.do("registrar_resultado_cobro", example("sancion_resultado_cobro", 0, fecha_resultado="2027-01-11"))
    assert c.status == "completed" and {"fin_cobro", "fin_recurso_comunicado"} <= c.reached()
    assert "declarar_firmeza" not in c.reached()


def test_modificacion_fuera_de_rango_se_rechaza(tramita_sqlite: Any, start: Any) -> None:
    c = en_recurso(tramita_sqlite, start, SIN_SUSPENSION)
    with pytest.raises(InvalidInput) as err:
        c.do("resolver_recurso", example("sancion_resolucion_recurso", 1, multa_uma=3))
    assert f"{LEY} art. 47, fracción I, segundo párrafo" in err.value.fields["multa_uma"]
    assert c.open() == ["remitir_cobro", "resolver_recurso"]


def test_recurso_revoca_la_resolucion(tramita_sqlite: Any, start: Any) -> None:
    c = en_recurso(tramita_sqlite, start, RECURSO)
    c.do("valorar_suspension", example("sancion_valoracion_suspension"))  # suspension granted: enforcement waits
    assert c.open() == ["resolver_recurso"]
    c.do("resolver_recurso", example("sancion_resolucion_recurso", 2), at="2027-01-05T10:00:00")
    c.do("notificar_resolucion_recurso", example("sancion_notificacion_recurso"), at="2027-01-06T10:00:00")
    assert c.status == "completed"
    assert "fin_revocada" in c.reached() and "declarar_firmeza" not in c.reached()
    assert "remitir_cobro" not in c.reached()


def test_reincidente_recurso_confirmado_ordena_arresto(tramita_sqlite: Any, start: Any) -> None:
    c = en_recurso(tramita_sqlite, start, RECURSO, REINCIDENTE)
    c.do("valorar_suspension", example("sancion_valoracion_suspension"))
    # Art. 56 IV: a repeat offender gets no suspension, so the arrest is ordered while the recurso runs.
    assert c.open() == ["ordenar_arresto", "resolver_recurso"]
    c.do("resolver_recurso", example("sancion_resolucion_recurso", 0), at="2027-01-05T10:00:00")
    c.do("notificar_resolucion_recurso", example("sancion_notificacion_recurso"), at="2027-01-06T10:00:00")
    assert c.open() == ["comunicar_recurso_ejecutora", "ordenar_arresto"]


# --- issue 10, items 13-15 and 18 ---------------------------------------------------------------------------

def firme_sin_recurso(t: Any, start: Any, resolucion: dict[str, Any] = RESOLUCION) -> Case:
    """No recurso: the term ends Monday 28 December 2026; certified on Tuesday 29, the resolution is firm."""
    c = notificada(t, start, resolucion)
    c.fire("2026-12-29T00:00:01")
    c.do("certificar_recurso", example("sancion_certificacion_recurso", 0), at="2026-12-29T10:00:00")
    return c


def test_multa_no_pagada_se_permuta_por_arresto_de_hasta_36_horas(tramita_sqlite: Any, start: Any) -> None:
    """Item 14, art. 47 last paragraph: an unpaid fine may be exchanged for arrest of at most 36 hours."""
    c = firme_sin_recurso(tramita_sqlite, start)
    c.do("remitir_cobro", example("sancion_remision_cobro"), at="2027-01-05T10:00:00")
    c.do("registrar_resultado_cobro", example("sancion_resultado_cobro", 1), at="2027-02-15T10:00:00")
    assert c.open() == ["ordenar_arresto_permuta"]
    with pytest.raises(InvalidInput) as err:
        c.do("ordenar_arresto_permuta", example("sancion_orden_arresto", fecha_orden="2027-02-15", horas_arresto=40))
    assert "art. 47" in err.value.fields["horas_arresto"]
    c.do("ordenar_arresto_permuta", example("sancion_orden_arresto", fecha_orden="2027-02-15", horas_arresto=36))
    assert c.status == "completed" and "fin_arresto_permuta" in c.reached() and "fin_cobro" not in c.reached()


def test_la_multa_del_jornalero_es_un_dia_de_ingreso_no_una_fraccion(tramita_sqlite: Any, start: Any) -> None:
    """Item 14, art. 47 I, second paragraph: «será equivalente a un día de su jornada o ingreso diario»."""
    c = registrada(tramita_sqlite, start)
    c.do("citar_partes", example("sancion_citacion"), at="2026-04-01T10:00:00")
    c.do("desahogar_comparecencia", example("sancion_comparecencia"), at="2026-04-10T10:00:00")
    with pytest.raises(InvalidInput) as err:
        c.do("dictar_resolucion", dict(JORNALERO, multa_dias_ingreso=0.5), at="2026-06-15T10:00:00")
    assert err.value.fields["multa_dias_ingreso"].startswith("La multa de una persona jornalera")
    c.do("dictar_resolucion", JORNALERO)
    assert c.value("verificar_sancion", "multa_pesos") == 350.0  # 1 day × 350 pesos of daily income


def test_la_facultad_de_ejecutar_tambien_prescribe_al_ano(tramita_any: Any, start: Any) -> None:
    """Item 15, art. 53: the power to enforce prescribes in one year from the day the sanction is enforceable.

    Firm on Tuesday 29 December 2026 (parameter sancion.prescripcion_ejecucion_inicio: «ejecutable»);
    prescription rule (Código Civil art. 1180; sancion.prescripcion_regla): 29 December counts whole, so
    the year has run at 00:00 of Wednesday 29 December 2027, not moved by días inhábiles.
    """
    c = firme_sin_recurso(tramita_any, start)
    assert c.value("declarar_firmeza", "fecha_ejecutable") == "2026-12-29"
    c.do("remitir_cobro", example("sancion_remision_cobro"), at="2027-01-05T10:00:00")
    timer = c.timer("prescripcion_ejecucion_registrar_resultado_cobro")
    assert local(timer.due_at) == "2027-12-29T00:00:00-07:00"
    assert timer.deadline["unit"] == "months" and timer.deadline["count"] == 12
    assert "Código Civil art. 1180" in timer.deadline["rule"]
    assert c.fire("2027-12-29T00:00:00") == []
    c.fire("2027-12-29T00:00:01")
    assert c.status == "completed"
    assert {"registrar_prescripcion_ejecucion", "fin_ejecucion_prescrita"} <= c.reached()
    assert c.data()["motivo_conclusion"].startswith(f"{LEY} art. 53: prescribió la facultad de hacer efectiva")


def test_sin_la_uma_del_periodo_la_tarea_dice_que_periodo_agregar(tramita_sqlite: Any, start: Any,
                                                                   tmp_path: Any, monkeypatch: Any) -> None:
    """Item 18: an infraction on Wednesday 10 February 2027 falls in the period 2027-02-01 to 2028-01-31,
    which parameters.toml does not hold: a message on the task, not an IndexError; loaded, it goes on."""
    import shutil

    from engine import config
    from tests.procedures.conftest import WORKFLOWS

    c = start(tramita_sqlite, "sancion", INICIO, "2027-02-11T09:00:00")
    c.do("registrar_infraccion", dict(REGISTRO, fecha_infraccion="2027-02-10"))
    c.do("citar_partes", example("sancion_citacion", fecha_citacion="2027-02-11",
                                 fecha_hora_comparecencia="2027-02-18T10:00:00-07:00"))
    c.do("desahogar_comparecencia", example("sancion_comparecencia"), at="2027-02-18T10:00:00")
    c.do("dictar_resolucion", dict(RESOLUCION, fecha_resolucion="2027-03-01"), at="2027-03-01T10:00:00")
    assert c.status == "running" and not c.detail().incidents
    assert c.open() == ["dictar_resolucion"]  # back for correction, with the message
    [message] = c.value("verificar_sancion", "errores_sancion")
    assert "[uma.periodos]" in message and "2027-02-01 al 2028-01-31" in message
    assert c.value("verificar_sancion", "uma_infraccion") is None
    # The legal designer deploys the 2027 value (a new version of periodos/uma.toml); sent again, it goes on.
    from engine.deploy.versions import BundleFile

    uma = (WORKFLOWS / "periodos" / "uma.toml").read_text(encoding="utf-8").replace(
        '{ desde = "2026-02-01", hasta = "2027-01-31", valor = 117.31 },',
        '{ desde = "2026-02-01", hasta = "2027-01-31", valor = 117.31 },\n'
        '  { desde = "2027-02-01", hasta = "2028-01-31", valor = 121.00 },')
    assert "121.00" in uma
    tramita_sqlite.deploy([BundleFile("periodos/uma.toml", uma.encode("utf-8"))], "disenadora")
    tramita_sqlite.runtime.forget_latest()
    c.do("dictar_resolucion", dict(RESOLUCION, fecha_resolucion="2027-03-01"))
    assert c.value("verificar_sancion", "multa_pesos") == 7260.0  # 60 × 121.00
    assert c.open() == ["notificar_resolucion"]


def test_infraccion_futura_o_anterior_a_la_ley_se_rechaza(tramita_sqlite: Any, start: Any) -> None:
    """Item 19: today (engine clock) and a legal parameter (sancion.ley_vigente_desde, 30 January 2000)."""
    c = start(tramita_sqlite, "sancion", INICIO, "2026-03-11T09:00:00")
    with pytest.raises(InvalidInput) as err:  # the 2030 date that once put a case in error
        c.do("registrar_infraccion", dict(REGISTRO, fecha_infraccion="2030-03-10"))
    assert "no puede ser posterior a hoy" in err.value.fields["fecha_infraccion"]
    with pytest.raises(InvalidInput) as err:
        c.do("registrar_infraccion", dict(REGISTRO, fecha_infraccion="1900-01-01"))
    assert "entrada en vigor" in err.value.fields["fecha_infraccion"]
    c.do("registrar_infraccion", dict(REGISTRO, fecha_infraccion="2000-01-30"))  # the first day in force
    # (long prescribed: art. 53's year ran at 00:00 of 30 January 2001, so the case ends at once)
    assert "fin_prescrita" in c.reached()
    # Another field of the same form: the hearing cannot come before the citation that sets it.
    c = registrada(tramita_sqlite, start)
    with pytest.raises(InvalidInput) as err:
        c.do("citar_partes", example("sancion_citacion", fecha_citacion="2026-03-11",
                                     fecha_hora_comparecencia="2026-03-10T10:00:00-07:00"))
    assert err.value.fields["fecha_hora_comparecencia"].startswith("La comparecencia no puede ser anterior a la citación")
