"""install_nav: the nav stage's system, which turns NavGoals into DesiredVelocity each tick.

One system ("nav", in stage "nav") does three things in order, over the agents that have a
``Position`` and a ``NavGoal`` (ascending entity id, as everything in the tick):

1. **plan** the agents whose goal is new or changed (or whose path was lost): a smoothed A*
   path each, or a shared flow field when at least ``flow_threshold`` agents have the same
   goal cell. An unreachable goal sets ``NavStatus("unreachable")``, never raises.
2. **follow**: advance along waypoints / sample the flow field, slow down into the final
   point, detect arrival (alone, or packed against agents already arrived at the same goal).
3. **separate**: push apart agents closer than ``separation_radius`` (cKDTree pairs, one
   vectorised sum), so a crowd squeezing through a door spreads and queues instead of
   pinning itself against the frame; then write ``DesiredVelocity`` (capped at the goal's
   speed). Physics turns that into motion.

Agents with no NavGoal are left alone, so user steering and other systems can drive them;
the one exception is an agent whose NavGoal was just removed: nav zeroes its desired velocity
once and reports "idle", since an order to stop must not leave it walking on.

Planning happens only when goals change; everything per tick is numpy over all agents.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import DesiredVelocity, Position, TickContext, World

from ._components import NavGoal, NavPath, NavStatus
from ._errors import NavError
from ._flowfield import FlowField, FlowFieldCache
from ._grid import GridMap
from ._search import _settled, default_snap_radius, find_path
from ._steering import arrival_speed, dot, neighbour_pairs, norms, separation_push

__all__ = ["NavConfig", "install_nav"]

# Row modes in the per-tick arrays.
_INACTIVE, _PATH, _FLOW, _ARRIVED = 0, 1, 2, 3
_PACKING = 0.9  # fraction of a disc that packed agents fill (hexagonal packing)


@dataclass(frozen=True)
class NavConfig:
    """nav's settings; ``None`` fields are derived from the map by ``install_nav``."""

    #: agent body radius in metres (default: the map's ``inflate``, else half a cell)
    agent_radius: float | None = None
    #: agents sharing a goal cell from which one flow field replaces per-agent A*. Measured
    #: end to end (planning + 5 s of steering) by bench/nav_pathfinding.py on a 120 x 80 m
    #: room map: fields cost 1.1-1.5x more below 8 agents, 0.8-0.95x at 12, 0.5x at 64.
    flow_threshold: int = 12
    #: centre distance below which neighbours push apart (default: 3 agent radii)
    separation_radius: float | None = None
    #: strength of that push relative to the agent's speed
    separation_weight: float = 1.0
    #: strength, relative to speed, of the push back into free space for an agent pressed
    #: into the inflated band along a wall (0 turns it off)
    wall_weight: float = 1.0
    #: distance over which an agent eases into its final point, metres
    slow_radius: float = 1.0
    #: every this many ticks (staggered by entity id) a path agent checks that it still sees
    #: its waypoint, and replans from where it stands if not (pushed round a corner)
    repath_interval: int = 60
    #: how far a start/goal may be snapped out of the movement-blocked band, metres
    #: (default ``2 * cell_size + inflate``)
    snap_radius: float | None = None
    #: flow fields kept in the LRU cache
    cache_size: int = 8
    #: at most this many agents planned per tick (ascending entity id; the rest keep their
    #: old orders until a later tick); None plans every changed goal at once
    max_plans_per_tick: int | None = None

    def resolved(self, grid: GridMap) -> NavConfig:
        """A copy with every ``None`` replaced by its map-derived default, and checked."""
        radius = self.agent_radius
        if radius is None:
            radius = grid.inflate if grid.inflate > 0 else 0.5 * grid.cell_size
        cfg = dataclasses.replace(
            self,
            agent_radius=float(radius),
            separation_radius=float(self.separation_radius if self.separation_radius is not None else 3.0 * radius),
            snap_radius=float(self.snap_radius if self.snap_radius is not None else default_snap_radius(grid)),
        )
        for name in ("agent_radius", "separation_radius", "snap_radius"):
            value = getattr(cfg, name)
            if not (math.isfinite(value) and value >= 0):
                raise NavError(f"NavConfig.{name} must be a finite number >= 0, got {value!r}")
        if cfg.flow_threshold < 1 or cfg.repath_interval < 1 or cfg.cache_size < 1:
            raise NavError("NavConfig flow_threshold, repath_interval and cache_size must be >= 1")
        if cfg.max_plans_per_tick is not None and cfg.max_plans_per_tick < 1:
            raise NavError("NavConfig.max_plans_per_tick must be >= 1, or None for no limit")
        return cfg


def install_nav(world: World, grid: GridMap, *, config: NavConfig | None = None) -> NavConfig:
    """Add nav to a world: the ``grid``, a flow-field cache and the config as resources, the
    map's digest as a hash source, and the "nav" system in stage "nav". Returns the resolved
    config. Call once per world, before the first tick.
    """
    if world.try_resource(_NavRuntime) is not None:
        raise NavError("install_nav was already called on this world; call it once per world")
    cfg = (config or NavConfig()).resolved(grid)
    world.insert_resource(grid)
    world.insert_resource(cfg)
    world.insert_resource(FlowFieldCache(grid, cfg.cache_size))
    world.insert_resource(_NavRuntime(grid, cfg))
    world.add_hash_source("nav.grid", lambda: grid.digest)
    world.add_system(_nav_system, stage="nav", name="nav")
    return cfg


class _NavRuntime:
    """Per-world memo for the nav system. Holds nothing the simulation's outcome depends on:
    only which query lists were already scanned for structural work."""

    def __init__(self, grid: GridMap, cfg: NavConfig) -> None:
        self.grid = grid
        self.cfg = cfg
        self.scanned: tuple[Any, Any] | None = None
        self.nearest = grid.nearest_free[1].ravel()  #: nearest movement-free cell per cell
        self._rows: Sequence[Row] | None = None
        self._desired: list[DesiredVelocity] = []

    def desired(self, rows: Sequence[Row]) -> list[DesiredVelocity]:
        """Each row's DesiredVelocity, kept while the world's query list is the same object
        (it is replaced on every structural change, so this is never stale)."""
        if rows is not self._rows:
            self._rows, self._desired = rows, [comps[4] for _, comps in rows]
        return self._desired


def _nav_system(world: World, ctx: TickContext) -> None:
    rt = world.resource(_NavRuntime)
    cache = world.resource(FlowFieldCache)
    _structural(world, rt, ctx.tick)
    rows = world.get_components(Position, NavGoal, NavStatus, NavPath, DesiredVelocity)
    if not rows:
        return
    data, stale, recheck = _gather(rows, ctx.tick, rt.cfg.repath_interval)
    if recheck:
        stale = sorted(stale + _lost_their_way(rt, cache, rows, recheck))
    if stale:
        for i in _plan(rt, cache, rows, data, stale, ctx.tick):
            _, (pos, goal, status, path, _) = rows[i]
            data[i] = _columns(pos, goal, status, path)
    _steer(rt, cache, rows, data, ctx.tick, ctx.dt)


# --- structure: newcomers and removed goals ------------------------------------------------


def _structural(world: World, rt: _NavRuntime, tick: int) -> None:
    """Give new goal holders their nav components; stop agents whose goal was removed.

    Both only change when components are added or removed, which replaces the world's cached
    query lists; the lists' identity tells when a scan is due (a skipped scan would have found
    nothing, so this memo cannot change what happens).
    """
    goals = world.get_components(Position, NavGoal)
    statuses = world.get_component(NavStatus)
    if rt.scanned is not None and rt.scanned[0] is goals and rt.scanned[1] is statuses:
        return
    for entity, _ in goals:
        if not world.has_component(entity, NavStatus):
            world.add_component(entity, NavStatus("idle", 0.0, 0.0, tick))
        if not world.has_component(entity, NavPath):
            world.add_component(entity, NavPath())
        if not world.has_component(entity, DesiredVelocity):
            world.add_component(entity, DesiredVelocity(0.0, 0.0))
    with_goal = {entity for entity, _ in world.get_components(Position, NavGoal)}
    for entity, status in world.get_component(NavStatus):
        if entity not in with_goal and status.state != "idle":
            status.state, status.since = "idle", tick
            dv = world.try_component(entity, DesiredVelocity)
            if dv is not None:
                dv.vx = dv.vy = 0.0
    rt.scanned = (world.get_components(Position, NavGoal), world.get_component(NavStatus))


# --- planning ------------------------------------------------------------------------------


Row = tuple[int, tuple[Position, NavGoal, NavStatus, NavPath, DesiredVelocity]]


# The per-tick columns, one row per agent (see _columns).
_PX, _TX, _NX, _FX, _SPEED, _ARRIVE, _MODE, _LAST, _GX = 0, 2, 4, 6, 8, 9, 10, 11, 12
_NCOLS = 14


def _columns(pos: Position, goal: NavGoal, status: NavStatus, path: NavPath) -> tuple[float, ...]:
    """One agent's row: position, current and next target, final point, speed, arrive
    radius, mode, whether the target is the final point, goal."""
    wps = path.waypoints
    if status.state == "moving" and wps:
        k = path.index
        t = wps[k]
        n = wps[k + 1] if k + 1 < len(wps) else t
        f = wps[-1]
        mode = _FLOW if path.flow else _PATH
        return (pos.x, pos.y, *t, *n, *f, goal.speed, goal.arrive_radius, mode, k + 1 >= len(wps), goal.x, goal.y)
    f = wps[-1] if wps else (pos.x, pos.y)
    mode = _ARRIVED if status.state == "arrived" else _INACTIVE
    return (pos.x, pos.y, pos.x, pos.y, pos.x, pos.y, *f, 0.0, goal.arrive_radius, mode, 1, goal.x, goal.y)


def _gather(rows: Sequence[Row], tick: int, interval: int) -> tuple[np.ndarray, list[int], list[int]]:
    """One pass over the components: the column array, the agents whose goal changed, and
    the moving agents due for a way check this tick (staggered by entity id)."""
    out: list[tuple[float, ...]] = []
    append = out.append
    stale: list[int] = []
    recheck: list[int] = []
    phase = tick % interval
    for i, (entity, (pos, goal, status, path, _)) in enumerate(rows):
        state = status.state
        gx, gy = goal.x, goal.y
        if state == "idle" or (
            (status.goal_x != gx or status.goal_y != gy) and not (_same(status.goal_x, gx) and _same(status.goal_y, gy))
        ):
            stale.append(i)
        elif state == "moving":
            if (entity + phase) % interval == 0:
                recheck.append(i)
            wps = path.waypoints
            if wps:  # the hot case, _columns inlined: following a path or a flow field
                k = path.index
                t, f = wps[k], wps[-1]
                last = k + 1 >= len(wps)
                n = t if last else wps[k + 1]
                mode = _FLOW if path.flow else _PATH
                append(
                    (pos.x, pos.y, t[0], t[1], n[0], n[1], f[0], f[1], goal.speed, goal.arrive_radius, mode, last, gx, gy)
                )
                continue
        append(_columns(pos, goal, status, path))
    return np.array(out, dtype=np.float64).reshape(-1, _NCOLS), stale, recheck


def _plan(rt: _NavRuntime, cache: FlowFieldCache, rows: Sequence[Row], data: np.ndarray, stale: list[int], tick: int) -> list[int]:
    """Plan ``stale`` agents (ascending rows, at most ``max_plans_per_tick``); return them."""
    cfg, grid = rt.cfg, rt.grid
    if cfg.max_plans_per_tick is not None:
        stale = stale[: cfg.max_plans_per_tick]
    # goal cells shared by at least flow_threshold agents get a flow field
    goals = data[:, _GX : _GX + 2]
    finite = np.isfinite(goals).all(axis=1)
    cells = grid.world_to_cells(np.where(finite[:, None], goals, 0.0))
    key = np.where(finite, cells[:, 1] * (grid.nx + 1) + cells[:, 0], np.iinfo(np.int64).min)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    shared = (counts[inverse] >= cfg.flow_threshold) & finite
    by_field: dict[tuple[int, int], list[int]] = {}
    for i in stale:
        _, (pos, goal, status, path, dv) = rows[i]
        snapped = grid.snap(goal.x, goal.y, cfg.snap_radius)  # type: ignore[arg-type]
        if snapped is None:
            _set(status, path, dv, "unreachable", goal, tick)
        elif shared[i]:
            by_field.setdefault(snapped, []).append(i)
        else:
            waypoints = find_path(grid, (pos.x, pos.y), (goal.x, goal.y), snap_radius=cfg.snap_radius)
            if waypoints is None:
                _set(status, path, dv, "unreachable", goal, tick)
            else:
                _set(status, path, dv, "moving", goal, tick, tuple(waypoints))
    for cell in sorted(by_field):  # sorted keys: build order never depends on dict order
        members = by_field[cell]
        field = cache.get(cell)
        for i, reachable in zip(members, _reachable(field, rows, members), strict=True):
            _, (_, goal, status, path, dv) = rows[i]
            if not reachable:
                _set(status, path, dv, "unreachable", goal, tick)
                continue
            final = (goal.x, goal.y) if _settled(grid, (goal.x, goal.y), cell) else grid.cell_to_world(*cell)
            _set(status, path, dv, "moving", goal, tick, (final,), flow=True)
    return stale


def _lost_their_way(rt: _NavRuntime, cache: FlowFieldCache, rows: Sequence[Row], recheck: list[int]) -> list[int]:
    """Moving agents that can no longer follow: a path agent whose body cannot get to its
    waypoint in a straight line, a flow agent pushed where its field does not reach."""
    grid = rt.grid
    lost: list[int] = []
    starts, ends, path_rows = [], [], []
    by_field: dict[tuple[int, int], list[int]] = {}  # flow agents per goal cell: one call each
    for i in recheck:
        _, (pos, _, _, path, _) = rows[i]
        if path.flow:
            by_field.setdefault(grid.world_to_cell(*path.waypoints[-1]), []).append(i)
        elif path.waypoints:
            starts.append((pos.x, pos.y))
            ends.append(path.waypoints[path.index])
            path_rows.append(i)
    for cell in sorted(by_field):  # sorted keys: cache use never depends on dict order
        members = by_field[cell]
        lost.extend(i for i, fine in zip(members, _reachable(cache.get(cell), rows, members), strict=True) if not fine)
    if path_rows:
        ok = _can_walk(rt, np.array(starts), np.array(ends))
        lost.extend(i for i, fine in zip(path_rows, ok.tolist(), strict=True) if not fine)
    return lost


def _reachable(field: FlowField, rows: Sequence[Row], members: list[int]) -> list[bool]:
    """Whether the goal of ``field`` can be reached from each member row's position (one
    vectorised lookup for the lot)."""
    pts = np.array([(rows[i][1][0].x, rows[i][1][0].y) for i in members], dtype=np.float64)
    out: list[bool] = field.reachable(pts).tolist()
    return out


def _can_walk(rt: _NavRuntime, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether a body at each start can walk straight to its end.

    A start in the inflated band (where crowds press agents against walls all the time) is
    first moved to the nearest free cell, the way the wall push will take it; from there the
    movement grid must be clear. Plain sight would be too lenient (a body does not fit past a
    door frame that the eye clears), movement sight from the pressed position too strict.
    """
    return rt.grid.line_of_sight_many(_back_in_free_space(rt, starts), ends, inflated=True)


def _back_in_free_space(rt: _NavRuntime, pts: np.ndarray) -> np.ndarray:
    """Points in band cells replaced by the centre of their nearest free cell."""
    rows, centres = _way_out(rt, pts, np.isfinite(pts).all(axis=1))
    if rows.size == 0:
        return pts
    out = np.array(pts, dtype=np.float64)
    out[rows] = centres
    return out


def _way_out(rt: _NavRuntime, pts: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the active points standing in band cells: their row numbers and the centre of
    the nearest movement-free cell to each (points with no free cell anywhere are left out)."""
    grid = rt.grid
    cells = grid.world_to_cells(np.where(active[:, None], pts, 0.0))
    ix, iy = cells[:, 0], cells[:, 1]
    inside = active & (ix >= 0) & (ix < grid.nx) & (iy >= 0) & (iy < grid.ny)
    flat = np.where(inside, iy * grid.nx + ix, 0)
    rows = np.flatnonzero(inside & grid.inflated.ravel()[flat] & (rt.nearest[flat] >= 0))
    if rows.size == 0:
        return rows, np.zeros((0, 2))
    nearest = rt.nearest[flat[rows]]
    return rows, grid.cells_to_world(np.stack([nearest % grid.nx, nearest // grid.nx], axis=1))


def _set(
    status: NavStatus,
    path: NavPath,
    dv: DesiredVelocity,
    state: str,
    goal: NavGoal,
    tick: int,
    waypoints: tuple[tuple[float, float], ...] = (),
    *,
    flow: bool = False,
) -> None:
    if state != status.state or not (_same(status.goal_x, goal.x) and _same(status.goal_y, goal.y)):
        status.since = tick
    status.state, status.goal_x, status.goal_y = state, goal.x, goal.y
    path.waypoints, path.index, path.flow = waypoints, 0, flow
    if state != "moving":
        dv.vx = dv.vy = 0.0


def _same(a: float, b: float) -> bool:
    """Equal, counting NaN as equal to NaN (a NaN goal is planned once, not every tick)."""
    return a == b or (math.isnan(a) and math.isnan(b))


# --- following, arrival, separation ---------------------------------------------------------


def _steer(rt: _NavRuntime, cache: FlowFieldCache, rows: Sequence[Row], data: np.ndarray, tick: int, dt: float) -> None:
    cfg, grid = rt.cfg, rt.grid
    n = len(rows)
    pos = data[:, _PX : _PX + 2]
    target = data[:, _TX : _TX + 2].copy()
    final = data[:, _FX : _FX + 2]
    speed = data[:, _SPEED]
    speed = np.where(np.isfinite(speed) & (speed > 0), speed, 0.0)
    arrive = data[:, _ARRIVE]
    mode = data[:, _MODE].astype(np.int64)
    last = data[:, _LAST] > 0
    finite = np.isfinite(pos).all(axis=1)
    mode[~finite] = _INACTIVE  # a body at NaN cannot be steered; physics' problem, not ours

    flow_rows = np.flatnonzero(mode == _FLOW)
    if flow_rows.size:
        _sample_flow(grid, cache, pos, final, target, last, flow_rows)

    # next waypoint once within reach of this one, or past it (beyond the line through it
    # square to the next leg): a crowd may shove an agent past a waypoint it never touches
    reach = 0.5 * grid.cell_size + speed * dt
    delta = target - pos
    nxt = data[:, _NX : _NX + 2]
    on_path = (mode == _PATH) & ~last
    advance = on_path & (norms(delta) <= reach)
    passed = on_path & ~advance & (dot(-delta, nxt - target) > 0)
    if passed.any():  # past it, and a straight walk to the next one is open
        rows_passed = np.flatnonzero(passed)
        advance[rows_passed] = _can_walk(rt, pos[rows_passed], nxt[rows_passed])
    if advance.any():
        target[advance] = data[advance, _NX : _NX + 2]
        adv_rows = np.flatnonzero(advance)
        for i in adv_rows.tolist():
            path = rows[i][1][3]
            path.index += 1
            last[i] = path.index + 1 >= len(path.waypoints)
    moving = (mode == _PATH) | (mode == _FLOW)
    rem_vec = final - pos
    remaining = norms(rem_vec)
    arrived = moving & last & (remaining <= arrive)

    # neighbours: one tree over every nav body with a finite position
    radius = float(cfg.separation_radius)  # type: ignore[arg-type]
    body = float(cfg.agent_radius)  # type: ignore[arg-type]
    idx = np.flatnonzero(finite)
    pairs, pdelta, pdist = neighbour_pairs(pos[idx], radius)
    pairs = idx[pairs] if len(pairs) else pairs
    arrived |= _crowd_arrival(moving & last & ~arrived, mode == _ARRIVED, final, remaining, arrive, body, pairs, pdist, grid)

    delta = target - pos
    dist = norms(delta)
    direction = np.zeros_like(delta)
    ok = dist > 1e-12
    direction[ok] = delta[ok] / dist[ok, None]
    want = np.where(last, arrival_speed(speed, remaining, cfg.slow_radius, dt), speed)
    vel = direction * want[:, None]
    if len(pairs):
        push = separation_push(n, pairs, pdelta, pdist, radius)
        vel += push * (cfg.separation_weight * speed)[:, None]
    if cfg.wall_weight > 0:
        vel += _wall_escape(rt, pos, moving & finite) * (cfg.wall_weight * speed)[:, None]
    mag = norms(vel)
    over = mag > speed
    vel[over] *= (speed[over] / mag[over])[:, None]
    vel[~moving | arrived] = 0.0

    for dv, x, y in zip(rt.desired(rows), vel[:, 0].tolist(), vel[:, 1].tolist(), strict=True):
        dv.vx = x
        dv.vy = y
    for i in np.flatnonzero(arrived).tolist():
        status = rows[i][1][2]
        status.state, status.since = "arrived", tick


def _wall_escape(rt: _NavRuntime, pos: np.ndarray, active: np.ndarray) -> np.ndarray:
    """(n, 2) unit vectors toward the nearest movement-free cell for agents standing in the
    inflated band (pressed against a wall or a door frame by the crowd), zero elsewhere.

    Why: their path leg may run past the wall's corner closer than their body allows; a
    push back into free space lets them round it instead of grinding against it.
    """
    out = np.zeros_like(pos)
    rows, centres = _way_out(rt, pos, active)
    if rows.size:
        d = centres - pos[rows]
        norm = norms(d)
        good = norm > 0
        out[rows[good]] = d[good] / norm[good, None]
    return out


def _sample_flow(
    grid: GridMap,
    cache: FlowFieldCache,
    pos: np.ndarray,
    final: np.ndarray,
    target: np.ndarray,
    last: np.ndarray,
    flow_rows: np.ndarray,
) -> None:
    """Targets for flow agents, one vectorised lookup per goal field (sorted goal cells)."""
    cells = grid.world_to_cells(final[flow_rows])
    flat = cells[:, 1] * grid.nx + cells[:, 0]
    if (flat == flat[0]).all():  # the common case: one crowd, one field
        groups = [(int(flat[0]), flow_rows)]
    else:
        keys, group = np.unique(flat, return_inverse=True)
        groups = [(key, flow_rows[group == g]) for g, key in enumerate(keys.tolist())]
    for key, members in groups:
        field = cache.get((key % grid.nx, key // grid.nx))
        tc = field.target_cells(pos[members])
        on_final = (tc == key) | (tc < 0)  # at the goal, or lost: head straight for the point
        centres = grid.cells_to_world(np.stack([tc % grid.nx, tc // grid.nx], axis=1))
        target[members] = np.where(on_final[:, None], final[members], centres)
        last[members] = on_final


def _crowd_arrival(
    candidates: np.ndarray,
    arrived: np.ndarray,
    final: np.ndarray,
    remaining: np.ndarray,
    arrive: np.ndarray,
    body: float,
    pairs: np.ndarray,
    pdist: np.ndarray,
    grid: GridMap,
) -> np.ndarray:
    """Agents touching an agent that has already arrived count as arrived when they are
    within one body diameter beyond their ``arrive_radius`` of their final point, or, when
    both share a goal cell, within the radius a packed crowd of everyone sharing it fills.

    Why: n agents sent to one point cannot all stand within ``arrive_radius`` of it, and in a
    tight formation a neighbour shoved onto your spot keeps you off it; without this the
    outer ring would push at the inner one forever and never report done.
    """
    out = np.zeros(len(candidates), dtype=bool)
    if len(pairs) == 0 or not candidates.any() or not arrived.any():
        return out
    a, b = pairs[:, 0], pairs[:, 1]
    touching = pdist <= 2.2 * body
    forward = touching & candidates[a] & arrived[b]
    backward = touching & candidates[b] & arrived[a]
    if not (forward.any() or backward.any()):
        return out
    x = np.concatenate([a[forward], b[backward]])  # candidate
    y = np.concatenate([b[forward], a[backward]])  # arrived neighbour
    cells = grid.world_to_cells(np.where(np.isfinite(final), final, -1.0))
    key = cells[:, 1] * (grid.nx + 2) + cells[:, 0]
    same = key[x] == key[y]
    sharing = (key[None, :] == key[x][:, None]).sum(axis=1)  # agents with that goal cell
    packed = np.where(same, body * np.sqrt(sharing / _PACKING) * 1.2, 0.0)
    crowd_radius = arrive[x] + np.maximum(2.0 * body, packed)
    out[x[remaining[x] <= crowd_radius]] = True
    return out
