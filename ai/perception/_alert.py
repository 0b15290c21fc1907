"""Refresh one agent's perception on the next perception pass, whatever its stagger phase.

Why: with ``install_perception(every=k)`` an agent sees the world up to ``k - 1`` ticks late,
which is fine for a calm agent and wrong for one that was just hit, whose plan just ended
(its planner is about to read what it sees), or that an enemy just came into sight of. Those
events mark the agent with a ``PerceiveNow`` component; the perception system refreshes it
on its next pass and removes the mark. The mark is hashed state like any component, set by
systems in entity-id order, so a replay refreshes the same agents on the same ticks.
"""

from __future__ import annotations

from engine import World, component

__all__ = ["PerceiveNow", "perceive_now"]


@component
class PerceiveNow:
    """Refresh this agent's ``Perception`` on the next perception pass."""


def perceive_now(world: World, entity: int) -> None:
    """Mark ``entity`` for a refresh (nothing if it is gone or already marked)."""
    if world.entity_exists(entity) and not world.has_component(entity, PerceiveNow):
        world.add_component(entity, PerceiveNow())
