"""The arena's heuristic controller: utility rules that plan for an agent instantly.

It is the tier below the language model (and the whole controller in ``--planner
heuristic``): deterministic, per agent, a few microseconds. The framework's ``ai.Planner``
runs it; its plans reach the world the way a model's do — ``AssignPlan`` inputs stamped
``delay`` ticks ahead and journaled with their tier — so a heuristic run replays exactly like
an LLM run.
"""

from __future__ import annotations

from dataclasses import dataclass

from ai import (
    ActionStep,
    Approach,
    Attack,
    Faction,
    MoveTo,
    Perceivable,
    Perception,
    Plan,
    Policies,
    Retreat,
    Scan,
    TakeCover,
    Wait,
)
from engine import Position, World
from physics import Body

from ._combat import Health, Weapon, Wounded
from ._orders import Advance, Engage

__all__ = [
    "ARENA_POLICIES", "CALM_ACTIONS", "Objectives", "arena_salient", "emergency_plan", "heuristic_plan", "in_cover", "nearest_cover",
]

LOW_HEALTH = 0.35
ARRIVING_S = 2.0  #: seconds of walking left when a plan ending in a walk asks for the next
ARRIVING_TICKS = 120  #: but only once the plan is this old
COVER_HOLD_TICKS = 90  #: how long an agent that took cover stays there before it thinks again
CALM_STEPS = (MoveTo, Advance, Scan, Wait)
CALM_ACTIONS = frozenset(step.model_fields["act"].default for step in CALM_STEPS)


@dataclass(frozen=True)
class Objectives:
    """Where each team heads when it sees no enemy (a world resource).

    ``capture``: team -> the point to take first; ``hunt``: team -> points to sweep once
    there (the enemy spawns), chosen per agent by entity id so the sweep spreads out.
    """

    capture: dict[int, tuple[float, float]]
    hunt: dict[int, tuple[tuple[float, float], ...]]
    reached: float = 5.0  #: metres from the capture point that count as "there"

    def next_point(self, team: int, entity: int, x: float, y: float) -> tuple[float, float]:
        cx, cy = self.capture[team]
        if (x - cx) ** 2 + (y - cy) ** 2 > self.reached**2 or not self.hunt[team]:
            return cx, cy
        return self.hunt[team][entity % len(self.hunt[team])]


def heuristic_plan(world: World, entity: int) -> tuple[ActionStep, ...]:
    """Utility rules: take cover when out of ammo, or when hurt with an enemy in range (and
    fire from it while armed; with no cover, stand and fire, or fall back when dry); shoot
    what is in range, close in on what is not, otherwise advance on the objective.

    A hurt agent whose enemies are all out of range closes in while it has ammo: nobody can
    hit it there, and holding cover left even fights at a standoff, each side's hurt
    shooters behind pillars 22 m apart and the healthy out of ammo, until the time limit."""
    seen = world.component_for_entity(entity, Perception)
    health = world.component_for_entity(entity, Health)
    weapon = world.component_for_entity(entity, Weapon)
    pos = world.component_for_entity(entity, Position)
    if seen.enemies:
        target = seen.nearest_enemy
        in_range = _in_range(world, pos, weapon, target)
        if weapon.ammo == 0 or (health.hp < LOW_HEALTH * health.max_hp and in_range):
            cover = nearest_cover(world, seen)
            if cover:
                return (TakeCover(cover=cover), *in_cover(world, entity))
            if weapon.ammo > 0:
                return (Attack(target=target),)  # nowhere to hide: running only stalls the fight
            return (Retreat(target=target),)
        if in_range:
            return (Attack(target=target),)
        return (Approach(target=target), Attack(target=target))
    team = world.component_for_entity(entity, Faction).team
    x, y = world.resource(Objectives).next_point(team, entity, pos.x, pos.y)
    return (MoveTo(x=x, y=y), Scan())


def in_cover(world: World, entity: int) -> tuple[ActionStep, ...]:
    """What an agent does once in cover: fire at the nearest enemy in range while it has
    ammo, else hold for ``COVER_HOLD_TICKS``. Holding whatever happens made fights stall:
    the hurt kept their ammo, the armed were hurt, and the game ran out its clock with
    every survivor hiding from the others."""
    seen = world.component_for_entity(entity, Perception)
    weapon = world.component_for_entity(entity, Weapon)
    pos = world.component_for_entity(entity, Position)
    if weapon.ammo > 0 and seen.enemies and _in_range(world, pos, weapon, seen.nearest_enemy):
        return (Attack(target=seen.nearest_enemy),)
    return (Wait(ticks=COVER_HOLD_TICKS),)


def _in_range(world: World, pos: Position, weapon: Weapon, target: int) -> bool:
    there = world.component_for_entity(target, Position)
    return (there.x - pos.x) ** 2 + (there.y - pos.y) ** 2 <= weapon.range**2


def emergency_plan(world: World, entity: int) -> tuple[ActionStep, ...]:
    """The last tier: hold still, safe whatever the world looks like."""
    return (Wait(ticks=60),)


def nearest_cover(world: World, seen: Perception) -> int | None:
    for obj in seen.objects:
        marker = world.try_component(obj, Perceivable)
        if marker is not None and marker.kind == "cover":
            return obj
    return None


def arena_salient(world: World, entity: int, plan: Plan) -> bool:
    """Replan early when the situation the plan was made for has changed: an enemy comes
    into view of a calm agent, or a hit lands after the plan was made (unless the agent is
    already running for cover).

    A hit on an agent carrying out a standing order to fight (``engage``) is what that order
    means, not news, unless it leaves the agent badly hurt: replanning a squad's engage on
    every hit would re-ask the model several times a second per squad in a firefight, far
    faster than it answers."""
    seen = world.component_for_entity(entity, Perception)
    step = plan.current
    if seen.enemies and isinstance(step, CALM_STEPS):
        return True
    if isinstance(step, MoveTo) and _arriving(world, entity, plan, step):
        return True
    wound = world.try_component(entity, Wounded)
    if wound is None or wound.tick <= plan.assigned_tick or isinstance(step, (Retreat, TakeCover)):
        return False
    if isinstance(step, Engage):
        health = world.component_for_entity(entity, Health)
        return health.hp < LOW_HEALTH * health.max_hp
    return True


def _arriving(world: World, entity: int, plan: Plan, step: MoveTo) -> bool:
    """A plan's last step is a walk about ``ARRIVING_S`` from its end: ask for the next plan
    now, so it is there when this one ends, instead of leaving the agent to the heuristic
    while the model answers. (Not for a plan younger than that: a model that answers the
    same walk again would be asked again at once.)"""
    if plan.index != len(plan.steps) - 1 or world.tick - plan.assigned_tick < ARRIVING_TICKS:
        return False
    pos = world.component_for_entity(entity, Position)
    body = world.try_component(entity, Body)
    reach = (body.max_speed if body is not None else 1.0) * ARRIVING_S
    return (pos.x - step.x) ** 2 + (pos.y - step.y) ** 2 <= reach * reach


ARENA_POLICIES = Policies(heuristic=heuristic_plan, emergency=emergency_plan, salient=arena_salient)
