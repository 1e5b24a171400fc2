"""The escalation ladder: how many linked reports within how long open or lift a case."""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("medium", "high", "critical")


@dataclass(frozen=True)
class LadderStep:
    reports: int
    within_hours: float
    level: str


def parse_ladder(text: str) -> tuple[LadderStep, ...]:
    """Parse "5/24h:high,25/24h:critical"; raises ValueError with the offending step."""
    steps = []
    for raw in filter(None, (part.strip() for part in text.split(","))):
        try:
            count, rest = raw.split("/", 1)
            hours, level = rest.split(":", 1)
            step = LadderStep(int(count), float(hours.rstrip("h")), level.strip())
        except ValueError:
            raise ValueError(
                f"escalation step {raw!r} is not REPORTS/HOURSh:LEVEL, e.g. 5/24h:high"
            ) from None
        if step.reports < 1 or step.within_hours <= 0 or step.level not in LEVELS:
            raise ValueError(
                f"escalation step {raw!r}: reports ≥ 1, hours > 0, level one of {', '.join(LEVELS)}"
            )
        steps.append(step)
    return tuple(sorted(steps, key=lambda step: step.reports))
