"""The arena's world factory: scenario + seed -> a World with every system installed.

``build_arena(config, seed)`` is the run factory the journal names, so ``tickmind verify``
rebuilds exactly this world. Config keys (all optional, JSON-plain so they journal):

    scenario          path to a .toml/.json scenario, or the scenario's data itself (what
                      ``tickmind arena --scenario`` records, so the run replays without the
                      file); default: the shipped 100-agent arena
    agents            total agent count; scales the scenario (and its map if needed)
    planner           "heuristic" (the utility controller, no model), "llm" (a model plans,
                      offered the actions the arena executes, see ``arena_tiers``, falling
                      back to the heuristic; attach an executor to
                      ``world.resource(Planner)`` before running live), or "none" (plans
                      arrive only as submitted AssignPlan inputs)
    team_planners     instead of ``planner``: each team's own, ``{"red": "llm", "blue":
                      "heuristic"}``, naming every team; ``"llm:URL"`` is a model planner
                      on that server (``_team_planners``). Each distinct planner is its
                      own system (``planner_<teams>``); ``ai.planners_of(world)`` lists them
    mode              "lockstep" (default) or "realtime", for planner "llm"
    agents_per_request  agents packed into one model request (default 4; null: sized to the
                      executor's concurrency per wave), for planner "llm"
    wire              "json" (default) or "lines" (plan lines with a grammar; llama.cpp
                      servers), for planner "llm"
    plan_delay        ticks between a plan's submission and its application (default 1)
    replan_every      ticks before a running plan is reconsidered (default 240)
    min_plan_ticks    an agent whose plan ended sooner than this after it was assigned is
                      replanned by the heuristic, not the model (default 30 for planner
                      "llm" in lockstep, whose plans often end at once, e.g. regroup beside
                      an ally, and each ask stops the world; 0 else)
    perception_every  refresh each agent's perception every k ticks, staggered (default 1)
    perception_cap    agents list only their k nearest enemies, allies and cover (default 16)
    squad_size        the model plans squads of up to k nearby teammates, one plan each
                      (default 1: every agent alone), for planner "llm"
    plan_cache        entries of the exact plan cache (default 0: none), for planner "llm"
    opening_orders    realtime: the first wave is waited for, so the game opens on the
                      model's orders (default false), for planner "llm"
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ai import (
    DEFAULT_ROLES,
    FULL_TIER,
    SIMPLE_TIER,
    ActionStep,
    Attack,
    Faction,
    MapBounds,
    Perceivable,
    Perception,
    Planner,
    PlannerConfig,
    Senses,
    SnapshotConfig,
    TakeCover,
    TierProfile,
    action_names,
    install_perception,
)
from engine import Position, TickContext, TickmindError, World, factory
from nav import BoxSight, GridMap, install_nav
from physics import Body, Wall, install_physics

from ._combat import ArenaScore, Health, Weapon, resolve_deaths, resolve_shots
from ._execution import ArenaBounds, arena_execution, executed_actions
from ._heuristic import ARENA_POLICIES, CALM_ACTIONS, Objectives
from ._loading import load_scenario, parse_scenario
from ._orders import ENGAGE_ROLES, Advance
from ._scaling import scale_agents
from ._scenario import Scenario
from ._spawning import spawn_positions
from ._squads import arena_squads
from ._team_planners import ArenaPlanners, PlannerSeat, PlannerSpec, TeamMembers, planner_groups, team_planners
from .scenarios import DEFAULT_SCENARIO

__all__ = ["ArenaOutcome", "TeamRoster", "arena_scenario", "arena_snapshots", "arena_tiers", "build_arena"]

PLANNERS = ("heuristic", "llm", "none")
#: Half a second at 60 Hz: a lockstep world then waits on its model at most every 30 ticks
#: per agent, not every other tick (the small model writes lone regroups that end at once);
#: a plan that ends sooner is followed by a heuristic one. Realtime needs none: there the
#: world never waits, and the heuristic covers an agent while the model thinks anyway.
LOCKSTEP_MIN_PLAN_TICKS = 30
SQUAD_LISTED = 3
#: What a squad is not offered: ``regroup`` (a squad is together already, and its line lists
#: no allies), and ``scan``: half a second of looking round, after which the squad waits on
#: the model again under the heuristic (85 of 200 gap plans in one game, RESULTS §28); in
#: sight of the enemy no calm order is offered anyway. (Offering no coordinates at all, only
#: ``advance`` and ids, left the end game to stalemates: two 300 s games of 15 survivors in
#: two tries, bench/RESULTS.md §26.)
SQUAD_UNOFFERED = ("regroup", "scan")
#: The squad prompt's worked example, in the arena's own terms: a squad seeing nobody heads
#: for its goal; one in a fight engages; one worn down takes cover. (A goal written as
#: ``move_to 40 25`` would be copied as those numbers: the model would seem to read a
#: goal it only copied whenever the example's coordinates were the map's.)
SQUAD_EXAMPLES: tuple[tuple[str, tuple[ActionStep, ...]], ...] = (
    ("A7 @12,30 n10 hp90 am30 goal=52,14 cover:3,5", (Advance(),)),
    ("A8 @33,24 n9 hp70 am20 E:9,12 cover:3", (Attack(target=9),)),
    ("A10 @35,20 n4 hp30 am5 E:12,14 cover:5,3", (TakeCover(cover=5),)),
)
#: The prompt's worked example for agents planned one by one: a hurt agent takes cover and
#: fires from it.
SOLO_EXAMPLES: tuple[tuple[str, tuple[ActionStep, ...]], ...] = (
    ("A7 @10,5 hp90 E:9@20,5 cover:3@12,6", (TakeCover(cover=3), Attack(target=9))),
)
CONFIG_KEYS = frozenset(
    {
        "scenario", "agents", "planner", "plan_delay", "replan_every", "perception_every", "perception_cap",
        "mode", "agents_per_request", "wire", "lead_request", "min_plan_ticks", "squad_size", "plan_cache",
        "opening_orders", "team_planners",
    }
)


@dataclass
class TeamRoster:
    """Every agent's team index by entity id, as spawned (a resource, not hashed): a dead
    agent's plans are still counted for its team."""

    team_of: dict[int, int] = field(default_factory=dict)


@dataclass
class ArenaOutcome:
    """Who won, once decided (a resource the run loop and the summary read)."""

    teams: tuple[str, ...]
    winner: str | None = None
    decided_tick: int | None = None
    alive: tuple[int, ...] = ()


def arena_scenario(config: Mapping[str, Any]) -> Scenario:
    """The scenario a config describes (loaded, then scaled to ``agents`` if given)."""
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise TickmindError(f"unknown arena config key(s) {unknown}; known: {sorted(CONFIG_KEYS)}")
    given = config.get("scenario")
    if isinstance(given, Mapping):
        scenario = parse_scenario(given, "the run config's scenario")
    else:
        scenario = load_scenario(Path(given) if given else DEFAULT_SCENARIO)
    agents = config.get("agents")
    if agents is not None and agents != scenario.agent_count:
        scenario = scale_agents(scenario, int(agents))
    return scenario


@factory
def build_arena(config: Mapping[str, Any], seed: int) -> World:
    """Build the arena world; see the module docstring for ``config``."""
    scenario = arena_scenario(config)
    planner = config.get("planner", "heuristic")
    if planner not in PLANNERS:
        raise TickmindError(f"unknown planner {planner!r}; choose one of {', '.join(PLANNERS)}")
    team_planners(config, [team.name for team in scenario.teams])  # a bad team_planners fails before any set-up
    world = World(seed=seed, dt=scenario.sim.dt)
    width, height = scenario.map.width, scenario.map.height
    world.insert_resource(ArenaBounds(width, height))
    world.insert_resource(ArenaScore())
    world.insert_resource(ArenaOutcome(tuple(t.name for t in scenario.teams)))
    world.insert_resource(Objectives(*_objectives(scenario)))
    roster = TeamRoster()
    world.insert_resource(roster)

    for box in scenario.walls:
        world.create_entity(Wall(box.x, box.y, box.right, box.top))
    for box in scenario.cover:
        # Seen by its nearest face: the sight line stops ``radius`` short of the centre,
        # which lies in a blocked cell of the grid.
        reach = math.hypot(box.w / 2, box.h / 2) + scenario.map.cell_size
        world.create_entity(
            Wall(box.x, box.y, box.right, box.top),
            Position(box.x + box.w / 2, box.y + box.h / 2),
            Perceivable("cover", radius=reach),
        )
    for team, x, y in spawn_positions(scenario, world.rng):
        stats = scenario.team_stats(team)
        roster.team_of[world.create_entity(
            Position(x, y),
            Body(radius=stats.radius, mass=1.0, max_speed=stats.speed),
            Faction(team),
            Senses(stats.sight_range),
            Health(stats.hp, stats.hp),
            Weapon(
                range=stats.weapon_range,
                damage=stats.damage,
                ammo=stats.ammo,
                cooldown_ticks=max(1, round(stats.cooldown / scenario.sim.dt)),
            ),
        )] = team

    radius = max(scenario.team_stats(i).radius for i in range(len(scenario.teams)))
    boxes = [(b.x, b.y, b.right, b.top) for b in scenario.obstacles]
    grid = GridMap.from_boxes(width, height, scenario.map.cell_size, boxes, inflate=radius)
    world.insert_resource(grid)

    # Walls and cover are boxes: exact box tests are ~10x cheaper than walking grid cells.
    sight = BoxSight(boxes)
    install_perception(
        world,
        line_of_sight=sight.line_of_sight_many,
        every=int(config.get("perception_every", 1)),
        max_listed=int(config.get("perception_cap", 16)),
    )
    names = [team.name for team in scenario.teams]
    specs = team_planners(config, names)
    planner_names = _install_planners(world, config, planner_groups(specs, names)) if specs is not None else []
    world.add_system(arena_execution(world), stage="ai", name="execute_steps", after=planner_names)
    install_nav(world, grid)
    install_physics(world)
    world.add_system(resolve_shots, stage="update")
    world.add_system(resolve_deaths, stage="update", after=["resolve_shots"])
    world.add_system(decide_outcome, stage="update", after=["resolve_deaths"])
    return world


def _install_planners(world: World, config: Mapping[str, Any], groups: list[tuple[PlannerSpec, tuple[int, ...]]]) -> list[str]:
    """One ``Planner`` per distinct team planner, each planning its teams' agents; the names
    of their systems. A lone planner plans every agent, as the ``Planner`` resource too."""
    squad = int(config.get("squad_size", 1))
    mode = config.get("mode", "lockstep")
    teams = world.resource(ArenaOutcome).teams
    names, seats = [], []
    for spec, members in groups:
        llm = spec.asks_model
        settings = PlannerConfig(
            mode=mode if llm else "lockstep",
            delay=int(config.get("plan_delay", 1)),
            replan_every=int(config.get("replan_every", 240)),
            min_plan_ticks=int(config.get("min_plan_ticks", LOCKSTEP_MIN_PLAN_TICKS if llm and mode == "lockstep" else 0)),
            agents_per_request=_optional_int(config.get("agents_per_request", 4)),
            wire=config.get("wire", "json"),
            lead_request=bool(config.get("lead_request", True)),
            llm_tiers=arena_tiers(squads=squad > 1) if llm else (),
            cache_size=int(config.get("plan_cache", 0)) if llm else 0,
            opening_orders=bool(config.get("opening_orders", False)) and llm,
        )
        groups_of = arena_squads(squad) if squad > 1 and llm else None
        planned = None if len(groups) == 1 else TeamMembers(frozenset(members))
        brain = Planner(ARENA_POLICIES, snapshots=arena_snapshots(), config=settings, groups=groups_of, planned=planned)
        name = "planner" if len(groups) == 1 else "planner_" + "_".join(teams[i] for i in members)
        if len(groups) == 1:
            world.insert_resource(brain)
        world.add_system(brain, stage="ai", name=name)
        names.append(name)
        seats.append(PlannerSeat(spec, tuple(teams[i] for i in members), brain))
    world.insert_resource(ArenaPlanners(tuple(seats)))
    return names


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def arena_snapshots() -> SnapshotConfig:
    """What the model sees of an arena agent: the map, its own position in whole metres, its
    hp (percent) and ammo, and while it sees no enemy, where its team is heading (the
    heuristic's objective): without it a model seeing nobody can only wander."""
    return SnapshotConfig(
        bounds=_bounds, describe=_describe, allowed=_allowed, decimals=0, roles=(*DEFAULT_ROLES, *ENGAGE_ROLES)
    )


def arena_tiers(*, squads: bool = False) -> tuple[TierProfile, TierProfile]:
    """The arena's model tiers (full, then simplified), offering only actions it executes.

    The library's tiers offer every registered action, and the registry is process-wide: an
    action registered by another module or a test would be offered to the arena's model,
    accepted by validation, and fail at execution ("no executor"). So the full tier offers
    exactly :func:`executed_actions` — one source of truth: register an executor for your
    own action (``register_executor``) before ``build_arena`` and the model is offered it —
    and the simplified tier keeps the library's short list, less anything not executed.
    With ``squads`` neither offers ``SQUAD_UNOFFERED``; a squad's line lists its
    ``SQUAD_LISTED`` nearest enemies and covers by id (prompt tokens are what the model's
    rate is bound by), and the prompt's example is the arena's (``SQUAD_EXAMPLES``, else
    ``SOLO_EXAMPLES``).
    """
    executed = tuple(name for name in executed_actions() if not (squads and name in SQUAD_UNOFFERED))
    simple = tuple(name for name in SIMPLE_TIER.action_names() if name in executed)
    listed = {"max_listed": SQUAD_LISTED, "show_positions": False, "examples": SQUAD_EXAMPLES} if squads else {"examples": SOLO_EXAMPLES}
    return replace(FULL_TIER, actions=executed, **listed), replace(SIMPLE_TIER, actions=simple, **listed)


def _bounds(world: World) -> MapBounds:
    bounds = world.resource(ArenaBounds)
    return MapBounds(0.0, 0.0, bounds.width, bounds.height)


def _allowed(world: World, entity: int) -> tuple[str, ...]:
    """A unit in sight of the enemy is not offered calm orders (walk, advance, scan, wait):
    a calm step in sight of an enemy is replanned at once (``arena_salient``), so the small
    model's ``scan`` to a squad under fire left its members to the heuristic while it was
    asked again (a game at 61% model share, bench/RESULTS.md §27)."""
    if world.component_for_entity(entity, Perception).enemies:
        return tuple(name for name in action_names() if name not in CALM_ACTIONS)
    return action_names()


def _describe(world: World, entity: int) -> dict[str, int | str]:
    health = world.component_for_entity(entity, Health)
    facts: dict[str, int | str] = {"hp": round(100 * health.hp / health.max_hp), "am": world.component_for_entity(entity, Weapon).ammo}
    if not world.component_for_entity(entity, Perception).enemies:
        pos = world.component_for_entity(entity, Position)
        x, y = world.resource(Objectives).next_point(world.component_for_entity(entity, Faction).team, entity, pos.x, pos.y)
        facts["goal"] = f"{x:.0f},{y:.0f}"
    return facts


def _objectives(scenario: Scenario) -> tuple[dict[int, tuple[float, float]], dict[int, tuple[tuple[float, float], ...]]]:
    """Each team heads for the capture point (or, without one, straight for the enemy), and
    hunts through the enemy spawn zones once there, so hiding survivors are found."""
    hunt: dict[int, tuple[tuple[float, float], ...]] = {}
    capture: dict[int, tuple[float, float]] = {}
    for i in range(len(scenario.teams)):
        zones = [z for j in range(len(scenario.teams)) if j != i for z in scenario.spawns_for(j)]
        hunt[i] = tuple((z.x + z.w / 2, z.y + z.h / 2) for z in zones)
        capture[i] = (scenario.objective.x, scenario.objective.y) if scenario.objective else hunt[i][0]
    return capture, hunt


def decide_outcome(world: World, ctx: TickContext) -> None:
    """Record the surviving count per team. The last team standing wins; once nobody left
    has a shot to fire, the fight is over and the team with the most survivors wins
    ("nobody" on a tie), rather than a field of empty guns running out the clock.

    Reads the world, writes only this resource (not hashed): a run recorded before this
    rule replays unchanged, it just would have been called earlier."""
    outcome = world.resource(ArenaOutcome)
    alive = [0] * len(outcome.teams)
    for _, faction in world.get_component(Faction):
        alive[faction.team] += 1
    outcome.alive = tuple(alive)
    if outcome.winner is not None:
        return
    standing = [i for i, n in enumerate(alive) if n > 0]
    if len(standing) <= 1:
        outcome.winner = outcome.teams[standing[0]] if standing else "nobody"
    elif not any(weapon.ammo > 0 for _, weapon in world.get_component(Weapon)):
        most = max(alive)
        leaders = [i for i, n in enumerate(alive) if n == most]
        outcome.winner = outcome.teams[leaders[0]] if len(leaders) == 1 else "nobody"
    else:
        return
    outcome.decided_tick = ctx.tick
