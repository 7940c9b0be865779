"""Running the engine within the case's budget, before the write lock, and what the run leaves to write.

Every expression and script has its own budget (``engine.script.budget``); here the transition as
a whole is bounded too, and the due dates of the tasks it opened are evaluated (they are diagram
expressions) so that nothing of the diagram runs once the write transaction is open.
"""

from __future__ import annotations

import time
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.deploy import versions as deployments
from engine.run import timers
from engine.run.runtime import Runtime
from engine.script import budget, sandbox


def _step(wf: BpmnWorkflow) -> BaseException | None:
    """Fire what is due, then run the engine to its next wait, within the case's budget.

    ``BpmnWorkflow.do_engine_steps()`` ends with a second ``refresh_timers()``: a cycle
    timer behind schedule would fire two occurrences in one transition, the second
    without a timer row or an audit event of its own. So the loop runs here without it
    (SpiffWorkflow is pinned to 3.2, whose ``_do_engine_steps`` this relies on).

    Every expression and script has its own budget (``engine.script.budget``); the transition
    as a whole is also bounded, in engine passes and in CPU time, so a diagram that loops
    through gateways and cheap scripts forever ends in an incident too.
    """
    limits = sandbox.limits_for(wf)
    try:
        with budget.limits_scope(limits), budget.transition_scope(limits):
            deadline = time.thread_time() + limits.transition_seconds
            wf.refresh_timers()
            passes = 0
            while wf._do_engine_steps():
                passes += 1
                if passes >= limits.engine_steps:
                    _over_budget(wf, f"the case ran more than {limits.engine_steps:,} engine steps in one "
                                     f"transition (limit {budget.Limits.variable('engine_steps')})")
                if time.thread_time() > deadline:
                    _over_budget(wf, "the transition's diagram code ran out of CPU time (limit "
                                     f"{budget.Limits.variable('transition_seconds')}="
                                     f"{limits.transition_seconds:g})")
    except Exception as exc:  # noqa: BLE001 - any failure of diagram code becomes an incident
        return exc
    return None


def _over_budget(wf: BpmnWorkflow, message: str) -> None:
    """Stop the engine, naming the element it was about to run again."""
    from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

    ready = wf.get_tasks(state=TaskState.READY, manual=False) or wf.get_tasks(state=TaskState.READY)
    if not ready:
        raise budget.BudgetExceeded(message)
    raise WorkflowTaskException(message, task=ready[0])


def _due_dates(rt: Runtime, wf: BpmnWorkflow, loaded: deployments.LoadedSpec,
               open_ids: set[str]) -> dict[str, tuple[Any, Any]]:
    """The due date (and its explanation) of each user task this step opened, by task id.

    A ``dueDate`` is a diagram expression, so it is evaluated here, before the write lock.
    """
    dues = {}
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        task_id = str(task.id)
        if task_id not in open_ids:
            dues[task_id] = timers.due_for_task(rt, task, loaded.task_info.get(task.task_spec.bpmn_id, {}))
    return dues


def _due_dates_or_none(rt: Runtime, wf: BpmnWorkflow, loaded: deployments.LoadedSpec,
                       open_ids: set[str]) -> dict[str, tuple[Any, Any]]:
    """As :func:`_due_dates` for a case going into error: a due date that fails to evaluate is left empty
    (the incident says why), so the tasks the user's change opened are still written."""
    dues = {}
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        task_id = str(task.id)
        if task_id not in open_ids:
            try:
                dues[task_id] = timers.due_for_task(rt, task, loaded.task_info.get(task.task_spec.bpmn_id, {}))
            except Exception:  # noqa: BLE001 - the failure is already being recorded as an incident
                dues[task_id] = (None, None)
    return dues


def _thrown_messages(wf: BpmnWorkflow) -> list[tuple[str, Any]]:
    """Messages the case threw that none of its own tasks caught (signals stay inside the case)."""
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition

    return [(e.event_definition.name, e.payload) for e in wf.get_events()
            if isinstance(e.event_definition, MessageEventDefinition)]
