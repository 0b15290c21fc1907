"""Executors for the core actions that need no game rules: walking, waiting, looking round,
patrolling and regrouping. Fighting (approach, attack, retreat, take cover) means weapons
and ranges, which are a game's; the arena's are in ``examples/arena/_execution.py``."""

from __future__ import annotations

import math

from engine import Position

from .._actions import MoveTo, Patrol, Regroup, Scan, Wait
from ._table import Executors, StepContext

__all__ = ["BUILTIN_EXECUTORS", "REGROUP_DISTANCE", "SCAN_TICKS"]

SCAN_TICKS = 30
REGROUP_DISTANCE = 3.0


def move_to(sc: StepContext, step: MoveTo) -> None:
    sc.follow(sc.go(step.x, step.y), "point ({:.1f}, {:.1f})", step.x, step.y)


def wait(sc: StepContext, step: Wait) -> None:
    sc.stop()
    if sc.tick - sc.plan.step_tick >= step.ticks:
        sc.plan.advance(sc.tick)


def scan(sc: StepContext, step: Scan) -> None:
    wait(sc, Wait(ticks=SCAN_TICKS))


def patrol(sc: StepContext, step: Patrol) -> None:
    """Walk the points in order; ``plan.progress`` is the leg."""
    leg = sc.plan.progress
    x, y = step.points[leg]
    state = sc.go(x, y)
    if state == "unreachable":
        sc.plan.fail(f"patrol point ({x:.1f}, {y:.1f}) is unreachable")
    elif state == "arrived":
        if leg + 1 < len(step.points):
            sc.plan.progress = leg + 1
        else:
            sc.plan.advance(sc.tick)


def regroup(sc: StepContext, step: Regroup) -> None:
    ally = sc.world.try_component(sc.seen.nearest_ally, Position) if sc.seen.nearest_ally else None
    if ally is None:
        sc.plan.fail("no ally in sight")
        return
    if math.hypot(sc.pos.x - ally.x, sc.pos.y - ally.y) <= REGROUP_DISTANCE:
        sc.plan.advance(sc.tick)
        return
    sc.follow(sc.go(ally.x, ally.y, arrive_radius=REGROUP_DISTANCE), "the nearest ally")


#: The framework's executors; a game copies the table and adds its own (``Executors.copy``).
BUILTIN_EXECUTORS = Executors([(MoveTo, move_to), (Wait, wait), (Scan, scan), (Patrol, patrol), (Regroup, regroup)])
