"""tickmind nav: grid maps, A* and flow fields, path following and steering.

Set up a map and install the system::

    grid = GridMap.from_boxes(120, 80, 0.5, walls, inflate=0.4)   # inflate = agent radius
    install_nav(world, grid)
    world.add_component(agent, NavGoal(x, y, speed=3.0))

Each tick (stage "nav") nav writes every goal holder's ``DesiredVelocity`` and reports its
progress in ``NavStatus`` ("moving", "arrived", "unreachable", "idle"); physics moves the
bodies. Agents without a NavGoal are left alone. Perception can ask the same map for
thousands of sight checks per call (``GridMap.line_of_sight_many``, or ``BoxSight`` when the
occluders are a few boxes).

Modules, one concept each: ``_grid`` (the two-layer occupancy grid), ``_sight`` (exact
line of sight), ``_search`` (A*, string pulling, the grid graph), ``_flowfield`` (shared
fields and their LRU cache), ``_steering`` (vectorised neighbour math), ``_goto`` (one call per tick to walk somewhere,
robust to a goal replaced mid-walk), ``_components``
and ``_system`` (the tick). ``bench/nav_pathfinding.py`` measures the choices made here.
"""

from ._box_sight import BoxSight
from ._components import NAV_STATES, NavGoal, NavPath, NavStatus
from ._config import NavConfig
from ._errors import NavError
from ._flowfield import FlowField, FlowFieldCache
from ._goto import GoState, go_to, stop
from ._grid import Box, GridMap
from ._search import find_cell_path, find_path
from ._system import install_nav

__all__ = [
    "NAV_STATES",
    "Box",
    "BoxSight",
    "FlowField",
    "FlowFieldCache",
    "GoState",
    "GridMap",
    "NavConfig",
    "NavError",
    "NavGoal",
    "NavPath",
    "NavStatus",
    "find_cell_path",
    "find_path",
    "go_to",
    "install_nav",
    "stop",
]
