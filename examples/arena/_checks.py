"""The rules that tie a scenario's fields together, each problem reported under its path.

Field-level checks (types, signs, ranges) live on the models; what is here needs several
fields at once: boxes on the map, cover clear of walls, names that resolve, spawn zones that
hold their agents. ``find_problems`` collects every problem instead of stopping at the first,
so a user fixes a file in one pass. A spawn zone that fails a cheaper rule is not also
counted for room: one cause, one message.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ._geometry import Box
from ._scenario_base import MAX_AGENTS
from ._spawning import SPAWN_PITCH, slot_grid

if TYPE_CHECKING:
    from ._scenario import Scenario

__all__ = ["Loc", "find_problems", "suggest"]

Loc = tuple[str | int, ...]


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'red'?)`` when a close match exists, else ""."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def find_problems(s: Scenario) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    problems += _boxes_on_map(s)
    problems += _cover_clear_of_walls(s)
    problems += _teams(s)
    problems += _spawns(s)
    problems += _objective(s)
    return problems


def _off_map(box: Box, s: Scenario) -> str:
    return (
        f"box {box.label()} reaches x={box.right:g}, y={box.top:g}, outside the "
        f"{s.map.width:g} x {s.map.height:g} m map"
    )


def _boxes_on_map(s: Scenario) -> list[tuple[Loc, str]]:
    return [
        ((kind, i), _off_map(box, s))
        for kind, boxes in (("walls", s.walls), ("cover", s.cover))
        for i, box in enumerate(boxes)
        if not box.fits_in(s.map.width, s.map.height)
    ]


def _cover_clear_of_walls(s: Scenario) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for i, box in enumerate(s.cover):
        hit = _first_overlap(box, s.walls)
        if hit is not None:
            problems.append(
                (("cover", i), f"box {box.label()} overlaps walls[{hit}] ({s.walls[hit].label()}); move it clear of the wall")
            )
    return problems


def _first_overlap(box: Box, others: tuple[Box, ...]) -> int | None:
    return next((j for j, other in enumerate(others) if box.overlaps(other)), None)


def _teams(s: Scenario) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    seen: dict[str, int] = {}
    spawning = {zone.team for zone in s.spawns}
    for i, team in enumerate(s.teams):
        if team.name in seen:
            problems.append((("teams", i, "name"), f"{team.name!r} is already the name of teams[{seen[team.name]}]"))
            continue
        seen[team.name] = i
        if isinstance(team.stats, str) and team.stats not in s.stats:
            known = ", ".join(repr(k) for k in s.stats) or "none are defined"
            problems.append(
                (
                    ("teams", i, "stats"),
                    f"no stat block named {team.stats!r} in [stats] ({known}){suggest(team.stats, s.stats)}",
                )
            )
        if team.name not in spawning:
            problems.append(
                (("teams", i), f"team {team.name!r} has no spawn zone; add a spawns entry with team = {team.name!r}")
            )
    return problems


def _spawns(s: Scenario) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    names = [team.name for team in s.teams]
    usable: list[int] = []
    for i, zone in enumerate(s.spawns):
        if zone.team not in names:
            teams = ", ".join(repr(n) for n in names)
            problems.append((("spawns", i, "team"), f"unknown team {zone.team!r}; teams are {teams}{suggest(zone.team, names)}"))
        elif not zone.fits_in(s.map.width, s.map.height):
            problems.append((("spawns", i), _off_map(zone, s)))
        elif (hit := _first_overlap(zone, s.walls)) is not None:
            problems.append(
                (
                    ("spawns", i),
                    f"zone {zone.label()} overlaps walls[{hit}] ({s.walls[hit].label()}): agents would "
                    "spawn inside the wall; move the zone or the wall",
                )
            )
        elif (hit := _first_overlap(zone, s.spawns[:i])) is not None:
            problems.append((("spawns", i), f"zone {zone.label()} overlaps spawns[{hit}]; spawn zones may not overlap"))
        else:
            usable.append(i)

    for i in usable:
        zone = s.spawns[i]
        team_index = names.index(zone.team)
        stats = s.teams[team_index].stats
        if isinstance(stats, str) and stats not in s.stats:
            continue  # reported under teams[].stats
        radius = s.team_stats(team_index).radius
        room = slot_grid(zone, radius, s.obstacles).capacity
        if room < zone.count:
            side = SPAWN_PITCH * radius
            problems.append(
                (
                    ("spawns", i, "count"),
                    f"zone {zone.label()} has room for {room} agents of radius {radius:g} m, not {zone.count} "
                    f"(each needs a free {side:g} x {side:g} m square, clear of cover); enlarge the zone or lower count",
                )
            )

    total = s.agent_count
    if total > MAX_AGENTS:
        problems.append((("spawns",), f"{total:,} agents in all, more than the limit of {MAX_AGENTS:,}"))
    return problems


def _objective(s: Scenario) -> list[tuple[Loc, str]]:
    obj = s.objective
    if obj is None:
        return []
    if obj.x > s.map.width or obj.y > s.map.height:
        return [(("objective",), f"centre ({obj.x:g}, {obj.y:g}) is outside the {s.map.width:g} x {s.map.height:g} m map")]
    for kind, boxes in (("walls", s.walls), ("cover", s.cover)):
        for j, box in enumerate(boxes):
            if box.distance_to(obj.x, obj.y) == 0.0:
                return [(("objective",), f"centre ({obj.x:g}, {obj.y:g}) is inside {kind}[{j}] ({box.label()})")]
    return []
