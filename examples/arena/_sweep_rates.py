"""Win rates per planner over a sweep's games, with Wilson 95% intervals.

A planner is counted by its *slot* (``A``: the first team's planner in a seed's first game,
``B``: the second team's), not by colour: with sides swapped each slot plays every seed as
both colours, so a map or spawn that favours one colour favours both slots equally. The
Wilson interval is the one that stays inside [0, 1] and means what it says at the small
counts a sweep of model games gives (the normal approximation claims 0 +- 0 at 0 of 10).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

__all__ = ["Z_95", "slot_rates", "wilson_interval"]

Z_95 = 1.959963984540054  #: the standard normal's two-sided 95% quantile


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a rate of ``successes`` in ``trials`` ((0, 1) for none)."""
    if trials == 0:
        return (0.0, 1.0)
    rate = successes / trials
    scale = 1 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / scale
    half = z / scale * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials))
    return (max(0.0, centre - half), min(1.0, centre + half))


def slot_rates(runs: list[dict[str, Any]], slots: dict[str, str], teams: list[str]) -> dict[str, dict[str, Any]]:
    """Per slot: its planner, wins, losses, draws, win rate and its interval, mean survivors,
    and the mean tick of the games it won (None before its first win)."""
    rates = {}
    for slot, planner in slots.items():
        wins = losses = draws = 0
        survivors: list[int] = []
        decided: list[int] = []
        for run in runs:
            team = teams[(slot == "B") != bool(run.get("swapped", False))]
            survivors.append(int(run["survivors"].get(team, 0)))
            if run["winner"] is None:
                draws += 1
            elif run["winner"] == team:
                wins += 1
                decided.append(int(run["ticks"]))
            else:
                losses += 1
        games = wins + losses + draws
        low, high = wilson_interval(wins, games)
        rates[slot] = {
            "planner": planner,
            "games": games,
            "wins": wins,
            "losses": losses,
            "draws": draws,
            "win_rate": wins / games if games else math.nan,
            "win_rate_95": [round(low, 4), round(high, 4)],
            "survivors_mean": statistics.fmean(survivors) if survivors else math.nan,
            "decided_tick_mean": statistics.fmean(decided) if decided else None,
        }
    return rates
