"""Squads: the arena's group orders. Teammates near each other are planned as one unit, and
the squad's plan becomes each member's steps by the rules a squad leader's order would mean.

- ``attack`` / ``approach`` a target: members ``engage``, the named target first if they
  see it: a squad told to fight goes on fighting when its target falls or hides, rather
  than standing idle until the model answers again. Members who see no enemy move to where
  the squad saw the target, then engage.
- ``take_cover``: each member takes its own nearest cover (the named one is the leader's),
  and a plan that ends there fires from it while armed, or holds it, as the heuristic does
  (``in_cover``).
- A member with no ammo told to fight takes its nearest cover and holds it: an ``engage``
  it cannot fire failed the tick it began, and the model was asked again for nothing (a
  quarter of one game's heuristic plans). With no cover in sight it falls through alone.
- ``retreat``: each member runs from the nearest enemy the squad sees, whether or not it
  sees one itself (a retreat from nobody ends as it starts).
- Anything else (``move_to``, ``scan``, ``wait``, ``engage``...): every member the same.
"""

from __future__ import annotations

from ai import ActionStep, Approach, Attack, GroupOrders, MoveTo, Perception, Retreat, Scan, TakeCover, proximity_squads
from engine import Position, World

from ._combat import Weapon
from ._heuristic import in_cover, nearest_cover
from ._orders import Engage

__all__ = ["DEFAULT_SQUAD_SIZE", "arena_squads", "squad_orders"]

DEFAULT_SQUAD_SIZE = 10


def arena_squads(size: int) -> GroupOrders:
    return GroupOrders(groups=proximity_squads(size), orders=squad_orders)


FIGHT_STEPS = (Attack, Approach, Engage)


def squad_orders(world: World, members: tuple[int, ...], steps: tuple[ActionStep, ...]) -> dict[int, tuple[ActionStep, ...] | None]:
    threats = sorted({enemy for member in members for enemy in world.component_for_entity(member, Perception).enemies})
    return {member: _share(world, member, steps, threats) for member in members}


def _share(world: World, member: int, steps: tuple[ActionStep, ...], threats: list[int]) -> tuple[ActionStep, ...] | None:
    seen = world.component_for_entity(member, Perception)
    weapon = world.try_component(member, Weapon)
    if weapon is not None and weapon.ammo == 0 and any(isinstance(step, FIGHT_STEPS) for step in steps):
        if nearest_cover(world, seen) is None:
            return None
        return (TakeCover(cover=None), *in_cover(world, member))
    out: list[ActionStep] = []
    for step in steps:
        if isinstance(step, Retreat) and step.target is None and not seen.enemies and threats:
            out.append(Retreat(target=_nearest(world, member, threats)))
            continue
        if isinstance(step, (Attack, Approach)):
            if seen.enemies:  # fight: the named target first if this member sees it
                out.append(Engage(target=step.target if seen.sees(step.target) else None))
                continue
            where = world.try_component(step.target, Position)
            if where is None:
                return tuple(out) or (Scan(),)
            return (*out, MoveTo(x=where.x, y=where.y), Engage(target=step.target))
        out.append(TakeCover(cover=None) if isinstance(step, TakeCover) else step)
    if isinstance(out[-1], TakeCover):
        out.extend(in_cover(world, member))
    return tuple(out)


def _nearest(world: World, member: int, enemies: list[int]) -> int:
    """The enemy nearest ``member`` (ties by id), of those its squad sees."""
    here = world.component_for_entity(member, Position)

    def distance(enemy: int) -> tuple[float, int]:
        there = world.component_for_entity(enemy, Position)
        return (there.x - here.x) ** 2 + (there.y - here.y) ** 2, enemy

    return min(enemies, key=distance)
