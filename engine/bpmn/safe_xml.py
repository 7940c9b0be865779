"""Untrusted XML in: no DTDs, no entity expansion, no network; the BPMN parser and its XSD validator."""

from __future__ import annotations

from functools import lru_cache

from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

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
