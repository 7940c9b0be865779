"""Administration pages: accounts as ``tramita users`` manages them, with Spanish errors next to the field."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import PASSWORD


def test_admin_adds_a_user_sets_groups_email_password_token_and_disables(browser: Any, wt: Any) -> None:
    admin = browser("admin")
    assert browser("gerente").get("/admin/usuarios").status_code == 403
    page = admin.get("/admin/usuarios").get_data(as_text=True)
    assert "Directorio de instituciones y grupos" in page
    r = admin.post("/admin/usuarios", {"usuario": "Nueva Persona", "nombre": "Nueva", "institucion": "ISM",
                                      "rol": "caseworker", "contrasena": PASSWORD})
    assert r.status_code == 422 and 'id="n-usuario-error"' in r.get_data(as_text=True)
    r = admin.post("/admin/usuarios", {"usuario": "nueva", "nombre": "Nueva", "institucion": "ISM", "rol": "caseworker",
                                      "contrasena": PASSWORD, "correo": "nueva@ism.test", "grupos": ["ism_atencion"]})
    assert r.status_code == 303
    u = wt.find_user("nueva")
    assert (u.email, u.groups) == ("nueva@ism.test", ("ism_atencion",))
    r = admin.post("/admin/usuarios/nueva/correo", {"correo": "sin-arroba"})
    assert r.status_code == 422 and "El correo electrónico no es válido" in r.get_data(as_text=True)
    assert admin.post("/admin/usuarios/nueva/grupos", {"grupos": ["mp_ordenes"]}).status_code == 303
    assert wt.find_user("nueva").groups == ("mp_ordenes",)
    r = admin.post("/admin/usuarios/nueva/contrasena", {"contrasena": "corta"})
    assert r.status_code == 422 and "al menos 10 caracteres" in r.get_data(as_text=True)
    assert admin.post("/admin/usuarios/nueva/contrasena", {"contrasena": "otra-contrasena-larga"}).status_code == 303
    assert wt.authenticate("nueva", "otra-contrasena-larga").user is not None
    page = admin.post("/admin/usuarios/nueva/token", {"etiqueta": "integración"}).get_data(as_text=True)
    token = page.split('id="token">')[1].split("<")[0]
    assert wt.user_for_token(token).username == "nueva"
    assert admin.post("/admin/usuarios/nueva/deshabilitar").status_code == 303
    assert wt.user_for_token(token) is None and not wt.find_user("nueva").active
    assert admin.post("/admin/usuarios/nueva/habilitar").status_code == 303 and wt.find_user("nueva").active


def test_a_user_sets_their_own_email(browser: Any, wt: Any) -> None:
    ana = browser("ana")
    r = ana.post("/admin/cuenta", {"correo": "ana@"})
    assert r.status_code == 422 and "El correo electrónico no es válido" in r.get_data(as_text=True)
    assert ana.post("/admin/cuenta", {"correo": "ana@ism.test"}).status_code == 303
    assert wt.find_user("ana").email == "ana@ism.test"
    assert ana.get("/admin/usuarios").status_code == 403


def test_admin_adds_edits_disables_and_enables_a_group_of_the_directory(browser: Any, wt: Any) -> None:
    admin = browser("admin")
    assert browser("gerente").get("/admin/directorio").status_code == 403
    assert browser("gerente").post("/admin/directorio", {"clave": "x_y", "nombre": "X", "institucion": "I"}
                                   ).status_code == 403
    page = admin.get("/admin/directorio").get_data(as_text=True)
    assert "Directorio de instituciones y grupos" in page and 'action="/admin/directorio"' in page
    r = admin.post("/admin/directorio", {"clave": "Área", "nombre": "Área", "institucion": "ISM"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="n-clave-error"' in body and "Clave no válida" in body
    r = admin.post("/admin/directorio", {"clave": "juridico", "nombre": "", "institucion": "ISM"})
    assert r.status_code == 422 and 'id="n-nombre-error"' in r.get_data(as_text=True)
    assert not any(g.group == "juridico" for g in wt.people.directory(wt_admin(wt)))
    r = admin.post("/admin/directorio", {"clave": "juridico", "nombre": "Área jurídica", "institucion": "ISM",
                                        "notas": "Consultas"})
    assert r.status_code == 303
    r = admin.post("/admin/directorio", {"clave": "juridico", "nombre": "Área jurídica", "institucion": ""})
    assert r.status_code == 422 and 'id="e-juridico-institucion-error"' in r.get_data(as_text=True)
    assert admin.post("/admin/directorio", {"clave": "juridico", "nombre": "Dirección jurídica",
                                           "institucion": "ISM"}).status_code == 303
    assert "Dirección jurídica" in admin.get("/admin/directorio").get_data(as_text=True)
    assert admin.post("/admin/directorio/juridico/deshabilitar").status_code == 303
    assert 'value="juridico"' not in admin.get("/admin/usuarios").get_data(as_text=True)
    assert admin.post("/admin/directorio/juridico/habilitar").status_code == 303
    assert 'value="juridico"' in admin.get("/admin/usuarios").get_data(as_text=True)
    mapped = wt.runtime.newest_part("lanes")["lanes"]
    group = mapped["Instituto"]  # the test procedure's lanes.toml has no [groups]: the administrator adds it
    assert admin.post("/admin/directorio", {"clave": group, "nombre": "Atención", "institucion": "ISM"}
                      ).status_code == 303
    r = admin.post(f"/admin/directorio/{group}/deshabilitar")
    body = r.get_data(as_text=True)
    assert r.status_code == 409 and f'id="estado-{group}-error"' in body and "No se puede deshabilitar" in body
    assert any(lane in body for lane, g in mapped.items() if g == group)
    assert next(g for g in wt.people.directory(wt_admin(wt)) if g.group == group).active


def wt_admin(wt: Any) -> Any:
    return wt.find_user("admin")
