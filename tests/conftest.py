"""Shared fixtures: each test gets fresh worlds; nothing leaks between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ai import _actions
from engine import World


@pytest.fixture(autouse=True)
def _registered_actions_are_restored() -> Iterator[None]:
    """A test that registers an action (``@register_action``) keeps it to itself: the
    registry is process-wide, and a leaked action would be offered by the library tiers
    (``FULL_TIER`` offers every registered action) in every later test that uses them (the
    real model then writes it, and the plan-lines wire refuses its fields). The arena is
    immune: it offers only the actions it has executors for (``arena_tiers``)."""
    saved = dict(_actions._actions)
    yield
    if _actions._actions != saved:
        _actions._actions.clear()
        _actions._actions.update(saved)
        _actions._adapter = None


@pytest.fixture
def world() -> Iterator[World]:
    w = World(seed=1234)
    yield w
    w.close()
