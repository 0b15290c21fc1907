"""Drawing one :class:`Scene` top-down with Pillow: walls, cover, agents, hp, actions, plans.

Agents are discs filled with their team's colour, exactly (tests read it back), so hp is a
bar above each disc rather than a shade of it; the current action is a letter to its right
(:func:`glyph_table`: the core actions' own, then the world's own actions'); a thin line
runs from each agent to where its current step leads. A header strip shows the tick,
simulated time, survivors per team and the letters of the actions in the frame.

Map coordinates have y up; :class:`Viewport` turns them into pixels (y down), fitting the
whole map into the picture with the same scale on both axes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai import action_names

from ._render_scene import Scene, glyph_table

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

__all__ = [
    "HEADER",
    "PALETTE",
    "TEAM_COLOURS",
    "Viewport",
    "contact_sheet",
    "default_size",
    "draw_scene",
    "load_font",
    "team_colour",
]

RGB = tuple[int, int, int]

BACKGROUND: RGB = (24, 26, 30)
WALL: RGB = (120, 124, 132)
COVER: RGB = (150, 118, 72)
TEXT: RGB = (230, 230, 230)
HP_BACK: RGB = (70, 20, 20)
HP_FILL: RGB = (90, 220, 90)
NO_TEAM: RGB = (160, 160, 160)
#: Team i is drawn in TEAM_COLOURS[i % len]: red, blue, then distinct extras.
TEAM_COLOURS: tuple[RGB, ...] = ((230, 70, 60), (60, 130, 240), (80, 200, 100), (240, 180, 40), (190, 90, 220), (40, 200, 210))
HEADER_BACK: RGB = (12, 13, 16)
FRAME: RGB = (60, 64, 70)
LEGEND: RGB = (150, 150, 150)
HEADER = 36  #: pixels of the header strip above the map
PAD = 4
DEFAULT_WIDTH = 800


def team_colour(team: int | None) -> RGB:
    return NO_TEAM if team is None else TEAM_COLOURS[team % len(TEAM_COLOURS)]


def default_size(scene: Scene, width: int = DEFAULT_WIDTH) -> tuple[int, int]:
    """``width`` wide, tall enough for the map's shape plus the header (both even, for video)."""
    height = HEADER + 2 * PAD + (width - 2 * PAD) * scene.height / scene.width
    return width, 2 * math.ceil(height / 2)


@dataclass(frozen=True)
class Viewport:
    """Map metres (y up) to pixels (y down) for a ``size`` picture of a ``width x height`` map."""

    size: tuple[int, int]
    width: float
    height: float

    @property
    def scale(self) -> float:
        w, h = self.size
        return max(1e-9, min((w - 2 * PAD) / self.width, (h - HEADER - 2 * PAD) / self.height))

    @property
    def origin(self) -> tuple[float, float]:
        """Pixel of the map's top-left corner (the map is centred in the area under the header)."""
        w, h = self.size
        s = self.scale
        return (w - self.width * s) / 2, HEADER + (h - HEADER - self.height * s) / 2

    def to_px(self, x: float, y: float) -> tuple[float, float]:
        ox, oy = self.origin
        return ox + x * self.scale, oy + (self.height - y) * self.scale


def draw_scene(scene: Scene, size: tuple[int, int] | None = None) -> PILImage.Image:
    """One RGB frame of ``scene`` (``size`` defaults to :func:`default_size`)."""
    from PIL import Image, ImageDraw

    size = size or default_size(scene)
    view = Viewport(size, scene.width, scene.height)
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    small = load_font(11)

    def box(b: tuple[float, float, float, float], colour: RGB) -> None:
        (x0, y1), (x1, y0) = view.to_px(b[0], b[1]), view.to_px(b[2], b[3])
        draw.rectangle((x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)), fill=colour)

    ox, oy = view.origin
    draw.rectangle((ox, oy, ox + scene.width * view.scale - 1, oy + scene.height * view.scale - 1), outline=FRAME)
    for b in scene.walls:
        box(b, WALL)
    for b in scene.cover:
        box(b, COVER)
    for agent in scene.agents:  # plan lines first: discs stay on top
        if agent.target is not None:
            draw.line((view.to_px(agent.x, agent.y), view.to_px(*agent.target)), fill=_dim(team_colour(agent.team)), width=1)
    glyphs = glyph_table(action_names())  # every action the world knows, so letters hold across frames
    for agent in scene.agents:
        cx, cy = view.to_px(agent.x, agent.y)
        r = max(3.0, agent.radius * view.scale)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=team_colour(agent.team))
        if agent.hp is not None:
            top, left, right = cy - r - 4, cx - r, cx + r
            draw.rectangle((left, top, right, top + 2), fill=HP_BACK)
            draw.rectangle((left, top, left + (right - left) * agent.hp, top + 2), fill=HP_FILL)
        if agent.act is not None:
            draw.text((cx + r + 1, cy - r - 2), glyphs.get(agent.act, "?"), fill=TEXT, font=small)
    _header(draw, scene, size[0], {act: glyphs[act] for act in glyphs if any(a.act == act for a in scene.agents)})
    return image


def _header(draw: ImageDraw.ImageDraw, scene: Scene, width: int, glyphs: dict[str, str]) -> None:
    """Tick, time, survivors per team, and the letters of the actions in this frame."""
    draw.rectangle((0, 0, width - 1, HEADER - 1), fill=HEADER_BACK)
    font = load_font(13)
    x = 6.0
    text = f"tick {scene.tick}   {scene.time_s:.1f} s"
    draw.text((x, 3), text, fill=TEXT, font=font)
    x += draw.textlength(text, font=font) + 16
    for team, alive in enumerate(scene.alive()):
        name = scene.teams[team] if team < len(scene.teams) else f"team {team}"
        draw.rectangle((x, 6, x + 9, 15), fill=team_colour(team))
        label = f"{name} {alive}"
        draw.text((x + 13, 3), label, fill=TEXT, font=font)
        x += 13 + draw.textlength(label, font=font) + 14
    legend = "   ".join(f"{g}={act.replace('_', ' ')}" for act, g in glyphs.items())
    draw.text((6, 20), legend, fill=LEGEND, font=load_font(11))


def _dim(colour: RGB) -> RGB:
    return (colour[0] // 2 + 20, colour[1] // 2 + 20, colour[2] // 2 + 20)


#: Every colour a frame uses, plus a grey ramp for anti-aliased text: a GIF's fixed palette.
PALETTE: tuple[RGB, ...] = (
    BACKGROUND, WALL, COVER, TEXT, HP_BACK, HP_FILL, NO_TEAM, HEADER_BACK, FRAME, LEGEND,
    *TEAM_COLOURS, *map(_dim, TEAM_COLOURS), *((v, v, v) for v in range(0, 256, 8)),
)


_fonts: dict[int, ImageFont.ImageFont | ImageFont.FreeTypeFont] = {}


def load_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled font at ``size`` (the fixed bitmap one if FreeType is missing)."""
    from PIL import ImageFont

    if size not in _fonts:
        try:
            _fonts[size] = ImageFont.load_default(size=size)
        except (TypeError, ImportError, OSError):  # Pillow < 10.1 or no FreeType
            _fonts[size] = ImageFont.load_default()
    return _fonts[size]


def contact_sheet(frames: Sequence[PILImage.Image], columns: int | None = None) -> PILImage.Image:
    """Lay ``frames`` (all one size) out in a grid, left to right, top to bottom."""
    from PIL import Image

    if not frames:
        raise ValueError("contact_sheet needs at least one frame")
    columns = columns or math.ceil(math.sqrt(len(frames)))
    rows = math.ceil(len(frames) / columns)
    w, h = frames[0].size
    sheet = Image.new("RGB", (columns * w, rows * h), BACKGROUND)
    for i, frame in enumerate(frames):
        sheet.paste(frame, ((i % columns) * w, (i // columns) * h))
    return sheet
