"""The agent's MQTT payloads (docs/mqtt.md is the reference), shared with the daemon.

The daemon's `pc` kind parses with exactly this module, so the agent and the
daemon cannot disagree about a field. It has no dependency beyond the
standard library: pydantic alone would take the agent past its memory budget
(bench/README.md, agent_footprint.py).

Unknown fields are ignored so that a newer agent can talk to an older
daemon; types are strict so a string where a number belongs is refused
rather than guessed at.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple, Self

# Timestamps are Unix seconds; anything outside 1970-3000 is a broken clock
# or a hostile payload, and would poison durations and sums for good.
MAX_TIMESTAMP = 32_503_680_000
_MAX_SEQ = 2**53  # exact in a double, so any JSON reader keeps it intact
_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
_ID = re.compile(_ID_PATTERN)

Reason = Literal["unparsable", "invalid", "unsupported_version"]


class InvalidPayload(ValueError):
    """A payload that cannot be used; `reason` is a fixed word fit for a metric label."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason: Reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Spec:
    """One JSON field: its type, limits and meaning. Drives parsing and the JSON Schema."""

    type: Literal["number", "integer", "string", "boolean", "object"]
    description: str = ""
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] | None = None
    # An object: its own fields, and what builds its value from them (in the
    # order of `properties`; it may refuse them with InvalidPayload).
    properties: Mapping[str, Spec] = field(default_factory=dict)
    build: Callable[..., Any] | None = None

    def check(self, name: str, value: Any) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise InvalidPayload("invalid", f"{name}: must not be null")
        check = _TYPE_CHECKS[self.type]
        if not check(value):
            raise InvalidPayload("invalid", f"{name}: must be a JSON {self.type}")
        if self.type == "object":
            values = _fields(value, self.properties, prefix=f"{name}.")
            return values if self.build is None else self.build(*values.values())
        if self.type in ("number", "integer"):
            if self.type == "number":
                try:
                    value = float(value)
                except OverflowError:
                    raise InvalidPayload("invalid", f"{name}: number too large") from None
                if not math.isfinite(value):
                    raise InvalidPayload("invalid", f"{name}: must be finite")
            if self.minimum is not None and value < self.minimum:
                raise InvalidPayload("invalid", f"{name}: must be at least {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                raise InvalidPayload("invalid", f"{name}: must be at most {self.maximum:g}")
        elif self.type == "string":
            if self.max_length is not None and len(value) > self.max_length:
                raise InvalidPayload("invalid", f"{name}: at most {self.max_length} characters")
            if self.min_length is not None and len(value) < self.min_length:
                raise InvalidPayload("invalid", f"{name}: at least {self.min_length} characters")
            if self.choices is not None and value not in self.choices:
                raise InvalidPayload("invalid", f"{name}: must be one of {list(self.choices)}")
            if self.pattern is not None and not _ID.fullmatch(value):
                raise InvalidPayload("invalid", f"{name}: only A-Z a-z 0-9 _ . : - allowed")
        return value

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type}
        if self.description:
            schema["description"] = self.description
        for key, value in (
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("pattern", self.pattern),
        ):
            if value is not None:
                schema[key] = int(value) if isinstance(value, float) else value
        if self.choices is not None:
            schema["enum"] = list(self.choices)
        if self.type == "object":
            schema["properties"] = {name: spec.schema() for name, spec in self.properties.items()}
            schema["required"] = [name for name, spec in self.properties.items() if spec.required]
        if self.nullable:
            schema["type"] = [self.type, "null"]
        return schema


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "number": _is_number,
    "integer": _is_integer,
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
}


def _timestamp(description: str, **more: Any) -> Spec:
    return Spec("number", description, minimum=0, maximum=MAX_TIMESTAMP, **more)


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not a number")


def _object(payload: bytes | str) -> dict[str, Any]:
    try:
        # UTF-8 only: json.loads would also guess UTF-16 and UTF-32 from bytes.
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        data = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidPayload("unparsable", f"not JSON: {exc}") from None
    except ValueError as exc:  # NaN or Infinity, refused by _reject_constant
        raise InvalidPayload("invalid", str(exc)) from None
    except RecursionError:
        raise InvalidPayload("unparsable", "JSON nested too deeply") from None
    if "\\u" in text:
        # An escaped lone surrogate is valid JSON but no text: refuse it, as
        # the daemon's validator does, anywhere in the document.
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidPayload("unparsable", "a lone surrogate is not text") from None
    if not isinstance(data, dict):
        raise InvalidPayload("invalid", "payload: must be a JSON object")
    return data


def _version(data: Mapping[str, Any], accepted: tuple[int, ...]) -> int:
    if "v" not in data:
        raise InvalidPayload("invalid", "v: required")
    v = data["v"]
    if not _is_integer(v) or v not in accepted:
        known = " or ".join(str(n) for n in accepted)
        raise InvalidPayload("unsupported_version", f"v: only schema version {known} is understood")
    return int(v)


def _fields(data: Mapping[str, Any], specs: Mapping[str, Spec], prefix: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in data:
            if spec.required:
                raise InvalidPayload("invalid", f"{prefix}{name}: required")
            values[name] = None
            continue
        values[name] = spec.check(prefix + name, data[name])
    return values


def json_schema(
    title: str, description: str, versions: tuple[int, ...], specs: Mapping[str, Spec]
) -> dict[str, Any]:
    version: dict[str, Any] = {"type": "integer", "description": "payload schema version"}
    version["enum" if len(versions) > 1 else "const"] = (
        list(versions) if len(versions) > 1 else versions[0]
    )
    return {
        "title": title,
        "description": description,
        "type": "object",
        "properties": {"v": version, **{name: spec.schema() for name, spec in specs.items()}},
        "required": ["v", *(name for name, spec in specs.items() if spec.required)],
    }


def _dump(message: Any) -> bytes:
    data = message._asdict() if isinstance(message, Health) else asdict(message)
    if isinstance(data.get("internet"), InternetReport):
        # Its nulls stay: they say "no answer", "no error" in so many words.
        data["internet"] = data["internet"]._asdict()
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


# -- the internet check, a part of health ------------------------------------------

InternetError = Literal["dns", "connect", "tls", "timeout", "http", "other"]
INTERNET_ERRORS: tuple[InternetError, ...] = ("dns", "connect", "tls", "timeout", "http", "other")
# The longest check anyone configures is far below this; more is a broken agent.
_MAX_MS = 600_000.0


class _InternetFields(NamedTuple):
    ok: bool
    checked_at: float
    latency_ms: float | None = None
    dns_ms: float | None = None
    status: int | None = None
    error: InternetError | None = None
    detail: str | None = None


class InternetReport(_InternetFields):
    """The agent's last check of the way to the internet: a name resolved, an HTTPS page fetched.

    `Health.internet`; absent when the agent is not told to check. Rules
    between the fields (`checked`): a check that succeeded has a latency and
    an HTTP status of 2xx or 3xx and no error; one that failed has an error,
    no latency, and a status only for the error `http`.
    """

    __slots__ = ()

    SPECS: ClassVar[dict[str, Spec]] = {
        "ok": Spec("boolean", "the page was fetched: name resolved, TLS verified, 2xx or 3xx"),
        "checked_at": _timestamp("Unix time the check started"),
        "latency_ms": Spec(
            "number",
            "milliseconds the whole check took (look-up, connect, TLS, answer); null unless ok",
            required=False,
            nullable=True,
            minimum=0,
            maximum=_MAX_MS,
        ),
        "dns_ms": Spec(
            "number",
            "milliseconds the name look-up took; null if it failed",
            required=False,
            nullable=True,
            minimum=0,
            maximum=_MAX_MS,
        ),
        "status": Spec(
            "integer",
            "the HTTP status of the answer; null if none came",
            required=False,
            nullable=True,
            minimum=100,
            maximum=599,
        ),
        "error": Spec(
            "string",
            "what failed; null when ok",
            required=False,
            nullable=True,
            choices=INTERNET_ERRORS,
        ),
        "detail": Spec(
            "string",
            "what failed, in the words of the system, for IT; null when ok",
            required=False,
            nullable=True,
            max_length=200,
        ),
    }

    @classmethod
    def checked(cls, *values: Any) -> InternetReport:
        """The report from its fields in order, refused (InvalidPayload) if they disagree."""
        # Every field given (both parsers give all): tuple.__new__ builds it
        # in C, as the daemon's validator does for Health (every PC, every minute).
        report = tuple.__new__(cls, values) if len(values) == len(cls._fields) else cls(*values)
        ok, _checked_at, latency_ms, _dns_ms, status, error, _detail = report
        if ok:
            if error is not None:
                raise InvalidPayload("invalid", "internet.error: must be null when ok")
            if latency_ms is None:
                raise InvalidPayload("invalid", "internet.latency_ms: required when ok")
            if status is None or not 200 <= status < 400:
                raise InvalidPayload("invalid", "internet.status: a 2xx or 3xx is required when ok")
            return report
        if error is None:
            raise InvalidPayload("invalid", "internet.error: required when not ok")
        if latency_ms is not None:
            raise InvalidPayload("invalid", "internet.latency_ms: must be null when not ok")
        if error == "http":
            if status is None or 200 <= status < 400:
                raise InvalidPayload(
                    "invalid", "internet.status: the error http needs a status other than 2xx/3xx"
                )
        elif status is not None:
            raise InvalidPayload("invalid", "internet.status: only the error http has one")
        return report


# -- health ------------------------------------------------------------------------


class _HealthFields(NamedTuple):
    # A named tuple, not a dataclass: the daemon builds one per health report
    # (every PC, every minute), and a frozen dataclass takes four times as long.
    ts: float
    cpu_ratio: float
    memory_used_ratio: float
    disk_free_bytes: int
    uptime_seconds: float
    os: str
    agent_version: str
    frozen: bool | None = None
    eid_reader_present: bool | None = None
    internet: InternetReport | None = None
    v: int = 1


class Health(_HealthFields):
    """Periodic health of one PC; it doubles as the agent's heartbeat."""

    __slots__ = ()

    SPECS: ClassVar[dict[str, Spec]] = {
        "ts": _timestamp("Unix time the values were taken"),
        "cpu_ratio": Spec(
            "number", "CPU busy, 0-1, averaged since the last report", minimum=0, maximum=1
        ),
        "memory_used_ratio": Spec("number", "memory in use, 0-1", minimum=0, maximum=1),
        "disk_free_bytes": Spec(
            "integer", "free bytes on the system disk", minimum=0, maximum=2**63 - 1
        ),
        "uptime_seconds": Spec(
            "number", "seconds since the OS booted", minimum=0, maximum=3_153_600_000
        ),
        "os": Spec("string", "operating system name and version", max_length=200),
        "agent_version": Spec("string", "version of the agent", max_length=50),
        "frozen": Spec(
            "boolean",
            "restore software (e.g. Deep Freeze) active; null if unknown",
            required=False,
            nullable=True,
        ),
        "eid_reader_present": Spec(
            "boolean",
            "an eID card reader is attached; null if unknown",
            required=False,
            nullable=True,
        ),
        "internet": Spec(
            "object",
            "agent 0.3: the last check of the internet (InternetReport); absent if not checked",
            required=False,
            properties=InternetReport.SPECS,
            build=InternetReport.checked,
        ),
    }
    VERSIONS: ClassVar[tuple[int, ...]] = (1,)

    @classmethod
    def parse(cls, payload: bytes | str) -> Self:
        data = _object(payload)
        version = _version(data, cls.VERSIONS)
        return cls(v=version, **_fields(data, cls.SPECS))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return json_schema("Health", str(cls.__doc__), cls.VERSIONS, cls.SPECS)

    def to_json(self) -> bytes:
        return _dump(self)


# -- session events ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionMessage:
    """A visitor session starting or ending. Carries no personal data at all.

    Version 2 adds `stream` and `seq`: the agent's journal numbers its events,
    and the daemon acknowledges them end to end (docs/mqtt.md, "Delivery").
    """

    event: Literal["start", "end"]
    session_id: str
    started_at: float
    ended_at: float | None = None
    stream: str | None = None
    seq: int | None = None
    oldest: int | None = None
    v: int = 2

    SPECS: ClassVar[dict[str, Spec]] = {
        "event": Spec("string", "what happened", choices=("start", "end")),
        "session_id": Spec(
            "string",
            "opaque id, the same in the start and the end event",
            min_length=1,
            max_length=64,
            pattern=_ID_PATTERN,
        ),
        "started_at": _timestamp("Unix time the session started"),
        "ended_at": _timestamp(
            "Unix time the session ended; end events only", required=False, nullable=True
        ),
        "stream": Spec(
            "string",
            "version 2: id of the agent's journal; a new one after a reinstall",
            required=False,
            min_length=1,
            max_length=64,
            pattern=_ID_PATTERN,
        ),
        "seq": Spec(
            "integer",
            "version 2: the event's number in its stream, from 1, one more each event",
            required=False,
            minimum=1,
            maximum=_MAX_SEQ,
        ),
        "oldest": Spec(
            "integer",
            "version 2: the lowest sequence number the agent still holds; "
            "the daemon waits for no event below it",
            required=False,
            minimum=1,
            maximum=_MAX_SEQ,
        ),
    }
    VERSIONS: ClassVar[tuple[int, ...]] = (1, 2)

    @classmethod
    def parse(cls, payload: bytes | str) -> Self:
        data = _object(payload)
        version = _version(data, cls.VERSIONS)
        values = _fields(data, cls.SPECS)
        message = cls(v=version, **values)
        message.check()
        return message

    def check(self) -> None:
        """The rules between fields, which a JSON Schema does not state."""
        if self.event == "end":
            if self.ended_at is None:
                raise InvalidPayload("invalid", "ended_at: an end event needs it")
            if self.ended_at < self.started_at:
                raise InvalidPayload("invalid", "ended_at: before started_at")
        elif self.ended_at is not None:
            raise InvalidPayload("invalid", "ended_at: a start event has none")
        if self.v >= 2 and (self.stream is None or self.seq is None):
            raise InvalidPayload("invalid", "stream, seq: version 2 needs both")
        if self.v == 1 and (self.stream, self.seq, self.oldest) != (None, None, None):
            raise InvalidPayload("invalid", "stream, seq, oldest: not in version 1")
        if self.oldest is not None and self.seq is not None and self.oldest > self.seq:
            raise InvalidPayload("invalid", "oldest: above seq")

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return json_schema("SessionMessage", str(cls.__doc__), cls.VERSIONS, cls.SPECS)

    def to_json(self) -> bytes:
        return _dump(self)


# -- acknowledgements (daemon to agent) -------------------------------------------


@dataclass(frozen=True, slots=True)
class Ack:
    """The daemon has committed every event of `stream` up to and including `seq`."""

    stream: str
    seq: int
    v: int = 2

    SPECS: ClassVar[dict[str, Spec]] = {
        "stream": Spec(
            "string", "the stream acknowledged", min_length=1, max_length=64, pattern=_ID_PATTERN
        ),
        "seq": Spec(
            "integer", "the highest sequence number committed", minimum=0, maximum=_MAX_SEQ
        ),
    }
    VERSIONS: ClassVar[tuple[int, ...]] = (2,)

    @classmethod
    def parse(cls, payload: bytes | str) -> Self:
        data = _object(payload)
        version = _version(data, cls.VERSIONS)
        return cls(v=version, **_fields(data, cls.SPECS))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return json_schema("Ack", str(cls.__doc__), cls.VERSIONS, cls.SPECS)

    def to_json(self) -> bytes:
        return _dump(self)
