"""One run of a sweep: record a seed's arena game into its run directory, then mark it done.

This is the task a worker (a pool process or a Ray task) executes; it takes and returns
plain data so it pickles. The completion marker ``done.json`` is written last, atomically,
after the run's files are closed (and verified, with ``verify=True``): a run directory
without it was interrupted and is redone from scratch, one with it is never run again.

Model-planned sweeps (later): the place to attach a ``BatchExecutor`` is ``run_seed``,
before the loop. All runs share one model server, so the client each run builds must draw on
a limit global to the sweep (a Ray actor or a multiprocessing semaphore passed in with the
task) rather than a per-run ``max_concurrency``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from engine import start_run, verify

from ._combat import ArenaScore
from ._sweep_spec import SweepError, SweepSpec, write_json
from ._world import ArenaOutcome, arena_scenario, build_arena

__all__ = ["DONE_FILE", "finished_summary", "run_seed"]

DONE_FILE = "done.json"


def run_seed(spec: dict[str, Any], seed: int, run_dir: str, check: bool = False, swapped: bool = False) -> dict[str, Any]:
    """Play seed ``seed`` of the sweep ``spec`` (a ``SweepSpec.to_json()``) into ``run_dir``
    (``swapped``: its second game, the teams' planners exchanged)."""
    sweep = SweepSpec(**spec)
    out = Path(run_dir)
    (out / DONE_FILE).unlink(missing_ok=True)
    started = time.perf_counter()
    summary: dict[str, Any] = {"seed": seed, "swapped": swapped, "spec": spec}
    if sweep.asks_model:
        summary.update(_model_game(sweep, seed, out, swapped))
    else:
        summary.update(_heuristic_game(sweep, seed, out, swapped))
    if check:
        report = verify(out)
        summary["verified"] = report.ok
        if not report.ok:
            summary["verify_report"] = report.format()
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    write_json(out / DONE_FILE, summary)
    return summary


def _heuristic_game(sweep: SweepSpec, seed: int, out: Path, swapped: bool) -> dict[str, Any]:
    config = sweep.arena_config(swapped)
    limit = sweep.ticks if sweep.ticks is not None else arena_scenario(config).sim.max_ticks
    with start_run(build_arena, config, seed, out, force=True) as run:
        world = run.world
        outcome = world.resource(ArenaOutcome)
        while world.tick < limit and outcome.winner is None:
            world.step()
        score = world.resource(ArenaScore)
        result = {
            "winner": outcome.winner,
            "ticks": world.tick,
            "survivors": dict(zip(outcome.teams, outcome.alive)),
            "shots": score.shots,
            "hits": score.hits,
        }
    world.close()
    return result


def _model_game(sweep: SweepSpec, seed: int, out: Path, swapped: bool) -> dict[str, Any]:
    """A model-planned game, played by ``tickmind arena`` in this process; what its summary
    says, with each team's model share."""
    from engine.cli import main  # the arena command, as a user runs it

    argv = sweep.arena_argv(seed, str(out), swapped)
    if main(argv) != 0:
        raise SweepError(f"seed {seed}{' (sides swapped)' if swapped else ''}: `tickmind {' '.join(argv)}` failed (above)")
    played = json.loads((out / "summary.json").read_text())
    keys = ("winner", "ticks", "survivors", "shots", "hits", "model_share")
    return {key: played.get(key) for key in keys} | {"per_team": played.get("per_team")}
def finished_summary(run_dir: Path, spec: dict[str, Any], seed: int, swapped: bool = False) -> dict[str, Any] | None:
    """The summary of a finished run of this spec, seed and side in ``run_dir``, else None."""
    try:
        summary = json.loads((run_dir / DONE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict) or summary.get("spec") != spec or summary.get("seed") != seed:
        return None
    if summary.get("swapped", False) != swapped:
        return None
    return summary
