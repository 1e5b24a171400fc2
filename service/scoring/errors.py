"""Errors of the rule engine.

RulesetError           a rules folder failed validation or its tests; carries every Issue at once
  Issue                one finding: path, line, message and severity (error | warning)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation finding, located at `path:line`."""

    path: str
    line: int | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view."""
        return {"path": self.path, "line": self.line, "message": self.message, "severity": self.severity}


class RulesetError(Exception):
    """A rules folder that cannot be used; `issues` lists every error found, not just the first."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        summary = "; ".join(str(i) for i in errors[:3])
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"{len(errors)} error(s) in ruleset: {summary}{more}")


def errors_only(issues: Iterable[Issue]) -> list[Issue]:
    """The issues that block a ruleset (warnings excluded)."""
    return [i for i in issues if i.severity == "error"]
