"""A run's plots, one PNG of three panels: team hp over time, plans per tier, model latency.

The series come from the same model-free replay that draws the frames (:class:`HpRecorder`
is its ``on_tick``) and from the journal (:class:`PlanTally`: plans by the tier that made
them, and per-request latency when the planner journaled it). Drawn with Pillow only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ai import Faction
from engine import World

from ._combat import Health
from ._render import TEAM_COLOURS, team_colour
from ._render_chart import Series, draw_chart
from ._summary_tally import TIERS, PlanTally

__all__ = ["HpRecorder", "plot_run"]

TIER_COLOURS = dict(zip(TIERS, ((120, 200, 255), (200, 160, 255), TEAM_COLOURS[3], (240, 90, 90))))
PANEL_HEIGHT = 240


@dataclass
class HpRecorder:
    """``on_tick`` for a replay: each team's total hp after every tick (teams by index)."""

    ticks: list[int] = field(default_factory=list)
    totals: list[list[float]] = field(default_factory=list)  #: [team][sample]

    def __call__(self, world: World) -> None:
        sums: dict[int, float] = {}
        for _, (health, faction) in world.get_components(Health, Faction):
            sums[faction.team] = sums.get(faction.team, 0.0) + max(0.0, health.hp)
        while len(self.totals) <= max(sums, default=-1):
            self.totals.append([0.0] * len(self.ticks))  # a team first seen now had none before
        for team, series in enumerate(self.totals):
            series.append(sums.get(team, 0.0))
        self.ticks.append(world.tick)


def plot_run(
    path: Path,
    hp: HpRecorder,
    tally: PlanTally,
    *,
    dt: float,
    teams: tuple[str, ...] = (),
    width: int = 800,
) -> None:
    """Write the three panels to ``path`` (PNG). Time axes are simulated seconds."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, 3 * PANEL_HEIGHT))
    draw = ImageDraw.Draw(image)
    seconds = [t * dt for t in hp.ticks]
    team_series = [
        Series(teams[i] if i < len(teams) else f"team {i}", team_colour(i), seconds, values)
        for i, values in enumerate(hp.totals)
    ]
    draw_chart(draw, (0, 0, width - 1, PANEL_HEIGHT - 1), "team hp", team_series, x_label="simulated s",
               empty_note="no entity has Health and a Faction")
    tier_series = []
    for tier in TIERS:
        ticks = [t for t, made_by in tally.timeline if made_by == tier]
        if ticks:
            tier_series.append(Series(tier, TIER_COLOURS[tier], [t * dt for t in ticks], range(1, len(ticks) + 1)))
    draw_chart(draw, (0, PANEL_HEIGHT, width - 1, 2 * PANEL_HEIGHT - 1), "plans applied per tier (cumulative)",
               tier_series, x_label="simulated s", empty_note="no plans in the journal")
    jobs = sorted(tally.latencies_s.values())
    latency = [Series("model request", TIER_COLOURS["llm"], [t * dt for t, _ in jobs], [1000 * s for _, s in jobs], "dots")]
    draw_chart(draw, (0, 2 * PANEL_HEIGHT, width - 1, 3 * PANEL_HEIGHT - 1), "LLM latency per request (ms)",
               latency if jobs else [], x_label="simulated s (plan applied)",
               empty_note="no model latency in the journal (no model plans, or only streamed ones)")
    image.save(path, format="PNG")
