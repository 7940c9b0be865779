"""The organisation's directory of groups: the administrator edits it (``PeopleService``), a deploy only
inserts the ``[groups.*]`` codes it lacks, the labels follow it, and a group a lane still maps to cannot
be disabled."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select

from engine.deploy.versions import BundleFile
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.services import SYSTEM, UserView
from engine.store.models import DirectoryGroup, Event
from engine.store.states import EventKind
from tests.engine.deploy.test_parts import whole

ADMIN = UserView(1, "admin", "Admin", "admin", "ISM")
GERENTE = UserView(2, "gerente", "Gerente", "manager", "ISM")


def lanes_with(name: str, extra: str = "") -> BundleFile:
    return BundleFile("lanes.toml", f'[lanes]\n"Carril" = "revisores"\n\n[groups.revisores]\nname = "{name}"\n'
                      f'institution = "ISM"\n{extra}'.encode())


def test_only_the_administrator_reads_or_edits_the_directory(tramita: Any) -> None:
    people = tramita.people
    for call in (lambda: people.directory(GERENTE), lambda: people.save_group(GERENTE, "nuevo", "N", "ISM"),
                 lambda: people.set_group_active(GERENTE, "nuevo", False)):
        with pytest.raises(Forbidden):
            call()
    assert people.directory(ADMIN) == []


@pytest.mark.parametrize("code, name, institution, field", [
    ("Mayus", "N", "ISM", "code"), ("1abc", "N", "ISM", "code"), ("a", "N", "ISM", "code"),
    ("a-b", "N", "ISM", "code"), ("bueno", "  ", "ISM", "name"), ("bueno", "N", "", "institution"),
])
def test_bad_input_names_the_field_and_changes_nothing(tramita: Any, code: str, name: str, institution: str,
                                                        field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        tramita.people.save_group(ADMIN, code, name, institution)
    assert exc.value.field == field and exc.value.message[0].isupper()
    assert tramita.people.directory(ADMIN) == []


def test_add_edit_disable_enable_each_audited_and_labels_follow(tramita: Any) -> None:
    people = tramita.people
    g = people.save_group(ADMIN, "juridico", "Área jurídica", "ISM", "Atiende consultas")
    assert (g.group, g.name, g.institution, g.notes, g.active) == ("juridico", "Área jurídica", "ISM",
                                                                    "Atiende consultas", True)
    assert tramita.runtime.group_names["juridico"] == "Área jurídica"
    people.save_group(ADMIN, "juridico", "Dirección jurídica", "ISM")
    assert tramita.runtime.group_names["juridico"] == "Dirección jurídica"
    assert not people.set_group_active(ADMIN, "juridico", False).active
    assert people.set_group_active(ADMIN, "juridico", True).active
    with pytest.raises(NotFound):
        people.set_group_active(ADMIN, "no_existe", False)
    with tramita.db.read() as s:
        events = s.execute(select(Event).where(Event.kind == EventKind.DIRECTORY_CHANGED).order_by(Event.id)).scalars()
        rows = [(e.actor, e.detail["action"]) for e in events]
    assert rows == [("admin", "added"), ("admin", "edited"), ("admin", "disabled"), ("admin", "enabled")]


def test_deploy_seeds_only_missing_codes_and_an_edit_survives_a_redeploy(tramita: Any) -> None:
    tramita.deploy(whole())
    assert [(g.group, g.name) for g in tramita.people.directory(SYSTEM)] == [("revisores", "Grupo revisores")]
    tramita.people.save_group(ADMIN, "revisores", "Revisión jurídica", "Instituto", "editado")
    files = [f for f in whole() if f.name != "lanes.toml"]
    tramita.deploy([*files, lanes_with("Nombre del TOML", '\n[groups.nuevos]\nname = "Nuevos"\ninstitution = "MP"\n')])
    found = {g.group: (g.name, g.institution, g.notes) for g in tramita.people.directory(SYSTEM)}
    assert found == {"revisores": ("Revisión jurídica", "Instituto", "editado"), "nuevos": ("Nuevos", "MP", "")}
    assert tramita.runtime.group_names["revisores"] == "Revisión jurídica"


def test_labels_fall_back_to_the_lanes_part_for_a_code_the_table_lacks(tramita: Any) -> None:
    tramita.deploy(whole())
    with tramita.db.write() as s:
        s.execute(delete(DirectoryGroup))
    tramita.runtime.forget_latest()
    assert tramita.runtime.group_names["revisores"] == "Grupo revisores"


def test_a_group_a_lane_maps_to_cannot_be_disabled(tramita: Any) -> None:
    tramita.deploy(whole())
    with pytest.raises(Conflict) as exc:
        tramita.people.set_group_active(ADMIN, "revisores", False)
    assert "el carril «Carril» del procedimiento con_partes" in exc.value.message and tramita.people.directory(ADMIN)[0].active
    tramita.people.save_group(ADMIN, "sin_carril", "Sin carril", "ISM")
    assert not tramita.people.set_group_active(ADMIN, "sin_carril", False).active
