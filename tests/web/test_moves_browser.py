"""Moving a running case in Chromium: a legal designer previews the cases on version 1 of «orden_proteccion»,
chooses one, writes the reason and moves it; the result says it moved; the case page (seen by the Ministerio
Público who runs it) then shows version 2 and the move in its history. axe-core finds no serious or critical
violation on the page. Screenshots in test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.services import SYSTEM
from tests.web.conftest import REAL_REQUEST, REAL_WORKFLOWS
from tests.web.test_browser import chromium, page_for, server, shot  # noqa: F401  (fixtures)
from tests.web.test_studio_browser import axe_serious


def test_designer_previews_and_moves_a_case(page_for: Any, server: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    t = server["tramita"]
    iid = t.start("orden_proteccion", dict(REAL_REQUEST), "operativo.fgje", reference="OP-MOV-1",
                  institution="FGJE").instance_id
    other = t.start("orden_proteccion", dict(REAL_REQUEST), "operativo.fgje", reference="OP-MOV-2",
                    institution="FGJE").instance_id
    folder = tmp_path / "workflows"
    shutil.copytree(REAL_WORKFLOWS, folder)
    bpmn = folder / "bpmn" / "orden_proteccion.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('name="Valorar el riesgo"',
                                                             'name="Valorar el riesgo (reforma)"'), encoding="utf-8")
    t.design.deploy_paths(SYSTEM, [folder], note="Reforma de prueba")
    t.runtime.forget_latest()

    page = page_for("diseno.ism")
    page.goto(server["url"] + "/diseno/procesos/orden_proteccion/casos")
    assert page.locator("h1").inner_text().startswith("Casos abiertos en versiones anteriores a la 2")
    assert "«Valorar el riesgo» sigue abierta en la versión 2 como «Valorar el riesgo (reforma)»" in page.inner_text("main")
    violations = {"vista previa": axe_serious(page)}
    shot(page, "moves-1-preview")

    page.click("button:has-text('Mover los casos elegidos')")  # nothing chosen, no reason
    assert page.locator("#caso-error").inner_text().startswith("Elija al menos un caso")
    assert page.locator("#motivo-error").is_visible()
    violations["errores"] = axe_serious(page)
    shot(page, "moves-2-errors")

    page.check(f"#caso-{iid}")
    page.fill("#motivo", "Reforma de prueba: el paso cambia de nombre")
    page.click("button:has-text('Mover los casos elegidos')")
    result = page.locator("#resultados").inner_text()
    assert "OP-MOV-1" in result and "movido de la versión 1 a la 2" in result, result
    assert page.locator(f"#caso-{other}").count() == 1 and page.locator(f"#caso-{iid}").count() == 0
    violations["resultado"] = axe_serious(page)
    shot(page, "moves-3-result")

    mp = page_for("operativo.fgje")
    mp.goto(server["url"] + f"/casos/{iid}")
    header = mp.locator("main").inner_text()
    assert "versión 2" in header and "Caso movido a otra versión del trámite" in header
    assert "Reforma de prueba: el paso cambia de nombre" in header
    shot(mp, "moves-4-case")
    mp.goto(server["url"] + f"/casos/{other}")
    assert "versión 1" in mp.locator("main").inner_text()
    assert not any(violations.values()), violations
