"""Ricoh printers: sysObjectID under enterprise 367.

Ricoh firmware set to Chinese writes its supply descriptions in Chinese
(黑色碳粉 "black toner", 廢棄碳粉 "waste toner") and has no colorant table,
so the colour and the waste box come from those words. Single ideographs are
matched anywhere in the description, which suits these short fixed strings
but would be loose on arbitrary text, so they stay with the firmware that
needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ocrfleet_printer.vendors.base import PrinterVendor

RICOH = "1.3.6.1.4.1.367"

# Traditional and simplified forms; two-character names first, so 洋紅
# (magenta) is not read as something else.
_CJK_COLOURS: tuple[tuple[str, str], ...] = (
    ("洋紅", "magenta"),
    ("洋红", "magenta"),
    ("品紅", "magenta"),
    ("品红", "magenta"),
    ("黑", "black"),
    ("青", "cyan"),
    ("黃", "yellow"),
    ("黄", "yellow"),
)
_CJK_WASTE = ("廢", "废")


class RicohVendor(PrinterVendor):
    name = "ricoh"
    title = "Ricoh"
    enterprises: ClassVar[Sequence[str]] = (RICOH,)

    def colour(self, description: str) -> str | None:
        found = super().colour(description)
        if found is not None:
            return found
        for word, colour in _CJK_COLOURS:
            if word in description:
                return colour
        return None

    def is_waste(self, description: str) -> bool:
        return super().is_waste(description) or any(w in description for w in _CJK_WASTE)
