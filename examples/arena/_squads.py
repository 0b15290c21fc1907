"""Squads: the arena's group orders. Teammates near each other are planned as one unit, and
the squad's plan becomes each member's steps by the rules a squad leader's order would mean.

- ``attack`` / ``approach`` a target: members ``engage``, the named target first if they
  see it: a squad told to fight goes on fighting when its target falls or hides, rather
  than standing idle until the model answers again. Members who see no enemy move to where
  the squad saw the target, then engage.
- ``take_cover``: each member takes its own nearest cover (the named one is the leader's),
  and a plan that ends there fires from it while armed, or holds it, as the heuristic does
  (``in_cover``).
- Anything else (``move_to``, ``retreat``, ``scan``, ``wait``, ``engage``...): every member
  the same.
"""

from __future__ import annotations

from ai import ActionStep, Approach, Attack, GroupOrders, MoveTo, Perception, Scan, TakeCover, proximity_squads
from engine import Position, World

from ._heuristic import in_cover
from ._orders import Engage

__all__ = ["DEFAULT_SQUAD_SIZE", "arena_squads", "squad_orders"]

DEFAULT_SQUAD_SIZE = 10


def arena_squads(size: int) -> GroupOrders:
    return GroupOrders(groups=proximity_squads(size), orders=squad_orders)


def squad_orders(world: World, members: tuple[int, ...], steps: tuple[ActionStep, ...]) -> dict[int, tuple[ActionStep, ...]]:
    return {member: _share(world, member, steps) for member in members}


def _share(world: World, member: int, steps: tuple[ActionStep, ...]) -> tuple[ActionStep, ...]:
    seen = world.component_for_entity(member, Perception)
    out: list[ActionStep] = []
    for step in steps:
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
