"""The deploy gate: a bundle with lint errors is refused, naming file, element and what to do."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from engine.deploy.lint import LintContext, errors, lint_files, summary
from engine.errors import DeploymentRejected


def check(files: Sequence[Any], forms: dict[str, dict[str, Any]],
          form_loader: Callable[[str], dict[str, Any] | None] | None = None) -> None:
    """Raise DeploymentRejected with every error (up to five named) when lint finds any."""
    findings = lint_files([(f.name, f.content) for f in files if f.kind in ("bpmn", "dmn")],
                          LintContext(forms=dict(forms), form_loader=form_loader))
    if errors(findings):
        raise DeploymentRejected(summary(findings), field="files")
