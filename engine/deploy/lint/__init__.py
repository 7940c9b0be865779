"""Lint: every finding of a bundle of BPMN/DMN files, element by element, in Spanish.

One rule set serves the studio while a designer edits (debounced calls), ``tramita lint``, the API,
and the deploy gate (errors block a deploy; warnings are shown to the approver):

- ``rules_bpmn``: bpmnlint's recommended set, ported;
- ``rules_run``: what SpiffWorkflow cannot run and expressions the sandbox refuses;
- ``rules_tramita``: legal basis, Plazo, who receives each task, forms, message routes, Camunda attributes;
- ``rules_data``: variables read before anything writes them.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn import safe_xml
from engine.deploy.expressions import check_dmn_text
from engine.deploy.lint import model, rules_bpmn, rules_data, rules_run, rules_tramita
from engine.deploy.lint.context import LintContext
from engine.deploy.lint.findings import ERROR, WARNING, Finding, errors, summary
from engine.script import sandbox

__all__ = ["ERROR", "WARNING", "Finding", "LintContext", "errors", "lint_files", "summary"]


def lint_files(files: Sequence[tuple[str, bytes]], ctx: LintContext | None = None) -> list[Finding]:
    """Every finding of the .bpmn and .dmn files (name, content); form files feed the context."""
    ctx = ctx or LintContext()
    out: list[Finding] = []
    roots: list[tuple[str, etree._Element]] = []
    dmn_roots: list[tuple[str, etree._Element]] = []
    for name, content in files:
        if name.endswith(".json"):
            continue
        try:
            root = safe_xml.load_xml(content, name)
        except safe_xml.UnsafeXML as exc:
            out.append(Finding(name, "", "", "xml", ERROR, _xml_es(str(exc), name)))
            continue
        if name.endswith(".dmn"):
            ctx.add_dmn(root)
            dmn_roots.append((name, root))
            out.extend(_dmn(name, root))
        elif etree.QName(root).namespace != safe_xml.BPMN_NS:
            out.append(Finding(name, "", "", "xml", ERROR, "El archivo no es un diagrama BPMN 2.0: ábralo y "
                                                          "guárdelo con un modelador BPMN."))
        else:
            roots.append((name, root))
    for name, root in roots:
        out.extend(lint_model(model.build(root, name), ctx, root, dmn_roots))
    return out


def lint_model(m: model.Model, ctx: LintContext, root: etree._Element,
               dmn_roots: Sequence[tuple[str, etree._Element]] = ()) -> list[Finding]:
    out: list[Finding] = []
    for rule in rules_run.RULES:
        out.extend(rule(m))
    out.extend(_engine_parse(m.filename, root, dmn_roots))
    for rule in rules_bpmn.RULES:
        out.extend(rule(m))
    for trule in (*rules_tramita.RULES, *rules_data.RULES):
        out.extend(trule(m, ctx))
    return _dedupe(out)


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.file, f.element_id, f.rule, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _xml_es(message: str, name: str) -> str:
    if "DTD" in message:
        return "El archivo declara un DTD o entidades, que no se permiten: quítelos y vuelva a guardar."
    return f"El XML está mal formado ({message.removeprefix(name + ': ')}): ábralo con un modelador y guárdelo."


def _engine_parse(filename: str, root: etree._Element,
                  dmn_roots: Sequence[tuple[str, etree._Element]]) -> list[Finding]:
    """What the engine's own parser refuses, named by element and said in Spanish."""
    if not any(p.get("isExecutable") == "true" for p in root if model.local(p) == "process"):
        return []
    parser = safe_xml.new_parser()
    try:
        copy = etree.fromstring(etree.tostring(root))
        from engine.deploy.lint.iso import quote_literals
        quote_literals(copy)
        parser.add_bpmn_xml(copy, filename)
        for dmn_name, dmn_root in dmn_roots:
            parser.add_dmn_xml(dmn_root, dmn_name)
        for pid, pp in list(parser.process_parsers.items()):
            if pp.process_executable:
                parser.get_spec(pid)
    except ValidationException as exc:
        if re.match(r"No DMN Diagram available|Unable to find a BPMN process", str(exc)):
            return []  # a decision or process deployed earlier: the deploy resolves it
        if not _spiff_es(exc):
            return []  # another rule names it better
        return [Finding(filename, getattr(exc, "id", "") or "", getattr(exc, "name", "") or "", "engine-parse",
                        ERROR, _spiff_es(exc))]
    except (SpiffWorkflowException, sandbox.ForbiddenExpression):
        return []  # the expression rules already name these
    except Exception as exc:  # noqa: BLE001  SpiffWorkflow raises plain errors on some malformed models
        return [Finding(filename, "", "", "engine-parse", ERROR,
                        f"El motor no puede leer el diagrama ({_clean(str(exc))}): revise el elemento indicado.")]
    return []


_SPIFF_ES = [
    (r"(?s)Element '\{[^}]*\}(\w+)'(?:, attribute '([^']+)')?: .*",
     r"El XML no cumple el esquema BPMN 2.0 en un elemento «\1» \2: ábralo en un modelador BPMN y vuelva a "
     "guardarlo (el modelador lo completa)."),
    (r"(?i)a service task must have an función\.?\s*", ""),
    (r"(?i)a multiinstance task must specify a cardinality or a loop input data reference\.?\s*",
     "La tarea repetida (multiinstancia) no dice cuántas veces ni sobre qué lista se repite: indique la "
     "cardinalidad o la colección de entrada."),
    (r"(?i)data store with name (.+) has no implementation\.?\s*",
     r"El almacén de datos «\1» no existe en Tramita: bórrelo o guarde el dato en el caso."),
    (r"(?i)exactly one start event is required in a subproceso; found (\d+)\.*\s*",
     r"El subproceso necesita exactamente un evento de inicio y tiene \1: dibuje uno dentro."),
    (r"(?i)duplicate process id: (\S+)", r"El proceso «\1» está dos veces: cambie la clave de uno de ellos."),
    (r"(?i).*schema.*", "El XML no cumple el esquema BPMN 2.0: ábralo en un modelador BPMN y vuelva a guardarlo."),
    (r"(?i)no start event.*", "Falta el evento de inicio: dibuje uno."),
    (r"(?i).*multiple outgoing.*default.*", "La compuerta tiene varias salidas por defecto: deje solo una."),
]


def _clean(text: str) -> str:
    text = re.sub(r"<[^>]* at 0x[0-9a-f]+>", "el elemento", text.splitlines()[0] if text else "")
    return text.replace("SubWorkflow Task", "subproceso").replace("operator", "función")


def _spiff_es(exc: ValidationException) -> str:
    msg = _clean(str(exc))
    for pattern, repl in _SPIFF_ES:
        if re.fullmatch(pattern, msg):
            return re.sub(r"\s+", " ", re.sub(pattern, repl, msg)).replace(" :", ":").strip()
    return f"El motor no puede ejecutar este elemento ({msg}): corríjalo o bórrelo."


def _dmn(filename: str, root: etree._Element) -> list[Finding]:
    out = []
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).localname != "text":
            continue
        text = (node.text or "").strip()
        if not text or text == "-":
            continue
        try:
            check_dmn_text(node, text)  # the deploy's own check of a DMN cell
        except sandbox.ForbiddenExpression as exc:
            owner = model.owner_id(node)
            out.append(Finding(filename, owner, "", "forbidden-expression", ERROR,
                               f"La celda «{text[:80]}» no se puede ejecutar: {rules_run.spanish(str(exc))}. "
                               "Corríjala."))
    return out
