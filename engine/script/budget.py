"""The budget of diagram code: CPU time, loop steps, and the size of what it builds.

A deployed diagram is code whoever deploys wrote. A watchdog thread cannot stop it: one
big-integer operation (``10**10**10``) or one repetition (``'a'*(3*10**9)``) holds Python's
global lock for as long as it runs. So the sandbox rewrites the code it compiles
(:class:`Metering`): ``*``, ``**``, ``<<``, ``+`` and ``%`` become calls to guards that look at
the operands' sizes *before* the operation runs, every loop body, comprehension and function
body calls ``_step_()``, which counts iterations and, every 1,024 of them, reads the thread's
CPU clock. Builtins and methods that build big values in one C call (``range``, ``str.join``,
``str.ljust``, ``list.extend``…) are wrapped the same way.

Exceeding a limit raises :class:`BudgetExceeded`; once exceeded the budget stays exceeded, so a
``try``/``except`` in the diagram cannot swallow it (the next step, and the end of the
evaluation, raise again). The limits are server settings (:data:`engine.config.SCRIPT_LIMITS`);
a diagram may lower them, never raise them (:meth:`Limits.lowered`).
"""

from __future__ import annotations

import ast
import contextvars
import operator
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any, Iterator, Mapping, NoReturn

from engine import config


class BudgetExceeded(Exception):
    """Diagram code went over one of its limits; the transition ends in an incident naming it."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float
    steps: int
    int_bits: int
    length: int
    memory_bytes: int
    instances: int
    engine_steps: int
    transition_seconds: float

    @classmethod
    def server(cls) -> "Limits":
        """The server's limits, from the environment (``TRAMITA_SCRIPT_*``) or their defaults."""
        return cls(**{f.name: config.script_limit(f.name) for f in fields(cls)})

    def lowered(self, wanted: Mapping[str, float] | None) -> "Limits":
        """These limits lowered by a diagram's own: a diagram never raises a server limit."""
        if not wanted:
            return self
        return replace(self, **{k: type(getattr(self, k))(min(getattr(self, k), v))
                                for k, v in wanted.items() if hasattr(self, k)})

    @staticmethod
    def variable(name: str) -> str:
        return config.SCRIPT_LIMITS[name][0]


_limits: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("script_limits", default=None)
_transition_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("transition_deadline",
                                                                                    default=None)
_server: list[Limits] = []


def server_limits() -> Limits:
    """The server's limits, read from the environment once per process."""
    if not _server:
        _server.append(Limits.server())
    return _server[0]


def current_limits() -> Limits:
    return _limits.get() or server_limits()


@contextmanager
def limits_scope(limits: Limits) -> Iterator[None]:
    """Evaluations inside run under ``limits`` (the diagram's, already lowered from the server's)."""
    token = _limits.set(limits)
    try:
        yield
    finally:
        _limits.reset(token)


@contextmanager
def transition_scope(limits: Limits) -> Iterator[None]:
    """All diagram code of one transition shares a CPU deadline (a long DMN table, a loop of scripts)."""
    token = _transition_deadline.set(time.thread_time() + limits.transition_seconds)
    try:
        yield
    finally:
        _transition_deadline.reset(token)


def _exceeded(what: str, name: str, value: float) -> BudgetExceeded:
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return BudgetExceeded(f"{what} (limit {Limits.variable(name)}={shown})")


_NUMBERS = (int, float, bool)
_SIZED = (str, bytes, list, tuple)
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?")


class Budget:
    """One evaluation's meter: steps, CPU deadline, bytes built; its methods are the guards the code calls."""

    __slots__ = ("limits", "count", "max_steps", "int_bits", "built", "deadline", "failure", "busy", "__weakref__")

    def __init__(self, limits: Limits) -> None:
        self.reset(limits)

    def reset(self, limits: Limits) -> None:
        """Start over for a new evaluation (a thread reuses its budget: binding the guards costs more
        than the evaluation of a short condition)."""
        self.limits = limits
        self.count = 0
        self.max_steps = limits.steps
        self.int_bits = limits.int_bits
        self.built = 0
        # Reading the thread's CPU clock costs a system call (4 µs on a VM): the clock starts at the
        # first check (after 1,024 steps), so code that loops little never reads it.
        self.deadline: float | None = None
        self.failure: BudgetExceeded | None = None
        self.busy = False

    def _start_clock(self) -> None:
        deadline = time.thread_time() + self.limits.cpu_seconds
        outer = _transition_deadline.get()
        self.deadline = deadline if outer is None else min(deadline, outer)

    # --- failing, sticky --------------------------------------------------------------------------

    def fail(self, failure: BudgetExceeded) -> NoReturn:
        if self.failure is None:
            self.failure = failure
            self.max_steps = 0  # every later step raises again
        raise BudgetExceeded(str(self.failure))

    def settle(self) -> None:
        """At the end of an evaluation: raise if a limit was exceeded, even if the code caught it."""
        if self.failure is not None:
            raise BudgetExceeded(str(self.failure))
        if self.deadline is not None and time.thread_time() > self.deadline:
            self._fail_time()

    def _fail_time(self) -> NoReturn:
        outer = _transition_deadline.get()
        if outer is not None and self.deadline is not None and self.deadline >= outer:
            self.fail(_exceeded("the transition's diagram code ran out of CPU time", "transition_seconds",
                                self.limits.transition_seconds))
        self.fail(_exceeded("the code ran out of CPU time", "cpu_seconds", self.limits.cpu_seconds))

    # --- steps --------------------------------------------------------------------------------------

    def step(self) -> bool:
        count = self.count = self.count + 1
        if count > self.max_steps:
            if self.failure is not None:
                raise BudgetExceeded(str(self.failure))
            self.fail(_exceeded(f"the code ran more than {self.limits.steps:,} loop iterations or calls", "steps",
                                self.limits.steps))
        if not count & 1023:
            if self.deadline is None:
                self._start_clock()
            elif time.thread_time() > self.deadline:  # type: ignore[operator]
                self._fail_time()
        return True

    # --- sizes --------------------------------------------------------------------------------------

    def _grow(self, size: int, per_item: int = 1) -> None:
        if size > self.limits.length:
            self.fail(_exceeded(f"the code would build a value of {size:,} characters or items", "length",
                                self.limits.length))
        self.built += size * per_item
        if self.built > self.limits.memory_bytes:
            self.fail(_exceeded(f"the code built more than {self.limits.memory_bytes:,} bytes of data", "memory_bytes",
                                self.limits.memory_bytes))

    def _int(self, bits: int) -> None:
        if bits > self.limits.int_bits:
            self.fail(_exceeded(f"the code would build an integer of about {bits:,} bits", "int_bits",
                                self.limits.int_bits))

    def _sized(self, value: Any, times: int = 1, extra: int = 0) -> None:
        per_item = 1 if isinstance(value, (str, bytes)) else 8
        self._grow(len(value) * max(times, 0) + extra, per_item)

    # --- operators (the rewritten BinOps and augmented assignments) -------------------------------

    def mul(self, a: Any, b: Any) -> Any:
        ta, tb = type(a), type(b)
        if ta is int and tb is int:
            if a.bit_length() + b.bit_length() > self.int_bits:
                self._int(a.bit_length() + b.bit_length())
        elif ta is float or tb is float:
            pass
        elif isinstance(a, _SIZED) and isinstance(b, int):
            self._sized(a, b)
        elif isinstance(b, _SIZED) and isinstance(a, int):
            self._sized(b, a)
        return a * b

    def pow(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and b > 0 and a not in (0, 1, -1):
            if b > self.int_bits:
                self._int(b)
            self._int(a.bit_length() * b)
        return a ** b

    def lshift(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self._int(a.bit_length() + b)
        return a << b

    def add(self, a: Any, b: Any) -> Any:
        ta = type(a)
        if ta is not int and ta is not float and isinstance(a, _SIZED) and isinstance(b, _SIZED):
            self._sized(a, 1, len(b))
        return a + b

    def mod(self, a: Any, b: Any) -> Any:
        ta = type(a)
        if ta is str or ta is bytes:
            text = a.decode("latin-1") if ta is bytes else a
            if "%" in text:
                for width, precision in _PERCENT.findall(text):
                    for number in (width, precision):
                        if number == "*" or (number and int(number) > self.limits.length):
                            self._grow(self.limits.length + 1)
        return a % b

    def inplace(self, op: str, x: Any, y: Any) -> Any:
        """An augmented assignment: guarded like its operator; a list still grows in place."""
        if type(x) is list and (op == "+=" or op == "*="):
            if op == "+=":
                self.add(x, y if isinstance(y, _SIZED) else list(y))
                x += y
            else:
                self.mul(x, y)
                x *= y
            return x
        guard = _GUARDS.get(op)
        if guard is not None:
            return guard(self, x, y)
        return _OTHER_INPLACE[op](x, y)

    # --- builtins and methods that build in one C call --------------------------------------------

    def getattr(self, obj: Any, name: str, default: Any = None) -> Any:
        from RestrictedPython.Guards import safer_getattr

        value = safer_getattr(obj, name, default)
        if name in _GROWING and isinstance(obj, (str, bytes, list)):
            return _GuardedMethod(self, obj, name, value)
        return value


def guarded_range(*args: int) -> range:
    """``range`` refusing more numbers than a value may hold: ``list(range(10**10))`` is one C call."""
    value = range(*args)
    limits = current_limits()
    try:
        size = len(value)
    except OverflowError:
        size = limits.length + 1
    if size > limits.length:
        raise _exceeded(f"range() of more than {limits.length:,} numbers", "length", limits.length)
    return value


def guarded_sum(iterable: Any, start: Any = 0) -> Any:
    """``sum`` of numbers only: summing lists copies them over and over."""
    if not isinstance(start, _NUMBERS):
        raise TypeError("sum() adds numbers only")
    return sum(iterable, start)


def guarded_round(number: Any, ndigits: Any = None) -> Any:
    """``round`` with at most 400 digits: ``round(5, -10**9)`` computes ``10**(10**9)``."""
    if ndigits is not None and isinstance(ndigits, int) and abs(ndigits) > 400:
        raise ValueError("round() takes at most 400 digits")
    return round(number) if ndigits is None else round(number, ndigits)


GUARDED_BUILTINS = {"range": guarded_range, "sum": guarded_sum, "round": guarded_round}
_GUARDS = {"*=": Budget.mul, "**=": Budget.pow, "<<=": Budget.lshift, "+=": Budget.add, "%=": Budget.mod}
_OTHER_INPLACE = {
    "-=": operator.isub, "/=": operator.itruediv, "//=": operator.ifloordiv, ">>=": operator.irshift,
    "|=": operator.ior, "&=": operator.iand, "^=": operator.ixor, "@=": operator.imatmul,
}
_GROWING = frozenset({"join", "replace", "ljust", "rjust", "center", "zfill", "extend"})


class _GuardedMethod:
    """A str/bytes/list method that can build a huge value in one call, sized before it runs."""

    __slots__ = ("budget", "obj", "name", "method")

    def __init__(self, budget: Budget, obj: Any, name: str, method: Any) -> None:
        self.budget, self.obj, self.name, self.method = budget, obj, name, method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        budget, obj, name = self.budget, self.obj, self.name
        if name in ("join", "extend") and args:
            items = list(args[0])
            args = (items, *args[1:])
            if name == "join":
                total = sum(len(i) for i in items if isinstance(i, (str, bytes))) + len(obj) * max(len(items) - 1, 0)
                budget._grow(total)
            else:
                budget._grow(len(obj) + len(items), 8)
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], (str, bytes)):
            old, new = args[0], args[1]
            count = len(obj) + 1 if not old else obj.count(old)
            if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                count = min(count, args[2])
            budget._grow(len(obj) + count * max(len(new) - len(old), 0))
        elif args and isinstance(args[0], int):  # ljust, rjust, center, zfill: a width
            budget._grow(args[0])
        return self.method(*args, **kwargs)


# --- the rewrite ------------------------------------------------------------------------------------


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


class Metering(ast.NodeTransformer):
    """Rewrites RestrictedPython's output so the code calls its :class:`Budget` (see the module docstring)."""

    _OPS = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Add: "_add_", ast.Mod: "_mod_"}

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        name = self._OPS.get(type(node.op))
        if name is None or self._harmless(node):
            return node
        return ast.copy_location(_call(name, node.left, node.right), node)

    @staticmethod
    def _harmless(node: ast.BinOp) -> bool:
        """Operations that cannot build anything big, left as they are (the common ``i + 1``, ``'%s' % x``):
        ``+`` with a number (a string or list plus a number is a TypeError), and ``%`` on a literal
        format with no ``*`` and no width or precision over the length limit."""
        def number(n: ast.expr) -> bool:
            return isinstance(n, ast.Constant) and type(n.value) in (int, float)

        if isinstance(node.op, ast.Add):
            return number(node.left) or number(node.right)
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            if not isinstance(node.left.value, str):
                return True
            limit = server_limits().length
            return all(w != "*" and p != "*" and int(w or 0) <= limit and int(p or 0) <= limit
                       for w, p in _PERCENT.findall(node.left.value))
        return False

    def _counted(self, node: Any) -> Any:
        self.generic_visit(node)
        node.body.insert(0, ast.copy_location(ast.Expr(value=_call("_step_")), node))
        return node

    visit_For = visit_While = visit_FunctionDef = _counted

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        self.generic_visit(node)
        node.body = ast.BoolOp(op=ast.And(), values=[_call("_step_"), node.body])
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.ifs.insert(0, _call("_step_"))
        return node


def scope_names(budget: Budget) -> dict[str, Any]:
    """What the rewritten code calls, bound to this evaluation's budget."""
    return {
        "_step_": budget.step, "_mul_": budget.mul, "_pow_": budget.pow, "_lshift_": budget.lshift,
        "_add_": budget.add, "_mod_": budget.mod, "_inplacevar_": budget.inplace, "_getattr_": budget.getattr,
    }
