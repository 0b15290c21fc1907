"""The identity memo behind ``World.state_hash`` (engine/_memo.py) never serves stale bytes.

Every test compares the memoized hash with the same state hashed through a fresh, empty
memo (every value encoded afresh), after changes a memo keyed by identity could miss: a
list mutated in place, a mutable object inside a tuple, an equal new tuple, an id reused
by a new object, two worlds hashed in turn.
"""

from __future__ import annotations

import dataclasses
import enum
import gc
import struct
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, ConfigDict, create_model

from engine import ComponentError, World, _memo, canonical_bytes, component
from engine._components import register_component, registered_components
from engine._hashing import hash_state
from engine._memo import HashMemo

Point = tuple[float, float]


@dataclasses.dataclass(frozen=True)
class Leg:
    """Frozen, but ``stops`` is a list: mutable content behind a frozen face."""

    to: Point
    stops: list[int]


@dataclasses.dataclass
class Cursor:
    """Not frozen: its field can change under a tuple that holds it."""

    at: int


class Step(BaseModel):
    """A frozen model hashed by its runtime fields, as ai's ActionStep can be."""

    model_config = ConfigDict(frozen=True)
    act: str
    __tickmind_hash__ = canonical_bytes


class MoveStep(Step):
    x: float


class ListStep(Step):
    ids: list[int]  # frozen model, mutable field


class Colour(str, enum.Enum):
    RED = "red"


@component(name="memo_test.Route")
class Route:
    waypoints: tuple[Point, ...]
    legs: tuple[Leg, ...] = ()
    cursors: tuple[Cursor, ...] = ()
    steps: tuple[Step, ...] = ()
    names: list[str] = dataclasses.field(default_factory=list)
    index: int = 0


@dataclasses.dataclass
class PlainRoute:
    """Registered without ``@component``, so not change-tracked: every hash of it goes
    through the memo (a tracked Route keeps its fields' bytes itself)."""

    waypoints: tuple[Point, ...]
    legs: tuple[Leg, ...] = ()


register_component(PlainRoute, name="memo_test.PlainRoute")


@component(name="memo_test.Painted")
class Painted:
    colour: Colour


_dial_reading = [0]


@dataclasses.dataclass(frozen=True)
class Dial:
    """Frozen, but its hook reads state the engine cannot see."""

    def __tickmind_hash__(self) -> bytes:
        return bytes(_dial_reading)


@component(name="memo_test.Dials")
class Dials:
    dials: tuple[Dial, ...]


def fresh_root(world: World, tick: int = 0) -> str:
    """The root of ``world`` hashed through an empty memo: every value encoded afresh."""
    components = [(i, p) for i in registered_components() if (p := world.get_component(i.cls))]
    return hash_state(tick, components, [], HashMemo()).root


def check(world: World) -> str:
    """Hash through the world's memo and assert it matches encoding afresh."""
    root = world.state_hash(0).root
    assert root == fresh_root(world)
    return root


@pytest.fixture
def route_world() -> Iterator[tuple[World, Route]]:
    w = World(seed=7)
    route = Route(((1.0, 2.0), (3.0, 4.0)), legs=(Leg((0.5, 0.5), [1, 2]),))
    w.create_entity(route)
    yield w, route
    w.close()


def test_the_memo_is_used_and_an_unchanged_state_hashes_alike(route_world: tuple[World, Route]) -> None:
    w, _ = route_world
    first = check(w)
    assert len(w._hash_memo) > 0, "the waypoint tuple should have been memoized"
    assert check(w) == first


def test_a_plain_field_changed_in_place_changes_the_hash(route_world: tuple[World, Route]) -> None:
    w, route = route_world
    before = check(w)
    route.index += 1
    assert check(w) != before


def test_a_list_mutated_in_place_changes_the_hash(route_world: tuple[World, Route]) -> None:
    w, route = route_world
    before = check(w)
    route.names.append("a")
    after = check(w)
    assert after != before
    route.names[0] = "b"
    assert check(w) not in (before, after)


def test_a_list_inside_a_frozen_dataclass_inside_a_tuple_is_not_memoized(
    route_world: tuple[World, Route],
) -> None:
    w, route = route_world
    before = check(w)
    route.legs[0].stops.append(3)  # same tuple, same frozen Leg, new content
    assert check(w) != before


def test_a_mutable_object_inside_a_tuple_is_not_memoized(route_world: tuple[World, Route]) -> None:
    w, route = route_world
    cursor = Cursor(1)
    route.cursors = (cursor,)
    before = check(w)
    cursor.at = 2
    assert check(w) != before


def test_a_new_equal_tuple_gives_the_same_bytes_and_a_new_different_one_does_not(
    route_world: tuple[World, Route],
) -> None:
    w, route = route_world
    before = check(w)
    route.waypoints = tuple((x + 0.0, y + 0.0) for x, y in route.waypoints)  # equal, not identical
    assert check(w) == before
    route.waypoints = ((1.0, 2.0), (3.0, 5.0))
    assert check(w) != before


def test_an_id_reused_by_a_new_object_gets_its_own_bytes(route_world: tuple[World, Route]) -> None:
    """A tuple that dies frees its memory, and CPython hands it (and so its id) to the next
    tuple of the same size. Were the memo keyed by id alone, without holding the value, the
    new tuple would be served the dead one's bytes. Each must be hashed by its own content."""
    w, route = route_world
    seen: set[int] = set()
    reused = 0
    for i in range(60):
        route.waypoints = ()  # the last tuple dies here, unless something still holds it
        gc.collect()
        # 7 points, built from a list: the outer tuple comes from CPython's free list of
        # 7-tuples (a size hashing itself never makes), where the dead one is on top
        route.waypoints = tuple([(float(i), float(j)) for j in range(7)])
        reused += id(route.waypoints) in seen
        seen.add(id(route.waypoints))
        check(w)
    assert reused, "no id was reused: the test did not exercise what it is about"


def test_a_list_where_the_annotation_says_tuple_is_not_memoized(
    route_world: tuple[World, Route],
) -> None:
    """Dataclasses do not validate: a ``tuple[Point, ...]`` field can hold a list point."""
    w, route = route_world
    point = [1.0, 2.0]
    route.waypoints = (point,)  # type: ignore[assignment]
    before = check(w)
    point[1] = 3.0
    assert check(w) != before


def test_worlds_hashed_in_turn_each_get_their_own_hash() -> None:
    a, b = World(seed=1), World(seed=2)
    try:
        ra = Route(((1.0, 1.0),))
        rb = Route(((2.0, 2.0),))
        a.create_entity(ra)
        b.create_entity(rb)
        for i in range(5):
            root_a, root_b = check(a), check(b)
            assert root_a != root_b
            ra.waypoints, rb.waypoints = rb.waypoints, ((float(i), 0.0),)  # b's tuple moves to a
        shared = HashMemo()  # one memo for both: slower, still right
        for w in (a, b, a, b):
            comps = [(i, p) for i in registered_components() if (p := w.get_component(i.cls))]
            assert hash_state(0, comps, [], shared).root == fresh_root(w)
    finally:
        a.close()
        b.close()


def test_canonical_hook_steps_are_memoized_only_when_frozen_through(
    route_world: tuple[World, Route],
) -> None:
    w, route = route_world
    move, listed = MoveStep(act="move", x=1.0), ListStep(act="list", ids=[1])
    route.steps = (move, listed)
    before = check(w)
    listed.ids.append(2)  # a frozen model's list field, mutated in place
    after = check(w)
    assert after != before
    route.steps = (MoveStep(act="move", x=1.0), listed)  # an equal new step
    assert check(w) == after


def test_an_opaque_hook_is_called_every_time() -> None:
    w = World(seed=3)
    try:
        w.create_entity(Dials((Dial(),)))
        before = check(w)
        _dial_reading[0] = 1
        assert check(w) != before
    finally:
        w.close()


def test_the_memo_keeps_one_calls_worth(route_world: tuple[World, Route]) -> None:
    w, route = route_world
    for i in range(50):
        route.waypoints = ((float(i), 0.0),)
        route.legs = (Leg((float(i), 1.0), []),)
        check(w)
        assert len(w._hash_memo) <= 2  # this call's waypoints and leg tuple, nothing older


def test_nothing_is_memoized_outside_a_hash() -> None:
    for _ in range(3):
        canonical_bytes(MoveStep(act="move", x=2.0))
    assert _memo._young is _memo._IDLE and not _memo._IDLE


def test_an_enum_field_still_refuses_a_plain_value_equal_to_a_member() -> None:
    w = World(seed=4)
    try:
        w.create_entity(Painted(Colour.RED))
        ok = check(w)
        w.create_entity(Painted("red"))  # type: ignore[arg-type]  # equal to Colour.RED, not one
        with pytest.raises(ComponentError, match="memo_test.Painted"):
            w.state_hash(0)
        assert ok
    finally:
        w.close()


def test_a_field_named_like_a_keyword_is_read() -> None:
    """Encoders are generated as source; a pydantic field may be named ``class``."""
    model = create_model("KeywordFields", **{"class": (int, 0), "label": (str, "")})
    info = register_component(model, name="memo_test.KeywordFields")
    value = model(**{"class": 5, "label": "ab"})
    assert info.encode(value) == struct.pack("<q", 5) + struct.pack("<I", 2) + b"ab"


def test_two_worlds_hashed_on_two_threads_at_once_get_their_own_hashes() -> None:
    """The encoders find the running call's memo in module state: calls on two threads take
    turns, so neither serves the other's entries or leaves any in the idle memo."""
    import sys
    import threading

    worlds = [World(seed=s) for s in (1, 2)]
    try:
        for i, w in enumerate(worlds):
            for j in range(50):
                w.create_entity(PlainRoute(((float(i), float(j)), (2.0, 3.0)), legs=(Leg((0.5, 0.5), [i, j]),)))
        # Components are collected here: a world's esper context is not for two threads.
        collected = [[(c, p) for c in registered_components() if (p := w.get_component(c.cls))] for w in worlds]
        expected = [fresh_root(w) for w in worlds]
        memos = [HashMemo(), HashMemo()]
        roots: list[list[str]] = [[], []]
        start = threading.Barrier(2)

        def hash_often(k: int) -> None:
            start.wait()
            roots[k].extend(hash_state(0, collected[k], [], memos[k]).root for _ in range(600))

        threads = [threading.Thread(target=hash_often, args=(k,)) for k in (0, 1)]
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            sys.setswitchinterval(interval)
        assert [set(r) for r in roots] == [{expected[0]}, {expected[1]}]
        assert _memo._young is _memo._IDLE and not _memo._IDLE
        assert all(len(m) > 0 for m in memos), "each world's memo was used"
    finally:
        for w in worlds:
            w.close()
