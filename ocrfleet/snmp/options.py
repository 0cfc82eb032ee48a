"""How a device is reached over SNMP: address, version, credentials, timing.

Device kinds that are polled over SNMP extend SnmpDeviceOptions with their
own settings; the core recognises polled devices by this base class.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    model_validator,
)

from ocrfleet.config.secrets import DeferredSecret, Secret
from ocrfleet.sources import PolledOptions


class SnmpV1V2c(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal["1", "2c"] = "2c"
    community: Secret = SecretStr("public")


AuthProtocol = Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"]
PrivProtocol = Literal["DES", "3DES", "AES", "AES192", "AES256"]


class SnmpV3(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal["3"]
    user: str = Field(min_length=1)
    auth_protocol: AuthProtocol | None = None
    auth_key: Secret | None = None
    priv_protocol: PrivProtocol | None = None
    priv_key: Secret | None = None
    context: str = ""

    @model_validator(mode="after")
    def _levels(self) -> SnmpV3:
        if (self.auth_protocol is None) != (self.auth_key is None):
            raise ValueError("auth_protocol and auth_key go together")
        if (self.priv_protocol is None) != (self.priv_key is None):
            raise ValueError("priv_protocol and priv_key go together")
        if self.priv_protocol is not None and self.auth_protocol is None:
            raise ValueError("privacy (priv_*) needs authentication (auth_*) too")
        for key in (self.auth_key, self.priv_key):
            # A key left unread by a command that does not poll is checked by one that does.
            if key is None or isinstance(key, DeferredSecret):
                continue
            if len(key.get_secret_value()) < 8:
                raise ValueError("SNMPv3 keys must be at least 8 characters")
        return self

    @property
    def level(self) -> str:
        if self.priv_protocol:
            return "authPriv"
        return "authNoPriv" if self.auth_protocol else "noAuthNoPriv"


def _credentials_tag(value: object) -> str | None:
    version = (
        value.get("version", "2c") if isinstance(value, dict) else getattr(value, "version", None)
    )
    return {"1": "<v1v2c>", "2c": "<v1v2c>", "3": "<v3>"}.get(version)  # type: ignore[arg-type]


# The tags are in angle brackets so config errors can leave them out of the
# key path they print: a user never wrote them.
SnmpCredentials = Annotated[
    Annotated[SnmpV1V2c, Tag("<v1v2c>")] | Annotated[SnmpV3, Tag("<v3>")],
    Discriminator(
        _credentials_tag,
        custom_error_type="snmp_version",
        custom_error_message="version must be '1', '2c' or '3'",
    ),
]


class SnmpDeviceOptions(PolledOptions):
    """The options of every device polled through the `snmp` source.

    A polled kind extends them with its own.
    """

    host: str = Field(min_length=1, description="host name or IP address")
    port: int = Field(default=161, ge=1, le=65535)
    snmp: SnmpCredentials = SnmpV1V2c()
    retries: int = Field(default=1, ge=0, le=10)
    # GETBULK repetitions; some old agents answer badly to large requests.
    max_repetitions: int = Field(default=25, ge=1, le=200)
