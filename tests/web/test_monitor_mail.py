"""Deadline e-mails against a real SMTP server on localhost (aiosmtpd) that the test starts.

A protection order request reaches the Ministerio Público on Monday 2 March 2026 at 10:00 (Hermosillo);
«Valorar el riesgo» is due 4 hours later, 14:00 (LGAMVLV art. 28), a term in hours.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from typing import Any, Iterator

import pytest

from engine.services import SYSTEM
from engine.store.models import Alert
from engine.time import clock
from tests.web.conftest import REAL_REQUEST

aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="pip install aiosmtpd (the test extra)")
HMO = timezone(timedelta(hours=-7))
VICTIM = REAL_REQUEST["nombre_victima"]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[str, Inbox]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}?from=avisos@tramita.test", inbox
    finally:
        controller.stop()


def test_digest_hour_alerts_and_escalation_each_once_without_victim_data(real: Any, smtp: Any) -> None:
    url, inbox = smtp
    real.people.set_email(SYSTEM, "mp", "mp@fiscalia.test")
    real.people.set_email(SYSTEM, "gerente_fgje", "coordinacion@fiscalia.test")
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=HMO)

    def run(at: datetime) -> Any:
        with clock.frozen_at(at):
            return real.alerts.send_due(SYSTEM, base_url="https://tramita.test", smtp_url=url)

    with clock.frozen_at(t0):
        case = real.start("orden_proteccion", dict(REAL_REQUEST), "mp", reference="OP-AV-1",
                          institution="FGJE").instance_id
    result = run(t0)
    assert (result.recorded, result.sent, result.failed) == (2, 2, 0)
    subjects = sorted(m["Subject"] for _to, m in inbox.messages)
    assert subjects == ["Tramita: 1 tareas por vencer", "Tramita: plazo de 4 horas en el caso OP-AV-1"]
    digest = next(m for _to, m in inbox.messages if "por vencer" in m["Subject"])
    text = digest.get_content()
    assert "Caso OP-AV-1 · Valorar el riesgo · vence 02/03/2026 14:00" in text
    assert f"https://tramita.test/casos/{case}" in text
    assert digest["Message-ID"] == "<digest.2026-03-02-mp@tramita.test>"
    # Again the same morning, and after a restart: nothing new.
    assert run(t0 + timedelta(minutes=30)).sent == 0
    assert len(inbox.messages) == 2
    # In the last hour of the term the group is alerted again; past it, the coordinator.
    assert run(datetime(2026, 3, 2, 13, 5, tzinfo=HMO)).sent == 1
    assert run(datetime(2026, 3, 2, 14, 1, tzinfo=HMO)).sent == 1
    to, escalation = inbox.messages[-1]
    assert to == ["coordinacion@fiscalia.test"] and "plazo vencido en el caso OP-AV-1" in escalation["Subject"]
    assert len(inbox.messages) == 4
    for _to, m in inbox.messages:
        body = m.get_content()
        assert VICTIM not in body and "María" not in body and REAL_REQUEST["hechos"] not in body
    with real.db.read() as s:
        kinds = sorted(a.kind for a in s.query(Alert).all())
    assert kinds == ["digest", "expiring", "opened", "overdue"]


def test_a_failed_handover_is_recorded_and_retried_once_the_server_is_back(real: Any, smtp: Any) -> None:
    url, inbox = smtp
    real.people.set_email(SYSTEM, "mp", "mp@fiscalia.test")
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=HMO)
    with clock.frozen_at(t0):
        real.start("orden_proteccion", dict(REAL_REQUEST), "mp", reference="OP-AV-2", institution="FGJE")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        down = real.alerts.send_due(SYSTEM, smtp_url=f"smtp://127.0.0.1:{closed}")
    assert (down.recorded, down.sent, down.failed) == (2, 0, 2)
    with clock.frozen_at(t0 + timedelta(minutes=5)):
        up = real.alerts.send_due(SYSTEM, smtp_url=url)
    assert (up.recorded, up.sent, up.failed) == (0, 2, 0)
    assert len(inbox.messages) == 2


def test_a_bad_address_or_smtp_url_is_refused(real: Any) -> None:
    from engine.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        real.people.set_email(SYSTEM, "mp", "no-es-correo")
    assert exc.value.field == "email"
    with pytest.raises(InvalidInput) as exc:
        real.alerts.send_due(SYSTEM, smtp_url="http://127.0.0.1")
    assert exc.value.field == "TRAMITA_SMTP_URL"
