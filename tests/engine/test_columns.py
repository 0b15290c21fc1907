"""Column storage (engine/_columns.py): a ``columns=True`` component lives in numpy arrays
indexed by entity id, its instances are views of their rows, and the state hash packs the
arrays into exactly the bytes the per-instance encoding gives.

Hypothesis drives two worlds through the same random creates, field writes (through an
instance and through ``World.columns``), replacements, removals and deletions: one holds the
columnar class, the other a plain class of the same name and fields. After every step their
roots and their per-(entity, component) detail must be equal, and equal to a full
per-instance re-encoding (``fresh=True``).
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

from engine import ComponentError, Position, World, component
from engine._columns import is_columnar
from tests.engine.column_mirror import STRUCTURAL, Mirror, play_mirrored


@component(name="test.Gauge", columns=True)
class Gauge:
    level: float
    count: int = 0


@component(name="test.Gauge")
class PlainGauge:
    level: float
    count: int = 0


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
levels = st.floats(allow_nan=True, allow_infinity=True, width=64)
counts = st.integers(-(2**63), 2**63 - 1)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("create"), levels, counts),
        st.tuples(st.just("write_level"), st.integers(0, 9), levels),
        st.tuples(st.just("write_count"), st.integers(0, 9), counts),
        st.tuples(st.just("column_write"), st.integers(0, 9), levels),
        st.tuples(st.just("replace"), st.integers(0, 9), levels),
        *STRUCTURAL,
    ),
    max_size=30,
)


class _Mirror(Mirror):
    def make(self, a: Any, b: Any) -> Any:
        return self.cls(a, b)

    def write(self, op: str, entity: int, current: Any, b: Any) -> None:
        if op == "write_level":
            current.level = b
        elif op == "write_count":
            current.count = b
        elif op == "column_write":
            if is_columnar(self.cls):
                self.world.columns(self.cls).set("level", np.array([b]), np.array([entity]))
            else:
                current.level = b
        elif op == "replace":
            self.world.add_component(entity, self.cls(b, current.count))


@FUZZ
@given(ops)
def test_a_columnar_world_hashes_as_a_plain_one_after_every_step(steps: list[tuple[str, Any, Any]]) -> None:
    play_mirrored(steps, _Mirror(Gauge), _Mirror(PlainGauge), _same_numbers)


def _same_numbers(mine: Any, twin: Any) -> None:
    assert dataclasses.astuple(mine) == pytest.approx(dataclasses.astuple(twin), nan_ok=True)


def test_an_instance_is_a_view_of_its_row_until_it_leaves_the_world() -> None:
    world = World()
    gauge = Gauge(1.5, 2)
    entity = world.create_entity(gauge)
    columns = world.columns(Gauge)
    assert columns.entities.tolist() == [entity]
    columns.set("level", np.array([7.25]))
    assert gauge.level == 7.25, "a column write is seen through the instance"
    gauge.count = 9
    assert columns.get("count").tolist() == [9], "an instance write lands in the column"
    assert world.columns(Gauge).get(("level", "count")).tolist() == [[7.25, 9.0]]

    taken = world.remove_component(entity, Gauge)
    assert taken is gauge and (gauge.level, gauge.count) == (7.25, 9)
    gauge.level = 3.0  # a plain object again: nothing in the world changes
    assert len(world.columns(Gauge)) == 0

    other = world.create_entity(gauge)
    world.delete_entity(other)
    assert gauge.level == 3.0, "a deleted entity's instance keeps its values"


def test_a_replaced_instance_keeps_its_values_and_the_new_one_takes_the_row() -> None:
    world = World()
    old = Gauge(1.0, 1)
    entity = world.create_entity(old)
    new = Gauge(2.0, 2)
    world.add_component(entity, new)
    assert (old.level, old.count) == (1.0, 1)
    old.level = 5.0
    assert world.component_for_entity(entity, Gauge) is new and new.level == 2.0
    assert world.columns(Gauge).get("level").tolist() == [2.0]
    world.add_component(entity, new)  # the same instance again: nothing to do
    assert new.level == 2.0


def test_an_instance_belongs_to_one_entity() -> None:
    world, other_world = World(), World()
    gauge = Gauge(1.0)
    first = world.create_entity(gauge)
    second = world.create_entity()
    with pytest.raises(ComponentError, match=f"already belongs to entity {first}"):
        world.add_component(second, gauge)
    with pytest.raises(ComponentError, match="already belongs"):
        other_world.create_entity(gauge)
    with pytest.raises(ComponentError, match="already belongs"):
        world.create_entity(Gauge(2.0), gauge)
    gauge.level = 4.0
    assert world.columns(Gauge).get("level").tolist() == [4.0], "the refused create left it where it was"
    assert world.entities() == [first, second]
    assert other_world.entities() == [], "a refused create leaves no entity behind"
    world.add_component(second, dataclasses.replace(gauge))
    assert world.columns(Gauge).get("level").tolist() == [4.0, 4.0]


def test_a_value_the_column_cannot_hold_is_refused_where_it_is_written() -> None:
    world = World()
    entity = world.create_entity(Gauge(1.0, 1))
    gauge = world.component_for_entity(entity, Gauge)
    with pytest.raises(ComponentError, match=rf"entity {entity} component Gauge: field 'count' takes an int"):
        gauge.count = 1.5
    with pytest.raises(ComponentError, match="field 'level' takes a float"):
        gauge.level = "high"
    with pytest.raises(ComponentError, match="field 'count' takes an int"):
        world.create_entity(Gauge(1.0, 2**64))
    assert world.entities() == [entity]
    assert (gauge.level, gauge.count) == (1.0, 1), "a refused write changes nothing"
    with pytest.raises(ComponentError, match="an int field takes whole numbers"):
        world.columns(Gauge).set("count", np.array([1.5]))
    with pytest.raises(ComponentError, match=r"takes an \(n, 2\) array"):
        world.columns(Gauge).set(("level", "count"), np.array([1.0]))
    with pytest.raises(ComponentError, match="has no field 'depth'"):
        world.columns(Gauge).get("depth")
    bare = world.create_entity()
    with pytest.raises(ComponentError, match=rf"entities \[{bare}\] have no Gauge"):
        world.columns(Gauge).get("level", np.array([bare]))
    with pytest.raises(ComponentError, match="is not stored in columns"):
        world.columns(PlainGauge)


@pytest.mark.parametrize(
    ("field", "values", "why"),
    [
        ("level", [None], "a float field takes real numbers, got objects such as None"),
        ("level", np.array([1 + 2j]), "got complex numbers"),
        ("level", ["a"], "got strings"),
        ("count", np.array([2**64 - 1], dtype=np.uint64), "takes 64-bit whole numbers, got 18446744073709551615"),
        ("count", [2**63], "takes 64-bit whole numbers"),
        ("count", [2.0**63], "takes 64-bit whole numbers, got 9223372036854775808"),  # [2**63, -1] is this
        ("count", [2**70], "takes 64-bit whole numbers, got 1180591620717411303424"),  # numpy holds it as an object
        ("count", [float("nan")], "takes whole numbers, got nan"),
        ("count", [[1], [1, 2]], "values are not an array of numbers"),
    ],
)
def test_columns_refuse_a_value_they_would_change(field: str, values: Any, why: str) -> None:
    world = World()
    world.create_entity(Gauge(1.0, 1))
    with pytest.raises(ComponentError, match=f"Columns.set of Gauge.*{why}"):
        world.columns(Gauge).set(field, values)
    assert world.columns(Gauge).get(["level", "count"]).tolist() == [[1.0, 1.0]], "nothing was written"


@pytest.mark.parametrize("ids", [[1.7], ["1"], [2**70], [[1]]])
def test_columns_take_whole_entity_ids_only(ids: Any) -> None:
    world = World()
    world.create_entity(Gauge(1.0))
    with pytest.raises(ComponentError, match="entities= takes a 1-d array of whole entity ids"):
        world.columns(Gauge).get("level", entities=ids)


def test_columns_of_a_moment_refuse_entities_that_lost_the_component() -> None:
    world = World()
    first, second = world.create_entity(Gauge(1.0)), world.create_entity(Gauge(2.0))
    taken = world.columns(Gauge)
    world.remove_component(second, Gauge)
    with pytest.raises(ComponentError, match=rf"entities \[{second}\] lost their Gauge after this Columns was taken"):
        taken.set("level", [5.0, 6.0])
    assert world.columns(Gauge).get("level").tolist() == [1.0], "the refused write left the freed row alone"
    world.add_component(second, Gauge(3.0))
    assert taken.get("level").tolist() == [1.0, 3.0], "back in the world: its row is its own again"
    assert len(taken) == 2 and taken.entities.tolist() == [first, second]


def test_columns_broadcast_a_number_and_take_back_what_they_gave() -> None:
    world = World()
    for i in range(3):
        world.create_entity(Gauge(float(i), i))
    gauges = world.columns(Gauge)
    both = gauges.get(["level", "count"])  # float64 for both fields
    gauges.set(["level", "count"], both[::-1].copy())
    assert gauges.get("count").tolist() == [2, 1, 0]
    gauges.set("level", 0.5)
    gauges.set(["level", "count"], 7)
    assert gauges.get(["level", "count"]).tolist() == [[7.0, 7.0]] * 3
    with pytest.raises(ComponentError, match="needs at least one field name"):
        gauges.get([])


def test_create_entity_keeps_the_last_of_one_type_and_leaves_the_others_plain() -> None:
    world, other_world = World(), World()
    dropped, kept = Gauge(1.0), Gauge(2.0)
    entity = world.create_entity(dropped, kept)
    assert world.component_for_entity(entity, Gauge) is kept
    dropped.level = 9.0  # a plain object: no row of the world changes
    assert world.columns(Gauge).get("level").tolist() == [2.0]
    with pytest.raises(ComponentError, match=f"already belongs to entity {entity} of another World"):
        other_world.create_entity(kept)


def test_a_column_class_still_behaves_as_the_dataclass() -> None:
    world = World()
    gauge = Gauge(1.5, 3)
    world.create_entity(gauge)
    assert repr(gauge) == "Gauge(level=1.5, count=3)"
    assert [f.name for f in dataclasses.fields(gauge)] == ["level", "count"]
    assert dataclasses.asdict(gauge) == {"level": 1.5, "count": 3}
    assert gauge == Gauge(1.5, 3) and gauge != Gauge(1.5, 4)
    for twin in (copy.copy(gauge), copy.deepcopy(gauge), pickle.loads(pickle.dumps(gauge)), dataclasses.replace(gauge)):
        assert twin == gauge and twin is not gauge
        twin.level = 0.0  # a copy is in no world
        assert gauge.level == 1.5
    assert isinstance(gauge.count, int) and isinstance(gauge.level, float)


def test_columns_refuse_a_class_they_cannot_store() -> None:
    with pytest.raises(ComponentError, match="field 'label' is"):

        @component(name="test.Labelled", columns=True)
        class Labelled:
            label: str

    with pytest.raises(ComponentError, match="needs a plain class"):

        @component(name="test.Made", columns=True)
        @dataclasses.dataclass
        class Made:
            x: float


def test_the_engine_keeps_positions_and_velocities_in_columns() -> None:
    from engine import DesiredVelocity, Velocity

    assert all(map(is_columnar, (Position, Velocity, DesiredVelocity)))
    world = World()
    entities = [world.create_entity(Position(float(i), -float(i))) for i in range(1, 6)]
    world.delete_entity(entities[1])
    columns = world.columns(Position)
    assert columns.entities.tolist() == [entities[0], *entities[2:]], "ascending entity ids"
    assert columns.get(("x", "y")).tolist() == [[1.0, -1.0], [3.0, -3.0], [4.0, -4.0], [5.0, -5.0]]
