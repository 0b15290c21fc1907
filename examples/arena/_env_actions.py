"""The env's discrete actions and the plans they become.

An action is an index into ``ACTIONS``. It is resolved against what the agent perceives at
the step boundary (the same perception its observation showed) into ActionSteps, and enters
the world as an ``ai.AssignPlan`` input applied at the next tick, journaled with
``meta={"tier": "env", "agent": ..., "action": ...}``. So an env run replays from its
journal like any other run, with no policy in the loop.

=====  ===========  ===============================================================================
index  name         plan (fallback when what it needs is not in view)
=====  ===========  ===============================================================================
0      keep         no new plan: the current one runs on (the planner still leaves the agent alone)
1      attack       shoot the nearest visible enemy (scan)
2      approach     close in on the nearest visible enemy, then shoot it (scan)
3      retreat      move away from the nearest visible enemy (wait)
4      take_cover   get behind the nearest visible cover, then wait 1.5 s (wait)
5      objective    walk to the team's capture point, then scan
6-9    north ...    walk 5 m north / east / south / west (clamped to the map)
10     hold         stand still for the length of one env step
=====  ===========  ===============================================================================
"""

from __future__ import annotations

from ai import (
    ActionStep,
    Approach,
    AssignPlan,
    Attack,
    Faction,
    MoveTo,
    Perception,
    Retreat,
    Scan,
    TakeCover,
    Tier,
    Wait,
)
from engine import Position, TickmindError, World

from ._env_obs import NOTHING_SEEN
from ._execution import ArenaBounds
from ._heuristic import Objectives, nearest_cover

__all__ = ["ACTIONS", "ENV_TIER", "action_index", "plan_for", "submit_action"]

ACTIONS: tuple[str, ...] = (
    "keep", "attack", "approach", "retreat", "take_cover", "objective", "north", "east", "south", "west", "hold",
)
STRIDE = 5.0  #: metres walked by a compass move
COVER_WAIT = 90  #: ticks waited behind cover
_COMPASS = {"north": (0.0, 1.0), "east": (1.0, 0.0), "south": (0.0, -1.0), "west": (-1.0, 0.0)}

ENV_TIER = Tier.LLM
"""The tier env plans carry. ``ai.Tier`` has no value for an outside controller yet; an RL
policy stands where the model stands (the top tier), and the journal's meta says ``env``."""


def action_index(agent: str, action: object) -> int:
    """Validate one agent's action (an int, numpy int or action name) into an index."""
    if isinstance(action, str) and action in ACTIONS:
        return ACTIONS.index(action)
    try:
        index = int(action)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        index = -1
    if isinstance(action, bool) or not 0 <= index < len(ACTIONS) or index != action:
        raise TickmindError(
            f"action for agent {agent!r} must be 0..{len(ACTIONS) - 1} or one of {', '.join(ACTIONS)}; got {action!r}"
        )
    return index


def plan_for(world: World, entity: int, action: int, hold_ticks: int) -> tuple[ActionStep, ...]:
    """The steps action ``action`` means for ``entity`` now; () for ``keep``."""
    name = ACTIONS[action]
    if name == "keep":
        return ()
    seen = world.try_component(entity, Perception) or NOTHING_SEEN
    enemy = seen.nearest_enemy
    pos = world.component_for_entity(entity, Position)
    if name == "attack":
        return (Attack(target=enemy),) if enemy else (Scan(),)
    if name == "approach":
        return (Approach(target=enemy), Attack(target=enemy)) if enemy else (Scan(),)
    if name == "retreat":
        return (Retreat(target=enemy),) if enemy else (Wait(ticks=hold_ticks),)
    if name == "take_cover":
        cover = nearest_cover(world, seen)
        return (TakeCover(cover=cover), Wait(ticks=COVER_WAIT)) if cover else (Wait(ticks=hold_ticks),)
    if name == "objective":
        team = world.component_for_entity(entity, Faction).team
        x, y = world.resource(Objectives).capture[team]
        return (MoveTo(x=x, y=y), Scan())
    if name in _COMPASS:
        ux, uy = _COMPASS[name]
        x, y = world.resource(ArenaBounds).clamp(pos.x + ux * STRIDE, pos.y + uy * STRIDE)
        return (MoveTo(x=x, y=y),)
    return (Wait(ticks=hold_ticks),)


def submit_action(world: World, agent: str, entity: int, action: int, hold_ticks: int) -> None:
    """Submit ``action``'s plan for ``entity`` at the next tick boundary (nothing for keep)."""
    steps = plan_for(world, entity, action, hold_ticks)
    if not steps:
        return
    world.submit(
        AssignPlan(entity=entity, plan_id=f"env-{entity}-{world.tick}", tier=ENV_TIER, steps=steps),
        world.tick,
        meta={"tier": "env", "agent": agent, "action": ACTIONS[action]},
    )
