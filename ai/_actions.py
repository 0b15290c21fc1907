"""ActionStep: what a plan is made of, as a registry-backed discriminated union on ``act``.

Why a registry: the framework knows no game. The core actions below are the ones the arena's
systems execute; a user adds their own with ``@register_action`` (a pydantic model with a
unique ``act`` literal) plus a system that executes it — without editing tickmind. Parsing
goes through one TypeAdapter over every registered action, rebuilt when the registry
changes, so model output is validated against exactly the actions that exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Union, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from engine import TickmindError, canonical_bytes, same_definition

from ._text import MAX_KIND_CHARS, sanitize_text

__all__ = [
    "ID_POOLS",
    "ActionStep",
    "Approach",
    "Attack",
    "EntityRef",
    "MoveTo",
    "Patrol",
    "Refers",
    "Regroup",
    "Retreat",
    "Scan",
    "TakeCover",
    "Wait",
    "action_names",
    "action_types",
    "declared_roles",
    "id_role_problem",
    "parse_step",
    "register_action",
]

MAX_PATROL_POINTS = 8
MAX_WAIT_TICKS = 600

Point = tuple[float, float]
ID_POOLS = ("enemy", "ally", "object")


def id_role_problem(role: str) -> str | None:
    """What is wrong with an id role (``enemy``, ``ally``, ``object``, ``object:<kind>``,
    several joined by ``|``), or None. Kinds are as :func:`sanitize_text` leaves them."""
    for part in role.split("|"):
        pool, _, kind = part.partition(":")
        if pool not in ID_POOLS:
            return f"unknown pool {pool!r} (use enemy, ally, object or object:<kind>, joined by '|')"
        if kind and (pool != "object" or sanitize_text(kind, MAX_KIND_CHARS) != kind):
            return f"{part!r}: only objects have kinds, written as sanitize_text leaves them (lower-case [a-z0-9_.-])"
    return None


@dataclass(frozen=True)
class Refers:
    """Marks an ``int`` action field as naming an entity the agent saw: the model is offered
    exactly the listed ids of these pools for it, and a plan naming any other is refused.

    ``role`` as :class:`ai.FieldRole`'s id roles: ``"enemy"``, ``"ally"``, ``"object"``,
    ``"object:<kind>"``, several joined by ``|``. Written ``Annotated[int, Refers("object:food")]``;
    :data:`EntityRef` is any entity the agent saw. A field typed so needs no ``FieldRole``.
    """

    role: str = "enemy|ally|object"

    def __post_init__(self) -> None:
        problem = id_role_problem(self.role)
        if problem is not None:
            raise TickmindError(f"Refers({self.role!r}): {problem}")


#: An action field naming any entity the agent saw (an enemy, an ally or an object).
EntityRef = Annotated[int, Refers()]


class ActionStep(BaseModel):
    """Base of every action. Subclasses declare ``act: Literal["name"]`` and their fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    act: str
    #: One line the prompt shows the model for this action (set by each subclass).
    summary: ClassVar[str] = ""

    #: The engine's own encoder by its runtime fields, as is: the hash recognises exactly this
    #: hook on a frozen model and caches each step's bytes by identity across ticks.
    __tickmind_hash__ = canonical_bytes


_actions: dict[str, type[ActionStep]] = {}
_roles: dict[str, dict[str, str]] = {}  #: action -> field -> the role its type declares
_adapter: TypeAdapter[Any] | None = None


def register_action(cls: type[ActionStep]) -> type[ActionStep]:
    """Class decorator adding an action to the union the parser and the schema know."""
    global _adapter
    if not (isinstance(cls, type) and issubclass(cls, ActionStep)):
        raise TickmindError(f"register_action expects an ActionStep subclass, got {cls!r}")
    annotation = cls.model_fields["act"].annotation
    names = get_args(annotation)
    if len(names) != 1 or not isinstance(names[0], str):
        raise TickmindError(
            f"{cls.__qualname__}.act must be a single string Literal, e.g. act: Literal['dig']"
        )
    name = names[0]
    previous = _actions.get(name)
    if previous is not None and not same_definition(previous, cls):
        raise TickmindError(
            f"action {name!r} is already registered by {previous.__module__}.{previous.__qualname__}"
        )
    for field_name, info in cls.model_fields.items():
        marks = _marks(info.metadata, info.annotation)
        if marks and not _is_id_type(info.annotation):
            raise TickmindError(f"{cls.__qualname__}.{field_name}: Refers marks an int field (or int | None)")
    _actions[name] = cls
    _roles[name] = {f: marks[-1].role for f, info in cls.model_fields.items() if (marks := _marks(info.metadata, info.annotation))}
    _adapter = None
    return cls


def _marks(metadata: list[Any], annotation: Any) -> list[Refers]:
    """The ``Refers`` on a field: in its metadata, or inside ``Annotated[int, Refers] | None``."""
    found = [m for m in metadata if isinstance(m, Refers)]
    for arg in get_args(annotation):
        if get_origin(arg) is Annotated:
            found.extend(m for m in arg.__metadata__ if isinstance(m, Refers))
    return found


def _is_id_type(annotation: Any) -> bool:
    """``int``, or ``int | None`` with the ``int`` possibly ``Annotated`` (not ``bool``)."""
    if annotation is int:
        return True
    args = [get_args(a)[0] if get_origin(a) is Annotated else a for a in get_args(annotation)]
    return bool(args) and all(a in (int, type(None)) for a in args) and int in args


def declared_roles(action: str) -> dict[str, str]:
    """The id roles action ``action``'s field types declare (``Refers``), field -> role."""
    return _roles.get(action, {})


def action_types() -> dict[str, type[ActionStep]]:
    """Registered actions by ``act`` name, in registration order."""
    return dict(_actions)


def action_names() -> tuple[str, ...]:
    return tuple(_actions)


def parse_step(data: Any) -> ActionStep:
    """Validate one step (a dict from JSON, or an ActionStep) into its registered type.

    Raises pydantic's ValidationError on anything else; callers decide what a bad step means.
    """
    global _adapter
    if isinstance(data, ActionStep):
        return data
    if _adapter is None:
        members = tuple(_actions.values())
        union = members[0] if len(members) == 1 else Union[members]  # noqa: UP007
        _adapter = TypeAdapter(cast(Any, Annotated[union, Field(discriminator="act")]))
    result: ActionStep = _adapter.validate_python(data)
    return result


# --- the core actions the arena executes ---------------------------------------------------


@register_action
class MoveTo(ActionStep):
    act: Literal["move_to"] = "move_to"
    x: float
    y: float
    summary: ClassVar[str] = "walk to map point (x, y)"


@register_action
class Approach(ActionStep):
    act: Literal["approach"] = "approach"
    target: int = Field(description="id of a visible entity to close in on")
    summary: ClassVar[str] = "close in on visible entity `target` until within weapon range"


@register_action
class Retreat(ActionStep):
    act: Literal["retreat"] = "retreat"
    target: int | None = Field(default=None, description="entity to get away from (default: nearest enemy)")
    summary: ClassVar[str] = "move away from `target` (default the nearest enemy)"


@register_action
class TakeCover(ActionStep):
    act: Literal["take_cover"] = "take_cover"
    cover: int | None = Field(default=None, description="id of a visible cover object (default: nearest)")
    summary: ClassVar[str] = "move behind cover object `cover` (default the nearest), away from enemies"


@register_action
class Attack(ActionStep):
    act: Literal["attack"] = "attack"
    target: int = Field(description="id of a visible enemy")
    summary: ClassVar[str] = "shoot visible enemy `target` while it is in range; ends when it dies"


@register_action
class Wait(ActionStep):
    act: Literal["wait"] = "wait"
    ticks: int = Field(default=30, ge=1, le=MAX_WAIT_TICKS)
    summary: ClassVar[str] = "hold position for `ticks` ticks"


@register_action
class Scan(ActionStep):
    act: Literal["scan"] = "scan"
    summary: ClassVar[str] = "stop and look around briefly"


@register_action
class Patrol(ActionStep):
    act: Literal["patrol"] = "patrol"
    points: tuple[Point, ...] = Field(min_length=1, max_length=MAX_PATROL_POINTS)
    summary: ClassVar[str] = "walk through `points` in order"


@register_action
class Regroup(ActionStep):
    act: Literal["regroup"] = "regroup"
    summary: ClassVar[str] = "move to the nearest visible ally"

