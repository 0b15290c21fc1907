"""The arena's combat rules: health, weapons, shots and deaths.

These belong to the game, not the framework (docs/architecture.md): tickmind knows nothing of hp.
Shots are resolved in two phases — every shooter aims at the state of the start of the
phase, then damage lands — so the result never depends on which of two duelling agents has
the lower id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ai import Faction, Perception, Plan
from ai.perception import perceive_now
from engine import Position, TickContext, World, component

from ._orders import aim

__all__ = ["ArenaScore", "Health", "Weapon", "Wounded", "resolve_deaths", "resolve_shots"]


@component(columns=True)
class Health:
    hp: float
    max_hp: float


@component
class Weapon:
    range: float
    damage: float
    ammo: int
    cooldown_ticks: int
    hit_chance: float = 0.75
    ready_tick: int = 0


@component
class Wounded:
    """Set when an agent is hit: a salient event that makes its planner think again."""

    tick: int
    by: int


@dataclass
class ArenaScore:
    """Tallies for the summary (a resource; derived from hashed state, so not hashed)."""

    kills: dict[int, int] = field(default_factory=dict)  #: team -> kills
    deaths: dict[int, int] = field(default_factory=dict)  #: team -> deaths
    shots: int = 0
    hits: int = 0


def resolve_shots(world: World, ctx: TickContext) -> None:
    """Agents whose current step shoots (``attack``, ``engage``, ``advance``) fire at their target if they can."""
    score = world.resource(ArenaScore)
    hits: list[tuple[int, int, float]] = []  # (target, shooter, damage)
    for shooter, (plan, weapon, pos, seen) in world.get_components(Plan, Weapon, Position, Perception):
        if ctx.tick < weapon.ready_tick or weapon.ammo <= 0:
            continue
        target = aim(plan.current, seen)
        if not target or target not in seen.enemies:
            continue
        target_pos = world.try_component(target, Position)
        if target_pos is None:
            continue
        dx, dy = target_pos.x - pos.x, target_pos.y - pos.y
        if dx * dx + dy * dy > weapon.range * weapon.range:
            continue
        weapon.ammo -= 1
        weapon.ready_tick = ctx.tick + weapon.cooldown_ticks
        score.shots += 1
        if ctx.rng.random() < weapon.hit_chance:
            hits.append((target, shooter, weapon.damage))
    for target, shooter, damage in sorted(hits):
        health = world.try_component(target, Health)
        if health is not None:
            health.hp -= damage
            world.add_component(target, Wounded(ctx.tick, shooter))
            perceive_now(world, target)  # a staggered agent sees who shot it on the next tick
            score.hits += 1


def resolve_deaths(world: World, ctx: TickContext) -> None:
    """Agents at or below zero hp leave the world (their bodies with them, via physics)."""
    score = world.resource(ArenaScore)
    health = world.columns(Health)
    for entity in health.entities[health.get("hp") <= 0.0].tolist():
        faction = world.try_component(entity, Faction)
        if faction is not None:
            wound = world.try_component(entity, Wounded)
            killer = world.try_component(wound.by, Faction) if wound is not None else None
            if killer is not None:
                score.kills[killer.team] = score.kills.get(killer.team, 0) + 1
            score.deaths[faction.team] = score.deaths.get(faction.team, 0) + 1
            world.delete_entity(entity)
