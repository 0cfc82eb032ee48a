"""Who reads a message: the language and time zone for a site, or for a route's readers."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from ocrfleet.i18n.catalogs import Catalogs, Language
from ocrfleet.i18n.speaker import Speaker


class Readers:
    """The language chosen for each site (else the municipality's), and each site's zone.

    A route may name a language of its own (IT reads English while a front
    desk reads Dutch); it wins over the site's.
    """

    def __init__(
        self,
        catalogs: Catalogs,
        language: Language,
        zone: str,
        site_languages: Mapping[str, Language | None] | None = None,
        site_zones: Mapping[str, str] | None = None,
        *,
        site_names: Mapping[str, str] | None = None,
        everywhere: str = "",
    ) -> None:
        self.catalogs = catalogs
        self._language = language
        self._zone = ZoneInfo(zone)
        self._site_languages = dict(site_languages or {})
        self._site_zones = {site: ZoneInfo(name) for site, name in (site_zones or {}).items()}
        self._site_names = dict(site_names or {})
        self._everywhere = everywhere

    def where(self, site: str | None) -> str:
        """How a reader knows the place: the site's name, or the municipality's for no site."""
        if site is None:
            return self._everywhere
        return self._site_names.get(site, site)

    def speaker(self, *, site: str | None = None, language: Language | None = None) -> Speaker:
        chosen = language or self._site_languages.get(site or "") or self._language
        zone = self._site_zones.get(site or "", self._zone)
        return Speaker(self.catalogs, chosen, zone)


def english_utc() -> Readers:
    """Readers for code that has no configuration (tests, tools): English, UTC."""
    return Readers(Catalogs(), "en", "UTC")
