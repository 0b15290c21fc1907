"""Executing the core ActionSteps: each agent's current step becomes a nav goal or a stance,
and the step is marked done or failed from what the world says (arrived, unreachable,
target gone).

One executor per action type, looked up by the step's class in the arena's
:class:`ai.execution.Executors` table: the framework's own for walking, waiting, scanning,
patrolling and regrouping, and the arena's for fighting and its orders. A game that adds an
action registers its executor with ``register_executor``. Executors never raise on bad
targets: an invalid situation fails the plan with a reason, which the planner reads on its
next turn.

This table is also what the arena offers its model (:func:`executed_actions`, read by
``arena_tiers`` when a world is built): an action registered elsewhere without an executor
here is never offered, since a plan naming it could only fail.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ai import ActionStep, Approach, Attack, Faction, MoveTo, Patrol, Regroup, Retreat, Scan, TakeCover, Wait
from ai.execution import BUILTIN_EXECUTORS, REGROUP_DISTANCE, Executor, Executors, StepContext
from engine import Position, TickContext, World
from nav import NavGoal
from physics import Wall

from ._combat import Weapon
from ._heuristic import Objectives, nearest_cover
from ._orders import Advance, Engage

__all__ = ["ArenaBounds", "StepContext", "arena_execution", "executed_actions", "register_executor"]

RETREAT_DISTANCE = 8.0
ATTACK_PATIENCE = 90  #: ticks an Attack waits for its target to come back into view


@dataclass(frozen=True)
class ArenaBounds:
    """Map extent and movement speed defaults the executors need (a world resource)."""

    width: float
    height: float
    margin: float = 0.5

    def clamp(self, x: float, y: float) -> tuple[float, float]:
        m = self.margin
        if m <= x <= self.width - m and m <= y <= self.height - m:
            return x, y  # the common case, once per moving agent per tick
        return min(max(x, m), self.width - m), min(max(y, m), self.height - m)


def register_executor(action: type[ActionStep], executor: Executor) -> None:
    """Make ``executor(step_ctx, step)`` run every tick an agent's current step is ``action``.

    Register before ``build_arena``: the worlds built afterwards offer ``action`` to their
    model (if it is a registered action, ``@ai.register_action``), worlds built before do not.
    """
    _executors.register(action, executor)


def executed_actions() -> tuple[str, ...]:
    """What the arena may offer its model: :meth:`ai.execution.Executors.actions` of its table."""
    return _executors.actions()


def arena_execution(world: World) -> Callable[[World, TickContext], None]:
    """The system executing the arena's steps, goals kept ``ArenaBounds.margin`` inside the map."""
    return _executors.system(clamp=world.resource(ArenaBounds).clamp)


# --- helpers -----------------------------------------------------------------------------


def _position_of(world: World, entity: int | None) -> Position | None:
    return world.try_component(entity, Position) if entity else None


def _distance(a: Position, b: Position) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


# --- the arena's executors -----------------------------------------------------------------


def _approach(sc: StepContext, step: Approach) -> None:
    target = _position_of(sc.world, step.target)
    if target is None or not sc.seen.sees(step.target):
        sc.plan.fail(f"target {step.target} is not visible")
        return
    weapon = sc.world.try_component(sc.entity, Weapon)
    reach = weapon.range * 0.8 if weapon is not None else REGROUP_DISTANCE
    if _distance(sc.pos, target) <= reach:
        sc.plan.advance(sc.tick)
        return
    sc.follow(sc.go(target.x, target.y, arrive_radius=reach), "target {}", step.target)


def _retreat(sc: StepContext, step: Retreat) -> None:
    """Run ``RETREAT_DISTANCE`` straight away from the threat, chosen when the step begins
    (``plan.progress`` 1 once chosen): a goal the agent already had belongs to the plan this
    one replaced, and following it walked the agent wherever that plan was going. A named
    threat that fell before the plan arrived gives way to the nearest enemy in sight."""
    if sc.plan.progress:
        goal = sc.world.try_component(sc.entity, NavGoal)
        if goal is not None:
            sc.follow(sc.go(goal.x, goal.y), "the retreat point")
            return
    threat = _position_of(sc.world, step.target) or _position_of(sc.world, sc.seen.nearest_enemy)
    if threat is None:
        sc.plan.advance(sc.tick)  # nothing to run from: the named threat is down and no other in sight
        return
    dx, dy = sc.pos.x - threat.x, sc.pos.y - threat.y
    norm = math.hypot(dx, dy) or 1.0
    sc.go(sc.pos.x + dx / norm * RETREAT_DISTANCE, sc.pos.y + dy / norm * RETREAT_DISTANCE)
    sc.plan.progress = 1


def _take_cover(sc: StepContext, step: TakeCover) -> None:
    cover_id = step.cover if step.cover is not None else nearest_cover(sc.world, sc.seen)
    cover = _position_of(sc.world, cover_id)
    if cover is None:
        sc.plan.fail("no cover in sight")
        return
    threat = _position_of(sc.world, sc.seen.nearest_enemy)
    # Stand on the far side of the cover from the nearest threat (or where we are now).
    away_x, away_y = (cover.x - threat.x, cover.y - threat.y) if threat else (sc.pos.x - cover.x, sc.pos.y - cover.y)
    norm = math.hypot(away_x, away_y) or 1.0
    size = _cover_reach(sc.world, cover_id)
    x, y = cover.x + away_x / norm * size, cover.y + away_y / norm * size
    sc.follow(sc.go(x, y, arrive_radius=0.75), "cover {}", cover_id)


def _cover_reach(world: World, cover_id: int | None) -> float:
    wall = world.try_component(cover_id, Wall) if cover_id else None
    if wall is None:
        return 1.5
    return max(wall.x1 - wall.x0, wall.y1 - wall.y0) / 2 + 1.0


def _attack(sc: StepContext, step: Attack) -> None:
    sc.stop()
    if not sc.world.entity_exists(step.target):
        sc.plan.advance(sc.tick)  # target down
        return
    weapon = sc.world.try_component(sc.entity, Weapon)
    if weapon is None or weapon.ammo <= 0:
        sc.plan.fail("out of ammo")
    elif not sc.seen.sees(step.target) and sc.tick - sc.plan.step_tick > ATTACK_PATIENCE:
        sc.plan.fail(f"lost sight of target {step.target}")


def _engage(sc: StepContext, step: Engage) -> None:
    """Ends once no enemy has been in sight for ``ATTACK_PATIENCE`` ticks: sight flickers
    round cover, and a fight should not end on one tick without a view. ``plan.progress``
    keeps the last tick an enemy was in sight."""
    target_id = step.focus(sc.seen)
    target = _position_of(sc.world, target_id)
    if target is None:
        sc.stop()
        if sc.tick - max(sc.plan.progress, sc.plan.step_tick) > ATTACK_PATIENCE:
            sc.plan.advance(sc.tick)  # nobody left in sight
        return
    sc.plan.progress = sc.tick
    weapon = sc.world.try_component(sc.entity, Weapon)
    if weapon is None or weapon.ammo <= 0:
        sc.plan.fail("out of ammo")
    elif _distance(sc.pos, target) <= weapon.range:
        sc.stop()  # hold and shoot: resolve_shots aims where step.focus says
    elif sc.go(target.x, target.y, arrive_radius=weapon.range * 0.8) == "unreachable":
        sc.plan.fail(f"enemy {target_id} is unreachable")


def _advance(sc: StepContext, step: Advance) -> None:
    team = sc.world.component_for_entity(sc.entity, Faction).team
    x, y = sc.world.resource(Objectives).next_point(team, sc.entity, sc.pos.x, sc.pos.y)
    sc.follow(sc.go(x, y), "the goal ({:.0f}, {:.0f})", x, y)


#: In this order the arena offers them to its model (the prompt lists them so).
_executors = Executors(
    [
        (MoveTo, BUILTIN_EXECUTORS[MoveTo]),
        (Approach, _approach),
        (Retreat, _retreat),
        (TakeCover, _take_cover),
        (Attack, _attack),
        (Engage, _engage),
        (Advance, _advance),
        (Wait, BUILTIN_EXECUTORS[Wait]),
        (Scan, BUILTIN_EXECUTORS[Scan]),
        (Patrol, BUILTIN_EXECUTORS[Patrol]),
        (Regroup, BUILTIN_EXECUTORS[Regroup]),
    ]
)
