"""Named stages in one ordered list, and systems ordered inside a stage by before/after.

Why names and not priority numbers (Bevy's lesson): a user adding a system says where it
belongs ("after nav's steering, in the physics stage") instead of guessing a number that
interleaves correctly with everyone else's. Systems with no constraint between them run in
registration order, which is deterministic because registration is code.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ._errors import DuplicateSystemError, OrderingCycleError, ScheduleError, UnknownStageError

if TYPE_CHECKING:
    from ._world import World

__all__ = ["DEFAULT_STAGES", "Schedule", "System", "SystemSpec", "TickContext", "keyed_rng"]

#: The tick's stages in order (docs/architecture.md). User stages may be inserted anywhere after
#: ``apply_inputs``; ``update`` is where user systems go by default.
DEFAULT_STAGES: tuple[str, ...] = ("apply_inputs", "perception", "ai", "nav", "physics", "update")


class System(Protocol):
    """Anything callable as ``system(world, ctx)``: a function or an object with __call__."""

    def __call__(self, world: World, ctx: TickContext, /) -> Any: ...


class TickContext:
    """What a system is told each tick. One instance per system, updated in place."""

    __slots__ = ("dt", "name", "rng", "stage", "tick")

    def __init__(self, name: str, stage: str, dt: float, rng: np.random.Generator) -> None:
        self.name = name
        self.stage = stage
        self.dt = dt
        self.rng = rng  #: this system's own stream, seeded from the world seed and its name
        self.tick = 0

    @property
    def time(self) -> float:
        """Simulated seconds at the start of this tick (tick * dt, never wall-clock)."""
        return self.tick * self.dt


@dataclass
class SystemSpec:
    """A registered system with its place in the schedule."""

    fn: System
    name: str
    stage: str
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    order: int = 0
    ctx: TickContext = field(repr=False, default=None)  # type: ignore[assignment]


def keyed_rng(seed: int, key: str) -> np.random.Generator:
    """A generator that depends only on ``seed`` and ``key``.

    Systems get one keyed by their name, so adding or reordering other systems never changes
    their numbers; the AI executor keys one per job, so the order in which network replies
    arrive never changes who draws what.
    """
    digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(digest,))))


class Schedule:
    """The stages of a world and the systems registered into them."""

    def __init__(self, stages: Iterable[str] = DEFAULT_STAGES) -> None:
        self._stages: list[str] = list(stages)
        twice = sorted({s for s in self._stages if self._stages.count(s) > 1})
        if twice:
            raise ScheduleError(f"stages must be distinct, but {twice} appear more than once in {self._stages}")
        if "apply_inputs" in self._stages and self._stages[0] != "apply_inputs":
            raise ScheduleError(f"no stage may run before 'apply_inputs'; stages are {self._stages}")
        self._systems: dict[str, SystemSpec] = {}
        self._plan: list[tuple[str, list[SystemSpec]]] | None = None

    @property
    def stages(self) -> tuple[str, ...]:
        return tuple(self._stages)

    def add_stage(self, name: str, *, after: str | None = None, before: str | None = None) -> None:
        """Insert a new stage after (or before) an existing one; appended last by default."""
        if name in self._stages:
            raise ScheduleError(f"stage {name!r} already exists; stages are {self._stages}")
        if after is not None and before is not None:
            raise ScheduleError("add_stage takes after= or before=, not both")
        anchor = after if after is not None else before
        if anchor is None:
            self._stages.append(name)
        else:
            self._check_stage(anchor)
            index = self._stages.index(anchor) + (1 if after is not None else 0)
            if index == 0:
                raise ScheduleError("no stage may run before 'apply_inputs'")
            self._stages.insert(index, name)
        self._plan = None

    def add(
        self,
        fn: System,
        stage: str,
        *,
        name: str | None,
        before: Iterable[str],
        after: Iterable[str],
    ) -> SystemSpec:
        self._check_stage(stage)
        if not callable(fn):
            raise ScheduleError(f"a system must be callable as fn(world, ctx); got {fn!r}")
        name = name or _default_name(fn)
        if name in self._systems:
            raise DuplicateSystemError(
                f"a system named {name!r} is already registered (stage "
                f"{self._systems[name].stage!r}); pass name=... to register another"
            )
        spec = SystemSpec(fn, name, stage, tuple(before), tuple(after), len(self._systems))
        self._systems[name] = spec
        self._plan = None
        return spec

    def remove(self, name: str) -> None:
        if name not in self._systems:
            raise ScheduleError(f"no system named {name!r}; registered: {sorted(self._systems)}")
        del self._systems[name]
        self._plan = None

    def systems(self) -> list[SystemSpec]:
        """Every system in run order."""
        return [s for _, specs in self.plan() for s in specs]

    def plan(self) -> list[tuple[str, list[SystemSpec]]]:
        """Stages with their systems in run order; validated and cached until a change."""
        if self._plan is None:
            self._plan = [(stage, self._order_stage(stage)) for stage in self._stages]
        return self._plan

    def _check_stage(self, stage: str) -> None:
        if stage not in self._stages:
            raise UnknownStageError(
                f"unknown stage {stage!r}; stages are {', '.join(self._stages)} "
                "(add one with schedule.add_stage)"
            )

    def _order_stage(self, stage: str) -> list[SystemSpec]:
        members = {n: s for n, s in self._systems.items() if s.stage == stage}
        edges: dict[str, set[str]] = {n: set() for n in members}  # n -> runs after these
        for spec in members.values():
            for other, relation in [(o, "before") for o in spec.before] + [
                (o, "after") for o in spec.after
            ]:
                if other not in self._systems:
                    raise ScheduleError(
                        f"system {spec.name!r} is ordered {relation} {other!r}, "
                        "which is not registered"
                    )
                if other not in members:
                    raise ScheduleError(
                        f"system {spec.name!r} is ordered {relation} {other!r}, but that runs "
                        f"in stage {self._systems[other].stage!r}; before/after order systems "
                        f"within one stage ({stage!r}) — stage order already decides the rest"
                    )
                if relation == "after":
                    edges[spec.name].add(other)
                else:
                    edges[other].add(spec.name)
        return _topological(members, edges)


def _topological(members: dict[str, SystemSpec], edges: dict[str, set[str]]) -> list[SystemSpec]:
    """Kahn's algorithm, ties broken by registration order so the result is deterministic."""
    waiting = {n: set(deps) for n, deps in edges.items()}
    ready = [(members[n].order, n) for n, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    out: list[SystemSpec] = []
    while ready:
        _, name = heapq.heappop(ready)
        out.append(members[name])
        for other, deps in waiting.items():
            if name in deps:
                deps.discard(name)
                if not deps:
                    heapq.heappush(ready, (members[other].order, other))
    if len(out) != len(members):
        stuck = sorted(n for n, deps in waiting.items() if deps)
        raise OrderingCycleError(
            f"before/after constraints form a cycle among systems: {', '.join(stuck)}"
        )
    return out


def _default_name(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return str(name)
