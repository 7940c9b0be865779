"""In Chromium: a protection order's whole life — issue, the reassessment before the end, the extension as a
new act with its own PDF version, the late-reassessment warning, and the register of orders (issue 10).

Clock (frozen, Hermosillo): learned Monday 2 March 2026 10:00, issued 11:00. 60 natural days end Friday
1 May 23:59:59; the reassessment opens 5 days earlier (after Sunday 26 April 23:59:59). Extended on
28 April by 30 days: the vigencia ends Sunday 31 May; its reassessment opens after Tuesday 26 May. Nobody
decides in time: after 31 May the task is overdue, escalated, and the register shows the order «Vencida».
The PDF of each version is saved to test-artifacts/ and rendered to PNG with pdftoppm.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from engine.run import firing
from tests.procedures.conftest import hmo
from tests.web.conftest import REAL_ISSUE, REAL_REQUEST, REAL_RISK, REAL_WORKFLOWS, open_task
from tests.web.test_browser import (ARTIFACTS, chromium, no_script_errors, page_for, server, shot,  # noqa: F401
                                    submit)

NOTIFICATION = json.loads((REAL_WORKFLOWS / "forms" / "orden_proteccion_notificacion.schema.json")
                          .read_text(encoding="utf-8"))["examples"][0]
REPORT = json.loads((REAL_WORKFLOWS / "forms" / "orden_proteccion_informe_orden.schema.json")
                    .read_text(encoding="utf-8"))["examples"][0]


def _fire(t: Any, clock: Any, instant: str) -> list[Any]:
    clock.set(hmo(instant))
    return firing.fire_due(t.runtime, as_of=hmo(instant), worker="navegador")


def _pdf(page: Any, url: str, name: str) -> str:
    response = page.request.get(url)
    assert response.ok and response.body().startswith(b"%PDF")
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(response.body())
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(path), str(ARTIFACTS / name)],
                       check=True)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout \
        if shutil.which("pdftotext") else ""
    return " ".join(text.split())


def test_vida_completa_de_una_orden_con_prorroga_y_registro(page_for: Any, server: dict[str, Any],
                                                           frozen_clock: Any) -> None:
    t, url = server["tramita"], server["url"]
    frozen_clock.set(hmo("2026-03-02T10:30:00"))
    iid = t.start("orden_proteccion", dict(REAL_REQUEST), "operativo.fgje", reference="OP-VIDA-1",
                  institution="FGJE").instance_id
    t.complete(open_task(t, iid, "valorar_riesgo"), REAL_RISK, "operativo.fgje")
    frozen_clock.set(hmo("2026-03-02T11:00:00"))
    t.complete(open_task(t, iid, "emitir_orden"), REAL_ISSUE, "operativo.fgje")
    folio = t.instance(iid).data["folio_orden"]
    assert folio.startswith("OP-FGJE-2026-")
    # Notified at 11:00 as issued: a notification cannot be later than now (item 19).
    t.complete(open_task(t, iid, "notificar_orden"), dict(
        NOTIFICATION, fecha_hora_notificacion="2026-03-02T11:00:00-07:00",
        notificacion_persona_agresora=dict(NOTIFICATION["notificacion_persona_agresora"],
                                           fecha_hora="2026-03-02T11:00:00-07:00")), "operativo.fgje")
    t.complete(open_task(t, iid, "informar_orden_registro"), REPORT, "operativo.fgje")
    # The reassessment opens five days before the end (LGAMVLV arts. 28, 34 Septies).
    assert "inicio_revaloracion" in [f.task_name for f in _fire(t, frozen_clock, "2026-04-27T00:00:00")]
    frozen_clock.set(hmo("2026-04-28T10:00:00"))
    mp = page_for("operativo.fgje")
    mp.goto(f"{url}/casos/{iid}")
    plazos = mp.locator("#plazos").inner_text()
    assert "Valorar de nuevo el riesgo" in plazos and "LGAMVLV arts. 28 y 34 Septies" in plazos
    shot(mp, "20-revaloracion-abierta")
    mp.click("a.task-link:has-text('Valorar de nuevo el riesgo')")
    for name, value in (("riesgo_vida", "false"), ("riesgo_integridad", "true"), ("riesgo_patrimonio", "false"),
                        ("riesgo_continua", "true")):
        mp.check(f"input[name={name}][value={value}]")
    if mp.locator("select#f-magnitud_dano").count():
        mp.select_option("#f-magnitud_dano", "leve")
    else:
        mp.check("input[name=magnitud_dano][value=leve]")
    if mp.locator("select#f-decision_revaloracion").count():
        mp.select_option("#f-decision_revaloracion", "prorrogar")
    else:
        mp.check("input[name=decision_revaloracion][value=prorrogar]")
    mp.fill("#f-fundamentacion_revaloracion", "Persisten amenazas; se prorroga (LGAMVLV art. 28).")
    shot(mp, "21-revaloracion-prorrogar")
    submit(mp)
    mp.wait_for_url(f"{url}/casos/{iid}")
    # The extension is a new act: a new notification to the enforcing authorities (art. 43).
    mp.click("a.task-link:has-text('Notificar la prórroga')")
    # Item 19: not before the extension it notifies (28 April), not later than today; the input says so.
    fecha = mp.locator("#f-fecha_hora_notificacion")
    assert (fecha.get_attribute("min"), fecha.get_attribute("max")) == ("2026-04-28T00:00", "2026-04-28T23:59")
    mp.fill("#f-fecha_hora_notificacion", "2026-04-28T10:00")
    mp.check("input[name=autoridades_notificadas][value=policia_municipal]")
    mp.select_option("#f-notificacion_persona_agresora-medio", "personal_policia")
    mp.check("input[name='notificacion_persona_agresora.por_conducto_de_la_victima'][value=false]")
    submit(mp)
    mp.wait_for_url(f"{url}/casos/{iid}")
    # Both versions of the art. 43 document are kept and offered.
    versions = mp.locator("a.doc-version")
    assert versions.count() == 2
    assert "Versión 1: emisión" in versions.nth(0).inner_text() and "01/05/2026" in versions.nth(0).inner_text()
    assert "Versión 2: prórroga" in versions.nth(1).inner_text() and "31/05/2026" in versions.nth(1).inner_text()
    shot(mp, "22-dos-versiones-de-la-orden")
    v1 = _pdf(mp, url + versions.nth(0).get_attribute("href"), "orden-v1")
    v2 = _pdf(mp, url + versions.nth(1).get_attribute("href"), "orden-v2")
    if v1:
        assert "ORDEN DE PROTECCI" in v1 and "versión 1 de 2" in v1 and "al 01/05/2026" in v1
        assert "PRÓRROGA DE LA ORDEN" in v2 and "versión 2 de 2" in v2 and "al 31/05/2026" in v2
        assert "Prórroga de la vigencia acordada el 28/04/2026" in v2 and folio in v1 and folio in v2
        assert "Persisten amenazas; se prorroga" in v2  # the extension's own reasons
    # The extended order's reassessment opens on 27 May; nobody decides by 31 May 23:59:59.
    _fire(t, frozen_clock, "2026-05-27T00:00:00")
    fired = _fire(t, frozen_clock, "2026-06-01T00:00:01")
    assert "plazo_revaloracion_vencido" in [f.task_name for f in fired]
    mp = page_for("operativo.fgje")  # a month later: the earlier session ended (at most 12 hours)
    mp.goto(f"{url}/bandeja")
    assert "Vencida" in mp.content() and "Valorar de nuevo el riesgo" in mp.content()
    shot(mp, "23-revaloracion-atrasada-bandeja")
    mp.goto(f"{url}/casos/{iid}")
    shot(mp, "24-revaloracion-atrasada-expediente")
    # The register (art. 28): the order with its extension, now «Vencida»; exports offered.
    mp.click("nav a:has-text('Registro de órdenes')")
    mp.wait_for_load_state("networkidle")
    row = mp.locator("table.registro tr", has_text=folio)
    assert row.count() == 1
    text = row.inner_text()
    assert "Vencida" in text and "Pedro Ramírez Soto" in text and "31/05/2026" in text and "Prorrogada el" in text
    assert "María López" not in mp.content()  # never the protected person
    shot(mp, "25-registro-de-ordenes")
    exported = mp.request.get(url + mp.locator("a:has-text('Exportar JSON')").get_attribute("href"))
    assert exported.ok and folio in exported.text()
    mp.click("a:has-text('Evaluación anual')")
    mp.wait_for_load_state("networkidle")
    assert "Órdenes prorrogadas" in mp.content()
    shot(mp, "26-evaluacion-anual")
    no_script_errors(mp)
    # A user whose role the register's policy does not name neither sees the link nor opens it.
    dif = page_for("operativo.dif")
    assert dif.locator("nav a:has-text('Registro de órdenes')").count() == 0
    assert dif.goto(f"{url}/registro").status == 403
