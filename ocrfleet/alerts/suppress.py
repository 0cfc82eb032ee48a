"""What keeps a firing alert from notifying: silences and maintenance windows.

A suppressed alert still fires and resolves (it shows in metrics); only its
notifications are held back. When the suppression ends and the alert is
still firing, it notifies then.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Suppressor(Protocol):
    def suppressed_by(self, labels: Mapping[str, str], now: float) -> str | None:
        """Why an alert with these labels must not notify now (one line), or None."""
        ...
