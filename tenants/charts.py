"""The hourly message chart, drawn as inline SVG on the server: the admin's dashboard and the
portal's home show the same bars from the same geometry (templates/includes/hourly_chart.svg.html)."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from tenants.selectors import HourCount

# The chart's frame, in SVG user units.
CHART_WIDTH, CHART_HEIGHT = 760, 250
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 48, 748, 36, 206


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True)
class Chart:
    bars_in: list[Bar]
    bars_out: list[Bar]
    y_ticks: list[tuple[float, int]]
    x_labels: list[tuple[float, str]]
    hours: list[HourCount]
    total_in: int
    total_out: int
    description: str
    zone: str
    # The frame, for the template's axes and gridlines.
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = PLOT_LEFT
    right: int = PLOT_RIGHT
    bottom: int = PLOT_BOTTOM

    @property
    def centre_x(self) -> int:
        return (self.left + self.right) // 2

    @property
    def centre_y(self) -> int:
        return (PLOT_TOP + self.bottom) // 2


def nice_step(largest: int, *, ticks: int = 4) -> int:
    """A round gridline step (1, 2 or 5 times a power of ten), about ``ticks`` of them to ``largest``."""
    raw = max(largest / ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _hour_label(hour: datetime) -> str:
    return timezone.localtime(hour).strftime("%H:%M")


def message_chart(hours: list[HourCount]) -> Chart:
    largest = max((max(h.incoming, h.outgoing) for h in hours), default=0)
    step = nice_step(largest)
    top = step * max(math.ceil(largest / step), 1)
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(hours), 1)
    width = slot * 0.38

    def bar(index: int, count: int, offset: float, what: str, hour: HourCount) -> Bar:
        height = plot_height * count / top
        end = _hour_label(hour.hour + timedelta(hours=1))
        return Bar(
            x=round(PLOT_LEFT + index * slot + offset, 1),
            y=round(PLOT_BOTTOM - height, 1),
            width=round(width, 1),
            height=round(height, 1),
            count=count,
            label=f"{_hour_label(hour.hour)} to {end}: {count} {what}",
        )

    total_in = sum(h.incoming for h in hours)
    total_out = sum(h.outgoing for h in hours)
    zone = timezone.get_current_timezone_name()
    span = f"{_hour_label(hours[0].hour)} to now ({zone})" if hours else ""
    return Chart(
        bars_in=[bar(i, h.incoming, slot * 0.1, "incoming", h) for i, h in enumerate(hours)],
        bars_out=[bar(i, h.outgoing, slot * 0.52, "outgoing", h) for i, h in enumerate(hours)],
        y_ticks=[(round(PLOT_BOTTOM - plot_height * v / top, 1), v) for v in range(0, top + 1, step)],
        x_labels=[
            (round(PLOT_LEFT + (i + 0.5) * slot, 1), _hour_label(h.hour))
            for i, h in enumerate(hours)
            if i % 3 == 0
        ],
        hours=hours,
        total_in=total_in,
        total_out=total_out,
        description=(
            f"Incoming and outgoing messages in each hour from {span}: "
            f"{total_in} incoming and {total_out} outgoing in all."
        ),
        zone=zone,
    )
