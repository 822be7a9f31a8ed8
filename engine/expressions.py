"""Safe evaluation of the expressions and scripts found in BPMN and DMN diagrams.

SpiffWorkflow's default script engine hands diagram text to eval/exec. Here the text is parsed with
`ast.parse` and the tree is interpreted by this module: only the constructs below exist, every name,
call and attribute is checked before anything runs, and budgets bound time and memory at run time.

Expressions: literals (no bytes), names, + - * / // % **, unary - + not, comparisons (chained, in,
is), and/or, `a if c else b`, subscripts and slices, f-strings, list/set/dict/generator
comprehensions, calls to registered functions and to the built-ins in `BUILTINS`, and the methods
in `_METHODS` on values of exactly those types. Scripts add assignments (to names, tuples of names
and subscripts of a name such as `a["k"][0] = 1`), augmented assignments, if/elif/else, for loops
without else, pass, `del` and calls as statements.

Names are looked up in comprehension variables, then `extra`, then `data`, then the registered
functions and the built-ins. A call `f(...)` always means the function named f, whatever the data
holds, and scripts may not assign to a function name.
"""

import ast
import functools
import keyword
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine

from .errors import ExpressionError

MAX_TEXT_LENGTH = 10_000
MAX_NODES = 2_000  # syntax nodes, not counting operators and load/store markers
MAX_DEPTH = 100
MAX_STEPS = 100_000  # node visits and loop iterations in one evaluation or script run
MAX_ITEMS = 1_000_000  # longest string, list or tuple a single operation may build
MAX_ALLOCATED = 10_000_000  # items built by all operations of one run together
MAX_EXPONENT = 1_000
MAX_INT_BITS = 10_000
MAX_RANGE = 100_000
MAX_FORMAT_WIDTH = 1_000
CACHE_SIZE = 4_096

_SEQUENCES = (str, list, tuple)
_SIZED = (str, list, tuple, dict, set, frozenset, range)
_SUBSCRIPTABLE = (str, list, tuple, dict, range)
_OPERATOR_NODES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_RUNTIME_ERRORS = (ArithmeticError, LookupError, TypeError, ValueError, RuntimeError)


class _LimitExceeded(ExpressionError):
    """A size or time budget was exceeded; refused at check time when the operands are constants."""


def _check_length(size: int) -> None:
    if size > MAX_ITEMS:
        raise _LimitExceeded(f"result longer than {MAX_ITEMS:_} items")


def _range(*args: int) -> range:
    values = range(*args)
    try:
        length = len(values)
    except OverflowError:
        length = MAX_RANGE + 1
    if length > MAX_RANGE:
        raise _LimitExceeded(f"range longer than {MAX_RANGE:_}")
    return values


def _sum(values: Iterable, /, start: int | float = 0) -> Any:
    """sum() of numbers only: summing lists is quadratic and builds unbounded data."""
    if not isinstance(start, (int, float)):
        raise TypeError("sum() start must be a number")
    return sum(values, start)


def _str_join(separator: str, parts: Iterable) -> str:
    parts = list(parts)
    _check_length(sum(len(part) for part in parts if isinstance(part, str)) + len(separator) * len(parts))
    return separator.join(parts)


def _str_replace(text: str, old: str, new: str, count: int = -1) -> str:
    if isinstance(old, str) and isinstance(new, str) and isinstance(count, int):
        matches = text.count(old) if old else len(text) + 1
        if count >= 0:
            matches = min(matches, count)
        _check_length(len(text) + matches * (len(new) - len(old)))
    return text.replace(old, new, count)


BUILTINS: dict[str, Callable] = {
    "len": len,
    "min": min,
    "max": max,
    "sum": _sum,
    "abs": abs,
    "round": round,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "sorted": sorted,
    "any": any,
    "all": all,
    "list": list,
    "dict": dict,
    "set": set,
    "tuple": tuple,
    "range": _range,
}

# Methods callable on values of exactly these types. Dict views come back as lists so that a
# script can store them in task data.
_METHODS: dict[type, dict[str, Callable]] = {
    str: {
        "lower": str.lower,
        "upper": str.upper,
        "strip": str.strip,
        "lstrip": str.lstrip,
        "rstrip": str.rstrip,
        "startswith": str.startswith,
        "endswith": str.endswith,
        "split": str.split,
        "join": _str_join,
        "replace": _str_replace,
    },
    dict: {
        "get": dict.get,
        "keys": lambda mapping: list(mapping.keys()),
        "values": lambda mapping: list(mapping.values()),
        "items": lambda mapping: list(mapping.items()),
    },
    list: {"count": list.count, "index": list.index},
}
_METHOD_NAMES = frozenset(name for methods in _METHODS.values() for name in methods)

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda left, right: left in right,
    ast.NotIn: lambda left, right: left not in right,
}
_CONVERSIONS = {ord("s"): str, ord("r"): repr, ord("a"): ascii}
_FORMAT_SPEC = re.compile(
    r"(?:.?[<>=^])?[+\- ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d+))?[bcdeEfFgGnosxX%]?", re.DOTALL
)

# How refusals name the constructs that have no check of their own.
_CONSTRUCTS = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.Lambda: "lambda",
    ast.FunctionDef: "function definition",
    ast.AsyncFunctionDef: "function definition",
    ast.ClassDef: "class definition",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.NamedExpr: "assignment expression (:=)",
    ast.While: "while loop",
    ast.Try: "try",
    ast.TryStar: "try",
    ast.With: "with",
    ast.AsyncWith: "with",
    ast.AsyncFor: "async for",
    ast.Raise: "raise",
    ast.Assert: "assert",
    ast.AnnAssign: "annotated assignment",
    ast.Return: "return",
    ast.Break: "break",
    ast.Continue: "continue",
    ast.Match: "match",
}


_REASONS = {
    ZeroDivisionError: "division by zero",
    IndexError: "index out of range",
    OverflowError: "numeric overflow",
    RecursionError: "data nested too deeply",
    ValueError: "invalid value",
}


def _describe(error: Exception) -> str:
    """A short reason for a run-time failure; of the data, only a missing key is quoted."""
    if isinstance(error, KeyError):
        return f"key {repr(error.args[0])[:60] if error.args else ''} not found"
    for kind, reason in _REASONS.items():
        if isinstance(error, kind):
            return reason
    return str(error) or type(error).__name__  # TypeError and RuntimeError messages name types, not values


class _Refusal(NamedTuple):
    reason: str
    syntax_error: bool = False


class _Interpreter:
    """Walks a checked tree for one evaluation or script run, counting steps and allocations."""

    def __init__(self, functions: Mapping[str, Callable], data: Mapping[str, Any], extra: Mapping[str, Any]):
        self.functions = functions
        self.data = data
        self.extra = extra
        self.scopes: tuple[dict[str, Any], ...] = ()  # comprehension variables, innermost last
        self.steps = 0
        self.allocated = 0
        self.line = 0  # line of the script statement being run

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _LimitExceeded(f"more than {MAX_STEPS:_} evaluation steps")

    def allocate(self, value: Any) -> Any:
        if isinstance(value, _SIZED):
            self.allocated += len(value)
            if self.allocated > MAX_ALLOCATED:
                raise _LimitExceeded(f"more than {MAX_ALLOCATED:_} items built")
        return value

    def iterate(self, iterable: Iterable) -> Iterable:
        for item in iterable:
            self.step()
            yield item

    def lookup(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        for names in (self.extra, self.data, self.functions, BUILTINS):
            if name in names:
                return names[name]
        raise ExpressionError(f"unknown name {name!r}")

    def eval(self, node: ast.expr) -> Any:
        self.step()
        return self._EVALUATE[type(node)](self, node)

    def in_scope(self, scopes: tuple[dict[str, Any], ...], node: ast.expr) -> Any:
        saved, self.scopes = self.scopes, scopes
        try:
            return self.eval(node)
        finally:
            self.scopes = saved

    def elements(self, nodes: list[ast.expr]) -> list:
        values = []
        for node in nodes:
            if isinstance(node, ast.Starred):
                values.extend(self.iterate(self.eval(node.value)))
            else:
                values.append(self.eval(node))
        return values

    def binary(self, op: type, left: Any, right: Any) -> Any:
        if op is ast.Mult:
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, _SEQUENCES) and isinstance(count, int):
                    _check_length(len(sequence) * count)
        elif op is ast.Add and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            _check_length(len(left) + len(right))
        elif op is ast.Pow and isinstance(left, (int, float)) and isinstance(right, (int, float)):
            if right > MAX_EXPONENT:
                raise _LimitExceeded(f"exponent above {MAX_EXPONENT:_}")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() * right > MAX_INT_BITS:
                raise _LimitExceeded("power too large")
        elif op is ast.Mod and isinstance(left, str):
            raise ExpressionError("'%' string formatting is not allowed; use an f-string")
        result = _BINARY[op](left, right)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise _LimitExceeded(f"integer larger than {MAX_INT_BITS:_} bits")
        return self.allocate(result)

    def comprehension(self, generators: list[ast.comprehension]) -> Iterable[tuple[dict[str, Any], ...]]:
        """Yield the scope chain once per combination of loop values that passes the filters.

        The loop variables live in a scope of their own, so they never reach the data."""
        outer = self.scopes
        local: dict[str, Any] = {}
        inner = outer + (local,)

        def loop(index: int) -> Iterable[tuple[dict[str, Any], ...]]:
            if index == len(generators):
                yield inner
                return
            generator = generators[index]
            iterable = self.in_scope(outer if index == 0 else inner, generator.iter)
            for item in self.iterate(iterable):
                self.store(generator.target, item, local)
                if all(self.in_scope(inner, condition) for condition in generator.ifs):
                    yield from loop(index + 1)

        return loop(0)

    def container(self, target: ast.Subscript) -> tuple[dict | list, Any]:
        """The dict or list and the key that a subscript target such as `a["k"][0]` changes."""
        container = self.eval(target.value)
        if not isinstance(container, (dict, list)):
            raise ExpressionError(f"cannot change an item of a {type(container).__name__}")
        return container, self.eval(target.slice)

    def store(self, target: ast.expr, value: Any, names: dict[str, Any]) -> None:
        """Bind `value` to a checked target; names go into `names` (the data or a comprehension scope)."""
        if isinstance(target, ast.Name):
            if names is self.data and target.id in self.extra:
                raise ExpressionError(f"cannot assign to {target.id!r}: it is read-only")
            names[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = list(self.iterate(value))
            if len(values) != len(target.elts):
                raise ExpressionError(f"cannot unpack {len(values)} values into {len(target.elts)} names")
            for element, item in zip(target.elts, values, strict=True):
                self.store(element, item, names)
        else:
            container, key = self.container(target)
            container[key] = value

    def run(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.line = statement.lineno
            self.step()
            self._EXECUTE[type(statement)](self, statement)

    def values(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> Iterable:
        return (self.in_scope(scopes, node.elt) for scopes in self.comprehension(node.generators))

    def _dict(self, node: ast.Dict) -> dict:
        result = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:  # {**mapping}
                result.update(self.eval(value))
            else:
                result[self.eval(key)] = self.eval(value)
        return result

    def _boolop(self, node: ast.BoolOp) -> Any:
        stop_on = isinstance(node.op, ast.Or)  # `or` stops at the first true value, `and` at the first false one
        for operand in node.values:
            value = self.eval(operand)
            if bool(value) is stop_on:
                return value
        return value

    def _compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, operand in zip(node.ops, node.comparators, strict=True):
            right = self.eval(operand)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _subscript(self, node: ast.Subscript) -> Any:
        container = self.eval(node.value)
        if not isinstance(container, _SUBSCRIPTABLE):
            raise ExpressionError(f"cannot subscript a {type(container).__name__}")
        item = container[self.eval(node.slice)]
        return self.allocate(item) if isinstance(node.slice, ast.Slice) else item

    def _formattedvalue(self, node: ast.FormattedValue) -> str:
        value = self.eval(node.value)
        if node.conversion != -1:
            value = _CONVERSIONS[node.conversion](value)
        spec = "" if node.format_spec is None else "".join(part.value for part in node.format_spec.values)
        return format(value, spec)

    def _call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Attribute):
            receiver = self.eval(node.func.value)
            name = node.func.attr
            function = _METHODS.get(type(receiver), {}).get(name)
            if function is None:
                raise ExpressionError(f"method {name!r} is not allowed on {type(receiver).__name__}")
            args = [receiver]
        else:
            name = node.func.id
            function = self.functions[name] if name in self.functions else BUILTINS[name]
            args = []
        args += self.elements(node.args)
        kwargs = {argument.arg: self.eval(argument.value) for argument in node.keywords}
        try:
            result = function(*args, **kwargs)
        except ExpressionError:
            raise
        except Exception as error:
            raise ExpressionError(f"{name}() failed: {_describe(error)}") from error
        return self.allocate(result)

    _EVALUATE = {
        ast.Constant: lambda self, node: node.value,
        ast.Name: lambda self, node: self.lookup(node.id),
        ast.List: lambda self, node: self.elements(node.elts),
        ast.Tuple: lambda self, node: tuple(self.elements(node.elts)),
        ast.Set: lambda self, node: set(self.elements(node.elts)),
        ast.Dict: _dict,
        ast.BinOp: lambda self, node: self.binary(type(node.op), self.eval(node.left), self.eval(node.right)),
        ast.UnaryOp: lambda self, node: _UNARY[type(node.op)](self.eval(node.operand)),
        ast.BoolOp: _boolop,
        ast.Compare: _compare,
        ast.IfExp: lambda self, node: self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse),
        ast.Subscript: _subscript,
        ast.Slice: lambda self, node: slice(
            *(None if part is None else self.eval(part) for part in (node.lower, node.upper, node.step))
        ),
        ast.JoinedStr: lambda self, node: self.allocate("".join(self.eval(part) for part in node.values)),
        ast.FormattedValue: _formattedvalue,
        ast.Call: _call,
        ast.ListComp: lambda self, node: list(self.values(node)),
        ast.SetComp: lambda self, node: set(self.values(node)),
        ast.GeneratorExp: lambda self, node: self.values(node),
        ast.DictComp: lambda self, node: {
            self.in_scope(scopes, node.key): self.in_scope(scopes, node.value)
            for scopes in self.comprehension(node.generators)
        },
    }

    def _assign(self, node: ast.Assign) -> None:
        value = self.eval(node.value)
        for target in node.targets:
            self.store(target, value, self.data)

    def _augassign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            value = self.binary(type(node.op), self.lookup(node.target.id), self.eval(node.value))
            self.store(node.target, value, self.data)
        else:
            container, key = self.container(node.target)
            container[key] = self.binary(type(node.op), container[key], self.eval(node.value))

    def _for(self, node: ast.For) -> None:
        for item in self.iterate(self.eval(node.iter)):
            self.store(node.target, item, self.data)
            self.run(node.body)

    def _delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                if target.id not in self.data:
                    raise ExpressionError(f"unknown name {target.id!r}")
                del self.data[target.id]
            else:
                container, key = self.container(target)
                del container[key]

    _EXECUTE = {
        ast.Assign: _assign,
        ast.AugAssign: _augassign,
        ast.If: lambda self, node: self.run(node.body if self.eval(node.test) else node.orelse),
        ast.For: _for,
        ast.Pass: lambda self, node: None,
        ast.Expr: lambda self, node: self.eval(node.value),
        ast.Delete: _delete,
    }


class _Checker:
    """Refuses, before anything runs, every construct the interpreter does not implement."""

    def __init__(self, function_names: frozenset[str]):
        self.function_names = function_names

    def check(self, node: ast.AST) -> None:
        check = self._CHECKS.get(type(node))
        if check is None:
            raise ExpressionError(f"{_CONSTRUCTS.get(type(node), type(node).__name__)} is not allowed")
        check(self, node)

    def children(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _OPERATOR_NODES):
                self.check(child)

    @staticmethod
    def identifier(name: str) -> None:
        if name.startswith("_"):
            raise ExpressionError(f"name {name!r} is not allowed: names starting with '_' are reserved")

    def target(self, target: ast.expr, subscripts: bool) -> None:
        """A name, a tuple of names or, for statements, a subscript of a name such as `a["k"][0]`."""
        if isinstance(target, ast.Name):
            self.check(target)
        elif isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(name, ast.Name) for name in target.elts):
            self.children(target)
        elif subscripts and isinstance(target, ast.Subscript):
            if isinstance(target.slice, ast.Slice):
                raise ExpressionError("assigning to a slice is not allowed")
            root = target
            while isinstance(root, ast.Subscript):
                root = root.value
            if not isinstance(root, ast.Name):
                raise ExpressionError("only items of a variable can be assigned, e.g. a['k'] = 1")
            self.children(target)
        else:
            raise ExpressionError("only names, tuples of names and subscripts of a name can be assigned")

    def _constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bytes) or node.value is Ellipsis:
            raise ExpressionError(f"the literal {node.value!r} is not allowed")

    def _name(self, node: ast.Name) -> None:
        self.identifier(node.id)
        if not isinstance(node.ctx, ast.Load) and node.id in self.function_names:
            raise ExpressionError(f"cannot assign to {node.id!r}: it is a function")

    def _attribute(self, node: ast.Attribute) -> None:  # method calls are checked by _call
        self.check(node.value)  # so that the leftmost refused part is reported
        raise ExpressionError(f"attribute access is not allowed ({node.attr!r})")

    def _call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name):
            self.identifier(node.func.id)
            if node.func.id not in self.function_names:
                raise ExpressionError(f"function {node.func.id!r} is not allowed")
        elif isinstance(node.func, ast.Attribute):
            self.check(node.func.value)
            if node.func.attr not in _METHOD_NAMES:
                raise ExpressionError(f"method {node.func.attr!r} is not allowed")
        else:
            raise ExpressionError("only named functions and allowed methods can be called")
        for argument in node.args:
            self.check(argument)
        for argument in node.keywords:
            if argument.arg is None:
                raise ExpressionError("** argument unpacking is not allowed")
            self.identifier(argument.arg)
            self.check(argument.value)

    def _operator(self, node: ast.BinOp | ast.UnaryOp | ast.AugAssign) -> None:
        if type(node.op) not in _BINARY and type(node.op) not in _UNARY:
            raise ExpressionError(f"the {type(node.op).__name__} operator is not allowed")
        self.children(node)

    def _formattedvalue(self, node: ast.FormattedValue) -> None:
        self.check(node.value)
        if node.format_spec is None:
            return
        if not all(isinstance(part, ast.Constant) for part in node.format_spec.values):
            raise ExpressionError("computed format specifications are not allowed")
        spec = "".join(part.value for part in node.format_spec.values)
        match = _FORMAT_SPEC.fullmatch(spec)
        if match is None or any(int(size) > MAX_FORMAT_WIDTH for size in match.groups() if size):
            raise ExpressionError(f"format specification {spec!r} is not allowed")

    def _comprehension(self, node: ast.comprehension) -> None:
        if node.is_async:
            raise ExpressionError("async comprehensions are not allowed")
        self.target(node.target, subscripts=False)
        self.check(node.iter)
        for condition in node.ifs:
            self.check(condition)

    def _assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.target(target, subscripts=True)
        self.check(node.value)

    def _augassign(self, node: ast.AugAssign) -> None:
        self.target(node.target, subscripts=True)
        self._operator(node)

    def _for(self, node: ast.For) -> None:
        if node.orelse:
            raise ExpressionError("for-else is not allowed")
        self.target(node.target, subscripts=False)
        self.check(node.iter)
        for statement in node.body:
            self.check(statement)

    def _delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if not isinstance(target, (ast.Name, ast.Subscript)):
                raise ExpressionError("only names and subscripts of a name can be deleted")
            self.target(target, subscripts=True)

    def _expr(self, node: ast.Expr) -> None:
        if not isinstance(node.value, ast.Call):
            raise ExpressionError("only function calls can be used as statements")
        self.check(node.value)

    _CHECKS = {
        ast.Expression: children,
        ast.Module: children,
        ast.Constant: _constant,
        ast.Name: _name,
        ast.Attribute: _attribute,
        ast.Call: _call,
        ast.BinOp: _operator,
        ast.UnaryOp: _operator,
        ast.FormattedValue: _formattedvalue,
        ast.comprehension: _comprehension,
        ast.List: children,
        ast.Tuple: children,
        ast.Set: children,
        ast.Dict: children,
        ast.BoolOp: children,
        ast.Compare: children,
        ast.IfExp: children,
        ast.Subscript: children,
        ast.Slice: children,
        ast.Starred: children,
        ast.JoinedStr: children,
        ast.ListComp: children,
        ast.SetComp: children,
        ast.DictComp: children,
        ast.GeneratorExp: children,
        ast.Assign: _assign,
        ast.AugAssign: _augassign,
        ast.If: children,
        ast.For: _for,
        ast.Pass: children,
        ast.Expr: _expr,
        ast.Delete: _delete,
    }


def _check_shape(tree: ast.AST) -> None:
    """Refuse trees too big or too deep, without recursing, before anything walks them recursively."""
    nodes = 0
    pending = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ExpressionError(f"more than {MAX_NODES:_} syntax nodes")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"nested deeper than {MAX_DEPTH} levels")
        children = ast.iter_child_nodes(node)
        pending.extend((child, depth + 1) for child in children if not isinstance(child, _OPERATOR_NODES))


def _is_constant(node: ast.AST) -> bool:
    """Whether `node` computes the same value whatever the data: built-ins and methods on constants."""
    if isinstance(node, ast.Call):
        func = node.func
        arguments = [*node.args, *(argument.value for argument in node.keywords)]
        callee = (isinstance(func, ast.Name) and func.id in BUILTINS) or (
            isinstance(func, ast.Attribute) and _is_constant(func.value)
        )
        return callee and all(map(_is_constant, arguments))
    return isinstance(node, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.List, ast.Tuple, ast.Set)) and all(
        _is_constant(child) for child in ast.iter_child_nodes(node) if not isinstance(child, _OPERATOR_NODES)
    )


def _refuse_oversized_constants(node: ast.AST) -> None:
    """Compute constant parts such as `10 ** 10 ** 10` or `'a' * 10 ** 9` so that breaking a size
    limit is refused at check time; other failures (e.g. `1 / 0`) are left to run time."""
    if isinstance(node, (ast.BinOp, ast.Call)) and _is_constant(node):
        try:
            _Interpreter({}, {}, {}).eval(node)
        except _LimitExceeded:
            raise
        except (ExpressionError, *_RUNTIME_ERRORS):
            pass
        return
    for child in ast.iter_child_nodes(node):
        _refuse_oversized_constants(child)


class Evaluator:
    """Checks and runs expressions ("eval" mode) and scripts ("exec" mode); see the module docstring."""

    def __init__(self, functions: Mapping[str, Callable] | None = None):
        self._functions: dict[str, Callable] = {}
        self._compile = functools.lru_cache(maxsize=CACHE_SIZE)(self._parse_and_check)
        for name, function in (functions or {}).items():
            self.register(name, function)

    def register(self, name: str, function: Callable) -> None:
        """Make `function` callable from expressions as `name(...)`."""
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ValueError(f"invalid function name {name!r}")
        if name in BUILTINS:
            raise ValueError(f"{name!r} is a built-in function")
        if not callable(function):
            raise TypeError(f"function {name!r} is not callable")
        self._functions[name] = function
        self._compile.cache_clear()  # checks depend on which functions exist

    @property
    def function_names(self) -> frozenset[str]:
        """Names of the registered functions (the built-ins are not included)."""
        return frozenset(self._functions)

    def check_expression(self, text: str) -> None:
        self._checked("eval", text)

    def check_script(self, text: str) -> None:
        self._checked("exec", text)

    def evaluate(self, text: str, data: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Any:
        """The value of the expression `text`; `data` and `extra` are read, never changed."""
        tree = self._checked("eval", text)
        interpreter = _Interpreter(self._functions, data, extra or {})
        return self._run(text, interpreter, lambda: interpreter.eval(tree.body))

    def execute(self, text: str, data: dict[str, Any], extra: Mapping[str, Any] | None = None) -> None:
        """Run the script `text`; the variables it assigns or deletes change `data`. Names in `extra`
        can be read but not assigned."""
        tree = self._checked("exec", text)
        interpreter = _Interpreter(self._functions, data, extra or {})
        self._run(text, interpreter, lambda: interpreter.run(tree.body))

    def _compiled(self, mode: str, text: str) -> ast.AST | _Refusal:
        if not isinstance(text, str):
            return _Refusal("expression text must be a string")
        if len(text) > MAX_TEXT_LENGTH:
            return _Refusal(f"longer than {MAX_TEXT_LENGTH:_} characters")
        return self._compile(mode, text)

    def _checked(self, mode: str, text: str) -> ast.AST:
        tree = self._compiled(mode, text)
        if isinstance(tree, _Refusal):
            raise ExpressionError(tree.reason, text)
        return tree

    def _parse_and_check(self, mode: str, text: str) -> ast.AST | _Refusal:
        """Parse and check `text`. Cached, so refusals are returned rather than raised."""
        try:
            # eval() ignores leading blanks, and diagram text often has some
            tree = ast.parse(text.strip() if mode == "eval" else text, mode=mode)
        except SyntaxError as error:
            return _Refusal(f"syntax error: {error.msg} (line {error.lineno})", syntax_error=True)
        except (RecursionError, MemoryError):
            return _Refusal("nested too deeply to parse", syntax_error=True)
        try:
            _check_shape(tree)
            _Checker(frozenset(self._functions) | BUILTINS.keys()).check(tree)
            _refuse_oversized_constants(tree)
        except ExpressionError as error:
            return _Refusal(error.reason)
        return tree

    @staticmethod
    def _run(text: str, interpreter: _Interpreter, action: Callable[[], Any]) -> Any:
        """Run `action`, turning every failure into an ExpressionError for `text`."""
        try:
            return action()
        except ExpressionError as error:
            reason, cause = error.reason, error
        except _RUNTIME_ERRORS as error:
            reason, cause = _describe(error), error
        if interpreter.line:
            reason = f"line {interpreter.line}: {reason}"
        raise ExpressionError(reason, text) from cause


class _EvaluatorEnvironment(BasePythonScriptEngineEnvironment):
    """Runs SpiffWorkflow's expressions and scripts with an Evaluator; task data is the scope."""

    def __init__(self, evaluator: Evaluator):
        super().__init__()
        self.evaluator = evaluator

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Mapping | None = None):
        return self.evaluator.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping | None = None) -> bool:
        self.evaluator.execute(script, context, external_context)
        return True  # SpiffWorkflow completes a script task only when its script returns True


def _space_dmn_cell(task, expression: str) -> str:
    """SpiffWorkflow's DMN engine appends a cell such as `in ["A", "B"]` to the input expression
    without a space, giving `ratingin ["A", "B"]`. Put the space back when `expression` is exactly
    an input expression of the task's decision table followed by one of that input's cells."""
    engine = getattr(getattr(task, "task_spec", None), "dmnEngine", None)
    if engine is None:
        return expression
    for table_input in engine.decision_table.inputs:
        prefix = table_input.expression or ""
        cell = expression[len(prefix) :]
        if not (prefix and expression.startswith(prefix) and re.fullmatch(r"\w\w", prefix[-1] + cell[:1])):
            continue
        for rule in engine.decision_table.rules:
            if any(entry.input is table_input and cell in entry.lhs for entry in rule.inputEntries):
                return f"{prefix} {cell}"
    return expression


class SafeScriptEngine(PythonScriptEngine):
    """Plugs the Evaluator into SpiffWorkflow.

    ExpressionError (refused text or a failure while evaluating) propagates unwrapped, with a note
    naming the task; anything else is wrapped in WorkflowTaskException as PythonScriptEngine does.
    Task data is the variable scope; `external_context` (data objects, DMN's `dmninputexpr`) is
    read-only.
    """

    def __init__(self, evaluator: Evaluator):
        super().__init__(environment=_EvaluatorEnvironment(evaluator))
        self.evaluator = evaluator

    def validate(self, expression: str) -> None:
        """Raise SyntaxError if `expression` does not parse (the DMN engine relies on it), and
        ExpressionError if it parses but is refused."""
        tree = self.evaluator._compiled("eval", expression)
        if isinstance(tree, _Refusal):
            if tree.syntax_error:
                raise SyntaxError(tree.reason)
            raise ExpressionError(tree.reason, expression)

    def evaluate(self, task, expression, external_context=None):
        expression = _space_dmn_cell(task, expression)
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as error:
            error.add_note(f"in task {task.task_spec.name}")
            raise
        except Exception as error:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}'", task=task, exception=error
            ) from error

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context)
        except ExpressionError as error:
            error.add_note(f"in task {task.task_spec.name}")
            raise
        except Exception as error:
            raise self.create_task_exec_exception(task, script, error) from error

    def call_service(self, task, **kwargs):
        raise ExpressionError("service tasks are not run by the expression engine")
