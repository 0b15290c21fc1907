"""The op-driven world the column storage fuzz tests share: the same random steps run on a
world holding a columnar class and on one holding a plain class of the same name, so the
two can be compared after every step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from engine import World

#: Steps every mirror takes: take a component off, put it back, delete its entity.
STRUCTURAL = (
    st.tuples(st.just("remove"), st.integers(0, 9), st.none()),
    st.tuples(st.just("readd"), st.integers(0, 9), st.none()),
    st.tuples(st.just("delete"), st.integers(0, 9), st.none()),
)


class Mirror:
    """One world and the instances it was given, driven by an op list.

    ``create`` makes an entity from ``make(a, b)``; ``remove``, ``readd`` and ``delete`` act on
    the ``a``-th live entity; any other op is the subclass's ``write(op, entity, current, b)``
    on an entity that still has the component.
    """

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.world = World()
        self.entities: list[int] = []
        self.removed: dict[int, Any] = {}  # entity -> its instance, taken off

    def make(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def write(self, op: str, entity: int, current: Any, b: Any) -> None:
        raise NotImplementedError

    def apply(self, op: str, a: Any, b: Any) -> None:
        world, cls = self.world, self.cls
        if op == "create":
            self.entities.append(world.create_entity(self.make(a, b)))
            return
        live = [e for e in self.entities if world.entity_exists(e)]
        if not live:
            return
        entity = live[a % len(live)]
        current = world.try_component(entity, cls)
        if op == "readd":
            if current is None and entity in self.removed:
                world.add_component(entity, self.removed.pop(entity))
        elif op == "delete":
            world.delete_entity(entity)
        elif current is None:
            return
        elif op == "remove":
            self.removed[entity] = world.remove_component(entity, cls)
        else:
            self.write(op, entity, current, b)


def play_mirrored(steps: list[tuple[str, Any, Any]], columnar: Mirror, plain: Mirror, same: Callable[[Any, Any], None]) -> None:
    """Take ``steps`` in both worlds; after each, their roots, their detail and a full
    re-encoding of the columnar world must agree, and ``same(mine, twin)`` hold for every
    instance in the world and every one taken off."""
    for op, a, b in steps:
        columnar.apply(op, a, b)
        plain.apply(op, a, b)
        got, want = columnar.world.state_hash(0), plain.world.state_hash(0)
        assert got.root == want.root == columnar.world.state_hash(0, fresh=True).root
        assert got.detail() == want.detail()
        twins: tuple[tuple[int, Any], ...] = plain.world.get_component(plain.cls)
        for entity, twin in twins:
            same(columnar.world.component_for_entity(entity, columnar.cls), twin)
    for entity, instance in columnar.removed.items():  # it keeps the values its row had
        same(instance, plain.removed[entity])
