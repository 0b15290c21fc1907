"""A small line/scatter chart drawn with Pillow: enough for a run's plots without matplotlib.

One panel per call: a title, axes with "nice" round tick labels, any number of series
(lines, or dots for sparse samples like per-request latency) and a legend. A panel with no
data shows a note saying why, so an empty plot never looks like a broken one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._render import BACKGROUND, FRAME, LEGEND, TEXT, load_font

if TYPE_CHECKING:
    from PIL import ImageDraw

__all__ = ["Series", "draw_chart", "nice_ticks"]

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Series:
    label: str
    colour: RGB
    xs: Sequence[float]
    ys: Sequence[float]
    style: Literal["line", "dots"] = "line"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(math.ceil((high - first) / step) + 1)]


def draw_chart(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    title: str,
    series: Sequence[Series],
    *,
    x_label: str,
    empty_note: str = "no data",
) -> None:
    """Draw one panel into ``box`` (left, top, right, bottom) of ``draw``'s image."""
    left, top, right, bottom = box
    font, small = load_font(13), load_font(11)
    draw.rectangle(box, fill=BACKGROUND)
    draw.text((left + 8, top + 4), title, fill=TEXT, font=font)
    plot = (left + 56, top + 26, right - 12, bottom - 30)
    px0, py0, px1, py1 = plot
    draw.rectangle(plot, outline=FRAME)
    points = [(x, y) for s in series for x, y in zip(s.xs, s.ys)]
    if not points:
        draw.text((px0 + 12, (py0 + py1) / 2 - 6), empty_note, fill=LEGEND, font=font)
        return
    xticks = nice_ticks(min(p[0] for p in points), max(p[0] for p in points))
    yticks = nice_ticks(min(0.0, min(p[1] for p in points)), max(p[1] for p in points))
    (xlo, xhi), (ylo, yhi) = (xticks[0], xticks[-1]), (yticks[0], yticks[-1])

    def at(x: float, y: float) -> tuple[float, float]:
        return px0 + (x - xlo) / (xhi - xlo) * (px1 - px0), py1 - (y - ylo) / (yhi - ylo) * (py1 - py0)

    for y in yticks:
        _, yy = at(xlo, y)
        draw.line((px0, yy, px1, yy), fill=(40, 43, 48))
        draw.text((left + 4, yy - 6), _label(y), fill=LEGEND, font=small)
    for x in xticks:
        xx, _ = at(x, ylo)
        draw.text((xx - 10, py1 + 4), _label(x), fill=LEGEND, font=small)
    draw.text((px1 - draw.textlength(x_label, font=small), bottom - 14), x_label, fill=LEGEND, font=small)
    for s in series:
        pts = [at(x, y) for x, y in zip(s.xs, s.ys)]
        if s.style == "dots" or len(pts) == 1:
            for x, y in pts:
                draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=s.colour)
        elif pts:
            draw.line(pts, fill=s.colour, width=2)
    lx = px0 + 10.0
    for s in series:  # legend, top-left inside the plot
        draw.rectangle((lx, py0 + 8, lx + 9, py0 + 17), fill=s.colour)
        draw.text((lx + 13, py0 + 5), s.label, fill=TEXT, font=small)
        lx += 13 + draw.textlength(s.label, font=small) + 14


def _label(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.2g}"
