"""An MQTT broker for the demo: Mosquitto when installed, else amqtt in-process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def _wait_listening(host: str, port: int, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(
                    f"MQTT broker did not start listening on {host}:{port}"
                ) from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


@contextlib.asynccontextmanager
async def embedded_broker(
    host: str = "127.0.0.1", port: int | None = None, kind: str = "auto"
) -> AsyncIterator[int]:
    """Start a loopback broker; yields its port.

    kind: "mosquitto", "amqtt", or "auto" (Mosquitto when installed).
    """
    port = port or free_port(host)
    mosquitto = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if kind == "mosquitto" and mosquitto is None:
        raise RuntimeError("--demo-broker mosquitto: mosquitto is not installed")
    if mosquitto and kind != "amqtt":
        async with _mosquitto(mosquitto, host, port):
            yield port
    else:
        async with _amqtt(host, port):
            yield port


@contextlib.asynccontextmanager
async def _mosquitto(binary: str, host: str, port: int) -> AsyncIterator[None]:
    with tempfile.TemporaryDirectory(prefix="ocrfleet-demo-broker-") as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(
            f"listener {port} {host}\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 10000\n"
        )
        process = subprocess.Popen(
            [binary, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: Ctrl-C must stop the daemon first, the broker last.
            start_new_session=True,
        )
        try:
            await _wait_listening(host, port, 10)
            log.info("demo broker: Mosquitto on %s:%d", host, port)
            yield
        finally:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 5)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.asynccontextmanager
async def _amqtt(host: str, port: int) -> AsyncIterator[None]:
    from amqtt.broker import Broker

    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
    )
    await broker.start()
    try:
        await _wait_listening(host, port, 10)
        log.info("demo broker: amqtt (in-process) on %s:%d", host, port)
        yield
    finally:
        await broker.shutdown()
