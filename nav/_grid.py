"""GridMap: the static occupancy grid that sight and movement are decided on.

Two grids are kept because the questions differ. *Sight* asks whether a wall is in the way:
it uses the cells the boxes really cover (``blocked``). *Movement* asks where an agent's
centre may be: it uses ``inflated``, the cells that lie closer than the agent radius to a
box or to the map edge, so a path through free cells keeps the agent's body off the walls.

Conventions (every nav function follows them):

- world coordinates in metres, origin at the map's lower-left corner, y up (engine.Position);
- a cell is ``(ix, iy)``; arrays are indexed ``[iy, ix]`` with shape ``(ny, nx)``;
- cell ``(ix, iy)`` covers ``[ix*cs, (ix+1)*cs) x [iy*cs, (iy+1)*cs)``; its centre is the
  world point a path steers through;
- outside the map is blocked.

A GridMap is immutable (its arrays are read-only): the flow-field cache and the path
planner memoise against it, and the world hashes its ``digest`` once, so a replay on another
map diverges at the first tick instead of silently.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np
from scipy import ndimage

from ._errors import NavError
from ._sight import pad_blocked, segment_clear, segments_clear

__all__ = ["Box", "GridMap"]

Box = tuple[float, float, float, float]  #: an axis-aligned obstacle (x0, y0, x1, y1) in metres

_FEW = 8  # up to this many segments, a Python loop is faster than the numpy version


class GridMap:
    """An occupancy grid with a sight layer (``blocked``) and a movement layer (``inflated``).

    Build one with ``GridMap.from_boxes`` (exact geometry) or directly from a boolean array
    (``blocked[iy, ix]``), in which case the movement layer is the array dilated by
    ``inflate`` metres.
    """

    def __init__(
        self,
        blocked: np.ndarray,
        cell_size: float,
        *,
        inflate: float = 0.0,
        inflated: np.ndarray | None = None,
        width: float | None = None,
        height: float | None = None,
    ) -> None:
        blocked = np.array(blocked, dtype=bool)  # a private copy: callers keep theirs mutable
        if blocked.ndim != 2 or blocked.size == 0:
            raise NavError(f"GridMap needs a non-empty 2-D blocked[iy, ix] array, got shape {blocked.shape}")
        if not (math.isfinite(cell_size) and cell_size > 0):
            raise NavError(f"GridMap cell_size must be a positive number of metres, got {cell_size!r}")
        if not (math.isfinite(inflate) and inflate >= 0):
            raise NavError(f"GridMap inflate must be >= 0 metres (the agent radius), got {inflate!r}")
        self.cell_size = float(cell_size)
        self.inflate = float(inflate)
        self.ny: int = int(blocked.shape[0])
        self.nx: int = int(blocked.shape[1])
        self.width = float(width) if width is not None else self.nx * self.cell_size
        self.height = float(height) if height is not None else self.ny * self.cell_size
        if inflated is None:
            inflated = _dilate(blocked, self.inflate / self.cell_size) | _edge_band(
                self.nx, self.ny, self.cell_size, self.width, self.height, self.inflate
            )
        inflated = np.array(inflated, dtype=bool) | blocked
        if inflated.shape != blocked.shape:
            raise NavError(f"inflated has shape {inflated.shape}, blocked {blocked.shape}; they must match")
        blocked.setflags(write=False)
        inflated.setflags(write=False)
        self.blocked: np.ndarray = blocked  #: sight layer, ``[iy, ix]``, read-only
        self.inflated: np.ndarray = inflated  #: movement layer, ``[iy, ix]``, read-only
        self._padded = (pad_blocked(blocked), pad_blocked(inflated))
        self._bytes = (self._padded[0].tobytes(), self._padded[1].tobytes())

    @classmethod
    def from_boxes(
        cls, width: float, height: float, cell_size: float, boxes: Iterable[Sequence[float]], inflate: float = 0.0
    ) -> GridMap:
        """A ``width`` x ``height`` metre map whose obstacles are axis-aligned ``boxes``.

        A cell is blocked for sight when a box overlaps its interior (so a wall thinner than
        a cell still blocks); blocked for movement when any point of it is closer than
        ``inflate`` to a box or to the map edge (pass the agent radius).
        """
        if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
            raise NavError(f"map width and height must be positive metres, got {width!r} x {height!r}")
        if not (math.isfinite(cell_size) and cell_size > 0):
            raise NavError(f"GridMap cell_size must be a positive number of metres, got {cell_size!r}")
        if not (math.isfinite(inflate) and inflate >= 0):
            raise NavError(f"GridMap inflate must be >= 0 metres (the agent radius), got {inflate!r}")
        nx, ny = math.ceil(width / cell_size - 1e-9), math.ceil(height / cell_size - 1e-9)
        cx0 = np.arange(nx) * cell_size  # cell edges along x and y
        cy0 = np.arange(ny) * cell_size
        cx1, cy1 = cx0 + cell_size, cy0 + cell_size
        blocked = np.zeros((ny, nx), dtype=bool)
        inflated = _edge_band(nx, ny, cell_size, width, height, inflate)
        for i, box in enumerate(boxes):
            x0, y0, x1, y1 = _check_box(i, box)
            blocked |= ((cy0 < y1) & (cy1 > y0))[:, None] & ((cx0 < x1) & (cx1 > x0))[None, :]
            if inflate > 0:  # rectangle-to-rectangle distance, per column and per row
                dx = np.maximum(0.0, np.maximum(x0 - cx1, cx0 - x1))
                dy = np.maximum(0.0, np.maximum(y0 - cy1, cy0 - y1))
                # squared, with plain ufuncs: bit-identical on every machine (no libm hypot)
                inflated |= dy[:, None] * dy[:, None] + dx[None, :] * dx[None, :] < inflate * inflate
        return cls(blocked, cell_size, inflate=inflate, inflated=inflated, width=width, height=height)

    # --- conversions -----------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``, the shape of both layers."""
        return (self.ny, self.nx)

    def world_to_cell(self, x: float, y: float) -> tuple[int, int]:
        """The ``(ix, iy)`` cell containing a world point (possibly outside the map)."""
        return math.floor(x / self.cell_size), math.floor(y / self.cell_size)

    def cell_to_world(self, ix: int, iy: int) -> tuple[float, float]:
        """The world coordinates of a cell's centre."""
        return (ix + 0.5) * self.cell_size, (iy + 0.5) * self.cell_size

    def world_to_cells(self, points: np.ndarray) -> np.ndarray:
        """Vectorised ``world_to_cell``: (N, 2) world points to (N, 2) int64 ``[ix, iy]``."""
        return np.floor(np.asarray(points, dtype=np.float64).reshape(-1, 2) / self.cell_size).astype(np.int64)

    def cells_to_world(self, cells: np.ndarray) -> np.ndarray:
        """Vectorised ``cell_to_world``: (N, 2) ``[ix, iy]`` to (N, 2) cell centres."""
        return (np.asarray(cells, dtype=np.float64).reshape(-1, 2) + 0.5) * self.cell_size

    def in_bounds(self, ix: int, iy: int) -> bool:
        return 0 <= ix < self.nx and 0 <= iy < self.ny

    def is_free(self, x: float, y: float, *, inflated: bool = True) -> bool:
        """Whether an agent's centre may stand at (x, y) (``inflated=False``: no wall there)."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return False
        ix, iy = self.world_to_cell(x, y)
        grid = self.inflated if inflated else self.blocked
        return self.in_bounds(ix, iy) and not bool(grid[iy, ix])

    def cell_free(self, ix: int, iy: int, *, inflated: bool = True) -> bool:
        """Whether a cell is inside the map and open (for movement unless ``inflated=False``)."""
        grid = self.inflated if inflated else self.blocked
        return self.in_bounds(ix, iy) and not bool(grid[iy, ix])

    # --- sight -----------------------------------------------------------------------------

    def line_of_sight(self, ax: float, ay: float, bx: float, by: float, *, inflated: bool = False) -> bool:
        """Whether the segment a-b touches no blocked cell (symmetric; outside the map blocks).

        ``inflated=False`` (default) tests walls, for perception; ``inflated=True`` tests the
        movement layer: a body of radius ``inflate`` can slide along the segment.
        """
        return segment_clear(self._bytes[inflated], self.nx, self.ny, self.cell_size, ax, ay, bx, by)

    def line_of_sight_many(self, starts: np.ndarray, ends: np.ndarray, *, inflated: bool = False) -> np.ndarray:
        """``line_of_sight`` for N segments at once: (N, 2) starts and ends -> (N,) bool.

        Gives exactly the single-segment answers; costs O(cells crossed in total). A handful
        of segments go through the Python version, which beats numpy's per-call overhead.
        """
        a = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
        b = np.asarray(ends, dtype=np.float64).reshape(-1, 2)
        if len(a) <= _FEW and a.shape == b.shape:
            data, nx, ny, cs = self._bytes[inflated], self.nx, self.ny, self.cell_size
            return np.array(
                [segment_clear(data, nx, ny, cs, *p, *q) for p, q in zip(a.tolist(), b.tolist())], dtype=bool
            )
        return segments_clear(self._padded[inflated], self.cell_size, a, b)

    # --- derived data ----------------------------------------------------------------------

    @cached_property
    def nearest_free(self) -> tuple[np.ndarray, np.ndarray]:
        """Per cell: distance (in cells) to the nearest movement-free cell, and that cell's
        flat index ``iy * nx + ix`` (itself when free; -1 where the map has no free cell)."""
        if self.inflated.all():
            return np.full(self.shape, np.inf), np.full(self.shape, -1, dtype=np.int64)
        dist, (iy, ix) = ndimage.distance_transform_edt(self.inflated, return_indices=True)
        return np.asarray(dist, dtype=np.float64), (iy * self.nx + ix).astype(np.int64)

    def nearest_free_cells(self, points: np.ndarray) -> np.ndarray:
        """(N,) flat index ``iy * nx + ix`` of the movement-free cell whose centre is nearest
        each (N, 2) world point (-1 where the map has no free cell).

        Nearest to the point, not to its cell: from a cell in the middle of a wall's band the
        free cells either side are as near, and a tie broken by index (the distance
        transform's, west and south first) pushed every agent crossing a wall the same way,
        back for one side and on for the other. The point's own position breaks the tie the
        same way for an agent and its mirror image."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        out = np.full(len(pts), -1, dtype=np.int64)
        dist_cells = self.nearest_free[0]
        if len(pts) == 0 or not np.isfinite(dist_cells).any():
            return out
        cells = self.world_to_cells(pts)
        cx, cy = np.clip(cells[:, 0], 0, self.nx - 1), np.clip(cells[:, 1], 0, self.ny - 1)
        reach = int(np.ceil(dist_cells[cy, cx].max())) + 1
        dy, dx = (a.ravel() for a in np.mgrid[-reach : reach + 1, -reach : reach + 1])  # row-major: ties to the first
        tx, ty = cx[:, None] + dx[None, :], cy[:, None] + dy[None, :]
        inside = (tx >= 0) & (tx < self.nx) & (ty >= 0) & (ty < self.ny)
        ok = inside & ~self.inflated[np.where(inside, ty, 0), np.where(inside, tx, 0)]
        d2 = ((tx + 0.5) * self.cell_size - pts[:, :1]) ** 2 + ((ty + 0.5) * self.cell_size - pts[:, 1:]) ** 2
        d2 = np.where(ok, d2, np.inf)
        best = np.argmin(d2, axis=1)
        rows = np.arange(len(pts))
        found = np.isfinite(d2[rows, best])
        out[found] = (ty[rows, best] * self.nx + tx[rows, best])[found]
        return out

    def snap(self, x: float, y: float, radius: float) -> tuple[int, int] | None:
        """The movement-free cell to plan from for a point: its own cell when free, else the
        free cell whose centre is nearest the point, if within ``radius`` metres, else None.

        Agents are pushed into the inflated band by crowds and physics, and goals land on
        crates; snapping lets both still plan instead of failing.
        """
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        ix, iy = self.world_to_cell(x, y)
        if self.cell_free(ix, iy):
            return ix, iy
        flat = int(self.nearest_free_cells(np.array([[x, y]]))[0])
        if flat < 0:
            return None
        fx, fy = flat % self.nx, flat // self.nx
        wx, wy = self.cell_to_world(fx, fy)
        dx, dy = wx - x, wy - y
        return (fx, fy) if dx * dx + dy * dy <= radius * radius else None

    @cached_property
    def digest(self) -> bytes:
        """A 16-byte fingerprint of both layers and the cell size (hashed into the state)."""
        h = hashlib.blake2b(digest_size=16)
        h.update(np.array([self.nx, self.ny], dtype="<i8").tobytes())
        h.update(np.array([self.cell_size, self.inflate], dtype="<f8").tobytes())
        h.update(np.packbits(self.blocked).tobytes())
        h.update(np.packbits(self.inflated).tobytes())
        return h.digest()

    def __repr__(self) -> str:
        return (
            f"<GridMap {self.nx}x{self.ny} cells of {self.cell_size} m, inflate {self.inflate} m, "
            f"{int(self.blocked.sum())} blocked / {int(self.inflated.sum())} inflated>"
        )


def _check_box(i: int, box: Sequence[float]) -> Box:
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError) as exc:
        raise NavError(f"box #{i} must be (x0, y0, x1, y1) numbers, got {box!r}") from exc
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x1 < x0 or y1 < y0:
        raise NavError(f"box #{i} {box!r} must be finite with x0 <= x1 and y0 <= y1")
    return x0, y0, x1, y1


def _edge_band(nx: int, ny: int, cs: float, width: float, height: float, inflate: float) -> np.ndarray:
    """Cells closer than ``inflate`` to the map edge (or sticking out of the map)."""
    cx0, cy0 = np.arange(nx) * cs, np.arange(ny) * cs
    out_x = (cx0 < inflate) | (cx0 + cs > width - inflate)
    out_y = (cy0 < inflate) | (cy0 + cs > height - inflate)
    if inflate == 0:  # cells are half-open: only a cell poking past the edge is out
        out_x, out_y = cx0 + cs > width + 1e-9 * cs, cy0 + cs > height + 1e-9 * cs
    return out_y[:, None] | out_x[None, :]


def _dilate(blocked: np.ndarray, radius_cells: float) -> np.ndarray:
    """Cells whose square lies closer than ``radius_cells`` to a blocked cell's square."""
    if radius_cells <= 0 or not blocked.any():
        return blocked.copy()
    r = math.ceil(radius_cells)
    off = np.arange(-r, r + 1)
    gap = np.maximum(np.abs(off) - 1, 0).astype(np.float64)  # square-to-square gap per axis
    structure = gap[:, None] * gap[:, None] + gap[None, :] * gap[None, :] < radius_cells * radius_cells
    return ndimage.binary_dilation(blocked, structure=structure)
