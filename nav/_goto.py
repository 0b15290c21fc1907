"""``go_to``: one call per tick for "walk there", whatever goal the entity had before.

Why a helper: an executor that adds a ``NavGoal`` only when none exists keeps the old goal
when its plan is replaced mid-walk, "arrives" where the old plan was going and acts on the
new plan's target there. ``go_to`` re-aims whenever the wanted point moved, and reports a
nav state only when it is about this goal.
"""

from __future__ import annotations

import math
from typing import Literal

from engine import World

from ._components import NavGoal, NavStatus

__all__ = ["GoState", "go_to", "stop"]

GoState = Literal["moving", "arrived", "unreachable"]


def go_to(
    world: World,
    entity: int,
    x: float,
    y: float,
    *,
    speed: float,
    arrive_radius: float = 0.5,
    tolerance: float = 1.0,
) -> GoState:
    """Steer ``entity`` to (x, y) and say how it stands: "moving", "arrived" or "unreachable".

    Call it every tick the entity should be walking there. The goal is replaced when (x, y)
    is more than ``tolerance`` metres from the one it holds (a chased target that moves a
    little does not make nav replan every tick); until nav has answered for the new goal the
    state is "moving"."""
    goal = world.try_component(entity, NavGoal)
    if goal is None or math.hypot(goal.x - x, goal.y - y) > tolerance:
        world.add_component(entity, NavGoal(x, y, speed, arrive_radius))
        return "moving"
    status = world.try_component(entity, NavStatus)
    if status is None or status.state == "idle" or status.goal_x != goal.x or status.goal_y != goal.y:
        return "moving"
    state: GoState = status.state  # type: ignore[assignment]  # "moving", "arrived" or "unreachable" here
    return state


def stop(world: World, entity: int) -> None:
    """Stand still: drop the entity's goal (nav zeroes its velocity once)."""
    if world.has_component(entity, NavGoal):
        world.remove_component(entity, NavGoal)
