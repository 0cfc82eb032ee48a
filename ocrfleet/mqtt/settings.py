"""Connection settings common to every ocrfleet MQTT client."""

from __future__ import annotations

from dataclasses import dataclass

from ocrfleet.config.models import MqttConfig


@dataclass(frozen=True)
class MqttSettings:
    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_insecure: bool = False
    use_tls: bool = False
    keepalive: int = 30
    reconnect_min_delay: float = 1.0
    reconnect_max_delay: float = 60.0
    queue_size: int = 10_000

    @classmethod
    def from_config(cls, config: MqttConfig, password: str | None) -> MqttSettings:
        tls = config.tls
        return cls(
            host=config.host,
            port=config.port,
            client_id=config.client_id,
            username=config.username,
            password=password,
            use_tls=tls is not None,
            tls_ca_file=str(tls.ca_file) if tls and tls.ca_file else None,
            tls_cert_file=str(tls.cert_file) if tls and tls.cert_file else None,
            tls_key_file=str(tls.key_file) if tls and tls.key_file else None,
            tls_insecure=bool(tls and tls.insecure),
            keepalive=config.keepalive,
            reconnect_min_delay=config.reconnect_min_delay,
            reconnect_max_delay=config.reconnect_max_delay,
            queue_size=config.queue_size,
        )
