"""Scenario files shipped with the arena, readable from an installed package or a zip.

``DEFAULT_SCENARIO`` is a traversable, not necessarily a path on disk: pass it to
``load_scenario`` (which reads it through importlib.resources), or ``str()`` it for display.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

__all__ = ["DEFAULT_SCENARIO"]

DEFAULT_SCENARIO: Traversable = files(__name__) / "default.toml"
"""100 agents, red against blue, on an 80 x 50 m map of lanes, doorways and cover."""
