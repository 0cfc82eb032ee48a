"""`ocrfleet-agent`: run the PC agent, check what it would report, install it as a service."""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ocrfleet_agent import __version__
from ocrfleet_agent.idle import describe
from ocrfleet_agent.internet import (
    DEFAULT_INTERVAL,
    DEFAULT_TIMEOUT,
    InternetChecker,
    InternetSettings,
    check_internet,
    internet_settings,
)
from ocrfleet_agent.journal import Journal
from ocrfleet_agent.mqtt import AgentConnection, AgentIdentity, BrokerSettings
from ocrfleet_agent.probes import HealthProbe
from ocrfleet_agent.runner import AgentRunner
from ocrfleet_agent.service import (
    TASK_NAME,
    UNIT_DIR,
    InstallError,
    ServiceCommand,
    agent_program,
    check_systemd_journal,
    install_systemd,
    install_windows,
    uninstall_systemd,
    uninstall_windows,
)
from ocrfleet_agent.sessions import SessionSource
from ocrfleet_agent.sources import (
    SOURCES,
    InputSource,
    SourceOptions,
    input_state_path,
    make_source,
)
from ocrfleet_agent.storage import (
    default_journal_path,
    journal_location_problem,
    journal_summary,
    journal_warning,
)

log = logging.getLogger("ocrfleet_agent")


def add_agent_options(parser: argparse.ArgumentParser) -> None:
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
        "--journal",
        type=Path,
        default=None,
        help="the session journal; put it where restore software keeps files "
        f"(default: {default_journal_path()})",
    )
    parser.add_argument(
        "--sessions",
        choices=sorted(SOURCES),
        default="logged-in",
        help="where sessions come from (default: logged-in)",
    )
    parser.add_argument(
        "--idle-minutes",
        type=float,
        default=10.0,
        help="with --sessions input: minutes without input that end a session",
    )
    parser.add_argument(
        "--resend-interval",
        type=float,
        default=60.0,
        help="seconds between re-sends of events the daemon has not acknowledged",
    )
    internet = parser.add_argument_group(
        "internet check", "optional: check the way to the internet from this room"
    )
    internet.add_argument(
        "--internet-url",
        help="an https:// page to fetch, e.g. the municipality's own site (no check without it)",
    )
    internet.add_argument(
        "--internet-resolve",
        help="the name to resolve first (default: the URL's host)",
    )
    internet.add_argument(
        "--internet-interval",
        type=float,
        default=DEFAULT_INTERVAL,
        help=f"seconds between checks (default {DEFAULT_INTERVAL:g}, at least 30)",
    )
    internet.add_argument(
        "--internet-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a check may take in all (default {DEFAULT_TIMEOUT:g}, at most 60)",
    )
    internet.add_argument(
        "--internet-ca-file",
        type=Path,
        help="extra CA certificates to trust for the check (a TLS-inspecting proxy's)",
    )


def read_password(args: argparse.Namespace) -> str | None:
    if args.password_file:
        try:
            return str(args.password_file.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ValueError(
                f"cannot read the password file {args.password_file}: {reason}"
            ) from None
    if getattr(args, "ask_password", False):
        return getpass.getpass("MQTT password: ")
    return None


def broker_settings(args: argparse.Namespace) -> BrokerSettings:
    if args.port is not None and not 0 < args.port < 65536:
        raise ValueError(f"--port must be between 1 and 65535, not {args.port}")
    if args.interval <= 0 or args.resend_interval <= 0:
        raise ValueError("--interval and --resend-interval must be more than 0")
    return BrokerSettings(
        host=args.broker,
        port=args.port or (8883 if args.tls else 1883),
        client_id=f"ocrfleet-agent-{args.site}-{args.device}"[:64],
        username=args.username,
        password=read_password(args),
        use_tls=args.tls,
        tls_ca_file=str(args.ca_file) if args.ca_file else None,
    )


def internet_options(args: argparse.Namespace) -> InternetSettings | None:
    """The internet check's settings, None without --internet-url; ValueError names the option."""
    if args.internet_url is None:
        for option in ("internet_resolve", "internet_ca_file"):
            if getattr(args, option) is not None:
                name = "--" + option.replace("_", "-")
                raise ValueError(f"{name}: only with --internet-url")
        return None
    return internet_settings(
        args.internet_url,
        args.internet_resolve,
        args.internet_interval,
        args.internet_timeout,
        args.internet_ca_file,
    )


def journal_path_of(args: argparse.Namespace) -> Path:
    return Path(args.journal or default_journal_path())


def source_options(args: argparse.Namespace, journal: Path | None) -> SourceOptions:
    return SourceOptions(
        idle_minutes=args.idle_minutes,
        state_path=input_state_path(journal) if journal is not None else None,
    )


def run(args: argparse.Namespace) -> int:
    settings = broker_settings(args)
    internet = internet_options(args)
    journal_path = journal_path_of(args)
    warning = journal_warning(journal_path)
    if warning:
        log.warning("%s", warning)
    problem = journal_location_problem(journal_path)
    if problem:
        # Run anyway: events are kept in memory and written once it can be.
        log.error("%s; events are kept in memory only until it can be written", problem)
    source = make_source(args.sessions, source_options(args, journal_path))
    journal = Journal(journal_path)
    identity = AgentIdentity(args.topic_root, args.site, args.device)
    checker = InternetChecker(internet) if internet is not None else None
    probe = HealthProbe(internet=checker.latest if checker is not None else None)
    runner = AgentRunner(
        AgentConnection(settings, identity),
        journal,
        source,
        probe.read,
        interval=args.interval,
        resend_interval=args.resend_interval,
    )
    stop = threading.Event()

    def request_stop(*_: object) -> None:
        stop.set()
        runner.wake()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    log.info(
        "agent %s for %s/%s reporting to %s:%d; sessions from %s; journal %s",
        __version__,
        args.site,
        args.device,
        settings.host,
        settings.port,
        source.name,
        journal_path,
    )
    if checker is not None and internet is not None:
        log.info("checking the internet at %s every %g s", internet.url, internet.interval)
        checker.start()
    try:
        runner.run(stop)
    finally:
        if checker is not None:
            checker.stop()
    return 0


def check(args: argparse.Namespace) -> int:
    """Print what `run` would report and where its journal lives; 1 if it cannot keep it."""
    settings = broker_settings(args)
    internet = internet_options(args)
    journal_path = journal_path_of(args)
    # No state file: check must not change what a running agent keeps.
    source = make_source(args.sessions, source_options(args, None))
    now = time.time()
    # One check, waited for: check is run by a person who wants to see it.
    report = check_internet(internet) if internet is not None else None
    health = HealthProbe(internet=lambda: report).read()
    out = sys.stdout
    print(f"ocrfleet-agent {__version__}", file=out)
    print(f"health payload: {health.to_json().decode()}", file=out)
    print(f"session source: {source.name}: {describe_source(source, now)}", file=out)
    print(f"journal: {journal_path}", file=out)
    problem = journal_location_problem(journal_path)
    warning = journal_warning(journal_path)
    print(f"  usable: {'no: ' + problem if problem else 'yes'}", file=out)
    print(f"  survives a reboot: {'no: ' + warning if warning else 'yes'}", file=out)
    print(f"  holds: {journal_summary(journal_path)}", file=out)
    identity = AgentIdentity(args.topic_root, args.site, args.device)
    print(f"broker: {settings.host}:{settings.port}", file=out)
    print(f"  TLS: {'yes' if settings.use_tls else 'no'}", end="", file=out)
    print(f" (CA {settings.tls_ca_file})" if settings.tls_ca_file else "", file=out)
    print(f"  username: {settings.username or '(none)'}", file=out)
    password = "(none)" if settings.password is None else f"set, from {args.password_file}"
    print(f"  password: {password}", file=out)
    print(f"  client id: {settings.client_id}", file=out)
    print(f"  topics: {identity.topic('#')}", file=out)
    if internet is not None and report is not None:
        print(f"internet: {internet.url} (name {internet.resolve})", file=out)
        if report.ok:
            print(f"  reachable in {report.latency_ms:g} ms (HTTP {report.status})", file=out)
        else:
            print(f"  not reachable ({report.error}): {report.detail}", file=out)
    return 1 if problem else 0


def describe_source(source: SessionSource, now: float) -> str:
    if isinstance(source, InputSource):
        reading = source.reader.read()
        return f"{source.reader.name}: {describe(reading)}"
    usage = source.read(now)
    if usage is None:
        return "reports no sessions (a reservation system publishes them)"
    return "in use now" if usage.in_use else "not in use now"


def install(args: argparse.Namespace) -> int:
    # The same checks as run, before anything is written.
    broker_settings(args)
    internet_options(args)
    journal = journal_path_of(args)
    command = ServiceCommand(agent_program(), run_arguments(args, journal))
    if sys.platform == "win32":
        args_file = journal.parent / "agent.args"
        install_windows(command, args_file, args.sessions, args.task_user)
        print(f"scheduled task {TASK_NAME} created; options in {args_file}")
        return 0
    check_systemd_journal(journal)
    unit = install_systemd(command, args.password_file, args.unit_dir, start=not args.no_start)
    started = "" if args.no_start else ", enabled and started"
    print(f"wrote {unit}{started}")
    return 0


def uninstall(args: argparse.Namespace) -> int:
    journal = journal_path_of(args)
    if sys.platform == "win32":
        uninstall_windows(journal.parent / "agent.args")
    else:
        unit = uninstall_systemd(args.unit_dir, stop=not args.no_start)
        print(f"removed {unit}" if unit else "no unit was installed")
    if args.purge:
        for path in (journal, input_state_path(journal)):
            path.unlink(missing_ok=True)
            print(f"removed {path}")
    else:
        print(f"kept the journal {journal} (--purge removes it)")
    return 0


def run_arguments(args: argparse.Namespace, journal: Path) -> list[str]:
    """The `run` command line that does what `args` say; the password stays in its file."""
    argv = ["--log-level", args.log_level, "run", "--site", args.site, "--device", args.device]
    argv += ["--broker", args.broker, "--topic-root", args.topic_root]
    if args.port is not None:
        argv += ["--port", str(args.port)]
    if args.username:
        argv += ["--username", args.username]
    if args.password_file and sys.platform == "win32":
        argv += ["--password-file", str(args.password_file.resolve())]
    if args.tls:
        argv.append("--tls")
    if args.ca_file:
        argv += ["--ca-file", str(args.ca_file.resolve())]
    argv += ["--interval", f"{args.interval:g}", "--resend-interval", f"{args.resend_interval:g}"]
    argv += ["--journal", str(journal), "--sessions", args.sessions]
    if args.sessions == "input":
        argv += ["--idle-minutes", f"{args.idle_minutes:g}"]
    if args.internet_url is not None:
        argv += ["--internet-url", args.internet_url]
        if args.internet_resolve is not None:
            argv += ["--internet-resolve", args.internet_resolve]
        argv += ["--internet-interval", f"{args.internet_interval:g}"]
        argv += ["--internet-timeout", f"{args.internet_timeout:g}"]
        if args.internet_ca_file is not None:
            argv += ["--internet-ca-file", str(args.internet_ca_file.resolve())]
    return argv


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocrfleet-agent",
        # `ocrfleet-agent @options.txt`: one argument a line (the Windows task uses it).
        fromfile_prefix_chars="@",
        description="Report this public PC's health and visitor sessions to ocrfleet over MQTT.",
    )
    parser.add_argument("--version", action="version", version=f"ocrfleet-agent {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", type=str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run_parser = sub.add_parser("run", help="run the agent in the foreground")
    add_agent_options(run_parser)
    run_parser.add_argument(
        "--ask-password", action="store_true", help="prompt for the MQTT password"
    )
    run_parser.set_defaults(handler=run)
    check_parser = sub.add_parser(
        "check", help="print what the agent would report and where its journal lives"
    )
    add_agent_options(check_parser)
    check_parser.set_defaults(handler=check)
    install_parser = sub.add_parser(
        "install",
        help="install the agent as a service (systemd unit; Windows scheduled task) "
        "with the options of run",
    )
    add_agent_options(install_parser)
    add_service_options(install_parser)
    install_parser.add_argument(
        "--task-user",
        help="Windows, --sessions input: the visitor account whose logon starts the agent",
    )
    install_parser.set_defaults(handler=install)
    uninstall_parser = sub.add_parser("uninstall", help="remove the service; keeps the journal")
    uninstall_parser.add_argument("--journal", type=Path, default=None)
    uninstall_parser.add_argument("--purge", action="store_true", help="remove the journal too")
    add_service_options(uninstall_parser)
    uninstall_parser.set_defaults(handler=uninstall)
    return parser


def add_service_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unit-dir", type=Path, default=UNIT_DIR, help=f"Linux: where the unit goes ({UNIT_DIR})"
    )
    parser.add_argument(
        "--no-start",
        action="store_true",
        help="Linux: only write or remove the unit; no systemctl",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError, InstallError) as exc:
        print(f"ocrfleet-agent: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
