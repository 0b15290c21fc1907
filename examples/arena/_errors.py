"""ScenarioError: everything wrong with a scenario, each problem with its field path.

A message reads ``arena.toml: spawns[1].count: room for 12 agents, not 50; ...`` so a user
can go straight to the line to change. All problems found are listed (validation does not
stop at the first), in one line, because the CLI prints a TickmindError as one line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from engine import TickmindError

__all__ = ["Problem", "ScenarioError", "format_path"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_LISTED = 10  # problems spelled out in the message; the rest are counted


class Problem(NamedTuple):
    """One thing wrong: ``path`` like ``teams[1].stats.speed`` ("" for the whole file)."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class ScenarioError(TickmindError):
    """A scenario that cannot be read or would not make a sound arena.

    ``source`` names the file (or ``<scenario>`` for data built in code) and ``problems``
    holds every problem found, so tools can point at each field.
    """

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = tuple(problems)
        listed = "; ".join(str(p) for p in self.problems[:_LISTED])
        if len(self.problems) > _LISTED:
            listed += f"; and {len(self.problems) - _LISTED} more"
        if len(self.problems) > 1:
            listed = f"{len(self.problems)} problems: {listed}"
        super().__init__(f"{source}: {listed}")


def format_path(loc: Iterable[int | str]) -> str:
    """``("teams", 1, "stats", "hp")`` -> ``teams[1].stats.hp``, the way a user would write it.

    Keys that are not TOML bare keys (``stats."heavy gunner"``) are quoted as TOML quotes them.
    """
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            key = part if _BARE_KEY.fullmatch(part) else json.dumps(part)
            parts.append(f".{key}" if parts else key)
    return "".join(parts)
