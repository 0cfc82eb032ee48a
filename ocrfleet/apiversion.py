"""The version of the plugin API (ocrfleet/plugin.py), and whether a plugin fits it.

Kept apart from ocrfleet.plugin so that the plugin host can check versions
without importing the whole API.
"""

from __future__ import annotations

API_VERSION = "1.4"

# The name of the constant a plugin's entry-point module sets.
DECLARATION = "OCRFLEET_PLUGIN_API"


class PluginApiError(Exception):
    """A plugin written for a plugin API this ocrfleet does not offer."""


def _parse(version: str) -> tuple[int, int]:
    major, dot, minor = version.partition(".")
    if not dot or not major.isdigit() or not minor.isdigit():
        raise ValueError(f'{version!r} is not "MAJOR.MINOR"')
    return int(major), int(minor)


def api_mismatch(plugin: str, declared: object, offered: str = API_VERSION) -> str | None:
    """Why a plugin written for plugin API `declared` cannot load here, or None if it can."""
    if declared is None:
        return (
            f"plugin {plugin!r} does not say which plugin API it was written for: "
            f'set {DECLARATION} = "{offered}" in its entry-point module '
            f"(this ocrfleet offers plugin API {offered})"
        )
    try:
        wanted = _parse(str(declared))
    except ValueError as exc:
        return f"plugin {plugin!r}: {DECLARATION} = {declared!r}: {exc}"
    have = _parse(offered)
    if wanted[0] != have[0] or wanted[1] > have[1]:
        return (
            f"plugin {plugin!r} was written for plugin API {declared}, "
            f"but this ocrfleet offers plugin API {offered}"
        )
    return None
