from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.cases.ladder import LadderStep, parse_ladder
from service.cases.sla import SlaPolicy


@pytest.mark.parametrize(
    ("lane", "opened", "due"),
    [
        # Friday 16:00 in Hanoi: 1.5 h left that day, the other 6.5 h on Saturday.
        ("review", datetime(2026, 11, 27, 9, 0, tzinfo=UTC), datetime(2026, 11, 28, 7, 30, tzinfo=UTC)),
        # Saturday 17:00: half an hour left, Sunday off, then 1.5 h on Monday from 08:00.
        ("urgent", datetime(2026, 11, 28, 10, 0, tzinfo=UTC), datetime(2026, 11, 30, 2, 30, tzinfo=UTC)),
        # Opened at night (03:00 Hanoi): the clock starts at 08:00.
        ("urgent", datetime(2026, 11, 24, 20, 0, tzinfo=UTC), datetime(2026, 11, 25, 3, 0, tzinfo=UTC)),
    ],
)
def test_deadlines_count_business_hours_in_hanoi(lane: str, opened: datetime, due: datetime) -> None:
    assert SlaPolicy().due_at(lane, opened) == due


def test_a_lane_without_sla_has_no_deadline() -> None:
    assert SlaPolicy().due_at("none", datetime(2026, 11, 24, tzinfo=UTC)) is None


def test_ladder_parses_and_sorts() -> None:
    assert parse_ladder("25/24h:critical, 5/24h:high") == (
        LadderStep(5, 24, "high"),
        LadderStep(25, 24, "critical"),
    )


@pytest.mark.parametrize("text", ["5:high", "0/24h:high", "5/24h:urgent", "x/1h:high"])
def test_bad_ladder_steps_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="escalation step"):
        parse_ladder(text)
