"""Options of the `email` channel."""

from __future__ import annotations

import re
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ocrfleet.plugin import Duration, Secret

Security = Literal["starttls", "tls", "plain"]
DEFAULT_PORTS: dict[Security, int] = {"starttls": 587, "tls": 465, "plain": 25}

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def bare_address(value: str) -> str:
    """The address part of "Name <addr>" or of a plain address."""
    return parseaddr(value)[1]


def _check_address(value: str) -> str:
    if not _ADDRESS.match(bare_address(value)):
        raise ValueError(f"{value!r} is not an e-mail address (user@example.org)")
    return value


Address = Annotated[str, AfterValidator(_check_address)]


class EmailOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str = Field(min_length=1)
    # Default: 587 for starttls, 465 for tls, 25 for plain.
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Security = "starttls"
    username: str | None = Field(default=None, min_length=1)
    password: Secret | None = None
    from_: Address = Field(alias="from")
    to: list[Address] = Field(min_length=1)
    subject_prefix: str = "[ocrfleet]"
    timeout: Duration = Field(default=30.0, gt=0)
    verify_tls: bool = True
    # A CA bundle (PEM) to trust instead of the system's, for an in-house CA.
    ca_file: Path | None = None

    @property
    def smtp_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.security]

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
    def _consistent(self) -> EmailOptions:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        if self.username is not None and self.security == "plain":
            raise ValueError(
                'a password would cross the network unencrypted with security = "plain"; '
                'use "starttls" or "tls"'
            )
        if self.ca_file is not None and not self.verify_tls:
            raise ValueError("ca_file has no effect with verify_tls = false; drop one of them")
        if self.ca_file is not None and self.security == "plain":
            raise ValueError('ca_file has no effect with security = "plain"')
        return self
