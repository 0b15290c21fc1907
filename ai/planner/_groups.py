"""Group orders: a squad of agents planned as one unit, one state line and one plan.

Why: the embedded model plans about two agents a second on two cores, and a 100-agent game
needs ten plans a second to be model-driven. A squad's plan costs one state line and one
plan, however many members carry it out. The game says how agents group (``groups``),
what the group's line shows (``describe``: its strength) and how the group's plan becomes
each member's steps (``orders``). The group's line lists what any member sees, nearest the
squad's centre first, so the plan is validated against the squad's union of perception; a
member whose share it cannot carry out (``orders`` gives it None) falls through alone.

Grouping reads the world only, in ascending entity id, so it is the same on every replay
and resume; and nothing of it is stored: every member's plan is journaled on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from engine import Position, TickmindError, World

from .._actions import ActionStep
from ..perception import Faction
from ..wire import AgentSnapshot, Scalar, SeenEntity, SnapshotConfig, TierProfile, ValidPlan, build_snapshot, prompt_attrs, validate_plan

__all__ = ["GroupOrders", "Grouping", "MemberOrders", "Unit", "proximity_squads"]

Unit = tuple[int, ...]  #: a planning unit's members, ascending; the first names it in the prompt
#: Partitions the given agents (ascending ids) into groups.
Grouping = Callable[[World, Sequence[int]], Iterable[Sequence[int]]]
#: Each member's steps for the group's plan, or None where a member cannot carry it out.
MemberOrders = Callable[[World, Unit, tuple[ActionStep, ...]], Mapping[int, Sequence[ActionStep] | None]]
GroupDescribe = Callable[[World, Unit], Mapping[str, Scalar]]


@dataclass(frozen=True)
class GroupOrders:
    """How a game plans agents in groups; see the module docstring.

    ``orders`` defaults to every member taking the group's steps as long as they are valid
    for what it sees itself. ``describe`` defaults to ``n`` (members), the members' mean of
    each number the game's ``SnapshotConfig.describe`` gives, and the lead member's text
    attributes. ``list_allies``: show
    the allies outside the group on its line (off: they are tokens a squad's plan rarely
    needs, and the squad's own members are never listed).
    """

    groups: Grouping
    orders: MemberOrders | None = None
    describe: GroupDescribe | None = None
    list_allies: bool = False

    def units(self, world: World, agents: Sequence[int]) -> list[Unit]:
        """``agents`` partitioned into units, ordered by their first member."""
        wanted = sorted(agents)
        units = [tuple(sorted(group)) for group in self.groups(world, wanted) if group]
        placed = sorted(member for unit in units for member in unit)
        if placed != wanted:
            raise TickmindError(
                f"GroupOrders.groups must place each given agent in exactly one group: given {wanted}, placed {placed}"
            )
        return sorted(units)

    def snapshot(self, world: World, unit: Unit, config: SnapshotConfig) -> AgentSnapshot:
        """The unit's snapshot: the agent's own, or for a group the merged one."""
        if len(unit) == 1:
            return build_snapshot(world, unit[0], config=config)
        snaps = [build_snapshot(world, member, config=config) for member in unit]
        lead = snaps[0]
        x = round(sum(s.x for s in snaps) / len(snaps), config.decimals)
        y = round(sum(s.y for s in snaps) / len(snaps), config.decimals)
        mine = set(unit)

        def union(lists: Iterable[tuple[SeenEntity, ...]], cap: int) -> tuple[SeenEntity, ...]:
            first: dict[int, SeenEntity] = {}
            for listed in lists:
                for seen in listed:
                    if seen.id not in mine:
                        first.setdefault(seen.id, seen)
            return tuple(sorted(first.values(), key=lambda e: ((e.x - x) ** 2 + (e.y - y) ** 2, e.id))[:cap])

        values = self.describe(world, unit) if self.describe is not None else _mean_attrs(snaps)
        allowed = [name for name in lead.allowed if all(name in s.allowed for s in snaps)]
        return AgentSnapshot(
            agent_id=lead.agent_id,
            team=lead.team,
            tick=lead.tick,
            x=x,
            y=y,
            bounds=lead.bounds,
            enemies=union((s.enemies for s in snaps), config.max_enemies),
            allies=union((s.allies for s in snaps), config.max_allies) if self.list_allies else (),
            objects=union((s.objects for s in snaps), config.max_objects),
            attrs=prompt_attrs(values, config.decimals),
            last_status=lead.last_status,
            last_reason=lead.last_reason,
            allowed=tuple(allowed),
            roles=lead.roles,
        )

    def member_steps(
        self, world: World, unit: Unit, steps: tuple[ActionStep, ...], config: SnapshotConfig, profile: TierProfile
    ) -> dict[int, tuple[ActionStep, ...] | None]:
        """Each living member's steps for the unit's plan (None: it falls through alone)."""
        members = tuple(m for m in unit if world.entity_exists(m))
        if len(unit) == 1:
            return {m: steps for m in members}
        if self.orders is not None:
            given = self.orders(world, members, steps)
            shares: dict[int, tuple[ActionStep, ...] | None] = {}
            for member in members:
                share = given.get(member)
                shares[member] = None if share is None else tuple(share)
            return shares
        entry = [step.model_dump() for step in steps]
        out: dict[int, tuple[ActionStep, ...] | None] = {}
        for member in members:
            verdict = validate_plan(entry, build_snapshot(world, member, config=config), tier=profile)
            out[member] = verdict.steps if isinstance(verdict, ValidPlan) else None
        return out


def _mean_attrs(snaps: Sequence[AgentSnapshot]) -> dict[str, Scalar]:
    """``n``, each number's mean over the members, and each text attribute as the lead
    member (the one naming the unit) has it."""
    values: dict[str, Scalar] = {"n": len(snaps)}
    for key, first in snaps[0].attrs:
        if isinstance(first, str):
            values[key] = first
            continue
        numbers = [v for s in snaps for k, v in s.attrs if k == key and isinstance(v, (int, float))]
        if isinstance(first, (int, float)) and len(numbers) == len(snaps):
            mean = sum(numbers) / len(numbers)
            values[key] = round(mean) if all(isinstance(v, int) for v in numbers) else mean
    return values


def proximity_squads(size: int) -> Grouping:
    """Squads of up to ``size`` teammates who are near each other: the lowest unplaced id
    takes its ``size - 1`` nearest unplaced teammates (ties by id), and so on. Squads form
    anew from the agents given each time, so they re-form as members fall."""
    if size < 1:
        raise TickmindError(f"squad size must be >= 1, got {size}")

    def groups(world: World, agents: Sequence[int]) -> list[list[int]]:
        by_team: dict[int, list[tuple[int, float, float]]] = {}
        for agent in agents:
            pos = world.component_for_entity(agent, Position)
            by_team.setdefault(world.component_for_entity(agent, Faction).team, []).append((agent, pos.x, pos.y))
        out: list[list[int]] = []
        for team in sorted(by_team):
            left = by_team[team]
            while left:
                seed, sx, sy = left[0]
                near = sorted(left[1:], key=lambda a: ((a[1] - sx) ** 2 + (a[2] - sy) ** 2, a[0]))[: size - 1]
                squad = {seed, *(a[0] for a in near)}
                out.append(sorted(squad))
                left = [a for a in left if a[0] not in squad]
        return out

    return groups
