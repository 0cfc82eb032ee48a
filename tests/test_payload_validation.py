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
from ocrfleet_agent.payloads import Health, InvalidPayload, SessionMessage
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
    "agent_version": "0.2.0",
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
