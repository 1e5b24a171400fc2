"""Evaluation of atoms on non-text facts: strings, numbers, booleans and lists.

Every function returns the evidence (text shown to the analyst, span or None) when the atom holds, else None.
Unknown facts are None and make every operator false except `exists: false`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import re2

from service.scoring.atoms import Atom
from service.scoring.fields import FieldKind

FactEvidence = list[tuple[str, tuple[int, int] | None]]
FactCheck = Callable[[object], FactEvidence | None]
"""One atom's test: the evidence for a fact's value, or None when the atom does not hold."""
MAX_LIST_ITEMS = 1_000
MAX_FACT_CHARS = 10_000


def show(value: object) -> str:
    """A fact as an analyst reads it (JSON spelling of booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:200]


def _domain_suffixes(domain: str) -> list[str]:
    labels = domain.strip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [domain]


def _string_holds(atom: Atom, value: str, regex: re2._Regexp | None) -> tuple[int, int] | bool | None:
    """True/span when the atom holds on one string, False otherwise."""
    folded = value[:MAX_FACT_CHARS].casefold()
    if atom.op == "equals":
        return folded == atom.value
    if atom.op == "in":
        return folded in atom.value  # type: ignore[operator]
    if atom.op == "regex" and regex is not None:
        match = regex.search(value[:MAX_FACT_CHARS])
        return match.span() if match is not None else False
    if atom.op == "in_list":
        entries = atom.value[1]  # type: ignore[index]
        candidates = _domain_suffixes(folded) if atom.field.endswith("domain") else [folded]
        return any(candidate in entries for candidate in candidates)
    return False


def _number_holds(atom: Atom, value: float) -> bool:
    if atom.op == "equals":
        return value == atom.value
    if atom.op == "in":
        return value in atom.value  # type: ignore[operator]
    if atom.op == "lt":
        return value < atom.value  # type: ignore[operator]
    if atom.op == "gt":
        return value > atom.value  # type: ignore[operator]
    if atom.op == "in_list":
        return value in atom.value[1]  # type: ignore[index, operator]
    return False


def _list_evidence(atom: Atom, items: Sequence[object], regex: re2._Regexp | None) -> FactEvidence | None:
    if atom.op in {"lt", "gt"}:
        return [(f"{len(items)} item(s)", None)] if _number_holds(atom, float(len(items))) else None
    found: FactEvidence = []
    for item in items[:MAX_LIST_ITEMS]:
        if isinstance(item, str):
            held = _string_holds(atom, item, regex)
            if held is not False:
                found.append((item[:200], held if isinstance(held, tuple) else None))
    return found or None


def fact_evidence(atom: Atom, value: object, regex: re2._Regexp | None) -> FactEvidence | None:
    """The evidence for `atom` on a non-text value, or None when it does not hold."""
    return fact_check(atom, regex)(value)


def fact_check(atom: Atom, regex: re2._Regexp | None) -> FactCheck:
    """fact_evidence for one atom, its operator and field kind looked at once: the rules are compiled once
    and their atoms evaluated for every report."""
    if atom.op == "exists":
        return partial(_exists_evidence, atom.value)
    kind = atom.kind
    if kind is FieldKind.BOOL:
        return partial(_bool_evidence, atom.value)
    if kind is FieldKind.NUM:
        return partial(_number_evidence, atom)
    if kind is FieldKind.LIST:
        return partial(_list_fact_evidence, atom, regex)
    return partial(_string_evidence, atom, regex)


def _exists_evidence(expected: object, value: object) -> FactEvidence | None:
    present = value is not None
    if present != expected:
        return None
    return [(show(value) if present else "(unknown)", None)]


def _bool_evidence(expected: object, value: object) -> FactEvidence | None:
    return [(show(value), None)] if isinstance(value, bool) and value == expected else None


def _number_evidence(atom: Atom, value: object) -> FactEvidence | None:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return [(show(number), None)] if number is not None and _number_holds(atom, float(number)) else None


def _list_fact_evidence(atom: Atom, regex: re2._Regexp | None, value: object) -> FactEvidence | None:
    return _list_evidence(atom, value, regex) if isinstance(value, list | tuple) else None


def _string_evidence(atom: Atom, regex: re2._Regexp | None, value: object) -> FactEvidence | None:
    if not isinstance(value, str):
        return None
    held = _string_holds(atom, value, regex)
    if held is False:
        return None
    return [(value[:200], held if isinstance(held, tuple) else None)]
