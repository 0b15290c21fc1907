"""Random numbers keyed by name, so concurrency never changes who draws what.

Requests finish in whatever order the network decides. A generator shared by all of them would
hand out its numbers in that order, so the same seed would give different jitter (or scripted
latency) on every run. A generator per key -- seed plus request or job id -- does not care.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["keyed_rng"]


def keyed_rng(seed: int, key: str) -> np.random.Generator:
    """A generator that depends only on ``seed`` and ``key`` (same scheme as the engine's
    per-system generators: the key's blake2b digest becomes the seed sequence's spawn key)."""
    digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(digest,))))
