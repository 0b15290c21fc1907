"""Running a sweep: every seed a separate run, on a local process pool or on Ray.

Seeds already finished in the directory (``done.json`` for the same spec) are skipped, so a
killed sweep run again finishes only what is missing. Runs go to a
``concurrent.futures.ProcessPoolExecutor`` (spawned processes, ``workers`` of them; one
worker runs in this process), or, with ``ray=True`` or an ``address``, to Ray tasks
(``pip install 'tickmind[ray]'``; a cluster at ``address`` needs tickmind installed on its
nodes). When all runs are done the aggregate goes to ``sweep.json`` and ``sweep.tsv``.
"""

from __future__ import annotations

import math
import multiprocessing
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from ._sweep_rates import slot_rates
from ._sweep_run import finished_summary, run_seed
from ._sweep_spec import SweepError, SweepSpec, prepare_sweep_dir, swap_planners, write_json
from ._world import arena_scenario

__all__ = ["aggregate", "format_table", "run_sweep", "seed_dir"]

Report = Callable[[str], None]


def seed_dir(out: Path, seed: int, swapped: bool = False) -> Path:
    """A game's run directory: ``seed-S``, and ``seed-S-swapped`` for its sides swapped."""
    return out / (f"seed-{seed}-swapped" if swapped else f"seed-{seed}")


Game = tuple[int, bool]  #: (seed, swapped)


def run_sweep(
    spec: SweepSpec,
    seeds: list[int],
    out: Path,
    *,
    workers: int = 1,
    ray: bool = False,
    address: str | None = None,
    check: bool = False,
    force: bool = False,
    report: Report = print,
) -> dict[str, Any]:
    """Run every seed not yet finished, then write and return the aggregate over all seeds."""
    if not seeds:
        raise SweepError("--seeds names no seed")
    teams = [team.name for team in arena_scenario(spec.arena_config()).teams]  # a bad scenario fails here, once
    if spec.swap_sides:
        swap_planners(spec.planners_by_team(teams))  # two teams, or a one-line refusal now
    prepare_sweep_dir(out, spec, force)
    data = spec.to_json()
    games: list[Game] = [(seed, swapped) for seed in seeds for swapped in ((False, True) if spec.swap_sides else (False,))]
    done: dict[Game, dict[str, Any]] = {}
    for game in games:
        summary = None if force else finished_summary(seed_dir(out, *game), data, *game)
        if summary is not None:
            done[game] = summary
    todo = [g for g in games if g not in done]
    if spec.asks_model:  # one model serves the machine: games in turn, each the arena's own
        workers, ray, address = 1, False, None
    backend = "ray" if ray or address else (f"{workers} process(es)" if workers > 1 else "this process")
    counted = f"{len(games)} game(s) of {len(seeds)} seed(s), sides swapped" if spec.swap_sides else f"{len(seeds)} seed(s)"
    report(f"sweep: {counted}, {len(done)} already done, {len(todo)} to run on {backend}")
    runs = _on_ray(data, todo, out, check, address) if ray or address else _on_pool(data, todo, out, check, workers)
    with _progress(len(todo), report) as tick:
        for summary in runs:
            done[(summary["seed"], summary.get("swapped", False))] = summary
            tick(_line(summary))
    result = aggregate([done[g] for g in games], spec.slots(teams) if len(teams) == 2 else None, teams)
    result["spec"] = data
    write_json(out / "sweep.json", result)
    _write_tsv(out / "sweep.tsv", result)
    return result


def _on_pool(spec: dict[str, Any], games: list[Game], out: Path, check: bool, workers: int) -> Iterator[dict[str, Any]]:
    if workers <= 1 or len(games) <= 1:
        for seed, swapped in games:
            yield run_seed(spec, seed, str(seed_dir(out, seed, swapped)), check, swapped)
        return
    # spawn, not fork: a forked child would inherit this process's threads' locks mid-use
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(games)), mp_context=context) as pool:
        futures = [pool.submit(run_seed, spec, seed, str(seed_dir(out, seed, swapped)), check, swapped) for seed, swapped in games]
        for future in as_completed(futures):
            yield future.result()


def _on_ray(spec: dict[str, Any], games: list[Game], out: Path, check: bool, address: str | None) -> Iterator[dict[str, Any]]:
    try:
        import ray  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise SweepError("--ray/--address need Ray: pip install 'tickmind[ray]' (or drop them for a local pool)") from None
    if not games:
        return
    ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
    task = ray.remote(run_seed)
    pending = [task.remote(spec, seed, str(seed_dir(out, seed, swapped).resolve()), check, swapped) for seed, swapped in games]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])


class _progress:
    """A rich progress bar on a terminal (when rich is installed), plain lines otherwise."""

    def __init__(self, total: int, report: Report) -> None:
        self.total, self.report, self.count, self.bar = total, report, 0, None
        if total and sys.stdout.isatty() and report is print:
            try:
                from rich.progress import Progress
            except ImportError:
                return
            self.bar = Progress(transient=False)

    def __enter__(self) -> Callable[[str], None]:
        if self.bar is not None:
            self.bar.start()
            self.task = self.bar.add_task("runs", total=self.total)
        return self._tick

    def _tick(self, line: str) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.console.print(line)
            self.bar.advance(self.task)
        else:
            self.report(f"[{self.count}/{self.total}] {line}")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _line(summary: dict[str, Any]) -> str:
    winner = f"{summary['winner']} won" if summary["winner"] else "no winner (tick limit)"
    verified = summary.get("verified")
    checked = "" if verified is None else ", verified" if verified else ", DIVERGED on verify"
    side = ", sides swapped" if summary.get("swapped") else ""
    return f"seed {summary['seed']}{side}: {winner} after {summary['ticks']} ticks ({summary['wall_seconds']:.1f} s{checked})"


def aggregate(runs: list[dict[str, Any]], slots: dict[str, str] | None = None, teams: list[str] | None = None) -> dict[str, Any]:
    """Winner counts, mean/std of ticks, mean survivors per team, over ``runs``; with
    ``slots`` (two teams' planners, :meth:`SweepSpec.slots`) also each planner's results."""
    ticks = [r["ticks"] for r in runs]
    teams = teams or sorted({t for r in runs for t in r["survivors"]})
    result = {
        "runs": runs,
        "count": len(runs),
        "winners": dict(sorted(Counter(r["winner"] or "none" for r in runs).items())),
        "ticks_mean": statistics.fmean(ticks) if ticks else math.nan,
        "ticks_std": statistics.pstdev(ticks) if ticks else math.nan,
        "survivors_mean": {t: statistics.fmean(r["survivors"].get(t, 0) for r in runs) for t in sorted(teams)},
        "unverified": sorted(r["seed"] for r in runs if r.get("verified") is False),
    }
    if slots is not None:
        result["planners"] = slot_rates(runs, slots, teams)
    return result


def _write_tsv(path: Path, result: dict[str, Any]) -> None:
    """One row per game, then (after a blank line) one per planner slot."""
    runs = result["runs"]
    teams = sorted({t for r in runs for t in r["survivors"]})
    header = ["seed", "winner", "ticks", *(f"survivors_{t}" for t in teams), "shots", "hits", "wall_seconds", "swapped"]
    rows = [
        [r["seed"], r["winner"] or "none", r["ticks"], *(r["survivors"].get(t, 0) for t in teams),
         r["shots"], r["hits"], r["wall_seconds"], int(bool(r.get("swapped")))]
        for r in runs
    ]  # fmt: skip
    lines = ["\t".join(str(v) for v in row) for row in [header, *rows]]
    if "planners" in result:
        lines += ["", "\t".join(["slot", *_RATE_COLUMNS])]
        for slot, rates in result["planners"].items():
            lines.append("\t".join(str(v) for v in [slot, *_rate_values(rates)]))
    path.write_text("\n".join(lines) + "\n")


_RATE_COLUMNS = ["planner", "games", "wins", "losses", "draws", "win_rate", "win_rate_95_low", "win_rate_95_high",
                 "survivors_mean", "decided_tick_mean"]  # fmt: skip


def _rate_values(rates: dict[str, Any]) -> list[object]:
    low, high = rates["win_rate_95"]
    decided = rates["decided_tick_mean"]
    return [rates["planner"], rates["games"], rates["wins"], rates["losses"], rates["draws"], f"{rates['win_rate']:.4f}",
            low, high, f"{rates['survivors_mean']:.2f}", "none" if decided is None else f"{decided:.1f}"]  # fmt: skip


def format_table(result: dict[str, Any]) -> str:
    """The aggregate as a few aligned lines for the terminal."""
    winners = ", ".join(f"{name} {n}" for name, n in result["winners"].items())
    survivors = ", ".join(f"{t} {m:.1f}" for t, m in result["survivors_mean"].items())
    lines = [
        f"runs       {result['count']}",
        f"winners    {winners}",
        f"ticks      mean {result['ticks_mean']:.1f}, std {result['ticks_std']:.1f}",
        f"survivors  mean {survivors}",
    ]
    for slot, rates in result.get("planners", {}).items():
        low, high = rates["win_rate_95"]
        decided = rates["decided_tick_mean"]
        lines.append(
            f"planner {slot}  {rates['planner']}: {rates['wins']} won, {rates['losses']} lost, {rates['draws']} drawn; "
            f"win rate {rates['win_rate']:.0%} (95% {low:.0%}-{high:.0%}), survivors {rates['survivors_mean']:.1f}, "
            f"wins decided at tick {'-' if decided is None else f'{decided:.0f}'}"
        )
    return "\n".join(lines)
