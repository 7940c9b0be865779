"""Moving running cases to a new version from the studio's page, the API and the CLI (issue 12, item 7).

The shipped «orden_proteccion» is version 1; version 2 counts the emission term in 6 hours instead of the
parameter's 4 (LGAMVLV art. 28). A case started on 2 March 2026 at 10:05 with the facts known at 10:00
waits at «Valorar el riesgo»: its term ends at 14:00 on version 1 and at 16:00 once moved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.cli_runner import runner
from tests.engine.test_moving import new_case, pending, six_hours, version_two, without_emitir_orden
from tests.procedures.conftest import hmo
from tests.web.conftest import PASSWORD, REAL_USERS, REAL_WORKFLOWS, Browser, build_app, make_tramita

USERS = REAL_USERS + [("lucia", "legal_designer", "ISM", [])]


@pytest.fixture
def t(sqlite_url: str, frozen_clock: Any) -> Iterator[Any]:
    frozen_clock.set(hmo("2026-03-02T10:05:00"))
    tr = make_tramita(sqlite_url, REAL_WORKFLOWS, USERS)
    yield tr
    tr.db.dispose()


def test_the_page_previews_and_moves_the_cases_chosen(t: Any, tmp_path: Path) -> None:
    first, second = new_case(t), new_case(t)
    version_two(t, tmp_path, six_hours)
    b = Browser(build_app(t))
    b.login("lucia", PASSWORD)
    page = b.get("/diseno/procesos/orden_proteccion/casos")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('name="caso"') == 2 and "vencerá el 02/03/2026 16:00" in html

    # Nothing chosen, no reason: both said next to their fields, nothing moved.
    bad = b.post("/diseno/procesos/orden_proteccion/casos", {"motivo": " "})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Elija al menos un caso" in html and "Escriba el motivo" in html
    assert 'aria-describedby="motivo-error"' in html and t.instance(first).instance.version == 1

    done = b.post("/diseno/procesos/orden_proteccion/casos", {"caso": [str(first)], "motivo": "Reforma al art. 28"})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "movido de la versión 1 a la 2" in html
    assert t.instance(first).instance.version == 2 and t.instance(second).instance.version == 1
    assert html.count('name="caso"') == 1  # the moved case is no longer on an earlier version
    [timer] = [x for x in pending(t, first) if x.task_name == "plazo_emision_valoracion"]
    assert timer.due_at == hmo("2026-03-02T16:00:00")

    mp = Browser(build_app(t))
    mp.login("mp", PASSWORD)
    assert mp.post("/diseno/procesos/orden_proteccion/casos", {"caso": [str(second)], "motivo": "x"}).status_code \
        in (302, 403)
    assert t.instance(second).instance.version == 1


def test_the_api_previews_and_moves_with_the_same_rules(t: Any, tmp_path: Path) -> None:
    moving, ahead = new_case(t), new_case(t)
    from tests.procedures.conftest import USER, example

    task = next(x for x in t.tasks(instance_id=ahead) if x.name == "valorar_riesgo")
    t.complete(task.id, example("orden_proteccion_valoracion_riesgo", 0), USER)
    version_two(t, tmp_path, without_emitir_orden)
    client = build_app(t).test_client()
    tokens = {u: t.create_token(u) for u in ("lucia", "mp")}

    def api(method: str, url: str, who: str = "lucia", **kw: Any) -> Any:
        return client.open(url, method=method, headers={"Authorization": f"Bearer {tokens[who]}"}, **kw)

    previews = api("GET", "/api/v1/processes/orden_proteccion/moves").json
    assert previews["to_version"] == 2
    assert {c["instance_id"]: c["can_move"] for c in previews["cases"]} == {moving: True, ahead: False}
    url = "/api/v1/processes/orden_proteccion/moves"
    assert api("POST", url, who="mp", json={"all": True, "reason": "x"}).status_code == 403
    assert api("POST", url, json={"all": True}).json["field"] == "reason"
    assert api("POST", url, json={"reason": "x"}).json["field"] == "instances"
    assert api("POST", url, json={"instances": ["uno"], "reason": "x"}).json["field"] == "instances"
    assert api("POST", url, json={"all": True, "reason": "x", "forzar": True}).json["field"] == "forzar"
    assert api("POST", url, json={"all": True, "reason": "x", "to_version": "dos"}).json["field"] == "to_version"
    r = api("POST", url, json={"all": True, "reason": "Reforma: emisión", "to_version": 2})
    assert r.status_code == 200 and (r.json["moved"], r.json["refused"]) == (1, 1)
    by_case = {x["instance_id"]: x for x in r.json["results"]}
    assert by_case[moving]["moved"] and by_case[moving]["reason"] == ""
    assert "«Emitir la orden de protección» (emitir_orden) no existe en la versión 2" in by_case[ahead]["reason"]


def test_the_cli_moves_and_refuses_bad_input_in_one_line(t: Any, tmp_path: Path, sqlite_url: str,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    iid = new_case(t)
    version_two(t, tmp_path, six_hours)
    run = runner(sqlite_url, monkeypatch, capsys)
    for bad in (["move", "orden_proteccion", "--all"],  # no reason
                ["move", "orden_proteccion", "--reason", "x"],  # neither --case nor --all
                ["move", "orden_proteccion", "--case", "uno", "--reason", "x"],
                ["move", "orden_proteccion", "--to", "0", "--all", "--reason", "x"],
                ["move", "no_existe", "--all", "--reason", "x"],
                ["--user", "mp", "move", "orden_proteccion", "--all", "--reason", "x"]):
        assert run(*bad).one_line_error, bad
    assert t.instance(iid).instance.version == 1
    done = run("--user", "lucia", "move", "orden_proteccion", "--to", "2", "--case", str(iid), "--reason",
               "Reforma al art. 28")
    assert done.code == 0 and f"instance {iid}: moved from version 1 to 2" in done.out
    again = run("--user", "lucia", "move", "orden_proteccion", "--to", "2", "--case", str(iid), "--reason", "otra",
                "--json")
    assert again.code == 3 and json.loads(again.out)[0]["reason"] == "El caso ya está en la versión 2."
