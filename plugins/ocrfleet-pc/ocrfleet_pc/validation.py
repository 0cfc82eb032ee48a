"""The shared payload specs compiled into pydantic validators, for the daemon's hot path.

`ocrfleet_agent.payloads` is the one definition of every payload field; the
agent parses with it directly (it cannot afford pydantic's memory). The daemon
takes a health report from every PC every minute, and pydantic's Rust JSON
validation is five times faster than the standard-library parser
(bench/README.md, mqtt_ingest.py), so the same specs are compiled here into a
pydantic model once. tests/test_payload_validation.py checks that both accept
and refuse the same payloads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import from_json

from ocrfleet.plugin import PayloadError
from ocrfleet_agent.payloads import Spec

_TYPES: dict[str, type] = {"number": float, "integer": int, "string": str, "boolean": bool}
T = TypeVar("T")


def _field(spec: Spec) -> tuple[Any, Any]:
    annotation: Any = _TYPES[spec.type]
    if spec.choices is not None:
        annotation = Literal[spec.choices]
    if spec.nullable or not spec.required:
        annotation = annotation | None
    return annotation, Field(
        default=... if spec.required else None,
        ge=spec.minimum,
        le=spec.maximum,
        min_length=spec.min_length,
        max_length=spec.max_length,
        pattern=spec.pattern,
    )


def compile_validator(
    name: str, versions: tuple[int, ...], specs: Mapping[str, Spec], build: Callable[..., T]
) -> Callable[[bytes], T]:
    """A parser of `build(*fields, v)` from JSON bytes, raising PayloadError like the agent's.

    `build` takes the fields in the order of `specs`, then the version.
    """
    # Declared in the payload class's order (its fields, then `v`), so that
    # building it takes the values positionally: faster than by name.
    fields: dict[str, Any] = {field: _field(spec) for field, spec in specs.items()}
    # A range, not a Literal: pydantic lets `true` through as the literal 1.
    fields["v"] = (int, Field(ge=min(versions), le=max(versions)))
    model: type[BaseModel] = create_model(
        name,
        __config__=ConfigDict(strict=True, extra="ignore", frozen=True, allow_inf_nan=False),
        **fields,
    )

    def parse(payload: bytes) -> T:
        try:
            parsed = build(*model.model_validate_json(payload).__dict__.values())
        except ValidationError as exc:
            raise _payload_error(exc, versions) from None
        if b"NaN" in payload or b"Infinity" in payload:
            _refuse_constants(payload)
        return parsed

    return parse


def _refuse_constants(payload: bytes) -> None:
    # allow_inf_nan covers declared fields only; pydantic's JSON reader still
    # takes NaN or Infinity in a field it ignores, which the agent refuses.
    # Rare enough to parse twice, and only when the bytes could hold one.
    try:
        from_json(payload, allow_inf_nan=False)
    except ValueError as exc:
        raise PayloadError("invalid", f"NaN or Infinity is not a number: {exc}") from None


def _payload_error(exc: ValidationError, versions: tuple[int, ...]) -> PayloadError:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    if first["type"] in ("json_invalid", "json_type"):
        return PayloadError("unparsable", first["msg"])
    if first["loc"] == ("v",) and first["type"] != "missing":
        known = " or ".join(str(n) for n in versions)
        return PayloadError("unsupported_version", f"only schema version {known} is understood")
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return PayloadError("invalid", f"{where}: {first['msg']}{more}")
