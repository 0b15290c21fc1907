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

import math
from collections.abc import Sequence

import numpy as np

from engine import DesiredVelocity, Position, TickContext, World

from ._components import NavGoal, NavPath, NavStatus
from ._config import NavConfig
from ._errors import NavError
from ._flowfield import FlowField, FlowFieldCache
from ._following import _steer
from ._grid import GridMap
from ._search import _settled, find_path
from ._table import (
    _FLOW,
    _GX,
    _NCOLS,
    _PATH,
    _PX,
    Row,
    _can_walk,
    _columns,
    _NavRuntime,
)

__all__ = ["install_nav"]


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


_XY = ("x", "y")
_VXY = ("vx", "vy")


def _nav_system(world: World, ctx: TickContext) -> None:
    rt = world.resource(_NavRuntime)
    cache = world.resource(FlowFieldCache)
    _structural(world, rt, ctx.tick)
    rows = world.get_components(Position, NavGoal, NavStatus, NavPath, DesiredVelocity)
    if not rows:
        return
    entities = np.fromiter((e for e, _ in rows), dtype=np.int64, count=len(rows))
    data, stale, recheck = _gather(world, entities, rows, ctx.tick, rt.cfg.repath_interval)
    if recheck:
        stale = sorted(stale + _lost_their_way(rt, cache, rows, recheck))
    if stale:
        for i in _plan(rt, cache, rows, data, stale, ctx.tick):
            _, (pos, goal, status, path, _) = rows[i]
            data[i] = _columns(pos, goal, status, path)
    vel = _steer(rt, cache, rows, data, ctx.tick, ctx.dt)
    world.columns(DesiredVelocity).set(_VXY, vel, entities)


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


def _gather(
    world: World, entities: np.ndarray, rows: Sequence[Row], tick: int, interval: int
) -> tuple[np.ndarray, list[int], list[int]]:
    """One pass over the components: the column array, the agents whose goal changed, and
    the moving agents due for a way check this tick (staggered by entity id). Positions
    come from the Position columns in one gather; the pass leaves them 0."""
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
                append((0.0, 0.0, t[0], t[1], n[0], n[1], f[0], f[1], goal.speed, goal.arrive_radius, mode, last, gx, gy))
                continue
        append(_columns(pos, goal, status, path))
    data = np.array(out, dtype=np.float64).reshape(-1, _NCOLS)
    data[:, _PX : _PX + 2] = world.columns(Position).get(_XY, entities)
    return data, stale, recheck


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
