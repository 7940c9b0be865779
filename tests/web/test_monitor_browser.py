"""The manager console in a real browser (Debian's Chromium, Playwright) against a real server whose
clock is frozen and advanced by the test.

A protection order request reaches the Ministerio Público (FGJE) on Monday 2 March 2026 at 10:00,
Hermosillo; «Valorar el riesgo» is due 4 hours later, at 14:00 (LGAMVLV art. 28). Two cases of a test
procedure are in error; one's cause goes away on 3 March (its script fails before that date), the
other's does not. Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.diagrams import bundle, flows, process, script_task, user_task
from tests.web.conftest import PASSWORD, REAL_REQUEST, REAL_WORKFLOWS, make_tramita

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run"]
HMO = timezone(timedelta(hours=-7))
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=HMO)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing", allow_module_level=True)
if not (ROOT / "node_modules" / "chart.js" / "dist").exists() or not AXE.exists():
    pytest.skip("node_modules/chart.js or axe-core is missing: run `npm install`", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")

FLAKY = process("servicio_externo", "\n".join([
    '<bpmn:startEvent id="start"/>', user_task("capturar", "Capturar"),
    script_task("consultar", 'if falla or ahora() &lt; "2026-03-03":\n    result = 1 / 0\nelse:\n    result = 42'),
    user_task("revisar", "Revisar"), '<bpmn:endEvent id="end"/>',
    flows(("start", "capturar"), ("capturar", "consultar"), ("consultar", "revisar"), ("revisar", "end")),
]), name="Servicio externo (prueba)")

USERS = [("mp", "caseworker", "FGJE", ["autoridad_emisora_orden", "victima_solicitante"]),
         ("mp2", "caseworker", "FGJE", ["autoridad_emisora_orden"]),
         ("gerente_fgje", "manager", "FGJE", []), ("raiz", "admin", "ISM", [])]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[dict[str, Any]]:
    from argon2 import PasswordHasher
    from werkzeug.serving import make_server

    from engine.casework import people as accounts
    from engine.errors import ExecutionFailed
    from engine.time import clock
    from web import create_app

    folder = tmp_path_factory.mktemp("monitor")
    db = folder / "tramita.db"
    shutil.copy(sqlite_template, db)
    os.environ["TRAMITA_ATTACHMENTS"] = str(folder / "attachments")
    frozen = clock.FrozenClock(T0)
    previous = clock.set_clock(frozen)
    hasher, accounts._hasher = accounts._hasher, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    t = make_tramita(f"sqlite:///{db}", REAL_WORKFLOWS, USERS)
    t.deploy([bundle("servicio.bpmn", FLAKY)], "pruebas")
    order = t.start("orden_proteccion", dict(REAL_REQUEST), "mp", reference="OP-MON-001", institution="FGJE")
    broken = []
    for ref, falla in (("EXT-001", False), ("EXT-002", True)):
        r = t.start("servicio_externo", {"falla": falla}, "mp", reference=ref, institution="FGJE")
        with pytest.raises(ExecutionFailed):
            t.complete(r.open_tasks[0], {}, "mp")
        broken.append(r.instance_id)
    app = create_app({"TRAMITA": t, "SECRET_KEY": "monitor", "SESSION_COOKIE_SECURE": False})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{httpd.server_port}", "tramita": t, "clock": frozen,
               "order": order.instance_id, "broken": broken}
    finally:
        httpd.shutdown()
        t.db.dispose()
        accounts._hasher = hasher
        clock.set_clock(previous)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def sign_in(chromium: Any, server: dict[str, Any], username: str) -> Any:
    context = chromium.new_context(locale="es-MX", viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                   bypass_csp=True)  # so the test can inject axe-core; the app itself is unchanged
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto(server["url"] + "/entrar")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def axe(page: Any) -> list[dict[str, Any]]:
    """Serious or critical axe-core violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_overdue_reassigned_bulk_retry_heatmap_export_and_accessibility(chromium: Any, server: dict[str, Any]) -> None:
    url, clock = server["url"], server["clock"]
    clock.set(datetime(2026, 3, 2, 13, 59, tzinfo=HMO))
    g = sign_in(chromium, server, "gerente_fgje")
    g.goto(url + "/monitor")
    assert g.locator("#kpi-overdue").inner_text() == "0"
    assert g.locator("#kpi-error").inner_text() == "2"
    # The clock passes 14:00: the risk assessment is now overdue.
    clock.set(datetime(2026, 3, 2, 14, 1, tzinfo=HMO))
    g.reload()
    assert g.locator("#kpi-overdue").inner_text() == "1"
    g.wait_for_function("document.querySelector('#chart-weekly').getAttribute('width') !== null")
    shot(g, "monitor-01-resumen")
    assert axe(g) == []
    g.click("a.kpi:has-text('Tareas vencidas')")
    row = g.locator("#stalled tr[data-reason=overdue]")
    assert "OP-MON-001" in row.inner_text() and "Plazo legal vencido" in row.inner_text()
    assert "María" not in g.content()
    shot(g, "monitor-02-detenidos")
    assert axe(g) == []
    # Reassign it to the other agent of the group, with a reason.
    row.locator("a:has-text('Reasignar')").click()
    g.select_option("#persona", "mp2")
    g.fill("#motivo", "La titular está en audiencia")
    g.click("button:has-text('Reasignar')")
    g.wait_for_load_state("networkidle")
    assert "Tarea reasignada a mp2." in g.content()
    other = sign_in(chromium, server, "mp2")
    assert other.url.endswith("/bandeja")
    other.click("text=Asignadas a mí") if other.locator("text=Asignadas a mí").count() else None
    assert "OP-MON-001" in other.content()
    shot(other, "monitor-03-bandeja-de-quien-la-recibe")
    # The next day the external service answers again: both cases in error are retried in bulk.
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=HMO))
    earlier = g.js_errors
    g = sign_in(chromium, server, "gerente_fgje")  # 19 hours later: sessions end after 12
    g.goto(url + "/monitor/detenidos?motivo=error")
    for case in server["broken"]:
        g.check(f"#stalled tr[data-case='{case}'] input[type=checkbox]")
    g.select_option("#accion", "retry")
    g.fill("#motivo-accion", "El servicio externo volvió a responder")
    g.click("button:has-text('Aplicar a los elegidos')")
    g.wait_for_selector("#bulk-progress[data-done=true]")  # one request per case, progress shown meanwhile
    assert g.locator("#bulk-status").inner_text() == "Terminado: 1 de 2 casos atendidos."
    ok, bad = server["broken"]
    assert g.locator(f"#results tr[data-case='{ok}']").get_attribute("data-done") == "true"
    assert g.locator(f"#results tr[data-case='{bad}']").get_attribute("data-done") == "false"
    assert "Falló de nuevo" in g.locator(f"#results tr[data-case='{bad}']").inner_text()
    shot(g, "monitor-04-resultado-reintento")
    assert axe(g) == []
    # The heatmap colours the overdue step.
    g.goto(url + "/monitor/mapa/orden_proteccion")
    g.wait_for_selector("#heatmap[data-ready=true]")
    shape = g.locator("g.djs-element[data-element-id=valorar_riesgo]")
    assert "heat-late" in (shape.get_attribute("class") or "")
    stroke = g.evaluate("() => getComputedStyle(document.querySelector("
                        "'g[data-element-id=valorar_riesgo] .djs-visual > :first-child')).stroke")
    assert stroke == "rgb(185, 28, 28)"
    shot(g, "monitor-05-mapa-de-calor")
    assert axe(g) == []
    g.goto(url + "/monitor/carga")
    assert "mp2" in g.locator("#workload").inner_text()
    assert axe(g) == []
    # The export opens in openpyxl and names no victim.
    g.goto(url + "/monitor/detenidos")
    with g.expect_download() as download:
        g.click("#export-xlsx")
    from openpyxl import load_workbook

    assert download.value.suggested_filename.endswith(".xlsx")
    saved = ARTIFACTS / "monitor-detenidos.xlsx"
    download.value.save_as(saved)
    ws = load_workbook(saved).active
    cells = [str(c.value) for r in ws.iter_rows() for c in r if c.value is not None]
    assert "OP-MON-001" in cells and not any(re.search("María|López|Valenzuela", c) for c in cells)
    assert not earlier and not g.js_errors, (earlier, g.js_errors)
    # The administration pages, as the administrator sees them.
    a = sign_in(chromium, server, "raiz")
    a.goto(url + "/admin/usuarios")
    assert "mp2" in a.locator("#users").inner_text()
    assert axe(a) == []
    a.goto(url + "/admin/usuarios/mp2")
    a.fill("#correo", "mp2@fiscalia.test")
    a.click("button:has-text('Guardar correo')")
    a.wait_for_load_state("networkidle")
    assert a.locator("#correo").input_value() == "mp2@fiscalia.test"
    shot(a, "monitor-06-administracion-cuenta")
    assert axe(a) == []
