import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import Input, JournalCorruptError, JournalHeader, JournalRecord, JournalVersionError, read_journal, read_journal_header
from engine._inputs import decode_input
from engine._journal import MAX_LINE_BYTES, JournalWriter


def write_journal(path: Path, records: int = 3) -> None:
    writer = JournalWriter(path, JournalHeader(factory="m:f", config={"n": 1}, seed=3, dt=0.5))
    for i in range(records):
        writer.append(JournalRecord(t=i, seq=i, kind="k", entity=1, data={"x": 0.1 + 0.2 * i}, meta={"tier": "llm"}))
    writer.close()


def test_round_trip_keeps_exact_floats_and_meta(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    write_journal(path)
    journal = read_journal(path)
    assert journal.header.seed == 3 and journal.header.config == {"n": 1}
    assert [r.data["x"] for r in journal.records] == [0.1 + 0.2 * i for i in range(3)]
    assert journal.records[0].meta == {"tier": "llm"}
    assert not journal.truncated_tail


def test_the_writer_never_overwrites_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    write_journal(path)
    with pytest.raises(FileExistsError):
        write_journal(path)
    assert len(read_journal(path).records) == 3


def test_a_crash_mid_record_keeps_every_complete_record(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    write_journal(path)
    data = path.read_bytes()
    path.write_bytes(data[:-15])  # cut inside the last line
    journal = read_journal(path)
    assert len(journal.records) == 2
    assert journal.truncated_tail
    assert "incomplete last record" in journal.warnings[0] and ":4:" in journal.warnings[0]


def test_corruption_in_the_middle_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    write_journal(path)
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = '{"t": 1, "seq": 1, "kind": "k", "entity": 1, "data": {"x": 1}\n'
    path.write_text("".join(lines))
    with pytest.raises(JournalCorruptError, match=r"journal.jsonl:3: not JSON"):
        read_journal(path)
    lines[2] = '{"t": -1, "seq": 1, "kind": "k", "entity": 1, "data": {}}\n'
    path.write_text("".join(lines))
    with pytest.raises(JournalCorruptError, match=r":3: bad record: t: Input should be greater than or equal to 0"):
        read_journal(path)
    path.write_bytes(b'{"t": 1}\n\xff\xfe\n')
    with pytest.raises(JournalCorruptError, match=":1: not a tickmind journal"):
        read_journal(path)


#: Both readers refuse a header alike: the whole journal, and its header line alone.
READERS = [read_journal, read_journal_header]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    "field, value, message",
    [("format_version", 99, "format version 99"), ("tickmind", "0.0.1", "written by tickmind '0.0.1'")],
)
def test_other_versions_are_refused_with_a_reason(tmp_path: Path, field: str, value: object, message: str, reader: Callable[..., object]) -> None:
    path = tmp_path / "journal.jsonl"
    write_journal(path)
    lines = path.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header[field] = value
    path.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    with pytest.raises(JournalVersionError, match=message):
        reader(path)
    if field == "tickmind":
        assert len(read_journal(path, allow_version_mismatch=True).records) == 3


@pytest.mark.parametrize("reader", READERS)
def test_empty_and_missing_files(tmp_path: Path, reader: Callable[..., object]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(JournalCorruptError, match="empty file"):
        reader(empty)
    with pytest.raises(Exception, match="no journal here"):
        reader(tmp_path / "missing.jsonl")
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(b'{"format": "tickmind-journal"')
    with pytest.raises(JournalCorruptError, match=":1: the header line is incomplete"):
        reader(torn)
    long = tmp_path / "long.jsonl"
    long.write_bytes(b" " * (MAX_LINE_BYTES + 10) + b"\n")
    with pytest.raises(JournalCorruptError, match=":1: a line of .* over the 16,777,216 a journal line may hold"):
        reader(long)


def test_the_header_alone_is_read_without_the_records(tmp_path: Path) -> None:
    """What ``tickmind fork`` reads to choose its command: a long run's records are left for
    the one replay that needs them, and a bad record further on is that replay's to name."""
    write_journal(tmp_path / "journal.jsonl")
    with (tmp_path / "journal.jsonl").open("ab") as f:
        f.write(b"not json\n")
    header = read_journal_header(tmp_path)  # a run directory names its journal
    assert (header.factory, header.config, header.seed) == ("m:f", {"n": 1}, 3)
    with pytest.raises(JournalCorruptError, match=":5:"):
        read_journal(tmp_path)


class Aim(Input):
    kind = "test.journal.aim"
    x: float
    y: float


def test_non_finite_input_floats_and_meta_survive_the_journal(tmp_path: Path) -> None:
    """pydantic writes inf and nan as null by default: the live run took the input, and its
    replay then failed to read it back ('Input should be a valid number')."""
    path = tmp_path / "journal.jsonl"
    writer = JournalWriter(path, JournalHeader(factory="m:f", config={}, seed=0, dt=0.5))
    aim = Aim(entity=1, x=math.inf, y=math.nan)
    data = aim.model_dump(mode="json")
    writer.append(JournalRecord(t=0, seq=0, kind=aim.kind, entity=1, data=data, meta={"score": -math.inf}))
    writer.close()
    assert '"x":Infinity' in path.read_text()
    (record,) = read_journal(path).records
    back = decode_input(record.kind, record.data)
    assert isinstance(back, Aim) and back.x == math.inf and math.isnan(back.y)
    assert record.meta == {"score": -math.inf}
