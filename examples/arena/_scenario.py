"""The scenario model: the map, its walls and cover, the teams, where they spawn, how they fight.

A scenario is a run's configuration, one of the three inputs (with the seed and the input
journal) that determine a run bit for bit, so it is validated whole before any world is
built: every field on its own here, and every rule that ties fields together (spawn zones
clear of walls and big enough, team names that exist, ...) in ``_checks``. Build one with
``load_scenario(path)`` from a file or ``Scenario.model_validate(data)`` in code; the
latter raises pydantic's ``ValidationError`` with the same field paths and reasons.

Every field carries a description: ``Scenario.model_json_schema()`` is the reference for
people writing their own scenario files.
"""

from __future__ import annotations

import math
import re

from pydantic import Field, PrivateAttr, ValidationError, ValidatorFunctionWrapHandler, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ._checks import find_problems
from ._geometry import Box
from ._scenario_base import MAX_AGENTS, MAX_CELLS, MAX_EXTENT, ScenarioPart

__all__ = ["AgentStats", "MapSpec", "Objective", "Scenario", "SimSettings", "SpawnZone", "Team"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def _rule(reason: str) -> PydanticCustomError:
    """An error whose text is ``reason`` as is (pydantic would read braces in it as fields)."""
    return PydanticCustomError("scenario_rule", "{reason}", {"reason": reason})


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise _rule(f"must start with a letter and hold at most 32 letters, digits, '_' or '-' (got {value!r})")
    return value


class MapSpec(ScenarioPart):
    """The playing field: a ``width`` x ``height`` rectangle with its lower-left corner at (0, 0)."""

    width: float = Field(gt=0, le=MAX_EXTENT, description="Extent along x, metres; the map spans 0 <= x <= width.")
    height: float = Field(gt=0, le=MAX_EXTENT, description="Extent along y, metres; the map spans 0 <= y <= height.")
    cell_size: float = Field(
        0.5,
        gt=0,
        le=MAX_EXTENT,
        description="Side of one navigation-grid cell, metres. Smaller gives finer paths and "
        f"costs memory: (width / cell_size) * (height / cell_size) may not exceed {MAX_CELLS:,}.",
    )

    @property
    def grid_shape(self) -> tuple[int, int]:
        """Navigation-grid size as (columns, rows); a partial cell at the edge counts."""
        return math.ceil(self.width / self.cell_size), math.ceil(self.height / self.cell_size)

    @model_validator(mode="after")
    def _fits_in_memory(self) -> MapSpec:
        cells = (self.width / self.cell_size) * (self.height / self.cell_size)  # may be inf: fine
        if cells > MAX_CELLS:
            raise _rule(
                f"a {self.width:g} x {self.height:g} m map in {self.cell_size:g} m cells needs {cells:.3g} "
                f"grid cells, more than the limit of {MAX_CELLS:,}; raise cell_size or shrink the map"
            )
        return self


class SimSettings(ScenarioPart):
    """How the simulation steps and when it ends."""

    dt: float = Field(
        1 / 60,
        ge=1e-4,
        le=1.0,
        description="Length of one fixed tick, simulated seconds (default 1/60: 60 ticks a second).",
    )
    time_limit: float = Field(
        300.0,
        gt=0,
        le=1e6,
        description="Simulated seconds after which the match ends if no team has won.",
    )

    @property
    def max_ticks(self) -> int:
        """Ticks in ``time_limit`` (rounded up; the 1e-9 absorbs 300 / (1/60) = 18000.000...04)."""
        return math.ceil(self.time_limit / self.dt - 1e-9)


class AgentStats(ScenarioPart):
    """What one agent can do. Every field has a default, so a block may change just one."""

    hp: float = Field(100.0, gt=0, description="Hit points an agent starts with; at 0 it is out of the fight.")
    speed: float = Field(3.5, gt=0, le=1000, description="Top movement speed, metres per second.")
    sight_range: float = Field(
        30.0, gt=0, le=MAX_EXTENT, description="How far an agent sees, metres; walls and cover block sight."
    )
    weapon_range: float = Field(20.0, gt=0, le=MAX_EXTENT, description="Farthest distance a shot can hit, metres.")
    damage: float = Field(10.0, ge=0, description="Hit points a hit removes from its target.")
    ammo: int = Field(30, ge=0, le=1_000_000, description="Shots an agent carries at spawn.")
    cooldown: float = Field(0.5, ge=0, le=3600, description="Seconds an agent must wait between two shots.")
    radius: float = Field(
        0.4,
        gt=0,
        le=100,
        description="Body radius, metres. Spawning gives each agent a square of side 2.5 x radius "
        "in its zone, so this also sets how many agents a zone holds.",
    )


class Team(ScenarioPart):
    """One side of the fight."""

    name: str = Field(
        description="Unique name, used by spawns[].team and in prompts: a letter, then up to 31 letters, "
        "digits, '_' or '-'."
    )
    colour: str = Field(description="Display colour, '#rrggbb' (e.g. '#d9534f').")
    stats: str | AgentStats = Field(
        default_factory=AgentStats,
        description="The team's agent stats: the name of a block in [stats], or an inline table of "
        "AgentStats fields; the default AgentStats when omitted.",
    )

    _name = field_validator("name")(_check_name)

    @field_validator("colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _COLOUR.fullmatch(value):
            raise _rule(f"must be a colour written '#rrggbb', e.g. '#d9534f' (got {value!r})")
        return value

    @field_validator("stats", mode="wrap")
    @classmethod
    def _stats(cls, value: object, handler: ValidatorFunctionWrapHandler) -> str | AgentStats:
        # dispatched by hand: a plain str | AgentStats union would report a failed inline
        # table twice, once per union member, under paths the user never wrote
        if isinstance(value, str):
            return value
        if isinstance(value, dict | AgentStats):
            return AgentStats.model_validate(value)
        raise _rule("must be the name of a [stats] block or a table of stats (hp, speed, ...)")


class SpawnZone(Box):
    """A box where ``count`` agents of ``team`` appear, spread out, clear of walls and cover.

    Cover may stand inside a zone (agents are placed around it); a wall may not.
    """

    team: str = Field(description="Name of the team that spawns here (one of teams[].name).")
    count: int = Field(ge=1, le=MAX_AGENTS, description="How many agents spawn in this zone.")


class Objective(ScenarioPart):
    """A capture point in the open: a circle the teams fight over."""

    x: float = Field(ge=0, le=MAX_EXTENT, description="Centre, metres along x.")
    y: float = Field(ge=0, le=MAX_EXTENT, description="Centre, metres along y.")
    radius: float = Field(3.0, gt=0, le=MAX_EXTENT, description="Agents within this many metres of the centre hold it.")
    hold_time: float = Field(
        10.0, gt=0, le=1e6, description="Seconds a team must hold the point alone to win."
    )


class Scenario(ScenarioPart):
    """A whole arena: map, walls, cover, teams, spawns, stats and simulation settings."""

    name: str = Field("", max_length=200, description="A title for humans.")
    description: str = Field("", max_length=10_000, description="What this scenario is about, for humans.")
    map: MapSpec = Field(description="The map's size and navigation-grid resolution.")
    sim: SimSettings = Field(default_factory=SimSettings, description="Tick length and time limit.")
    stats: dict[str, AgentStats] = Field(
        default_factory=dict,
        description="Named stat blocks that teams[].stats may refer to, so teams can share one.",
    )
    teams: tuple[Team, ...] = Field(
        min_length=1, strict=False, description="The teams, in order: team_index 0 is the first."
    )
    spawns: tuple[SpawnZone, ...] = Field(
        min_length=1, strict=False, description="Spawn zones; every team needs at least one."
    )
    walls: tuple[Box, ...] = Field(
        (), strict=False, description="Static boxes that block movement and sight, inside the map."
    )
    cover: tuple[Box, ...] = Field(
        (),
        strict=False,
        description="Small boxes agents hide behind; they block movement and sight like walls but "
        "are meant to be fought around. Cover may not overlap a wall.",
    )
    objective: Objective | None = Field(None, description="An optional capture point, in the open.")

    _source: str = PrivateAttr("<scenario>")

    @property
    def source(self) -> str:
        """The file this scenario was loaded from (``<scenario>`` when built in code)."""
        return self._source

    def __eq__(self, other: object) -> bool:
        """Equal content is an equal scenario, whichever file it came from."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # holds a dict (stats): never hashable

    @property
    def obstacles(self) -> tuple[Box, ...]:
        """Walls then cover: everything that blocks movement and sight."""
        return self.walls + self.cover

    @property
    def agent_count(self) -> int:
        return sum(zone.count for zone in self.spawns)

    @property
    def team_counts(self) -> tuple[int, ...]:
        """Agents per team, in team order."""
        return tuple(sum(zone.count for zone in self.spawns_for(i)) for i in range(len(self.teams)))

    def team_stats(self, team_index: int) -> AgentStats:
        """The stats of team ``team_index``, with a named block resolved."""
        stats = self.teams[team_index].stats
        return self.stats[stats] if isinstance(stats, str) else stats

    def spawns_for(self, team_index: int) -> tuple[SpawnZone, ...]:
        """The spawn zones of team ``team_index``, in file order."""
        name = self.teams[team_index].name
        return tuple(zone for zone in self.spawns if zone.team == name)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = find_problems(self)
        if problems:
            # a ValidationError raised here is merged into the caller's, each problem under
            # its own field path, instead of one "value error" for the whole scenario
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(type=_rule(reason), loc=loc, input=None) for loc, reason in problems
                ],
            )
        return self
