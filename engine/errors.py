"""The errors Tramita reports to people and programs.

Each carries a machine code, a message, and the field it concerns, so the CLI can
print one line, the API can answer a JSON body naming the field, and pages can put
the message next to the field.
"""

from __future__ import annotations


class TramitaError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.fields = fields or ({field: message} if field else {})

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.fields:
            body["fields"] = self.fields
        return body


class NotFound(TramitaError):
    code = "not_found"
    status = 404


class InvalidInput(TramitaError):
    code = "invalid"
    status = 422


class BadParameter(InvalidInput):
    """A request parameter out of its bounds (a page number past any list): answered with 400."""

    code = "bad_parameter"
    status = 400


class DeploymentRejected(TramitaError):
    code = "deployment_rejected"
    status = 422


class Conflict(TramitaError):
    """Someone else changed the instance first, or the task is no longer open."""

    code = "conflict"
    status = 409


class InvalidState(TramitaError):
    """The operation does not apply to the instance as it is (suspended, ended, ...)."""

    code = "invalid_state"
    status = 409


class Forbidden(TramitaError):
    code = "forbidden"
    status = 403


class ExecutionFailed(TramitaError):
    """A script or expression failed; the instance is now in ``error`` with an incident."""

    code = "execution_failed"
    status = 409
