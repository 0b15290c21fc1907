"""``hashes.detail`` as deltas (TMHD2): every tick's entries come back exactly, structural
changes included; unchanged ticks cost a header; old full-record files (TMHD1) still read,
and are continued in their own format."""

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from engine import JournalCorruptError, start_run, verify
from engine._detailfile import DetailWriter, detail_at, detail_ends
from engine._hashing import HashRecord
from examples.arena import build_arena

OLD_RUNS = Path(__file__).parent / "data" / "recorded-at-245f1e2"


def _record(keys: list[int], digests: list[int], tick: int) -> HashRecord:
    return HashRecord(tick, "0" * 32, np.array(keys, dtype=np.uint64), np.array(digests, dtype=np.uint32))


def test_every_tick_of_a_run_with_structural_changes_reads_back_exactly(tmp_path: Path) -> None:
    """The arena adds and removes components (goals, plans, wounds): the deltas must carry
    removals and additions as well as changed digests."""
    recorded: list[dict[int, int]] = []
    with start_run(build_arena, {"agents": 40}, 3, tmp_path / "run") as run:
        run.world.on_tick(lambda world, record: recorded.append(record.detail()))
        run.world.run(400)
    key_sets = [frozenset(d) for d in recorded]
    pairs = list(zip(key_sets, key_sets[1:]))
    assert sum(bool(a - b) for a, b in pairs) >= 3 and sum(bool(b - a) for a, b in pairs) >= 3, "entries come and go"
    path = tmp_path / "run" / "hashes.detail"
    assert path.read_bytes().startswith(b"TMHD2\n")
    for tick in (0, 1, 57, 233, 399):
        assert detail_at(path, tick) == recorded[tick]
    assert detail_at(path, 400) is None
    assert len(detail_ends(path)) == 400
    full_records = sum(8 + 12 * len(d) for d in recorded)  # what TMHD1 wrote
    assert path.stat().st_size * 2.5 < full_records, "most entries keep their digest from tick to tick"


def test_a_tick_that_changed_nothing_is_a_bare_header(tmp_path: Path) -> None:
    path = tmp_path / "hashes.detail"
    with path.open("xb") as f:
        writer = DetailWriter(f, path, append=False)
        writer.write(_record([5 << 32 | 1, 6 << 32 | 1], [10, 20], 0))
        writer.write(_record([5 << 32 | 1, 6 << 32 | 1], [10, 20], 1))
        writer.write(_record([6 << 32 | 1, 7 << 32 | 1], [21, 30], 2))
    ends = detail_ends(path)
    assert ends[1] - ends[0] == 12, "an unchanged tick: tick, gone and set counts only"
    assert ends[2] - ends[1] == 12 + 8 + 2 * 12, "one key gone, one changed and one new"
    assert detail_at(path, 1) == {5 << 32 | 1: 10, 6 << 32 | 1: 20}
    assert detail_at(path, 2) == {6 << 32 | 1: 21, 7 << 32 | 1: 30}


def test_a_removal_of_an_entry_never_set_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "hashes.detail"
    path.write_bytes(b"TMHD2\n" + struct.pack("<III", 0, 1, 0) + struct.pack("<Q", 7 << 32 | 1))
    with pytest.raises(JournalCorruptError, match="tick 0 removes an entry no earlier record set"):
        detail_at(path, 0)


def test_a_full_record_file_still_reads_and_is_continued_in_its_own_format(tmp_path: Path) -> None:
    path = tmp_path / "hashes.detail"
    old = [([1 << 32 | 9, 2 << 32 | 9], [3, 4]), ([1 << 32 | 9], [5])]
    data = b"TMHD1\n" + b"".join(
        struct.pack("<II", tick, len(keys)) + np.array(keys, "<u8").tobytes() + np.array(crcs, "<u4").tobytes()
        for tick, (keys, crcs) in enumerate(old)
    )
    path.write_bytes(data)
    assert detail_at(path, 0) == {1 << 32 | 9: 3, 2 << 32 | 9: 4}
    assert detail_at(path, 1) == {1 << 32 | 9: 5}
    with path.open("ab") as f:
        DetailWriter(f, path, append=True).write(_record([1 << 32 | 9, 3 << 32 | 9], [5, 6], 2))
    assert path.read_bytes()[len(data) :] == struct.pack("<II", 2, 2) + np.array([1 << 32 | 9, 3 << 32 | 9], "<u8").tobytes() + np.array([5, 6], "<u4").tobytes()
    assert detail_at(path, 2) == {1 << 32 | 9: 5, 3 << 32 | 9: 6}
    assert len(detail_ends(path)) == 3


def test_verify_names_what_diverged_from_an_old_runs_full_record_detail(tmp_path: Path) -> None:
    """A run recorded before the deltas: its detail is TMHD1. Edit one recorded root: the
    divergence is found there, and the detail (read in the old format) matches the replay."""
    run = tmp_path / "drift"
    shutil.copytree(OLD_RUNS / "drift", run)
    assert (run / "hashes.detail").read_bytes().startswith(b"TMHD1\n")
    lines = (run / "hashes.tsv").read_text().splitlines(keepends=True)
    tick, root = lines[31].split("\t")
    lines[31] = f"{tick}\t{'0' * 32}\n"
    (run / "hashes.tsv").write_text("".join(lines))
    report = verify(run, allow_version_mismatch=True)
    assert report.divergence is not None and report.divergence.tick == int(tick)
    assert report.divergence.diffs == ()
    assert "only the root in hashes.tsv differs" in report.divergence.note
