"""SpiffWorkflow glue: safe XML loading, the parser, and a serializer that leaves the spec out.

Stock serialization embeds the whole spec in every saved workflow (about half its
size). Tramita stores the spec once per deployed version and keeps only the state
per instance, restoring it against a cached spec object.
"""

from __future__ import annotations

import json
from copy import copy
from functools import lru_cache
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
)
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


class UnsafeXML(ValueError):
    """XML that is malformed or declares a DTD (entities can explode or reach the network)."""


_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
    remove_comments=False,
)


def load_xml(content: bytes, filename: str) -> etree._Element:
    """Parse untrusted XML: no DTDs, no entity expansion, no network."""
    if b"<!DOCTYPE" in content[:4096].upper() or b"<!ENTITY" in content.upper():
        raise UnsafeXML(f"{filename}: DTD and entity declarations are not allowed")
    try:
        root = etree.fromstring(content, parser=_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXML(f"{filename}: malformed XML: {exc.msg} (line {exc.lineno})") from None
    return root


@lru_cache(maxsize=1)
def validator() -> BpmnValidator:
    """The XSD validator is expensive to build, so it is built once."""
    return BpmnValidator()


def new_parser() -> SpiffBpmnParser:
    return SpiffBpmnParser(validator=validator())


class _StateOnlyConverter(BpmnWorkflowConverter):
    """Serializes a top-level workflow without its spec; restores it against a given one."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: BpmnProcessSpec | None = None,  # type: ignore[override]
                  subprocess_specs: dict[str, BpmnProcessSpec] | None = None) -> BpmnWorkflow:
        if spec is None:
            return super().from_dict(dct)
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry():
    config = copy(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnlyConverter
    return BpmnWorkflowSerializer.configure(config)


REGISTRY = _registry()


def spec_to_dict(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> dict[str, Any]:
    return {
        "spec": REGISTRY.convert(spec),
        "subprocess_specs": {name: REGISTRY.convert(s) for name, s in subprocess_specs.items()},
    }


def spec_from_dict(dct: dict[str, Any]) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    spec = REGISTRY.restore(dct["spec"])
    subprocess_specs = {name: REGISTRY.restore(s) for name, s in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


def dump_state(workflow: BpmnWorkflow) -> str:
    return json.dumps(REGISTRY.convert(workflow), separators=(",", ":"))


def load_state(state: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    return REGISTRY.restore(json.loads(state), spec=spec, subprocess_specs=subprocess_specs)
