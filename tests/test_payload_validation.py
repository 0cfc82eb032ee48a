"""The daemon's compiled health validator and the agent's own parser agree on every payload.

Both come from the specs in ocrfleet_agent.payloads (ocrfleet_pc/validation.py
says why there are two); a payload one accepts and the other refuses would
make the daemon and `ocrfleet-agent check` disagree.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrfleet.kinds import PayloadError
from ocrfleet_agent.payloads import (
    INTERNET_ERRORS,
    Health,
    InternetReport,
    InvalidPayload,
    SessionMessage,
)
from ocrfleet_pc.validation import compile_validator

COMPILED = compile_validator(
    "Health", Health.VERSIONS, Health.SPECS, Health, reference=Health.parse
)
VALID: dict[str, Any] = {
    "v": 1,
    "ts": 1767261600.5,
    "cpu_ratio": 0.12,
    "memory_used_ratio": 0.41,
    "disk_free_bytes": 87431553024,
    "uptime_seconds": 5423.7,
    "os": "Windows 11",
    "agent_version": "0.3.0",
    "frozen": True,
    "eid_reader_present": None,
}
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from([[], {}, "1", 1.0, 0, -1, 2**63, 2**63 - 1, 1e308, 3_153_600_001]),
)


def outcome_compiled(payload: bytes) -> tuple[str, Health | None]:
    try:
        return "ok", COMPILED(payload)
    except PayloadError as exc:
        return exc.reason, None


def outcome_agent(payload: bytes) -> tuple[str, Health | None]:
    try:
        return "ok", Health.parse(payload)
    except InvalidPayload as exc:
        return exc.reason, None


def same(payload: bytes) -> None:
    compiled, agent = outcome_compiled(payload), outcome_agent(payload)
    # The same reason too: a refused payload is the agent parser's to explain.
    assert compiled[0] == agent[0], (payload, compiled, agent)
    assert compiled[1] == agent[1], payload


def dumps(data: Any) -> bytes:
    return json.dumps(data, allow_nan=True).encode()


@settings(max_examples=600, deadline=None)
@given(field=st.sampled_from([*VALID, "extra"]), value=ODD_VALUES, drop=st.booleans())
def test_one_field_changed_or_dropped(field: str, value: Any, drop: bool) -> None:
    data = dict(VALID)
    if drop:
        data.pop(field, None)
    else:
        data[field] = value
    same(dumps(data))


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=120))
def test_random_bytes(payload: bytes) -> None:
    same(payload)


def test_edges_agree() -> None:
    edges = [
        dumps(VALID),
        dumps({**VALID, "ts": 1767261600}),  # an integer where a number goes
        dumps({**VALID, "disk_free_bytes": 5.0}),  # a float where an integer goes
        dumps({**VALID, "cpu_ratio": math.nan}),
        dumps({**VALID, "os": "x" * 201}),
        b'{"v": 1, "ts": 1e400}',
        '{"v": 1}'.encode("utf-16"),
        b"[" * 600 + b"]" * 600,
        b'{"v": true}',
        dumps({**VALID, "os": "\ud800"}),  # escaped lone surrogate
        dumps({**VALID, "extra": ["\udfff"]}),
        dumps({**VALID, "extra": math.inf}),  # in a field both ignore
        dumps({**VALID, "extra": {"deep": [-math.inf, math.nan]}}),
        dumps({**VALID, "os": "NaN Infinity"}),  # the words, in a string
        dumps({**VALID, "os": "\U0001f600"}),  # a valid pair
        b"",
        # Bytes beyond ASCII, which the fast path leaves to the agent's parser.
        json.dumps({**VALID, "os": "Windows 11 Éducation"}, ensure_ascii=False).encode(),
        dumps(VALID)[:-1] + b', "extra": "\xff"}',  # not UTF-8, in a field both ignore
        dumps(VALID)[:-1] + b', "os": "later"}',  # a key twice: the last one counts
        dumps(dict(reversed(VALID.items()))),  # any key order
        dumps({**VALID, "extra": 10**400}),
    ]
    for payload in edges:
        same(payload)
    assert outcome_agent(dumps(VALID))[0] == "ok"
    assert outcome_agent(dumps({**VALID, "cpu_ratio": 1.5}))[0] == "invalid"
    assert outcome_compiled(dumps({**VALID, "extra": math.inf}))[0] == "invalid"
    assert outcome_compiled(dumps({**VALID, "os": "NaN Infinity"}))[0] == "ok"
    assert outcome_compiled(dumps(VALID)[:-1] + b', "extra": "\xff"}')[0] == "unparsable"


def test_refusals_in_the_agents_words() -> None:
    with pytest.raises(PayloadError) as refused:
        COMPILED(dumps({**VALID, "cpu_ratio": 1.5}))
    assert (refused.value.reason, refused.value.detail) == (
        "invalid",
        "cpu_ratio: must be at most 1",
    )
    with pytest.raises(PayloadError) as refused:
        COMPILED(dumps({**VALID, "v": 2}))
    assert refused.value.reason == "unsupported_version"


def test_deep_nesting_in_an_unknown_field_is_unparsable_for_both() -> None:
    # msgspec gives up on deep nesting with a RecursionError, not a
    # DecodeError: it must reach the agent's parser, not escape as a crash.
    for depth in (1900, 3000):  # within and beyond MAX_FAST_PAYLOAD
        payload = dumps(VALID)[:-1] + b', "extra": ' + b"[" * depth + b"]" * depth + b"}"
        same(payload)
        assert outcome_agent(payload)[0] == "unparsable"


def test_integer_past_pythons_digit_limit_in_an_unknown_field_is_refused_by_both() -> None:
    payload = dumps(VALID)[:-1] + b', "extra": ' + b"9" * 5000 + b"}"
    same(payload)
    assert outcome_agent(payload)[0] == "invalid"


# -- the optional internet part (agent 0.3) -----------------------------------------

INTERNET: dict[str, Any] = {
    "ok": True,
    "checked_at": 1767261590.25,
    "latency_ms": 182.5,
    "dns_ms": 11.2,
    "status": 200,
    "error": None,
    "detail": None,
}
FAILED: dict[str, Any] = {
    "ok": False,
    "checked_at": 1767261590.25,
    "latency_ms": None,
    "dns_ms": None,
    "status": None,
    "error": "dns",
    "detail": "localhost: [Errno -2] Name or service not known",
}


@settings(max_examples=600, deadline=None)
@given(
    base=st.sampled_from([INTERNET, FAILED]),
    field=st.sampled_from([*INTERNET, "extra"]),
    value=st.one_of(ODD_VALUES, st.sampled_from([*INTERNET_ERRORS, 0, 99, 100, 302, 404, 600])),
    drop=st.booleans(),
)
def test_one_field_of_the_internet_part_changed_or_dropped(
    base: dict[str, Any], field: str, value: Any, drop: bool
) -> None:
    internet = dict(base)
    if drop:
        internet.pop(field, None)
    else:
        internet[field] = value
    same(dumps({**VALID, "internet": internet}))


@settings(max_examples=200, deadline=None)
@given(value=ODD_VALUES)
def test_the_internet_part_itself_replaced(value: Any) -> None:
    same(dumps({**VALID, "internet": value}))


@pytest.mark.parametrize(
    ("internet", "outcome"),
    [
        (INTERNET, "ok"),
        (FAILED, "ok"),
        ({"ok": True, "checked_at": 1, "latency_ms": 5, "status": 301}, "ok"),  # nulls left out
        ({**INTERNET, "extra": {"later": [1, 2]}}, "ok"),  # unknown keys ignored, as above
        ({**FAILED, "error": "http", "status": 503, "detail": "HTTP status 503"}, "ok"),
        ({**FAILED, "error": "timeout", "dns_ms": 3.5}, "ok"),
        # Rules between the fields (InternetReport.checked).
        ({**INTERNET, "error": "dns"}, "invalid"),
        ({**INTERNET, "latency_ms": None}, "invalid"),
        ({**INTERNET, "status": None}, "invalid"),
        ({**INTERNET, "status": 500}, "invalid"),
        ({**FAILED, "error": None}, "invalid"),
        ({**FAILED, "latency_ms": 12.0}, "invalid"),
        ({**FAILED, "error": "http"}, "invalid"),
        ({**FAILED, "error": "http", "status": 204}, "invalid"),
        ({**FAILED, "status": 404}, "invalid"),
        # Each field on its own.
        ({**FAILED, "error": "proxy"}, "invalid"),
        ({**FAILED, "detail": "x" * 201}, "invalid"),
        ({**INTERNET, "status": 200.0}, "invalid"),
        ({**INTERNET, "ok": 1}, "invalid"),
        ({**INTERNET, "latency_ms": -1}, "invalid"),
        ({**INTERNET, "checked_at": None}, "invalid"),
        ({key: value for key, value in INTERNET.items() if key != "ok"}, "invalid"),
        (None, "invalid"),  # optional, so absent: never null
        ([True, 1767261590.25, 182.5], "invalid"),
        ("ok", "invalid"),
    ],
)
def test_internet_part_edges_agree(internet: Any, outcome: str) -> None:
    payload = dumps({**VALID, "internet": internet})
    same(payload)
    assert outcome_agent(payload)[0] == outcome
    # Past MAX_FAST_PAYLOAD only the agent's parser judges: the same answer.
    long_payload = dumps({**VALID, "internet": internet, "padding": "x" * 5000})
    assert outcome_compiled(long_payload) == outcome_compiled(payload)


def test_internet_part_parsed_into_the_agents_report() -> None:
    _, health = outcome_compiled(dumps({**VALID, "internet": INTERNET}))
    assert health is not None and health.internet == InternetReport(**INTERNET)
    assert health == Health.parse(health.to_json()), "what the agent sends, the daemon reads"
    assert json.loads(health.to_json())["internet"] == INTERNET, "nulls written out"
    _, without = outcome_compiled(dumps(VALID))
    assert without is not None and without.internet is None
    assert "internet" not in json.loads(without.to_json())


def test_a_daemon_from_before_the_part_ignores_it() -> None:
    # The specs as they were before agent 0.3: the part is an unknown field.
    before = {name: spec for name, spec in Health.SPECS.items() if name != "internet"}

    def reference(payload: bytes) -> tuple[Any, ...]:
        # The agent's parser reads only the fields of its specs; here the
        # compiled path must accept the report by itself.
        raise InvalidPayload("invalid", "the compiled path refused it")

    old = compile_validator(
        "OldHealth", Health.VERSIONS, before, lambda *fields: fields[:-1], reference=reference
    )
    for internet in (INTERNET, FAILED):
        fields = old(dumps({**VALID, "internet": internet}))
        assert fields == tuple(VALID[name] for name in before)


def test_internet_refusals_name_the_field() -> None:
    with pytest.raises(PayloadError) as refused:
        COMPILED(dumps({**VALID, "internet": {**INTERNET, "error": "dns"}}))
    assert refused.value.detail == "internet.error: must be null when ok"
    with pytest.raises(PayloadError) as refused:
        COMPILED(dumps({**VALID, "internet": {**INTERNET, "latency_ms": "fast"}}))
    assert refused.value.detail == "internet.latency_ms: must be a JSON number"
    with pytest.raises(PayloadError) as refused:
        COMPILED(dumps({**VALID, "internet": {"checked_at": 1}}))
    assert refused.value.detail == "internet.ok: required"


SESSION = compile_validator(
    "SessionMessage",
    SessionMessage.VERSIONS,
    SessionMessage.SPECS,
    SessionMessage,
    reference=SessionMessage.parse,
    check=SessionMessage.check,
)


def session_outcome(parse: Any, payload: bytes) -> tuple[str, SessionMessage | None]:
    try:
        return "ok", parse(payload)
    except (PayloadError, InvalidPayload) as exc:
        return exc.reason, None


@pytest.mark.parametrize(
    "message",
    [
        {"event": "start", "session_id": "s1", "started_at": 1, "v": 2, "stream": "a", "seq": 1},
        {"event": "start", "session_id": "s1", "started_at": 1, "v": 1},
        {"event": "end", "session_id": "s1", "started_at": 1, "ended_at": 5, "v": 1},
        # An optional field that is not nullable: null is refused, not "absent".
        {"event": "start", "session_id": "s1", "started_at": 1, "v": 1, "stream": None},
        {"event": "start", "session_id": "s1", "started_at": 1, "v": 2, "stream": "a", "seq": None},
        # Rules between fields (SessionMessage.check).
        {"event": "start", "session_id": "s1", "started_at": 1, "v": 1, "seq": 3},
        {"event": "start", "session_id": "s1", "started_at": 1, "v": 2, "stream": "a"},
        {"event": "end", "session_id": "s1", "started_at": 5, "ended_at": 1, "v": 1},
        {"event": "start", "session_id": "s1", "started_at": 1, "ended_at": 2, "v": 1},
        {
            "event": "start",
            "session_id": "s",
            "started_at": 1,
            "v": 2,
            "stream": "a",
            "seq": 2,
            "oldest": 3,
        },
    ],
)
def test_a_spec_with_rules_between_fields_compiles_as_strict_as_its_parser(
    message: dict[str, Any],
) -> None:
    payload = dumps(message)
    assert session_outcome(SESSION, payload) == session_outcome(SessionMessage.parse, payload)
