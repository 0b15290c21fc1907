"""The strictness every table of a scenario file shares, and the limits that bound it.

Scenarios are written by hand, so the parser is picky on purpose: an unknown key is a typo
(``extra="forbid"``), ``"10"`` is not a number and ``true`` is not a count (``strict``),
``inf``/``nan`` are not coordinates, and a validated scenario cannot be edited into an
invalid one afterwards (``frozen``). The limits keep a hostile or mistyped file from asking
for more memory or time than a run can have, and keep every sum of coordinates finite.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["MAX_AGENTS", "MAX_CELLS", "MAX_EXTENT", "ScenarioPart"]

MAX_CELLS = 16_000_000
"""Most navigation-grid cells a map may have: (width / cell_size) * (height / cell_size)."""

MAX_AGENTS = 100_000
"""Most agents a scenario may spawn, all teams together."""

MAX_EXTENT = 1_000_000.0
"""Largest coordinate or size, in metres, any field accepts."""


class ScenarioPart(BaseModel):
    """Base of every scenario model: unknown keys, lax types and non-finite numbers are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
