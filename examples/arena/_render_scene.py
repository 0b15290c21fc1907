"""What a picture of a run shows, read from a replayed world: no model, no Pillow.

``replay_scenes(run_dir, every)`` rebuilds a recorded run from its journal (exactly as
``tickmind verify`` does) and yields a :class:`Scene` every ``every`` ticks plus the last one;
``on_tick`` sees every tick's world, so the plots gather their series in the same pass. A
scene is plain data (positions, teams, hp, the current action, where each agent is heading),
so drawing, testing and plotting never reach into the world.

Anything with an engine ``Position`` that is not a wall is drawn as an agent; ``Faction``,
``Health`` and ``Plan`` are optional, so other simulations built on ``Position`` render too
(as grey dots on a map from the origin). A world with nothing drawable is refused by the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ai import Approach, Attack, Faction, Plan
from engine import Position, RunDirError, World, replay_world
from nav import NavGoal
from physics import Body, Wall

from ._combat import Health
from ._execution import ArenaBounds
from ._summary import recorded_ticks
from ._world import ArenaOutcome

__all__ = ["GLYPHS", "AgentView", "Replay", "Scene", "glyph_table", "replay_scenes", "scene_of"]

#: One letter per core action, drawn beside each agent (other actions: :func:`glyph_table`).
GLYPHS = {
    "move_to": "M",
    "approach": "A",
    "retreat": "R",
    "take_cover": "C",
    "attack": "X",
    "wait": "W",
    "scan": "S",
    "patrol": "P",
    "regroup": "G",
}

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def glyph_table(acts: Iterable[str]) -> dict[str, str]:
    """A distinct letter for each of ``acts``: the core actions' own (``GLYPHS``), then each
    other action the first letter of its name not yet taken (``return_to_nest`` is ``E``
    beside ``retreat``'s ``R``), else a digit."""
    acts = list(dict.fromkeys(acts))
    table = {act: GLYPHS[act] for act in acts if act in GLYPHS}
    for act in acts:
        if act in table:
            continue
        used = set(table.values())
        candidates = [c.upper() for c in act if c.isalpha()] + list("123456789")
        table[act] = next((c for c in candidates if c not in used), "?")
    return table


@dataclass(frozen=True)
class AgentView:
    entity: int
    x: float
    y: float
    radius: float
    team: int | None  #: None for entities without a Faction
    hp: float | None  #: hp / max_hp in [0, 1], None without Health
    act: str | None  #: the current step's ``act``, None when idle
    target: tuple[float, float] | None  #: where the current step leads (plan line), if anywhere



@dataclass(frozen=True)
class Scene:
    tick: int  #: ticks completed when the scene was taken (0 = as built)
    time_s: float
    width: float
    height: float
    walls: tuple[Box, ...]
    cover: tuple[Box, ...]  #: walls that are also perceivable objects (they have a Position)
    agents: tuple[AgentView, ...]
    teams: tuple[str, ...]  #: team names, indexed by ``AgentView.team`` (may be empty)

    def alive(self) -> list[int]:
        """Agents per team index, over ``len(teams)`` (or the highest team seen)."""
        size = max([len(self.teams), *(a.team + 1 for a in self.agents if a.team is not None)])
        counts = [0] * size
        for agent in self.agents:
            if agent.team is not None:
                counts[agent.team] += 1
        return counts


def scene_of(world: World, teams: tuple[str, ...] = ()) -> Scene:
    """The world as a picture sees it now (entities in ascending id)."""
    boxes = [(e, (w.x0, w.y0, w.x1, w.y1)) for e, w in world.get_component(Wall)]
    cover = tuple(box for e, box in boxes if world.has_component(e, Position))
    walls = tuple(box for e, box in boxes if not world.has_component(e, Position))
    agents = []
    for entity, pos in world.get_component(Position):
        if world.has_component(entity, Wall):
            continue  # cover: drawn as a box
        faction = world.try_component(entity, Faction)
        health = world.try_component(entity, Health)
        body = world.try_component(entity, Body)
        plan = world.try_component(entity, Plan)
        step = plan.current if plan is not None else None
        agents.append(
            AgentView(
                entity=entity,
                x=pos.x,
                y=pos.y,
                radius=body.radius if body is not None else 0.5,
                team=faction.team if faction is not None else None,
                hp=max(0.0, min(1.0, health.hp / health.max_hp)) if health is not None and health.max_hp > 0 else None,
                act=step.act if step is not None else None,
                target=_heading(world, entity, step),
            )
        )
    width, height = _extent(world, walls + cover, agents)
    return Scene(world.tick, world.tick * world.dt, width, height, walls, cover, tuple(agents), teams)


def _heading(world: World, entity: int, step: object) -> tuple[float, float] | None:
    """Where the current step leads: its target entity for Attack/Approach, else the nav goal."""
    if isinstance(step, Attack | Approach):
        target = world.try_component(step.target, Position)
        if target is not None:
            return (target.x, target.y)
    if step is None:
        return None
    goal = world.try_component(entity, NavGoal)
    return (goal.x, goal.y) if goal is not None else None


def _extent(world: World, walls: tuple[Box, ...], agents: list[AgentView]) -> tuple[float, float]:
    bounds = world.try_resource(ArenaBounds)
    if bounds is not None:
        return bounds.width, bounds.height
    # Another simulation: frame what is there now, from the origin, with a margin.
    xs = [b[2] for b in walls] + [a.x + a.radius for a in agents]
    ys = [b[3] for b in walls] + [a.y + a.radius for a in agents]
    return max([1.0, *xs]) * 1.1, max([1.0, *ys]) * 1.1


class Replay:
    """A recorded run rebuilt at tick 0 with its journal queued; ``scenes()`` plays it once.

    Opening checks the run (a RUN_DIR that is not a run fails here, before any drawing).
    """

    def __init__(
        self, run_dir: str | Path, *, allow_version_mismatch: bool = False, trust: bool = False, factory: str | None = None
    ) -> None:
        """``trust`` and ``factory`` say which code may rebuild the run, as in ``engine.verify``."""
        run_dir = Path(run_dir)
        # raises RunDirError for a directory that is not a run
        self.world = replay_world(run_dir, allow_version_mismatch=allow_version_mismatch, trust=trust, factory=factory)
        try:
            self.ticks = recorded_ticks(run_dir)
        except BaseException:
            self.world.close()
            raise
        outcome = self.world.try_resource(ArenaOutcome)  # the arena's; other simulations lack it
        self.teams: tuple[str, ...] = outcome.teams if outcome is not None else ()
        #: False when no entity has a Position or a Wall at tick 0: every frame would be empty.
        self.drawable = bool(self.world.get_component(Position) or self.world.get_component(Wall))

    def scenes(self, every: int = 1, *, on_tick: Callable[[World], None] | None = None) -> Iterator[Scene]:
        """The scene at tick 0, every ``every`` ticks and at the last recorded tick, replaying
        as they are consumed; ``on_tick(world)`` runs at tick 0 and after every tick."""
        if every < 1:
            raise RunDirError(f"every must be at least 1, got {every}")
        world = self.world
        try:
            for tick in range(self.ticks + 1):
                if tick:
                    world.step()
                if on_tick is not None:
                    on_tick(world)
                if tick % every == 0 or tick == self.ticks:
                    yield scene_of(world, self.teams)
        finally:
            world.close()


def replay_scenes(
    run_dir: str | Path, every: int = 1, *, on_tick: Callable[[World], None] | None = None
) -> Iterator[Scene]:
    """``Replay(run_dir).scenes(every, on_tick=on_tick)``."""
    return Replay(run_dir).scenes(every, on_tick=on_tick)
