"""What the loaded plugins contribute, asked once and kept with its owner's name."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pluggy

from ocrfleet import __version__
from ocrfleet.alerts.rules import AlertRule
from ocrfleet.apiversion import DECLARATION
from ocrfleet.calendars.types import CalendarType
from ocrfleet.history.figures import declared_figures
from ocrfleet.hookspecs import CliCommand
from ocrfleet.i18n.catalogs import Catalogs, MessageCatalog
from ocrfleet.kinds import DeviceKind
from ocrfleet.notify.channels import ChannelType
from ocrfleet.services import ServiceType
from ocrfleet.sources import SourceType

log = logging.getLogger(__name__)


class PluginConflictError(Exception):
    pass


@dataclass
class PluginContribution:
    plugin: str
    version: str
    # The plugin API its entry-point module declares (OCRFLEET_PLUGIN_API);
    # None for an object a program registers itself without one.
    api_version: str | None = None
    kinds: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    channel_types: list[str] = field(default_factory=list)
    source_types: list[str] = field(default_factory=list)
    service_types: list[str] = field(default_factory=list)
    calendar_types: list[str] = field(default_factory=list)


@dataclass
class PluginCatalog:
    kinds: dict[str, DeviceKind]
    kind_owner: dict[str, str]
    commands: dict[str, CliCommand]
    contributions: list[PluginContribution]
    rules: dict[str, AlertRule] = field(default_factory=dict)
    rule_owner: dict[str, str] = field(default_factory=dict)
    channel_types: dict[str, ChannelType] = field(default_factory=dict)
    source_types: dict[str, SourceType] = field(default_factory=dict)
    message_catalogs: dict[str, MessageCatalog] = field(default_factory=dict)
    service_types: dict[str, ServiceType] = field(default_factory=dict)
    calendar_types: dict[str, CalendarType] = field(default_factory=dict)

    def catalogs(self) -> Catalogs:
        """The translations of every plugin's words."""
        return Catalogs(self.message_catalogs.values())

    @classmethod
    def from_manager(
        cls, manager: pluggy.PluginManager, reserved_commands: frozenset[str] = frozenset()
    ) -> PluginCatalog:
        kinds: dict[str, DeviceKind] = {}
        owner: dict[str, str] = {}
        commands: dict[str, CliCommand] = {}
        contributions: dict[str, PluginContribution] = {}
        versions = {
            manager.get_name(plugin) or "": dist.version
            for plugin, dist in manager.list_plugin_distinfo()
        }
        # The core's own hooks are registered under the project's name; it is
        # not a distribution of its own, so it has the core's version.
        versions.setdefault(manager.project_name, __version__)

        def contribution(name: str) -> PluginContribution:
            if name not in contributions:
                declared = getattr(manager.get_plugin(name), DECLARATION, None)
                contributions[name] = PluginContribution(
                    name, versions.get(name, ""), None if declared is None else str(declared)
                )
            return contributions[name]

        source_types: dict[str, SourceType] = {}
        for plugin, source_type in _provided_once(
            manager.hook.ocrfleet_source_types, "source", lambda found: found.name
        ):
            source_types[source_type.name] = source_type
            contribution(plugin).source_types.append(source_type.name)
        for impl in manager.hook.ocrfleet_device_kinds.get_hookimpls():
            for kind in _call(impl):
                if kind.name in kinds:
                    raise PluginConflictError(
                        f"device kind {kind.name!r} is provided by both "
                        f"{owner[kind.name]!r} and {impl.plugin_name!r}"
                    )
                _check_source(kind, source_types, impl.plugin_name)
                kinds[kind.name] = kind
                owner[kind.name] = impl.plugin_name
                contribution(impl.plugin_name).kinds.append(kind.name)
        try:
            declared_figures(kinds)
        except ValueError as exc:
            raise PluginConflictError(str(exc)) from exc
        for impl in manager.hook.ocrfleet_cli_commands.get_hookimpls():
            for command in _call(impl):
                if command.name in commands or command.name in reserved_commands:
                    raise PluginConflictError(
                        f"plugin {impl.plugin_name!r} provides command {command.name!r}, "
                        "which already exists"
                    )
                commands[command.name] = command
                contribution(impl.plugin_name).commands.append(command.name)
        for impl in manager.hook.ocrfleet_kind_extensions.get_hookimpls():
            for extension in _call(impl):
                kind = kinds.get(extension.kind)
                if kind is None:
                    log.warning(
                        "plugin %s extends kind %r, which no plugin provides; ignored",
                        impl.plugin_name,
                        extension.kind,
                    )
                    continue
                try:
                    kind.extend(extension)
                except (TypeError, ValueError) as exc:
                    raise PluginConflictError(
                        f"plugin {impl.plugin_name!r} cannot extend kind {extension.kind!r}: {exc}"
                    ) from exc
                contribution(impl.plugin_name).extensions.append(
                    f"{extension.kind}:{extension.name}"
                )
        rules: dict[str, AlertRule] = {}
        rule_owner: dict[str, str] = {}
        for impl in manager.hook.ocrfleet_alert_rules.get_hookimpls():
            for rule in _call(impl):
                if rule.name in rules:
                    raise PluginConflictError(
                        f"alert rule {rule.name!r} is provided by both "
                        f"{rule_owner[rule.name]!r} and {impl.plugin_name!r}"
                    )
                rules[rule.name] = rule
                rule_owner[rule.name] = impl.plugin_name
                contribution(impl.plugin_name).rules.append(rule.name)
        channel_types: dict[str, ChannelType] = {}
        for plugin, channel_type in _provided_once(
            manager.hook.ocrfleet_channel_types, "channel type", lambda found: found.name
        ):
            channel_types[channel_type.name] = channel_type
            contribution(plugin).channel_types.append(channel_type.name)
        message_catalogs = {
            catalog.domain: catalog
            for _, catalog in _provided_once(
                manager.hook.ocrfleet_message_catalogs, "message domain", lambda found: found.domain
            )
        }
        service_types: dict[str, ServiceType] = {}
        for plugin, service_type in _provided_once(
            manager.hook.ocrfleet_services, "integration", lambda found: found.name
        ):
            service_types[service_type.name] = service_type
            contribution(plugin).service_types.append(service_type.name)
        calendar_types: dict[str, CalendarType] = {}
        for plugin, calendar_type in _provided_once(
            manager.hook.ocrfleet_calendar_types, "calendar type", lambda found: found.name
        ):
            calendar_types[calendar_type.name] = calendar_type
            contribution(plugin).calendar_types.append(calendar_type.name)
        return cls(
            kinds,
            owner,
            commands,
            sorted(contributions.values(), key=lambda c: c.plugin),
            rules,
            rule_owner,
            channel_types,
            source_types,
            message_catalogs,
            service_types,
            calendar_types,
        )


def _provided_once(
    hook: pluggy.HookCaller, what: str, name_of: Callable[[Any], str]
) -> Iterator[tuple[str, Any]]:
    """(plugin, object) for each object the hook's implementations return; two of one name
    are a conflict, whichever plugins they come from."""
    seen: set[str] = set()
    for impl in hook.get_hookimpls():
        for found in _call(impl):
            name = name_of(found)
            if name in seen:
                raise PluginConflictError(
                    f"{what} {name!r} is provided twice (again by {impl.plugin_name!r})"
                )
            seen.add(name)
            yield impl.plugin_name, found


def _check_source(kind: DeviceKind, sources: dict[str, SourceType], plugin: str) -> None:
    if kind.source is None:
        _check_no_source(kind, sources, plugin)
        return
    source = sources.get(kind.source)
    if source is None:
        known = ", ".join(sorted(sources)) or "none"
        raise PluginConflictError(
            f"plugin {plugin!r}: kind {kind.name!r} is polled through source "
            f"{kind.source!r}, which no plugin provides (known: {known})"
        )
    if not issubclass(kind.options_model, source.options_model):
        raise PluginConflictError(
            f"plugin {plugin!r}: the options of kind {kind.name!r} must extend "
            f"{source.options_model.__name__}, the options of source {source.name!r}"
        )


def _check_no_source(kind: DeviceKind, sources: dict[str, SourceType], plugin: str) -> None:
    """A kind that takes a source's options but names no source is never polled.

    Its configuration would look right (host, community, url...) and its
    devices would stay silent: almost always a forgotten `source`.
    """
    taken = [
        source
        for source in sources.values()
        if issubclass(kind.options_model, source.options_model)
    ]
    if not taken:
        return
    # The most specific one, should a source's options extend another's.
    source = max(taken, key=lambda s: len(s.options_model.__mro__))
    raise PluginConflictError(
        f"plugin {plugin!r}: the options of kind {kind.name!r} extend "
        f"{source.options_model.__name__}, the options of source {source.name!r}, but the "
        f"kind names no source: set `source = {source.name!r}` on {type(kind).__name__} "
        "(or base its options on another model)"
    )


def _call(impl: pluggy.HookImpl) -> list[Any]:
    result = cast("Sequence[Any] | None", impl.function())
    return list(result or ())
