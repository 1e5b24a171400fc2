"""The condition language: `and`, `or`, `not`, parentheses, `1 of sel_*`, `all of them`.

Conditions are parsed once at load into a small tree whose leaves are names (selections, or rule ids in a
composite). Quantifiers are expanded at load against the names that exist, so evaluation is a plain walk.
Length and nesting are bounded so that no rule file can make the parser recurse without limit.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import re2

MAX_CONDITION_CHARS = 4096
MAX_DEPTH = 32

_TOKEN = re2.compile(r"\s*(\(|\)|[A-Za-z0-9_.*:\-]+)")
_KEYWORDS = frozenset({"and", "or", "not", "of", "them"})


class ConditionError(ValueError):
    """A condition that does not parse or names what does not exist."""


@dataclass(frozen=True, slots=True)
class Ref:
    name: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Quantified:
    """`1 of PATTERN` (any) or `all of PATTERN`; `them` is every name."""

    every: bool
    pattern: str


Node = Ref | Not | And | Or | Quantified


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    stripped_end = len(text.rstrip())
    while pos < stripped_end:
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ConditionError(f"unexpected character {text[pos:].strip()[:1]!r} at column {pos + 1}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ConditionError("condition ends too early")
        self.pos += 1
        return token

    def parse_or(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ConditionError(f"condition nested deeper than {MAX_DEPTH}")
        operands = [self.parse_and(depth)]
        while self.peek() == "or":
            self.take()
            operands.append(self.parse_and(depth))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self, depth: int) -> Node:
        operands = [self.parse_not(depth)]
        while self.peek() == "and":
            self.take()
            operands.append(self.parse_not(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self, depth: int) -> Node:
        if self.peek() == "not":
            self.take()
            if depth > MAX_DEPTH:
                raise ConditionError(f"condition nested deeper than {MAX_DEPTH}")
            return Not(self.parse_not(depth + 1))
        return self.parse_primary(depth)

    def parse_primary(self, depth: int) -> Node:
        token = self.take()
        if token == "(":  # noqa: S105 - a condition token, not a secret
            node = self.parse_or(depth + 1)
            if self.peek() != ")":
                raise ConditionError("missing ')'")
            self.take()
            return node
        if token in {"1", "all", "any"} and self.peek() == "of":
            self.take()
            pattern = self.take()
            if pattern in {"(", ")"} or (pattern in _KEYWORDS and pattern != "them"):
                raise ConditionError(f"'{token} of' needs a name pattern or 'them', got {pattern!r}")
            return Quantified(every=token == "all", pattern=pattern)  # noqa: S105
        if token in _KEYWORDS or token == ")":  # noqa: S105
            raise ConditionError(f"unexpected {token!r}")
        return Ref(token)


def parse_condition(text: str) -> Node:
    """Parse a condition string into a tree; raises ConditionError with a readable message."""
    if len(text) > MAX_CONDITION_CHARS:
        raise ConditionError(f"condition longer than {MAX_CONDITION_CHARS} characters")
    tokens = _tokens(text)
    if not tokens:
        raise ConditionError("empty condition")
    parser = _Parser(tokens)
    node = parser.parse_or(0)
    if parser.peek() is not None:
        raise ConditionError(f"unexpected {parser.peek()!r} after a complete condition")
    return node


def resolve(node: Node, names: Collection[str]) -> Node:
    """Expand quantifiers against `names` and check every reference exists."""
    if isinstance(node, Ref):
        if node.name not in names:
            raise ConditionError(f"undefined name {node.name!r}")
        return node
    if isinstance(node, Not):
        return Not(resolve(node.operand, names))
    if isinstance(node, And | Or):
        return type(node)(tuple(resolve(child, names) for child in node.operands))
    matched = sorted(n for n in names if node.pattern == "them" or fnmatch.fnmatchcase(n, node.pattern))
    if not matched:
        raise ConditionError(f"pattern {node.pattern!r} matches no name")
    refs = tuple(Ref(n) for n in matched)
    return And(refs) if node.every else Or(refs)


def referenced_names(node: Node) -> Iterator[tuple[str, bool]]:
    """Every name in a resolved tree with its polarity (True when not under an odd number of `not`)."""
    stack: list[tuple[Node, bool]] = [(node, True)]
    while stack:
        current, positive = stack.pop()
        if isinstance(current, Ref):
            yield current.name, positive
        elif isinstance(current, Not):
            stack.append((current.operand, not positive))
        elif isinstance(current, And | Or):
            stack.extend((child, positive) for child in current.operands)


def necessary_names(node: Node) -> frozenset[str]:
    """Names that hold whenever a resolved tree holds: every way of satisfying it needs them."""
    if isinstance(node, Ref):
        return frozenset((node.name,))
    if isinstance(node, And):
        return frozenset().union(*(necessary_names(child) for child in node.operands))
    if isinstance(node, Or) and node.operands:
        return frozenset.intersection(*(necessary_names(child) for child in node.operands))
    return frozenset()  # a negation holds when its operand does not: it needs nothing to hold


Predicate = Callable[[frozenset[int] | set[int]], bool]


def compile_tree(node: Node, leaf: Callable[[str], Predicate]) -> Predicate:
    """Turn a resolved tree into one predicate, given a predicate per leaf name."""
    if isinstance(node, Ref):
        return leaf(node.name)
    if isinstance(node, Not):
        inner = compile_tree(node.operand, leaf)
        return lambda facts: not inner(facts)
    if isinstance(node, Quantified):
        raise ConditionError("unresolved quantifier")
    parts = tuple(compile_tree(child, leaf) for child in node.operands)
    return _every(parts) if isinstance(node, And) else _some(parts)


# Rules are matched for every report: a generator per `and` or `or` costs more than the tests it runs,
# so two operands (the common case) get a closure of their own and more get a plain loop.
def _every(parts: tuple[Predicate, ...]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda facts: first(facts) and second(facts)

    def every(facts: frozenset[int] | set[int]) -> bool:
        for part in parts:  # noqa: SIM110 - all() over a generator is what this avoids
            if not part(facts):
                return False
        return True

    return every


def _some(parts: tuple[Predicate, ...]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda facts: first(facts) or second(facts)

    def some(facts: frozenset[int] | set[int]) -> bool:
        for part in parts:  # noqa: SIM110 - any() over a generator is what this avoids
            if part(facts):
                return True
        return False

    return some


def canonical(node: Node, leaf: Callable[[str], object]) -> object:
    """An order-insensitive key of a resolved tree: equal keys mean the same logic."""
    if isinstance(node, Ref):
        return leaf(node.name)
    if isinstance(node, Not):
        return ("not", canonical(node.operand, leaf))
    if isinstance(node, Quantified):
        raise ConditionError("unresolved quantifier")
    kind = "and" if isinstance(node, And) else "or"
    flat: set[object] = set()
    for child in node.operands:
        key = canonical(child, leaf)
        if isinstance(key, tuple) and key[0] == kind:
            flat.update(key[1])
        else:
            flat.add(key)
    return (kind, frozenset(flat)) if len(flat) > 1 else next(iter(flat))
