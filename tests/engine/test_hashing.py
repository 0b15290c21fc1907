import dataclasses
import enum
import struct
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pytest
from pydantic import BaseModel

from engine import ComponentError, Position, UnhashableComponentError, UnhashedComponentWarning, World, component


def root_of(*components: Any) -> str:
    w = World(seed=0)
    try:
        w.create_entity(*components)
        return w.state_hash(0).root
    finally:
        w.close()


def test_floats_are_hashed_by_exact_bits() -> None:
    assert root_of(Position(0.0, 1.0)) != root_of(Position(-0.0, 1.0))
    assert root_of(Position(0.1 + 0.2, 1.0)) != root_of(Position(0.3, 1.0))
    assert root_of(Position(0.5, 1.0)) == root_of(Position(0.5, 1.0))


class Mood(enum.Enum):
    CALM = 1
    ANGRY = 2


@component
class Mind:
    mood: Mood
    memory: dict[str, float]
    seen: frozenset[int]
    path: tuple[tuple[float, float], ...]
    note: str | None
    stance: Literal["stand", "crouch"]
    grid: np.ndarray


def mind(**changes: Any) -> Mind:
    base = dict(
        mood=Mood.CALM,
        memory={"a": 1.0, "b": 2.0},
        seen=frozenset({3, 1, 2}),
        path=((0.0, 1.0),),
        note=None,
        stance="stand",
        grid=np.zeros((2, 3), dtype=np.float32),
    )
    base.update(changes)
    return Mind(**base)


def test_containers_hash_canonically_and_every_field_counts() -> None:
    reference = root_of(mind())
    assert root_of(mind(memory={"b": 2.0, "a": 1.0})) == reference, "dict insertion order is not state"
    assert root_of(mind(seen=frozenset({2, 3, 1}))) == reference
    for change in [
        dict(mood=Mood.ANGRY),
        dict(memory={"a": 1.0, "b": 2.5}),
        dict(seen=frozenset({1, 2})),
        dict(path=((0.0, 1.0), (2.0, 2.0))),
        dict(note=""),
        dict(stance="crouch"),
        dict(grid=np.zeros((3, 2), dtype=np.float32)),
        dict(grid=np.zeros((2, 3), dtype=np.float64)),
    ]:
        assert root_of(mind(**change)) != reference, change


def test_component_order_on_an_entity_does_not_matter_but_values_do() -> None:
    @component
    class HP:
        value: int

    assert root_of(Position(1.0, 2.0), HP(3)) == root_of(HP(3), Position(1.0, 2.0))
    assert root_of(Position(1.0, 2.0), HP(3)) != root_of(Position(1.0, 2.0), HP(4))


def test_unregistered_components_are_not_hashed_and_registered_pydantic_models_are() -> None:
    class Scratch:
        pass

    with pytest.warns(UnhashedComponentWarning, match="Scratch is not in the state hash"):
        assert root_of(Position(1.0, 1.0), Scratch()) == root_of(Position(1.0, 1.0))

    @component
    class Stats(BaseModel):
        hp: int
        speed: float

    assert root_of(Stats(hp=3, speed=1.0)) != root_of(Stats(hp=3, speed=1.5))


@pytest.mark.parametrize(
    "annotation, fragment",
    [(Any, "Any"), (object, "object"), (Callable[[int], int], "Callable"), (list, "element type"), (set[object], "object")],
)
def test_unhashable_field_types_are_refused_at_registration_naming_the_field(annotation: Any, fragment: str) -> None:
    cls = dataclasses.make_dataclass("Bad", [("ok", int), ("payload", annotation)])
    with pytest.raises(UnhashableComponentError, match=rf"Bad\.payload.*{fragment}"):
        component(cls)


def test_a_value_that_breaks_its_declared_type_is_named_at_hash_time() -> None:
    @component
    class Count:
        n: int

    with pytest.raises(ComponentError, match=r"entity 1 component \S*Count: a value does not match"):
        root_of(Count(1.5))  # type: ignore[arg-type]


def test_excluded_fields_and_hash_sources() -> None:
    @component
    class Cached:
        value: float
        cache: object = dataclasses.field(default=None, metadata={"tickmind_hash": False})

    assert root_of(Cached(1.0, cache=[1])) == root_of(Cached(1.0, cache={"x": 2}))
    w = World()
    state = {"v": b"a"}
    w.add_hash_source("external", lambda: state["v"])
    before = w.state_hash(0)
    state["v"] = b"b"
    after = w.state_hash(0)
    w.close()
    assert before.root != after.root
    assert len(before.keys) == 1 and before.keys[0] >> 32 == 0, "world-level sources use entity 0"


def test_detail_names_every_entity_component_pair(world: World) -> None:
    a = world.create_entity(Position(0.0, 0.0))
    b = world.create_entity(Position(1.0, 0.0))
    before = world.state_hash(0).detail()
    world.component_for_entity(b, Position).x = 2.0
    after = world.state_hash(0).detail()
    changed = {k >> 32 for k in before if before[k] != after[k]}
    assert set(k >> 32 for k in before) == {a, b}
    assert changed == {b}


def test_the_root_alone_is_the_root_of_the_full_hash(world: World) -> None:
    """What a replay compares each tick (``state_root``) is the root the record holds."""
    world.create_entity(Position(0.5, -1.0), mind())
    world.add_hash_source("external", lambda: b"abc")
    full, alone = world.state_hash(4), world.state_hash(4, detail=False)
    assert alone.root == full.root == world.state_root(4) != world.state_root(5)
    assert len(full.keys) == 3 and len(alone.keys) == len(alone.digests) == 0


def test_scalar_sequences_hash_as_their_element_by_element_encoding() -> None:
    from engine._encoding import _compile_type

    ids = tuple(range(-3, 500, 7))
    packed = _compile_type(tuple[int, ...], "t")(ids)
    assert packed == len(ids).to_bytes(4, "little") + b"".join(i.to_bytes(8, "little", signed=True) for i in ids)
    flags = [True, False, True]
    assert _compile_type(list[bool], "t")(flags) == b"\x03\x00\x00\x00\x01\x00\x01"
    with pytest.raises(struct.error):
        _compile_type(tuple[int, ...], "t")((1, 2.5))


@dataclasses.dataclass
class ForgotTheDecorator:
    value: float


def test_a_component_left_out_of_the_hash_is_warned_about_once(world: World) -> None:
    """A plain dataclass (no @component) changed at random passed replay checks until it
    happened to move a hashed component."""
    world.create_entity(ForgotTheDecorator(1.0), Position(0.0, 0.0))
    with pytest.warns(UnhashedComponentWarning, match=r"ForgotTheDecorator is not in the state hash"):
        first = world.state_hash()
    world.component_for_entity(1, ForgotTheDecorator).value = 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert world.state_hash().root == first.root, "still unhashed, and said only once"


@component
class Samples:
    values: np.ndarray


def test_an_object_array_in_a_component_is_named_with_its_entity(world: World) -> None:
    """The message was only 'numpy arrays of dtype=object cannot be hashed canonically',
    with no entity or component to look at."""
    world.create_entity(Samples(np.array([1.0, 2.0])))
    world.create_entity(Samples(np.array([1.0, None])))
    with pytest.raises(ComponentError, match=r"entity 2 component Samples: numpy arrays of dtype=object"):
        world.state_hash()
