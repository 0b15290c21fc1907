"""What a sweep is: the arena config every run shares, the seeds, and the directory holding it.

A sweep directory holds ``sweep-spec.json`` (the shared config, written first), one run
directory per seed (``seed-<s>/``, an ordinary run that ``tickmind verify`` checks) and, when
the sweep ends, ``sweep.json`` and ``sweep.tsv``. The seeds are not part of the spec, so a
sweep over 0..7 can later be widened to 0..15 in the same directory: only the new seeds run.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine import TickmindError

__all__ = ["SPEC_FILE", "SweepError", "SweepSpec", "parse_seeds", "prepare_sweep_dir", "swap_planners", "write_json"]

SPEC_FILE = "sweep-spec.json"
MAX_SEEDS = 100_000
_RANGE = re.compile(r"(\d+)\.\.(\d+)")


class SweepError(TickmindError):
    """A sweep that cannot start: bad seeds, or an output directory it must not write into."""


@dataclass(frozen=True)
class SweepSpec:
    """The arena settings every run of a sweep shares (``None``: the scenario's own).

    ``planner`` is one planner for every team, or one per team (``{"red": "heuristic",
    "blue": "heuristic"}``); with ``swap_sides`` every seed is played twice, the second time
    with the two teams' planners exchanged, so what a map or a spawn gives one side cancels
    out of a planner's win rate.
    """

    scenario: str | None = None  #: absolute path, so runs verify from any directory
    planner: str | dict[str, str] = "heuristic"
    agents: int | None = None
    ticks: int | None = None
    swap_sides: bool = False
    #: How model-planned games reach their model: ``tickmind arena`` flags (``--llm``,
    #: ``--mode``) by name, e.g. ``{"llm": "local", "mode": "realtime"}``.
    model: dict[str, str] | None = None

    @property
    def asks_model(self) -> bool:
        labels = self.planner.values() if isinstance(self.planner, dict) else [self.planner]
        return any(label.startswith("llm") for label in labels)

    def arena_argv(self, seed: int, run_dir: str, swapped: bool) -> list[str]:
        """The ``tickmind arena`` command line that plays one model-planned game: the arena's
        own loop (realtime pacing, the model's warm-up, its summary), not a bare tick loop."""
        config = self.arena_config(swapped)
        per_team = config.get("team_planners")
        planner = ",".join(f"{t}={p}" for t, p in per_team.items()) if per_team else str(config["planner"])
        argv = ["arena", "--planner", planner, "--seed", str(seed), "--out", run_dir, "--force", "--quiet"]
        for flag, value in [("agents", self.agents), ("ticks", self.ticks), ("scenario", self.scenario), *(self.model or {}).items()]:
            if value is not None:
                argv += [f"--{flag}", str(value)]
        return argv

    def arena_config(self, swapped: bool = False) -> dict[str, Any]:
        """The ``build_arena`` config each run journals (``swapped``: the seed's second game)."""
        config: dict[str, Any] = {}
        if isinstance(self.planner, dict):
            config["team_planners"] = swap_planners(self.planner) if swapped else dict(self.planner)
        else:
            config["planner"] = self.planner
        if self.agents is not None:
            config["agents"] = self.agents
        if self.scenario is not None:
            config["scenario"] = self.scenario
        return config

    def slots(self, teams: list[str]) -> dict[str, str]:
        """Each planner a sweep compares, by slot: ``A`` is the first team's planner in a
        seed's first game, ``B`` the second's. Slots, not colours, are what win: with sides
        swapped each slot plays both colours."""
        named = self.planners_by_team(teams)
        return {"A": named[teams[0]], "B": named[teams[1]]}

    def planners_by_team(self, teams: list[str]) -> dict[str, str]:
        """Each team's planner in a seed's first game."""
        return dict(self.planner) if isinstance(self.planner, dict) else dict.fromkeys(teams, self.planner)

    def to_json(self) -> dict[str, Any]:
        """As ``sweep-spec.json`` and each ``done.json`` hold it; a sweep without swapped sides
        writes no ``swap_sides`` (nor a heuristic one ``model``), as sweeps did before there
        were such fields (they resume)."""
        data = asdict(self)
        for key, unset in (("swap_sides", False), ("model", None)):
            if data[key] == unset:
                del data[key]
        return data


def swap_planners(planners: dict[str, str]) -> dict[str, str]:
    """The two teams' planners exchanged."""
    if len(planners) != 2:
        raise SweepError(f"--swap-sides exchanges two teams' planners; the sweep names {len(planners)} team(s)")
    (first, a), (second, b) = planners.items()
    return {first: b, second: a}


def parse_seeds(text: str) -> list[int]:
    """``"0..7"`` (both ends included: eight seeds), ``"1,2,5"``, or a mix (``"0..3,10"``)."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if match := _RANGE.fullmatch(part):
            first, last = int(match[1]), int(match[2])
            if last < first:
                raise SweepError(f"--seeds {text!r}: range {part!r} is empty (write low..high, both included)")
            if last - first >= MAX_SEEDS:
                raise SweepError(f"--seeds {text!r}: range {part!r} has more than {MAX_SEEDS:,} seeds")
            seeds.extend(range(first, last + 1))
        elif part.isascii() and part.isdigit():  # isdigit alone admits '²', which int() refuses
            seeds.append(int(part))
        else:
            raise SweepError(f"--seeds {text!r}: {part!r} is not a seed or a range; write e.g. 0..7 or 1,2,5")
    repeated = sorted(s for s, n in Counter(seeds).items() if n > 1)
    if repeated:
        raise SweepError(f"--seeds {text!r} lists seed(s) {repeated[:5]} more than once")
    return seeds


def prepare_sweep_dir(out: Path, spec: SweepSpec, force: bool) -> None:
    """Make ``out`` hold this sweep: new, empty, or the same sweep resumed.

    A directory holding anything but a sweep, or a sweep of another spec, is refused
    without ``force`` (which adopts it; runs of another spec are redone, never reused).
    """
    if out.exists() and not out.is_dir():
        raise SweepError(f"--out {out} exists and is not a directory")
    spec_file = out / SPEC_FILE
    if out.is_dir() and any(out.iterdir()) and not force:
        if not spec_file.exists():
            raise SweepError(f"--out {out} is not empty and holds no sweep ({SPEC_FILE}); choose another --out or pass --force")
        previous = _read_spec(spec_file)
        if previous != spec.to_json():
            raise SweepError(
                f"--out {out} holds a sweep with other settings ({previous}); resume it with the same "
                "--scenario/--planner/--agents/--ticks, choose another --out, or pass --force"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepError(f"cannot create --out {out}: {exc.strerror}") from exc
    write_json(spec_file, spec.to_json())


def _read_spec(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path} is unreadable ({exc}); remove it or pass --force") from exc


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old file or the whole new one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
