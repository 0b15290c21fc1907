"""``tuple[int, ...]`` fields in column storage (engine/_int_lists.py): each is a padded table
with a length per entity, written per instance or in bulk (``Columns.set_lists``), hashed
from the table, and read back per instance as tuples kept until their row changes.

Hypothesis drives a columnar world and a plain one (a class of the same name and fields)
through the same random creates, list writes, bulk writes, replacements, removals and
deletions; after every step the roots, the per-(entity, component) detail and a full
per-instance re-encoding (``fresh=True``) must agree, and every instance must read as its
twin.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import ComponentError, World, component
from engine._columns import is_columnar
from tests.engine.column_mirror import STRUCTURAL, Mirror, play_mirrored


@component(name="test.Sighting", columns=True)
class Sighting:
    tick: int
    seen: tuple[int, ...] = ()
    range_m: float = 1.0
    near: tuple[int, ...] = ()


@component(name="test.Sighting")
class PlainSighting:
    tick: int
    seen: tuple[int, ...] = ()
    range_m: float = 1.0
    near: tuple[int, ...] = ()


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ids = st.lists(st.integers(-(2**63), 2**63 - 1), max_size=7).map(tuple)
small_ids = st.lists(st.integers(0, 5), max_size=4).map(tuple)  # equal lists are common: kept tuples
ops = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 9), ids),
        st.tuples(st.just("write_seen"), st.integers(0, 9), ids),
        st.tuples(st.just("write_near"), st.integers(0, 9), small_ids),
        st.tuples(st.just("bulk_near"), st.integers(0, 9), st.lists(small_ids, min_size=1, max_size=10)),
        st.tuples(st.just("replace"), st.integers(0, 9), small_ids),
        *STRUCTURAL,
    ),
    max_size=30,
)


class _Mirror(Mirror):
    def make(self, a: Any, b: Any) -> Any:
        return self.cls(a, b, 0.5, b[:2])

    def apply(self, op: str, a: Any, b: Any) -> None:
        if op == "bulk_near":
            self._bulk(b)
        else:
            super().apply(op, a, b)

    def write(self, op: str, entity: int, current: Any, b: Any) -> None:
        if op == "write_seen":
            current.seen = b
        elif op == "write_near":
            current.near = list(b)  # a list is stored as the tuple it holds
        elif op == "replace":
            self.world.add_component(entity, self.cls(current.tick + 1, b, current.range_m, current.near))

    def _bulk(self, lists: list[tuple[int, ...]]) -> None:
        """Write ``near`` of the first holders, in bulk where the class is columnar."""
        holders = [e for e, _ in self.world.get_component(self.cls)][: len(lists)]
        lists = lists[: len(holders)]
        if not is_columnar(self.cls):
            for entity, near in zip(holders, lists, strict=True):
                self.world.component_for_entity(entity, self.cls).near = near
            return
        values = [i for near in lists for i in near]
        self.world.columns(self.cls).set_lists("near", values, [len(n) for n in lists], holders)


@FUZZ
@given(ops)
def test_a_world_with_list_columns_hashes_as_a_plain_one_after_every_step(steps: list[tuple[str, Any, Any]]) -> None:
    play_mirrored(steps, _Mirror(Sighting), _Mirror(PlainSighting), _same_lists)


def _same_lists(mine: Any, twin: Any) -> None:
    """Equal fields, read as tuples (a plain instance keeps a list as it was given)."""
    assert dataclasses.astuple(mine) == tuple(tuple(f) if isinstance(f, list) else f for f in dataclasses.astuple(twin))
    assert type(mine.seen) is tuple and type(mine.near) is tuple


def test_bulk_writes_round_trip_and_keep_the_tuples_of_unchanged_rows() -> None:
    world = World()
    a, b, c = (world.create_entity(Sighting(0, (i,) * i)) for i in range(1, 4))
    columns = world.columns(Sighting)
    values, counts = columns.get_lists("seen")
    assert values.tolist() == [1, 2, 2, 3, 3, 3] and counts.tolist() == [1, 2, 3]
    first = world.component_for_entity(a, Sighting).seen
    assert world.component_for_entity(a, Sighting).seen is first, "kept between reads"
    third = world.component_for_entity(c, Sighting).seen
    columns.set_lists("seen", [1, 9, 8, 7, 6, 3, 3, 3], [1, 4, 3])
    assert world.component_for_entity(a, Sighting).seen is first, "an unchanged row keeps its tuple"
    assert world.component_for_entity(c, Sighting).seen is third
    assert world.component_for_entity(b, Sighting).seen == (9, 8, 7, 6), "a row wider than any before"
    columns.set_lists("seen", [], [0], [b])
    assert world.component_for_entity(b, Sighting).seen == ()
    shortened = world.component_for_entity(c, Sighting)
    shortened.seen = (5,)  # through the instance, from 3 items to 1
    kept = shortened.seen
    columns.set_lists("seen", [5, 1, 1], [1, 2], [c, a])  # two items wide: c's old second item must be gone
    assert shortened.seen is kept, "the items a shorter write left behind do not count as a change"
    assert columns.get_lists("seen", [c, a])[0].tolist() == [5, 1, 1], "rows in the order asked"
    assert world.state_hash(0).root == world.state_hash(0, fresh=True).root, "shortened rows hash as tuples"


def test_a_list_the_column_cannot_hold_is_refused_where_it_is_written() -> None:
    world = World()
    entity = world.create_entity(Sighting(1, (1, 2)))
    sighting = world.component_for_entity(entity, Sighting)
    with pytest.raises(ComponentError, match=rf"entity {entity} component Sighting: field 'seen' takes a tuple of ints"):
        sighting.seen = (1, 2.5)
    with pytest.raises(ComponentError, match="field 'seen' takes a tuple of ints"):
        sighting.seen = None  # type: ignore[assignment]
    with pytest.raises(ComponentError, match="field 'near' takes a tuple of ints"):
        world.create_entity(Sighting(1, (), 1.0, (2**64,)))
    assert sighting.seen == (1, 2), "a refused write changes nothing"
    assert world.entities() == [entity]
    columns = world.columns(Sighting)
    with pytest.raises(ComponentError, match="holds tuples of ints: read and write it with Columns.get_lists"):
        columns.get("seen")
    with pytest.raises(ComponentError, match="holds one number per entity: read and write it with Columns.get"):
        columns.get_lists("tick")
    with pytest.raises(ComponentError, match=r"Columns.set_lists of Sighting.seen: counts add up to 2 but there are 3 values"):
        columns.set_lists("seen", [1, 2, 3], [2])
    with pytest.raises(ComponentError, match="values: an int field takes whole numbers, got 1.5"):
        columns.set_lists("seen", [1.5], [1])
    with pytest.raises(ComponentError, match=r"1 entities but counts of shape \(2,\)"):
        columns.set_lists("seen", [1], [1, 0])
    with pytest.raises(ComponentError, match="counts are list lengths, got -1"):
        columns.set_lists("seen", [], [-1])
    assert sighting.seen == (1, 2), "refused bulk writes change nothing"


def test_an_instance_leaving_the_world_takes_its_lists_with_it() -> None:
    world = World()
    sighting = Sighting(3, (4, 5), 2.0, (6,))
    entity = world.create_entity(sighting)
    world.columns(Sighting).set_lists("seen", [7], [1])
    taken = world.remove_component(entity, Sighting)
    assert taken is sighting and dataclasses.astuple(taken) == (3, (7,), 2.0, (6,))
    for twin in (copy.deepcopy(sighting), pickle.loads(pickle.dumps(sighting)), dataclasses.replace(sighting)):
        assert twin == sighting and twin is not sighting
    other = world.create_entity(Sighting(0, (1, 2, 3, 4)))
    assert world.component_for_entity(other, Sighting).seen == (1, 2, 3, 4)
    world.add_component(other, sighting)  # replaces the longer row: no item of it may remain
    assert world.columns(Sighting).get_lists("seen")[0].tolist() == [7]
    assert world.state_hash(0).root == world.state_hash(0, fresh=True).root


def test_an_entity_named_twice_in_one_bulk_write_is_refused() -> None:
    world = World()
    entity = world.create_entity(Sighting(0, (1, 2)))
    other = world.create_entity(Sighting(0, ()))
    with pytest.raises(ComponentError, match=rf"entities \[{entity}\] are given more than once"):
        world.columns(Sighting).set_lists("seen", [9, 1, 2, 3], [1, 2, 1], [entity, entity, other])
    assert world.component_for_entity(entity, Sighting).seen == (1, 2), "nothing was written"
    world.columns(Sighting).set_lists("seen", [3, 9], [1, 1], [other, entity])  # any order, once each
    assert world.columns(Sighting).get_lists("seen")[0].tolist() == [9, 3]


def test_a_list_of_numpy_items_is_read_back_as_plain_ints_and_never_goes_stale() -> None:
    world = World()
    item = np.array(5)
    entity = world.create_entity(Sighting(0, (item, np.int64(6), True)))
    item[...] = 7  # the caller's object changes after the write: the row must not
    seen = world.component_for_entity(entity, Sighting).seen
    assert seen == (5, 6, 1) and all(type(i) is int for i in seen)
    assert world.state_hash(0).root == world.state_hash(0, fresh=True).root


def test_holding_finds_the_entities_whose_list_has_an_item() -> None:
    world = World()
    a, b, c = (world.create_entity(Sighting(0, seen)) for seen in [(4, 9), (), (9,)])
    columns = world.columns(Sighting)
    assert columns.holding("seen", 9).tolist() == [a, c]
    assert columns.holding("seen", 0).tolist() == [], "the padding is no item"
    world.remove_component(c, Sighting)
    assert world.columns(Sighting).holding("seen", 9).tolist() == [a], "a freed row holds nothing"
    assert b not in columns.holding("near", 9)
