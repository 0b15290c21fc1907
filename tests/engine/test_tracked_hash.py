"""The incremental state hash (engine/_tracked.py): a change-tracked component keeps its
encoding, and each non-scalar field its own, until a field is assigned; and the root stays
a function of the state alone.

Hypothesis drives random worlds through creates, field writes, in-place list mutations,
component swaps and deletions; after every step the root must equal a full re-encoding
(``fresh=True``) and the root of a second world built straight into the same state.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import World, component
from engine._tracked import CACHE_SLOT, field_slot, is_tracked


@component
class Crate:
    """Tracked: it has a str and a tuple field."""

    label: str
    contents: tuple[int, ...] = ()
    weight: float = 0.0


@component
class Ledger:
    """Tracked, with a list field: a list is never cached, so in-place appends are seen."""

    entries: list[int] = dataclasses.field(default_factory=list)


@component
class Shelf:
    """Tracked, with a tuple kept field by field beside a list that never is: the whole
    encoding is never kept, the tuple's bytes are."""

    items: tuple[int, ...] = ()
    notes: list[int] = dataclasses.field(default_factory=list)
    count: int = 0


@component
class Speed:
    """All scalars: packed in one call each time, not tracked."""

    v: float = 0.0


labels = st.text(alphabet="abcxyz", max_size=4)
id_tuples = st.lists(st.integers(-5, 5), max_size=4).map(tuple)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_which_classes_are_tracked_and_that_they_still_behave_as_the_dataclass() -> None:
    assert is_tracked(Crate) and is_tracked(Ledger) and not is_tracked(Speed)
    crate = Crate("a", (1, 2), 3.0)
    assert repr(crate) == "Crate(label='a', contents=(1, 2), weight=3.0)"
    assert [f.name for f in dataclasses.fields(crate)] == ["label", "contents", "weight"]
    assert dataclasses.asdict(crate) == {"label": "a", "contents": (1, 2), "weight": 3.0}
    assert dataclasses.replace(crate, label="b") == Crate("b", (1, 2), 3.0)
    assert pickle.loads(pickle.dumps(crate)) == crate == copy.deepcopy(crate)


def test_an_assignment_drops_the_cached_encoding_and_a_copy_starts_without_one() -> None:
    world = World()
    crate = Crate("a", (1,))
    entity = world.create_entity(crate)
    before = world.state_hash(0)
    assert getattr(crate, CACHE_SLOT) is not None, "hashed once: cached"
    crate.contents = (1, 2)
    assert getattr(crate, CACHE_SLOT) is None
    changed = world.state_hash(0)
    assert changed.root != before.root and changed.root == world.state_hash(0, fresh=True).root
    world.add_component(entity, pickle.loads(pickle.dumps(crate)))  # unpickled: no slot value
    assert world.state_hash(0).root == changed.root


def test_a_field_keeps_its_bytes_until_it_is_assigned() -> None:
    world = World()
    crate = Crate("a", (1, 2))
    world.create_entity(crate)
    world.state_hash(0)
    label, contents = getattr(crate, field_slot("label")), getattr(crate, field_slot("contents"))
    assert label is not None and contents is not None
    crate.weight = 2.0  # a number: the other fields keep their bytes
    assert getattr(crate, CACHE_SLOT) is None
    assert getattr(crate, field_slot("label")) is label and getattr(crate, field_slot("contents")) is contents
    crate.contents = (3,)  # only the assigned field's bytes go
    assert getattr(crate, field_slot("contents")) is None and getattr(crate, field_slot("label")) is label
    assert world.state_hash(0).root == world.state_hash(0, fresh=True).root


def test_a_list_field_is_never_kept_and_keeps_its_whole_component_from_being_kept() -> None:
    world = World()
    shelf = Shelf((1,), [2])
    world.create_entity(shelf)
    first = world.state_hash(0).root
    assert getattr(shelf, field_slot("items")) is not None
    assert getattr(shelf, field_slot("notes"), None) is None and getattr(shelf, CACHE_SLOT, None) is None
    shelf.notes.append(3)
    assert world.state_hash(0).root != first
    assert world.state_hash(0).root == world.state_hash(0, fresh=True).root


def test_a_list_mutated_in_place_is_seen() -> None:
    world = World()
    ledger = Ledger([1])
    world.create_entity(ledger)
    first = world.state_hash(0).root
    ledger.entries.append(2)
    assert world.state_hash(0).root != first
    assert world.state_hash(0).root == world.state_hash(0, fresh=True).root


def _value(draw: Any, kind: str) -> Any:
    if kind == "crate":
        return Crate(draw(labels), draw(id_tuples), draw(st.floats(-2, 2, allow_nan=False)))
    if kind == "ledger":
        return Ledger(list(draw(id_tuples)))
    if kind == "shelf":
        return Shelf(draw(id_tuples), list(draw(id_tuples)), draw(st.integers(0, 3)))
    return Speed(draw(st.floats(-2, 2, allow_nan=False)))


def _rebuild(world: World, created: int) -> World:
    """A second world put straight into ``world``'s state: the same ids, each component a
    copy made in one go, never hashed before."""
    twin = World()
    for _ in range(created):
        twin.create_entity()
    for entity in range(1, created + 1):
        if world.entity_exists(entity):
            for part in world.components_for_entity(entity):
                twin.add_component(entity, copy.deepcopy(part))
        else:
            twin.delete_entity(entity)
    return twin


@FUZZ
@given(data=st.data())
def test_the_root_is_the_full_rehash_and_a_function_of_the_state(data: st.DataObject) -> None:
    world = World()
    created = 0
    kinds = st.sampled_from(["crate", "ledger", "shelf", "speed"])
    for _ in range(data.draw(st.integers(1, 12))):
        live = world.entities()
        op = data.draw(st.sampled_from(["create", "write", "append", "swap", "remove", "delete"]) if live else st.just("create"))
        if op == "create":
            world.create_entity(_value(data.draw, data.draw(kinds)))
            created += 1
        else:
            entity = data.draw(st.sampled_from(live))
            parts = world.components_for_entity(entity)
            if op == "delete":
                world.delete_entity(entity)
            elif op == "swap":
                world.add_component(entity, _value(data.draw, data.draw(kinds)))
            elif op == "remove" and parts:
                world.remove_component(entity, type(data.draw(st.sampled_from(parts))))
            for part in parts:
                if op == "write" and isinstance(part, Crate):
                    field = data.draw(st.sampled_from(["label", "contents", "weight"]))
                    setattr(part, field, getattr(_value(data.draw, "crate"), field))
                elif op == "write" and isinstance(part, Shelf):
                    field = data.draw(st.sampled_from(["items", "count"]))
                    setattr(part, field, getattr(_value(data.draw, "shelf"), field))
                elif op == "write" and isinstance(part, Speed):
                    part.v += 1.0
                elif op == "append" and isinstance(part, Ledger):
                    part.entries.append(data.draw(st.integers(-5, 5)))
                elif op == "append" and isinstance(part, Shelf):
                    part.notes.append(data.draw(st.integers(-5, 5)))
        root = world.state_hash(0).root
        assert root == world.state_hash(0, fresh=True).root, op
        assert root == _rebuild(world, created).state_hash(0).root, op
