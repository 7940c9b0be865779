"""Deploying diagrams: parse under XSD, lint, resolve dependencies, store immutable versions.

A deployment is refused as a whole, before anything is stored, if any file is
unsafe or invalid, if a called process, decision or form is missing, or if an
expression would be refused by the sandbox. Identical content is a no-op, and a
running instance stays on the version it started on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from sqlalchemy import func, select
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn import safe_xml, serializer
from engine.deploy import bundle, directory, parts
from engine.deploy.bundle import BundleParts, PartRef, digest_with_parts
# Reading what is deployed lives in engine.deploy.catalog; the names stay importable from here.
from engine.deploy.catalog import LoadedSpec, SpecCache, latest_process, list_processes
from engine.deploy.lint import gate as lint_gate
from engine.deploy.lint.iso import quote_literals
from engine.time import clock
from engine.deploy import expressions
from engine.script import sandbox
from engine.errors import DeploymentRejected, NotFound
from engine.store.db import Database
from engine.store.models import DeployedFile, Definition, Deployment

BPMN = "{%s}" % safe_xml.BPMN_NS
TRAMITA_GROUP = "{http://tramita.mx/schema/bpmn/1.0}grupo"


@dataclass(frozen=True)
class BundleFile:
    name: str
    content: bytes

    @property
    def kind(self) -> str:
        """bpmn | dmn | form | datos | calendar | part (see ``engine.deploy.parts``)."""
        return parts.file_kind(self.name)

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
    """Files named, and the .bpmn/.dmn/.json/.toml files inside folders named (recursively).

    A file in a folder named ``datos``, ``calendar`` or ``periodos`` keeps that folder in its name
    (``datos/sancion.schema.json``): that is how a data dictionary is told from a form, and the
    legal calendar from a procedure's parts; a scenario keeps two (``scenarios/sancion/x.toml``).
    """
    files: list[BundleFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            members = sorted(p for p in path.rglob("*")
                             if p.suffix in {".bpmn", ".dmn", ".json", ".toml"} and p.is_file())
        elif path.is_file():
            members = [path]
        else:
            raise DeploymentRejected(f"{path}: no such file or folder", field="path")
        for member in members:
            if member.suffix in {".bpmn", ".dmn"}:
                try:
                    safe_xml.check_size(member.stat().st_size, member.name)  # before reading it into memory
                except safe_xml.UnsafeXML as exc:
                    raise DeploymentRejected(str(exc), field="files") from None
            files.append(BundleFile(_bundle_name(member), member.read_bytes()))
    return files


def _bundle_name(path: Path) -> str:
    folder = path.parent.name
    if path.parent.parent.name == parts.SCENARIOS.rstrip("/") and path.suffix == ".toml":
        return f"{parts.SCENARIOS}{folder}/{path.name}"  # a procedure's scenario: scenarios/<key>/<file>
    return f"{folder}/{path.name}" if folder in parts.FOLDERS else path.name


def deploy(db: Database, files: Sequence[BundleFile], deployed_by: str) -> DeployResult:
    if not files:
        raise DeploymentRejected("nothing to deploy: no .bpmn, .dmn or .toml files given", field="files")
    names = [f.name for f in files]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise DeploymentRejected(f"two files share the name {sorted(duplicates)[0]}", field="files")
    with db.write() as session:
        return deploy_in(session, files, deployed_by)


def deploy_in(session: Any, files: Sequence[BundleFile], deployed_by: str) -> DeployResult:
    """Deploy inside the caller's transaction (an approval stores its note and audit in the same one)."""
    parsed = _parse_bundle(session, files)
    if "lanes" in parsed.extras.shared:  # insert-only: an administrator's edits survive (engine.deploy.directory)
        directory.seed(session, parsed.extras.shared["lanes"].content, deployed_by)
    return _store(session, files, parsed, deployed_by)


@dataclass
class _ParsedProcess:
    key: str
    name: str | None
    filename: str
    spec: dict[str, Any]
    task_info: dict[str, Any]
    sha256: str
    parts: dict[str, PartRef] = field(default_factory=dict)
    file_id: int | None = None  # the stored diagram, for a process redeployed only for its parts or forms


@dataclass
class _ParsedBundle:
    processes: list[_ParsedProcess]
    decisions: dict[str, tuple[str, str | None]]  # id -> (filename, name)
    forms: dict[str, dict[str, Any]]
    extras: BundleParts = field(default_factory=BundleParts)


def _parse_bundle(session: Any, files: Sequence[BundleFile]) -> _ParsedBundle:
    parser = safe_xml.new_parser()
    forms: dict[str, dict[str, Any]] = {}
    roots: dict[str, etree._Element] = {}
    decisions: dict[str, tuple[str, str | None]] = {}
    extras = BundleParts.of(files)
    for f in files:
        if f.kind == "form":
            forms[f.name] = _load_form(f)
            continue
        if f.kind not in ("bpmn", "dmn"):
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
        expressions.lint_expressions(root, f.name)

    stored_files = _add_affected(session, parser, roots, extras, forms)
    bundle_processes = [
        pid for pid, pp in parser.process_parsers.items()
        if pp.process_executable and pp.filename in roots
    ]
    if not bundle_processes and not decisions and not extras.standalone:
        non_exec = [pid for pid, pp in parser.process_parsers.items() if not pp.process_executable]
        if non_exec:
            raise DeploymentRejected(
                f"process {non_exec[0]} is not executable (isExecutable=\"false\"): nothing to deploy", field="files")
        raise DeploymentRejected("the bundle defines no executable process or decision", field="files")
    for key, f in extras.datos.items():
        if key not in bundle_processes:
            raise DeploymentRejected(f"{f.name}: names the data of process {key}, which is neither in the bundle "
                                     "nor deployed", field="files")

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
        limits = expressions.diagram_limits(roots[pp.filename], pid)
        if limits:
            spec_dict["limits"] = limits
        refs = extras.for_process(session, pid)
        digest = digest_with_parts(
            {"xml": hashlib.sha256(etree.tostring(roots[pp.filename])).hexdigest(), "spec": spec_dict,
             "tasks": task_info}, refs)
        processes.append(_ParsedProcess(pid, pp.get_name(), pp.filename, spec_dict, task_info, digest, refs,
                                        stored_files.get(pp.filename)))
    return _ParsedBundle(processes, decisions, forms, extras)


def _add_affected(session: Any, parser: Any, roots: dict[str, etree._Element], extras: BundleParts,
                  forms: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Deployed processes the bundle changes without their diagram (a part they pin, their data
    dictionary, a form they use): their stored diagram is parsed again, so they get a new version
    with the bundle's files. Returns the stored file id of each diagram so added, by file name."""
    if not (extras.shared or extras.datos or extras.scenarios or forms):
        return {}
    added: dict[str, int] = {}
    for definition in list_processes(session):
        if definition.key in parser.process_parsers:
            continue
        info = session.get(Definition, definition.id).task_info or {}
        pinned = parts.stored_parts(session, definition.id)
        if not (set(extras.shared) & set(pinned) or definition.key in extras.datos or definition.key in extras.scenarios
                or any(item.get("form") in forms for item in info.values())):
            continue
        stored = session.get(DeployedFile, definition.file_id)
        if stored.name in roots:
            continue
        root = safe_xml.load_xml(stored.content.encode(), stored.name)
        try:
            parser.add_bpmn_xml(root, stored.name)
        except ValidationException as exc:
            raise DeploymentRejected(_describe(exc), field="files") from None
        roots[stored.name] = root
        added[stored.name] = stored.id
    return added


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

    refs = {p.key: p for p in parsed.processes}
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
    standalone: list[tuple[str, list[BundleFile], str, int]] = []  # kind, files, digest, new version
    for kind, kind_files in sorted(parsed.extras.standalone.items()):
        digest = bundle.standalone_digest(kind_files)
        latest = bundle.latest_standalone(session, kind)
        if latest is not None and latest.sha256 == digest:
            results.append(DeployedDefinition(kind, latest.key, latest.version, latest.name, False, latest.id))
        else:
            standalone.append((kind, kind_files, digest, (latest.version if latest else 0) + 1))
    if not to_create and not standalone:
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
        process = refs.get(key) if kind == "process" else None
        file_id = process.file_id if process is not None and process.file_id is not None else stored[filename].id
        definition = Definition(kind=kind, key=key, version=version, name=name, sha256=digest, executable=True,
                                deployment_id=deployment.id, file_id=file_id, deployed_at=now,
                                deployed_by=deployed_by, spec=spec, task_info=info)
        session.add(definition)
        session.flush()
        if process is not None:
            bundle.store_parts(session, definition.id, process.parts, stored)
        results.append(DeployedDefinition(kind, key, version, name, True, definition.id))
    for kind, kind_files, digest, version in standalone:
        own = bundle.store_standalone(session, kind, kind_files, digest, version, deployment.id, stored, now,
                                      deployed_by)
        results.append(DeployedDefinition(kind, own.key, version, own.name, True, own.id))
    return DeployResult(deployment.id, results)


def _older_version(session: Any, kind: str, key: str, digest: str) -> int | None:
    return session.execute(select(func.max(Definition.version)).where(
        Definition.kind == kind, Definition.key == key, Definition.sha256 == digest)).scalar()
