"""The shared payload specs compiled into msgspec decoders, for the daemon's hot path.

`ocrfleet_agent.payloads` is the one definition of every payload field; the
agent parses with it directly (it cannot afford a compiled library's memory).
The daemon takes a health report from every PC every minute, and msgspec
decodes and checks one straight from the bytes several times faster than
pydantic and twenty times faster than the standard library (bench/README.md,
mqtt_ingest.py), so the same specs are compiled here into a msgspec struct
once. tests/test_payload_validation.py checks that both accept and refuse the
same payloads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Annotated, Any, Literal, TypeVar, cast

import msgspec

from ocrfleet.plugin import PayloadError
from ocrfleet_agent.payloads import InvalidPayload, Spec

T = TypeVar("T")
# A health report is about 215 bytes. Past this, the reference parses: it
# alone knows the limits of Python's own reader, such as the 4,300 digits
# an integer may have even in a field both sides ignore, which msgspec
# does not share (and which this many bytes cannot reach).
MAX_FAST_PAYLOAD = 4096
_TYPES: dict[str, type] = {"number": float, "integer": int, "string": str, "boolean": bool}


def _struct(name: str, specs: Mapping[str, Spec], extra: list[tuple[str, Any]]) -> type:
    """A msgspec struct of `specs` (and `extra` fields); objects become structs of their own."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [
        (field, _annotation(spec, f"{name}_{field}"))
        if spec.required
        else (field, _annotation(spec, f"{name}_{field}"), None)
        for field, spec in specs.items()
    ]
    fields.extend(extra)
    # gc=False: a decoded struct holds only numbers, strings, None and such structs.
    return msgspec.defstruct(name, fields, kw_only=True, gc=False)


def _annotation(spec: Spec, name: str) -> Any:
    if spec.type == "object":
        annotation: Any = _struct(name, spec.properties, [])
    elif spec.choices is not None:
        annotation = Literal[spec.choices]
    else:
        annotation = _TYPES[spec.type]
        limits: dict[str, Any] = {
            "ge": spec.minimum,
            "le": spec.maximum,
            "min_length": spec.min_length,
            "max_length": spec.max_length,
            # msgspec searches; the agent matches the whole value.
            "pattern": None if spec.pattern is None else rf"^(?:{spec.pattern})\Z",
        }
        given: dict[str, Any] = {name: value for name, value in limits.items() if value is not None}
        if given:
            annotation = Annotated[annotation, msgspec.Meta(**given)]
    if spec.nullable:
        annotation = annotation | None
    # An optional field that is not nullable keeps its plain type: absent, it
    # takes its default (None); an explicit null is refused, as the agent does.
    return annotation


def compile_validator(
    name: str,
    versions: tuple[int, ...],
    specs: Mapping[str, Spec],
    build: Callable[..., T],
    *,
    reference: Callable[[bytes], T],
    check: Callable[[T], object] | None = None,
) -> Callable[[bytes], T]:
    """A parser of `build(*fields, v)` from JSON bytes, exactly as strict as `reference`.

    `build` takes the fields in the order of `specs`, then the version.
    `reference` is the agent's own parser of the payload (e.g. `Health.parse`):
    msgspec takes the payloads it can vouch for, and every other one (refused,
    not plain ASCII, longer than MAX_FAST_PAYLOAD or nested too deeply) goes
    to the reference, so the daemon refuses exactly what the agent refuses,
    for the agent's reason and in its words.

    The specs state each field alone. A payload with rules between fields
    (e.g. `SessionMessage.check`) must pass them as `check`, which runs on
    every value msgspec builds (raising `InvalidPayload` to refuse it);
    without it the parser is only as strict as the specs, not as `reference`.
    """
    # A Literal, not a range: versions need not be consecutive.
    struct = _struct(name, specs, [("v", Literal[versions])])
    decode: Callable[[bytes], Any] = msgspec.json.Decoder(struct).decode
    values = msgspec.structs.astuple
    make = _maker(build)
    # Object fields (Health's `internet`) are structs of their own, built
    # only when present: the usual report pays one look per object field.
    objects = _objects(specs)
    object_positions = tuple(index for index, _convert in objects)

    def parse(payload: bytes) -> T:
        # The agent sends ASCII (escapes for anything else). msgspec does
        # not check the UTF-8 of a field it skips, so other bytes are the
        # reference's to judge; msgspec refuses NaN, Infinity and lone
        # surrogates anywhere, as the agent does.
        if len(payload) <= MAX_FAST_PAYLOAD and payload.isascii():
            try:
                fields = values(decode(payload))
                for index in object_positions:
                    if fields[index] is not None:
                        fields = _with_objects(fields, objects)
                        break
                built = make(fields)
                if check is not None:
                    check(built)
                return built
            # RecursionError: msgspec gives up on deep nesting, even in a
            # field it skips; the agent calls that `unparsable`.
            except (msgspec.DecodeError, RecursionError, InvalidPayload):
                pass  # the reference says why (a rare, slow path)
        try:
            return reference(payload)
        except InvalidPayload as exc:
            raise PayloadError(exc.reason, exc.detail) from None

    return parse


def _objects(specs: Mapping[str, Spec]) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(position, converter) of each object field: its struct to what its spec's `build` makes."""
    return tuple(
        (index, _converter(spec))
        for index, spec in enumerate(specs.values())
        if spec.type == "object"
    )


def _converter(spec: Spec) -> Callable[[Any], Any]:
    astuple = msgspec.structs.astuple
    build = spec.build or partial(_as_dict, tuple(spec.properties))
    inner = _objects(spec.properties)

    def convert(struct: Any) -> Any:
        parts = astuple(struct)
        # May refuse with InvalidPayload: the reference then says why.
        return build(*(_with_objects(parts, inner) if inner else parts))

    return convert


def _with_objects(
    fields: tuple[Any, ...], objects: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> tuple[Any, ...]:
    built = list(fields)
    for index, convert in objects:
        if built[index] is not None:
            built[index] = convert(built[index])
    return tuple(built)


def _as_dict(names: tuple[str, ...], *values: Any) -> dict[str, Any]:
    # What the agent's parser makes of an object without a `build`.
    return dict(zip(names, values, strict=True))


def _maker(build: Callable[..., T]) -> Callable[[Iterable[Any]], T]:
    """`build` from an iterable of all its fields in order."""
    if isinstance(build, type) and issubclass(build, tuple) and hasattr(build, "_fields"):
        # A named tuple: every field is decoded, so its generated __new__ (a
        # Python frame filling in defaults) has nothing to add; tuple.__new__
        # builds the same value in C.
        return cast(Callable[[Iterable[Any]], T], partial(tuple.__new__, build))
    return lambda values: build(*values)
