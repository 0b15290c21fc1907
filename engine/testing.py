"""Replay tests for your own simulation, in one call.

    from engine.testing import assert_replays

    def test_my_sim_replays(tmp_path):
        assert_replays(build, {"stoves": 3}, seed=1, ticks=100, tmp_path=tmp_path)

``assert_replays`` records ``ticks`` ticks of ``factory(config, seed)`` (with any ``inputs``
you submit), then checks the three ways a simulation can fail to be deterministic:

1. the journal replayed in this process reproduces every tick hash (systems that read the
   clock, OS entropy, unsorted sets or thread timing fail here);
2. a second live run from the same inputs gives the same hashes (``rerun``; catches
   non-determinism in whatever *submits* inputs, which a replay takes from the journal);
3. a fresh Python process replays the journal to the same hashes (``subprocess``; catches
   ``hash()`` randomisation and state leaking from the recording process).

On failure it raises ``AssertionError`` naming the first divergent tick and the
(entity, component) pairs that differ. With pytest installed, the ``replay_check`` fixture
(``engine.pytest_plugin``, registered automatically) is the same function with ``tmp_path``
filled in.

The factory must be importable by name in a fresh process: define it in a module of your
package (or pass ``"path/to/file.py:build"``), not inside a test function.
"""

from __future__ import annotations

import os
import subprocess as _subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._factories import load_factory
from ._hashfile import read_hashes
from ._inputs import Input
from ._replay import replay_records
from ._run import Factory, start_run
from ._rundir import HASHES, open_journal
from ._verify import VerifyReport, divergence_at
from ._world import World

__all__ = ["ReplayCheck", "assert_replays"]

#: (apply tick, input) pairs a test submits before running.
Inputs = Iterable[tuple[int, Input]]


@dataclass(frozen=True)
class ReplayCheck:
    """A passed check: where the run was recorded and its hash per tick."""

    run_dir: Path
    hashes: list[str]


def assert_replays(
    factory: Factory | str,
    config: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    ticks: int = 100,
    tmp_path: str | Path | None = None,
    inputs: Inputs = (),
    rerun: bool = True,
    subprocess: bool = True,
) -> ReplayCheck:
    """Record, replay and compare; raise ``AssertionError`` at the first divergent tick.

    ``tmp_path`` is where the run is recorded (``<tmp_path>/run``; when omitted, a temporary
    directory removed before returning). ``rerun=False`` skips the second live run, for a
    world whose inputs come from a live model and legitimately differ between runs.
    """
    inputs = list(inputs)
    if tmp_path is None:
        with tempfile.TemporaryDirectory(prefix="tickmind-replay-") as tmp:
            return assert_replays(
                factory, config, seed=seed, ticks=ticks, tmp_path=tmp, inputs=inputs, rerun=rerun, subprocess=subprocess
            )
    run_dir = Path(tmp_path) / "run"
    with start_run(factory, config, seed, run_dir, force=True) as run:
        for tick, inp in inputs:
            run.world.submit(inp, tick)
        run.world.run(ticks)
    hashes = read_hashes(run_dir / HASHES)

    _check_in_process(run_dir, hashes)
    if rerun:
        _check_rerun(run_dir, hashes, inputs)
    if subprocess:
        _check_subprocess(run_dir)
    return ReplayCheck(run_dir, hashes)


def _check_in_process(run_dir: Path, hashes: list[str]) -> None:
    journal = open_journal(run_dir)
    # The run was recorded a moment ago from the factory the caller gave: its code is trusted.
    _compare("the journal replayed in this process", run_dir, replay_records(journal, trust=True), hashes)


def _check_rerun(run_dir: Path, hashes: list[str], inputs: list[tuple[int, Input]]) -> None:
    header = open_journal(run_dir).header
    world = load_factory(header.factory, trust=True)(header.config, header.seed)
    for tick, inp in inputs:
        world.submit(inp, tick)
    _compare("a second live run with the same inputs", run_dir, world, hashes)


def _compare(what: str, run_dir: Path, world: World, hashes: list[str]) -> None:
    try:
        for tick, recorded in enumerate(hashes):
            world.step()
            if world.state_root(tick) != recorded:
                report = VerifyReport(run_dir, len(hashes), tick, divergence_at(run_dir, world, tick, recorded))
                raise AssertionError(f"{what} diverged from the recorded run:\n{report.format()}")
    finally:
        world.close()


def _check_subprocess(run_dir: Path) -> None:
    # The child sees this process's import path, so a factory importable here is importable
    # there; and another string-hash seed than this process's, fixed or random (tox and many
    # CI images export one), so an order that hangs on hash() shows as a divergence.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "PYTHONHASHSEED": str(_other_hash_seed(os.environ.get("PYTHONHASHSEED"))),
    }
    done = _subprocess.run(
        [sys.executable, "-m", "engine", "verify", str(run_dir), "--trust"], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise AssertionError(
            f"a fresh Python process did not replay {run_dir} (exit {done.returncode}):\n"
            f"{done.stdout}{done.stderr}".rstrip()
        )


def _other_hash_seed(current: str | None) -> int:
    """A ``PYTHONHASHSEED`` for the child that differs from this process's: random (unset or
    "random") already differs in the child, but is only a fresh draw; a fixed one is moved."""
    if current is None or not current.isdigit():
        return int.from_bytes(os.urandom(4), "little") % 4_294_967_295 + 1
    return (int(current) + 1) % 4_294_967_296
