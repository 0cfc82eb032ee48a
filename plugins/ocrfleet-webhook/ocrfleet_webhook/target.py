"""Where an HTTP channel sends, and how it proves who it is: options all HTTP channels share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    SecretStr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ocrfleet.plugin import DeferredSecret, Duration, Secret, resolve_secret

# RFC 9110 token characters: anything else cannot be a header name.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

# Set by the channels themselves; a configured value would break what they promise.
RESERVED_HEADERS = frozenset({"content-type", "content-length", "host", "idempotency-key"})


@dataclass(frozen=True)
class TargetUrl:
    """A checked http(s) URL, and the form of it that messages may show.

    `shown` never carries user:password or the query string; for a URL read
    from the environment or a file (a chat webhook whose path is its token)
    it is only scheme, host and port.
    """

    full: str
    from_secret: bool = False

    @property
    def shown(self) -> str:
        return _shown(self.full, hide_path=self.from_secret)

    def joined(self, path: str) -> TargetUrl:
        """This URL with `path` appended to its path (for an API under a base URL)."""
        parts = urlsplit(self.full)
        full = parts._replace(path=parts.path.rstrip("/") + path).geturl()
        return TargetUrl(full, self.from_secret)

    def __str__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        return f"TargetUrl({self.shown!r})"


def _shown(url: str, *, hide_path: bool) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    path = "" if hide_path else parts.path
    return f"{parts.scheme}://{host}{port}{path}"


# Stands for a URL kept in the environment or a file by a command that does
# not deliver notifications and so did not read it.
UNREAD_URL = "http://secret-not-read.invalid"


def parse_target_url(value: Any, info: ValidationInfo | None = None) -> TargetUrl:
    if isinstance(value, TargetUrl):
        return value
    from_secret = isinstance(value, dict)
    if from_secret:
        secret = resolve_secret(value, info)
        if isinstance(secret, DeferredSecret):
            return TargetUrl(UNREAD_URL, from_secret=True)
        text: Any = secret.get_secret_value().strip()
    else:
        text = value
    if not isinstance(text, str):
        raise ValueError('expected a URL string, { env = "NAME" } or { file = "/path" }')
    parts = urlsplit(text)
    if not text.lower().startswith(("http://", "https://")):
        raise ValueError("must be a URL starting with http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError("the URL's port is not a number from 0 to 65535") from None
    return TargetUrl(text, from_secret)


def _validate_target_url(value: Any, info: ValidationInfo) -> TargetUrl:
    return parse_target_url(value, info)


HttpUrlOption = Annotated[
    TargetUrl,
    PlainValidator(_validate_target_url),
    WithJsonSchema({"type": "string", "format": "uri"}),
]


class BasicAuth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1)
    password: Secret


class HttpTargetOptions(BaseModel):
    """Options of any channel that POSTs to an HTTP(S) server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrlOption
    # Bounded again by the outbox's delivery_timeout, whichever is shorter.
    timeout: Duration = Field(default=10.0, gt=0)
    headers: dict[str, Secret] = Field(default_factory=dict)
    bearer_token: Secret | None = None
    basic_auth: BasicAuth | None = None
    verify_tls: bool = True
    # A CA bundle (PEM) to trust instead of the usual public ones, for an
    # in-house CA or a self-signed receiver.
    ca_file: Path | None = None

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in value:
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid HTTP header name")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"{name!r} is set by the channel itself and cannot be configured")
        return value

    @field_validator("ca_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                with value.open("rb"):
                    pass
            except OSError as exc:
                raise ValueError(f"cannot read {str(value)!r}: {exc.strerror}") from None
        return value

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> HttpTargetOptions:
        configured_authorization = any(name.lower() == "authorization" for name in self.headers)
        if self.bearer_token is not None and self.basic_auth is not None:
            raise ValueError("give bearer_token or basic_auth, not both")
        if configured_authorization and (self.bearer_token or self.basic_auth):
            raise ValueError(
                "headers.Authorization conflicts with bearer_token/basic_auth; keep one of them"
            )
        if self.ca_file is not None and not self.verify_tls:
            raise ValueError("ca_file has no effect with verify_tls = false; drop one of them")
        return self
