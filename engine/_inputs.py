"""Inputs: the only way anything outside the world changes it.

An input is a frozen pydantic model with an ``entity`` and an ``apply(world)`` method. It is
submitted for a tick, applied in the ``apply_inputs`` stage at the start of that tick in
(entity id, sequence) order, and journaled. Because inputs are plain data with a registered
``kind``, a journal can be read back in another process and re-applied exactly: that is what
replay is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ._errors import InputError, UnknownInputKindError, first_problem
from ._origin import same_definition

if TYPE_CHECKING:
    from ._world import World

__all__ = ["Input", "PendingInput", "decode_input"]

_kinds: dict[str, type[Input]] = {}


class Input(BaseModel):
    """Base class for journaled inputs. Subclasses set ``kind`` (default: the class name)."""

    # Non-finite floats are journaled as Infinity / NaN, not pydantic's default null, which
    # the replay could not read back into the float it was.
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    kind: ClassVar[str]
    entity: int

    def apply(self, world: World) -> None:
        """Change the world. Runs inside ``apply_inputs``; must be deterministic."""
        raise NotImplementedError(f"{type(self).__qualname__} must define apply(self, world)")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind", cls.__name__)
        cls.kind = kind
        previous = _kinds.get(kind)
        if previous is not None and not same_definition(previous, cls):
            raise InputError(
                f"input kind {kind!r} is already used by {previous.__module__}."
                f"{previous.__qualname__}; give {cls.__qualname__} its own kind = '...'"
            )
        _kinds[kind] = cls  # a re-load of the same class replaces its twin



def decode_input(kind: str, data: dict[str, Any]) -> Input:
    """Rebuild an input from its journaled form."""
    cls = _kinds.get(kind)
    if cls is None:
        raise UnknownInputKindError(
            f"unknown input kind {kind!r} (known: {', '.join(sorted(_kinds)) or 'none'}); "
            "the module defining it must be imported by the run's factory"
        )
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"input kind {kind!r} does not validate: {first_problem(exc)}") from exc


@dataclass(order=True)
class PendingInput:
    """An input waiting for its tick; sorts by (entity, seq) as the tick applies them."""

    entity: int
    seq: int
    tick: int = field(compare=False)
    input: Input = field(compare=False)
    meta: dict[str, Any] | None = field(compare=False, default=None)
    source: str | None = field(compare=False, default=None)  #: ``journal:line`` of a replayed input
