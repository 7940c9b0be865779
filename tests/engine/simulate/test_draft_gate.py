"""A draft whose legal scenarios fail cannot be submitted for approval: the error names the scenario
and the expectation, with what was expected and what the draft computes."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from engine.errors import InvalidInput
from tests.web.conftest import REAL_USERS, REAL_WORKFLOWS, make_tramita

DESIGNERS = [("lucia", "legal_designer", "ISM", [])]
# Art. 54: the recurso is filed within 5 días hábiles; the draft writes 6 in the diagram's expression.
TERM = 'plazo_habil(fecha_notificacion, parametros["sancion"]["recurso_dias_habiles"], '


@pytest.fixture
def st(db_url: str) -> Iterator[Any]:
    t = make_tramita(db_url, REAL_WORKFLOWS, REAL_USERS + DESIGNERS)
    yield t
    t.db.dispose()


def test_a_draft_that_moves_a_scenarios_deadline_is_refused(st: Any) -> None:
    lucia = st.people.find_user("lucia")
    draft = st.drafts.create_draft(lucia, "sancion")
    assert TERM in draft.content
    st.drafts.save_draft(lucia, draft.id, draft.content.replace(TERM, "plazo_habil(fecha_notificacion, 6, "))
    # The sanción scenarios notify on Friday 18 December 2026: the 5th día hábil is Monday 28 December
    # (25 December skipped); with 6 días hábiles the term would end Tuesday 29 December at 23:59:59, so on
    # the 29th at 10:00 the recurso is still open and there is no certification of its absence to make.
    with pytest.raises(InvalidInput, match=r"escenarios legales no se cumplen con el borrador.*\w+\.toml: "
                                           r"acto 6 \(2026-12-29T10:00:00-07:00\): no hay tarea abierta "
                                           r"«certificar_recurso»; abiertas: interponer_recurso") as err:
        st.drafts.submit_draft(lucia, draft.id, "Reforma: seis días para el recurso")
    assert err.value.field == "scenarios"
    assert st.drafts.draft(lucia, draft.id).status == "draft"  # nothing changed

    st.drafts.save_draft(lucia, draft.id, draft.content)  # the diagram as in force: every scenario holds
    assert st.drafts.submit_draft(lucia, draft.id, "Sin cambios de fondo").status == "submitted"
