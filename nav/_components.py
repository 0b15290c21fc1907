"""The hashed components through which the world talks to nav.

Why components and not nav-private state: a path, its progress and the agent's nav state
decide where bodies go, so they must be in the state hash (a replay that planned another
path diverges at that tick, visibly) and in snapshots.

``NavGoal`` is the order (written by whoever commands movement, e.g. the arena's MoveTo
step); ``NavStatus`` is nav's answer (read by the AI to mark a step done or failed);
``NavPath`` is nav's bookkeeping.
"""

from __future__ import annotations

from engine import component

__all__ = ["NAV_STATES", "NavGoal", "NavPath", "NavStatus"]

#: Every value ``NavStatus.state`` takes.
NAV_STATES: tuple[str, ...] = ("idle", "moving", "arrived", "unreachable")


@component
class NavGoal:
    """Go to (x, y) at up to ``speed`` m/s; done within ``arrive_radius`` metres.

    nav replans whenever (x, y) differs from the goal it last planned for; changing only
    ``speed`` or ``arrive_radius`` takes effect without replanning. To re-issue the same point
    (say, after being pushed away from it), remove the entity's ``NavStatus`` too. Remove the
    NavGoal to stop: nav zeroes the DesiredVelocity once and reports "idle".
    """

    x: float
    y: float
    speed: float
    arrive_radius: float = 0.5


@component
class NavStatus:
    """Where an agent stands with its NavGoal: one of ``NAV_STATES``.

    - "moving": a path or flow field leads to the goal;
    - "arrived": within ``arrive_radius`` of it (or packed against agents already there
      when a crowd shares the goal); nav then holds the agent still;
    - "unreachable": no path (walled off, in or beside a wall farther than the snap radius,
      not a finite point); the desired velocity is zero;
    - "idle": no goal.

    ``goal_x``/``goal_y`` are the goal this state is about; ``since`` is the tick the state
    was entered (for timeouts: "moving for 600 ticks" means stuck).
    """

    state: str = "idle"
    goal_x: float = 0.0
    goal_y: float = 0.0
    since: int = 0


@component
class NavPath:
    """The smoothed waypoints being followed and the index of the current one.

    With ``flow=True`` the agent follows the shared flow field of its goal cell instead, and
    ``waypoints`` holds only the final point.
    """

    waypoints: tuple[tuple[float, float], ...] = ()
    index: int = 0
    flow: bool = False
