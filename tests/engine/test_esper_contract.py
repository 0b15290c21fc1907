"""What World relies on in esper's internals (engine/_esper_context.py): each context keeps
one entity table for its lifetime, across switches and clears, so a World can read its own
table without switching context. If an esper release breaks this, this test says so first."""

import esper

from engine import World
from engine._esper_context import entity_table


def test_a_context_keeps_its_table_across_switches_and_clears() -> None:
    esper.switch_world("contract-a")
    table = entity_table()
    entity = esper.create_entity("a")
    esper.switch_world("contract-b")
    esper.create_entity("b", 2)
    esper.switch_world("contract-a")
    assert entity_table() is table and table == {entity: {str: "a"}}
    esper.clear_database()
    assert entity_table() is table and table == {}
    esper.switch_world("default")
    esper.delete_world("contract-a")
    esper.delete_world("contract-b")


def test_two_worlds_read_their_own_components_without_switching() -> None:
    first, second = World(seed=1), World(seed=2)
    a = first.create_entity(1.5)
    b = second.create_entity(2.5)
    assert (a, b) == (1, 1)
    assert first.component_for_entity(a, float) == 1.5  # second's context is the current one
    assert second.try_component(b, float) == 2.5
    first.close()
    second.close()
