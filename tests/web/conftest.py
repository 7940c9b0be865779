"""Web fixtures: an app on a fresh database with a procedure deployed and one user per role.

Route tests use a small test procedure (``tests/web/workflows``): a start form, a form
per user task with every kind of widget (files, arrays, dates...), two lanes mapped to
groups by its own ``lanes.toml``, and a non-interrupting boundary timer computed with
``plazo_habil``. The real procedures (``workflows/``) are used where what matters is
the real case data: the protection order PDF (fixture ``real``) and the browser tests.
Route tests run on SQLite; the access-control and inbox tests also run on PostgreSQL
(fixture ``db_url``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from argon2 import PasswordHasher

from engine.casework import people as accounts

WORKFLOWS = Path(__file__).resolve().parent / "workflows"
REAL_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
PASSWORD = "contrasena-de-prueba"

# (username, role, institution, groups)
USERS = [
    ("ana", "caseworker", "ISM", ["ism_atencion"]),
    ("mario", "caseworker", "FGJE", ["mp_ordenes"]),
    ("dora", "caseworker", "DIF", ["dif_atencion"]),
    ("gerente", "manager", "ISM", []),
    ("gerente_dif", "manager", "DIF", []),
    ("disenadora", "legal_designer", "ISM", []),
    ("admin", "admin", "ISM", []),
]


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: the tests check the logic, not the work factor."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(autouse=True)
def _attachments_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where attachments went before migration 0005 (now the database): tests check nothing lands here."""
    folder = tmp_path / "attachments"
    monkeypatch.setenv("TRAMITA_ATTACHMENTS", str(folder))
    return folder


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "web.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


# Users for the real procedures, with the groups workflows/lanes.toml gives their institution's lanes.
REAL_USERS = [
    ("mp", "caseworker", "FGJE", ["autoridad_emisora_orden", "victima_solicitante"]),
    ("ism", "caseworker", "ISM", ["instituto"]),
    ("gerente_fgje", "manager", "FGJE", []),
]


def make_tramita(url: str, workflows: Path = WORKFLOWS, users: list[Any] = USERS):  # type: ignore[no-untyped-def]
    from tests.driver import Driver

    t = Driver(url)
    t.deploy_paths([workflows], "pruebas")
    for username, role, institution, groups in users:
        t.add_user(username, PASSWORD, name=username.capitalize(), role=role, institution=institution, groups=groups)
    return t


@pytest.fixture
def wt(sqlite_url: str) -> Iterator[Any]:
    """Tramita on SQLite with the test procedure and users."""
    t = make_tramita(sqlite_url)
    yield t
    t.db.dispose()


@pytest.fixture
def real(sqlite_url: str) -> Iterator[Any]:
    """Tramita on SQLite with the real procedures of ``workflows/`` and users in their groups."""
    t = make_tramita(sqlite_url, REAL_WORKFLOWS, REAL_USERS)
    yield t
    t.db.dispose()


@pytest.fixture
def wt_any(db_url: str) -> Iterator[Any]:
    """The same on SQLite and on PostgreSQL."""
    t = make_tramita(db_url)
    yield t
    t.db.dispose()


def build_app(t: Any, **config: Any):  # type: ignore[no-untyped-def]
    from web import create_app

    return create_app({"TRAMITA": t, "SECRET_KEY": "pruebas", "TESTING": True, "SESSION_COOKIE_SECURE": False,
                       **config})


@pytest.fixture
def app(wt: Any):  # type: ignore[no-untyped-def]
    return build_app(wt)


@pytest.fixture
def app_any(wt_any: Any):  # type: ignore[no-untyped-def]
    return build_app(wt_any)


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A test client that signs in and sends the CSRF token like a page would."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()

    def token(self) -> str:
        page = self.client.get("/entrar")
        if page.status_code == 302:
            page = self.client.get("/procedimientos")
        match = _TOKEN.search(page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        return match.group(1)

    def login(self, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        return self.client.post("/entrar", data={"username": username, "password": password,
                                                 "csrf_token": self.token()})

    def get(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.token())
        return self.client.post(url, data=payload, **kw)


@pytest.fixture
def browser(app: Any):  # type: ignore[no-untyped-def]
    def make(username: str | None = None) -> Browser:
        b = Browser(app)
        if username:
            r = b.login(username)
            assert r.status_code == 302, r.get_data(as_text=True)[:500]
        return b

    return make


SOLICITUD = {"victima_nombre": "María Pérez Soto", "victima_telefono": "662 123 4567", "solicitante": "victima",
             "hechos": "Amenazas reiteradas en el domicilio."}


def start_case(t: Any, institution: str = "ISM", user: str = "ana", reference: str = "OP-2026-001",
               title: str = "Solicitud de orden") -> int:
    return t.start("orden_prueba", dict(SOLICITUD), user, reference=reference, title=title,
                   institution=institution).instance_id


def open_task(t: Any, instance_id: int, name: str) -> str:
    [task] = [x for x in t.tasks(instance_id=instance_id) if x.name == name]
    return task.id


# A protection-order request and the steps to the issued order, as the real forms take them.
REAL_REQUEST = {"solicitante_tipo": "victima", "forma_solicitud": "verbal", "nombre_victima": "María López Valenzuela",
                "fecha_hora_conocimiento": "2026-03-02T10:00:00-07:00",
                "tipo_orden_solicitada": "no_especificada", "hechos": "Amenazas de muerte por su expareja."}
REAL_RISK = {"riesgo_vida": True, "riesgo_integridad": True, "riesgo_patrimonio": False, "magnitud_dano": "grave"}
REAL_ISSUE = {"decision_emision": "otorgar", "tipo_orden": "emergencia", "vigencia_dias": 60,
              "medidas": ["Prohibición de acercarse al domicilio de la víctima", "Auxilio policiaco de reacción inmediata"],
              "lugar_emision": "Hermosillo, Sonora", "autoridad_emisora": "Agente del Ministerio Público especializado",
              "persona_agresora": "Pedro Ramírez Soto", "fundamentacion": "Reglamento arts. 42 y 43; LGAMVLV art. 28."}
