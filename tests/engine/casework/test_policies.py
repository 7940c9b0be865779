"""``[policies.<key>]`` of lanes.toml: defaults, grants, and a clear error for a misspelt entry."""

from __future__ import annotations

import tomllib

import pytest

from engine import config
from engine.casework.people import UserView
from engine.casework.policies import ProcedurePolicy, parse

ANA = UserView(1, "ana", "Ana", "caseworker", "ISM", ("instituto",))


def test_no_table_keeps_todays_rule_and_the_narrow_view() -> None:
    policy = parse("x", None)
    assert policy == ProcedurePolicy() and policy.may_start(ANA)
    assert not policy.may_start(UserView(2, "g", "G", "manager", "ISM"))
    assert policy.grants("form") and policy.grants("instructions") and not policy.grants("documents")


def test_start_groups_and_grants() -> None:
    policy = parse("x", {"start_groups": ["policia"], "foreign_task_holder_sees": ["form", "documents"],
                         "foreign_task_holder_data": ["medidas"]})
    assert not policy.may_start(ANA) and policy.grants("documents") and not policy.grants("instructions")
    assert policy.foreign_task_holder_data == ("medidas",)


@pytest.mark.parametrize("table, message", [
    ({"start_group": ["x"]}, "clave desconocida 'start_group'"),
    ({"foreign_task_holder_sees": ["expediente"]}, "valor desconocido 'expediente'"),
    ({"start_roles": "caseworker"}, "start_roles: debe ser una lista de textos"),
])
def test_a_misspelt_policy_is_an_error_not_a_silent_grant(table, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        parse("orden", table)


def test_the_real_policies_parse() -> None:
    tables = tomllib.loads((config.WORKFLOWS_DIR / "lanes.toml").read_text(encoding="utf-8"))["policies"]
    # [policies.registro] says who reads the register of orders (engine.services.register), not a procedure
    policies = {key: parse(key, table) for key, table in tables.items() if key != "registro"}
    assert set(policies) == {"agravio", "orden_proteccion", "sancion"}
    assert policies["orden_proteccion"].grants("documents")  # Reglamento art. 43
