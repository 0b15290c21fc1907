"""The pymunk bridge: one space mirroring the world's Body and Wall entities, stepped per tick.

The tick, in the ``physics`` stage:

1. **sync** structure: new Body/Wall entities get pymunk bodies in ascending entity id;
   vanished ones are removed in ascending id. Skipped (one identity check) when the world's
   cached queries did not change, so a steady world pays nothing here.
2. **drive**: each body's target velocity is its ``DesiredVelocity`` clamped to
   ``Body.max_speed``, or (no DesiredVelocity) its velocity decayed by ``idle_damping``.
   The target is applied as a force for the first substep, so pymunk's solver sees it and
   stops the body at walls. (Writing ``body.velocity`` instead would bypass the solver for the
   position update that opens the next step, and a body pushed into a wall every tick would
   sink a body-step deeper each tick.) Consequence: position follows the target one step
   later than velocity does.
3. **step**: ``space.step(dt / substeps)`` ``substeps`` times.
4. **read back** every body's position and velocity in one batch and write them into the
   ``Position``/``Velocity`` columns (``World.columns``) in one scatter each. Those two
   components are outputs: mutating them in place is overwritten; *replacing* one
   (``add_component``) or ``bridge.teleport`` moves the body.
5. **contacts** touching after the step become the ``Contacts`` resource.

Determinism pitfalls found and avoided (see also ``tests/physics``):

- Chipmunk removes a body by moving its last body into the hole, so batch rows stop being in
  entity order after any removal; rows are mapped to entities by body id after every change.
- Chipmunk keys its arbiter cache by shape *pointers*, so arbiter iteration order differs
  between processes; contacts are therefore mapped to entities and sorted. The solver itself
  iterates arbiters in collision-discovery order, which is deterministic.
- ``pymunk.Space.add`` called during a step defers into a *set*; the bridge never adds or
  removes during a step. ``space.threaded`` (hasty space) solves in parallel: never enable it.
- ``space.static_body`` is added to the space on first access and would appear in batch
  rows; each Wall gets its own static body instead (which also names the wall in contacts).
- ``pymunk.Body.id`` is a per-process pointer: it only ever maps to an entity, never orders
  or hashes anything.
- Removing and re-adding a body is deterministic, but it is not the same history as never
  removing it (new shape id, new tree position, cached impulses lost), so a space rebuilt
  from components does not continue bit-identically; snapshots must replay from the start.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pymunk
import pymunk.batch as pb

from engine import DesiredVelocity, Position, Velocity

from ._batch import SpaceIO
from ._components import Body, Wall
from ._contacts import Contacts
from ._errors import PhysicsError
from ._objects import SpaceObjects, _Agent, _check_finite
from ._settings import PhysicsSettings

if TYPE_CHECKING:
    from engine import TickContext, World

__all__ = ["PhysicsBridge"]

_NO_CONTACTS = Contacts.empty()
_CRAWL = 1e-9  # m/s; a request slower than this is never clamped (and never divides by 0)

_XY = ("x", "y")
_VXY = ("vx", "vy")
_POS_VEL = pb.BodyFields.POSITION | pb.BodyFields.VELOCITY
_FULL_STATE = (
    pb.BodyFields.POSITION | pb.BodyFields.ANGLE
    | pb.BodyFields.VELOCITY | pb.BodyFields.ANGULAR_VELOCITY
)

class PhysicsBridge:
    """Owns the pymunk space of one world. Created and registered by ``install_physics``.

    Read ``contacts`` (also the world's ``Contacts`` resource), ``substeps``, ``space`` (for
    queries only: adding or removing objects by hand breaks the entity mapping), and move
    bodies with ``teleport``. Everything else happens in ``step``.
    """

    def __init__(self, dt: float, settings: PhysicsSettings | None = None) -> None:
        self.settings = settings or PhysicsSettings()
        self.dt = float(dt)
        space = pymunk.Space()
        space.iterations = self.settings.iterations
        space.collision_slop = self.settings.collision_slop
        if self.settings.spatial_hash is not None:
            cell, count = self.settings.spatial_hash
            space.use_spatial_hash(cell, count)
        self._space = space
        self._io = SpaceIO(space)
        self._idle_factor = self.settings.idle_damping ** self.dt
        self._objects = SpaceObjects(space, self.settings)
        self._seen: tuple[object, ...] = ()
        self._contacts = _NO_CONTACTS
        self._relayout()
        self._dv_rows = np.zeros(0, np.intp)
        self._dv_entities = np.zeros(0, np.int64)

    # --- public surface ---------------------------------------------------------------------

    @property
    def space(self) -> pymunk.Space:
        """The pymunk space, for queries (point, segment, bb). Do not add or remove objects."""
        return self._space

    @property
    def contacts(self) -> Contacts:
        """Contacts after the last physics step (the world's ``Contacts`` resource)."""
        return self._contacts

    @property
    def substeps(self) -> int:
        """Space steps per tick now (``settings.substeps`` or the automatic choice)."""
        self._ensure_layout()
        return self._substeps

    def entities(self) -> list[int]:
        """Entities with a body in the space, ascending."""
        self._ensure_layout()
        ids: list[int] = self._ids.tolist()
        return ids

    def body(self, entity: int) -> pymunk.Body:
        """The pymunk body of a Body entity (for reading; drive it with DesiredVelocity)."""
        return self._agent(entity).body

    def teleport(self, entity: int, x: float, y: float) -> None:
        """Move a body instantly (call it from a system or an input, never from outside a tick:
        only what happens inside ticks is replayed)."""
        agent = self._agent(entity)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise PhysicsError(f"teleport of entity {entity} to ({x}, {y}): coordinates must be finite")
        agent.body.position = (float(x), float(y))
        agent.position.x, agent.position.y = float(x), float(y)

    def state_bytes(self) -> bytes:
        """The ``physics`` hash source: per body in entity order, its id and the exact bits of
        position, angle, velocity and angular velocity, read live from pymunk."""
        self._ensure_layout()
        # one preallocated (n, 7) block and one bytes object: at 10,000 bodies, building the
        # half-megabyte result from several pieces cost 4x more (fresh pages on every tick)
        block = self._hash_block
        block[:, 1:] = self._io.bodies(_FULL_STATE, 6)[self._rows]
        return block.tobytes()

    def contact_bytes(self) -> bytes:
        """The ``physics.contacts`` hash source: this tick's contacts, canonical bytes."""
        return self._contacts.to_bytes()

    def on_delete(self, world: World, entity: int) -> None:
        """``world.on_delete`` hook: free the entity's body or wall (ids ascend: deterministic)."""
        if entity in self._objects.agents:
            self._objects.remove_agent(entity)
        elif entity in self._objects.walls:
            self._objects.remove_wall(entity)

    def step(self, world: World, ctx: TickContext) -> None:
        """The physics system (stage ``physics``): sync, drive, step, read back, contacts."""
        self._sync(world)
        self._ensure_layout()
        n = len(self._ids)
        if n:
            self._drive(world)
        h = self.dt / self._substeps
        found = []
        for _ in range(self._substeps):
            self._space.step(h)
            found.append(self._io.arbiters())
        if n:
            self._write_back(world)
        self._contacts = self._collect_contacts(found)
        world.insert_resource(self._contacts)

    # --- per tick -----------------------------------------------------------------------------

    def _drive(self, world: World) -> None:
        velocity = self._io.bodies(pb.BodyFields.VELOCITY, 2)[self._rows]
        target = velocity * self._idle_factor
        if len(self._dv_entities):
            desired = self._desired(world)
            # scale is exactly 1.0 under the limit, so slow requests pass through bit for bit
            speed = np.maximum(np.hypot(desired[:, 0], desired[:, 1]), _CRAWL)
            desired *= np.minimum(self._max_speed[self._dv_rows] / speed, 1.0)[:, None]
            target[self._dv_rows] = desired
        forces = self._io.force_rows(self._row_count)
        forces[self._rows] = (target - velocity) * self._force_scale
        self._io.write_forces()

    def _desired(self, world: World) -> np.ndarray:
        """Every DesiredVelocity as an (m, 2) array, rows as ``_dv_rows``; refuses NaN/inf."""
        desired = world.columns(DesiredVelocity).get(_VXY, self._dv_entities)
        finite = np.isfinite(desired)
        if not finite.all():
            bad = int(np.flatnonzero(~finite.all(axis=1))[0])
            entity = int(self._ids[self._dv_rows[bad]])
            raise PhysicsError(
                f"entity {entity} has DesiredVelocity{tuple(desired[bad].tolist())}, which is "
                "not finite; the system that wrote it (nav/steering) must write finite m/s"
            )
        return desired

    def _write_back(self, world: World) -> None:
        state = self._io.bodies(_POS_VEL, 4)[self._rows]
        world.columns(Position).set(_XY, state[:, :2], self._ids)
        world.columns(Velocity).set(_VXY, state[:, 2:], self._ids)

    def _collect_contacts(self, found: list[tuple[np.ndarray, np.ndarray]]) -> Contacts:
        """Touching arbiters of every substep -> one (a, b)-sorted row per pair."""
        if len(found) == 1:
            ints, floats = found[0]
        else:
            ints = np.concatenate([i for i, _ in found])
            floats = np.concatenate([f for _, f in found])
        keep = ints[:, 3] > 0  # arbiters cached after separation have no contact points
        entities, known = self._entity_of(ints[:, :2])
        keep &= known  # bodies added to the space by hand have no entity
        if not keep.all():
            ints, floats, entities = ints[keep], floats[keep], entities[keep]
        if not len(ints):
            return _NO_CONTACTS
        # columns: nx, ny, impulse, depth, new (a contact's own floats, swapped to a < b)
        block = np.empty((len(ints), 5))
        swap = entities[:, 0] > entities[:, 1]
        sign = np.where(swap, -1.0, 1.0)
        block[:, 0] = floats[:, 2] * sign
        block[:, 1] = floats[:, 3] * sign
        block[:, 2] = np.hypot(floats[:, 0], floats[:, 1])
        block[:, 3] = np.maximum(-floats[:, 4:6].min(axis=1), 0.0)  # distance2 is 0 if 1 point
        block[:, 4] = ints[:, 2]
        entities.sort(axis=1)
        key = (entities[:, 0] << 32) | entities[:, 1]
        order = np.argsort(key, kind="stable")  # stable: a pair's substeps stay in order
        key, entities, block = key[order], entities[order], block[order]
        if len(found) > 1:
            # one row per pair: the last substep's geometry, the whole tick's impulse
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            last = np.r_[starts[1:], len(key)] - 1
            impulse = np.add.reduceat(block[:, 2], starts)
            new = np.maximum.reduceat(block[:, 4], starts)
            entities, block = entities[last], block[last]
            block[:, 2], block[:, 4] = impulse, new
        return Contacts._trusted(
            a=entities[:, 0], b=entities[:, 1], normal=block[:, :2],
            impulse=block[:, 2], depth=block[:, 3], new=block[:, 4] != 0,
        )

    def _entity_of(self, body_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Entity ids for pymunk body ids (any shape), and whether each id was known."""
        lookup = self._lookup_ids
        if not len(lookup):
            return np.zeros(body_ids.shape, np.int64), np.zeros(len(body_ids), np.bool_)
        at = np.minimum(np.searchsorted(lookup, body_ids), len(lookup) - 1)
        return self._lookup_entities[at], (lookup[at] == body_ids).all(axis=1)

    # --- structure --------------------------------------------------------------------------

    def _sync(self, world: World) -> None:
        """Mirror structural changes of the world into the space, in ascending entity id."""
        bodies = world.get_components(Body, Position)
        walls = world.get_component(Wall)
        driven = world.get_components(Body, DesiredVelocity)
        # Velocity too: a system may replace or remove one with nothing else changing.
        seen = (bodies, walls, driven, world.get_component(Velocity))
        if len(seen) == len(self._seen) and all(x is y for x, y in zip(seen, self._seen)):
            return
        self._objects.check(world, bodies, walls)
        self._objects.apply(world, bodies, walls)
        world_velocities = world.get_components(Body, Position, Velocity)
        if len(world_velocities) != len(self._objects.agents):  # someone removed a Velocity: restore it
            have = {e for e, _ in world_velocities}
            for entity in sorted(e for e in self._objects.agents if e not in have):
                world.add_component(entity, self._objects.agents[entity].velocity)
            world_velocities = world.get_components(Body, Position, Velocity)
        for entity, (_, _, velocity) in world_velocities:
            agent = self._objects.agents[entity]
            if agent.velocity is not velocity:  # replaced by a system: honour it
                _check_finite(entity, "Velocity", velocity.vx, velocity.vy)
                agent.body.velocity = (velocity.vx, velocity.vy)
                agent.velocity = velocity
                self._objects.changed = True
        self._ensure_layout()
        driven = world.get_components(Body, DesiredVelocity)
        self._dv_entities = np.fromiter((e for e, _ in driven), np.int64, len(driven))
        self._dv_rows = np.searchsorted(self._ids, self._dv_entities)
        self._seen = (world.get_components(Body, Position), world.get_component(Wall), driven, world.get_component(Velocity))
    # --- layout: entity order <-> pymunk row order -------------------------------------------

    def _ensure_layout(self) -> None:
        if self._objects.changed:
            self._relayout()

    def _relayout(self) -> None:
        """Rebuild the arrays the per-tick path uses, after any structural change."""
        ids = sorted(self._objects.agents)
        agents = [self._objects.agents[e] for e in ids]
        self._ids = np.asarray(ids, dtype=np.int64)
        self._hash_block = np.empty((len(ids), 7))
        self._hash_block.view(np.int64)[:, 0] = self._ids  # column 0 holds the ids' int64 bits
        row_ids = self._io.body_ids()
        self._row_count = len(row_ids)
        own = np.fromiter((a.body.id for a in agents), np.uintp, len(agents))
        by_row = np.argsort(row_ids)
        at = np.minimum(np.searchsorted(row_ids[by_row], own), max(len(row_ids) - 1, 0))
        self._rows = by_row[at] if len(own) else np.zeros(0, np.intp)
        if not np.array_equal(row_ids[self._rows], own):
            raise PhysicsError("a Body's pymunk body is missing from the space; was it removed by hand?")
        mass = np.array([a.spec.mass for a in agents], dtype=np.float64)
        self._max_speed = np.array([a.spec.max_speed for a in agents], dtype=np.float64)
        wall_ids = sorted(self._objects.walls)
        every = np.concatenate((own, np.array([self._objects.walls[e].body.id for e in wall_ids], np.uintp)))
        entity = np.concatenate((self._ids, np.asarray(wall_ids, dtype=np.int64)))
        order = np.argsort(every)
        self._lookup_ids, self._lookup_entities = every[order], entity[order]
        self._substeps = self._choose_substeps(agents)
        # force that turns velocity v into target t during the first substep: m (t - v) / h
        self._force_scale = (mass * (self._substeps / self.dt))[:, None]
        self._io.force_rows(self._row_count)
        self._io.clear_forces()  # rows of walls must stay 0; only agents' rows are rewritten
        self._objects.changed = False

    def _choose_substeps(self, agents: list[_Agent]) -> int:
        if self.settings.substeps is not None:
            return self.settings.substeps
        if not agents:
            return 1
        fastest = max(a.spec.max_speed for a in agents)
        smallest = min(a.spec.radius for a in agents)
        needed = math.ceil(fastest * self.dt / (self.settings.max_travel * smallest))
        return max(1, min(self.settings.max_substeps, needed))

    def _agent(self, entity: int) -> _Agent:
        agent = self._objects.agents.get(entity)
        if agent is None:
            raise PhysicsError(
                f"entity {entity} has no body in the space; it needs a physics.Body and a "
                "Position, and bodies appear at the first physics tick after creation"
            )
        return agent
