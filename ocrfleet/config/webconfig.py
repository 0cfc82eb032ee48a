"""The web config file, in the format of Prometheus' exporter-toolkit (`web-config.yml`).

Operators already keep one such file per exporter; the same file works here,
for every HTTP endpoint the daemon serves (/metrics, the pages, the API):

    tls_server_config:
      cert_file: /etc/ocrfleet/tls/server.crt
      key_file: /etc/ocrfleet/tls/server.key
      client_auth_type: RequireAndVerifyClientCert
      client_ca_file: /etc/ocrfleet/tls/clients.pem
      min_version: TLS12
    http_server_config:
      headers:
        Strict-Transport-Security: max-age=31536000
    basic_auth_users:
      anna: $2b$12$...   # bcrypt, e.g. `htpasswd -nBC 12 anna`

Keys that only Go's TLS stack understands (cipher suites, curves) are
accepted, so an exporter's file loads unchanged, and reported as not applied.
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ocrfleet.config.errors import ConfigError, problems_from_validation

ClientAuth = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]
TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]

_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
# Python's ssl verifies every certificate a client presents: the two Go
# modes that take a certificate without verifying it have no equivalent.
_CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
# bcrypt's modular crypt format, as htpasswd -B and Python's bcrypt write it.
_BCRYPT = re.compile(r"^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$")
_USER = re.compile(r"^[^\s:]{1,64}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsServerConfig(_Strict):
    cert_file: Path
    key_file: Path
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: TlsVersion = "TLS12"
    max_version: TlsVersion = "TLS13"
    # Go's TLS settings: accepted so an exporter's file loads, not applied.
    cipher_suites: list[str] | None = None
    curve_preferences: list[str] | None = None
    prefer_server_cipher_suites: bool | None = None

    @field_validator("client_auth_type")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in _CLIENT_AUTH:
            raise ValueError(
                f"{value} is not supported (a client certificate is always verified):"
                " use VerifyClientCertIfGiven or RequireAndVerifyClientCert"
            )
        return value

    @model_validator(mode="after")
    def _versions_in_order(self) -> TlsServerConfig:
        if _VERSIONS[self.min_version] > _VERSIONS[self.max_version]:
            raise ValueError(
                f"min_version {self.min_version} is after max_version {self.max_version}"
            )
        return self

    def ignored(self) -> list[str]:
        """The keys given that Python's TLS cannot apply."""
        names = ("cipher_suites", "curve_preferences", "prefer_server_cipher_suites")
        return [name for name in names if getattr(self, name) is not None]


class HttpServerConfig(_Strict):
    # HTTP/2 is not served; accepted so an exporter's file loads.
    http2: bool = True
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not re.fullmatch(r"[A-Za-z0-9-]+", name):
                raise ValueError(f"{name!r} is not a header name")
            if "\n" in text or "\r" in text:
                raise ValueError(f"the value of {name} holds a line break")
        return value


class WebConfig(_Strict):
    tls_server_config: TlsServerConfig | None = None
    http_server_config: HttpServerConfig = HttpServerConfig()
    basic_auth_users: dict[str, str] = Field(default_factory=dict)

    @field_validator("basic_auth_users")
    @classmethod
    def _bcrypt_hashes(cls, value: dict[str, str]) -> dict[str, str]:
        for user, hashed in value.items():
            if not _USER.fullmatch(user):
                raise ValueError(f"{user!r} is not a user name (no spaces or colons)")
            if not _BCRYPT.fullmatch(hashed):
                raise ValueError(
                    f"the password of {user!r} is not a bcrypt hash"
                    " (e.g. from `htpasswd -nBC 12 USER`)"
                )
        return value

    def ssl_context(self) -> ssl.SSLContext | None:
        """The server's TLS context; None without tls_server_config. Raises ValueError."""
        tls = self.tls_server_config
        if tls is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = _VERSIONS[tls.min_version]
        context.maximum_version = _VERSIONS[tls.max_version]
        try:
            context.load_cert_chain(tls.cert_file, tls.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(
                f"tls_server_config: cannot load cert_file {tls.cert_file} with key_file"
                f" {tls.key_file}: {_reason(exc)}"
            ) from None
        context.verify_mode = _CLIENT_AUTH[tls.client_auth_type]
        if tls.client_auth_type != "NoClientCert":
            if tls.client_ca_file is None:
                raise ValueError(
                    f"tls_server_config.client_ca_file: required by {tls.client_auth_type}"
                )
            try:
                context.load_verify_locations(cafile=tls.client_ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(
                    f"tls_server_config.client_ca_file: cannot load {tls.client_ca_file}:"
                    f" {_reason(exc)}"
                ) from None
        return context


def _reason(exc: OSError | ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    return exc.strerror or str(exc)


def read_web_config(path: Path, key: str = "http.web_config_file") -> WebConfig:
    """Read and check the file, TLS files included; ConfigError names `key` and the file."""
    where = f"{key} ({path})"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([(where, f"cannot read: {exc}")]) from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([(where, f"not YAML: {exc}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([(where, "expected a mapping of settings")])
    try:
        config = WebConfig.model_validate(data)
    except ValidationError as exc:
        problems = [(f"{where}: {p}" if p else where, m) for p, m in problems_from_validation(exc)]
        raise ConfigError(problems) from None
    # Relative TLS paths are relative to the web config file, as in exporter-toolkit.
    config = _anchored(config, path.parent)
    try:
        config.ssl_context()
    except ValueError as exc:
        raise ConfigError([(where, str(exc))]) from None
    return config


def _anchored(config: WebConfig, base: Path) -> WebConfig:
    tls = config.tls_server_config
    if tls is None:
        return config
    anchored = tls.model_copy(
        update={
            "cert_file": base / tls.cert_file,
            "key_file": base / tls.key_file,
            "client_ca_file": None if tls.client_ca_file is None else base / tls.client_ca_file,
        }
    )
    return config.model_copy(update={"tls_server_config": anchored})
