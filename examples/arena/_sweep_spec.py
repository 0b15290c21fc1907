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

__all__ = ["SPEC_FILE", "SweepError", "SweepSpec", "parse_seeds", "prepare_sweep_dir", "write_json"]

SPEC_FILE = "sweep-spec.json"
MAX_SEEDS = 100_000
_RANGE = re.compile(r"(\d+)\.\.(\d+)")


class SweepError(TickmindError):
    """A sweep that cannot start: bad seeds, or an output directory it must not write into."""


@dataclass(frozen=True)
class SweepSpec:
    """The arena settings every run of a sweep shares (``None``: the scenario's own)."""

    scenario: str | None = None  #: absolute path, so runs verify from any directory
    planner: str = "heuristic"
    agents: int | None = None
    ticks: int | None = None

    def arena_config(self) -> dict[str, Any]:
        """The ``build_arena`` config each run journals."""
        config: dict[str, Any] = {"planner": self.planner}
        if self.agents is not None:
            config["agents"] = self.agents
        if self.scenario is not None:
            config["scenario"] = self.scenario
        return config

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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
