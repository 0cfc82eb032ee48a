"""The agent's journal: numbered, durable, and never in the way when its file is not."""

from __future__ import annotations

import errno
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrfleet_agent import journal as journal_module
from ocrfleet_agent.journal import Journal
from ocrfleet_agent.payloads import Ack, SessionMessage
from tests.support.disk import tmpfs

T0 = 1_700_000_000.0


def fixed_clock() -> float:
    return 1234.0


def record_session(journal: Journal, session_id: str, at: float) -> list[SessionMessage]:
    return [
        journal.record("start", session_id, at),
        journal.record("end", session_id, at, at + 60),
    ]


def seqs(journal: Journal) -> list[int | None]:
    return [m.seq for m in journal.pending()]


def fill(folder: Path) -> None:
    """Write a file until the file system is full."""
    with open(folder / "filler", "wb", buffering=0) as out:
        while True:
            try:
                out.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    # Nothing fits any more, not even a small journal.
    with pytest.raises(OSError), open(folder / "probe", "wb") as probe:
        probe.write(b"x" * 4096)
        probe.flush()
    (folder / "probe").unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB file system (tmpfs), unmounted afterwards."""
    with tmpfs(tmp_path / "disk", "64k") as folder:
        yield folder


# -- the round trip ---------------------------------------------------------------


def test_record_acknowledge_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    journal = Journal(path)
    assert journal.durable
    assert path.exists(), "a new journal is written at once, with its stream"
    stream = journal.stream
    assert journal.oldest == 1
    start_a, end_a = record_session(journal, "a", T0)
    start_b = journal.record("start", "b", T0 + 100)
    assert [(m.event, m.session_id, m.stream, m.seq) for m in (start_a, end_a, start_b)] == [
        ("start", "a", stream, 1),
        ("end", "a", stream, 2),
        ("start", "b", stream, 3),
    ]
    assert end_a.ended_at == T0 + 60
    assert journal.open_session == start_b
    assert journal.acknowledge(Ack(stream=stream, seq=2)) == 2
    assert journal.acknowledge(Ack(stream=stream, seq=2)) == 0, "an ack repeated drops nothing"
    assert journal.pending() == [start_b]
    assert journal.oldest == 3

    again = Journal(path)
    assert again.durable
    assert again.stream == stream
    assert again.pending() == [start_b]
    assert again.open_session == start_b
    end_b = again.record("end", "b", T0 + 100, T0 + 200)
    assert end_b.seq == 4, "numbering goes on where it stopped"
    assert again.open_session is None
    assert again.acknowledge(Ack(stream=stream, seq=4)) == 2
    assert again.pending() == []
    assert again.oldest == 5

    third = Journal(path)
    assert third.pending() == []
    assert third.open_session is None
    assert third.record("start", "c", T0 + 300).seq == 5
    assert list(tmp_path.iterdir()) == [path], "no temporary or set-aside files left"


def test_the_file_is_plain_json_of_format_1(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    journal = Journal(path)
    journal.record("start", "a", T0)
    data = json.loads(path.read_bytes())
    assert data["format"] == 1
    assert data["stream"] == journal.stream
    assert data["next_seq"] == 2
    assert data["open"]["session_id"] == "a"
    assert [item["seq"] for item in data["pending"]] == [1]


def test_acknowledgement_of_another_stream_is_ignored(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.json")
    record_session(journal, "a", T0)
    stream = journal.stream
    assert journal.acknowledge(Ack(stream="someone-else", seq=1)) == 0
    assert journal.acknowledge(Ack(stream="someone-else", seq=10**6)) == 0
    assert journal.stream == stream
    assert seqs(journal) == [1, 2]


def test_acknowledgement_beyond_what_was_written_starts_a_new_stream(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    journal = Journal(path)
    record_session(journal, "a", T0)
    journal.record("start", "b", T0 + 100)
    old = journal.stream
    assert journal.acknowledge(Ack(stream=old, seq=1)) == 1
    held = journal.pending()
    assert [m.seq for m in held] == [2, 3]

    # The daemon has committed event 4 of this stream, which this journal never
    # wrote: it was restored from an older copy.
    assert journal.acknowledge(Ack(stream=old, seq=4)) == 0
    assert journal.stream != old
    renumbered = journal.pending()
    assert [(m.stream, m.seq) for m in renumbered] == [(journal.stream, 1), (journal.stream, 2)]
    assert [(m.event, m.session_id, m.started_at, m.ended_at) for m in renumbered] == [
        (m.event, m.session_id, m.started_at, m.ended_at) for m in held
    ], "the events are still held, only renumbered"
    assert journal.record("end", "b", T0 + 100, T0 + 150).seq == 3
    # Late acks of the old stream no longer touch anything.
    assert journal.acknowledge(Ack(stream=old, seq=3)) == 0
    assert seqs(journal) == [1, 2, 3]

    reloaded = Journal(path)
    assert reloaded.stream == journal.stream
    assert seqs(reloaded) == [1, 2, 3]


def test_acknowledgement_of_exactly_the_next_number_is_beyond_it(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.json")
    record_session(journal, "a", T0)
    stream = journal.stream
    assert journal.acknowledge(Ack(stream=stream, seq=2)) == 2
    assert journal.stream == stream
    assert journal.acknowledge(Ack(stream=stream, seq=3)) == 0
    assert journal.stream != stream
    assert journal.record("start", "b", T0 + 100).seq == 1


def test_overflow_drops_the_oldest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "MAX_PENDING", 5)
    path = tmp_path / "journal.json"
    journal = Journal(path)
    for n in range(4):
        record_session(journal, f"s{n}", T0 + 100 * n)
    assert seqs(journal) == [4, 5, 6, 7, 8]
    assert journal.oldest == 4
    assert seqs(Journal(path)) == [4, 5, 6, 7, 8]


def test_without_a_file_it_works_in_memory(tmp_path: Path) -> None:
    journal = Journal(None)
    assert not journal.durable
    record_session(journal, "a", T0)
    assert seqs(journal) == [1, 2]
    assert not journal.flush()
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "deeper" / "journal.json"
    journal = Journal(path)
    assert journal.durable
    journal.record("start", "a", T0)
    assert Journal(path).open_session == journal.open_session


# -- damaged files -------------------------------------------------------------------


def _valid_document(tmp_path: Path) -> bytes:
    source = tmp_path / "source" / "journal.json"
    journal = Journal(source)
    for n in range(3):
        record_session(journal, f"s{n}", T0 + 100 * n)
    journal.record("start", "open", T0 + 1000)
    return source.read_bytes()


def _assert_set_aside(path: Path, content: bytes) -> None:
    journal = Journal(path, clock=fixed_clock)
    aside = path.with_name(path.name + ".corrupt-1234")
    assert aside.read_bytes() == content, "the damaged file is kept for a look"
    assert journal.durable
    assert journal.pending() == []
    assert journal.open_session is None
    started = journal.record("start", "fresh", T0)
    assert started.seq == 1
    reloaded = Journal(path)
    assert reloaded.stream == journal.stream, "a new, valid journal replaced it"
    assert reloaded.pending() == [started]


GOOD_EVENT = {"v": 2, "event": "start", "session_id": "a", "started_at": T0, "stream": "s"}


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00\x01\x02",
        bytes(range(256)) * 4,
        b"\0" * 4096,
        b"[1, 2, 3]",
        b"null",
        b"42",
        b'"journal"',
        b"[" * 100_000,
        b'{"format": 2, "stream": "s", "next_seq": 1, "pending": []}',
        b'{"stream": "s", "next_seq": 1, "pending": []}',
        b'{"format": 1, "next_seq": 1, "pending": []}',
        b'{"format": 1, "stream": 7, "next_seq": 1, "pending": []}',
        b'{"format": 1, "stream": "s", "next_seq": 0, "pending": []}',
        b'{"format": 1, "stream": "s", "next_seq": true, "pending": []}',
        b'{"format": 1, "stream": "not an id!", "next_seq": 1, "pending": []}',
        b'{"format": 1, "stream": "", "next_seq": 1, "pending": []}',
        b'{"format": 1, "stream": "s", "next_seq": "2", "pending": []}',
        b'{"format": 1, "stream": "s", "next_seq": 2}',
        b'{"format": 1, "stream": "s", "next_seq": 2, "pending": 5}',
        b'{"format": 1, "stream": "s", "next_seq": 2, "pending": "abc"}',
        b'{"format": 1, "stream": "s", "next_seq": 2, "pending": [{"v": 2}]}',
        json.dumps(  # an event of another stream
            {"format": 1, "stream": "t", "next_seq": 2, "pending": [{**GOOD_EVENT, "seq": 1}]}
        ).encode(),
        json.dumps(  # an event numbered past next_seq
            {"format": 1, "stream": "s", "next_seq": 2, "pending": [{**GOOD_EVENT, "seq": 2}]}
        ).encode(),
        json.dumps(  # a pending event without its number
            {"format": 1, "stream": "s", "next_seq": 2, "pending": [GOOD_EVENT]}
        ).encode(),
        json.dumps(
            {"format": 1, "stream": "s", "next_seq": 2, "pending": [], "open": "session"}
        ).encode(),
    ],
    ids=lambda content: repr(content[:40]),
)
def test_damaged_file_is_set_aside(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "journal.json"
    path.write_bytes(content)
    _assert_set_aside(path, content)


def test_truncated_file_is_set_aside(tmp_path: Path) -> None:
    document = _valid_document(tmp_path)
    assert Journal(tmp_path / "source" / "journal.json").open_session is not None
    offsets = sorted({0, 1, 2, len(document) - 1, *range(0, len(document), 37)})
    for offset in offsets:
        folder = tmp_path / f"cut-{offset}"
        folder.mkdir()
        path = folder / "journal.json"
        path.write_bytes(document[:offset])
        _assert_set_aside(path, document[:offset])


def test_unreadable_path_is_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    path.mkdir()  # a folder where the file belongs
    journal = Journal(path)
    assert not journal.durable
    assert journal.problem is not None
    record_session(journal, "a", T0)
    assert seqs(journal) == [1, 2], "kept in memory"
    assert not journal.flush()
    path.rmdir()
    assert journal.flush()
    assert seqs(Journal(path)) == [1, 2]


# -- real file systems that refuse writes ------------------------------------------------


def test_full_disk_keeps_events_in_memory_until_space_returns(small_disk: Path) -> None:
    path = small_disk / "journal.json"
    journal = Journal(path)
    assert journal.durable
    first = journal.record("start", "a", T0)
    fill(small_disk)

    events = [journal.record("end", "a", T0, T0 + 60)]
    assert not journal.durable
    assert journal.problem is not None and "journal.json" in journal.problem
    events += record_session(journal, "b", T0 + 100)
    assert journal.pending() == [first, *events], "kept in memory"
    assert not journal.flush(), "still full"
    assert Journal(path).pending() == [first], "the file holds the last journal written"

    (small_disk / "filler").unlink()
    assert journal.flush()
    assert journal.durable
    reloaded = Journal(path)
    assert reloaded.stream == journal.stream
    assert reloaded.pending() == [first, *events]
    assert sorted(p.name for p in small_disk.iterdir()) == ["journal.json"]


def test_full_disk_at_start_up(small_disk: Path) -> None:
    fill(small_disk)
    path = small_disk / "journal.json"
    journal = Journal(path)
    assert not journal.durable
    record_session(journal, "a", T0)
    assert seqs(journal) == [1, 2]
    (small_disk / "filler").unlink()
    assert journal.flush()
    assert seqs(Journal(path)) == [1, 2]


def test_read_only_file_system(small_disk: Path) -> None:
    path = small_disk / "journal.json"
    journal = Journal(path)
    first = journal.record("start", "a", T0)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        # Restarting on a read-only disk: the journal is read, the open session kept.
        restarted = Journal(path)
        assert restarted.open_session == first
        assert restarted.pending() == [first]
        end = restarted.record("end", "a", T0, T0 + 60)
        assert not restarted.durable
        assert restarted.pending() == [first, end]
        assert not restarted.flush()
        # A new journal where none can be written still numbers its events.
        elsewhere = Journal(small_disk / "other.json")
        assert not elsewhere.durable
        assert elsewhere.record("start", "b", T0).seq == 1
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert restarted.flush()
    assert Journal(path).pending() == [first, end]
