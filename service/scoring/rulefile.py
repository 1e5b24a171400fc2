"""One rule document → a validated Rule, collecting every problem as an Issue with its line."""

from __future__ import annotations

from pathlib import Path

import re2

from service.scoring.atoms import Atom, build_atom
from service.scoring.condition import ConditionError, Node, parse_condition, referenced_names, resolve
from service.scoring.errors import Issue
from service.scoring.fields import CHANNELS, KNOWN_FIELDS, LEVELS, STATUSES, FieldKind
from service.scoring.lists import ListStore
from service.scoring.model import Rule
from service.scoring.samples import parse_tests
from service.scoring.yamlstrict import MarkedDict

RULE_ID = re2.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,99}$")
SELECTION_NAME = re2.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
REQUIRED = ("id", "title", "description", "status", "level", "score", "group")
OPTIONAL = (
    "channels",
    "tags",
    "falsepositives",
    "detection",
    "composite",
    "tests",
    "author",
    "date",
    "references",
)


class _Collector:
    """Issues of one rule document, located in its file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.issues: list[Issue] = []

    def add(self, line: int | None, message: str) -> None:
        self.issues.append(Issue(self.path, line, message))


def _text(doc: MarkedDict, key: str, out: _Collector) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        out.add(doc.line_of(key), f"{key}: needs a non-empty string")
        return ""
    return value.strip()


def _strings(doc: MarkedDict, key: str, out: _Collector) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        out.add(doc.line_of(key), f"{key}: needs a list of strings")
        return ()
    return tuple(value)


def _metadata(doc: MarkedDict, out: _Collector) -> dict[str, object]:
    for key in doc:
        if key not in REQUIRED and key not in OPTIONAL:
            out.add(doc.line_of(key), f"unknown rule key {key!r}")
    for key in REQUIRED:
        if key not in doc:
            out.add(doc.line, f"missing required key {key!r}")
    meta: dict[str, object] = {key: _text(doc, key, out) for key in ("id", "title", "description", "group")}
    if meta["id"] and RULE_ID.match(str(meta["id"])) is None:
        out.add(doc.line_of("id"), f"id {meta['id']!r}: use letters, digits, '.', '_' and '-' (2-100 chars)")
    for key, allowed in (("status", STATUSES), ("level", frozenset(LEVELS))):
        if doc.get(key) not in allowed:
            out.add(doc.line_of(key), f"{key}: must be one of {', '.join(sorted(allowed))}")
    score = doc.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool):
        out.add(doc.line_of("score"), "score: needs a number")
        score = 0
    channels = _strings(doc, "channels", out) or tuple(sorted(CHANNELS))
    if not set(channels) <= CHANNELS:
        out.add(doc.line_of("channels"), f"channels: each must be one of {', '.join(sorted(CHANNELS))}")
    meta.update(status=doc.get("status"), level=doc.get("level"), score=score, channels=frozenset(channels))
    meta.update(tags=_strings(doc, "tags", out), falsepositives=_strings(doc, "falsepositives", out))
    return meta


def _selection(name: str, raw: object, line: int, lists: ListStore, out: _Collector) -> tuple[Atom, ...]:
    if not isinstance(raw, MarkedDict) or not raw:
        out.add(line, f"selection {name!r}: needs a non-empty mapping of `field|operator: value`")
        return ()
    atoms: list[Atom] = []
    for key, value in raw.items():
        field, _, op = str(key).partition("|")
        if not op:
            op = "keywords" if KNOWN_FIELDS.get(field) is FieldKind.TEXT else "equals"
        built = build_atom(field, op, value, lists)
        if isinstance(built, str):
            out.add(raw.line_of(key), f"selection {name!r}: {built}")
        else:
            atoms.append(built)
    return tuple(atoms)


def _condition(text: object, names: set[str], line: int, out: _Collector) -> Node | None:
    if not isinstance(text, str):
        out.add(line, "condition: needs a string")
        return None
    try:
        return resolve(parse_condition(text), names)
    except ConditionError as exc:
        out.add(line, f"condition: {exc}")
        return None


def _detection(
    doc: MarkedDict, lists: ListStore, out: _Collector
) -> tuple[Node | None, dict[str, tuple[Atom, ...]]]:
    raw = doc.get("detection")
    if not isinstance(raw, MarkedDict):
        out.add(doc.line_of("detection"), "detection: needs a mapping of selections and a condition")
        return None, {}
    selections: dict[str, tuple[Atom, ...]] = {}
    for name, body in raw.items():
        if name == "condition":
            continue
        if SELECTION_NAME.match(str(name)) is None:
            out.add(raw.line_of(name), f"selection name {name!r}: use letters, digits and '_'")
        selections[str(name)] = _selection(str(name), body, raw.line_of(name), lists, out)
    if not selections:
        out.add(raw.line, "detection: defines no selection")
    node = _condition(raw.get("condition"), set(selections), raw.line_of("condition"), out)
    if node is not None:
        used = {name for name, _ in referenced_names(node)}
        for name in sorted(set(selections) - used):
            out.add(raw.line_of(name), f"selection {name!r} is never used by the condition")
    return node, selections


def parse_rule(doc: object, path: str, rules_dir: Path, lists: ListStore) -> tuple[Rule | None, list[Issue]]:
    """Validate one rule document. Composites keep an unresolved condition until every id is known."""
    out = _Collector(path)
    if not isinstance(doc, MarkedDict):
        return None, [Issue(path, None, "a rule document must be a mapping")]
    meta = _metadata(doc, out)
    if ("detection" in doc) == ("composite" in doc):
        out.add(doc.line, "a rule needs exactly one of detection: or composite:")
        return None, out.issues
    selections: dict[str, tuple[Atom, ...]] = {}
    if "composite" in doc:
        node: Node | None = None
        try:
            node = parse_condition(str(doc["composite"]))
        except ConditionError as exc:
            out.add(doc.line_of("composite"), f"composite: {exc}")
    else:
        node, selections = _detection(doc, lists, out)
    tests, test_issues = parse_tests(doc, rules_dir, path)
    out.issues.extend(test_issues)
    if node is None or any(i.severity == "error" for i in out.issues):
        return None, out.issues
    rule = Rule(
        condition=node,
        selections=selections,
        composite="composite" in doc,
        tests=tests,
        path=path,
        line=doc.line,
        **meta,  # type: ignore[arg-type]
    )
    return rule, out.issues
