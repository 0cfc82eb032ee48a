"""The options of every device polled through the `http` source."""

from __future__ import annotations

from pathlib import Path

from pydantic import AnyHttpUrl, Field, model_validator

from ocrfleet.config.secrets import Secret
from ocrfleet.sources import PolledOptions


class HttpDeviceOptions(PolledOptions):
    """A polled kind over HTTP extends these with its own options."""

    url: AnyHttpUrl = Field(description="the device's or service's base URL, http:// or https://")
    timeout: float = Field(default=5.0, gt=0, le=60, description="seconds per request")
    # Header values may be tokens: each is a secret, `env`/`file` like any other.
    headers: dict[str, Secret] = Field(default_factory=dict)
    username: str | None = None
    password: Secret | None = None
    verify_tls: bool = True
    ca_file: Path | None = Field(default=None, description="a CA bundle for a private CA")

    @model_validator(mode="after")
    def _auth_complete(self) -> HttpDeviceOptions:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self
