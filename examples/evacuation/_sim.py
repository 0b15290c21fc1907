"""The evacuation world: components, inputs, two systems and the run factory.

Floor plan (metres): a 40 x 24 building split by a wall at x = 20 with two doors, a few
pillars, an exit on the west wall (left room) and one on the east wall (right room).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine import Input, Position, TickContext, TickmindError, World, component, factory
from nav import GridMap, NavGoal, install_nav
from physics import Body, Wall, install_physics

__all__ = [
    "BUILDING",
    "Alarm",
    "CloseExit",
    "Evacuee",
    "Exit",
    "SoundAlarm",
    "build_evacuation",
    "choose_exits",
    "exit_id",
    "leave_building",
    "remaining",
]

WIDTH, HEIGHT, CELL, RADIUS = 40.0, 24.0, 0.5, 0.3
#: Walls as (x0, y0, x1, y1): the shell, the dividing wall with doors at y 5-7 and 16-18,
#: and four pillars. Exits are gaps in nothing: people leave when they reach the exit point.
WALLS = (
    (0.0, 0.0, WIDTH, 0.5), (0.0, HEIGHT - 0.5, WIDTH, HEIGHT),
    (0.0, 0.0, 0.5, HEIGHT), (WIDTH - 0.5, 0.0, WIDTH, HEIGHT),
    (19.75, 0.5, 20.25, 5.0), (19.75, 7.0, 20.25, 16.0), (19.75, 18.0, 20.25, HEIGHT - 0.5),
    (8.0, 8.0, 9.0, 9.0), (8.0, 15.0, 9.0, 16.0), (30.0, 8.0, 31.0, 9.0), (30.0, 15.0, 31.0, 16.0),
)
EXITS = (("west", 1.5, 12.0), ("east", WIDTH - 1.5, 4.0))
EXIT_RADIUS = 1.2
BUILDING = 1  #: the entity holding the Alarm (created first, so its id is always 1)
CONFIG_KEYS = frozenset({"people", "notice_rate", "speed"})


@component
class Alarm:
    """Tick the alarm sounded at, or -1. A component (not a resource) so it is hashed."""

    tick: int = -1


@component
class Exit:
    name: str
    x: float
    y: float
    open: bool = True
    evacuated: int = 0  #: people who left through it


@component
class Evacuee:
    """A person in the building. ``exit`` is the exit entity they head for (0: none yet)."""

    speed: float
    exit: int = 0


class SoundAlarm(Input):
    """Sound the building's alarm (``entity`` is ``BUILDING``)."""

    kind = "evacuation.sound_alarm"

    def apply(self, world: World) -> None:
        alarm = world.component_for_entity(self.entity, Alarm)
        if alarm.tick < 0:
            alarm.tick = world.tick


class CloseExit(Input):
    """A warden closes an exit (``entity`` is the exit); its walkers choose another."""

    kind = "evacuation.close_exit"

    def apply(self, world: World) -> None:
        world.component_for_entity(self.entity, Exit).open = False


def choose_exits(world: World, ctx: TickContext) -> None:
    """Once the alarm sounds, each person notices it with ``notice_rate`` chance per tick,
    then heads for the nearest open exit; anyone whose exit closed picks again."""
    if world.component_for_entity(BUILDING, Alarm).tick < 0:
        return
    exits = [(e, ex) for e, ex in world.get_component(Exit) if ex.open]
    rate = world.resource(_Settings).notice_rate
    for entity, (person, pos) in world.get_components(Evacuee, Position):
        if person.exit and world.component_for_entity(person.exit, Exit).open:
            continue
        if not person.exit and ctx.rng.random() >= rate:
            continue  # has not noticed yet
        if not exits:
            person.exit = 0
            if world.has_component(entity, NavGoal):
                world.remove_component(entity, NavGoal)
            continue
        target, ex = min(exits, key=lambda pair: math.hypot(pair[1].x - pos.x, pair[1].y - pos.y))
        person.exit = target
        world.add_component(entity, NavGoal(ex.x, ex.y, person.speed, arrive_radius=EXIT_RADIUS / 2))


def leave_building(world: World, ctx: TickContext) -> None:
    """People within reach of their (open) exit leave: counted on the exit, then removed."""
    for entity, (person, pos) in world.get_components(Evacuee, Position):
        if not person.exit:
            continue
        ex = world.component_for_entity(person.exit, Exit)
        if ex.open and math.hypot(ex.x - pos.x, ex.y - pos.y) <= EXIT_RADIUS:
            ex.evacuated += 1
            world.delete_entity(entity)


def remaining(world: World) -> int:
    """People still inside."""
    return len(world.get_component(Evacuee))


def exit_id(world: World, name: str) -> int:
    """The entity of the exit called ``name`` ("west" or "east")."""
    for entity, ex in world.get_component(Exit):
        if ex.name == name:
            return entity
    raise TickmindError(f"no exit named {name!r}; the exits are {', '.join(n for n, _, _ in EXITS)}")


class _Settings:
    def __init__(self, notice_rate: float) -> None:
        self.notice_rate = notice_rate


@factory
def build_evacuation(config: Mapping[str, Any], seed: int) -> World:
    """The run factory. Config (all optional): ``people`` (default 60), ``notice_rate``
    (chance per tick of noticing the alarm, default 0.05), ``speed`` (m/s, default 1.4)."""
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise TickmindError(f"unknown evacuation config key(s) {unknown}; known: {sorted(CONFIG_KEYS)}")
    people = int(config.get("people", 60))
    if not 0 < people <= 400:
        raise TickmindError(f"evacuation config 'people' must be 1-400, got {people}")
    world = World(seed=seed, dt=1 / 30)
    world.create_entity(Alarm())  # entity 1 == BUILDING
    world.insert_resource(_Settings(float(config.get("notice_rate", 0.05))))
    for name, x, y in EXITS:
        world.create_entity(Exit(name, x, y))
    for box in WALLS:
        world.create_entity(Wall(*box))
    grid = GridMap.from_boxes(WIDTH, HEIGHT, CELL, WALLS, inflate=RADIUS)
    speed = float(config.get("speed", 1.4))
    rng = world.rng
    for _ in range(people):
        x, y = _free_spot(grid, rng)
        speed_i = float(speed * rng.uniform(0.8, 1.2))
        world.create_entity(Position(x, y), Body(radius=RADIUS, max_speed=speed_i * 1.5), Evacuee(speed_i))
    install_nav(world, grid)
    install_physics(world)
    world.add_system(choose_exits, stage="ai")
    world.add_system(leave_building, stage="update")
    return world


def _free_spot(grid: GridMap, rng: Any) -> tuple[float, float]:
    """A random point whose cell is free for movement (rejection sampling from world.rng)."""
    while True:
        x, y = float(rng.uniform(1.0, WIDTH - 1.0)), float(rng.uniform(1.0, HEIGHT - 1.0))
        if grid.is_free(x, y):
            return x, y
