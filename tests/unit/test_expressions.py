"""Tests of engine.expressions: the safe evaluator and its SpiffWorkflow script engine."""

import ast
import copy

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.errors import ExpressionError
from engine.expressions import MAX_TEXT_LENGTH, Evaluator, SafeScriptEngine


@pytest.fixture
def evaluator():
    return Evaluator()


class Probe:
    """A registered function that records whether anything called it."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)
        return len(self.calls)


# --- expressions that are allowed -------------------------------------------------------------

DATA = {
    "x": 5,
    "y": 2.5,
    "name": "  Ada Lovelace ",
    "items": [3, 1, 2],
    "order": {"total": 120, "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]},
    "nothing": None,
    "flag": True,
}

ALLOWED = [
    ("42", 42),
    ("-1.5", -1.5),
    ("'text'", "text"),
    ("True", True),
    ("None", None),
    ("[1, 2, 3]", [1, 2, 3]),
    ("(1, 'a')", (1, "a")),
    ("{'a': 1, 'b': x}", {"a": 1, "b": 5}),
    ("{1, 2, 2}", {1, 2}),
    ("[*items, 4]", [3, 1, 2, 4]),
    ("{**order, 'total': 0}['total']", 0),
    ("x + 1", 6),
    ("x - 10", -5),
    ("x * y", 12.5),
    ("x / 2", 2.5),
    ("x // 2", 2),
    ("x % 3", 2),
    ("2 ** 10", 1024),
    ("-x", -5),
    ("+x", 5),
    ("not flag", False),
    ("'ab' * 3", "ababab"),
    ("[0] * 3", [0, 0, 0]),
    ("items + [4]", [3, 1, 2, 4]),
    ("1 < x < 10", True),
    ("1 < x > 10", False),
    ("x == 5 != 6", True),
    ("x >= 5 and x <= 5", True),
    ("3 in items", True),
    ("7 not in items", True),
    ("nothing is None", True),
    ("x is not None", True),
    ("'Ada' in name", True),
    ("x > 10 or 'fallback'", "fallback"),
    ("0 and 1 / 0", 0),
    ("nothing is not None and nothing > 1", False),
    ("nothing is None or nothing > 1", True),
    ("'big' if order['total'] > 100 else 'small'", "big"),
    ("order['lines'][1]['sku']", "B"),
    ("items[-1]", 2),
    ("items[1:]", [1, 2]),
    ("items[::-1]", [2, 1, 3]),
    ("name[2:5]", "Ada"),
    ("f'{x} and {y:.2f}'", "5 and 2.50"),
    ("f'{name.strip()!r:>16}'", "  'Ada Lovelace'"),
    ("[i * 2 for i in items if i > 1]", [6, 4]),
    ("{i % 2 for i in items}", {0, 1}),
    ("{line['sku']: line['qty'] for line in order['lines']}", {"A": 2, "B": 1}),
    ("sum(line['qty'] for line in order['lines'])", 3),
    ("[(a, b) for a in [1, 2] for b in 'xy' if a > 1]", [(2, "x"), (2, "y")]),
    ("[a + b for a, b in [(1, 2), (3, 4)]]", [3, 7]),
    ("len(items)", 3),
    ("min(items)", 1),
    ("max(items, default=0)", 3),
    ("sum(items)", 6),
    ("abs(-x)", 5),
    ("round(y)", 2),
    ("round(3.14159, ndigits=2)", 3.14),
    ("int('12')", 12),
    ("int('ff', base=16)", 255),
    ("float('1.5')", 1.5),
    ("str(x)", "5"),
    ("bool(nothing)", False),
    ("sorted(items, reverse=True)", [3, 2, 1]),
    ("sorted(['bb', 'a'], key=len)", ["a", "bb"]),
    ("any(i > 2 for i in items)", True),
    ("all([])", True),
    ("list('ab')", ["a", "b"]),
    ("dict(a=1)", {"a": 1}),
    ("set([1, 1])", {1}),
    ("tuple(items)", (3, 1, 2)),
    ("list(range(2, 8, 2))", [2, 4, 6]),
    ("name.strip().lower()", "ada lovelace"),
    ("name.upper().split()", ["ADA", "LOVELACE"]),
    ("name.lstrip().startswith('Ada')", True),
    ("name.rstrip().endswith(('x', 'ce'))", True),
    ("', '.join(['a', 'b'])", "a, b"),
    ("'a-b'.replace('-', '+')", "a+b"),
    ("order.get('missing', 'default')", "default"),
    ("order.keys()", ["total", "lines"]),
    ("len(order.values())", 2),
    ("order.items()[0]", ("total", 120)),
    ("items.count(1)", 1),
    ("items.index(2)", 2),
]


@pytest.mark.parametrize(("text", "expected"), ALLOWED)
def test_allowed_expression(evaluator, text, expected):
    evaluator.check_expression(text)
    assert evaluator.evaluate(text, DATA) == expected


def test_evaluate_does_not_mutate_data(evaluator):
    data = copy.deepcopy(DATA)
    for text, _ in ALLOWED:
        evaluator.evaluate(text, data)
    assert data == DATA


def test_comprehension_variables_do_not_leak(evaluator):
    data = {"items": [1, 2]}
    assert evaluator.evaluate("[i for i in items]", data) == [1, 2]
    assert data == {"items": [1, 2]}
    script_data = {"items": [1, 2]}
    evaluator.execute("doubled = [i * 2 for i in items]\nnames = {k: v for k, v in [('a', 1)]}", script_data)
    assert script_data == {"items": [1, 2], "doubled": [2, 4], "names": {"a": 1}}
    with pytest.raises(ExpressionError, match="unknown name 'i'"):
        evaluator.evaluate("[i for i in items] and i", data)


def test_comprehension_variable_shadows_data_only_inside(evaluator):
    assert evaluator.evaluate("([x for x in [1, 2]], x)", {"x": "outer"}) == ([1, 2], "outer")


def test_nested_comprehensions_see_outer_variables(evaluator):
    assert evaluator.evaluate("[[i * j for j in range(i)] for i in range(3)]", {}) == [[], [0], [0, 2]]
    assert evaluator.evaluate("any(all(v > 0 for v in row) for row in rows)", {"rows": [[1, 0], [2, 3]]}) is True


def test_names_come_from_extra_then_data(evaluator):
    assert evaluator.evaluate("v", {"v": "data"}, {"v": "extra"}) == "extra"
    assert evaluator.evaluate("w", {"w": "data"}, {"v": "extra"}) == "data"


def test_cached_evaluation_uses_the_new_data(evaluator, monkeypatch):
    parses = []
    real_parse = ast.parse
    monkeypatch.setattr(ast, "parse", lambda *args, **kwargs: parses.append(args) or real_parse(*args, **kwargs))
    text = "amount > 100 and kind == 'a'"
    results = [evaluator.evaluate(text, {"amount": amount, "kind": "a"}) for amount in (50, 150, 99, 101)]
    assert results == [False, True, False, True]
    assert len(parses) == 1


def test_leading_blanks_are_ignored_in_expressions(evaluator):
    assert evaluator.evaluate("\n   amount > 1\n", {"amount": 2}) is True


# --- functions ----------------------------------------------------------------------------------


def test_unregistered_function_is_refused_until_registered(evaluator):
    with pytest.raises(ExpressionError, match="function 'working_days' is not allowed"):
        evaluator.check_expression("working_days(3)")
    evaluator.register("working_days", lambda days: f"+{days}wd")
    evaluator.check_expression("working_days(3)")
    assert evaluator.evaluate("working_days(3)", {}) == "+3wd"
    assert evaluator.function_names == frozenset({"working_days"})


def test_functions_given_to_the_constructor():
    evaluator = Evaluator({"double": lambda value: value * 2})
    assert evaluator.evaluate("double(x)", {"x": 4}) == 8
    assert evaluator.evaluate("sorted([3, -4], key=double)", {}) == [-4, 3]


@pytest.mark.parametrize("name", ["_hidden", "__import__", "not an identifier", "class", "len", "1x"])
def test_register_refuses_bad_names(evaluator, name):
    with pytest.raises(ValueError):
        evaluator.register(name, lambda: None)


def test_register_refuses_non_callables(evaluator):
    with pytest.raises(TypeError):
        evaluator.register("value", 3)


def test_data_cannot_replace_a_function(evaluator):
    """A call always means the registered function; scripts may not assign function names."""
    probe = Probe()
    evaluator.register("probe", probe)
    assert evaluator.evaluate("probe()", {"probe": "data value"}) == 1
    assert evaluator.evaluate("len([1])", {"len": 99}) == 1
    for script in ("probe = 5", "len = 5", "probe += 1", "for probe in [1]:\n    pass", "del probe"):
        with pytest.raises(ExpressionError, match="cannot assign to '(probe|len)': it is a function"):
            evaluator.check_script(script)
    with pytest.raises(ExpressionError, match="it is a function"):
        evaluator.check_expression("[1 for probe in [1]]")


def test_failing_registered_function_becomes_expression_error(evaluator):
    def broken(value):
        return {}[value]

    evaluator.register("broken", broken)
    with pytest.raises(ExpressionError, match=r"broken\(\) failed: key 'k' not found") as caught:
        evaluator.evaluate("broken('k')", {})
    assert isinstance(caught.value.__cause__.__cause__, KeyError)
    assert caught.value.expression == "broken('k')"


# --- escape attempts ------------------------------------------------------------------------------

ESCAPES = [
    ("__import__('os').system('id')", "'__import__'"),
    ("().__class__.__bases__[0].__subclasses__()", "'__class__'"),
    ("x.__class__", "'__class__'"),
    ("[c for c in ().__class__.__base__.__subclasses__()]", "'__class__'"),
    ("(lambda: 1)()", "only named functions"),
    ("lambda: 1", "lambda is not allowed"),
    ("open('/etc/passwd')", "function 'open' is not allowed"),
    ("eval('1+1')", "function 'eval' is not allowed"),
    ("exec('x=1')", "function 'exec' is not allowed"),
    ("getattr(x, 'y')", "function 'getattr' is not allowed"),
    ("type(x)", "function 'type' is not allowed"),
    ("globals()", "function 'globals' is not allowed"),
    ("locals()", "function 'locals' is not allowed"),
    ("vars()", "function 'vars' is not allowed"),
    ("compile('1', 'f', 'eval')", "function 'compile' is not allowed"),
    ("breakpoint()", "function 'breakpoint' is not allowed"),
    ("print(x)", "function 'print' is not allowed"),
    ("'{0.__class__}'.format(1)", "method 'format' is not allowed"),
    ("'{x}'.format_map({})", "method 'format_map' is not allowed"),
    ("x.mro()", "method 'mro' is not allowed"),
    ("items.append(1)", "method 'append' is not allowed"),
    ("order.pop('total')", "method 'pop' is not allowed"),
    ("f'{x.__class__}'", "'__class__'"),
    ("f'{x:{width}}'", "computed format specifications"),
    ("f'{x:>100000}'", "format specification"),
    ("f'{y:.5000f}'", "format specification"),
    ("x.real", "attribute access is not allowed ('real')"),
    ("_private", "'_private'"),
    ("dict(**order)", "** argument unpacking"),
    ("(y := 5)", "assignment expression (:=) is not allowed"),
    ("[(y := i) for i in items]", "assignment expression"),
    ("b'bytes'", "literal b'bytes' is not allowed"),
    ("...", "literal Ellipsis is not allowed"),
    ("1 << 10", "LShift operator is not allowed"),
    ("~x", "Invert operator is not allowed"),
    ("x @ y", "MatMult operator is not allowed"),
    ("10 ** 10 ** 10", "exponent above 1_000"),
    ("(10 ** 100) ** 1000", "power too large"),
    ("'a' * 10**9", "result longer than 1_000_000 items"),
    ("[0] * 10**9", "result longer than 1_000_000 items"),
    ("10**9 * (0,)", "result longer than 1_000_000 items"),
    ("range(10**9)", "range longer than 100_000"),
    ("list(range(10**30))", "range longer than 100_000"),
    ("'x' * 900_000 + 'y' * 900_000", "result longer than 1_000_000 items"),
    ("('a' * 2000).replace('a', 'a' * 1000)", "result longer than 1_000_000 items"),
    ("','.join(['a' * 1000] * 1000)", "result longer than 1_000_000 items"),
    ("[x async for x in items]", "async comprehensions"),
    ("await x", "await is not allowed"),
    ("(yield)", "yield is not allowed"),
]


@pytest.mark.parametrize(("text", "reason"), ESCAPES)
def test_expression_escape_is_refused_before_running(evaluator, text, reason):
    probe = Probe()
    evaluator.register("probe", probe)
    with pytest.raises(ExpressionError) as caught:
        evaluator.check_expression(text)
    assert reason in caught.value.reason
    assert caught.value.expression == text
    with pytest.raises(ExpressionError):
        evaluator.evaluate(f"[probe(), ({text})]", {"x": 1, "y": 2, "items": [], "order": {}, "width": 3})
    assert probe.calls == []


SCRIPT_ESCAPES = [
    ("import os", "import is not allowed"),
    ("from os import path", "import is not allowed"),
    ("def f(): pass", "function definition is not allowed"),
    ("class A: pass", "class definition is not allowed"),
    ("while True: pass", "while loop is not allowed"),
    ("try:\n    pass\nexcept: pass", "try is not allowed"),
    ("with x: pass", "with is not allowed"),
    ("raise ValueError", "raise is not allowed"),
    ("assert x", "assert is not allowed"),
    ("global x", "global is not allowed"),
    ("x: int = 1", "annotated assignment is not allowed"),
    ("return 1", "return is not allowed"),
    ("for i in items:\n    break", "break is not allowed"),
    ("for i in items:\n    pass\nelse:\n    pass", "for-else is not allowed"),
    ("x.attribute = 1", "only names, tuples of names and subscripts"),
    ("a, *rest = items", "only names, tuples of names and subscripts"),
    ("items[0:1] = [5]", "assigning to a slice is not allowed"),
    ("[1][0] = 5", "only items of a variable"),
    ("del x.attribute", "only names and subscripts"),
    ("x", "only function calls can be used as statements"),
    ("'a docstring'", "only function calls can be used as statements"),
    ("os = __import__('os')", "'__import__'"),
    ("__builtins__ = {}", "'__builtins__'"),
    ("items.append(1)", "method 'append' is not allowed"),
    ("x = 'a' * 10**9", "result longer than 1_000_000 items"),
    ("for i in range(10**9):\n    pass", "range longer than 100_000"),
    ("match x:\n    case 1:\n        pass", "match is not allowed"),
]


@pytest.mark.parametrize(("text", "reason"), SCRIPT_ESCAPES)
def test_script_escape_is_refused_before_running(evaluator, text, reason):
    with pytest.raises(ExpressionError) as caught:
        evaluator.check_script(text)
    assert reason in caught.value.reason
    data = {"x": 1, "items": [1]}
    with pytest.raises(ExpressionError):
        evaluator.execute(f"ran = True\n{text}", data)
    assert data == {"x": 1, "items": [1]}


@pytest.mark.parametrize(
    "text",
    [
        "(" * 500 + "1" + ")" * 500,
        "[" * 500 + "]" * 500,
        "[" * 150 + "]" * 150,
        "-" * 5000 + "1",
        "not " * 2400 + "x",
        "1" + "+1" * 4000,
        "f(" * 300 + ")" * 300,
    ],
)
def test_deep_nesting_is_an_expression_error(evaluator, text):
    with pytest.raises(ExpressionError):
        evaluator.check_expression(text)
    with pytest.raises(ExpressionError):
        evaluator.evaluate(text, {"x": 1})


def test_size_limits_on_text_and_nodes(evaluator):
    with pytest.raises(ExpressionError, match="longer than 10_000 characters"):
        evaluator.check_expression("1" * (MAX_TEXT_LENGTH + 1))
    with pytest.raises(ExpressionError, match="more than 2_000 syntax nodes"):
        evaluator.check_expression("[" + ", ".join(["x"] * 2500) + "]")
    with pytest.raises(ExpressionError, match="must be a string"):
        evaluator.check_expression(None)


def test_syntax_errors_are_expression_errors(evaluator):
    with pytest.raises(ExpressionError, match="syntax error"):
        evaluator.check_expression(">= 5")
    with pytest.raises(ExpressionError, match="syntax error"):
        evaluator.check_script("x = = 1")
    with pytest.raises(ExpressionError, match="syntax error"):
        evaluator.check_expression("x = 1")


# --- limits and failures at run time ----------------------------------------------------------------

RUNTIME_FAILURES = [
    ("1 / zero", "division by zero"),
    ("1 // zero", "division by zero"),
    ("1 % zero", "division by zero"),
    ("missing", "unknown name 'missing'"),
    ("order['k']", "key 'k' not found"),
    ("items[10]", "index out of range"),
    ("'a' + 1", "can only concatenate str"),
    ("None < 1", "not supported"),
    ("nothing['a']", "cannot subscript a NoneType"),
    ("int('abc')", "int() failed: invalid value"),
    ("items.get('a')", "method 'get' is not allowed on list"),
    ("order.lower()", "method 'lower' is not allowed on dict"),
    ("text * big", "result longer than 1_000_000 items"),
    ("big ** big", "exponent above 1_000"),
    (" * ".join(["three ** 999"] * 7), "integer larger than"),
    ("10.0 ** 400", "numeric overflow"),
    ("range(big)", "range longer than 100_000"),
    ("sum([[1], [2]])", "sum() failed"),
    ("sum([[1]], [])", "sum() failed"),
    ("'%s' % text", "string formatting is not allowed"),
    ("[a * b for a in range(1000) for b in range(1000)]", "more than 100_000 evaluation steps"),
    ("[text * 499_999 for i in range(11)]", "more than 10_000_000 items built"),
]


@pytest.mark.parametrize(("text", "reason"), RUNTIME_FAILURES)
def test_runtime_failure_is_an_expression_error(evaluator, text, reason):
    data = {"zero": 0, "order": {}, "items": [], "nothing": None, "text": "ab", "big": 10**6, "three": 3}
    evaluator.check_expression(text)
    with pytest.raises(ExpressionError) as caught:
        evaluator.evaluate(text, data)
    assert reason in caught.value.reason
    assert caught.value.expression == text


# --- scripts ---------------------------------------------------------------------------------------------


def test_script_statements(evaluator):
    logged = []
    evaluator.register("log", logged.append)
    data = {"a": 2, "b": 3, "order": {"lines": [{"qty": 1}, {"qty": 4}]}, "old": 1}
    evaluator.execute(
        "\n".join(
            [
                "total = a + b",
                "first, second = 'xy'",
                "left = right = 0",
                "order['count'] = len(order['lines'])",
                "order['lines'][0]['qty'] = 7",
                "order['lines'][1]['qty'] *= 2",
                "total += 10",
                "quantities = 0",
                "for line in order['lines']:",
                "    if line['qty'] > 7:",
                "        quantities += line['qty']",
                "    elif line['qty'] == 7:",
                "        quantities += 100",
                "    else:",
                "        pass",
                "for key, value in {'k': 1}.items():",
                "    pair = key + str(value)",
                "del old",
                "del order['count']",
                "log(total)",
            ]
        ),
        data,
    )
    assert data == {
        "a": 2,
        "b": 3,
        "order": {"lines": [{"qty": 7}, {"qty": 8}]},
        "total": 15,
        "first": "x",
        "second": "y",
        "left": 0,
        "right": 0,
        "quantities": 108,
        "line": {"qty": 8},
        "key": "k",
        "value": 1,
        "pair": "k1",
    }
    assert logged == [15]


def test_script_failure_names_the_line(evaluator):
    data = {}
    with pytest.raises(ExpressionError, match="^line 3: division by zero$"):
        evaluator.execute("a = 1\nif a:\n    b = a / 0\n", data)
    assert data == {"a": 1}


def test_script_runtime_errors(evaluator):
    for script, reason in [
        ("a, b = [1, 2, 3]", "cannot unpack 3 values into 2 names"),
        ("del missing", "unknown name 'missing'"),
        ("text[0] = 'x'", "cannot change an item of a str"),
        ("for i in range(100_000):\n    x = i", "evaluation steps"),
        ("s = 'ab'\nfor i in range(30):\n    s = s + s", "result longer than 1_000_000 items"),
        ("n = 3\nfor i in range(20):\n    n = n * n", "integer larger than"),
    ]:
        with pytest.raises(ExpressionError, match=reason):
            evaluator.execute(script, {"text": "abc"})


def test_script_cannot_assign_extra_names(evaluator):
    data = {}
    evaluator.execute("copy = limit + 1", data, {"limit": 1})
    assert data == {"copy": 2}
    with pytest.raises(ExpressionError, match="cannot assign to 'limit': it is read-only"):
        evaluator.execute("limit = 5", data, {"limit": 1})


# --- SpiffWorkflow integration -----------------------------------------------------------------------------

BPMN_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="definitions" targetNamespace="http://bpmn.io/schema/bpmn">
"""

ROUTING_BPMN = (
    BPMN_HEADER
    + """
  <bpmn:process id="routing" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to_sum" sourceRef="start" targetRef="add" />
    <bpmn:scriptTask id="add"><bpmn:script>total = a + b</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_gateway" sourceRef="add" targetRef="gateway" />
    <bpmn:exclusiveGateway id="gateway" default="to_small" />
    <bpmn:sequenceFlow id="to_big" sourceRef="gateway" targetRef="big">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">amount &gt; 100</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_small" sourceRef="gateway" targetRef="small" />
    <bpmn:scriptTask id="big"><bpmn:script>route = "big"</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="small"><bpmn:script>route = "small"</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="big_done" sourceRef="big" targetRef="end" />
    <bpmn:sequenceFlow id="small_done" sourceRef="small" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""
)

DECISION_BPMN = (
    BPMN_HEADER
    + """
  <bpmn:process id="rating" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to_decide" sourceRef="start" targetRef="decide" />
    <bpmn:businessRuleTask id="decide">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>rate</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="decide" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""
)


def _rule(number, rating, score, result):
    return f"""
      <rule id="rule{number}">
        <inputEntry id="rule{number}_rating"><text>{rating}</text></inputEntry>
        <inputEntry id="rule{number}_score"><text>{score}</text></inputEntry>
        <outputEntry id="rule{number}_result"><text>"{result}"</text></outputEntry>
      </rule>"""


RATING_DMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="rating_definitions"
    name="Ratings" namespace="http://example.org/dmn">
  <decision id="rate" name="Rate">
    <decisionTable id="rate_table">
      <input id="rating_input" label="Rating">
        <inputExpression id="rating_expression" typeRef="string"><text>rating</text></inputExpression>
      </input>
      <input id="score_input" label="Score">
        <inputExpression id="score_expression" typeRef="integer"><text>score</text></inputExpression>
      </input>
      <output id="result_output" label="Result" name="result" typeRef="string" />
      {_rule(1, '"HTXSNV"', "&gt;= 90", "excellent")}
      {_rule(2, '"HTXSNV"', "-", "very good")}
      {_rule(3, '"HTTNV"', "-", "good")}
      {_rule(4, 'in ["A", "B"]', "-", "letter")}
      {_rule(5, "-", "4 &lt; ? &lt; 6", "middling")}
      {_rule(6, "-", "-", "unknown")}
    </decisionTable>
  </decision>
</definitions>
"""


def _workflow(bpmn, process_id, data, evaluator=None, dmn=None):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(bpmn.encode())
    if dmn is not None:
        parser.add_dmn_str(dmn.encode())
    workflow = BpmnWorkflow(
        parser.get_spec(process_id),
        parser.get_subprocess_specs(process_id),
        script_engine=SafeScriptEngine(evaluator or Evaluator()),
    )
    workflow.get_next_task(state=TaskState.READY).data.update(data)
    return workflow


def _data_of(workflow, spec_name):
    return workflow.get_next_task(spec_name=spec_name).data


@pytest.mark.parametrize(("amount", "route"), [(150, "big"), (100, "small"), (5, "small")])
def test_gateway_condition_and_script_task(amount, route):
    workflow = _workflow(ROUTING_BPMN, "routing", {"a": 2, "b": 3, "amount": amount})
    workflow.do_engine_steps()
    assert workflow.is_completed()
    data = _data_of(workflow, "end")
    assert data["total"] == 5
    assert data["route"] == route


@pytest.mark.parametrize(
    ("rating", "score", "result"),
    [
        ("HTXSNV", 95, "excellent"),
        ("HTXSNV", 50, "very good"),
        ("HTTNV", 95, "good"),
        ("B", 0, "letter"),
        ("X", 5, "middling"),
        ("X", 7, "unknown"),
    ],
)
def test_decision_table(rating, score, result):
    workflow = _workflow(DECISION_BPMN, "rating", {"rating": rating, "score": score}, dmn=RATING_DMN)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert _data_of(workflow, "decide")["result"] == result


def test_decision_table_error_is_reported_with_the_task():
    workflow = _workflow(DECISION_BPMN, "rating", {"score": 1}, dmn=RATING_DMN)
    with pytest.raises(WorkflowTaskException, match="unknown name 'rating'") as caught:
        workflow.do_engine_steps()
    assert caught.value.error_type == "ExpressionError"
    assert isinstance(caught.value.__context__, ExpressionError)


def test_script_task_failure_propagates_as_expression_error():
    bpmn = ROUTING_BPMN.replace("total = a + b", "total = a / 0")
    workflow = _workflow(bpmn, "routing", {"a": 2, "b": 3, "amount": 1})
    with pytest.raises(ExpressionError, match="line 1: division by zero") as caught:
        workflow.do_engine_steps()
    assert "in task add" in caught.value.__notes__
    assert workflow.get_next_task(spec_name="add").state == TaskState.ERROR


def test_refused_script_in_a_diagram_raises_expression_error():
    bpmn = ROUTING_BPMN.replace("total = a + b", "import os")
    workflow = _workflow(bpmn, "routing", {"a": 2, "b": 3, "amount": 1})
    with pytest.raises(ExpressionError, match="import is not allowed"):
        workflow.do_engine_steps()


def test_other_engine_errors_are_wrapped_like_spiffworkflow_does(monkeypatch):
    workflow = _workflow(ROUTING_BPMN, "routing", {"a": 2, "b": 3, "amount": 1})
    task = workflow.get_next_task(state=TaskState.READY)

    def broken(*args):
        raise RuntimeError("bug")

    monkeypatch.setattr(workflow.script_engine.evaluator, "evaluate", broken)
    with pytest.raises(WorkflowTaskException, match="Error evaluating expression 'a'") as caught:
        workflow.script_engine.evaluate(task, "a")
    assert caught.value.task is task


def test_engine_validate_distinguishes_syntax_from_refusal():
    engine = SafeScriptEngine(Evaluator())
    engine.validate("score >= 5")
    with pytest.raises(SyntaxError):
        engine.validate(">= 5")
    with pytest.raises(ExpressionError, match="'__class__'"):
        engine.validate("x.__class__")
    with pytest.raises(ExpressionError):
        engine.validate("x" * (MAX_TEXT_LENGTH + 1))


def test_engine_evaluate_and_execute_use_task_data():
    class Task:
        data = {"amount": 150}

    engine = SafeScriptEngine(Evaluator())
    assert engine.evaluate(Task, "amount > value", {"value": 100}) is True
    assert engine.execute(Task, "doubled = amount * 2") is True
    assert Task.data == {"amount": 150, "doubled": 300}


def test_engine_refuses_service_calls():
    with pytest.raises(ExpressionError, match="service tasks are not run by the expression engine"):
        SafeScriptEngine(Evaluator()).call_service(None, operation_name="send")
