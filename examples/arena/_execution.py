"""Executing the core ActionSteps: each agent's current step becomes a nav goal or a stance,
and the step is marked done or failed from what the world says (arrived, unreachable,
target gone).

One executor per action type, looked up by the step's class. A game that adds an action
registers its executor with ``register_executor`` — the arena's own are registered the same
way. Executors never raise on bad targets: an invalid situation fails the plan with a reason,
which the planner reads on its next turn.

This table is also what the arena offers its model (:func:`executed_actions`, read by
``arena_tiers`` when a world is built): an action registered elsewhere without an executor
here is never offered, since a plan naming it could only fail.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ai import (
    ActionStep,
    Approach,
    Attack,
    Faction,
    MoveTo,
    Patrol,
    Perceivable,
    Perception,
    Plan,
    Regroup,
    Retreat,
    Scan,
    TakeCover,
    Wait,
    action_types,
)
from engine import Position, TickContext, World
from nav import NavGoal, NavStatus
from physics import Body, Wall

from ._combat import Weapon
from ._heuristic import Objectives
from ._orders import Advance, Engage

__all__ = ["ArenaBounds", "StepContext", "execute_steps", "executed_actions", "register_executor"]

SCAN_TICKS = 30
RETREAT_DISTANCE = 8.0
REGROUP_DISTANCE = 3.0
GOAL_TOLERANCE = 1.0  #: re-aim a moving goal only when its target moved this far
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


@dataclass(slots=True)
class StepContext:
    """What an executor sees of one agent this tick. ``bounds`` is read once per tick, not
    per agent: ``_go`` clamps every moving agent's goal, every tick."""

    world: World
    entity: int
    plan: Plan
    pos: Position
    seen: Perception
    tick: int
    speed: float
    bounds: ArenaBounds


Executor = Callable[[StepContext, ActionStep], None]
_executors: dict[type[ActionStep], Executor] = {}


def register_executor(action: type[ActionStep], executor: Executor) -> None:
    """Make ``executor(step_ctx, step)`` run every tick an agent's current step is ``action``.

    Register before ``build_arena``: the worlds built afterwards offer ``action`` to their
    model (if it is a registered action, ``@ai.register_action``), worlds built before do not.
    """
    _executors[action] = executor


def executed_actions() -> tuple[str, ...]:
    """The ``act`` names of the registered actions the arena has an executor for, in the
    order their executors were registered: exactly what the arena may offer its model.

    Matched by class, as ``execute_steps`` looks executors up: a model's step is parsed into
    the registry's class, so only that class's executor can ever run it. An executor for a
    class that is not a registered action still runs plans your own code assigns, but the
    model cannot write that action, so it is not offered.
    """
    names = {cls: name for name, cls in action_types().items()}
    return tuple(names[cls] for cls in _executors if cls in names)


def execute_steps(world: World, ctx: TickContext) -> None:
    """Advance every running plan by one tick, in ascending entity id."""
    tick, executors, bounds = ctx.tick, _executors, world.resource(ArenaBounds)
    for entity, (plan, pos, seen, body) in world.get_components(Plan, Position, Perception, Body):
        step = plan.current
        if step is None:
            _stop(world, entity)
            continue
        executor = executors.get(type(step))
        if executor is None:
            plan.fail(f"no executor for action {step.act!r}")
            continue
        executor(StepContext(world, entity, plan, pos, seen, tick, body.max_speed, bounds), step)
        if plan.current is None:
            _stop(world, entity)


# --- helpers -----------------------------------------------------------------------------


def _stop(world: World, entity: int) -> None:
    if world.has_component(entity, NavGoal):
        world.remove_component(entity, NavGoal)


def _go(sc: StepContext, x: float, y: float, arrive_radius: float = 0.5) -> str:
    """Steer towards (x, y); return the nav state ("moving", "arrived", "unreachable")."""
    world = sc.world
    x, y = sc.bounds.clamp(x, y)
    goal = world.try_component(sc.entity, NavGoal)
    if goal is None or math.hypot(goal.x - x, goal.y - y) > GOAL_TOLERANCE:
        world.add_component(sc.entity, NavGoal(x, y, sc.speed, arrive_radius))
        return "moving"
    status = world.try_component(sc.entity, NavStatus)
    return status.state if status is not None else "moving"


def _follow_nav(sc: StepContext, state: str, what: str, *args: object) -> None:
    """Advance on arrival, fail when unreachable. ``what.format(*args)`` names the goal in
    the failure; formatted only then, since this runs for every moving agent every tick."""
    if state == "arrived":
        sc.plan.advance(sc.tick)
    elif state == "unreachable":
        sc.plan.fail(f"{what.format(*args)} is unreachable")


def _position_of(world: World, entity: int | None) -> Position | None:
    return world.try_component(entity, Position) if entity else None


def _distance(a: Position, b: Position) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


# --- the core executors --------------------------------------------------------------------


def _move_to(sc: StepContext, step: MoveTo) -> None:
    _follow_nav(sc, _go(sc, step.x, step.y), "point ({:.1f}, {:.1f})", step.x, step.y)


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
    _follow_nav(sc, _go(sc, target.x, target.y, arrive_radius=reach), "target {}", step.target)


def _retreat(sc: StepContext, step: Retreat) -> None:
    threat_id = step.target if step.target is not None else sc.seen.nearest_enemy
    threat = _position_of(sc.world, threat_id)
    if threat is None:
        sc.plan.advance(sc.tick)  # nothing to run from
        return
    dx, dy = sc.pos.x - threat.x, sc.pos.y - threat.y
    norm = math.hypot(dx, dy) or 1.0
    goal = sc.world.try_component(sc.entity, NavGoal)
    if goal is None:
        x, y = sc.pos.x + dx / norm * RETREAT_DISTANCE, sc.pos.y + dy / norm * RETREAT_DISTANCE
        _go(sc, x, y)
        return
    _follow_nav(sc, _go(sc, goal.x, goal.y), "the retreat point")


def _take_cover(sc: StepContext, step: TakeCover) -> None:
    cover_id = step.cover if step.cover is not None else _nearest_cover(sc)
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
    _follow_nav(sc, _go(sc, x, y, arrive_radius=0.75), "cover {}", cover_id)


def _nearest_cover(sc: StepContext) -> int | None:
    for obj in sc.seen.objects:  # nearest first
        kind = sc.world.try_component(obj, Perceivable)
        if kind is not None and kind.kind == "cover":
            return obj
    return None


def _cover_reach(world: World, cover_id: int | None) -> float:
    wall = world.try_component(cover_id, Wall) if cover_id else None
    if wall is None:
        return 1.5
    return max(wall.x1 - wall.x0, wall.y1 - wall.y0) / 2 + 1.0


def _attack(sc: StepContext, step: Attack) -> None:
    _stop(sc.world, sc.entity)
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
        _stop(sc.world, sc.entity)
        if sc.tick - max(sc.plan.progress, sc.plan.step_tick) > ATTACK_PATIENCE:
            sc.plan.advance(sc.tick)  # nobody left in sight
        return
    sc.plan.progress = sc.tick
    weapon = sc.world.try_component(sc.entity, Weapon)
    if weapon is None or weapon.ammo <= 0:
        sc.plan.fail("out of ammo")
    elif _distance(sc.pos, target) <= weapon.range:
        _stop(sc.world, sc.entity)  # hold and shoot: resolve_shots aims where step.focus says
    elif _go(sc, target.x, target.y, arrive_radius=weapon.range * 0.8) == "unreachable":
        sc.plan.fail(f"enemy {target_id} is unreachable")


def _advance(sc: StepContext, step: Advance) -> None:
    team = sc.world.component_for_entity(sc.entity, Faction).team
    x, y = sc.world.resource(Objectives).next_point(team, sc.entity, sc.pos.x, sc.pos.y)
    _follow_nav(sc, _go(sc, x, y), "the goal ({:.0f}, {:.0f})", x, y)


def _wait(sc: StepContext, step: Wait) -> None:
    _stop(sc.world, sc.entity)
    if sc.tick - sc.plan.step_tick >= step.ticks:
        sc.plan.advance(sc.tick)


def _scan(sc: StepContext, step: Scan) -> None:
    _wait(sc, Wait(ticks=SCAN_TICKS))


def _patrol(sc: StepContext, step: Patrol) -> None:
    leg = sc.plan.progress
    x, y = step.points[leg]
    state = _go(sc, x, y)
    if state == "unreachable":
        sc.plan.fail(f"patrol point ({x:.1f}, {y:.1f}) is unreachable")
    elif state == "arrived":
        if leg + 1 < len(step.points):
            sc.plan.progress = leg + 1
        else:
            sc.plan.advance(sc.tick)


def _regroup(sc: StepContext, step: Regroup) -> None:
    ally = _position_of(sc.world, sc.seen.nearest_ally)
    if ally is None:
        sc.plan.fail("no ally in sight")
        return
    if _distance(sc.pos, ally) <= REGROUP_DISTANCE:
        sc.plan.advance(sc.tick)
        return
    _follow_nav(sc, _go(sc, ally.x, ally.y, arrive_radius=REGROUP_DISTANCE), "the nearest ally")


for _action, _executor in [
    (MoveTo, _move_to),
    (Approach, _approach),
    (Retreat, _retreat),
    (TakeCover, _take_cover),
    (Attack, _attack),
    (Engage, _engage),
    (Advance, _advance),
    (Wait, _wait),
    (Scan, _scan),
    (Patrol, _patrol),
    (Regroup, _regroup),
]:
    register_executor(_action, _executor)  # type: ignore[arg-type]
