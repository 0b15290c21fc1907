"""The arena example: two teams of LLM-planned agents fighting over a map of walls and cover.

This package holds the scenario format: a TOML (or JSON) file describing the map, walls,
cover, teams, spawn zones, agent stats and simulation settings, validated whole at load so
a mistake is reported by file, field and reason before any world is built.

    scenario = load_scenario(DEFAULT_SCENARIO)          # or any .toml / .json path
    scenario = scale_agents(scenario, 1000)             # tickmind arena --agents 1000
    starts = spawn_positions(scenario, world.rng)       # [(team_index, x, y), ...]
"""

from ._errors import Problem, ScenarioError
from ._geometry import Box
from ._loading import load_scenario, parse_scenario
from ._scaling import scale_agents
from ._scenario import AgentStats, MapSpec, Objective, Scenario, SimSettings, SpawnZone, Team
from ._scenario_base import MAX_AGENTS, MAX_CELLS
from ._spawning import spawn_positions
from .scenarios import DEFAULT_SCENARIO

__all__ = [
    "DEFAULT_SCENARIO",
    "MAX_AGENTS",
    "MAX_CELLS",
    "AgentStats",
    "Box",
    "MapSpec",
    "Objective",
    "Problem",
    "Scenario",
    "ScenarioError",
    "SimSettings",
    "SpawnZone",
    "Team",
    "load_scenario",
    "parse_scenario",
    "scale_agents",
    "spawn_positions",
]
