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
import operator
from functools import lru_cache
from types import CodeType
from typing import Any, Callable, Mapping

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

FORBIDDEN_NAMES = frozenset({
    "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "breakpoint", "input", "help", "type", "object", "super", "memoryview", "dir",
    "classmethod", "staticmethod", "property", "exit", "quit",
})

# str.format reaches attributes through its format spec ("{0.__class__}"); f-strings are compiled and checked.
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map"})

_ALLOWED_BUILTINS = (
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int",
    "isinstance", "len", "list", "map", "max", "min", "range", "reversed", "round", "set",
    "sorted", "str", "sum", "tuple", "zip", "ValueError", "KeyError", "TypeError",
)
SAFE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in _ALLOWED_BUILTINS}
SAFE_BUILTINS.update({"None": None, "True": True, "False": False})

_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "|=": operator.ior, "&=": operator.iand, "^=": operator.ixor,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    return _INPLACE[op](x, y)


# The task whose script is running, for the helpers that write a case-level fact (``publicar``).
CURRENT_TASK: contextvars.ContextVar[Any] = contextvars.ContextVar("current_task", default=None)


class ForbiddenExpression(ValueError):
    """An expression the restricted environment refuses to compile."""


def _check_names(source: str, mode: str) -> None:
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


def _compile(source: str, mode: str) -> CodeType:
    try:
        _check_names(source, mode)
    except SyntaxError as exc:
        what = "expression" if mode == "eval" else "script"
        raise ForbiddenExpression(f"invalid {what}: {exc.msg} (line {exc.lineno})") from None
    result = (compile_restricted_eval if mode == "eval" else compile_restricted_exec)(source)
    if result.errors:
        raise ForbiddenExpression("; ".join(result.errors))
    return result.code


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


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs task expressions and scripts under RestrictedPython with allowlisted helpers."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__(dict(helpers or {}))
        self._base: dict[str, Any] = {
            "__builtins__": SAFE_BUILTINS,
            "_getattr_": safer_getattr,
            "_getitem_": default_guarded_getitem,
            "_getiter_": default_guarded_getiter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard,
            "_inplacevar_": _inplacevar,
            **self.globals,
        }

    def _scope(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None) -> dict[str, Any]:
        scope = dict(self._base)
        if external_context:
            scope.update(external_context)
        scope.update(context)
        return scope

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        return eval(compile_expression(expression), self._scope(context, external_context))  # noqa: S307 - restricted code

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        clashes = set(self.globals).intersection(context)
        if clashes:
            raise ValueError(f"task data overwrites helper function(s): {sorted(clashes)}")
        code = compile_script(script)
        scope = self._scope(context, external_context)
        exec(code, scope)  # noqa: S102 - restricted code
        hidden = set(self._base) | set(external_context or ())
        result = {k: v for k, v in scope.items() if k not in hidden and not callable(v) and not k.startswith("_")}
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
        return super().evaluate(task, expression, self._with_globals(task, external_context))

    def execute(self, task: Any, script: str, external_context: dict | None = None) -> Any:
        token = CURRENT_TASK.set(task)  # for helpers that write case-level facts (``publicar``)
        try:
            return super().execute(task, script, self._with_globals(task, external_context))
        finally:
            CURRENT_TASK.reset(token)

    def validate(self, expression: str) -> None:  # noqa: D401
        # DMN's needs_eq() relies on SyntaxError to decide how to join input and entry.
        ast.parse(expression)
