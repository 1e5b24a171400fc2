"""Server-side SVG charts: geometry computed here, drawn by templates/_charts.html (no script at all)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT, PAD = 640, 220, 30


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    css: str = "bar"


@dataclass(frozen=True)
class Chart:
    """A bar chart ready to draw: bars, axis labels and a legend."""

    title: str
    bars: list[Bar]
    labels: list[tuple[float, str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    peak: float = 0

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def stacked_columns(
    title: str, columns: Sequence[tuple[str, dict[str, int]]], series: Sequence[str]
) -> Chart:
    """One column per label (e.g. a day), stacked by series (e.g. level)."""
    peak: float = max((sum(values.values()) for _, values in columns), default=0) or 1
    slot = (WIDTH - PAD) / max(len(columns), 1)
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for index, (label, values) in enumerate(columns):
        x: float = PAD + index * slot + slot * 0.1
        bottom: float = HEIGHT - PAD
        for name in series:
            value = values.get(name, 0)
            height = (HEIGHT - 2 * PAD) * value / peak
            if value:
                bars.append(
                    Bar(x, bottom - height, slot * 0.8, height, f"{label} {name}", value, f"bar {name}")
                )
            bottom -= height
        labels.append((x + slot * 0.4, label))
    return Chart(title, bars, labels, [(name, f"bar {name}") for name in series], peak=peak)


def horizontal_bars(title: str, items: Sequence[tuple[str, int]], *, css: str = "bar") -> Chart:
    """Ranked items (label, value) as horizontal bars, biggest first."""
    peak: float = max((value for _, value in items), default=0) or 1
    row = 22
    label_width = 200
    bars = [
        Bar(
            label_width,
            8 + index * row,
            (WIDTH - label_width - 60) * value / peak,
            row - 6,
            label,
            value,
            css,
        )
        for index, (label, value) in enumerate(items)
    ]
    return Chart(title, bars, height=max(16 + len(items) * row, 40), peak=peak)
