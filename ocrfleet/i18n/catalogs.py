"""Every plugin's gettext catalogs, loaded on first use.

A plugin ships `<package>/locale/<lang>/LC_MESSAGES/<package>.po`; the
install compiles it to `.mo` (`make catalogs`). A `.mo` older than its
`.po`, or missing (a source checkout), is replaced by compiling the `.po` in
memory, so an edited translation shows without a reinstall.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from gettext import GNUTranslations, NullTranslations
from importlib.resources import files
from pathlib import Path
from typing import Literal, get_args

log = logging.getLogger(__name__)

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
# Babel locales: Flemish usage (nl_BE: "6 dec 2026", "1.234,5"), and English.
LOCALES: Mapping[Language, str] = {"nl": "nl_BE", "en": "en"}
# msgids are written in English: English needs no catalog.
SOURCE_LANGUAGE: Language = "en"


@dataclass(frozen=True, slots=True)
class MessageCatalog:
    """Where a domain's translations live: `<directory>/<lang>/LC_MESSAGES/<domain>.po`."""

    domain: str
    directory: Path

    def po_file(self, language: str) -> Path:
        return self.directory / language / "LC_MESSAGES" / f"{self.domain}.po"


def packaged_catalog(package: str) -> MessageCatalog:
    """The catalog a plugin ships in its package's `locale/` folder, named after the package."""
    return MessageCatalog(package, Path(str(files(package) / "locale")))


class Catalogs:
    """The translations of every domain a plugin registered (hook `ocrfleet_message_catalogs`)."""

    def __init__(self, catalogs: Iterable[MessageCatalog] = ()) -> None:
        self._catalogs = {catalog.domain: catalog for catalog in catalogs}
        self._loaded: dict[tuple[str, str], NullTranslations] = {}
        self._lock = threading.Lock()

    def gettext(self, language: str, domain: str, msgid: str) -> str:
        return str(self._translations(language, domain).gettext(msgid))

    def ngettext(self, language: str, domain: str, singular: str, plural: str, n: int) -> str:
        return str(self._translations(language, domain).ngettext(singular, plural, n))

    def _translations(self, language: str, domain: str) -> NullTranslations:
        key = (language, domain)
        found = self._loaded.get(key)
        if found is None:
            with self._lock:
                found = self._loaded.get(key)
                if found is None:
                    found = self._load(language, domain)
                    self._loaded[key] = found
        return found

    def _load(self, language: str, domain: str) -> NullTranslations:
        catalog = self._catalogs.get(domain)
        if catalog is None or language == SOURCE_LANGUAGE:
            return NullTranslations()
        po = catalog.po_file(language)
        mo = po.with_suffix(".mo")
        try:
            if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
                with mo.open("rb") as fp:
                    return GNUTranslations(fp)
            if po.exists():
                return GNUTranslations(io.BytesIO(compile_po(po)))
        except Exception:
            # Words in English beat no notification at all.
            log.exception("translations of %s for %s unreadable; using English", domain, language)
        return NullTranslations()


def compile_po(po: Path) -> bytes:
    """A `.po` file compiled to `.mo` bytes; fuzzy entries are left out, as msgfmt does."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fp:
        catalog = read_po(fp)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()
