"""Formulas of value equations, in a small safe expression language.

A value equation says how much each contribution claims with a formula written
by its members in YAML: ``hours * rate``, ``min(value, 5000) * 1.5``,
``quantity * 0.25 + max(0, value - 100)``. Sensorica's NRP ran such formulas
with Python's ``eval``, which let a formula reach any Python object and let a
typo end in a traceback. Here a formula is text in a language of its own:

* decimal numbers (``12``, ``0.25``; at most 15 digits before the point, no
  exponent notation such as ``1e5``), field names (``[A-Za-z_][A-Za-z0-9_]*``);
* ``+ - * /`` with the usual precedence, left associative; unary ``-`` and
  ``+``; parentheses;
* ``min(a, b, ...)`` and ``max(a, b, ...)`` with one or more arguments.

Nothing else: no attribute access, subscripts, strings, other calls, powers,
comparisons or keywords. A formula is at most :data:`MAX_LENGTH` characters and
nests parentheses, calls and signs at most :data:`MAX_DEPTH` deep.

The tokenizer and the recursive-descent parser are written by hand rather than
by whitelisting the nodes of Python's own grammar (``ast``). The dedicated
grammar is much smaller than Python's, so there is far less to check; every
refusal names the formula, the column where it went wrong and what was
expected there; and the parse tree holds only numbers, names and operators, so
no Python object is ever reachable from a formula. Nothing here calls
``eval``, ``exec`` or ``compile``.

A :class:`Formula` is evaluated two ways over the same tree: exactly, in
:class:`~decimal.Decimal` with a private context of 34 digits
(:meth:`Formula.evaluate`), and vectorised over float64 columns with NumPy for
millions of events (:meth:`Formula.evaluate_columns`).

>>> formula = compile_formula("min(value, 5000) * 1.5 + hours * rate")
>>> sorted(formula.names)
['hours', 'rate', 'value']
>>> formula.evaluate({"value": 6000, "hours": "2", "rate": Decimal("40.25")})
Decimal('7580.50')
>>> compile_formula("2 ** 10")
Traceback (most recent call last):
    ...
glia.ledger._expr.FormulaError: formula '2 ** 10', column 3: powers ('**') are not part ...
"""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any, Literal, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_DEPTH",
    "MAX_INTEGER_DIGITS",
    "MAX_LENGTH",
    "Formula",
    "FormulaError",
    "compile_formula",
]

#: The longest formula accepted, in characters.
MAX_LENGTH = 1000

#: The deepest nesting accepted: each pair of parentheses, each call of
#: ``min``/``max`` and each unary sign is one level.
MAX_DEPTH = 50

#: The most digits a number may have before its decimal point (leading zeros
#: not counted).
MAX_INTEGER_DIGITS = 15

#: The functions a formula may call.
FUNCTIONS = ("max", "min")

_DIGITS = frozenset("0123456789")
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | _DIGITS
_SPACE = frozenset(" \t\r\n")

_OPERAND = "a number, a field name, min(...), max(...), '(' or a sign"
_AFTER_OPERAND = {
    "top": "an operator (+ - * /) or the end of the formula",
    "paren": "an operator (+ - * /) or ')'",
    "call": "an operator (+ - * /), ',' or ')'",
}

Float: TypeAlias = npt.NDArray[np.float64]


class FormulaError(ValueError):
    """A formula that cannot be compiled or evaluated.

    ``formula`` is the formula's text and ``column`` the 1-based position of
    the character where it went wrong (``None`` when no one place is at fault,
    as for a value that is not a number).
    """

    def __init__(self, message: str, formula: str = "", column: int | None = None) -> None:
        super().__init__(message)
        self.formula = formula
        self.column = column

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.formula, self.column))


def _show(text: str) -> str:
    """The formula as messages quote it (long ones cut)."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _error(text: str, column: int | None, reason: str, expected: str | None = None) -> FormulaError:
    where = f"formula {_show(text)}" + ("" if column is None else f", column {column}")
    message = f"{where}: {reason}" + ("" if expected is None else f"; expected {expected}")
    return FormulaError(message, text, column)


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True, slots=True)
class _Num:
    value: Decimal
    column: int


@dataclass(frozen=True, slots=True)
class _Name:
    name: str
    column: int


@dataclass(frozen=True, slots=True)
class _Neg:
    operand: _Node
    column: int


@dataclass(frozen=True, slots=True)
class _Chain:
    """``first op1 x1 op2 x2 ...``, evaluated left to right (one precedence level)."""

    first: _Node
    rest: tuple[tuple[str, int, _Node], ...]  # (operator, column, operand)


@dataclass(frozen=True, slots=True)
class _Call:
    function: Literal["min", "max"]
    args: tuple[_Node, ...]
    column: int


_Node: TypeAlias = "_Num | _Name | _Neg | _Chain | _Call"


# ---------------------------------------------------------------------- tokenizer


class _Token(NamedTuple):
    kind: Literal["num", "name", "op", "end", "bad", "badnum"]
    text: str  # for "bad" and "badnum": why the text here is refused
    column: int


def _describe(token: _Token) -> str:
    if token.kind == "num":
        return f"number {token.text}"
    if token.kind == "name":
        return f"name {token.text!r}"
    if token.kind == "end":
        return "the end of the formula"
    return repr(token.text)


def _keyword(word: str) -> str:
    if word in ("if", "else"):
        return f"conditional expressions ({word!r}) are not part of the formula language"
    if word == "lambda":
        return "'lambda' is not part of the formula language"
    if word in ("and", "or", "not", "in", "is"):
        return f"comparisons and logic ({word!r}) are not part of the formula language"
    return f"{word!r} is a Python keyword, not part of the formula language"


def _tokenize(text: str) -> list[_Token]:
    """Tokens up to the end, or up to and including the first refused one."""
    tokens: list[_Token] = []
    n = len(text)
    i = 0

    def bad(reason: str, start: int, number: bool = False) -> list[_Token]:
        """Refuse the text at ``start``: a malformed number, or something else."""
        tokens.append(_Token("badnum" if number else "bad", reason, start + 1))
        return tokens

    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
        elif c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS):
            j = i
            while j < n and text[j] in _DIGITS:
                j += 1
            whole = text[i:j]
            if j < n and text[j] == ".":
                j += 1
                while j < n and text[j] in _DIGITS:
                    j += 1
            nxt = text[j] if j < n else ""
            sign = 1 if text[j + 1 : j + 2] in ("+", "-") else 0
            if nxt in ("e", "E") and text[j + 1 + sign : j + 2 + sign] in _DIGITS:
                k = j + 2
                while k < n and text[k] in _DIGITS:
                    k += 1
                return bad(
                    f"exponent notation ({text[i:k]!r}) is not part of the formula language; "
                    f"write the number in plain digits",
                    i,
                    number=True,
                )
            if nxt == "_":
                return bad(
                    "digit separators ('_') are not part of the formula language; "
                    "write the digits without '_'",
                    j,
                    number=True,
                )
            if nxt in _NAME_CHARS:
                k = j
                while k < n and text[k] in _NAME_CHARS:
                    k += 1
                return bad(
                    f"a number cannot run into a name ({text[i:k]!r}); "
                    f"put an operator between them",
                    i,
                    number=True,
                )
            if nxt == ".":
                return bad("a number has at most one decimal point", j, number=True)
            if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
                return bad(
                    f"the number {text[i:j]} has {len(whole.lstrip('0'))} digits before the "
                    f"point; at most {MAX_INTEGER_DIGITS} are allowed",
                    i,
                    number=True,
                )
            tokens.append(_Token("num", text[i:j], i + 1))
            i = j
        elif c in _NAME_START:
            j = i
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            word = text[i:j]
            if keyword.iskeyword(word):
                return bad(_keyword(word), i)
            tokens.append(_Token("name", word, i + 1))
            i = j
        elif c == "*" and text[i + 1 : i + 2] == "*":
            return bad("powers ('**') are not part of the formula language", i)
        elif c == "/" and text[i + 1 : i + 2] == "/":
            return bad("floor division ('//') is not part of the formula language", i)
        elif c in "+-*/(),":
            tokens.append(_Token("op", c, i + 1))
            i += 1
        elif c == ".":
            after_operand = bool(tokens) and (
                tokens[-1].kind in ("num", "name") or tokens[-1].text == ")"
            )
            if after_operand:
                return bad("attribute access ('.') is not part of the formula language", i)
            return bad("a '.' must be part of a number such as 0.5", i)
        elif c in "'\"":
            return bad("strings are not part of the formula language", i)
        elif c in "[]":
            return bad("subscripts ('[...]') are not part of the formula language", i)
        elif c in "<>=!":
            j = i
            while j < n and text[j] in "<>=!":
                j += 1
            return bad(
                f"comparisons and assignments ({text[i:j]!r}) are not part of the formula language",
                i,
            )
        elif c == "%":
            return bad("the remainder ('%') is not part of the formula language", i)
        else:
            return bad(f"the character {c!r} is not part of the formula language", i)
    tokens.append(_Token("end", "", n + 1))
    return tokens


# ------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over the grammar::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := ("-" | "+") unary | primary
    primary := NUMBER | NAME | ("min" | "max") "(" expr ("," expr)* ")" | "(" expr ")"
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.names: set[str] = set()

    def peek(self) -> _Token:
        return self.tokens[min(self.pos, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.pos += 1
        return token

    def fail(self, token: _Token, reason: str, expected: str | None = None) -> FormulaError:
        return _error(self.text, token.column, reason, expected)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                token,
                f"the formula nests deeper than {MAX_DEPTH} levels "
                f"(parentheses, calls and signs each count)",
            )

    def parse(self) -> _Node:
        node = self.expr()
        self.close("top", None)
        return node

    def close(self, context: Literal["top", "paren", "call"], opened: _Token | None) -> _Token:
        """Check the token after a complete expression and take it."""
        token = self.peek()
        expected = _AFTER_OPERAND[context]
        if token.kind == "bad":
            raise self.fail(token, token.text, expected)
        if token.kind == "badnum":
            raise self.fail(token, token.text)
        if token.kind == "end":
            if opened is None:
                return token
            raise self.fail(
                token, f"the '(' at column {opened.column} is never closed", "')' before the end"
            )
        if token.text == ")" and context != "top":
            return self.take()
        if token.text == "," and context == "call":
            return self.take()
        if token.text == ")":
            raise self.fail(token, "this ')' closes no '('", expected)
        if token.text == ",":
            raise self.fail(
                token, "',' only separates the arguments of min(...) and max(...)", expected
            )
        raise self.fail(token, f"unexpected {_describe(token)}", expected)

    def expr(self) -> _Node:
        first = self.term()
        rest: list[tuple[str, int, _Node]] = []
        while self.peek().kind == "op" and self.peek().text in "+-":
            op = self.take()
            rest.append((op.text, op.column, self.term()))
        return _Chain(first, tuple(rest)) if rest else first

    def term(self) -> _Node:
        first = self.unary()
        rest: list[tuple[str, int, _Node]] = []
        while self.peek().kind == "op" and self.peek().text in "*/":
            op = self.take()
            rest.append((op.text, op.column, self.unary()))
        return _Chain(first, tuple(rest)) if rest else first

    def unary(self) -> _Node:
        token = self.peek()
        if token.kind == "op" and token.text in "+-":
            self.take()
            self.enter(token)
            operand = self.unary()
            self.depth -= 1
            return _Neg(operand, token.column) if token.text == "-" else operand
        return self.primary()

    def primary(self) -> _Node:
        token = self.take()
        if token.kind == "num":
            return _Num(Decimal(token.text), token.column)
        if token.kind == "name":
            called = self.peek().kind == "op" and self.peek().text == "("
            if token.text in FUNCTIONS:
                if not called:
                    raise self.fail(
                        token,
                        f"{token.text} is a function: write {token.text}(a, b, ...)",
                        f"'(' after {token.text}",
                    )
                return self.call(token)
            if called:
                raise self.fail(
                    token,
                    f"only min(...) and max(...) can be called, not {token.text!r}",
                )
            self.names.add(token.text)
            return _Name(token.text, token.column)
        if token.kind == "op" and token.text == "(":
            self.enter(token)
            node = self.expr()
            self.close("paren", token)
            self.depth -= 1
            return node
        if token.kind == "bad":
            raise self.fail(token, token.text, _OPERAND)
        if token.kind == "badnum":
            raise self.fail(token, token.text)
        if token.kind == "end":
            raise self.fail(token, "the formula ends too early", _OPERAND)
        raise self.fail(token, f"unexpected {_describe(token)}", _OPERAND)

    def call(self, name: _Token) -> _Call:
        opened = self.take()
        self.enter(opened)
        if self.peek().kind == "op" and self.peek().text == ")":
            raise self.fail(self.peek(), f"{name.text}() needs at least one argument", _OPERAND)
        args = [self.expr()]
        while self.close("call", opened).text == ",":
            args.append(self.expr())
        self.depth -= 1
        function: Literal["min", "max"] = "min" if name.text == "min" else "max"
        return _Call(function, tuple(args), name.column)


# ---------------------------------------------------------------------- evaluators


def _context() -> Context:
    """A context of its own, so that results never depend on the thread's context."""
    return Context(
        prec=34,
        rounding=ROUND_HALF_EVEN,
        Emin=-999_999,
        Emax=999_999,
        capitals=1,
        clamp=0,
        flags=[],
        traps=[InvalidOperation, DivisionByZero, Overflow],
    )


def _first_column(node: _Node, name: str) -> int | None:
    if isinstance(node, _Name):
        return node.column if node.name == name else None
    if isinstance(node, _Num):
        return None
    if isinstance(node, _Neg):
        return _first_column(node.operand, name)
    children = (
        (node.first, *(x for _, _, x in node.rest)) if isinstance(node, _Chain) else node.args
    )
    for child in children:
        found = _first_column(child, name)
        if found is not None:
            return found
    return None


def _decimal_eval(node: _Node, env: Mapping[str, Decimal], ctx: Context, text: str) -> Decimal:
    if isinstance(node, _Num):
        return node.value
    if isinstance(node, _Name):
        return env[node.name]
    if isinstance(node, _Neg):
        return ctx.minus(_decimal_eval(node.operand, env, ctx, text))
    if isinstance(node, _Chain):
        acc = _decimal_eval(node.first, env, ctx, text)
        for op, column, operand in node.rest:
            x = _decimal_eval(operand, env, ctx, text)
            if op == "+":
                acc = ctx.add(acc, x)
            elif op == "-":
                acc = ctx.subtract(acc, x)
            elif op == "*":
                acc = ctx.multiply(acc, x)
            else:
                if x.is_zero():
                    raise FormulaError(
                        f"division by zero in formula {_show(text)}, column {column}",
                        text,
                        column,
                    )
                acc = ctx.divide(acc, x)
        return acc
    values = [_decimal_eval(arg, env, ctx, text) for arg in node.args]
    return min(values) if node.function == "min" else max(values)


def _float_eval(node: _Node, env: Mapping[str, Float], text: str) -> Float | float:
    if isinstance(node, _Num):
        return float(node.value)
    if isinstance(node, _Name):
        return env[node.name]
    if isinstance(node, _Neg):
        return np.negative(_float_eval(node.operand, env, text))
    if isinstance(node, _Chain):
        acc = _float_eval(node.first, env, text)
        for op, column, operand in node.rest:
            x = _float_eval(operand, env, text)
            if op == "+":
                acc = np.add(acc, x)
            elif op == "-":
                acc = np.subtract(acc, x)
            elif op == "*":
                acc = np.multiply(acc, x)
            else:
                zero = np.asarray(x) == 0
                if zero.any():
                    row = "" if zero.ndim == 0 else f" (row {int(np.argmax(zero))})"
                    raise FormulaError(
                        f"division by zero in formula {_show(text)}, column {column}{row}",
                        text,
                        column,
                    )
                acc = np.divide(acc, x)
        return acc
    reduce = np.minimum.reduce if node.function == "min" else np.maximum.reduce
    args = np.broadcast_arrays(*(_float_eval(arg, env, text) for arg in node.args))
    result: Float = reduce(args)
    return result


# ------------------------------------------------------------------------ formula


@dataclass(frozen=True)
class Formula:
    """A compiled formula: its text, the field names it uses, and its tree.

    Build one with :func:`compile_formula`.

    >>> compile_formula("hours * rate").evaluate({"hours": 3, "rate": "12.50"})
    Decimal('37.50')
    >>> compile_formula("(8 - 3 - 2) / 4").evaluate({})
    Decimal('0.75')
    """

    text: str
    names: frozenset[str]
    _tree: _Node = field(repr=False, compare=False)

    def _missing(self, given: Mapping[str, object]) -> None:
        missing = sorted(
            (n for n in self.names if given.get(n) is None),
            key=lambda n: _first_column(self._tree, n) or 0,
        )
        if missing:
            have = ", ".join(sorted(k for k, v in given.items() if v is not None)) or "none"
            what = ", ".join(repr(n) for n in missing)
            raise _error(
                self.text,
                _first_column(self._tree, missing[0]),
                f"no value for {what}",
                f"values for {', '.join(sorted(self.names))} (given: {have})",
            )

    def evaluate(self, values: Mapping[str, Decimal | int | str]) -> Decimal:
        """The formula's value, in exact decimal arithmetic (34 significant digits).

        ``values`` gives a value for each of :attr:`names` (others are
        ignored) as a ``Decimal``, an ``int`` or a numeric string. Raises
        :class:`FormulaError` for a missing or non-numeric value, a division
        by zero, or a result beyond ``1e999999``.

        >>> compile_formula("0.1 + 0.2").evaluate({})
        Decimal('0.3')
        """
        self._missing(values)
        env: dict[str, Decimal] = {}
        for name in self.names:
            raw = values[name]
            try:
                number = Decimal(str(raw))
            except (InvalidOperation, ValueError):
                number = Decimal("NaN")
            if not number.is_finite():
                raise _error(self.text, None, f"the value of {name!r} is not a number: {raw!r}")
            env[name] = number
        ctx = _context()
        try:
            return ctx.plus(_decimal_eval(self._tree, env, ctx, self.text))
        except (Overflow, InvalidOperation, DivisionByZero) as exc:
            reason = (
                "the result is too large" if isinstance(exc, Overflow) else "invalid arithmetic"
            )
            raise _error(self.text, None, reason) from None

    def sql(self, columns: Mapping[str, str]) -> str | None:
        """The formula as a SQL expression over exact decimal columns (DuckDB's
        ``DECIMAL``), ``columns`` naming the column of each field; None when the
        formula divides, which DuckDB would do in floating point.

        >>> compile_formula("min(hours, 8) * rate + 0.5").sql({"hours": "h", "rate": "r"})
        '((least(h, 8) * r) + 0.5)'
        """
        self._missing({n: columns.get(n) for n in self.names})
        return _sql(self._tree, columns)

    def evaluate_columns(self, columns: Mapping[str, npt.ArrayLike]) -> Float:
        """The formula over many rows at once, in float64.

        ``columns`` gives an array (or a scalar, broadcast) for each of
        :attr:`names`. The result has the broadcast shape of the columns used
        (of all columns given, for a formula without names). A division by
        zero in any row raises :class:`FormulaError` naming the first such row.

        >>> compile_formula("max(hours, 1) * rate").evaluate_columns(
        ...     {"hours": np.array([0.5, 2.0]), "rate": np.array([10.0, 20.0])})
        array([10., 40.])
        """
        self._missing(columns)
        env: dict[str, Float] = {}
        for name in sorted(self.names):
            try:
                env[name] = np.asarray(columns[name], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise _error(
                    self.text, None, f"the column {name!r} is not numeric ({exc})"
                ) from None
        used = list(env.values()) if self.names else [np.asarray(c) for c in columns.values()]
        try:
            shape = np.broadcast_shapes(*(np.shape(c) for c in used))
        except ValueError as exc:
            raise _error(self.text, None, f"the columns have different lengths ({exc})") from None
        with np.errstate(over="ignore", invalid="ignore"):
            result = _float_eval(self._tree, env, self.text)
        return np.array(np.broadcast_to(result, shape), dtype=np.float64)


def _sql(node: _Node, columns: Mapping[str, str]) -> str | None:
    if isinstance(node, _Num):
        return format(node.value, "f")
    if isinstance(node, _Name):
        return columns[node.name]
    if isinstance(node, _Neg):
        inner = _sql(node.operand, columns)
        return None if inner is None else f"(-({inner}))"
    if isinstance(node, _Chain):
        acc = _sql(node.first, columns)
        for op, _, operand in node.rest:
            x = _sql(operand, columns)
            if op == "/" or acc is None or x is None:
                return None
            acc = f"({acc} {op} {x})"
        return acc
    args = [_sql(arg, columns) for arg in node.args]
    if any(a is None for a in args):
        return None
    function = "least" if node.function == "min" else "greatest"
    return f"{function}({', '.join(a for a in args if a is not None)})"


def compile_formula(text: str, allowed: Iterable[str] | None = None) -> Formula:
    """Parse ``text`` into a :class:`Formula`, or raise :class:`FormulaError`.

    With ``allowed``, a field name outside it is refused here rather than when
    the formula is evaluated.

    >>> compile_formula("hours * rat", allowed=["hours", "rate"])
    Traceback (most recent call last):
        ...
    glia.ledger._expr.FormulaError: formula 'hours * rat', column 9: unknown field 'rat' ...
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, not {type(text).__name__} ({text!r})")
    if not text.strip():
        raise _error(text, 1, "the formula is empty", "an expression such as 'hours * rate'")
    if len(text) > MAX_LENGTH:
        raise _error(
            text,
            MAX_LENGTH + 1,
            f"the formula is {len(text)} characters long; at most {MAX_LENGTH} are allowed",
        )
    parser = _Parser(text)
    tree = parser.parse()
    if allowed is not None:
        permitted = sorted(set(allowed))
        for name in sorted(parser.names, key=lambda n: _first_column(tree, n) or 0):
            if name not in permitted:
                close = difflib.get_close_matches(name, permitted, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise _error(
                    text,
                    _first_column(tree, name),
                    f"unknown field {name!r}{hint}",
                    f"one of {', '.join(permitted)}" if permitted else "no field names",
                )
    return Formula(text, frozenset(parser.names), tree)
