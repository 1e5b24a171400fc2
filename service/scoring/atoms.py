"""Atoms: one `field|operator: value` test of a selection, checked and normalised at load.

Equal atoms are shared by every rule that uses them, so a report evaluates each distinct test once, and two
rules built from the same atoms are recognised as the same logic.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import re2

from service.scoring.accents import Signature, signature
from service.scoring.fields import ALLOWED_OPERATORS, KNOWN_FIELDS, FieldKind
from service.scoring.lists import ListStore
from service.scoring.regexlint import backtracking_hazard
from service.scoring.scanview import phrase_key
from service.scoring.textnorm import normalize_phrase

MAX_KEYWORDS_PER_ATOM = 50_000
MAX_PHRASE_CHARS = 300
MAX_REGEX_CHARS = 2_000

Phrases = tuple[tuple[str, frozenset[Signature] | None], ...]


@dataclass(frozen=True, slots=True)
class Atom:
    """One test of one field. `value` is already normalised (see module docstring of engine)."""

    field: str
    op: str
    value: Hashable

    @property
    def kind(self) -> FieldKind:
        """The kind of the tested field."""
        return KNOWN_FIELDS[self.field]

    def phrases(self) -> Phrases:
        """The normalised phrases a text atom looks for, with their accent signatures."""
        if self.op == "keywords":
            return self.value  # type: ignore[return-value]
        if self.op == "in_list" and self.kind is FieldKind.TEXT:
            return self.value[1]  # type: ignore[index, no-any-return]
        return ()


def regex_options() -> re2.Options:
    """RE2 options: no stderr logging, and enough memory that the DFA never gives up on a 1 MB text."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20
    return options


def compile_regex(pattern: str) -> re2._Regexp | str:
    """The compiled pattern, or RE2's reason for refusing it (backreferences, lookaround...)."""
    if len(pattern) > MAX_REGEX_CHARS:
        return f"regex longer than {MAX_REGEX_CHARS} characters"
    try:
        compiled = re2.compile(pattern, options=regex_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return f"regex refused by RE2 ({reason}): {pattern!r}"
    hazard = backtracking_hazard(pattern)
    return f"regex refused: {hazard}: {pattern!r}" if hazard else compiled


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _strings(value: object, what: str) -> tuple[str, ...] | str:
    items = value if isinstance(value, list) else [value]
    if not items:
        return f"{what}: empty list"
    if len(items) > MAX_KEYWORDS_PER_ATOM:
        return f"{what}: more than {MAX_KEYWORDS_PER_ATOM} entries"
    bad = [item for item in items if not isinstance(item, str) or not item.strip()]
    if bad:
        return f"{what}: every entry must be a non-empty string (quote yes/no/numbers), got {bad[0]!r}"
    return tuple(items)


def _phrases(items: tuple[str, ...], what: str) -> Phrases | str:
    """Normalised phrases, each with the accent signatures it allows (None: any spelling)."""
    allowed: dict[str, set[Signature] | None] = {}
    for item in items:
        if len(item) > MAX_PHRASE_CHARS:
            return f"{what}: phrase longer than {MAX_PHRASE_CHARS} characters"
        phrase = normalize_phrase(item)
        if not phrase_key(phrase):
            return f"{what}: {item!r} has no letter or digit once normalised"
        marks = signature(item)
        if marks is None or (phrase in allowed and allowed[phrase] is None):
            allowed[phrase] = None
        else:
            allowed.setdefault(phrase, set()).add(marks)  # type: ignore[union-attr]
    return tuple(sorted((p, None if s is None else frozenset(s)) for p, s in allowed.items()))


def _scalar(kind: FieldKind, value: object, what: str) -> Hashable | str:
    if kind is FieldKind.BOOL:
        return value if isinstance(value, bool) else f"{what}: needs true or false, got {value!r}"
    if kind is FieldKind.NUM:
        return float(value) if _is_number(value) else f"{what}: needs a number, got {value!r}"  # type: ignore[arg-type]
    if not isinstance(value, str) or not value:
        return f"{what}: needs a non-empty string, got {value!r}"
    return normalize_phrase(value) if kind is FieldKind.TEXT else value.casefold()


def _list_value(kind: FieldKind, name: object, lists: ListStore) -> Hashable | str:
    if not isinstance(name, str):
        return f"in_list: needs a list name, got {name!r}"
    entries = lists.get(name)
    if isinstance(entries, str):
        return entries
    if kind is FieldKind.TEXT:
        phrases = _phrases(entries, f"list {name}")
        return phrases if isinstance(phrases, str) else (name, phrases)
    if kind is FieldKind.NUM:
        numbers: set[float] = set()
        for entry in entries:
            digits = entry.upper().removeprefix("AS").split()[0]
            if not digits.isdigit():
                return f"list {name!r}: {entry!r} is not a number"
            numbers.add(float(digits))
        return (name, frozenset(numbers))
    return (name, frozenset(entry.casefold() for entry in entries))


def build_atom(field: str, op: str, value: object, lists: ListStore) -> Atom | str:
    """Check one selection entry and normalise its value; a string return is the error."""
    kind = KNOWN_FIELDS.get(field)
    if kind is None:
        return f"unknown field {field!r} (see KNOWN_FIELDS in rules/README.md)"
    if op not in ALLOWED_OPERATORS[kind]:
        allowed = ", ".join(sorted(ALLOWED_OPERATORS[kind]))
        return f"operator {op!r} does not apply to {kind.value} field {field!r} (allowed: {allowed})"
    result = _atom_value(kind, op, value, lists)
    return result if isinstance(result, str) else Atom(field, op, result[0])


def _atom_value(kind: FieldKind, op: str, value: object, lists: ListStore) -> tuple[Hashable] | str:
    if op == "keywords":
        items = _strings(value, "keywords")
        phrases = items if isinstance(items, str) else _phrases(items, "keywords")
        return phrases if isinstance(phrases, str) else (phrases,)
    if op in {"regex", "regex_raw"}:
        if not isinstance(value, str) or not value:
            return f"{op}: needs a pattern string, got {value!r}"
        compiled = compile_regex(value)
        return compiled if isinstance(compiled, str) else (value,)
    if op in {"lt", "gt"}:
        return (float(value),) if _is_number(value) else f"{op}: needs a number, got {value!r}"  # type: ignore[arg-type]
    if op == "exists":
        return (value,) if isinstance(value, bool) else f"exists: needs true or false, got {value!r}"
    if op == "in_list":
        listed = _list_value(kind, value, lists)
        return listed if isinstance(listed, str) else (listed,)
    scalar_kind = FieldKind.STR if kind is FieldKind.LIST else kind
    if op == "equals":
        scalar = _scalar(scalar_kind, value, "equals")
        return scalar if isinstance(scalar, str) and scalar.startswith("equals:") else (scalar,)
    if not isinstance(value, list) or not value:
        return f"in: needs a non-empty list, got {value!r}"
    members = [_scalar(scalar_kind, item, "in") for item in value]
    errors = [m for m in members if isinstance(m, str) and m.startswith("in:")]
    return errors[0] if errors else (frozenset(members),)  # type: ignore[return-value]
