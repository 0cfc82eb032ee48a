"""`[internet]`: how a site's internet connection is judged, and the daemon's own check."""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ocrfleet.config.durations import Duration
from ocrfleet_agent.internet import valid_host_name, valid_url


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def certificate_file(value: Path | None) -> Path | None:
    """A PEM file of certificate authorities that loads, or an error saying why not."""
    if value is None:
        return None
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(value))
    except FileNotFoundError:
        raise ValueError(f"{str(value)!r} does not exist") from None
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"{str(value)!r} is no readable PEM file of certificates: {exc}") from None
    return value


class InternetProbeConfig(_Strict):
    """`[internet.probe]`: the daemon checks the internet itself, for the sites it runs in."""

    # Sites whose rooms the daemon's host sits in; checked against `sites`.
    sites: list[str] = Field(default_factory=list)
    # A page that should always answer, e.g. the municipality's own site.
    url: str
    # The name to resolve first; None: the URL's host.
    resolve: str | None = None
    interval: Duration = Field(default=300.0, ge=30.0)
    timeout: Duration = Field(default=10.0, gt=0, le=60.0)
    # Extra certificate authorities to trust (a proxy that inspects TLS).
    ca_file: Path | None = None

    # The check is the PC agent's (ocrfleet/internet/probe.py), and so are its
    # rules for what it can fetch and look up: a URL or name it refuses would
    # fail every check and pass for an outage. Their ValueError gets the key's
    # path (`internet.probe.url: ...`) like any other.
    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        return valid_url(value)

    @field_validator("resolve")
    @classmethod
    def _resolvable(cls, value: str | None) -> str | None:
        return None if value is None else valid_host_name(value)

    @field_validator("ca_file")
    @classmethod
    def _loads(cls, value: Path | None) -> Path | None:
        return certificate_file(value)


class InternetConfig(_Strict):
    # A site whose successful checks take longer than this (their median) is degraded.
    degraded_latency: Duration = Field(default=2.0, gt=0)
    # A check older than this says nothing any more: its device stopped checking.
    stale_after: Duration = Field(default=900.0, ge=60.0)
    probe: InternetProbeConfig | None = None
