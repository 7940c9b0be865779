"""The directory of institutions and groups in headless Chromium: the administrator adds a group, sees a
Spanish error next to the field, edits the group, disables and enables it, and is refused disabling a
group a lane maps to; axe-core finds no serious or critical violation. Screenshots in test-artifacts/."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.web.conftest import PASSWORD, REAL_WORKFLOWS, make_tramita

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run"]

if not Path(CHROMIUM).exists() or not AXE.exists():
    pytest.skip("chromium or node_modules/axe-core is missing", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")


@pytest.fixture
def server(tmp_path: Path, sqlite_template: Path) -> Iterator[dict[str, Any]]:
    from argon2 import PasswordHasher
    from werkzeug.serving import make_server

    from engine.casework import people as accounts
    from web import create_app

    db = tmp_path / "tramita.db"
    shutil.copy(sqlite_template, db)
    hasher, accounts._hasher = accounts._hasher, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    t = make_tramita(f"sqlite:///{db}", REAL_WORKFLOWS, [("raiz", "admin", "ISM", [])])
    app = create_app({"TRAMITA": t, "SECRET_KEY": "directorio", "SESSION_COOKIE_SECURE": False})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield {"url": f"http://127.0.0.1:{httpd.server_port}", "tramita": t}
    finally:
        httpd.shutdown()
        t.db.dispose()
        accounts._hasher = hasher


def axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_the_administrator_edits_the_directory_in_a_browser(server: dict[str, Any]) -> None:
    url = server["url"]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(locale="es-MX", viewport={"width": 1280, "height": 900},
                                   bypass_csp=True).new_page()  # bypass_csp: so the test can inject axe-core
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/entrar")
        page.fill("#username", "raiz")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(url + "/admin/usuarios")
        page.click("a:has-text('Directorio de instituciones y grupos')")
        table = page.locator("#directory")
        assert "autoridad_emisora_orden" in table.inner_text()  # seeded by the deploy of workflows/lanes.toml
        assert axe(page) == []
        # A bad code: the error is next to the field, in Spanish, and nothing is added.
        page.fill("#n-clave", "Jurídico")
        page.fill("#n-nombre", "Área jurídica")
        page.fill("#n-institucion", "ISM")
        page.click("button:has-text('Agregar grupo')")
        assert page.locator("#n-clave-error").inner_text().startswith("Clave no válida")
        assert page.locator("#n-clave").get_attribute("aria-invalid") == "true"
        assert page.locator("#n-nombre").input_value() == "Área jurídica"
        page.screenshot(path=str(ARTIFACTS / "directorio-01-error.png"), full_page=True)
        assert axe(page) == []
        page.fill("#n-clave", "juridico")
        page.fill("#n-notas", "Atiende consultas")
        page.click("button:has-text('Agregar grupo')")
        row = page.locator("#grupo-juridico")
        assert "Área jurídica" in row.inner_text() and "Atiende consultas" in row.inner_text()
        row.locator("summary").click()
        page.fill("#e-juridico-nombre", "Dirección jurídica")
        row.locator("button:has-text('Guardar grupo')").click()
        assert "Dirección jurídica" in page.locator("#grupo-juridico").inner_text()
        page.locator("#grupo-juridico button:has-text('Deshabilitar')").click()
        assert "Deshabilitado" in page.locator("#grupo-juridico").inner_text()
        page.locator("#grupo-juridico button:has-text('Habilitar')").click()
        assert "Activo" in page.locator("#grupo-juridico").inner_text()
        # A group a lane of orden_proteccion maps to: refused, the lane named next to the button.
        page.locator("#grupo-policia button:has-text('Deshabilitar')").click()
        assert "Policía" in page.locator("#estado-policia-error").inner_text()
        page.locator("#grupo-juridico summary").click()
        page.screenshot(path=str(ARTIFACTS / "directorio-02-grupos.png"), full_page=True)
        assert axe(page) == []
        assert not errors, errors
        browser.close()
    assert server["tramita"].runtime.group_names["juridico"] == "Dirección jurídica"
