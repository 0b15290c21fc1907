"""The World: an esper database, a fixed-tick schedule, journaled inputs and a state hash.

esper keeps its database in module globals with named contexts; every World owns one
context and switches to it before touching esper, so any number of worlds (a run and its
replay, say) live side by side in one process. esper's queries iterate sets, whose order is
not the entity-id order determinism needs: World sorts query results once and caches them
until the next structural change.
"""

from __future__ import annotations

import dataclasses
import itertools
import numbers
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar, overload

import esper
import numpy as np

from ._columns import Columns, ColumnStore, is_columnar
from ._components import ComponentInfo, component_info, registered_components
from ._errors import ComponentError, InputError, PastTickError, RunDirError, TickmindError, UnhashedComponentWarning
from ._esper_context import entity_table
from ._hashing import HashRecord, hash_state, pair_entities
from ._inputs import Input, PendingInput
from ._memo import HashMemo
from ._pacing import Pacer, check_speed
from ._schedule import DEFAULT_STAGES, Schedule, System, SystemSpec, TickContext, keyed_rng

__all__ = ["TickListener", "World"]

C = TypeVar("C")
C1 = TypeVar("C1")
C2 = TypeVar("C2")
C3 = TypeVar("C3")
C4 = TypeVar("C4")

TickListener = Callable[["World", HashRecord], None]
AppliedListener = Callable[[PendingInput], None]

_context_ids = itertools.count(1)


class World:
    """A deterministic simulation world.

    ``seed`` seeds every random stream (``world.rng`` and each system's ``ctx.rng``);
    ``dt`` is the fixed tick length in simulated seconds.
    """

    def __init__(self, *, seed: int = 0, dt: float = 1 / 60, stages: Iterable[str] = DEFAULT_STAGES):
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise TickmindError(f"seed must be a non-negative int, got {seed!r}")
        seed = int(seed)  # numpy's ints too, as RL tooling passes them
        if not dt > 0:
            raise TickmindError(f"dt must be a positive number of seconds, got {dt!r}")
        self.seed: int = seed
        self.dt: float = float(dt)
        self.tick: int = 0  #: index of the next tick to run (== ticks completed)
        self.rng = keyed_rng(seed, "world")  #: for set-up (spawning); systems use ctx.rng
        self.schedule: Schedule = Schedule(stages)
        self.timings: dict[str, float] = {}  #: wall seconds per system; never touches state
        self.replaying: bool = False
        self.discarded_submits: int = 0  #: live submits ignored while replaying from a journal

        self._context: str = f"tickmind-{next(_context_ids)}"
        self._use()
        # Per-entity lookups read this context's table without a context switch (why and how
        # that holds: engine/_esper_context.py).
        self._db: dict[int, dict[type, Any]] = entity_table()
        self._query_cache: dict[tuple[type, ...], tuple[Any, ...]] = {}
        self._query_entities: dict[type, tuple[Sequence[tuple[int, Any]], np.ndarray]] = {}  # for the hash
        self._doomed: set[int] = set()
        self._flushing: bool = False
        self._component_types: set[type] = set()  # every type ever added, for _warn_unhashed
        self._types_checked: set[type] = set()  # component types _warn_unhashed has looked at
        self._despawn_hooks: list[Callable[[World, int], None]] = []
        self._pending: dict[int, list[PendingInput]] = {}
        self._seq: int = 0
        self._in_tick: bool = False
        self._inputs_applied: bool = False
        self._hash_sources: dict[str, Callable[[], bytes]] = {}
        self._hash_memo: HashMemo = HashMemo()  # this world's, so worlds hashed in turn keep theirs
        self._tick_listeners: list[TickListener] = []
        self._applied_listeners: list[AppliedListener] = []
        self._resources: dict[type, Any] = {}
        self._stores: dict[type, ColumnStore] = {}  # column components' arrays (engine._columns)
        self._pacer: Pacer | None = None  # the clock of the last paced ticks (run(speed=...))
        self._paced_until: int = -1  # the tick that clock expects next
        self.add_system(_apply_inputs, stage="apply_inputs", name="apply_inputs")

    # --- esper isolation -------------------------------------------------------------------

    def _use(self) -> None:
        if esper.current_world != self._context:
            esper.switch_world(self._context)

    def close(self) -> None:
        """Drop this world's esper context (its entities and components)."""
        if self._context in esper.list_worlds():
            if esper.current_world == self._context:
                esper.switch_world("default")
            esper.delete_world(self._context)
        self._db = {}  # a closed world has no entities (its dict was esper's)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: esper may already be gone
            pass

    # --- entities and components -----------------------------------------------------------

    def create_entity(self, *components: Any) -> int:
        """Create an entity now; ids ascend from 1 in creation order (a refused call uses
        up its id). Of several components of one type, the last is kept."""
        self._use()
        self._invalidate(type(c) for c in components)
        entity: int = esper.create_entity(*components)
        attached: list[Any] = []
        try:
            for c in self._db[entity].values():  # what esper kept: one per type
                if is_columnar(type(c)):
                    self._store(type(c)).attach(entity, c)
                    attached.append(c)
        except ComponentError:
            self._detach(attached)
            esper.delete_entity(entity, immediate=True)
            raise
        return entity

    def delete_entity(self, entity: int) -> None:
        """Delete at the end of the current stage (immediately outside a tick).

        Deferred so systems iterating a query never see an entity vanish mid-loop.
        """
        self._use()
        if not esper.entity_exists(entity):
            raise ComponentError(f"entity {entity} does not exist")
        self._doomed.add(entity)
        if not self._in_tick:
            self.flush_deletions()

    def on_delete(self, hook: Callable[[World, int], None]) -> None:
        """Call ``hook(world, entity)`` just before an entity is removed (e.g. free its body)."""
        self._despawn_hooks.append(hook)

    def flush_deletions(self) -> None:
        """Apply deferred deletions in ascending entity id.

        A deletion hook may delete more (a parent its children): those go in a next round,
        again in ascending id, until nothing is left; a hook's delete_entity outside a tick
        joins the running flush instead of starting a second one.
        """
        if self._flushing or not self._doomed:
            return
        self._use()
        self._flushing = True
        try:
            while self._doomed:
                for entity in sorted(self._doomed):
                    for hook in self._despawn_hooks:
                        hook(self, entity)
                    parts: tuple[Any, ...] = esper.components_for_entity(entity)
                    self._invalidate(type(c) for c in parts)
                    esper.delete_entity(entity, immediate=True)
                    self._detach(parts)
                    self._doomed.discard(entity)
        finally:
            self._flushing = False

    def _invalidate(self, changed: Iterable[type]) -> None:
        """Forget the cached queries that involve any of the ``changed`` component types.

        Only those: a world where some agent gets a new nav goal every tick must not re-sort
        every other query (at 10,000 entities a full re-query costs ~20 ms).
        """
        changed = set(changed)
        if changed:
            self._component_types |= changed
            cache = self._query_cache
            for key in [k for k in cache if not changed.isdisjoint(k)]:
                del cache[key]

    def entity_exists(self, entity: int) -> bool:
        self._use()
        return esper.entity_exists(entity) and entity not in self._doomed

    def entities(self) -> list[int]:
        """Every live entity id, ascending."""
        self._use()
        return sorted(e for e in esper.get_entities() if e not in self._doomed)

    def add_component(self, entity: int, component: Any) -> None:
        if entity not in self._db:  # esper would half-add it and break every later query
            raise ComponentError(f"entity {entity} does not exist; cannot add {type(component).__name__} to it")
        self._use()
        cls = type(component)
        if is_columnar(cls):
            old = self._db[entity].get(cls)
            if old is component:
                return
            store = self._store(cls)
            if old is not None:
                store.detach(old)
            try:
                store.attach(entity, component)
            except ComponentError:
                if old is not None:
                    store.attach(entity, old)
                raise
        esper.add_component(entity, component)
        self._invalidate((cls,))

    def remove_component(self, entity: int, component_type: type[C]) -> C:
        self._use()
        try:
            removed = esper.remove_component(entity, component_type)
        except KeyError as exc:
            raise ComponentError(f"entity {entity} has no {component_type.__name__}") from exc
        self._invalidate((component_type,))
        self._detach((removed,))
        return removed

    # --- column storage (engine._columns) ------------------------------------------------------

    def columns(self, component_type: type) -> Columns:
        """The entities having a ``columns=True`` component, ascending, and its fields for them
        as arrays: how a system reads or writes every entity's value in one numpy operation.
        Take it afresh each tick (it is cheap): it holds the entities of this moment."""
        if not is_columnar(component_type):
            raise ComponentError(
                f"{component_type.__qualname__} is not stored in columns; declare it with "
                "@component(columns=True) to use World.columns"
            )
        pairs: tuple[tuple[int, Any], ...] = self.get_component(component_type)
        info = component_info(component_type)
        assert info is not None, "a column class is registered by @component"
        return Columns(self._store(component_type), self._entity_ids(info, pairs))

    def _store(self, cls: type) -> ColumnStore:
        store = self._stores.get(cls)
        if store is None:
            store = self._stores[cls] = ColumnStore(cls)
        return store

    def _detach(self, parts: Iterable[Any]) -> None:
        for part in parts:
            store = self._stores.get(type(part))
            if store is not None:
                store.detach(part)

    def component_for_entity(self, entity: int, component_type: type[C]) -> C:
        try:
            return self._db[entity][component_type]
        except KeyError as exc:
            raise ComponentError(f"entity {entity} has no {component_type.__name__}") from exc

    def try_component(self, entity: int, component_type: type[C]) -> C | None:
        comps = self._db.get(entity)
        return None if comps is None else comps.get(component_type)

    def has_component(self, entity: int, component_type: type) -> bool:
        """Whether ``entity`` has the component; KeyError for an unknown entity (as esper)."""
        return component_type in self._db[entity]

    def components_for_entity(self, entity: int) -> tuple[Any, ...]:
        self._use()
        return esper.components_for_entity(entity)

    def get_component(self, component_type: type[C]) -> tuple[tuple[int, C], ...]:
        """All (entity, component) pairs of one type, in ascending entity id.

        A tuple, cached until the next structural change and shared by every caller in the
        meantime: sort or filter a ``list(...)`` of it, the shared order must stay ascending.
        """
        key = (component_type,)
        cached = self._query_cache.get(key)
        if cached is None:
            self._use()
            cached = tuple(sorted(esper.get_component(component_type), key=_first))
            self._query_cache[key] = cached
        return cached

    @overload
    def get_components(self, c1: type[C1], c2: type[C2], /) -> tuple[tuple[int, tuple[C1, C2]], ...]: ...
    @overload
    def get_components(
        self, c1: type[C1], c2: type[C2], c3: type[C3], /
    ) -> tuple[tuple[int, tuple[C1, C2, C3]], ...]: ...
    @overload
    def get_components(
        self, c1: type[C1], c2: type[C2], c3: type[C3], c4: type[C4], /
    ) -> tuple[tuple[int, tuple[C1, C2, C3, C4]], ...]: ...
    @overload
    def get_components(self, *types: type) -> tuple[tuple[int, tuple[Any, ...]], ...]: ...
    def get_components(self, *types: type) -> tuple[tuple[int, tuple[Any, ...]], ...]:
        """Entities having all ``types``, with those components, in ascending entity id (a
        shared, cached tuple, as ``get_component``)."""
        cached = self._query_cache.get(types)
        if cached is None:
            self._use()
            cached = tuple(sorted(esper.get_components(*types), key=_first))
            self._query_cache[types] = cached
        return cached

    # --- resources --------------------------------------------------------------------------

    def insert_resource(self, resource: Any) -> None:
        """Store one object per type beside the entities (a grid map, this tick's contacts).

        Resources are not hashed: state that changes the simulation belongs in components or
        in a hash source (``add_hash_source``).
        """
        self._resources[type(resource)] = resource

    def resource(self, resource_type: type[C]) -> C:
        try:
            return self._resources[resource_type]
        except KeyError:
            raise TickmindError(
                f"no {resource_type.__name__} resource in this world; insert_resource() it first"
            ) from None

    def try_resource(self, resource_type: type[C]) -> C | None:
        return self._resources.get(resource_type)

    # --- systems and stepping --------------------------------------------------------------

    def add_system(
        self,
        system: System,
        stage: str = "update",
        *,
        name: str | None = None,
        before: Iterable[str] = (),
        after: Iterable[str] = (),
    ) -> SystemSpec:
        """Register ``system(world, ctx)`` to run every tick in ``stage``.

        ``before``/``after`` name other systems of the same stage; otherwise systems of a stage
        run in registration order.
        """
        spec = self.schedule.add(system, stage, name=name, before=before, after=after)
        spec.ctx = TickContext(spec.name, stage, self.dt, keyed_rng(self.seed, spec.name))
        return spec

    def step(self) -> None:
        """Run one tick: every stage in order, deletions flushed after each stage."""
        self._use()
        plan = self.schedule.plan()
        tick = self.tick
        self._in_tick = True
        self._inputs_applied = False
        timings = self.timings
        try:
            for _stage, specs in plan:
                for spec in specs:
                    ctx = spec.ctx
                    ctx.tick = tick
                    start = time.perf_counter()
                    try:
                        spec.fn(self, ctx)
                    except TickmindError as exc:  # a refusal names what; say where it came from
                        exc.add_note(f"in system {spec.name!r} at tick {tick}")
                        raise
                    timings[spec.name] = timings.get(spec.name, 0.0) + time.perf_counter() - start
                self.flush_deletions()
        finally:
            self._in_tick = False
        self.tick = tick + 1
        if self._tick_listeners:
            record = self.state_hash(tick)
            for listener in self._tick_listeners:
                listener(self, record)

    def run(self, ticks: int, *, speed: float | None = None) -> None:
        """Run ``ticks`` ticks, as fast as they go, or with ``speed`` paced to the wall clock.

        ``speed`` is simulated seconds per wall second (1: real time; a tick every ``dt /
        speed`` seconds), what a world planned in realtime mode needs so that a model's
        thinking time is game time (``engine.Pacer``). The clock starts once the first
        paced tick is done: that tick may wait for a model's first wave of plans. A tick
        that runs late is caught up on by the ticks after it, up to 0.25 s of lag; a world
        further behind goes on from there. Paced calls in a row at one speed keep one clock
        (``run(1, speed=1.0)`` in a loop is paced too); a tick stepped unpaced, or another
        speed, starts a new one. Pacing decides when ticks run, never what they compute.
        """
        if speed is None:
            for _ in range(ticks):
                self.step()
            return
        seconds_per_tick = self.dt / check_speed(speed)
        pacer = self._pacer
        if pacer is None or pacer.seconds_per_tick != seconds_per_tick or self._paced_until != self.tick:
            pacer = None
        for _ in range(ticks):
            if pacer is not None:
                pacer.wait(self.tick)
            self.step()
            if pacer is None:
                pacer = Pacer(seconds_per_tick, self.tick)
            self._pacer, self._paced_until = pacer, self.tick

    # --- inputs ----------------------------------------------------------------------------

    def submit(self, inp: Input, apply_tick: int | None = None, *, meta: dict[str, Any] | None = None) -> None:
        """Queue ``inp`` to be applied at the start of ``apply_tick``.

        Default: the earliest tick still open (this tick if its inputs are not yet applied,
        else the next). ``meta`` is journaled beside the input and never read by the world.
        While replaying, live submits are discarded: the journal supplies every input.
        """
        if not isinstance(inp, Input):
            raise TickmindError(f"submit() takes an engine.Input, got {type(inp).__name__}")
        earliest = self.tick + 1 if self._in_tick and self._inputs_applied else self.tick
        if apply_tick is None:
            apply_tick = earliest
        elif isinstance(apply_tick, bool) or not isinstance(apply_tick, numbers.Integral):
            # a float tick was never reached, so the input silently never applied
            raise InputError(f"input {inp.kind} for entity {inp.entity}: apply_tick must be a whole tick, got {apply_tick!r}")
        apply_tick = int(apply_tick)
        if apply_tick < earliest:
            raise PastTickError(
                f"input {inp.kind} for entity {inp.entity} submitted for tick {apply_tick}, "
                f"but the earliest tick still open is {earliest}"
            )
        if self.replaying:
            self.discarded_submits += 1
            return
        self._enqueue(PendingInput(inp.entity, self._seq, apply_tick, inp, meta))
        self._seq += 1

    def _enqueue(self, pending: PendingInput) -> None:
        self._pending.setdefault(pending.tick, []).append(pending)

    def pending_inputs(self) -> list[PendingInput]:
        """Inputs not applied yet, by (tick, entity, seq)."""
        return sorted((p for ps in self._pending.values() for p in ps), key=lambda p: (p.tick, p.entity, p.seq))

    def on_input_applied(self, listener: AppliedListener) -> None:
        """Call ``listener(pending)`` for every input as it is applied (journaling uses this)."""
        self._applied_listeners.append(listener)

    def _apply_due_inputs(self) -> None:
        due = self._pending.pop(self.tick, None)
        self._inputs_applied = True
        if not due:
            return
        due.sort()
        for pending in due:
            try:
                pending.input.apply(self)
            except TickmindError as exc:
                if pending.source is None or not self.replaying:  # live (after a resume, too): no line's fault
                    raise
                raise RunDirError(
                    f"{pending.source}: the {pending.input.kind} input for entity {pending.entity} cannot be "
                    f"applied at tick {self.tick} on replay: {exc}"
                ) from exc
            for listener in self._applied_listeners:
                listener(pending)

    # --- hashing ---------------------------------------------------------------------------

    def add_hash_source(self, name: str, source: Callable[[], bytes]) -> None:
        """Include ``source()`` bytes in every state hash: state kept outside components, such
        as a physics engine's bodies, must be hashed too or divergence goes unseen."""
        if name in self._hash_sources:
            raise TickmindError(f"a hash source named {name!r} is already registered")
        self._hash_sources[name] = source

    def on_tick(self, listener: TickListener) -> None:
        """Call ``listener(world, hash_record)`` after every tick (recording and verify use this)."""
        self._tick_listeners.append(listener)

    def state_hash(self, tick: int | None = None, *, fresh: bool = False, detail: bool = True) -> HashRecord:
        """The canonical hash of every registered component and hash source, now.

        ``fresh`` re-encodes every component instead of reusing the encodings that
        change-tracked components keep between assignments (``engine._tracked``): the same
        root, unless a field was written around the tracking (``object.__setattr__``).
        ``detail=False`` computes the root alone (``state_root``).
        """
        self._use()
        self._warn_unhashed()
        components = self._present_components(fresh)
        sources = ((name, self._hash_sources[name]()) for name in sorted(self._hash_sources))
        tick = self.tick - 1 if tick is None else tick
        return hash_state(
            tick, components, sources, self._hash_memo, detail=detail, entity_ids=self._entity_ids,
            packed=None if fresh else self._packed,
        )

    def _packed(self, info: ComponentInfo, entities: np.ndarray) -> tuple[bytes, np.ndarray | None] | None:
        """A column component's encoding for ``entities`` and its row ends, from its arrays
        (None otherwise)."""
        store = self._stores.get(info.cls)
        return None if store is None else store.packed(entities)

    def _entity_ids(self, info: ComponentInfo, pairs: Sequence[tuple[int, Any]]) -> np.ndarray:
        """The entities of ``get_component(info.cls)`` as an array, kept while that query's
        tuple is the same object (until a structural change of the type)."""
        kept = self._query_entities.get(info.cls)
        if kept is not None and kept[0] is pairs:
            return kept[1]
        ids = pair_entities(info, pairs)
        ids.flags.writeable = False  # shared by every hash until the query changes
        self._query_entities[info.cls] = (pairs, ids)
        return ids

    def state_root(self, tick: int | None = None) -> str:
        """``state_hash(tick).root`` without the per-(entity, component) detail: what a
        replay compares every tick (it asks for the detail only where a root differs)."""
        return self.state_hash(tick, detail=False).root

    def _present_components(self, fresh: bool = False) -> Iterator[tuple[Any, tuple[Any, ...]]]:
        """Each registered component type that some entity has, with its (entity, value) pairs."""
        for info in registered_components():
            pairs: tuple[Any, ...] = self.get_component(info.cls)
            if pairs:
                yield (dataclasses.replace(info, encode=info.encode_fresh) if fresh else info), pairs

    def _warn_unhashed(self) -> None:
        """Warn once per type about components the hash cannot see: a plain dataclass without
        ``@component`` is left out, so a replay check passes while it diverges."""
        new = self._component_types - self._types_checked
        for cls in sorted(new, key=lambda c: (c.__module__, c.__qualname__)):
            self._types_checked.add(cls)
            if component_info(cls) is None:
                warnings.warn(
                    f"component type {cls.__module__}.{cls.__qualname__} is not in the state hash, so replay "
                    "checks cannot see it change; decorate it with @engine.component (or register_component) "
                    "if it is simulation state",
                    UnhashedComponentWarning,
                    stacklevel=3,
                )

    def __repr__(self) -> str:
        return f"<World seed={self.seed} tick={self.tick} entities={len(self.entities())}>"


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


def _apply_inputs(world: World, ctx: TickContext) -> None:
    """The built-in first system: apply this tick's inputs in (entity, seq) order."""
    world._apply_due_inputs()

