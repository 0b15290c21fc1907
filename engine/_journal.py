"""The input journal: one append-only JSON-lines file per run.

Line 1 is a versioned header (format, tickmind version, factory, config, seed, dt); every
later line is one input: ``{"t": tick, "seq": n, "kind": ..., "entity": id, "data": {...},
"meta": {...}, "at": tick}``. ``t`` is the tick the input applies at; ``at`` is the tick at
whose end it was written. Inputs are written at the end of the tick they were submitted in
(or applied in), *before* they apply, so a stopped run keeps the inputs still waiting for a
later tick and ``resume`` continues exactly; ``at`` tells resume which lines belong to a tick
that never completed. ``meta`` holds what explains an input without changing state (the
fallback tier, the raw model text).

Why JSON lines: a crashed process leaves at worst one partial last line, which the reader
drops; every complete line before it is intact. Floats are written by Python's ``repr``,
which round-trips exactly.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import JournalCorruptError, JournalError, JournalVersionError, first_problem
from ._version import __version__

__all__ = [
    "JOURNAL_FORMAT",
    "JOURNAL_VERSION",
    "MAX_JOURNAL_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_LINE_BYTES",
    "ForkOrigin",
    "JournalHeader",
    "JournalReader",
    "JournalRecord",
    "JournalWriter",
    "journal_factory",
    "read_journal",
]

JOURNAL_FORMAT = "tickmind-journal"
JOURNAL_NAME = "journal.jsonl"  #: a run directory's journal
#: A journal is data from anyone: what the reader loads is bounded. A line holds one input
#: and at most one model answer (itself capped at ai's MAX_RESPONSE_CHARS, 1 M characters).
MAX_JOURNAL_BYTES = 2 * 1024**3
MAX_LINE_BYTES = 16 * 1024**2
MAX_JSON_DEPTH = 64
JOURNAL_VERSION = 1


class ForkOrigin(BaseModel):
    """Where a forked run came from: it replayed ``run`` to ``tick`` and went on live."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run: str = Field(description="the parent run directory, as an absolute path when forked")
    tick: int = Field(ge=1, description="the fork's first live tick: ticks before it are the parent's")
    root: str = Field(description="the parent's root hash of tick `tick - 1`, the state the fork starts from")


class JournalHeader(BaseModel):
    """What a run was made of, besides its inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = JOURNAL_FORMAT
    format_version: int = JOURNAL_VERSION
    tickmind: str = __version__
    factory: str = Field(description="module:function that builds the world from config+seed")
    config: dict[str, Any] = Field(default_factory=dict)
    seed: int
    dt: float
    #: A fork's lineage, oldest first (a fork of a fork names both); absent from other runs'
    #: headers, which therefore read as they always did.
    forked_from: list[ForkOrigin] | None = None

    def line(self) -> dict[str, Any]:
        """The header as its journal line holds it."""
        return self.model_dump(mode="json", exclude={"forked_from"} if self.forked_from is None else None)


class JournalRecord(BaseModel):
    """One applied input."""

    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")  # as Input's

    t: int = Field(ge=0)
    seq: int = Field(ge=0)
    kind: str
    entity: int
    data: dict[str, Any]
    meta: dict[str, Any] | None = None
    at: int | None = Field(default=None, ge=-1)  #: tick at whose end it was written (None: ``t``)

    @property
    def written_at(self) -> int:
        """The tick at whose end this record reached the journal."""
        return self.t if self.at is None else self.at


class JournalWriter:
    """Appends records; ``flush()`` at each tick end hands them to the OS.

    ``durable=True`` also fsyncs on every flush (survives power loss, costs a disk sync per
    tick); the default survives a killed process, which is the common crash.
    """

    def __init__(self, path: Path, header: JournalHeader | None, *, durable: bool = False) -> None:
        """Create ``path`` with ``header``; ``header=None`` appends to an existing journal
        (``resume``, after cutting it back to its last complete tick)."""
        self.path = path
        self.durable = durable
        self._file: IO[str] = path.open("x" if header is not None else "a", encoding="utf-8", newline="\n")
        if header is not None:
            self._write_line(header.line())
        self.flush()

    def append(self, record: JournalRecord) -> None:
        self._write_line(record.model_dump(mode="json", exclude_none=True))

    def flush(self) -> None:
        self._file.flush()
        if self.durable:
            os.fsync(self._file.fileno())

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._file.close()

    def _write_line(self, obj: dict[str, Any]) -> None:
        # One write per record: a crash leaves at most one partial line, at the end.
        self._file.write(json.dumps(obj, separators=(",", ":"), allow_nan=True) + "\n")


@dataclass
class JournalReader:
    """A journal read back: header, complete records, and whether a partial tail was dropped.

    ``ends[i]`` is the byte offset just past record ``i``'s line (``header_end`` for the
    header), so a resume can cut the file back to a record boundary.
    """

    path: Path
    header: JournalHeader
    records: list[JournalRecord]
    truncated_tail: bool = False
    warnings: list[str] = field(default_factory=list)
    header_end: int = 0
    ends: list[int] = field(default_factory=list)


def read_journal(path: str | Path, *, allow_version_mismatch: bool = False) -> JournalReader:
    """Read a journal (or a run directory's), refusing other versions and naming the line of
    any corruption.

    A last line without its newline is what a crash leaves: it is dropped with a warning.
    """
    path = _journal_path(path)
    with _reading(path):
        size = path.stat().st_size
        if size > MAX_JOURNAL_BYTES:
            raise JournalCorruptError(
                f"{path}: {size:,} bytes, over the {MAX_JOURNAL_BYTES:,} a journal may hold; not read"
            )
        raw = path.read_bytes()
    lines = raw.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    truncated = tail != b""
    if not lines:
        if truncated:
            raise JournalCorruptError(f"{path}:1: the header line is incomplete")
        raise JournalCorruptError(f"{path}: empty file, not a tickmind journal")
    header = _parse_header(path, lines[0], allow_version_mismatch)
    records = list(_parse_records(path, lines[1:]))
    ends = list(itertools.accumulate((len(line) + 1 for line in lines)))
    reader = JournalReader(path, header, records, truncated, header_end=ends[0], ends=ends[1:])
    if truncated:
        reader.warnings.append(
            f"{path}:{len(lines) + 1}: dropped an incomplete last record "
            "(the writing process stopped mid-line)"
        )
    return reader


def read_journal_header(path: str | Path, *, allow_version_mismatch: bool = False) -> JournalHeader:
    """A journal's header alone (its first line), refused as :func:`read_journal` refuses it:
    what built a run, without reading every record of a long one."""
    path = _journal_path(path)
    with _reading(path), path.open("rb") as f:
        line = f.readline(MAX_LINE_BYTES + 1)  # one byte more than a line may hold: too long is seen
    if not line:
        raise JournalCorruptError(f"{path}: empty file, not a tickmind journal")
    if not line.endswith(b"\n") and len(line) <= MAX_LINE_BYTES:
        raise JournalCorruptError(f"{path}:1: the header line is incomplete")
    return _parse_header(path, line.removesuffix(b"\n"), allow_version_mismatch)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A journal that cannot be read, said as one line naming it."""
    try:
        yield
    except FileNotFoundError as exc:
        raise JournalError(f"{path}: no journal here") from exc
    except OSError as exc:
        raise JournalError(f"{path}: cannot read journal ({exc.strerror})") from exc


def _journal_path(path: str | Path) -> Path:
    """The journal file a path names: itself, or a run directory's."""
    path = Path(path)
    return path / JOURNAL_NAME if path.is_dir() else path


def _parse_header(path: Path, line: bytes, allow_version_mismatch: bool) -> JournalHeader:
    obj = _loads(path, 1, line)
    if not isinstance(obj, dict) or obj.get("format") != JOURNAL_FORMAT:
        raise JournalCorruptError(f"{path}:1: not a tickmind journal (no '{JOURNAL_FORMAT}' header)")
    if obj.get("format_version") != JOURNAL_VERSION:
        raise JournalVersionError(
            f"{path}:1: journal format version {obj.get('format_version')!r}; this tickmind "
            f"({__version__}) reads version {JOURNAL_VERSION}"
        )
    written = obj.get("tickmind")
    if written != __version__ and not allow_version_mismatch:
        release = written if isinstance(written, str) and written.isprintable() else repr(written)  # one line
        raise JournalVersionError(
            f"{path}:1: written by tickmind {written!r}, this is {__version__}: hashes are "
            f"promised within one release (tickmind {release} replays it; pass "
            "--allow-version-mismatch to try anyway)"
        )
    try:
        return JournalHeader.model_validate(obj)
    except ValidationError as exc:
        raise JournalCorruptError(f"{path}:1: bad header: {first_problem(exc)}") from exc


def _parse_records(path: Path, lines: list[bytes]) -> Iterator[JournalRecord]:
    """Each line's record, checking what resume relies on to find the tick a record belongs
    to: ``at`` never decreases (records are written tick by tick) and never passes ``t`` (an
    input is written by the end of the tick it applies in)."""
    last_at = -1
    for lineno, line in enumerate(lines, start=2):
        obj = _loads(path, lineno, line)
        try:
            record = JournalRecord.model_validate(obj)
        except ValidationError as exc:
            raise JournalCorruptError(f"{path}:{lineno}: bad record: {first_problem(exc)}") from exc
        if record.at is not None:
            if record.at < last_at or record.at > record.t:
                raise JournalCorruptError(
                    f"{path}:{lineno}: bad record: written at tick {record.at}, but it applies at tick "
                    f"{record.t} and the record before it was written at tick {last_at}"
                )
            last_at = record.at
        yield record


def journal_factory(run_dir: Path) -> str:
    """The factory a run's journal header names, read from its first line alone ("?" if
    that line is not a header): for saying what is about to run before it does."""
    try:
        with open(Path(run_dir) / JOURNAL_NAME, "rb") as handle:
            first = handle.readline(MAX_LINE_BYTES)
        factory = json.loads(first).get("factory")
    except (OSError, ValueError, AttributeError, RecursionError):
        return "?"
    return factory if isinstance(factory, str) else "?"


def _too_deep(line: bytes) -> bool:
    """Whether ``line`` nests arrays and objects deeper than MAX_JSON_DEPTH (outside strings)."""
    if line.count(b"[") + line.count(b"{") <= MAX_JSON_DEPTH:
        return False  # the common case, at C speed
    bare = _JSON_STRING.sub(b"", line)
    steps = np.frombuffer(bare, dtype=np.uint8)
    depth = np.cumsum(np.isin(steps, _OPEN).astype(np.int64) - np.isin(steps, _CLOSE).astype(np.int64))
    return bool(depth.size) and int(depth.max()) > MAX_JSON_DEPTH


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


def _loads(path: Path, lineno: int, line: bytes) -> Any:
    if len(line) > MAX_LINE_BYTES:
        raise JournalCorruptError(f"{path}:{lineno}: a line of {len(line):,} bytes, over the {MAX_LINE_BYTES:,} a journal line may hold")
    if _too_deep(line):
        raise JournalCorruptError(f"{path}:{lineno}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise JournalCorruptError(f"{path}:{lineno}: not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise JournalCorruptError(f"{path}:{lineno}: not JSON ({exc.msg} at column {exc.colno})") from exc
    except (ValueError, RecursionError) as exc:  # an integer past 4300 digits; nesting past the stack
        raise JournalCorruptError(f"{path}:{lineno}: not a journal line ({type(exc).__name__}: {exc})") from exc

