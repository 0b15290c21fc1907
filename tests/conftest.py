"""Shared fixtures: each test gets fresh worlds; nothing leaks between tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai import _actions
from engine import World


def _load_chaos_server() -> None:
    """Make ``import chaos_server`` work in every test module: ``--import-mode=importlib``
    puts no test folder on ``sys.path``, and its dataclasses resolve their module by name."""
    spec = importlib.util.spec_from_file_location("chaos_server", Path(__file__).with_name("chaos_server.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chaos_server"] = module
    spec.loader.exec_module(module)


_load_chaos_server()


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
