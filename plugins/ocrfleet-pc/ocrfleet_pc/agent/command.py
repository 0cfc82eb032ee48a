"""`ocrfleet agent`: run the PC agent."""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import socket
import threading
from pathlib import Path

from ocrfleet.mqtt.settings import MqttSettings
from ocrfleet.pluginhost import CliCommand
from ocrfleet_pc.agent.connection import AgentConnection, AgentIdentity
from ocrfleet_pc.agent.probes import HealthProbe
from ocrfleet_pc.agent.runner import AgentRunner
from ocrfleet_pc.agent.sessions import SessionTracker

log = logging.getLogger(__name__)


class AgentCommand(CliCommand):
    name = "agent"
    help = "run the PC agent: report this PC's health and visitor sessions over MQTT"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--site", required=True, help="site id as in the daemon's config")
        parser.add_argument(
            "--device",
            default=socket.gethostname().lower(),
            help="device id as in the daemon's config (default: host name)",
        )
        parser.add_argument("--broker", default="localhost", help="MQTT broker host")
        parser.add_argument(
            "--port", type=int, default=None, help="broker port (1883, or 8883 with TLS)"
        )
        parser.add_argument("--topic-root", default="ocrfleet")
        parser.add_argument("--username")
        parser.add_argument(
            "--password-file",
            type=Path,
            help="file holding the MQTT password (never on the command line)",
        )
        parser.add_argument("--tls", action="store_true", help="connect with TLS")
        parser.add_argument("--ca-file", type=Path, help="CA certificate for TLS")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="seconds between health reports"
        )
        parser.add_argument(
            "--state-file",
            type=Path,
            help="where to remember an open session across agent restarts",
        )
        parser.add_argument(
            "--ask-password", action="store_true", help="prompt for the MQTT password"
        )

    def run(self, args: argparse.Namespace) -> int:
        password = None
        if args.password_file:
            password = args.password_file.read_text(encoding="utf-8").strip()
        elif args.ask_password:
            password = getpass.getpass("MQTT password: ")
        settings = MqttSettings(
            host=args.broker,
            port=args.port or (8883 if args.tls else 1883),
            client_id=f"ocrfleet-agent-{args.site}-{args.device}"[:64],
            username=args.username,
            password=password,
            use_tls=args.tls,
            tls_ca_file=str(args.ca_file) if args.ca_file else None,
            reconnect_max_delay=30.0,
            queue_size=1000,
        )
        identity = AgentIdentity(args.topic_root, args.site, args.device)
        runner = AgentRunner(
            AgentConnection(settings, identity),
            SessionTracker(args.state_file),
            HealthProbe(),
            interval=args.interval,
        )
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        log.info(
            "agent for %s/%s reporting to %s:%d",
            args.site,
            args.device,
            settings.host,
            settings.port,
        )
        runner.run(stop)
        return 0
