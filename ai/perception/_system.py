"""The perception system: gather components into arrays, ask the kernel who sees whom, write
each perceiver's ``Perception``.

Why a callable object: it keeps a layout (who is an agent, object or perceiver, and which
component objects belong to them) derived only from the world's cached, entity-sorted query
lists, and reuses it while those very list objects are current. The World rebuilds its
lists on every structural change, so the layout is never stale and holds nothing a replay
could lack. Component *values* (positions, teams, ranges) are read afresh every tick.

Why single-type queries joined here: the World sorts each query it answers after every
structural change, and a two-type query costs about three single-type ones (esper checks
each entity's component dict); the arena changes structure most ticks (plans, goals,
wounds), so this is paid often.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine import ComponentError, Position, TickContext, TickmindError, Velocity, World

from ._alert import PerceiveNow, perceive_now
from ._components import _LISTS, Faction, Perceivable, Perception, Senses, check_senses
from ._kernel import LineOfSight, Sightings, sightings
from ._nearest import _ALLY, _ENEMY, _OBJECT, nearest_sightings

__all__ = ["install_perception"]

# Sorting E sightings by four keys: np.lexsort is quicker for a few hundred, one argsort of
# an int64 composite key (with distances ranked by np.unique) about twice as quick from
# ~1,000 up. The composite key must also fit in 62 bits.
_LEXSORT_UP_TO = 1024
_KEY_LIMIT = 2**62
# With max_listed=k, the k-nearest path (``nearest_sightings``) pays once there are more
# than this many times k points: below that, each viewer's k nearest enemies, allies and
# objects are most of what it can see, and the all-pairs kernel does the same work in fewer
# array passes. Measured on the arena (k=16): 116 points (100 agents) 2.9 ms all-pairs vs
# 4.1 ms k-nearest; 1,016 points 200 ms vs 25 ms.
_NEAREST_FROM = 12


def install_perception(
    world: World, *, line_of_sight: LineOfSight | None = None, every: int = 1, max_listed: int | None = None
) -> None:
    """Register the ``"perception"`` system (stage ``perception``) on ``world``.

    ``line_of_sight(starts, ends) -> bool array`` is the game's occlusion test (nav's
    ``GridMap.line_of_sight_many`` fits); None means an open field. Without ``max_listed``
    it is called once per tick, with every candidate pair at once (rules in
    ``ai/perception/_kernel.py``); with it, on worlds of more than 12 * max_listed points, a
    few times per tick with the nearest candidates only (``ai/perception/_nearest.py``).
    Either way each unordered pair is asked at most once per tick.

    ``every=k`` staggers the work: at tick ``t`` only perceivers whose entity id satisfies
    ``id % k == t % k`` are refreshed, plus any perceiver that has no ``Perception`` yet (a
    new agent sees at once). Each perceiver is thus refreshed every ``k`` ticks, and its
    ``Perception.tick`` says when. An agent marked ``PerceiveNow`` (``perceive_now``: the
    execution system marks one whose plan just ended, a game one that was hit) is refreshed
    on the next pass whatever its phase, and so is every enemy a refreshed agent lists for
    the first time. The choice depends only on ids, the tick and hashed marks, so it
    replays exactly. Refreshed agents see everyone's current position.

    ``max_listed=k`` keeps only the k nearest enemies, the k nearest allies and the k nearest
    objects of each perceiver, and ``visible`` is then exactly the listed agents. In a crowd
    every agent may see hundreds of others; what a planner can use (and what the state hash
    must cover) is the nearest few. It also makes perception cost scale with perceivers * k
    rather than with the pairs in sight range (a k-nearest tree query per kind). None lists
    everything visible.

    Deleting an agent or object removes it from every ``Perception`` immediately (cost: one
    pass over all perceptions per such deletion). A ``Perception`` whose entity stopped
    being a perceiver (lost ``Senses``, ``Faction`` or ``Position``) is removed.
    """
    if line_of_sight is not None and not callable(line_of_sight):
        raise TickmindError(
            f"install_perception(line_of_sight=...) takes a callable (starts, ends) -> bool "
            f"array, or None for an open field; got {line_of_sight!r}"
        )
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise TickmindError(
            f"install_perception(every=...) takes a whole number of ticks >= 1, got {every!r}"
        )
    if max_listed is not None and (not isinstance(max_listed, int) or isinstance(max_listed, bool) or max_listed < 1):
        raise TickmindError(f"install_perception(max_listed=...) takes None or a whole number >= 1, got {max_listed!r}")
    world.add_system(_PerceptionSystem(line_of_sight, every, max_listed), stage="perception", name="perception")
    world.on_delete(_forget_deleted)


def _forget_deleted(world: World, entity: int) -> None:
    """Deletion hook: nothing may keep seeing an entity that no longer exists."""
    if not (world.has_component(entity, Faction) or world.has_component(entity, Perceivable)):
        return
    columns = world.columns(Perception)
    listing = np.unique(np.concatenate([columns.holding(name, entity) for name in _LISTS]))
    for perceiver in listing.tolist():
        world.component_for_entity(perceiver, Perception).forget(entity)


class _Layout:
    """Agents, objects and perceivers joined from one set of the world's query lists."""

    def __init__(self, sources: tuple[Sequence[tuple[int, Any]], ...]) -> None:
        self.sources = sources
        positions, factions, senses, perceivables, perceptions = sources
        position_ids = _ids(positions)
        faction_ids = _ids(factions)
        # Agents: Faction and Position. Objects: Perceivable and Position.
        fac_at, _ = _join(faction_ids, position_ids)
        self.agent_ids = faction_ids[fac_at]
        self.agent_faction: list[Faction] = [factions[i][1] for i in fac_at.tolist()]
        obj_at, pos_at = _join(_ids(perceivables), position_ids)
        self.object_info: list[Perceivable] = [perceivables[i][1] for i in obj_at.tolist()]
        object_ids = position_ids[pos_at]
        self.ids = np.concatenate((self.agent_ids, object_ids))
        self.dual = bool(_join(object_ids, self.agent_ids)[0].size)  # listed as both
        # Perceivers: agents with Senses, each with its agent index and Perception (if any).
        sen_at, self.perceiver_point = _join(_ids(senses), self.agent_ids)
        self.perceiver_ids = self.agent_ids[self.perceiver_point]
        self.senses: list[Senses] = [senses[i][1] for i in sen_at.tolist()]
        owned = _ids(perceptions)
        has, _ = _join(self.perceiver_ids, owned, keep_all=True)
        self.missing = ~has  # perceivers that get their first Perception when next refreshed
        kept, _ = _join(owned, self.perceiver_ids, keep_all=True)
        self.orphans: list[int] = owned[~kept].tolist()
        self._velocity_source: Sequence[Any] | None = None
        self._velocity: list[Velocity | None] = []

    def is_current(self, sources: tuple[Sequence[Any], ...]) -> bool:
        return all(a is b for a, b in zip(self.sources, sources, strict=True))

    def due(self, tick: int, every: int, marked: np.ndarray) -> np.ndarray:
        """Perceiver slots to refresh at ``tick`` (ascending): this tick's phase, those with no
        ``Perception`` yet, and the ``marked`` ids (``PerceiveNow``, ascending)."""
        if every == 1:
            return np.arange(len(self.perceiver_ids))
        due = (self.perceiver_ids % every == tick % every) | self.missing
        if marked.size:
            due[_join(marked, self.perceiver_ids)[1]] = True
        return np.flatnonzero(due)

    def velocity(self, world: World) -> list[Velocity | None]:
        """Each perceiver's Velocity (its heading), joined on first need."""
        rows = world.get_component(Velocity)
        if rows is not self._velocity_source:
            has, at = _join(self.perceiver_ids, _ids(rows), keep_all=True)
            self._velocity = [
                rows[i][1] if ok else None for i, ok in zip(at.tolist(), has.tolist(), strict=True)
            ]
            self._velocity_source = rows
        return self._velocity


class _PerceptionSystem:
    """``system(world, ctx)``: refresh the due perceivers' ``Perception``."""

    def __init__(self, line_of_sight: LineOfSight | None, every: int, max_listed: int | None = None) -> None:
        self.line_of_sight = line_of_sight
        self.every = every
        self.max_listed = max_listed
        self._layout: _Layout | None = None

    def __call__(self, world: World, ctx: TickContext) -> None:
        layout = self._current_layout(world)
        if layout.orphans:
            for entity in layout.orphans:
                world.remove_component(entity, Perception)
            layout = self._current_layout(world)
        marks = world.get_component(PerceiveNow)
        marked = _ids(marks)
        for entity in marked.tolist():
            world.remove_component(entity, PerceiveNow)
        slots = layout.due(ctx.tick, self.every, marked)
        if len(slots) == 0:
            return
        lists = self._refresh(world, layout, slots)  # first: a refusal (a NaN position) leaves no trace
        due = layout.perceiver_ids[slots]
        seen_before = ~layout.missing[slots]
        staggered = self.every > 1  # every tick, everyone is refreshed anyway: no news to pass on
        before = _enemies_before(world, due, seen_before) if staggered else None
        for entity in due[~seen_before].tolist():  # ascending
            world.add_component(entity, Perception(ctx.tick))
        columns = world.columns(Perception)
        columns.set("tick", ctx.tick, due)
        for name, (values, counts) in zip(_LISTS, lists, strict=True):
            columns.set_lists(name, values, counts, due)
        if before is not None:
            _mark_newly_seen(world, before, lists[1], seen_before)

    def _refresh(self, world: World, layout: _Layout, slots: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Who each due perceiver sees: (values, counts) of each list, in ``_LISTS`` order."""
        points, teams, radius = _gather_points(world, layout)
        viewers = layout.perceiver_point[slots]
        ranges, heading, cos_half = _gather_senses(world, layout, slots)
        rules: dict[str, Any] = {
            "heading": heading,
            "cos_half": cos_half,
            "ids": layout.ids if layout.dual else None,
            "radius": radius,
            "line_of_sight": self.line_of_sight,
        }
        n_agents = len(layout.agent_ids)
        cap = self.max_listed
        if cap is not None:
            nearest = None
            if len(points) > _NEAREST_FROM * cap:
                nearest = nearest_sightings(points, viewers, ranges, teams, cap, **rules)
            if nearest is None:  # a small world, or more teams than the k-nearest path takes
                viewer, target = _first_k(sightings(points, viewers, ranges, **rules), teams, viewers, len(points), cap)
            else:  # already capped and in list order
                viewer, target = nearest.viewer, nearest.target
            table = _listed_table(viewer, target, teams, viewers, n_agents, cap)
            return _table_lists(table, layout.ids, cap)
        seen = sightings(points, viewers, ranges, **rules)
        order, bounds, visible, visible_bounds = _arrange(
            seen.viewer, seen.target, seen.d2, teams, viewers, n_agents, len(points)
        )
        ids = layout.ids
        counts = np.diff(bounds).reshape(len(slots), 3)  # enemies, allies, objects per slot
        kind = np.repeat(np.tile(np.arange(3), len(slots)), counts.reshape(-1))
        listed = [(ids[seen.target[order[kind == k]]], counts[:, k]) for k in (_ENEMY, _ALLY, _OBJECT)]
        return [(ids[seen.target[visible]], np.diff(visible_bounds)), *listed]

    def _current_layout(self, world: World) -> _Layout:
        sources = (
            world.get_component(Position),
            world.get_component(Faction),
            world.get_component(Senses),
            world.get_component(Perceivable),
            world.get_component(Perception),
        )
        if self._layout is None or not self._layout.is_current(sources):
            self._layout = _Layout(sources)
        return self._layout


def _enemies_before(world: World, due: np.ndarray, seen_before: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The due perceivers' enemies as they stand, as (values, counts): none for one that has
    no ``Perception`` yet."""
    values, held = world.columns(Perception).get_lists("enemies", due[seen_before])
    counts = np.zeros(len(due), dtype=np.int64)
    counts[seen_before] = held
    return values, counts


def _mark_newly_seen(
    world: World, before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray], seen_before: np.ndarray
) -> None:
    """Refresh on the next tick every enemy a refreshed perceiver lists for the first time:
    whoever it now sees has, most likely, just come into sight of it too, and would
    otherwise keep an old view for up to ``every - 1`` ticks while being shot at.
    ``before``/``after`` are the refreshed perceivers' enemies as (values, counts);
    a perceiver not ``seen_before`` (its first Perception) passes nothing on: all its
    enemies are new to it only because it is."""
    span = int(max(before[0].max(initial=0), after[0].max(initial=0))) + 1

    def pairs(values: np.ndarray, counts: np.ndarray) -> np.ndarray:  # (perceiver, enemy) keys
        return np.repeat(np.arange(len(counts)), counts) * span + values

    fresh = ~np.isin(pairs(*after), pairs(*before)) & np.repeat(seen_before, after[1])
    new = after[0][fresh]
    for entity in np.unique(new).tolist():
        perceive_now(world, entity)


def _ids(rows: Sequence[tuple[int, Any]]) -> np.ndarray:
    return np.fromiter([e for e, _ in rows], dtype=np.int64, count=len(rows))


def _join(
    left: np.ndarray, right: np.ndarray, *, keep_all: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Match two ascending id arrays.

    Default: (indices into ``left``, indices into ``right``) of the ids in both. With
    ``keep_all``: (found mask over ``left``, index into ``right`` or 0 where not found).
    """
    at = np.searchsorted(right, left)
    found = at < len(right)
    found[found] = right[at[found]] == left[found]
    if keep_all:
        return found, np.where(found, at, 0)
    hit = np.flatnonzero(found)
    return hit, at[hit]


def _table_lists(table: np.ndarray, ids: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``_listed_table``'s rows as (values, counts) per list, in ``_LISTS`` order."""
    out = []
    for lo, hi in ((3 * k, 5 * k), (0, k), (k, 2 * k), (2 * k, 3 * k)):  # visible, enemies, allies, objects
        block = table[:, lo:hi]
        present = block >= 0
        out.append((ids[block[present]], present.sum(axis=1)))
    return out


def _gather_points(world: World, layout: _Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Positions of agents then objects (T, 2), the agents' teams, the objects' radii."""
    n = len(layout.agent_ids)
    points = world.columns(Position).get(("x", "y"), layout.ids)
    radius = None
    if layout.object_info:
        radii = [o.radius for o in layout.object_info]
        if any(radii):
            radius = np.zeros(len(points))
            radius[n:] = radii
    teams = np.fromiter([f.team for f in layout.agent_faction], dtype=np.int64, count=n)
    if not np.isfinite(points.sum()):  # one reduction; look closer only on failure
        entity = int(layout.ids[np.argmin(np.isfinite(points).all(axis=1))])
        raise ComponentError(
            f"entity {entity} has a non-finite Position; perception needs finite coordinates"
        )
    return points, teams, radius


def _gather_senses(
    world: World, layout: _Layout, slots: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Range of each due perceiver; heading and cos(fov/2) when any has a cone (else None)."""
    all_senses, slot_list = layout.senses, slots.tolist()
    # Distinct ascending slots: as many as perceivers means all of them (every=1).
    senses = all_senses if len(slot_list) == len(all_senses) else [all_senses[s] for s in slot_list]
    count = len(senses)
    ranges = np.fromiter([s.range for s in senses], dtype=np.float64, count=count)
    fovs = np.fromiter([s.fov_deg for s in senses], dtype=np.float64, count=count)
    low, high = ranges.min(), fovs.max()
    if not (low >= 0.0 and high <= 360.0 and fovs.min() > 0.0 and np.isfinite(ranges.sum())):
        valid = np.isfinite(ranges) & (ranges >= 0.0) & (fovs > 0.0) & (fovs <= 360.0)
        k = int(np.argmin(valid))
        check_senses(senses[k].range, senses[k].fov_deg, f"entity {layout.perceiver_ids[slots[k]]} Senses")
    narrow = np.flatnonzero(fovs < 360.0).tolist()
    if not narrow:
        return ranges, None, None
    velocity = layout.velocity(world)
    moving = [(k, v) for k in narrow if (v := velocity[slot_list[k]]) is not None]
    if not moving:
        return ranges, None, None
    at = [k for k, _ in moving]
    heading = np.zeros((count, 2), dtype=np.float64)
    heading[at, 0] = [v.vx for _, v in moving]
    heading[at, 1] = [v.vy for _, v in moving]
    cos_half = np.full(count, -1.0)
    cos_half[at] = [math.cos(math.radians(senses[k].fov_deg) / 2.0) for k in at]
    return ranges, heading, cos_half


def _arrange(
    viewer: np.ndarray,
    target: np.ndarray,
    d2: np.ndarray,
    teams: np.ndarray,
    viewers: np.ndarray,
    n_agents: int,
    n_points: int,
    *,
    visible: bool = True,
) -> tuple[np.ndarray, list[int], np.ndarray, list[int]]:
    """Sort sightings into per-viewer runs.

    Returns ``order`` (by viewer, then enemies / allies / objects, then exact squared
    distance, then target index — which ascends with entity id inside each category) with
    its run starts ``bounds`` (3 per viewer, plus the end), and ``visible`` (agent
    sightings by viewer, then target) with its run starts; ``visible=False`` skips that
    sort (the capped path derives visible from the capped lists) and returns it empty.
    """
    n_slots = len(viewers)
    is_object = target >= n_agents
    group = viewer * 3 + _category(viewer, target, teams, viewers, n_agents)
    if len(d2) <= _LEXSORT_UP_TO or 3 * n_slots * (len(d2) + 1) * n_points >= _KEY_LIMIT:
        order = np.lexsort((target, d2, group))
    else:
        distances, rank = np.unique(d2, return_inverse=True)
        order = np.argsort((group * len(distances) + rank.reshape(-1)) * n_points + target)
    bounds = _run_starts(group, 3 * n_slots)
    if not visible:
        return order, bounds, order[:0], [0] * (n_slots + 1)
    agents = np.flatnonzero(~is_object)
    listed = agents[np.argsort(viewer[agents] * n_points + target[agents])]
    return order, bounds, listed, _run_starts(viewer[agents], n_slots)


def _first_k(
    seen: Sightings, teams: np.ndarray, viewers: np.ndarray, n_points: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs sightings cut to each viewer's ``k`` nearest enemies, allies and objects,
    in list order (what ``_listed_table`` takes): (viewer, target) per kept sighting."""
    order, bounds, _, _ = _arrange(*seen, teams, viewers, len(teams), n_points, visible=False)
    rank = np.arange(len(order)) - np.repeat(bounds[:-1], np.diff(bounds))  # place in its run
    first = order[rank < k]
    return seen.viewer[first], seen.target[first]


def _listed_table(
    viewer: np.ndarray, target: np.ndarray, teams: np.ndarray, viewers: np.ndarray, n_agents: int, k: int
) -> np.ndarray:
    """Sightings that already come in list order (``nearest_sightings``, at most ``k`` per
    kind) as one row per viewer slot: the point indices of its enemies, allies and objects
    in ``k`` columns each, then its visible agents in ``2k`` ascending columns (agent
    points ascend with entity id); -1 pads every block."""
    n_slots = len(viewers)
    group = viewer * 3 + _category(viewer, target, teams, viewers, n_agents)
    starts = np.zeros(3 * n_slots + 1, dtype=np.int64)
    np.cumsum(np.bincount(group, minlength=3 * n_slots), out=starts[1:])
    rank = np.arange(len(group)) - starts[group]  # place inside its (viewer, kind) run
    table = np.full((n_slots, 5 * k), -1, dtype=np.int64)
    table.reshape(-1)[viewer * 5 * k + (group - viewer * 3) * k + rank] = target
    agents = table[:, : 2 * k]
    table[:, 3 * k :] = np.sort(np.where(agents < 0, n_agents, agents), axis=1)
    table[:, 3 * k :][table[:, 3 * k :] == n_agents] = -1
    return table


def _category(viewer: np.ndarray, target: np.ndarray, teams: np.ndarray, viewers: np.ndarray, n_agents: int) -> np.ndarray:
    """Enemy, ally or object, per sighting."""
    is_object = target >= n_agents
    same_team = teams[np.where(is_object, 0, target)] == teams[viewers][viewer]
    return np.where(is_object, _OBJECT, np.where(same_team, _ALLY, _ENEMY))


def _run_starts(keys: np.ndarray, n_keys: int) -> list[int]:
    """Start offsets of each key's run in a key-sorted array, plus the end: n_keys + 1 ints."""
    bounds = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_keys), out=bounds[1:])
    return bounds.tolist()
