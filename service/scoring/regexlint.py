"""Refuse regexes that would be catastrophic in a backtracking engine, though RE2 runs them in linear time.

RE2 already refuses backreferences and lookaround. A nested unbounded quantifier, such as `(a+)+` or
`(\\w+\\s?)*`, is harmless under RE2 but is the classic ReDoS shape. It is almost always a mistake, and it
would hang any tool that reuses the rule with Python's `re` or PCRE (Sigma backends, grep -P, a SIEM).
So the linter refuses it.

The pattern is only *parsed* here, by the standard library's parser (never compiled or matched with it), and
only rule authors' patterns reach this module, never report text.
"""

from __future__ import annotations

import importlib
from typing import Any

_parser: Any = importlib.import_module("re._parser")
_REPEATS = {_parser.MAX_REPEAT, _parser.MIN_REPEAT, getattr(_parser, "POSSESSIVE_REPEAT", _parser.MAX_REPEAT)}
_ATOMIC = getattr(_parser, "ATOMIC_GROUP", None)
MAX_DEPTH = 100


def _items(node: Any) -> list[tuple[Any, Any]]:
    data = getattr(node, "data", node)
    return list(data) if isinstance(data, list) else []


def _children(op: Any, arg: Any) -> list[Any]:
    """The sub-patterns below one parsed item (groups, alternations, repeats)."""
    if op in _REPEATS:
        return [arg[2]]
    if op is _parser.SUBPATTERN:
        return [arg[3]]
    if op is _parser.BRANCH:
        return list(arg[1])
    if _ATOMIC is not None and op is _ATOMIC:
        return [arg]
    return []


def _has_repeat(node: Any, depth: int) -> bool:
    if depth > MAX_DEPTH:
        return True
    for op, arg in _items(node):
        if op in _REPEATS and arg[1] > 1:
            return True
        if any(_has_repeat(child, depth + 1) for child in _children(op, arg)):
            return True
    return False


def _nested(node: Any, depth: int) -> bool:
    if depth > MAX_DEPTH:
        return True
    for op, arg in _items(node):
        if op in _REPEATS and arg[1] == _parser.MAXREPEAT and _has_repeat(arg[2], depth + 1):
            return True
        if any(_nested(child, depth + 1) for child in _children(op, arg)):
            return True
    return False


def backtracking_hazard(pattern: str) -> str | None:
    """Why `pattern` would be catastrophic in a backtracking engine, or None."""
    try:
        parsed = _parser.parse(pattern)
    except Exception:  # RE2 accepted it; Python's syntax differs in corners: nothing to lint
        return None
    if _nested(parsed, 0):
        return "nested unbounded quantifier (catastrophic backtracking in re/PCRE); rewrite without nesting"
    return None
