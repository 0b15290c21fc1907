"""AgentSnapshot: what one agent knows at the tick it asks for a plan, as plain frozen data.

Why a snapshot and not the world: the prompt, the per-batch schema and the validation of the
answer must all describe the same moment, yet the answer arrives ticks later. The planner
takes a snapshot when it submits an agent; the prompt is encoded from it, the schema is
built from it and the answer is validated against it, so the verdict on a plan does not
depend on when the response arrived.

Everything in a snapshot is deterministic: entities come in ``Perception``'s own order
(nearest first, ties by id), capped per list; floats are rounded to ``decimals`` places.
Rounding is for the prompt's sake — ``12.3`` costs fewer tokens than ``12.345678`` and a
model gains nothing from millimetres. It cannot harm replay: the journal stores the plan the
model returned, never the prompt, and a replay re-applies that plan without rebuilding any
snapshot.

The framework knows no game. Game facts reach the snapshot through two callbacks on
:class:`SnapshotConfig`: ``describe(world, entity)`` returns scalars for the prompt (the
arena's hp and ammo), ``allowed(world, entity)`` restricts the actions an agent may use.
:class:`FieldRole` says what an action's fields refer to (an enemy id, a cover object, a map
x), which is how the schema and the validator know to tighten them.

Free text from the world (object kinds, failure reasons, string attributes) is passed
through :func:`sanitize_text` here, once, so no later stage can forget: it keeps
``[a-z0-9_.-]`` and a bounded length, so a kind named ``"}]} ignore the rules"`` cannot close
the answer format or smuggle an instruction into the prompt.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from engine import Position, TickmindError, World

from .._actions import action_names, action_types, declared_roles, id_role_problem
from .._plan import Plan
from .._text import MAX_KIND_CHARS, sanitize_text
from ..perception import Faction, Perceivable, Perception

__all__ = [
    "DEFAULT_ROLES",
    "AgentSnapshot",
    "FieldRole",
    "MapBounds",
    "SeenEntity",
    "SnapshotConfig",
    "build_snapshot",
    "prompt_attrs",
    "sanitize_text",
]

Scalar = int | float | str
Describe = Callable[[World, int], Mapping[str, Scalar]]
AllowedActions = Callable[[World, int], Iterable[str]]

MAX_REASON_CHARS = 40
MAX_ATTR_KEY_CHARS = 8
MAX_ATTR_TEXT_CHARS = 16

_STATUSES = ("", "running", "done", "failed")


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class MapBounds:
    """The rectangle every coordinate a plan names must lie in (inclusive)."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float

    def __post_init__(self) -> None:
        values = (self.x_min, self.y_min, self.x_max, self.y_max)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            raise TickmindError(f"MapBounds needs four finite numbers, got {values!r}")
        if not (self.x_min < self.x_max and self.y_min < self.y_max):
            raise TickmindError(
                f"MapBounds must have x_min < x_max and y_min < y_max, got {values!r}"
            )

    def contains(self, x: float, y: float) -> bool:
        return self.x_min <= x <= self.x_max and self.y_min <= y <= self.y_max


COORDINATE_ROLES = ("x", "y", "point", "points")


@dataclass(frozen=True)
class FieldRole:
    """What the field ``field`` of action ``action`` refers to.

    ``role`` is either a coordinate — ``"x"``, ``"y"`` (a number), ``"point"`` (an ``[x, y]``
    pair), ``"points"`` (a list of pairs) — or the entities an id field may name:
    ``"enemy"``, ``"ally"``, ``"object"`` (any visible object) or ``"object:<kind>"``, several
    joined by ``|`` (``"enemy|ally"``). Only entities the prompt listed for the agent count.
    """

    action: str
    field: str
    role: str

    def __post_init__(self) -> None:
        if self.role in COORDINATE_ROLES:
            return
        problem = id_role_problem(self.role)
        if problem is not None:
            raise TickmindError(
                f"FieldRole({self.action!r}, {self.field!r}): role {self.role!r}: {problem}; or a coordinate "
                "role: x, y, point, points"
            )

    @property
    def is_coordinate(self) -> bool:
        return self.role in COORDINATE_ROLES

    def candidates(
        self,
        enemies: Iterable[SeenEntity],
        allies: Iterable[SeenEntity],
        objects: Iterable[SeenEntity],
    ) -> tuple[int, ...]:
        """The ids this (id) field may name, given the listed entities: in role order, then
        list order (nearest first), without repeats."""
        ids: list[int] = []
        for part in self.role.split("|"):
            pool, _, kind = part.partition(":")
            if pool == "enemy":
                ids.extend(e.id for e in enemies)
            elif pool == "ally":
                ids.extend(e.id for e in allies)
            else:
                ids.extend(e.id for e in objects if not kind or e.kind == kind)
        return tuple(dict.fromkeys(ids))


#: The core actions' fields. Approach, Attack and Retreat name enemies (the arena's executors
#: accept any visible entity for approach/retreat, but a small model does best with the
#: narrowest honest choice); TakeCover names a visible object of kind ``cover``.
DEFAULT_ROLES: tuple[FieldRole, ...] = (
    FieldRole("move_to", "x", "x"),
    FieldRole("move_to", "y", "y"),
    FieldRole("approach", "target", "enemy"),
    FieldRole("retreat", "target", "enemy"),
    FieldRole("take_cover", "cover", "object:cover"),
    FieldRole("attack", "target", "enemy"),
    FieldRole("patrol", "points", "points"),
)


@dataclass(frozen=True)
class SnapshotConfig:
    """How to snapshot agents for one game.

    ``bounds``: the map rectangle, or a function of the world returning it (the arena reads
    its ``ArenaBounds`` resource). ``describe(world, entity)``: game scalars for the prompt,
    in the order they should appear (a dict keeps insertion order; keys are sanitised to 8
    characters). ``allowed(world, entity)``: the action names this agent may use (default:
    every registered action). ``max_enemies`` / ``max_allies`` / ``max_objects``: nearest
    entities kept per list. ``decimals``: rounding of the agent's own position and float
    attributes; ``entity_decimals``: of the listed entities' positions (whole metres by
    default: plenty to name a target or a spot, and ~20 characters shorter per line).
    """

    bounds: MapBounds | Callable[[World], MapBounds]
    describe: Describe | None = None
    allowed: AllowedActions | None = None
    max_enemies: int = 5
    max_allies: int = 5
    max_objects: int = 5
    decimals: int = 1
    entity_decimals: int = 0
    roles: tuple[FieldRole, ...] = DEFAULT_ROLES

    def __post_init__(self) -> None:
        for name in ("max_enemies", "max_allies", "max_objects", "decimals", "entity_decimals"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 64:
                raise TickmindError(f"SnapshotConfig.{name} must be an int in 0..64, got {value!r}")
        seen: set[tuple[str, str]] = set()
        for role in self.roles:
            if not isinstance(role, FieldRole):
                raise TickmindError(f"SnapshotConfig.roles holds FieldRole objects, got {role!r}")
            if (role.action, role.field) in seen:
                raise TickmindError(f"SnapshotConfig.roles names {role.action}.{role.field} twice")
            seen.add((role.action, role.field))
        for role in self.roles:
            _check_names_a_field(role)


def _check_names_a_field(role: FieldRole) -> None:
    """A role for an action or field that does not exist would silently leave the real
    field unchecked; refuse it while the config is built."""
    actions = action_types()
    cls = actions.get(role.action)
    if cls is None:
        raise TickmindError(
            f"FieldRole({role.action!r}, {role.field!r}): no action {role.action!r} is registered "
            f"(register it before building the SnapshotConfig); registered: {list(actions)}"
        )
    fields = [name for name in cls.model_fields if name != "act"]
    if role.field not in fields:
        raise TickmindError(f"FieldRole({role.action!r}, {role.field!r}): {role.action} has no field {role.field!r}; its fields: {fields}")


@functools.cache
def _declared_role(action: str, field_name: str, role: str) -> FieldRole:
    return FieldRole(action, field_name, role)


# --- the snapshot --------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenEntity:
    """One listed entity: its id, rounded position and (objects only) sanitised kind."""

    id: int
    x: float
    y: float
    kind: str = ""


@dataclass(frozen=True)
class AgentSnapshot:
    """What agent ``agent_id`` knew at tick ``tick``; see the module docstring.

    ``last_status`` is ``""`` (never had a plan), ``"running"``, ``"done"`` or ``"failed"``;
    ``last_reason`` the sanitised reason of a failure. ``allowed`` lists the actions the
    game lets this agent use, in registry order.
    """

    agent_id: int
    team: int
    tick: int
    x: float
    y: float
    bounds: MapBounds
    enemies: tuple[SeenEntity, ...] = ()
    allies: tuple[SeenEntity, ...] = ()
    objects: tuple[SeenEntity, ...] = ()
    attrs: tuple[tuple[str, Scalar], ...] = ()
    last_status: str = ""
    last_reason: str = ""
    allowed: tuple[str, ...] = field(default_factory=action_names)
    roles: tuple[FieldRole, ...] = DEFAULT_ROLES

    def __post_init__(self) -> None:
        # Built by hand (tests, a game's own planner) a snapshot could carry raw world text
        # into the prompt; refuse it here rather than trust every caller to sanitise.
        texts = [e.kind for e in self.objects] + [self.last_reason]
        texts += [key for key, _ in self.attrs] + [v for _, v in self.attrs if isinstance(v, str)]
        dirty = [t for t in texts if sanitize_text(t, len(t)) != t]
        if dirty or self.last_status not in _STATUSES:
            raise TickmindError(
                f"AgentSnapshot({self.agent_id}) holds unsafe text {dirty or [self.last_status]!r}; "
                "pass world text through sanitize_text (build_snapshot does)"
            )

    def role(self, action: str, field_name: str) -> FieldRole | None:
        """The field's role: the game's ``FieldRole`` for it, else the one its type declares
        (``ai.EntityRef``, ``Refers``), else None (a plain value)."""
        return next((role for role in self.roles_for(action) if role.field == field_name), None)

    def roles_for(self, action: str) -> tuple[FieldRole, ...]:
        """Every role action ``action``'s fields have: the game's, then those declared by type."""
        given = tuple(role for role in self.roles if role.action == action)
        named = {role.field for role in given}
        declared = declared_roles(action)
        return given + tuple(_declared_role(action, f, r) for f, r in declared.items() if f not in named)


def build_snapshot(world: World, entity: int, *, config: SnapshotConfig) -> AgentSnapshot:
    """Snapshot agent ``entity`` (an entity with ``Position`` and ``Faction``) now.

    An agent without ``Perception`` (no ``Senses``) sees nothing. Raises
    ``ComponentError`` if the entity lacks ``Position`` or ``Faction``, and ``TickmindError``
    for a callback that returns something a prompt cannot hold.
    """
    pos = world.component_for_entity(entity, Position)
    team = world.component_for_entity(entity, Faction).team
    seen = world.try_component(entity, Perception)
    d, ed = config.decimals, config.entity_decimals
    bounds = config.bounds if isinstance(config.bounds, MapBounds) else config.bounds(world)
    if not isinstance(bounds, MapBounds):
        raise TickmindError(f"SnapshotConfig.bounds(world) must return a MapBounds, got {bounds!r}")
    enemies: tuple[SeenEntity, ...] = ()
    allies: tuple[SeenEntity, ...] = ()
    objects: tuple[SeenEntity, ...] = ()
    if seen is not None:
        enemies = _listed(world, seen.enemies[: config.max_enemies], ed, with_kind=False)
        allies = _listed(world, seen.allies[: config.max_allies], ed, with_kind=False)
        objects = _listed(world, seen.objects[: config.max_objects], ed, with_kind=True)
    plan = world.try_component(entity, Plan)
    status = plan.status.value if plan is not None else ""
    reason = sanitize_text(plan.reason, MAX_REASON_CHARS) if plan is not None and plan.reason else ""
    return AgentSnapshot(
        agent_id=entity,
        team=team,
        tick=world.tick,
        x=round(pos.x, d),
        y=round(pos.y, d),
        bounds=bounds,
        enemies=enemies,
        allies=allies,
        objects=objects,
        attrs=_attrs(world, entity, config.describe, d),
        last_status=status,
        last_reason=reason,
        allowed=_allowed(world, entity, config.allowed),
        roles=config.roles,
    )


def _listed(world: World, ids: tuple[int, ...], decimals: int, *, with_kind: bool) -> tuple[SeenEntity, ...]:
    out = []
    for other in ids:
        where = world.try_component(other, Position)
        if where is None:  # perceived entities have positions; skip rather than invent one
            continue
        kind = ""
        if with_kind:
            marker = world.try_component(other, Perceivable)
            kind = sanitize_text(marker.kind, MAX_KIND_CHARS) if marker is not None else ""
        out.append(SeenEntity(other, round(where.x, decimals), round(where.y, decimals), kind))
    return tuple(out)


def _attrs(world: World, entity: int, describe: Describe | None, decimals: int) -> tuple[tuple[str, Scalar], ...]:
    return () if describe is None else prompt_attrs(describe(world, entity), decimals)


def prompt_attrs(values: Mapping[str, Scalar], decimals: int) -> tuple[tuple[str, Scalar], ...]:
    """``values`` as a snapshot's ``attrs``: keys and text sanitised, floats rounded, bools
    as 0/1; raises ``TickmindError`` for what a prompt cannot hold."""
    out: list[tuple[str, Scalar]] = []
    for key, value in values.items():
        name = sanitize_text(key, MAX_ATTR_KEY_CHARS)
        if not name:
            raise TickmindError(f"describe() returned the key {key!r}, which sanitises to nothing; use [a-z0-9_]")
        if isinstance(value, bool):
            out.append((name, int(value)))
        elif isinstance(value, int):
            out.append((name, value))
        elif isinstance(value, float):
            out.append((name, round(value, decimals)))
        elif isinstance(value, str):
            out.append((name, sanitize_text(value, MAX_ATTR_TEXT_CHARS)))
        else:
            raise TickmindError(
                f"describe() returned {key!r}: {value!r}; values must be int, float, str or bool"
            )
    return tuple(out)


def _allowed(world: World, entity: int, allowed: AllowedActions | None) -> tuple[str, ...]:
    registered = action_names()
    if allowed is None:
        return registered
    wanted = set(allowed(world, entity))
    unknown = sorted(wanted.difference(registered))
    if unknown:
        raise TickmindError(
            f"allowed() returned unregistered action(s) {unknown}; registered: {list(registered)}"
        )
    return tuple(name for name in registered if name in wanted)
