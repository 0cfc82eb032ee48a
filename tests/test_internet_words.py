"""The core's words for a failed internet check name no concrete device kind."""

from __future__ import annotations

import ocrfleet.plugin
from ocrfleet.alerts.internet import reasons_words
from ocrfleet.connectivity import UPLINK_DOWN
from tests.support.words import english


def test_an_uplink_down_is_said_of_any_device() -> None:
    """Any kind that watches its own uplink (a router, a 4G box) uses the same word."""
    assert ocrfleet.plugin.UPLINK_DOWN == UPLINK_DOWN == "uplink_down"
    words = english(reasons_words([UPLINK_DOWN]))
    assert words == "a device's uplink is down"
    assert "hotspot" not in words
