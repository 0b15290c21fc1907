"""AgentView: what one prompt tier shows the model of one snapshot.

Why one place: the prompt lists an agent's enemies, the schema turns that list into an
``enum`` of ids, and the validator refuses ids outside it. If the three computed "what did
the model see" separately, a tier that lists 3 enemies could accept a 4th, or a line trimmed
to its character budget could promise an id the schema forbids. They all call
:func:`view_of`, which decides once: the entities listed (capped by the tier, then trimmed
farthest first until the line fits ``budget``), the actions offered, the ids each id field
may name, and the state line itself.

State line grammar (one agent, no newline; every piece after the position is optional)::

    A<id> @<x>,<y> <key><number>|<key>=<text> ... E:<id>@<x>,<y>;... F:<id>@<x>,<y>;...
          <kind>:<id>@<x>,<y>;... acts:<name>,... last:<done|failed[:reason]>

``E`` enemies and ``F`` friends, nearest first; objects grouped by kind in order of their
nearest member; ``acts`` only when the game restricts this agent below the tier's set. A
tier without positions lists ids alone, comma-separated (``E:9,12``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine import TickmindError

from .._actions import ActionStep, action_types
from .._plan import PlanStatus, Tier
from ._snapshot import AgentSnapshot, FieldRole, SeenEntity

__all__ = [
    "FULL_TIER",
    "SIMPLE_TIER",
    "AgentView",
    "TierProfile",
    "check_batch",
    "format_number",
    "profile_for",
    "view_of",
]


_EXAMPLE_ID = re.compile(r"A(\d{1,18}) ")


@dataclass(frozen=True)
class TierProfile:
    """How much one prompt tier says and allows.

    ``actions``: the action names offered, in prompt order. None offers every registered
    action, in registry order, *as registered when the prompt is built*: fine for a library
    user whose world executes every action it registers, wrong for a game that executes a
    fixed set, since any action registered later (by another module, a plugin, a test)
    would then be offered, accepted by validation and fail at execution. Such a game names
    its actions here (the arena derives them from its executor table, see
    ``examples.arena.arena_tiers``) and passes its profiles as ``PlannerConfig.llm_tiers``;
    validation refuses any other action (``action_not_allowed``).
    ``max_listed``: entities shown per list (enemies, allies, objects).
    ``max_steps``: longest plan. ``budget``: characters an agent may add to the prompt (its
    line and newline, see ``agent_chars``); beyond it the farthest allies, then objects,
    then enemies are dropped (never the last enemy), and what is dropped is neither promised
    by the schema nor accepted by validation.
    ``integer_coords``: the schema asks for whole-metre coordinates (fewer output tokens, and
    llama.cpp's grammar enforces ``minimum``/``maximum`` on integers only); validation still
    accepts any finite in-bounds number.
    ``show_positions``: list entities as ``id@x,y`` (else by id alone, nearest first). A
    position costs about six prompt tokens per entity, most of a line, and prompt tokens are
    what a CPU-served model's rate is bound by; a tier whose plans name entities rather than
    points (a squad's orders) plans as well without them.
    ``show_last`` shows how the previous plan ended when it ended (done or failed, with the
    failure's reason); a plan replaced while running says nothing the line does not.
    ``examples``: the worked example the system prompt ends with, as (state line, plan)
    pairs in the game's own terms, e.g. ``("A7 @20,30 hp90 goal=40,25", (MoveTo(x=40,
    y=25),))``; the line's ``A<id>`` names the agent the plan is for. Empty: a generic
    example from the core actions. A small model copies its example more than it reads its
    rules (the arena's squads walked to the generic example's coordinates), so a game
    whose facts mean something should show them used.
    """

    tier: Tier
    actions: tuple[str, ...] | None = None
    max_listed: int = 5
    max_steps: int = 3
    budget: int = 200
    show_attrs: bool = True
    show_last: bool = True
    integer_coords: bool = True
    show_positions: bool = True
    examples: tuple[tuple[str, tuple[ActionStep, ...]], ...] = ()

    def __post_init__(self) -> None:
        if self.tier not in (Tier.LLM, Tier.SIMPLE_LLM):
            raise TickmindError(f"TierProfile.tier must be Tier.LLM or Tier.SIMPLE_LLM, got {self.tier!r}")
        if self.actions is not None and not self.actions:
            raise TickmindError("TierProfile.actions must name at least one action (or be None for all)")
        if not 1 <= self.max_steps <= 64:
            raise TickmindError(f"TierProfile.max_steps must be in 1..64, got {self.max_steps!r}")
        if self.max_listed < 0 or self.budget < 1:
            raise TickmindError("TierProfile.max_listed must be >= 0 and budget >= 1")
        for line, steps in self.examples:
            if not _EXAMPLE_ID.match(line) or not steps or len(steps) > self.max_steps:
                raise TickmindError(
                    f"TierProfile.examples: {line[:60]!r} needs a state line starting 'A<id> ' and 1 to "
                    f"{self.max_steps} steps (ActionSteps), got {len(steps)}"
                )

    def example_id(self, line: str) -> int:
        """The agent an example line is about (its ``A<id>``)."""
        match = _EXAMPLE_ID.match(line)
        assert match is not None  # checked at construction
        return int(match.group(1))

    def action_names(self) -> tuple[str, ...]:
        """The offered actions, checked against the registry now."""
        registered = action_types()
        if self.actions is None:
            return tuple(registered)
        unknown = [name for name in self.actions if name not in registered]
        if unknown:
            raise TickmindError(
                f"TierProfile({self.tier.value}).actions names unregistered action(s) {unknown}; "
                f"registered: {list(registered)}"
            )
        return tuple(dict.fromkeys(self.actions))


#: The full tier: every registered action (``actions=None``, resolved at each use), five
#: entities per list, plans of up to three steps. A game with a fixed set of executable
#: actions offers ``dataclasses.replace(FULL_TIER, actions=...)`` instead.
FULL_TIER = TierProfile(Tier.LLM)
#: The simplified tier: a shorter prompt for when the full one fails or is too slow.
SIMPLE_TIER = TierProfile(
    Tier.SIMPLE_LLM,
    actions=("move_to", "approach", "attack", "retreat", "take_cover", "wait"),
    max_listed=3,
    max_steps=2,
    budget=120,
    show_last=False,
)


def profile_for(tier: Tier | TierProfile) -> TierProfile:
    """``tier`` itself if it is a profile, else the default profile of that tier."""
    if isinstance(tier, TierProfile):
        return tier
    if tier == Tier.LLM:
        return FULL_TIER
    if tier == Tier.SIMPLE_LLM:
        return SIMPLE_TIER
    raise TickmindError(f"tier {tier!r} has no prompt; only Tier.LLM and Tier.SIMPLE_LLM are model tiers")


@dataclass(frozen=True)
class AgentView:
    """One snapshot as one tier presents it; build with :func:`view_of`."""

    snapshot: AgentSnapshot
    profile: TierProfile
    enemies: tuple[SeenEntity, ...]
    allies: tuple[SeenEntity, ...]
    objects: tuple[SeenEntity, ...]
    #: the tier's actions this agent is allowed, in the tier's order
    permitted: tuple[str, ...]
    #: the permitted actions that are feasible (every id field has a candidate):
    #: what the schema offers; empty means the model cannot plan for this agent
    actions: tuple[str, ...]
    line: str

    @property
    def agent_id(self) -> int:
        return self.snapshot.agent_id

    def role(self, action: str, field_name: str) -> FieldRole | None:
        return self.snapshot.role(action, field_name)

    def ids_for(self, role: FieldRole) -> tuple[int, ...]:
        """The ids an id field with ``role`` may name for this agent."""
        return role.candidates(self.enemies, self.allies, self.objects)


def view_of(snapshot: AgentSnapshot, tier: Tier | TierProfile) -> AgentView:
    """Decide what ``tier`` shows of ``snapshot``; see the module docstring."""
    profile = profile_for(tier)
    n = profile.max_listed
    lists = [list(snapshot.allies[:n]), list(snapshot.objects[:n]), list(snapshot.enemies[:n])]
    offered = profile.action_names()
    permitted = tuple(name for name in offered if name in snapshot.allowed)
    restricted = len(permitted) < len(offered)
    line = _line(snapshot, profile, lists, permitted if restricted else None)
    # Trim farthest first: allies to one, objects to one, enemies to one, then allies and
    # objects to none. Each pass drops one entity and re-renders (lines are ~200 chars).
    for which, floor in ((0, 1), (1, 1), (2, 1), (0, 0), (1, 0)):
        while len(line) + 1 > profile.budget and len(lists[which]) > floor:
            lists[which].pop()
            line = _line(snapshot, profile, lists, permitted if restricted else None)
    allies, objects, enemies = (tuple(entries) for entries in lists)
    actions = tuple(
        name for name in permitted if _feasible(snapshot, name, enemies, allies, objects)
    )
    return AgentView(snapshot, profile, enemies, allies, objects, permitted, actions, line)


def check_batch(snapshots: Sequence[AgentSnapshot]) -> None:
    """Refuse a batch the prompt and schema cannot describe: empty, an agent twice, or map
    bounds that differ (one batch is one world at one moment)."""
    if not snapshots:
        raise TickmindError("a batch needs at least one agent snapshot")
    ids = [s.agent_id for s in snapshots]
    if len(set(ids)) != len(ids):
        raise TickmindError(f"agent ids repeat within one batch: {ids}")
    if any(s.bounds != snapshots[0].bounds for s in snapshots):
        raise TickmindError("snapshots in one batch must share map bounds (snapshot one world at a time)")


def _feasible(
    snapshot: AgentSnapshot,
    name: str,
    enemies: tuple[SeenEntity, ...],
    allies: tuple[SeenEntity, ...],
    objects: tuple[SeenEntity, ...],
) -> bool:
    """Whether every id field of action ``name`` has at least one candidate. An optional id
    field counts too: its default means "the nearest one" (``retreat -`` runs from the
    nearest enemy), which with none listed is a plan that does nothing or fails."""
    for field_name in action_types()[name].model_fields:
        role = snapshot.role(name, field_name)
        if role is None or role.is_coordinate:
            continue
        if not role.candidates(enemies, allies, objects):
            return False
    return True


def format_number(value: float) -> str:
    """A compact decimal: ``12.0 -> "12"``, ``12.30 -> "12.3"``, ``-0.0 -> "0"``."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value) or abs(value) >= 1e12:  # never hundreds of digits
        return f"{value:g}"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _entities(entries: list[SeenEntity], positions: bool) -> str:
    if not positions:
        return ",".join(str(e.id) for e in entries)
    return ";".join(f"{e.id}@{format_number(e.x)},{format_number(e.y)}" for e in entries)


def _line(
    snapshot: AgentSnapshot,
    profile: TierProfile,
    lists: list[list[SeenEntity]],
    restricted_to: tuple[str, ...] | None,
) -> str:
    allies, objects, enemies = lists
    parts = [f"A{snapshot.agent_id}", f"@{format_number(snapshot.x)},{format_number(snapshot.y)}"]
    if profile.show_attrs:
        for key, value in snapshot.attrs:
            parts.append(f"{key}={value}" if isinstance(value, str) else f"{key}{format_number(value)}")
    positions = profile.show_positions
    if enemies:
        parts.append("E:" + _entities(enemies, positions))
    if allies:
        parts.append("F:" + _entities(allies, positions))
    groups: dict[str, list[SeenEntity]] = {}
    for entry in objects:  # nearest first, so groups come in order of their nearest member
        groups.setdefault(entry.kind or "obj", []).append(entry)
    parts.extend(f"{kind}:{_entities(members, positions)}" for kind, members in groups.items())
    if restricted_to is not None:
        parts.append("acts:" + (",".join(restricted_to) or "none"))
    if profile.show_last and snapshot.last_status and snapshot.last_status != PlanStatus.RUNNING.value:
        reason = f":{snapshot.last_reason}" if snapshot.last_reason else ""
        parts.append(f"last:{snapshot.last_status}{reason}")
    return " ".join(parts)
