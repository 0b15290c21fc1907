"""Who plans each team: one planner spec per team, from ``--planner`` or the config.

``llm`` or ``heuristic`` plans every team alike (the config's ``planner``). Per team,
``red=llm,blue=heuristic`` (the config's ``team_planners``); ``llm:URL`` names the model
server of that team's planner, where plain ``llm`` is the run's own (``--llm``). Teams whose
specs are equal share one :class:`ai.Planner`, so two teams on one model are planned by one
planner, in one request stream, as in a plain ``--planner llm`` game: a planner per team
would let the first in schedule order take the free request slots every tick.

Which planner plans a team shapes only the plans, never the rules: every plan is journaled,
so a run replays whatever planned it, and a fork may hand a team to another planner.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ai import Faction, Planner
from engine import TickmindError, World

__all__ = [
    "PLANNER_KINDS",
    "ArenaPlanners",
    "PlannerSeat",
    "PlannerSpec",
    "TeamMembers",
    "parse_planner_flag",
    "planner_argument",
    "planner_groups",
    "team_planners",
]

PLANNER_KINDS = ("llm", "heuristic")


@dataclass(frozen=True)
class PlannerSpec:
    """A team's planner: the heuristic, or a model (``url`` None: the run's ``--llm``)."""

    kind: str
    url: str | None = None

    @property
    def label(self) -> str:
        """The spec as written: ``heuristic``, ``llm`` or ``llm:URL``."""
        return self.kind if self.url is None else f"{self.kind}:{self.url}"

    @property
    def asks_model(self) -> bool:
        return self.kind == "llm"

    @classmethod
    def parse(cls, text: str, where: str) -> PlannerSpec:
        kind, colon, url = str(text).strip().partition(":")
        if kind not in PLANNER_KINDS:
            raise TickmindError(f"{where}: unknown planner {text!r}; choose llm, heuristic or llm:URL")
        if not colon:
            return cls(kind)
        if kind != "llm":
            raise TickmindError(f"{where}: {text!r}: only llm takes a server (llm:URL)")
        if url == "local":
            return cls(kind)
        if not url.startswith(("http://", "https://")):
            raise TickmindError(f"{where}: {text!r}: the server must be an http(s) URL, as in llm:http://127.0.0.1:8080")
        return cls(kind, url)


def parse_planner_flag(text: str) -> str | dict[str, str]:
    """``--planner``'s value: ``llm`` / ``heuristic`` for every team, or ``TEAM=SPEC,...``
    as ``{team: spec label}`` (checked against the scenario's teams when the world is built)."""
    if "=" not in text:
        return PlannerSpec.parse(text, "--planner").label
    chosen: dict[str, str] = {}
    for part in text.split(","):
        team, equals, spec = part.partition("=")
        team = team.strip()
        if not equals or not team:
            raise TickmindError(f"--planner {text!r}: {part!r} is not TEAM=PLANNER (e.g. red=llm,blue=heuristic)")
        if team in chosen:
            raise TickmindError(f"--planner {text!r} names team {team!r} twice")
        chosen[team] = PlannerSpec.parse(spec, f"team {team!r}").label
    return chosen


def team_planners(config: Mapping[str, Any], teams: Sequence[str]) -> dict[str, PlannerSpec] | None:
    """Each team's planner as the config says (None: planner ``none``, plans come only as
    submitted inputs). ``team_planners`` must name every team, and only the scenario's."""
    per_team = config.get("team_planners")
    if per_team is None:
        planner = config.get("planner", "heuristic")
        if planner == "none":
            return None
        spec = PlannerSpec.parse(planner, "config 'planner'")
        return dict.fromkeys(teams, spec)
    if "planner" in config:
        raise TickmindError("the config gives both 'planner' and 'team_planners'; give one ('team_planners' names every team)")
    if not isinstance(per_team, Mapping):
        raise TickmindError(f"config 'team_planners' must map team names to planners, got {per_team!r}")
    unknown = sorted(set(per_team) - set(teams))
    missing = [t for t in teams if t not in per_team]
    if unknown or missing:
        said = f"names no team {unknown}" if unknown else f"leaves out {missing}"
        raise TickmindError(f"team_planners {dict(per_team)} {said}; the scenario's teams are {list(teams)}, name each once")
    return {team: PlannerSpec.parse(per_team[team], f"team_planners[{team!r}]") for team in teams}


def planner_groups(specs: Mapping[str, PlannerSpec], teams: Sequence[str]) -> list[tuple[PlannerSpec, tuple[int, ...]]]:
    """The planners to install: each distinct spec with the indices of the teams it plans,
    in the order of each spec's first team."""
    groups: dict[PlannerSpec, list[int]] = {}
    for index, team in enumerate(teams):
        groups.setdefault(specs[team], []).append(index)
    return [(spec, tuple(indices)) for spec, indices in groups.items()]


@dataclass(frozen=True)
class TeamMembers:
    """``Planner(planned=...)`` for a planner of some teams: the agents whose faction is one."""

    teams: frozenset[int]

    def __call__(self, world: World, entity: int) -> bool:
        return world.component_for_entity(entity, Faction).team in self.teams


@dataclass(frozen=True)
class PlannerSeat:
    """One installed planner: its spec, the teams it plans (by name) and the system itself."""

    spec: PlannerSpec
    teams: tuple[str, ...]
    planner: Planner


@dataclass(frozen=True)
class ArenaPlanners:
    """The world's planners and whom each plans (a resource, not hashed): what the CLI needs
    to connect each model planner to its server, and the summary to report per team."""

    seats: tuple[PlannerSeat, ...] = ()

    def spec_of(self, team: str) -> PlannerSpec | None:
        return next((seat.spec for seat in self.seats if team in seat.teams), None)

    @property
    def asks_model(self) -> bool:
        return any(seat.spec.asks_model for seat in self.seats)


def planner_argument(text: str) -> str | dict[str, str]:
    """argparse type for ``--planner``: :func:`parse_planner_flag`, its mistake said as
    argparse says one (``argument --planner: ...``)."""
    try:
        return parse_planner_flag(text)
    except TickmindError as exc:
        said = str(exc).removeprefix(f"--planner {text!r}: ").removeprefix("--planner: ")
        raise argparse.ArgumentTypeError(said) from None
