"""Which CPU instructions a llama.cpp build may use: read from this CPU, never from the compiler.

Why not ``-march=native`` (llama.cpp's default, and pip's build of llama-cpp-python): on CPUs
that report AMX (Intel Xeon Sapphire Rapids and later, as VMs of them do) the native build
uses AMX tiles, and llama.cpp sets the tile state up on its main thread only, so the first
completion dies with SIGILL (measured; upstream llama.cpp PR #26954). tickmind therefore
builds with ``GGML_NATIVE=OFF`` and names every instruction set itself: what this CPU reports
of SSE4.2, AVX, AVX2, FMA, F16C, BMI2 and AVX-512 (F, CD, VL, DQ, BW, VNNI, VBMI, BF16),
never AMX. The same features name the build in the cache, so a binary built for one CPU is
never started on another that lacks them.

Off x86-64 Linux (macOS, ARM) nothing is known to break natively, so the build stays native
and the feature set is just the machine name.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from pathlib import Path

__all__ = ["INSTRUCTION_LEVELS", "BuildTarget", "cpu_flags", "target_for"]

#: GGML switch -> the /proc/cpuinfo flags it needs, in the order llama.cpp layers them.
_X86_FEATURES: dict[str, tuple[str, ...]] = {
    "SSE42": ("sse4_2",),
    "AVX": ("avx",),
    "AVX2": ("avx2",),
    "FMA": ("fma",),
    "F16C": ("f16c",),
    "BMI2": ("bmi2",),
    "AVX512": ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"),
    "AVX512_VNNI": ("avx512_vnni",),
    "AVX512_VBMI": ("avx512vbmi",),
    "AVX512_BF16": ("avx512_bf16",),
}
#: ``--instructions`` levels: the most a build may use (``auto``: all this CPU reports).
INSTRUCTION_LEVELS: dict[str, tuple[str, ...]] = {
    "sse42": ("SSE42",),
    "avx2": ("SSE42", "AVX", "AVX2", "FMA", "F16C", "BMI2"),
    "avx512": tuple(_X86_FEATURES),
}
#: Never enabled, whatever the CPU reports (see the module docstring).
_NEVER = ("AMX_TILE", "AMX_INT8", "AMX_BF16", "AVX_VNNI")
_CPUINFO = Path("/proc/cpuinfo")


class BuildTarget:
    """The instruction sets one build uses: its cmake switches and the name it is cached by.

    ``features`` are GGML switch names (``AVX2``, ``AVX512_VNNI``) on x86-64, or empty for a
    native build elsewhere. ``runs_on(flags)`` says whether a CPU with those cpuinfo flags
    can execute the build.
    """

    def __init__(self, machine: str, features: Iterable[str]) -> None:
        self.machine = machine
        self.features = tuple(f for f in _X86_FEATURES if f in set(features))

    @property
    def native(self) -> bool:
        return self.machine != "x86_64"

    @property
    def tag(self) -> str:
        """A short, stable folder name: ``x86_64-avx2-avx512-avx512_vnni`` and the like."""
        if self.native:
            return f"{self.machine}-native"
        shown = [f.lower() for f in self.features if f not in ("SSE42", "AVX", "FMA", "F16C", "BMI2")]
        return "-".join([self.machine, *shown]) if shown else f"{self.machine}-baseline"

    def cmake_flags(self) -> tuple[str, ...]:
        if self.native:
            return ("-DGGML_NATIVE=ON",)
        on = [f"-DGGML_{f}=ON" for f in self.features]
        off = [f"-DGGML_{f}=OFF" for f in (*_X86_FEATURES, *_NEVER) if f not in self.features]
        return ("-DGGML_NATIVE=OFF", *on, *off)

    def runs_on(self, flags: frozenset[str]) -> bool:
        if self.native:
            return self.machine == _machine()
        return all(flag in flags for feature in self.features for flag in _X86_FEATURES[feature])

    def describe(self) -> str:
        if self.native:
            return f"{self.machine}, native (-march=native)"
        return ", ".join(f.replace("_", "-") for f in self.features) or "x86-64 baseline (SSE2)"

    def to_json(self) -> dict[str, object]:
        return {"machine": self.machine, "features": list(self.features)}

    @classmethod
    def from_json(cls, data: object) -> BuildTarget | None:
        """The target a ``build.json`` records, or None if it is not one (an edited file)."""
        if not isinstance(data, dict):
            return None
        machine, features = data.get("machine"), data.get("features")
        if not isinstance(machine, str) or not isinstance(features, list):
            return None
        if not all(isinstance(f, str) and f in _X86_FEATURES for f in features):
            return None
        return cls(machine, features)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BuildTarget) and (self.machine, self.features) == (other.machine, other.features)

    def __hash__(self) -> int:
        return hash((self.machine, self.features))

    def __repr__(self) -> str:
        return f"BuildTarget({self.tag})"


def _machine() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The feature flags this CPU reports (the first processor's ``flags`` line), or none
    where there is no ``/proc/cpuinfo``."""
    if cpuinfo is None:
        try:
            cpuinfo = _CPUINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def target_for(flags: frozenset[str] | None = None, machine: str | None = None, *, level: str = "auto") -> BuildTarget:
    """The build this CPU should get: every listed instruction set it reports up to ``level``
    (a key of :data:`INSTRUCTION_LEVELS`, or ``auto``), AMX never."""
    machine = machine or _machine()
    if machine != "x86_64":
        return BuildTarget(machine, ())
    flags = cpu_flags() if flags is None else flags
    allowed = INSTRUCTION_LEVELS.get(level, tuple(_X86_FEATURES))
    features = [f for f, needs in _X86_FEATURES.items() if f in allowed and all(n in flags for n in needs)]
    if "AVX512" not in features:  # the AVX-512 extensions are only switched on beside AVX512
        features = [f for f in features if not f.startswith("AVX512")]
    return BuildTarget(machine, features)
