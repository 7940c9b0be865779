"""The restricted script environment: known escapes fail, ordinary diagram code works.

Two layers are proven separately. ``check_expression`` (what deployment runs) refuses an
escape before anything is stored; and at run time the environment itself refuses it,
even for code that got past the deploy-time check: the builtins are an allowlist, and
RestrictedPython's guards stand between the code and every attribute.
"""

from __future__ import annotations

import pytest
from RestrictedPython import compile_restricted_exec
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.bpmn import safe_xml, serializer
from engine.errors import DeploymentRejected, ExecutionFailed
from engine.script.helpers import HELPERS, script_engine
from engine.script.sandbox import (
    SAFE_BUILTINS,
    ForbiddenExpression,
    RestrictedEnvironment,
    RestrictedScriptEngine,
    check_expression,
)
from tests.diagrams import bundle, flows, process, script_task, user_task

# Each escape is a script a hostile diagram could carry, with what it tries to reach.
ESCAPES = {
    "subclasses": "x = ().__class__.__base__.__subclasses__()",
    "import_builtin": "x = __import__('os').getcwd()",
    "open": "x = open('/etc/passwd').read()",
    "eval": "x = eval('1 + 1')",
    "exec": "exec('x = 1')",
    "getattr_dunder": "x = getattr(1, '__class__')",
    "function_globals": "def f():\n    return 1\nx = f.__globals__",
    "lambda_code": "x = (lambda: 1).__code__",
    "format_attribute": "x = '{0.__class__}'.format(1)",
    "format_chain": "x = '{0.__class__.__base__.__subclasses__}'.format(1)",
    "format_map": "x = '{a.__class__}'.format_map({'a': 1})",
    "str_format_unbound": "x = str.format('{0.__class__}', 1)",
    "generator_frame": "g = (i for i in [1])\nx = g.gi_frame",
    "generator_frame_back": "g = (i for i in [1])\nx = g.gi_frame.f_back.f_globals",
    "generator_code": "g = (i for i in [1])\nx = g.gi_code",
    "type": "x = type(1)",
    "type_three_args": "x = type('X', (), {})",
    "vars": "x = vars()",
    "globals": "x = globals()",
    "locals": "x = locals()",
    "dir": "x = dir()",
    "compile": "x = compile('1', 'f', 'eval')",
    "object": "x = object.__subclasses__()",
    "import": "import os",
    "import_from": "from os import path",
    "import_as": "import subprocess as sp",
    "class": "class A:\n    pass",
    "fstring_dunder": "x = f'{(1).__class__}'",
    "self_of_method": "x = [].append.__self__",
    "breakpoint": "breakpoint()",
}



@pytest.fixture(scope="module")
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment(HELPERS)


# --- deploy time: the compiler refuses ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_is_refused_when_compiled(name: str) -> None:
    with pytest.raises(ForbiddenExpression):
        check_expression(ESCAPES[name], script=True)


@pytest.mark.parametrize("expression", [
    "().__class__.__base__.__subclasses__()",
    "__import__('os')",
    "open('/etc/passwd')",
    "eval('1')",
    "exec('1')",
    "getattr(x, '__class__')",
    "x.__globals__",
    "type(x)",
    "vars()",
    "(i for i in x).gi_frame",
    "[c for c in ().__class__.__mro__]",
    "x.__dict__",
    "lambda: 1",
])
def test_escape_in_an_expression_is_refused(expression: str) -> None:
    """Gateway conditions, timers and due dates are expressions: the same refusals apply."""
    try:
        check_expression(expression)
    except ForbiddenExpression:
        return
    # A lambda compiles, but it cannot reach anything: prove it at run time instead.
    assert expression == "lambda: 1"


def test_refusal_names_what_is_forbidden() -> None:
    with pytest.raises(ForbiddenExpression, match="__subclasses__"):
        check_expression(ESCAPES["subclasses"], script=True)
    with pytest.raises(ForbiddenExpression, match="'open' is not allowed"):
        check_expression("open('/etc/passwd')")
    with pytest.raises(ForbiddenExpression, match="imports are not allowed"):
        check_expression("from os import path", script=True)
    with pytest.raises(ForbiddenExpression, match="gi_frame"):
        check_expression(ESCAPES["generator_frame"], script=True)


def test_syntax_errors_are_refused_not_raised() -> None:
    with pytest.raises(ForbiddenExpression, match="invalid"):
        check_expression("x = = 1", script=True)
    with pytest.raises(ForbiddenExpression, match="invalid"):
        check_expression("1 +")


@pytest.mark.parametrize("text", ["x = '{0.__class__}'.format(1)", "x = s.format_map(d)", "f = str.format"])
def test_str_format_is_refused_when_compiled(text: str) -> None:
    """str.format reaches attributes through its format spec, out of reach of the AST check."""
    with pytest.raises(ForbiddenExpression, match="format"):
        check_expression(text, script=True)


# --- run time: the environment refuses -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_fails_at_run_time(env: RestrictedEnvironment, name: str) -> None:
    context: dict = {}
    with pytest.raises(Exception) as exc:
        env.execute(ESCAPES[name], context)
    assert not isinstance(exc.value, (SystemExit, KeyboardInterrupt))
    assert "x" not in context  # nothing was computed, nothing leaked into the task data


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_fails_at_run_time_even_past_the_name_check(env: RestrictedEnvironment, name: str) -> None:
    """Compile with RestrictedPython alone (skipping Tramita's AST allowlist) and run in the real scope:
    either RestrictedPython refuses to compile it or the guarded scope stops it while it runs."""
    result = compile_restricted_exec(ESCAPES[name])
    if result.errors:
        return
    scope = env._scope({}, None)
    with pytest.raises((NameError, ImportError, NotImplementedError, AttributeError, TypeError)):
        exec(result.code, scope)  # noqa: S102 - restricted code under test
    assert "x" not in scope


@pytest.mark.parametrize("name", ["open", "eval", "exec", "getattr", "setattr", "type", "vars", "globals",
                                  "locals", "compile", "__import__", "object", "input", "breakpoint", "dir"])
def test_dangerous_builtins_are_absent(name: str) -> None:
    assert name not in SAFE_BUILTINS


def test_expression_escapes_fail_when_evaluated(env: RestrictedEnvironment) -> None:
    for expression in ["open('/etc/passwd')", "__import__('os')", "().__class__", "type(1)",
                       "'{0.__class__}'.format(1)", "vars()"]:
        with pytest.raises(Exception):
            env.evaluate(expression, {})
    # a lambda compiles, but what it returns still cannot reach anything
    reach = env.evaluate("lambda: 1", {})
    assert reach() == 1


def test_script_engine_wraps_a_runtime_refusal_as_a_task_error() -> None:
    """A diagram that slipped past deployment (an old version, a hand-made spec) still cannot escape."""
    xml = process("raw_evil", "\n".join([
        '<bpmn:startEvent id="start"/>', script_task("sneaky", "x = open('/etc/passwd').read()"),
        '<bpmn:endEvent id="end"/>', flows(("start", "sneaky"), ("sneaky", "end"))]))
    parser = safe_xml.new_parser()
    parser.add_bpmn_xml(safe_xml.load_xml(xml.encode(), "raw.bpmn"), "raw.bpmn")  # no Tramita lint here
    wf = BpmnWorkflow(parser.get_spec("raw_evil"), script_engine=script_engine())
    with pytest.raises(WorkflowTaskException) as exc:
        wf.do_engine_steps()
    assert exc.value.task.task_spec.bpmn_id == "sneaky"
    assert "x" not in wf.data and all("x" not in t.data for t in wf.get_tasks())


@pytest.mark.parametrize("name", ["subclasses", "import_builtin", "open", "eval", "exec", "getattr_dunder",
                                  "function_globals", "generator_frame", "type", "vars", "import", "import_from",
                                  "format_attribute", "format_map"])
def test_escape_in_a_diagram_is_refused_at_deploy(tramita, name: str) -> None:  # type: ignore[no-untyped-def]
    xml = process("evil_p", "\n".join([
        '<bpmn:startEvent id="start"/>', script_task("sneaky", _xml_text(ESCAPES[name])),
        '<bpmn:endEvent id="end"/>', flows(("start", "sneaky"), ("sneaky", "end"))]))
    with pytest.raises(DeploymentRejected, match="element sneaky: forbidden expression"):
        tramita.deploy([bundle("evil.bpmn", xml)], "d")
    assert tramita.processes() == []


def _xml_text(script: str) -> str:
    return script.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- ordinary diagram code works -----------------------------------------------------------------


ORDINARY = """
total = 0
for i in range(1, 5):
    total += i
monto = monto_base * 2 - 3 / 3 + 10 // 4 + 7 % 4 + 2 ** 3
datos = {"a": 1, "b": [1, 2, 3]}
datos["c"] = len(datos["b"])
lista = [1, 2]
lista.append(3)
lista += [4]
cuadrados = [n * n for n in lista if n % 2 == 0]
pares = {k: v for k, v in datos.items() if k != "b"}
conjunto = sorted({n % 3 for n in range(10)})
nombre = f"Expediente {folio} ({len(lista)} fojas)"
mayor = max(lista) if lista else None
texto = "-".join(str(n) for n in lista).upper()
a, b = divmod(17, 5)
for k, v in sorted(pares.items()):
    total += v
bandera = isinstance(total, int) and any(n > 3 for n in lista) and not all(n > 3 for n in lista)
def doble(n):
    return n * 2
dobles = list(map(doble, lista))
redondo = round(2.675, 2)
try:
    fallo = int("no")
except ValueError:
    fallo = -1
"""


def test_ordinary_scripts_run(env: RestrictedEnvironment) -> None:
    context = {"monto_base": 10, "folio": "ISM-7"}
    env.execute(ORDINARY, context)
    assert context["total"] == 10 + 1 + 3
    assert context["monto"] == 10 * 2 - 1.0 + 2 + 3 + 8
    assert context["datos"] == {"a": 1, "b": [1, 2, 3], "c": 3}
    assert context["lista"] == [1, 2, 3, 4]
    assert context["cuadrados"] == [4, 16]
    assert context["pares"] == {"a": 1, "c": 3}
    assert context["conjunto"] == [0, 1, 2]
    assert context["nombre"] == "Expediente ISM-7 (4 fojas)"
    assert context["mayor"] == 4 and context["texto"] == "1-2-3-4"
    assert (context["a"], context["b"]) == (3, 2)
    assert context["bandera"] is True
    assert context["dobles"] == [2, 4, 6, 8]
    assert context["fallo"] == -1


def test_ordinary_expressions_evaluate(env: RestrictedEnvironment) -> None:
    data = {"monto": 150, "tipo": "fisica", "items": [1, 2, 3], "d": {"k": "v"}}
    assert env.evaluate("monto > 100 and tipo == 'fisica'", data) is True
    assert env.evaluate("sum(items) + len(d)", data) == 7
    assert env.evaluate("d['k'] + '!'", data) == "v!"
    assert env.evaluate("[i * 2 for i in items]", data) == [2, 4, 6]
    assert env.evaluate("f'{monto:,}'", {"monto": 1500}) == "1,500"


def test_calendar_helpers_are_available() -> None:
    engine = RestrictedScriptEngine(HELPERS)
    context: dict = {"notificada": "2026-12-18"}
    engine.environment.execute('vence = plazo_habil(notificada, 5)\n'
                               'mes = plazo_meses("2026-01-31", 1, "administrativa")', context)
    # Friday 18 December 2026 + 5 business days skips the weekend and 25 December.
    assert context["vence"] == "2026-12-28T23:59:59-07:00"
    # LFPA art. 29: February 2027 has no 31st -> the first business day of March: Monday 2 March 2026
    # (1 March 2026 is a Sunday).
    assert context["mes"] == "2026-03-02T23:59:59-07:00"
    assert engine.environment.evaluate('plazo_habil("2026-12-18", 5)', {}) == "2026-12-28T23:59:59-07:00"


def test_script_variables_land_in_the_task_data_and_helpers_do_not(env: RestrictedEnvironment) -> None:
    context = {"entrada": 2}
    env.execute("salida = entrada * 21\nvence = plazo_habil('2026-12-18', 5)\nfuncion = lambda n: n", context)
    # callables the script made are not data either
    assert context == {"entrada": 2, "salida": 42, "vence": "2026-12-28T23:59:59-07:00"}
    for name in [*HELPERS, "__builtins__", "_getattr_", "_getitem_", "_write_", "_inplacevar_"]:
        assert name not in context


def test_task_data_may_not_shadow_a_helper(env: RestrictedEnvironment) -> None:
    with pytest.raises(ValueError, match="plazo_habil"):
        env.execute("x = 1", {"plazo_habil": "2026-01-01"})


def test_script_task_results_reach_the_next_task(tramita) -> None:  # type: ignore[no-untyped-def]
    script = "vence = plazo_habil(notificada, 5)\ntotal = 0\nfor m in montos:\n    total += m\nresumen = {'n': len(montos)}"
    xml = process("calc", "\n".join([
        '<bpmn:startEvent id="start"/>', script_task("calcular", script), user_task("revisar"),
        '<bpmn:endEvent id="end"/>', flows(("start", "calcular"), ("calcular", "revisar"), ("revisar", "end"))]))
    tramita.deploy([bundle("calc.bpmn", xml)], "d")
    r = tramita.start("calc", {"notificada": "2026-12-18", "montos": [100, 250]}, "u")
    data = tramita.instance(r.instance_id).data
    assert data["vence"] == "2026-12-28T23:59:59-07:00"
    assert data["total"] == 350 and data["resumen"] == {"n": 2}
    assert not set(HELPERS) & set(data)
