"""Running a scenario at another size: ``tickmind arena --agents 10000``.

Agent counts are shared out over the spawn zones in proportion to the counts the file
gives (largest remainder, ties to the earlier zone), so a symmetric 50/50 scenario stays
symmetric. When the zones cannot hold the new counts, the whole map grows by one factor:
walls, cover, zones and objective move and stretch together, which keeps the layout, its
symmetry and its agent density, while agents keep their size, speed and ranges. The time
limit grows by the same factor, since every distance to walk does. The navigation cell
keeps its size unless the grown map would pass MAX_CELLS, in which case it coarsens just
enough. The map never shrinks.
"""

from __future__ import annotations

import math
from typing import Any

from ._errors import Problem, ScenarioError
from ._geometry import Box
from ._loading import parse_scenario
from ._scenario import Scenario
from ._scenario_base import MAX_AGENTS, MAX_CELLS, MAX_EXTENT
from ._spawning import slot_grid

__all__ = ["scale_agents"]

_STEP = 1.05  # growth per try once the first estimate is too small
_TRIES = 200  # 1.05 ** 200 > 17 000: far past anything MAX_EXTENT allows


def scale_agents(scenario: Scenario, agents: int) -> Scenario:
    """``scenario`` with ``agents`` agents in all, its map grown if the spawn zones need room.

    Raises ScenarioError when ``agents`` is fewer than the spawn zones (each keeps at least
    one agent), above MAX_AGENTS, or when the grown map would break a limit.
    """
    source = f"{scenario.source} scaled to {agents} agents"
    zones = len(scenario.spawns)
    if isinstance(agents, bool) or not isinstance(agents, int) or not zones <= agents <= MAX_AGENTS:
        reason = f"must be a whole number from {zones} (one per spawn zone) to {MAX_AGENTS:,}, got {agents!r}"
        raise ScenarioError(source, [Problem("agents", reason)])
    counts = _apportion(agents, [zone.count for zone in scenario.spawns])
    factor = _growth(scenario, counts, source)
    data = scenario.model_dump()
    for zone, count in zip(data["spawns"], counts):
        zone["count"] = count
    if factor > 1:
        _grow(data, factor)
    return parse_scenario(data, source)


def _apportion(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (positive), every share at least 1."""
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    for i, share in enumerate(shares):
        if share == 0:  # a tiny zone next to big ones: borrow from the biggest share
            donor = max(range(len(shares)), key=lambda j: (shares[j], -j))
            shares[donor] -= 1
            shares[i] = 1
    return shares


def _growth(scenario: Scenario, counts: list[int], source: str) -> float:
    """The smallest factor (>= 1, rounded up to 0.01) at which every zone holds its count."""
    names = [team.name for team in scenario.teams]
    radii = [scenario.team_stats(names.index(zone.team)).radius for zone in scenario.spawns]

    def rooms(factor: float) -> list[int]:
        if max(scenario.map.width, scenario.map.height) * factor > MAX_EXTENT:
            reason = f"holding {sum(counts):,} agents would grow the map past {MAX_EXTENT:g} m"
            raise ScenarioError(source, [Problem("map", reason)])
        obstacles = [_scaled(box, factor) for box in scenario.obstacles]
        return [
            slot_grid(_scaled(zone, factor), radius, obstacles).capacity
            for zone, radius in zip(scenario.spawns, radii)
        ]

    # room grows with area, so sqrt(need / room) is a good first guess; _STEP covers rounding
    factor = max(1.0, max(math.sqrt(c / max(r, 1)) for c, r in zip(counts, rooms(1.0))))
    for _ in range(_TRIES):
        factor = math.ceil(factor * 100) / 100
        if all(room >= count for room, count in zip(rooms(factor), counts)):
            return factor
        factor *= _STEP
    raise ScenarioError(source, [Problem("spawns", f"no map size holds {sum(counts):,} agents")])


def _scaled(box: Box, factor: float) -> Box:
    # not validated: only slot_grid reads it, and the grown scenario is validated whole
    return Box.model_construct(x=box.x * factor, y=box.y * factor, w=box.w * factor, h=box.h * factor)


def _grow(data: dict[str, Any], factor: float) -> None:
    """Scale the dumped scenario's geometry and time limit by ``factor``, in place."""
    area = data["map"]
    area["width"] *= factor
    area["height"] *= factor
    cells = (area["width"] / area["cell_size"]) * (area["height"] / area["cell_size"])
    if cells > MAX_CELLS:
        area["cell_size"] *= math.sqrt(cells / MAX_CELLS) * (1 + 1e-9)
    for key in ("walls", "cover", "spawns"):
        for box in data[key]:
            for field in ("x", "y", "w", "h"):
                box[field] *= factor
            box["w"] = _fitted(box["x"], box["w"], area["width"])
            box["h"] = _fitted(box["y"], box["h"], area["height"])
    if data["objective"] is not None:
        for field in ("x", "y", "radius"):
            data["objective"][field] *= factor
    data["sim"]["time_limit"] *= factor


def _fitted(start: float, size: float, extent: float) -> float:
    """``size``, less the last bits rounding added: a box that ended at the map's edge (x + w
    == width) can end past it once each is scaled (41*1.15 + 9*1.15 > 50*1.15), and the
    grown scenario would then fail its own check. Only the rounding is taken off: the loaded
    scenario fitted, so the exact scaled box fits."""
    while start + size > extent and size > 0.0:
        size = math.nextafter(size, 0.0)
    return size
