"""tickmind's pytest plugin (entry point ``pytest11``): the ``replay_check`` fixture.

    def test_my_sim_replays(replay_check):
        replay_check(build, {"stoves": 3}, seed=1, ticks=100)

is ``engine.testing.assert_replays`` recording into the test's own ``tmp_path``, so a failed
run stays on disk for ``tickmind verify``/``tickmind replay``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from .testing import ReplayCheck, assert_replays

__all__ = ["replay_check"]


@pytest.fixture
def replay_check(tmp_path: Path) -> Callable[..., ReplayCheck]:
    """``assert_replays`` with ``tmp_path`` bound to this test's temporary directory."""
    return partial(assert_replays, tmp_path=tmp_path)
