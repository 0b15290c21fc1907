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

from ._sweep_run import finished_summary, run_seed
from ._sweep_spec import SweepError, SweepSpec, prepare_sweep_dir, write_json
from ._world import arena_scenario

__all__ = ["aggregate", "format_table", "run_sweep", "seed_dir"]

Report = Callable[[str], None]


def seed_dir(out: Path, seed: int) -> Path:
    return out / f"seed-{seed}"


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
    arena_scenario(spec.arena_config())  # a bad scenario fails here, once, not in every worker
    prepare_sweep_dir(out, spec, force)
    data = spec.to_json()
    done: dict[int, dict[str, Any]] = {}
    for seed in seeds:
        summary = None if force else finished_summary(seed_dir(out, seed), data, seed)
        if summary is not None:
            done[seed] = summary
    todo = [s for s in seeds if s not in done]
    backend = "ray" if ray or address else (f"{workers} process(es)" if workers > 1 else "this process")
    report(f"sweep: {len(seeds)} seed(s), {len(done)} already done, {len(todo)} to run on {backend}")
    runs = _on_ray(data, todo, out, check, address) if ray or address else _on_pool(data, todo, out, check, workers)
    with _progress(len(todo), report) as tick:
        for summary in runs:
            done[summary["seed"]] = summary
            tick(_line(summary))
    result = aggregate([done[s] for s in seeds])
    result["spec"] = data
    write_json(out / "sweep.json", result)
    _write_tsv(out / "sweep.tsv", result["runs"])
    return result


def _on_pool(spec: dict[str, Any], seeds: list[int], out: Path, check: bool, workers: int) -> Iterator[dict[str, Any]]:
    if workers <= 1 or len(seeds) <= 1:
        for seed in seeds:
            yield run_seed(spec, seed, str(seed_dir(out, seed)), check)
        return
    # spawn, not fork: a forked child would inherit this process's threads' locks mid-use
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(seeds)), mp_context=context) as pool:
        futures = [pool.submit(run_seed, spec, seed, str(seed_dir(out, seed)), check) for seed in seeds]
        for future in as_completed(futures):
            yield future.result()


def _on_ray(spec: dict[str, Any], seeds: list[int], out: Path, check: bool, address: str | None) -> Iterator[dict[str, Any]]:
    try:
        import ray  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise SweepError("--ray/--address need Ray: pip install 'tickmind[ray]' (or drop them for a local pool)") from None
    if not seeds:
        return
    ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
    task = ray.remote(run_seed)
    pending = [task.remote(spec, seed, str(seed_dir(out, seed).resolve()), check) for seed in seeds]
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
    return f"seed {summary['seed']}: {winner} after {summary['ticks']} ticks ({summary['wall_seconds']:.1f} s{checked})"


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Winner counts, mean/std of ticks, mean survivors per team, over ``runs``."""
    ticks = [r["ticks"] for r in runs]
    teams = sorted({t for r in runs for t in r["survivors"]})
    return {
        "runs": runs,
        "count": len(runs),
        "winners": dict(sorted(Counter(r["winner"] or "none" for r in runs).items())),
        "ticks_mean": statistics.fmean(ticks) if ticks else math.nan,
        "ticks_std": statistics.pstdev(ticks) if ticks else math.nan,
        "survivors_mean": {t: statistics.fmean(r["survivors"].get(t, 0) for r in runs) for t in teams},
        "unverified": sorted(r["seed"] for r in runs if r.get("verified") is False),
    }


def _write_tsv(path: Path, runs: list[dict[str, Any]]) -> None:
    teams = sorted({t for r in runs for t in r["survivors"]})
    header = ["seed", "winner", "ticks", *(f"survivors_{t}" for t in teams), "shots", "hits", "wall_seconds"]
    rows = [
        [r["seed"], r["winner"] or "none", r["ticks"], *(r["survivors"].get(t, 0) for t in teams), r["shots"], r["hits"], r["wall_seconds"]]
        for r in runs
    ]
    path.write_text("\n".join("\t".join(str(v) for v in row) for row in [header, *rows]) + "\n")


def format_table(result: dict[str, Any]) -> str:
    """The aggregate as a few aligned lines for the terminal."""
    winners = ", ".join(f"{name} {n}" for name, n in result["winners"].items())
    survivors = ", ".join(f"{t} {m:.1f}" for t, m in result["survivors_mean"].items())
    return "\n".join(
        [
            f"runs       {result['count']}",
            f"winners    {winners}",
            f"ticks      mean {result['ticks_mean']:.1f}, std {result['ticks_std']:.1f}",
            f"survivors  mean {survivors}",
        ]
    )
