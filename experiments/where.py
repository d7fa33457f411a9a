"""The outcome condition of ``coprod discover --where``: a small grammar, parsed by hand, never run as Python.

A condition compares the model's outputs with numbers::

    consensus_bias < 0.2 and structure > 0.6
    not (lock_in >= 0.5 or transaction_costs > 0.8) and distribution != 0

- a comparison is ``OUTPUT OP NUMBER``: ``OUTPUT`` one of :data:`model.OUTPUTS`, ``OP`` one of
  ``< <= > >= == !=``, ``NUMBER`` a decimal such as ``0.2``, ``-1``, ``.5`` or ``1e-3``;
- comparisons join with ``and`` and ``or`` and are negated with ``not``; ``not`` binds tightest, then
  ``and``, then ``or`` (as in Python and SQL); parentheses group.

The grammar, by recursive descent::

    condition  := either END
    either     := both ("or" both)*
    both       := negation ("and" negation)*
    negation   := "not" negation | "(" either ")" | comparison
    comparison := OUTPUT OP NUMBER

Anything else (a quote, a semicolon, a call, a name that is not an output, an empty text) is refused with
:class:`WhereError`, a :class:`model.ScenarioError` of one line, ``command line: --where: what is wrong
(got TEXT, allowed ...)``; the command line turns it into exit status 2. :func:`parse` gives a
:class:`Condition` whose :meth:`Condition.holds` evaluates it on numpy arrays, one value per run; a NaN
output meets no comparison but ``!=``, so callers drop the runs that lack one (see
:meth:`Condition.outputs`).
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from coprod.model import OUTPUTS, Problem, ScenarioError

OPTION = "--where"
MAX_LENGTH = 2000  # characters; a condition a person types is far shorter
MAX_DEPTH = 50  # nested parentheses and nots: deeper is refused, not a RecursionError
COMPARE: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
KEYWORDS = ("and", "or", "not")
ALLOWED = (
    "comparisons OUTPUT OP NUMBER with OP one of < <= > >= == != and OUTPUT an output of the model "
    "(see `coprod run`), joined by and, or, not and parentheses, e.g. 'consensus_bias < 0.2 and "
    "structure > 0.6'"
)
_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|<|>)"
    r"|(?P<paren>[()])"
    r")"
)


class WhereError(ScenarioError):
    """A condition that is not in the grammar: one line naming ``--where``, the text and what is allowed."""

    def __init__(self, text: str, message: str, allowed: str = ALLOWED):
        super().__init__([Problem(OPTION, message, text, allowed)], source="command line")


@dataclass(frozen=True)
class Token:
    kind: str  # number, name, op, paren, end
    text: str
    at: int  # 1-based character position, for messages


# ------------------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Compare:
    output: str
    op: str
    value: float

    def holds(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.asarray(COMPARE[self.op](np.asarray(values[self.output], dtype=float), self.value))

    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    def __str__(self) -> str:
        return f"{self.output} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Not:
    part: Condition

    def holds(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        return ~self.part.holds(values)

    def outputs(self) -> tuple[str, ...]:
        return self.part.outputs()

    def __str__(self) -> str:
        return f"not {self.part}" if isinstance(self.part, Not) else f"not ({self.part})"


@dataclass(frozen=True)
class Join:
    word: str  # "and" or "or"
    parts: tuple[Condition, ...]

    def holds(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        combine = np.logical_and if self.word == "and" else np.logical_or
        result = self.parts[0].holds(values)
        for part in self.parts[1:]:
            result = combine(result, part.holds(values))
        return result

    def outputs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for part in self.parts for name in part.outputs()))

    def __str__(self) -> str:
        return f" {self.word} ".join(_grouped(p, self) for p in self.parts)


Condition = Compare | Not | Join


def _grouped(part: Condition, parent: Join) -> str:
    """``part`` as text, in parentheses where the precedence would otherwise regroup it."""
    tighter = isinstance(part, Compare | Not) or (parent.word == "or" and part.word == "and")
    return str(part) if tighter else f"({part})"


# ----------------------------------------------------------------------------------- the parser


def parse(text: str) -> Condition:
    """The condition ``text`` as a tree; :class:`WhereError` if it is not in the grammar."""
    if not isinstance(text, str) or not text.strip():
        raise WhereError(text, "empty condition")
    if len(text) > MAX_LENGTH:
        raise WhereError(text, f"longer than {MAX_LENGTH} characters")
    return _Parser(text, tokens(text)).condition()


def tokens(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token; an unexpected character is refused."""
    found: list[Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            rest = text[at:].lstrip()
            if not rest:
                break
            where = len(text) - len(rest)
            raise WhereError(text, f"unexpected character {rest[0]!r} at character {where + 1}")
        found.append(Token(match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup) + 1))
        at = match.end()
    found.append(Token("end", "", len(text) + 1))
    return found


class _Parser:
    def __init__(self, text: str, found: list[Token]):
        self.text, self.found, self.i, self.depth = text, found, 0, 0

    def peek(self) -> Token:
        return self.found[self.i]

    def take(self) -> Token:
        token = self.found[self.i]
        self.i += 1
        return token

    def word(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "name" and token.text == word:
            self.i += 1
            return True
        return False

    def fail(self, what: str, token: Token) -> WhereError:
        got = "the end" if token.kind == "end" else repr(token.text)
        return WhereError(self.text, f"expected {what} at character {token.at}, found {got}")

    def condition(self) -> Condition:
        tree = self.either()
        if self.peek().kind != "end":
            raise self.fail("'and', 'or' or the end", self.peek())
        return tree

    def either(self) -> Condition:
        parts = [self.both()]
        while self.word("or"):
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else Join("or", tuple(parts))

    def both(self) -> Condition:
        parts = [self.negation()]
        while self.word("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else Join("and", tuple(parts))

    def negation(self) -> Condition:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise WhereError(self.text, f"nests more than {MAX_DEPTH} levels deep")
        try:
            if self.word("not"):
                return Not(self.negation())
            if self.peek().text == "(":
                self.take()
                inner = self.either()
                if self.peek().text != ")":
                    raise self.fail("')'", self.peek())
                self.take()
                return inner
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Compare:
        name = self.take()
        if name.kind != "name" or name.text in KEYWORDS:
            raise self.fail("an output name", name)
        if name.text not in OUTPUTS:
            guess = difflib.get_close_matches(name.text, OUTPUTS, n=1)
            hint = f"; did you mean {guess[0]}?" if guess else ""
            raise WhereError(
                self.text,
                f"unknown output {name.text!r} at character {name.at}{hint}",
                "an output of the model: " + ", ".join(OUTPUTS),
            )
        op = self.take()
        if op.kind != "op":
            raise self.fail("one of < <= > >= == != after " + name.text, op)
        number = self.take()
        if number.kind != "number":
            raise self.fail(f"a number after {name.text} {op.text}", number)
        return Compare(name.text, op.text, float(number.text))


__all__ = ["ALLOWED", "COMPARE", "Compare", "Condition", "Join", "Not", "WhereError", "parse", "tokens"]
