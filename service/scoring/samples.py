"""A rule's `tests:` block: match / no_match samples as inline text, field mappings or fixture files."""

from __future__ import annotations

from pathlib import Path

from service.scoring.errors import Issue
from service.scoring.fields import CHANNELS, KNOWN_FIELDS
from service.scoring.model import Sample
from service.scoring.yamlstrict import MarkedDict, MarkedList, load_yaml_documents

MAX_FIXTURE_BYTES = 1024 * 1024
MIN_SAMPLES = 2


def _fixture(rules_dir: Path, name: object, path: str, line: int) -> dict[str, object] | Issue:
    if not isinstance(name, str):
        return Issue(path, line, f"file: needs a path relative to the rules folder, got {name!r}")
    root = rules_dir.resolve()
    target = (root / name).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return Issue(path, line, f"fixture {name!r} is not a file inside the rules folder")
    if target.stat().st_size > MAX_FIXTURE_BYTES:
        return Issue(path, line, f"fixture {name!r} is larger than {MAX_FIXTURE_BYTES} bytes")
    if target.suffix == ".txt":
        return {"text": target.read_text("utf-8", errors="replace")}
    documents, issues = load_yaml_documents(target, name)
    if issues or len(documents) != 1 or not isinstance(documents[0], dict):
        return Issue(path, line, f"fixture {name!r} must be .txt or one YAML/JSON mapping of fields")
    return dict(documents[0])


def _sample_fields(raw: object, rules_dir: Path, path: str, line: int) -> dict[str, object] | Issue:
    if isinstance(raw, str):
        return {"text": raw}
    if not isinstance(raw, dict):
        return Issue(path, line, "a test sample is a text or a mapping of fields")
    fields: dict[str, object] = {}
    if "file" in raw:
        loaded = _fixture(rules_dir, raw["file"], path, line)
        if isinstance(loaded, Issue):
            return loaded
        fields.update(loaded)
    fields.update({k: v for k, v in raw.items() if k != "file"})
    unknown = sorted(str(k) for k in fields if k not in KNOWN_FIELDS)
    if unknown:
        return Issue(path, line, f"test sample uses unknown field(s): {', '.join(unknown)}")
    if fields.get("channel") is not None and fields["channel"] not in CHANNELS:
        return Issue(path, line, f"test sample channel must be one of {sorted(CHANNELS)}")
    return fields


def _samples(
    raw: object, expect: bool, rules_dir: Path, path: str, line: int
) -> tuple[list[Sample], list[Issue]]:
    key = "match" if expect else "no_match"
    if raw is None:
        return [], []
    if not isinstance(raw, MarkedList) or not raw:
        return [], [Issue(path, line, f"tests.{key}: needs a non-empty list of samples")]
    samples: list[Sample] = []
    issues: list[Issue] = []
    for item, item_line in zip(raw, raw.lines, strict=True):
        fields = _sample_fields(item, rules_dir, path, item_line)
        if isinstance(fields, Issue):
            issues.append(fields)
            continue
        channel = fields.get("channel")
        samples.append(Sample(expect, fields, channel if isinstance(channel, str) else None, path, item_line))
    return samples, issues


def parse_tests(doc: MarkedDict, rules_dir: Path, path: str) -> tuple[tuple[Sample, ...], list[Issue]]:
    """The rule's samples; a rule with none is an error, fewer than two of a kind a warning."""
    raw = doc.get("tests")
    if raw is None:
        return (), [Issue(path, doc.line, f"rule {doc.get('id')!r} has no tests")]
    if not isinstance(raw, MarkedDict) or not set(raw) <= {"match", "no_match"}:
        return (), [Issue(path, doc.line_of("tests"), "tests: needs a mapping with match: and no_match:")]
    matches, issues = _samples(raw.get("match"), True, rules_dir, path, raw.line_of("match"))
    misses, more = _samples(raw.get("no_match"), False, rules_dir, path, raw.line_of("no_match"))
    issues += more
    if not matches and not misses and not issues:
        issues.append(Issue(path, doc.line_of("tests"), f"rule {doc.get('id')!r} has no tests"))
    for key, found in (("match", matches), ("no_match", misses)):
        if len(found) < MIN_SAMPLES:
            issues.append(
                Issue(path, doc.line_of("tests"), f"tests.{key}: fewer than {MIN_SAMPLES} samples", "warning")
            )
    return (*matches, *misses), issues
