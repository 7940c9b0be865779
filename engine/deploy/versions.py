"""Deploying diagrams: parse under XSD, lint, resolve dependencies, store immutable versions.

A deployment is refused as a whole, before anything is stored, if any file is
unsafe or invalid, if a called process, decision or form is missing, or if an
expression would be refused by the sandbox. Identical content is a no-op, and a
running instance stays on the version it started on.
"""

from __future__ import annotations

import ast
import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import defer
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn import safe_xml, serializer
from engine.deploy.lint import gate as lint_gate
from engine.deploy.lint.iso import quote_literals
from engine.time import clock
from engine.script import sandbox
from engine.errors import DeploymentRejected, NotFound
from engine.store.db import Database
from engine.store.models import DeployedFile, Definition, Deployment

SPIFF = "{%s}" % safe_xml.SPIFF_NS
BPMN = "{%s}" % safe_xml.BPMN_NS
TRAMITA_GROUP = "{http://tramita.mx/schema/bpmn/1.0}grupo"


@dataclass(frozen=True)
class BundleFile:
    name: str
    content: bytes

    @property
    def kind(self) -> str:
        if self.name.endswith(".bpmn"):
            return "bpmn"
        if self.name.endswith(".dmn"):
            return "dmn"
        if self.name.endswith(".json"):
            return "form"
        raise DeploymentRejected(f"{self.name}: only .bpmn, .dmn and .json form files can be deployed", field="files")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class DeployedDefinition:
    kind: str
    key: str
    version: int
    name: str | None
    created: bool
    id: int
    older_text: int | None = None  # the bundle holds the text of this earlier version: the latest is kept


@dataclass(frozen=True)
class DeployResult:
    deployment_id: int | None
    definitions: list[DeployedDefinition] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(d.created for d in self.definitions)


def collect_files(paths: Iterable[str | Path]) -> list[BundleFile]:
    """Files named, and the .bpmn/.dmn/.json files inside folders named (recursively)."""
    files: list[BundleFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            members = sorted(p for p in path.rglob("*") if p.suffix in {".bpmn", ".dmn", ".json"} and p.is_file())
        elif path.is_file():
            members = [path]
        else:
            raise DeploymentRejected(f"{path}: no such file or folder", field="path")
        files.extend(BundleFile(p.name, p.read_bytes()) for p in members)
    return files


def deploy(db: Database, files: Sequence[BundleFile], deployed_by: str) -> DeployResult:
    if not files:
        raise DeploymentRejected("nothing to deploy: no .bpmn or .dmn files given", field="files")
    names = [f.name for f in files]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise DeploymentRejected(f"two files share the name {sorted(duplicates)[0]}", field="files")
    with db.write() as session:
        return deploy_in(session, files, deployed_by)


def deploy_in(session: Any, files: Sequence[BundleFile], deployed_by: str) -> DeployResult:
    """Deploy inside the caller's transaction (an approval stores its note and audit in the same one)."""
    parsed = _parse_bundle(session, files)
    return _store(session, files, parsed, deployed_by)


@dataclass
class _ParsedProcess:
    key: str
    name: str | None
    filename: str
    spec: dict[str, Any]
    task_info: dict[str, Any]
    sha256: str


@dataclass
class _ParsedBundle:
    processes: list[_ParsedProcess]
    decisions: dict[str, tuple[str, str | None]]  # id -> (filename, name)
    forms: dict[str, dict[str, Any]]


def _parse_bundle(session: Any, files: Sequence[BundleFile]) -> _ParsedBundle:
    parser = safe_xml.new_parser()
    forms: dict[str, dict[str, Any]] = {}
    roots: dict[str, etree._Element] = {}
    decisions: dict[str, tuple[str, str | None]] = {}
    for f in files:
        if f.kind == "form":
            forms[f.name] = _load_form(f)
            continue
        try:
            root = safe_xml.load_xml(f.content, f.name)
        except safe_xml.UnsafeXML as exc:
            raise DeploymentRejected(str(exc), field="files") from None
        roots[f.name] = root
        quote_literals(root)  # "PT1H" is a duration, not a Python name
        try:
            if f.kind == "bpmn":
                if etree.QName(root).namespace != safe_xml.BPMN_NS:
                    raise DeploymentRejected(f"{f.name}: not a BPMN 2.0 document", field="files")
                parser.add_bpmn_xml(root, f.name)
            else:
                parser.add_dmn_xml(root, f.name)
                for decision in root.iter("{*}decision"):
                    decisions[decision.get("id")] = (f.name, decision.get("name"))
        except ValidationException as exc:
            raise DeploymentRejected(_describe(exc), field="files") from None
        _lint_expressions(root, f.name)

    bundle_processes = [
        pid for pid, pp in parser.process_parsers.items()
        if pp.process_executable and pp.filename in roots
    ]
    if not bundle_processes and not decisions:
        non_exec = [pid for pid, pp in parser.process_parsers.items() if not pp.process_executable]
        if non_exec:
            raise DeploymentRejected(
                f"process {non_exec[0]} is not executable (isExecutable=\"false\"): nothing to deploy", field="files")
        raise DeploymentRejected("the bundle defines no executable process or decision", field="files")

    _resolve_dependencies(session, parser)
    lint_gate.check(files, forms, lambda name: _deployed_form_or_none(session, name))
    drawn_lanes = _drawn_lanes(roots.values())

    processes = []
    for pid in bundle_processes:
        try:
            spec = parser.get_spec(pid)
            subprocess_specs = parser.get_subprocess_specs(pid)
        except (ValidationException, SpiffWorkflowException) as exc:
            raise DeploymentRejected(_describe(exc), field="files") from None
        except Exception as exc:  # Spiff raises plain errors on some malformed models
            raise DeploymentRejected(f"process {pid}: cannot be executed: {exc}", field="files") from None
        missing = [name for name, s in subprocess_specs.items() if s is None]
        if missing:
            raise DeploymentRejected(f"process {pid} calls {missing[0]}, which is neither in the bundle nor deployed",
                                     field="files")
        pp = parser.process_parsers[pid]
        task_info = _task_info(spec, subprocess_specs, forms, session, pid, drawn_lanes)
        spec_dict = serializer.spec_to_dict(spec, subprocess_specs)
        digest = hashlib.sha256(json.dumps(
            {"xml": hashlib.sha256(etree.tostring(roots[pp.filename])).hexdigest(), "spec": spec_dict,
             "tasks": task_info}, sort_keys=True, default=str).encode()).hexdigest()
        processes.append(_ParsedProcess(pid, pp.get_name(), pp.filename, spec_dict, task_info, digest))
    return _ParsedBundle(processes, decisions, forms)


def _describe(exc: Exception) -> str:
    where = []
    if getattr(exc, "file_name", ""):
        where.append(str(exc.file_name))
    if getattr(exc, "line_number", ""):
        where.append(f"line {exc.line_number}")
    if getattr(exc, "id", ""):
        where.append(f"element {exc.id}")
    message = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return (", ".join(where) + ": " if where else "") + message


def _load_form(f: BundleFile) -> dict[str, Any]:
    try:
        schema = json.loads(f.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DeploymentRejected(f"{f.name}: not valid JSON: {exc}", field="files") from None
    if not isinstance(schema, dict):
        raise DeploymentRejected(f"{f.name}: a form must be a JSON Schema object", field="files")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise DeploymentRejected(f"{f.name}: not a valid JSON Schema: {exc.message}", field="files") from None
    return schema


def _resolve_dependencies(session: Any, parser: Any) -> None:
    """Add deployed definitions for every called process or decision the bundle lacks."""
    while True:
        missing_procs = [p for p in parser.get_process_dependencies() if p and p not in parser.process_parsers]
        missing_decs = [d for d in parser.get_dmn_dependencies() if d and d not in parser.dmn_parsers]
        if not missing_procs and not missing_decs:
            return
        for kind, key in [("process", p) for p in missing_procs] + [("decision", d) for d in missing_decs]:
            row = session.execute(
                select(Definition, DeployedFile)
                .join(DeployedFile, DeployedFile.id == Definition.file_id)
                .where(Definition.kind == kind, Definition.key == key)
                .order_by(Definition.version.desc()).limit(1)
            ).first()
            if row is None:
                what = "called process" if kind == "process" else "decision"
                raise DeploymentRejected(f"{what} {key} is neither in the bundle nor deployed", field="files")
            root = safe_xml.load_xml(row.DeployedFile.content.encode(), row.DeployedFile.name)
            if kind == "process":
                parser.add_bpmn_xml(root, row.DeployedFile.name)
            else:
                parser.add_dmn_xml(root, row.DeployedFile.name)


def _drawn_lanes(roots: Iterable[etree._Element]) -> dict[str, str]:
    """Element id -> the lane it is drawn in (SpiffWorkflow gives a subprocess's children its lane instead)."""
    lanes: dict[str, str] = {}
    for root in roots:
        for lane in root.iter(BPMN + "lane"):
            for ref in lane.iter(BPMN + "flowNodeRef"):
                if ref.text and (lane.get(TRAMITA_GROUP) or lane.get("name")):
                    lanes[ref.text.strip()] = lane.get(TRAMITA_GROUP) or lane.get("name")  # the studio's Grupo
        for el in root.iterfind(".//*[@camunda:candidateGroups]", {"camunda": "http://camunda.org/schema/1.0/bpmn"}):
            lanes[el.get("id")] = el.get("{http://camunda.org/schema/1.0/bpmn}candidateGroups").split(",")[0].strip()
    return lanes


def _task_info(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
               forms: dict[str, dict[str, Any]], session: Any, pid: str,
               drawn_lanes: dict[str, str]) -> dict[str, Any]:
    """What inboxes, forms and the case page need to know about each element, by element id."""
    info: dict[str, Any] = {}
    for s in [spec, *subprocess_specs.values()]:
        for ts in s.task_specs.values():
            bpmn_id = getattr(ts, "bpmn_id", None)
            if bpmn_id is None:
                continue
            entry: dict[str, Any] = {
                "title": ts.bpmn_name, "lane": drawn_lanes.get(bpmn_id, ts.lane), "documentation": ts.documentation,
                "type": ts.__class__.__name__, "process": s.name,
            }
            props = (getattr(ts, "extensions", None) or {}).get("properties", {})
            form_name = props.get("formJsonSchemaFilename")
            if form_name:
                entry["form"] = form_name
                entry["schema"] = forms.get(form_name) or _deployed_form(session, form_name, pid, bpmn_id)
            if props.get("dueDate"):
                entry["due"] = props["dueDate"]
            definition = getattr(ts, "event_definition", None)
            if isinstance(definition, MessageEventDefinition) and isinstance(ts, CatchingEvent):
                entry["message"] = definition.name  # a message this element waits for
            info[bpmn_id] = entry
    return info


def _deployed_form_or_none(session: Any, name: str) -> dict[str, Any] | None:
    row = session.execute(
        select(DeployedFile.content).where(DeployedFile.kind == "form", DeployedFile.name == name)
        .order_by(DeployedFile.id.desc()).limit(1)).scalar()
    return json.loads(row) if row is not None else None


def _deployed_form(session: Any, name: str, pid: str, task: str) -> dict[str, Any]:
    row = _deployed_form_or_none(session, name)
    if row is None:
        raise DeploymentRejected(f"process {pid}, element {task}: form {name} is neither in the bundle nor deployed",
                                 field="files")
    return row


# --- expression lint -------------------------------------------------------------------------

_EXPRESSION_TAGS = {
    BPMN + "conditionExpression": "condition",
    BPMN + "timeDate": "timeDate",
    BPMN + "timeDuration": "timeDuration",
    BPMN + "timeCycle": "timeCycle",
    BPMN + "condition": "condition",
    BPMN + "loopCardinality": "expression",
    BPMN + "completionCondition": "expression",
    BPMN + "loopCondition": "expression",
}
_SCRIPT_TAGS = {BPMN + "script", SPIFF + "preScript", SPIFF + "postScript"}


def _owner(node: etree._Element) -> str:
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node.get("id") if node is not None else "?"


def _lint_expressions(root: etree._Element, filename: str) -> None:
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        text = (node.text or "").strip()
        try:
            if node.tag in _SCRIPT_TAGS and text:
                sandbox.check_expression(text, script=True)
            elif node.tag in _EXPRESSION_TAGS and text:
                sandbox.check_expression(text)
                if _EXPRESSION_TAGS[node.tag].startswith("time"):
                    _check_timer(text, _EXPRESSION_TAGS[node.tag])
            elif node.tag == SPIFF + "property" and node.get("name") == "dueDate":
                sandbox.check_expression(node.get("value", ""))
            elif etree.QName(node).localname == "text" and etree.QName(node).namespace in safe_xml.DMN_NAMESPACES:
                _check_dmn_text(node, text)
        except sandbox.ForbiddenExpression as exc:
            raise DeploymentRejected(f"{filename}, element {_owner(node)}: forbidden expression: {exc}",
                                     field="files") from None


def _check_dmn_text(node: etree._Element, text: str) -> None:
    if not text or text == "-":
        return
    parent = etree.QName(node.getparent()).localname
    if parent == "inputEntry":
        candidate = text.replace("?", "dmninputexpr")
        try:
            sandbox.check_expression(f"(dmninputexpr) == ({candidate})")
        except sandbox.ForbiddenExpression:
            sandbox.check_expression(f"dmninputexpr {candidate}")
    else:
        sandbox.check_expression(text)


def _check_timer(text: str, kind: str) -> None:
    """Refuse literal timers that SpiffWorkflow would read in the server's local time."""
    tree = ast.parse(text, mode="eval").body
    if isinstance(tree, ast.Constant) and isinstance(tree.value, str):
        value = tree.value
        if kind == "timeDate":
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise sandbox.ForbiddenExpression(f"timer date {value!r} is not an ISO 8601 date-time") from None
            if parsed.tzinfo is None:
                raise sandbox.ForbiddenExpression(f"timer date {value!r} has no UTC offset")
        elif kind == "timeCycle" and "/" in value:
            start = value.split("/")[1]
            if "T" in start and not (start.endswith("Z") or "+" in start[10:] or "-" in start[10:]):
                raise sandbox.ForbiddenExpression(f"timer cycle start {start!r} has no UTC offset")
    elif isinstance(tree, ast.Constant):
        raise sandbox.ForbiddenExpression("a timer expression must return an ISO 8601 string with its UTC offset")


# --- storage ------------------------------------------------------------------------------------


def _store(session: Any, files: Sequence[BundleFile], parsed: _ParsedBundle, deployed_by: str) -> DeployResult:
    now = clock.now()
    results: list[DeployedDefinition] = []
    pending: list[tuple[str, str, str | None, str, dict | None, dict | None, str]] = []
    for p in parsed.processes:
        pending.append(("process", p.key, p.name, p.sha256, p.spec, p.task_info, p.filename))
    by_name = {f.name: f for f in files}
    for key, (filename, name) in parsed.decisions.items():
        pending.append(("decision", key, name, by_name[filename].sha256, None, None, filename))

    to_create = []
    for kind, key, name, digest, spec, info, filename in pending:
        latest = session.execute(
            select(Definition).where(Definition.kind == kind, Definition.key == key)
            .order_by(Definition.version.desc()).limit(1)).scalar()
        if latest is not None and latest.sha256 == digest:
            results.append(DeployedDefinition(kind, key, latest.version, latest.name, False, latest.id))
        elif latest is not None and (older := _older_version(session, kind, key, digest)) is not None:
            # e.g. `tramita deploy workflows` after a version was approved in the studio: never roll it back
            results.append(DeployedDefinition(kind, key, latest.version, latest.name, False, latest.id, older))
        else:
            to_create.append((kind, key, name, digest, spec, info, filename, (latest.version if latest else 0) + 1))
    if not to_create:
        return DeployResult(None, results)

    bundle_sha = hashlib.sha256("".join(sorted(f.sha256 for f in files)).encode()).hexdigest()
    deployment = Deployment(deployed_at=now, deployed_by=deployed_by, sha256=bundle_sha)
    session.add(deployment)
    session.flush()
    stored = {}
    for f in files:
        row = DeployedFile(deployment_id=deployment.id, name=f.name, kind=f.kind, sha256=f.sha256,
                           content=f.content.decode("utf-8"))
        session.add(row)
        stored[f.name] = row
    session.flush()
    for kind, key, name, digest, spec, info, filename, version in to_create:
        definition = Definition(kind=kind, key=key, version=version, name=name, sha256=digest, executable=True,
                                deployment_id=deployment.id, file_id=stored[filename].id, deployed_at=now,
                                deployed_by=deployed_by, spec=spec, task_info=info)
        session.add(definition)
        session.flush()
        results.append(DeployedDefinition(kind, key, version, name, True, definition.id))
    return DeployResult(deployment.id, results)


def _older_version(session: Any, kind: str, key: str, digest: str) -> int | None:
    return session.execute(select(func.max(Definition.version)).where(
        Definition.kind == kind, Definition.key == key, Definition.sha256 == digest)).scalar()


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedSpec:
    definition_id: int
    key: str
    version: int
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    task_info: dict[str, Any]


class SpecCache:
    """Parsed specs by definition id: versions are immutable, so entries never go stale."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._specs: dict[int, LoadedSpec] = {}

    def get(self, session: Any, definition_id: int) -> LoadedSpec:
        loaded = self._specs.get(definition_id)
        if loaded is not None:
            return loaded
        definition = session.get(Definition, definition_id)
        if definition is None or definition.spec is None:
            raise NotFound(f"process definition {definition_id} does not exist", field="definition")
        spec, subprocess_specs = serializer.spec_from_dict(definition.spec)
        loaded = LoadedSpec(definition.id, definition.key, definition.version, spec, subprocess_specs,
                            definition.task_info or {})
        with self._lock:
            self._specs[definition_id] = loaded
        return loaded


def latest_process(session: Any, key: str) -> Definition:
    definition = session.execute(
        select(Definition).where(Definition.kind == "process", Definition.key == key)
        .order_by(Definition.version.desc()).limit(1)).scalar()
    if definition is None:
        known = session.execute(select(Definition.key).where(Definition.kind == "process").distinct()).scalars().all()
        hint = f"; deployed: {', '.join(sorted(known))}" if known else "; nothing is deployed yet"
        raise NotFound(f"unknown process key {key!r}{hint}", field="key")
    return definition


def list_processes(session: Any) -> list[Definition]:
    """The newest version of each process (its serialized spec left unloaded: listings don't need it)."""
    latest = (select(Definition.key, func.max(Definition.version).label("v"))
              .where(Definition.kind == "process").group_by(Definition.key).subquery())
    return list(session.execute(
        select(Definition).join(latest, (Definition.key == latest.c.key) & (Definition.version == latest.c.v))
        .where(Definition.kind == "process").order_by(Definition.key).options(defer(Definition.spec), defer(Definition.task_info))).scalars())
