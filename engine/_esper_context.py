"""The one place tickmind reads esper's internals: a context's entity table.

Why: executors and systems look components up thousands of times a tick. esper's own
``try_component`` reads the *current* context's table, so a World would have to switch
context before every lookup. esper swaps its module globals on ``switch_world`` but keeps
each context's ``{entity: {type: component}}`` dict object for the context's lifetime
(``clear_database`` empties it in place), so a World holds its own dict and reads it
directly. ``tests/engine/test_esper_contract.py`` checks that esper still behaves so, and
pyproject pins esper below 4.
"""

from __future__ import annotations

from typing import Any

import esper

__all__ = ["entity_table"]


def entity_table() -> dict[int, dict[type, Any]]:
    """The current esper context's entity -> {type: component} dict, live for the context's
    lifetime (call it right after switching to the context)."""
    table: dict[int, dict[type, Any]] = esper._entities
    return table
