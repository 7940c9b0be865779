"""The restricted script environment for diagram expressions.

Stock SpiffWorkflow runs scripts with plain ``eval``/``exec``, so whoever deploys a
diagram could run any code on the server. Every script, gateway condition, timer
and DMN expression therefore goes through RestrictedPython here, with an allowlist
of builtins and helpers. The same compiler runs at deploy time
(:func:`check_expression`) so a forbidden expression is refused before it is stored.
"""

from __future__ import annotations

import ast
import contextvars
import builtins
import re
import threading
import weakref
from functools import lru_cache
from types import CodeType
from typing import Any, Callable, Mapping

from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.script import lint
from engine.script.budget import (
    GUARDED_BUILTINS,
    Budget,
    BudgetExceeded,
    Limits,
    Metering,
    _limits,
    current_limits,
    scope_names,
    server_limits,
)

FORBIDDEN_NAMES = frozenset({
    "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "breakpoint", "input", "help", "type", "object", "super", "memoryview", "dir",
    "classmethod", "staticmethod", "property", "exit", "quit",
})

# str.format reaches attributes through its format spec ("{0.__class__}"); f-strings are compiled and checked.
# translate, expandtabs and to_bytes build values of a size their arguments choose, in one C call.
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "translate", "maketrans", "expandtabs", "to_bytes"})

_ALLOWED_BUILTINS = (
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int",
    "isinstance", "len", "list", "map", "max", "min", "range", "reversed", "round", "set",
    "sorted", "str", "sum", "tuple", "zip", "ValueError", "KeyError", "TypeError",
)
SAFE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in _ALLOWED_BUILTINS}
SAFE_BUILTINS.update({"None": None, "True": True, "False": False})
SAFE_BUILTINS.update(GUARDED_BUILTINS)

# The task whose script is running, for the helpers that write a case-level fact (``publicar``).
CURRENT_TASK: contextvars.ContextVar[Any] = contextvars.ContextVar("current_task", default=None)


class ForbiddenExpression(ValueError):
    """An expression the restricted environment refuses to compile."""


def _check_names(source: str, mode: str) -> ast.AST:
    tree = ast.parse(source, mode=mode)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise ForbiddenExpression("imports are not allowed")
        if isinstance(node, (ast.ClassDef, ast.Global, ast.Nonlocal, ast.AsyncFunctionDef, ast.Await)):
            raise ForbiddenExpression(f"{node.__class__.__name__} statements are not allowed")
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            raise ForbiddenExpression(f"'{node.id}' is not allowed")
        if isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES):
            raise ForbiddenExpression(f"attribute '{node.attr}' is not allowed")
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            _check_format_spec(node.format_spec)
    problem = lint.static_problem(tree, server_limits())
    if problem:
        raise ForbiddenExpression(problem)
    return tree


def _check_format_spec(spec: ast.expr) -> None:
    """An f-string's format spec chooses the width of what it builds: literal, and within the length limit."""
    parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
    if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
        raise ForbiddenExpression("an f-string format spec must be literal")
    limit = server_limits().length
    for number in re.findall(r"\d+", "".join(p.value for p in parts)):
        if int(number) > limit:
            raise ForbiddenExpression(f"an f-string width or precision over {limit:,}")


def _compile(source: str, mode: str) -> CodeType:
    """RestrictedPython's checks and rewrite, then :class:`Metering`'s (the budget), then compile."""
    try:
        tree = _check_names(source, mode)
    except SyntaxError as exc:
        what = "expression" if mode == "eval" else "script"
        raise ForbiddenExpression(f"invalid {what}: {exc.msg} (line {exc.lineno})") from None
    errors: list[str] = []
    RestrictingNodeTransformer(errors, [], {}).visit(tree)
    if errors:
        raise ForbiddenExpression("; ".join(errors))
    tree = ast.fix_missing_locations(Metering().visit(tree))
    return compile(tree, "<string>", mode)


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression under the restrictions (cached: diagrams repeat them)."""
    return _compile(source, "eval")


@lru_cache(maxsize=4096)
def compile_script(source: str) -> CodeType:
    return _compile(source, "exec")


def check_expression(source: str, *, script: bool = False) -> None:
    """Raise :class:`ForbiddenExpression` if the text would be refused at run time."""
    (compile_script if script else compile_expression)(source)


_MISSING = object()
_INT64 = 2**63


class NotJSON(TypeError):
    """A script left a value in the case data that JSON cannot hold (the state could not be stored)."""


def require_json(name: str, value: Any) -> None:
    """Refuse what the case's stored state cannot hold: a ``map``, a set, a date, a 65-bit integer, NaN."""
    stack = [(name, value)]
    while stack:
        where, item = stack.pop()
        kind = item.__class__
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_INT64 <= item < _INT64:
                continue
            raise NotJSON(f"the script left {where} = an integer beyond 64 bits, which the case data cannot hold")
        if kind is float:
            if item == item and item not in (float("inf"), float("-inf")):
                continue
            raise NotJSON(f"the script left {where} = {item!r}, which is not a JSON number")
        if kind is list or kind is tuple:
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(item))
        elif kind is dict:
            for k, v in item.items():
                if not isinstance(k, str):
                    raise NotJSON(f"the script left {where} with a key {k!r} that is not text")
                stack.append((f"{where}.{k}", v))
        else:
            raise NotJSON(f"the script left {where} = a {kind.__name__} value, which is not JSON data "
                          "(text, numbers, true/false, null, lists and dicts)")


_spec_limits: "weakref.WeakKeyDictionary[Any, Limits]" = weakref.WeakKeyDictionary()


def set_limits(spec: Any, wanted: Mapping[str, float] | None) -> Limits:
    """The limits of one deployed version: the server's, lowered by what its diagram asks for."""
    limits = server_limits().lowered(wanted)
    _spec_limits[spec] = limits
    return limits


def limits_for(task_or_workflow: Any) -> Limits:
    """The limits of the case a task (or workflow) belongs to: its top process decides."""
    workflow = getattr(task_or_workflow, "workflow", task_or_workflow)
    return _spec_limits.get(workflow.top_workflow.spec) or server_limits()


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs task expressions and scripts under RestrictedPython with allowlisted helpers."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__(dict(helpers or {}))
        self._local = threading.local()
        self._base: dict[str, Any] = {
            "__builtins__": SAFE_BUILTINS,
            "_getitem_": default_guarded_getitem,
            "_getiter_": default_guarded_getiter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard,
            **self.globals,
        }

    def _budgeted(self) -> tuple[Budget, dict[str, Any]]:
        """This thread's budget, reset, and the base scope with the guards bound to it (built once)."""
        entry = getattr(self._local, "entry", None)
        if entry is None or entry[0].busy:  # first use, or an evaluation inside an evaluation
            budget = Budget(current_limits())
            entry = (budget, {**self._base, **scope_names(budget)})
            if getattr(self._local, "entry", None) is None:
                self._local.entry = entry
        else:
            entry[0].reset(current_limits())
        return entry

    def _scope(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None,
               base: dict[str, Any] | None = None) -> dict[str, Any]:
        scope = dict(base if base is not None else self._budgeted()[1])
        if external_context:
            scope.update(external_context)
        scope.update(context)
        return scope

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        budget, base = self._budgeted()
        budget.busy = True
        try:
            result = eval(compile_expression(expression), self._scope(context, external_context, base))  # noqa: S307
        finally:
            budget.busy = False
        budget.settle()
        return result

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        clashes = set(self.globals).intersection(context)
        if clashes:
            raise ValueError(f"task data overwrites helper function(s): {sorted(clashes)}")
        code = compile_script(script)
        budget, base = self._budgeted()
        scope = self._scope(context, external_context, base)
        budget.busy = True
        try:
            exec(code, scope)  # noqa: S102 - restricted code
        finally:
            budget.busy = False
        budget.settle()
        hidden = set(self._base) | set(external_context or ())
        result = {k: v for k, v in scope.items() if k not in hidden and not callable(v) and not k.startswith("_")}
        for name, value in result.items():
            if context.get(name, _MISSING) is not value:
                require_json(name, value)
        context.clear()
        context.update(result)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise NotImplementedError("service tasks are not available to diagrams")


class RestrictedScriptEngine(PythonScriptEngine):
    """Spiff's script engine with restricted evaluation and restricted syntax checks.

    ``workflow_globals`` names entries of the top workflow's data that every expression
    can read (the legal parameters): kept once per instance instead of being copied
    into the data of every task, where they would be serialized and diffed each step.
    """

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None,
                 workflow_globals: tuple[str, ...] = ()) -> None:
        super().__init__(environment=RestrictedEnvironment(helpers))
        self.workflow_globals = workflow_globals

    def _with_globals(self, task: Any, external_context: dict | None) -> dict | None:
        if not self.workflow_globals:
            return external_context
        data = task.workflow.top_workflow.data
        shared = {k: data[k] for k in self.workflow_globals if k in data}
        return {**shared, **(external_context or {})} if shared else external_context

    def evaluate(self, task: Any, expression: str, external_context: dict | None = None) -> Any:
        limits = limits_for(task)
        token = _limits.set(limits)
        try:
            result = super().evaluate(task, expression, self._with_globals(task, external_context))
        finally:
            _limits.reset(token)
        if (isinstance(result, int) and result > limits.instances
                and expression == getattr(task.task_spec, "cardinality", None)):
            raise WorkflowTaskException(
                f"loopCardinality {result:,} is over the limit of {limits.instances:,} instances "
                f"({Limits.variable('instances')})", task=task)
        return result

    def execute(self, task: Any, script: str, external_context: dict | None = None) -> Any:
        token = _limits.set(limits_for(task))
        current = CURRENT_TASK.set(task)  # for helpers that write case-level facts (``publicar``)
        try:
            return super().execute(task, script, self._with_globals(task, external_context))
        finally:
            CURRENT_TASK.reset(current)
            _limits.reset(token)

    def validate(self, expression: str) -> None:  # noqa: D401
        # DMN's needs_eq() relies on SyntaxError to decide how to join input and entry.
        ast.parse(expression)
