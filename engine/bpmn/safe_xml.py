"""Untrusted XML in: no DTDs, no entity expansion, no network; the BPMN parser and its XSD validator."""

from __future__ import annotations

import os
import re
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


_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
MAX_BYTES_ENV = "TRAMITA_MAX_DIAGRAM_MB"


def max_megabytes() -> float:
    """The largest diagram accepted: ``$TRAMITA_MAX_DIAGRAM_MB`` (default 10 MB; Sonora's largest is ~0.1 MB).

    Parsing takes about seven times a file's size in memory, so a 150 MB file would take 1 GB."""
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else 10.0
    except ValueError:
        megabytes = 10.0
    return megabytes if megabytes > 0 else 10.0


def check_size(size: int, filename: str) -> None:
    limit = max_megabytes()
    if size > limit * 1024 * 1024:
        raise UnsafeXML(f"{filename}: the file has {size / 1024 / 1024:.2f} MB; diagrams may have at most "
                        f"{limit:g} MB ({MAX_BYTES_ENV})")


def load_xml(content: bytes, filename: str) -> etree._Element:
    """Parse untrusted XML: no DTDs (anywhere in the file), no entity expansion, no network, bounded size."""
    check_size(len(content), filename)
    if _DECLARATION.search(content):
        raise UnsafeXML(f"{filename}: DTD and entity declarations are not allowed")
    try:
        root = etree.fromstring(content, parser=_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXML(f"{filename}: malformed XML: {exc.msg} (line {exc.lineno})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # e.g. written in UTF-16, unseen by the byte search
        raise UnsafeXML(f"{filename}: DTD and entity declarations are not allowed")
    return root


@lru_cache(maxsize=1)
def validator() -> BpmnValidator:
    """The XSD validator is expensive to build, so it is built once."""
    return BpmnValidator()


def new_parser() -> SpiffBpmnParser:
    return SpiffBpmnParser(validator=validator())
