"""The executor table: which system code carries out each step type, and the system that
runs it every tick.

Why a table and not one system per action: a step type with no executor would leave its
agent standing with a running plan forever; the table fails such a plan at once ("no
executor"), and it is the one list of what a world can carry out, so a planner offers its
model exactly that (:meth:`Executors.actions`) and never a step that could only fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from engine import Position, TickContext, World
from nav import GoState, go_to, stop
from physics import Body

from .._actions import ActionStep, action_types
from .._plan import Plan
from ..perception import Perception, perceive_now

__all__ = ["Executor", "Executors", "StepContext"]

Clamp = Callable[[float, float], tuple[float, float]]
_NOTHING_SEEN = Perception(tick=-1)
StepSystem = Callable[[World, TickContext], None]


@dataclass(slots=True)
class StepContext:
    """What an executor sees of one agent this tick. ``speed`` is its body's top speed (the
    table's default without a ``Body``); ``seen`` is empty for an agent without senses."""

    world: World
    entity: int
    plan: Plan
    pos: Position
    seen: Perception
    tick: int
    speed: float
    clamp: Clamp | None = None

    def go(self, x: float, y: float, arrive_radius: float = 0.5) -> GoState:
        """Walk to (x, y), kept inside the map when the table clamps (:func:`nav.go_to`)."""
        if self.clamp is not None:
            x, y = self.clamp(x, y)
        return go_to(self.world, self.entity, x, y, speed=self.speed, arrive_radius=arrive_radius)

    def follow(self, state: GoState, what: str, *args: object) -> None:
        """Advance the plan on arrival, fail it when unreachable. ``what.format(*args)``
        names the goal in the failure; formatted only then (this runs for every walker)."""
        if state == "arrived":
            self.plan.advance(self.tick)
        elif state == "unreachable":
            self.plan.fail(f"{what.format(*args)} is unreachable")

    def stop(self) -> None:
        stop(self.world, self.entity)


Executor = Callable[[StepContext, Any], None]  #: ``executor(step_ctx, step)``, once a tick


class Executors:
    """Step type -> executor, in registration order.

    ``system()`` gives the world the system that runs them: each tick, in ascending entity
    id, every agent with a running ``Plan`` and a ``Position`` has its current step's
    executor called; a step with none fails the plan, and an agent whose plan is over stops
    walking. The system copies the table, so registering later changes no world built before.
    """

    def __init__(self, entries: Iterable[tuple[type[ActionStep], Executor]] = ()) -> None:
        self._table: dict[type[ActionStep], Executor] = {}
        for action, executor in entries:
            self.register(action, executor)

    def register(self, action: type[ActionStep], executor: Executor) -> None:
        """Make ``executor(step_ctx, step)`` run every tick an agent's current step is ``action``."""
        self._table[action] = executor

    def copy(self) -> Executors:
        return Executors(self._table.items())

    def __getitem__(self, action: type[ActionStep]) -> Executor:
        return self._table[action]

    def __contains__(self, action: object) -> bool:
        return action in self._table

    def __iter__(self) -> Iterator[type[ActionStep]]:
        return iter(self._table)

    def actions(self) -> tuple[str, ...]:
        """The ``act`` names of the registered actions this table executes, in registration
        order: what a planner may offer its model.

        Matched by class, as the system looks executors up: a model's step is parsed into
        the registry's class, so only that class's executor can ever run it. An executor for
        a class that is not a registered action still runs plans your own code assigns, but
        a model cannot write that action, so it is not offered."""
        names = {cls: name for name, cls in action_types().items()}
        return tuple(names[cls] for cls in self._table if cls in names)

    def system(self, *, clamp: Clamp | None = None, default_speed: float = 1.0) -> StepSystem:
        """The system executing this table's steps; ``clamp`` keeps walking goals on the map."""
        table = dict(self._table)

        def execute_steps(world: World, ctx: TickContext) -> None:
            tick = ctx.tick
            for entity, (plan, pos) in world.get_components(Plan, Position):
                step = plan.current
                if step is None:
                    stop(world, entity)
                    continue
                executor = table.get(type(step))
                if executor is None:
                    plan.fail(f"no executor for action {step.act!r}")
                    continue
                seen = world.try_component(entity, Perception) or _NOTHING_SEEN
                body = world.try_component(entity, Body)
                speed = body.max_speed if body is not None else default_speed
                executor(StepContext(world, entity, plan, pos, seen, tick, speed, clamp), step)
                if plan.current is None:  # ended this tick: its planner reads what it sees next
                    stop(world, entity)
                    perceive_now(world, entity)

        return execute_steps
