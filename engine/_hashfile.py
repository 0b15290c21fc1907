"""Per-tick state hashes beside the journal: ``hashes.tsv`` (readable) and ``hashes.detail``.

``hashes.tsv`` holds one ``tick<TAB>root`` line per completed tick; it is what two runs
compare. ``hashes.detail`` (:mod:`engine._detailfile`) holds each tick's (entity, component)
digests, as changes since the tick before, so that ``verify`` can say *which* entities and
components diverged.
Both are append-only and flushed with the journal at each tick end; a partial tail left by
a crash is ignored by the readers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from ._detailfile import DetailWriter, detail_ends, empty_detail_file
from ._errors import JournalCorruptError
from ._hashing import HashRecord

__all__ = ["HashFileWriter", "copy_hash_prefix", "cut_hash_files", "read_hashes", "truncate_file"]

_TSV_HEADER = "# tickmind state hashes v1: tick<TAB>root"
_ROOT = re.compile("[0-9a-f]{32}")  # a tick's root: blake2b, 16 bytes, as hex


class HashFileWriter:
    """Writes both hash files; ``detail=False`` skips the per-component file for huge worlds."""

    def __init__(self, run_dir: Path, *, detail: bool = True, append: bool = False) -> None:
        """Create both files, or with ``append=True`` continue existing ones (resume)."""
        self._tsv: IO[str] = (run_dir / "hashes.tsv").open("a" if append else "x", encoding="utf-8", newline="\n")
        if not append:
            self._tsv.write(_TSV_HEADER + "\n")
        self._detail: IO[bytes] | None = None
        self._detail_writer: DetailWriter | None = None
        if detail:
            path = run_dir / "hashes.detail"
            self._detail = path.open("ab" if append else "xb")
            self._detail_writer = DetailWriter(self._detail, path, append=append)
        self.flush()  # the headers reach the OS now, as the journal's does: a run killed in tick 0 resumes

    def write(self, record: HashRecord) -> None:
        if self._detail_writer is not None:
            self._detail_writer.write(record)
        self._tsv.write(f"{record.tick}\t{record.root}\n")

    def flush(self) -> None:
        if self._detail is not None:
            self._detail.flush()
        self._tsv.flush()

    def close(self) -> None:
        self.flush()
        if self._detail is not None:
            self._detail.close()
        self._tsv.close()


def read_hashes(path: Path) -> list[str]:
    """Root hashes by tick (index = tick). Stops at a partial last line; any other damage is a
    JournalCorruptError naming the line."""
    lines = path.read_bytes().split(b"\n")
    lines.pop()  # b"" after the last newline, or a partial last line from a crash
    roots: list[str] = []
    for lineno, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JournalCorruptError(f"{path}:{lineno}: not UTF-8 (byte {exc.start})") from exc
        line = line.removesuffix("\r")  # a copy checked out with CRLF line endings
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        tick = parts[0]
        # isascii: str.isdigit() is also true of digits like "²" that int() refuses
        if (
            len(parts) != 2
            or not (tick.isascii() and tick.isdigit())
            or int(tick) != len(roots)
            or not _ROOT.fullmatch(parts[1])
        ):
            raise JournalCorruptError(
                f"{path}:{lineno}: expected 'tick<TAB>hash' (32 hex digits) for tick {len(roots)}, got {line!r}"
            )
        roots.append(parts[1])
    return roots


def cut_hash_files(run_dir: Path, ticks: int) -> None:
    """Cut ``hashes.tsv`` (and ``hashes.detail``) back to their first ``ticks`` ticks, so a
    resumed run appends right after its last complete tick."""
    tsv = run_dir / "hashes.tsv"
    keep = seen = 0
    for line in tsv.read_bytes().split(b"\n")[:-1]:  # complete lines, ticks in order (read_hashes)
        if line and not line.startswith(b"#"):
            if seen == ticks:
                break
            seen += 1
        keep += len(line) + 1
    truncate_file(tsv, keep)
    detail = run_dir / "hashes.detail"
    if detail.exists() and ticks == 0:
        detail.write_bytes(empty_detail_file())  # the magic itself may be missing or torn
    elif detail.exists():
        truncate_file(detail, detail_ends(detail)[ticks - 1])


def copy_hash_prefix(source: Path, target: Path, ticks: int) -> bool:
    """Write into ``target`` the hash files of ``source``'s first ``ticks`` ticks (a fork's
    own copy of its parent's); whether the detail file came too (a parent recorded without
    it, or with fewer ticks of it, gives the fork none)."""
    roots = read_hashes(source / "hashes.tsv")[:ticks]
    lines = [_TSV_HEADER] + [f"{tick}\t{root}" for tick, root in enumerate(roots)]
    (target / "hashes.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    detail = source / "hashes.detail"
    ends = detail_ends(detail) if detail.exists() else []
    if len(ends) < ticks:
        return False
    with detail.open("rb") as src, (target / "hashes.detail").open("xb") as dst:
        dst.write(src.read(ends[ticks - 1]))
    return True


def truncate_file(path: Path, size: int) -> None:
    """Cut ``path`` to ``size`` bytes (a crash's torn tail, or a tick that never finished)."""
    with path.open("r+b") as f:
        f.truncate(size)
