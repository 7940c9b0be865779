"""The state serializer: it leaves the spec out, and every read of stored state sits beside it.

Stock serialization embeds the whole spec in every saved workflow (about half its
size). Tramita stores the spec once per deployed version and keeps only the state
per instance, restoring it against a cached spec object.
"""

from __future__ import annotations

from copy import copy
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (BpmnSubWorkflowConverter, BpmnWorkflowConverter,
                                                             TaskConverter)
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

_PRIMITIVES = frozenset({str, int, float, bool, type(None)})
_IDS: dict[UUID, str] = {}


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether a value is JSON already (str keys, primitives, lists, dicts): conversion would only copy it."""
    kind = value.__class__
    if kind in _PRIMITIVES:
        return True
    if depth > 50:
        return False
    if kind is dict:
        return all(k.__class__ is str and _plain(v, depth + 1) for k, v in value.items())
    if kind is list:
        return all(_plain(v, depth + 1) for v in value)
    return False


def _sid(uuid: UUID) -> str:
    """str(uuid), remembered: every task id is written out on every transition of its instance."""
    text = _IDS.get(uuid)
    if text is None:
        if len(_IDS) >= 200_000:
            _IDS.clear()
        text = _IDS[uuid] = str(uuid)
    return text


class _TaskConverter(TaskConverter):
    """Spiff's task converter, written out for speed: the same dictionary, without the generic
    dispatch for every value (the state of every instance is serialized on every transition)."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            before, after = parent.data, task.data
            data = {}
            delta = {
                "updates": {k: v for k, v in after.items() if k not in before or before[k] != v},
                "deletions": [k for k in before if k not in after],
            }
        internal = task.internal_data
        convert = self.registry.convert
        return {
            "id": _sid(task.id),
            "parent": _sid(task._parent) if parent is not None else None,
            "children": [_sid(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": {k: v if type(v) in _PRIMITIVES else convert(v) for k, v in internal.items()}
            if type(internal) is dict else convert(internal),
            "data": data,
            "delta": delta,
        }


class _SubWorkflowConverter(BpmnSubWorkflowConverter):
    """A subprocess without its tasks: :func:`dump_state` writes them."""

    def to_dict(self, workflow: BpmnSubWorkflow) -> dict[str, Any]:
        data = workflow.data
        return {
            "data": data if data.__class__ is dict and _plain(data) else self.registry.convert(self.registry.clean(data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "root": str(workflow.task_tree.id),
            "parent_task_id": str(workflow.parent_task_id),
            "spec": workflow.spec.name,
        }


class _StateOnlyConverter(BpmnWorkflowConverter):
    """A top-level workflow without its spec (nor its tasks: :func:`dump_state` writes them);
    restores it against a given spec."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        registry = self.registry
        data = workflow.data
        return {
            # Case data is usually plain JSON already; only then it is written as it is.
            "data": data if data.__class__ is dict and _plain(data) else registry.convert(registry.clean(data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "root": str(workflow.task_tree.id),
            "subprocesses": self.mapping_to_dict(workflow.subprocesses),
            "bpmn_events": registry.convert(workflow.bpmn_events),
        }

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
    config[Task] = _TaskConverter
    config[BpmnSubWorkflow] = _SubWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


_TASK_CLASS = Task
REGISTRY = _registry()
_TASK_TO_DICT = REGISTRY.convert_to_dict["Task"]


def spec_to_dict(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> dict[str, Any]:
    return {
        "spec": REGISTRY.convert(spec),
        "subprocess_specs": {name: REGISTRY.convert(s) for name, s in subprocess_specs.items()},
    }


def spec_from_dict(dct: dict[str, Any]) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    spec = REGISTRY.restore(dct["spec"])
    subprocess_specs = {name: REGISTRY.restore(s) for name, s in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


# orjson writes the same JSON as the json module about ten times faster; datetimes, dataclasses and
# subclasses of builtins are refused as json refuses them (the converters turn them into dicts).
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _encode(value: Any) -> str:
    return orjson.dumps(value, default=_refuse, option=_ORJSON).decode()

_FINISHED = TaskState.FINISHED_MASK


def dump_state(workflow: BpmnWorkflow) -> str:
    """The state as JSON text: what ``REGISTRY.convert`` gives with every workflow's tasks put back.

    Every transition writes the whole state but changes only the few tasks it ran, so the
    converters leave the tasks out and they are written here, each finished task's text
    kept on the task and reused (see :func:`_task_json`).
    """
    dct = REGISTRY.convert(workflow)
    subprocesses = dct.pop("subprocesses")
    parts = [_encode(dct)[:-1], ',"tasks":', _tasks_json(workflow.tasks), ',"subprocesses":{']
    for n, (key, sub) in enumerate(workflow.subprocesses.items()):
        parts += [',' if n else '', '"', _sid(key), '":', _encode(subprocesses[str(key)])[:-1],
                  ',"tasks":', _tasks_json(sub.tasks), '}']
    parts.append('}}')
    return "".join(parts)


def _tasks_json(tasks: dict[UUID, Task]) -> str:
    return "{" + ",".join([_task_json(key, task) for key, task in tasks.items()]) + "}"


def _task_json(key: UUID, task: Task) -> str:
    """One task's entry, from the task's memo when nothing it is written from can have changed.

    Only finished tasks with a finished (or no) parent are memoized: their data and
    their data's delta from the parent no longer change, and a reset, a new child, a
    trigger or new internal data changes the memo's key.
    """
    memo = task.__dict__.get("_tramita_json")
    if memo is not None:
        if memo[0] == (task._state, task.last_state_change, len(task._children), task.triggered,
                       len(task.internal_data)):
            return memo[1]
    text = f'"{_sid(key)}":' + _encode(_TASK_TO_DICT(task) if task.__class__ is _TASK_CLASS else REGISTRY.convert(task))
    if task._state & _FINISHED:
        parent = task.parent
        if parent is None or parent._state & _FINISHED:
            task._tramita_json = ((task._state, task.last_state_change, len(task._children), task.triggered,
                                   len(task.internal_data)), text)
    return text


def load_state(state: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    return REGISTRY.restore(orjson.loads(state), spec=spec, subprocess_specs=subprocess_specs)


def case_data(state: dict[str, Any]) -> dict[str, Any]:
    """The case data as the latest finished task left it (without restoring the workflow)."""
    tasks = state.get("tasks", {})
    last = state.get("last_task")
    data: dict[str, Any] = dict(state.get("data") or {})
    if last and last in tasks:
        chain = []
        node = tasks[last]
        while node is not None:
            chain.append(node)
            node = tasks.get(node.get("parent")) if node.get("parent") else None
        merged: dict[str, Any] = {}
        for node in reversed(chain):
            merged.update(node.get("data") or {})
            delta = node.get("delta") or {}
            merged.update(delta.get("updates") or {})
            for key in delta.get("deletions") or []:
                merged.pop(key, None)
        data.update(merged)
    return data


def state_tasks(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Every task of a stored state, subprocesses included, as stored (``task_spec``, ``state`` …)."""
    maps = [state.get("tasks", {})] + [sp.get("tasks", {}) for sp in state.get("subprocesses", {}).values()]
    return [task for tasks in maps for task in tasks.values()]
