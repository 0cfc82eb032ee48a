"""Hook implementations of the bundled pc plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.kinds import DeviceKind
from ocrfleet.pluginhost import CliCommand, hookimpl


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    from ocrfleet_pc.kind import LaptopKind, PcKind

    return [PcKind(), LaptopKind()]


@hookimpl
def ocrfleet_cli_commands() -> Sequence[CliCommand]:
    from ocrfleet_pc.agent.command import AgentCommand

    return [AgentCommand()]
