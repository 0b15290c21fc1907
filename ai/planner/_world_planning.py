"""``plan_world``: one call that makes a world of your own planned by a language model.

Why one call: a planner needs its tier profiles, snapshots, wire, executor system and model
to agree, and getting any pair wrong fails late and quietly: a tier offering an action no
system executes, a wire the connection does not speak, an entity planned only because it
happens to have ``Senses``. Here the table of executors is the one list of what the world
can do, so it is exactly what the model is offered, in both model tiers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from engine import TickmindError, World

from .._actions import ActionStep
from ..execution import Executors
from ..wire import FULL_TIER, SIMPLE_TIER, MapBounds, SnapshotConfig, TierProfile
from ..wire._snapshot import Describe
from ._config import PlannerConfig, Policies
from ._due import Planned
from ._groups import GroupOrders
from ._planner import ModelLink, Planner

__all__ = ["plan_world", "world_tiers"]

Example = tuple[str, tuple[ActionStep, ...]]
#: A lockstep world waits for its model whenever a plan ends: a plan that ends as it starts
#: (a regroup beside an ally, a walk to where the agent stands) would make it wait every
#: tick, so one that ends sooner than this is followed by the heuristic's (``min_plan_ticks``).
LOCKSTEP_MIN_PLAN_TICKS = 30


def plan_world(
    world: World,
    *,
    planned: Planned,
    executors: Executors,
    policies: Policies,
    bounds: MapBounds | Callable[[World], MapBounds],
    describe: Describe | None = None,
    model: ModelLink | None = None,
    examples: tuple[Example, ...] = (),
    groups: GroupOrders | None = None,
    use_model: bool = True,
    **settings: Any,
) -> Planner:
    """Install a planner and the executor system on ``world``; return the planner (also the
    world's ``Planner`` resource).

    - ``planned``: which entities are planned, a component type (its holders) or a
      predicate ``(world, entity) -> bool`` over the agents (entities with a ``Faction``).
      Each needs ``Position`` and ``Faction``, and ``Senses`` to see anything.
    - ``executors``: what the world carries out (``ai.execution.BUILTIN_EXECUTORS.copy()``
      plus your own): exactly these actions are offered to the model, in both model tiers.
    - ``policies``: the heuristic and emergency tiers and what counts as salient.
    - ``bounds`` and ``describe``: the map and the game facts on each agent's line
      (:class:`ai.SnapshotConfig`); walking goals are kept inside fixed ``bounds``.
    - ``model``: a connection (:func:`ai.serving.connect_model`) or a started
      :class:`ai.BatchExecutor`; None for now, and ``planner.attach(model)`` before the first
      live tick (a replay never needs one). ``use_model=False`` plans with the heuristic only.
    - ``examples``: the system prompt's worked example in your world's terms (state line,
      plan), see :class:`ai.TierProfile`; ``settings``: :class:`ai.PlannerConfig` fields
      (``mode``, ``delay``, ``replan_every``, ...); a lockstep world's ``min_plan_ticks``
      defaults to ``LOCKSTEP_MIN_PLAN_TICKS``.
    """
    unknown = sorted(set(settings) - set(PlannerConfig.__dataclass_fields__))
    if unknown:
        raise TickmindError(f"plan_world: unknown planner setting(s) {unknown}; see ai.PlannerConfig")
    if not isinstance(executors, Executors):
        raise TickmindError(f"plan_world: executors must be an ai.execution.Executors table, got {type(executors).__name__}")
    tiers = world_tiers(executors, examples) if use_model else ()
    if settings.get("mode", "lockstep") == "lockstep" and use_model:
        settings.setdefault("min_plan_ticks", LOCKSTEP_MIN_PLAN_TICKS)
    config = PlannerConfig(llm_tiers=tiers, **settings)
    snapshots = SnapshotConfig(bounds=bounds, describe=describe)
    planner = Planner(policies, snapshots=snapshots, config=config, groups=groups, planned=planned)
    world.insert_resource(planner)
    world.add_system(planner, stage="ai", name="planner")
    clamp = _clamp(bounds) if isinstance(bounds, MapBounds) else None
    world.add_system(executors.system(clamp=clamp), stage="ai", name="execute_steps", after=["planner"])
    if model is not None and use_model:
        planner.attach(model)
    return planner


def world_tiers(executors: Executors, examples: tuple[Example, ...] = ()) -> tuple[TierProfile, TierProfile]:
    """The two model tiers for a world that executes ``executors``: the full prompt, then
    the library's shorter one (fewer entities listed, shorter plans), both offering exactly
    the executed actions."""
    actions = executors.actions()
    if not actions:
        raise TickmindError("the executor table executes no registered action: the model would have nothing to offer")
    return (
        replace(FULL_TIER, actions=actions, examples=examples),
        replace(SIMPLE_TIER, actions=actions, examples=tuple(e for e in examples if len(e[1]) <= SIMPLE_TIER.max_steps)),
    )


def _clamp(bounds: MapBounds) -> Callable[[float, float], tuple[float, float]]:
    def clamp(x: float, y: float) -> tuple[float, float]:
        return min(max(x, bounds.x_min), bounds.x_max), min(max(y, bounds.y_min), bounds.y_max)

    return clamp
