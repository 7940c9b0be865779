"""Deadline e-mails as a service: the timer service or an operator (``SYSTEM``) runs them."""

from __future__ import annotations

import os

from engine.errors import Forbidden, InvalidInput
from engine.oversight import mail
from engine.run.runtime import Runtime
from engine.services.principal import Principal, is_system
from engine.time import clock


class AlertService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    def send_due(self, user: Principal, *, base_url: str | None = None, smtp_url: str | None = None
                 ) -> mail.MailResult:
        """Record every alert due now (once per task and kind), then hand the unsent ones to SMTP."""
        if not is_system(user):
            raise Forbidden("Solo la operación del sistema envía los avisos de plazos.", field="user")
        url = smtp_url or os.environ.get("TRAMITA_SMTP_URL")
        if not url:
            raise InvalidInput("Falta TRAMITA_SMTP_URL (smtp://servidor:puerto).", field="TRAMITA_SMTP_URL")
        try:
            settings = mail.SmtpSettings.parse(url)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="TRAMITA_SMTP_URL") from None
        base = base_url or os.environ.get("TRAMITA_BASE_URL", "http://localhost:5000")
        return mail.send_due(self.db, settings, base, clock.now(), self.rt.calendar()[1])
