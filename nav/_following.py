"""Following, arrival and separation: every agent with a goal, each tick, as numpy over all
of them (the nav system's step 2 and 3)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._flowfield import FlowFieldCache
from ._grid import GridMap
from ._steering import arrival_speed, dot, neighbour_pairs, norms, separation_push
from ._table import (
    _ARRIVE,
    _ARRIVED,
    _FLOW,
    _FX,
    _INACTIVE,
    _LAST,
    _MODE,
    _NX,
    _PACKING,
    _PATH,
    _PX,
    _SPEED,
    _TX,
    Row,
    _can_walk,
    _NavRuntime,
    _way_out,
)

__all__ = ["_steer"]




def _steer(rt: _NavRuntime, cache: FlowFieldCache, rows: Sequence[Row], data: np.ndarray, tick: int, dt: float) -> np.ndarray:
    """Advance paths, mark arrivals, and return each row's desired velocity (n, 2)."""
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

    for i in np.flatnonzero(arrived).tolist():
        status = rows[i][1][2]
        status.state, status.since = "arrived", tick
    return vel


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
