"""What a misbehaving model server costs a run: plans per second and tier mix per fault mix,
against a clean server, measured in the same run.

Each row is one ``tickmind arena`` (in-process, 100 agents, replans every 25 ticks, 16
requests in flight) against tests/chaos_server.py with one fault mix:

- **clean**: every answer valid and instant;
- **transport**: slow first byte, stall, timeout, 429, 500/503, reset, truncated;
- **content**: invalid JSON, wrong ids, duplicates, a 10 MB runaway answer, out of bounds,
  prompt injection, non-UTF-8;
- **all**: both kinds.

``--rate`` is the share of requests that get a fault. The per-request timeout is 1 s
(``--llm-timeout``). Columns: wall seconds,
plans applied per wall second (all tiers, then model tiers only), the tier mix, requests
the server saw and faults it injected, and model plans/s as a ratio of the clean row of the
same mode. Each row is one run, after one untimed clean run that loads what a first arena
run loads.

    .venv/bin/python bench/chaos.py [--ticks 300] [--rate 0.3] [--modes lockstep realtime] [--backend openai]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.cli import main  # noqa: E402

_spec = importlib.util.spec_from_file_location("chaos_server", ROOT / "tests" / "chaos_server.py")
assert _spec is not None and _spec.loader is not None
chaos = importlib.util.module_from_spec(_spec)
sys.modules["chaos_server"] = chaos
_spec.loader.exec_module(chaos)
Fault = chaos.Fault

TRANSPORT, CONTENT = chaos.TRANSPORT, chaos.CONTENT
MIXES: dict[str, tuple[Any, ...]] = {"clean": (), "transport": TRANSPORT, "content": CONTENT, "all": (*TRANSPORT, *CONTENT)}
TIMEOUT_S = 1.0


@dataclass
class Row:
    mode: str
    mix: str
    wall_s: float
    tiers: dict[str, int]
    requests: int
    faults: int

    @property
    def plans_per_s(self) -> float:
        return sum(self.tiers.values()) / self.wall_s

    @property
    def model_share(self) -> float:
        total = sum(self.tiers.values())
        return (self.tiers["llm"] + self.tiers["simple_llm"]) / total if total else 0.0

    @property
    def model_per_s(self) -> float:
        return self.plans_per_s * self.model_share

    def line(self, clean: Row | None) -> str:
        """The row; its last column is its model plans per second over the clean row's (the
        fallback tiers' plans are what faults cost, not what they are compared on), blank
        where the clean row's model planned nothing."""
        ratio = f"{self.model_per_s / clean.model_per_s:6.2f}x" if clean is not None and clean.model_per_s else "      -"
        mix = " ".join(f"{self.tiers[t]:>5}" for t in ("llm", "simple_llm", "heuristic", "emergency"))
        return (
            f"{self.mode:<9} {self.mix:<10} {self.wall_s:7.2f} {self.plans_per_s:8.1f} "
            f"{self.model_per_s:8.1f} {mix} {self.requests:>5} {self.faults:>5} {ratio}"
        )


HEADER = (
    f"{'mode':<9} {'mix':<10} {'wall_s':>7} {'plans/s':>8} {'model/s':>8} {'llm':>5} {'simpl':>5} "
    f"{'heur':>5} {'emerg':>5} {'reqs':>5} {'fault':>5} {'vs clean':>7}"
)


def run(mode: str, mix: str, args: argparse.Namespace, out: Path) -> Row:
    faults = MIXES[mix]
    config = chaos.ChaosConfig.mix(faults, args.rate, seed=args.seed) if faults else chaos.ChaosConfig()
    with chaos.ChaosServer(config) as srv:
        url = srv.openai_url if args.backend == "openai" else srv.ollama_url
        argv = [
            "arena", "--llm", url, "--backend", args.backend, "--mode", mode, "--ticks", str(args.ticks),
            "--agents", "100", "--parallel", "16", "--replan-every", "25", "--speed", str(args.speed),
            "--llm-timeout", str(TIMEOUT_S), "--out", str(out), "--force", "--quiet",
        ]  # fmt: skip
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
        wall = time.perf_counter() - started
        if code != 0:
            raise SystemExit(f"arena exited {code} for {mode}/{mix}")
        counts = srv.counts
    summary = json.loads((out / "summary.json").read_text())
    return Row(mode, mix, wall, summary["plans_per_tier"], sum(counts.values()), sum(n for k, n in counts.items() if k != "clean"))


def main_bench(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--rate", type=float, default=0.3, help="share of requests given a fault (default 0.3)")
    parser.add_argument("--modes", nargs="+", default=["lockstep", "realtime"], choices=["lockstep", "realtime"])
    parser.add_argument("--backend", default="openai", choices=["openai", "ollama"])
    parser.add_argument("--speed", type=float, default=10.0, help="realtime pacing: sim seconds per wall second")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"## chaos: 100 agents, {args.ticks} ticks, {args.backend}, fault rate {args.rate:g}, timeout {TIMEOUT_S:g} s")
    print(HEADER)
    with tempfile.TemporaryDirectory() as tmp:
        run(args.modes[0], "clean", args, Path(tmp) / "warm-up")  # imports, plugins: paid by no row
        for mode in args.modes:
            clean: Row | None = None
            for mix in MIXES:
                row = run(mode, mix, args, Path(tmp) / f"{mode}-{mix}")
                print(row.line(clean), flush=True)
                clean = clean or row


if __name__ == "__main__":
    main_bench()
