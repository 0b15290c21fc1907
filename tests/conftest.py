"""Shared fixtures: each test gets fresh worlds; nothing leaks between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine import World


@pytest.fixture
def world() -> Iterator[World]:
    w = World(seed=1234)
    yield w
    w.close()
