"""The Libki kind on recorded answers, and the core's seat reconciliation, without a daemon."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.plugin import PollError, SessionEvent, SessionEventType, Usage
from ocrfleet.poller import seat_changes
from ocrfleet.state import Availability, DeviceView, PollFailure, Presence
from ocrfleet_libki.api import (
    CLIENTS,
    RESERVATIONS,
    build_reading,
    reserved_clients,
    session_key,
    validated,
)
from ocrfleet_libki.kind import LibkiKind, LibkiOptions
from ocrfleet_libki.reading import ClientState, LibkiReading
from tests.support.words import dutch

FIXTURES = Path(__file__).parent / "fixtures" / "libki"
SEATS = frozenset({"pc-01", "pc-02", "pc-03"})


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def reading(
    clients: str = "clients-before.json",
    previous: LibkiReading | None = None,
    now: float = 1000.0,
    seats: frozenset[str] | None = SEATS,
) -> LibkiReading:
    records = validated(CLIENTS, fixture(clients), "api/v2/clients")
    reserved = reserved_clients(validated(RESERVATIONS, fixture("reservations.json"), "res"))
    return build_reading(
        records,
        reserved,
        location="MAIN",
        seat_names={},
        seats=seats,
        previous=previous,
        now=now,
    )


def libki_device() -> DeviceInfo:
    options = LibkiOptions.model_validate({"url": "http://127.0.0.1:1/", "location": "MAIN"})
    return DeviceInfo(DeviceKey("lib", "libki"), "libki", options=options)


def test_clients_of_the_location_by_state() -> None:
    first = reading()
    states = {client.name: client.state for client in first.clients}
    assert states == {
        "PC-01": ClientState.AVAILABLE,
        "PC-02": ClientState.IN_USE,
        "PC-03": ClientState.RESERVED,
        "PC-09": ClientState.IN_USE,
        "LAPTOP-01": ClientState.OFFLINE,
    }, "ZD-PC-01 is at another location"
    assert first.unmatched == 2  # PC-09 and LAPTOP-01 are no seats of the site
    assert reading(seats=None).unmatched is None


def test_nothing_about_the_user_and_not_libkis_own_session_id() -> None:
    text = repr(reading())
    for secret in ("testpatron7", "Patron", "b1946ac92492d2347c6235b4d2611184"):
        assert secret not in text
    key = session_key("PC-02", "b1946ac92492d2347c6235b4d2611184")
    assert key.startswith("libki-") and len(key) <= 64
    assert key == session_key("PC-02", "b1946ac92492d2347c6235b4d2611184")
    assert key != session_key("PC-01", "b1946ac92492d2347c6235b4d2611184")


def test_a_session_keeps_the_time_it_was_first_seen() -> None:
    first = reading(now=1000.0)
    second = reading(previous=first, now=1060.0)
    seen = {c.name: c.session_seen_at for c in second.clients if c.session_id is not None}
    assert seen == {"PC-02": 1000.0, "PC-09": 1000.0}
    later = reading("clients-later.json", previous=second, now=1120.0)
    seen = {c.name: c.session_seen_at for c in later.clients if c.session_id is not None}
    assert seen == {"PC-01": 1120.0, "PC-09": 1000.0}


def test_seat_sessions_of_the_sites_seats_only() -> None:
    kind = LibkiKind()
    sessions = kind.seat_sessions(libki_device(), reading(now=1000.0), SEATS)
    assert sessions == {
        "pc-01": None,
        "pc-02": SessionEvent(
            SessionEventType.START, session_key("PC-02", "b1946ac92492d2347c6235b4d2611184"), 1000.0
        ),
        "pc-03": None,
    }


def test_seat_names_map_clients_named_otherwise() -> None:
    records = validated(CLIENTS, fixture("clients-before.json"), "api/v2/clients")
    mapped = build_reading(
        records,
        set(),
        location="MAIN",
        seat_names={"PC-09": "laptop-09"},
        seats=frozenset({"laptop-09"}),
        previous=None,
        now=0.0,
    )
    assert [c.seat for c in mapped.clients if c.name == "PC-09"] == ["laptop-09"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("clients-no-name.json", "api/v2/clients: 0.name: Field required"),
        (
            {"error": "authentication required"},
            "api/v2/clients: the answer: Input should be a valid list",
        ),
    ],
)
def test_an_answer_of_another_shape_is_a_clear_poll_error(answer: Any, message: str) -> None:
    data = fixture(answer) if isinstance(answer, str) else answer
    with pytest.raises(PollError) as caught:
        validated(CLIENTS, data, "api/v2/clients")
    assert caught.value.reason == "protocol"
    assert caught.value.detail == message


def card_of(libki: LibkiReading, failed: bool = False) -> tuple[str, str, list[str]]:
    view = DeviceView(
        info=libki_device(),
        presence=Presence(Availability.UNKNOWN, not failed, 0.0),
        last_seen=0.0,
        reading=libki,
        reading_at=0.0,
        usage=Usage(),
        failure=PollFailure("refused", 0.0, 0.0) if failed else None,
    )
    card = LibkiKind().status_card(view)
    return (
        dutch(card.condition),
        card.tone,
        [dutch(fact) for fact in card.facts],
    )


def test_the_card_says_in_use_reserved_and_free_in_dutch() -> None:
    condition, _tone, facts = card_of(reading())
    assert condition == ""
    assert facts == ["2 van 4 computers in gebruik", "1 gereserveerd", "1 vrij zonder reservatie"]


def test_the_card_warns_when_no_computer_is_free_without_a_reservation() -> None:
    held = reading()
    no_walk_in = LibkiReading(
        tuple(c for c in held.clients if c.state is not ClientState.AVAILABLE), held.unmatched
    )
    condition, tone, _facts = card_of(no_walk_in)
    assert tone == "warning"
    assert condition.startswith("Geen computer vrij zonder reservatie")
    assert card_of(held, failed=True) == ("", "ok", [])


# -- the core: from a seat's usage to what a reservation system reports ------


START = SessionEvent(SessionEventType.START, "libki-a", 100.0)


def test_a_new_session_starts() -> None:
    assert seat_changes(Usage(), START, 160.0) == [START]


def test_the_same_session_again_changes_nothing() -> None:
    assert seat_changes(Usage(True, "libki-a", 100.0, 1), START, 160.0) == []
    assert seat_changes(Usage(), None, 160.0) == []


def test_a_session_gone_ends_at_the_poll() -> None:
    end = SessionEvent(SessionEventType.END, "libki-a", 100.0, 160.0)
    assert seat_changes(Usage(True, "libki-a", 100.0, 1), None, 160.0) == [end]


def test_another_session_ends_the_old_one_first() -> None:
    other = SessionEvent(SessionEventType.START, "libki-b", 150.0)
    end = SessionEvent(SessionEventType.END, "libki-a", 100.0, 160.0)
    assert seat_changes(Usage(True, "libki-a", 100.0, 1), other, 160.0) == [end, other]
