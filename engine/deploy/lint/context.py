"""What the Tramita rules need beyond the file: lanes, message routes, forms and decision outputs."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lxml import etree

from engine.deploy.lint.model import local

FormLoader = Callable[[str], "dict[str, Any] | None"]


@dataclass
class LintContext:
    lanes: dict[str, str] = field(default_factory=dict)  # lane name -> user group
    groups: set[str] = field(default_factory=set)
    message_routes: dict[str, str] = field(default_factory=dict)  # message name -> process it starts
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    form_loader: FormLoader | None = None
    decision_outputs: dict[str, list[str]] = field(default_factory=dict)  # decision id -> output names
    parameters: dict[str, Any] = field(default_factory=dict)

    def form(self, name: str) -> dict[str, Any] | None:
        if name in self.forms:
            return self.forms[name]
        return self.form_loader(name) if self.form_loader else None

    def add_dmn(self, root: Any) -> None:
        for decision in root.iter("{*}decision"):
            outs = [o.get("name") for o in decision.iter() if local(o) == "output" and o.get("name")]
            self.decision_outputs[decision.get("id")] = outs


def from_workflows(folder: Path) -> LintContext:
    """The context of a ``workflows/`` folder: what `tramita lint` uses next to the files it checks."""
    ctx = LintContext()
    lanes_file = folder / "lanes.toml"
    if lanes_file.is_file():
        data = tomllib.loads(lanes_file.read_text(encoding="utf-8"))
        ctx.lanes = {str(k): str(v) for k, v in data.get("lanes", {}).items()}
        ctx.groups = set(data.get("groups", {})) | set(ctx.lanes.values())
    messages_file = folder / "messages.toml"
    if messages_file.is_file():
        data = tomllib.loads(messages_file.read_text(encoding="utf-8"))
        ctx.message_routes = {n: str(r.get("process")) for n, r in data.get("start", {}).items()}
    params_file = folder / "parameters.toml"
    if params_file.is_file():
        ctx.parameters = tomllib.loads(params_file.read_text(encoding="utf-8"))
    for form in sorted((folder / "forms").glob("*.json")) if (folder / "forms").is_dir() else []:
        try:
            ctx.forms[form.name] = json.loads(form.read_text(encoding="utf-8"))
        except ValueError:
            continue
    for dmn in sorted((folder / "dmn").glob("*.dmn")) if (folder / "dmn").is_dir() else []:
        try:
            ctx.add_dmn(etree.fromstring(dmn.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True)))
        except etree.XMLSyntaxError:
            continue
    return ctx
