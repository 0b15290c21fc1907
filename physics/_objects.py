"""The pymunk bodies and shapes standing for one world's Body and Wall entities.

Structure changes (an entity gains, loses or replaces a Body, Position or Wall) are applied
here in ascending entity id, removals first; :class:`~physics._bridge.PhysicsBridge` steps
the space and rebuilds its per-tick arrays whenever ``changed`` says the set moved.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pymunk

from engine import Position, Velocity

from ._components import Body, Wall
from ._errors import PhysicsError
from ._settings import PhysicsSettings

if TYPE_CHECKING:
    from engine import World

__all__ = ["SpaceObjects"]

_Pairs = tuple[tuple[int, Any], ...]  # a world query result: (entity, components), ascending


class _Agent:
    """What the bridge keeps per Body entity."""

    __slots__ = ("body", "position", "shape", "spec", "velocity")

    def __init__(
        self, body: pymunk.Body, shape: pymunk.Circle, spec: Body, position: Position, velocity: Velocity
    ) -> None:
        self.body = body
        self.shape = shape
        self.spec = spec
        self.position = position
        self.velocity = velocity


class _Obstacle:
    """What the bridge keeps per Wall entity."""

    __slots__ = ("body", "shape", "spec")

    def __init__(self, body: pymunk.Body, shape: pymunk.Poly, spec: Wall) -> None:
        self.body = body
        self.shape = shape
        self.spec = spec


class SpaceObjects:
    """Each Body entity's pymunk body and circle, each Wall's static box, by entity id."""

    def __init__(self, space: pymunk.Space, settings: PhysicsSettings) -> None:
        self.space = space
        self.settings = settings
        self.agents: dict[int, _Agent] = {}
        self.walls: dict[int, _Obstacle] = {}
        self.changed = True  #: bodies or walls were added, removed or replaced since the last layout

    def check(self, world: World, bodies: _Pairs, walls: _Pairs) -> None:
        if len(world.get_component(Body)) != len(bodies):
            placed = {e for e, _ in bodies}
            lost = [e for e, _ in world.get_component(Body) if e not in placed]
            raise PhysicsError(
                f"entity {lost[0]} has a physics.Body but no engine.Position; give it "
                "Position(x, y) (its starting point) when creating it"
            )
        both = {e for e, _ in walls}.intersection(e for e, _ in bodies)
        if both:
            raise PhysicsError(
                f"entity {min(both)} has both a Body and a Wall; a Wall is static and a Body "
                "moves, so give it one of the two"
            )

    def apply(self, world: World, bodies: _Pairs, walls: _Pairs) -> None:
        """Removals first, then additions and updates, each in ascending entity id."""
        live = dict(bodies)
        live_walls = dict(walls)
        gone = [e for e in self.agents if e not in live]
        stale = [e for e, w in self.walls.items() if live_walls.get(e) is not w.spec]
        for entity in sorted(gone):
            self.remove_agent(entity)
        for entity in sorted(stale):  # deleted, or replaced by a new Wall: rebuilt below
            self.remove_wall(entity)
        todo: list[tuple[int, Wall | tuple[Body, Position]]] = [
            (e, w) for e, w in walls if e not in self.walls
        ]
        for entity, (spec, position) in bodies:
            agent = self.agents.get(entity)
            if agent is None or agent.spec is not spec or agent.position is not position:
                todo.append((entity, (spec, position)))
        for entity, what in sorted(todo, key=_first):
            if isinstance(what, Wall):
                self.add_wall(entity, what)
            elif entity in self.agents:
                self.update_agent(entity, *what)
            else:
                self.add_agent(world, entity, *what)

    def add_agent(self, world: World, entity: int, spec: Body, position: Position) -> None:
        _check_finite(entity, "Position", position.x, position.y)
        body = pymunk.Body(spec.mass, math.inf)
        body.position = (position.x, position.y)
        velocity = world.try_component(entity, Velocity)
        if velocity is None:
            velocity = Velocity(0.0, 0.0)
            world.add_component(entity, velocity)
        else:
            _check_finite(entity, "Velocity", velocity.vx, velocity.vy)
            body.velocity = (velocity.vx, velocity.vy)
        shape = pymunk.Circle(body, spec.radius)
        shape.friction = self.settings.friction
        shape.elasticity = self.settings.elasticity
        self.space.add(body, shape)
        self.agents[entity] = _Agent(body, shape, spec, position, velocity)
        self.changed = True

    def update_agent(self, entity: int, spec: Body, position: Position) -> None:
        agent = self.agents[entity]
        if agent.spec is not spec:
            if spec.radius != agent.spec.radius:
                agent.shape.unsafe_set_radius(spec.radius)
            if spec.mass != agent.spec.mass:
                agent.body.mass = spec.mass
            agent.spec = spec
        if agent.position is not position:  # Position replaced: a teleport
            _check_finite(entity, "Position", position.x, position.y)
            agent.body.position = (position.x, position.y)
            agent.position = position
        self.changed = True

    def remove_agent(self, entity: int) -> None:
        agent = self.agents.pop(entity)
        self.space.remove(agent.shape, agent.body)
        self.changed = True

    def add_wall(self, entity: int, spec: Wall) -> None:
        body = pymunk.Body(body_type=pymunk.Body.STATIC)
        shape = pymunk.Poly.create_box_bb(body, pymunk.BB(spec.x0, spec.y0, spec.x1, spec.y1))
        shape.friction = self.settings.friction
        shape.elasticity = self.settings.elasticity
        self.space.add(body, shape)
        self.walls[entity] = _Obstacle(body, shape, spec)
        self.changed = True

    def remove_wall(self, entity: int) -> None:
        wall = self.walls.pop(entity)
        self.space.remove(wall.shape, wall.body)
        self.changed = True


def _first(pair: tuple[int, object]) -> int:
    return pair[0]


def _check_finite(entity: int, what: str, x: float, y: float) -> None:
    if not (math.isfinite(x) and math.isfinite(y)):
        raise PhysicsError(f"entity {entity} has {what}({x}, {y}); physics needs finite numbers")
