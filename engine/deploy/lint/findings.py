"""One lint finding: where it is (file, element), which rule, how serious, and what to do, in Spanish."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """What the studio marks on the canvas and lists, the API returns and the CLI prints.

    ``element_id`` is the element the modeler shows (the sequence flow, never its inner
    ``conditionExpression``); ``message`` says what is wrong and what to do.
    """

    file: str
    element_id: str
    element_name: str
    rule: str
    severity: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """The CLI's one-line form: file, element id (and the name the modeler shows), rule, message."""
        name = f" «{self.element_name}»" if self.element_name else ""
        return f"{self.file}: {self.element_id or '-'}{name}: {self.rule} ({self.severity}): {self.message}"


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


def summary(findings: Iterable[Finding], limit: int = 5) -> str:
    """The deploy gate's refusal: the errors, one per sentence, naming file and element."""
    errs = errors(findings)
    parts = [f"{f.file}, {describe(f)}: {f.message}" for f in errs[:limit]]
    more = f" (y {len(errs) - limit} error(es) más: ejecute `tramita lint`)" if len(errs) > limit else ""
    return " | ".join(parts) + more


def describe(f: Finding) -> str:
    if not f.element_id:
        return "el archivo"
    return f"elemento {f.element_id}" + (f" «{f.element_name}»" if f.element_name else "")
