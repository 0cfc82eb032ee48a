"""`[internet]` settings the daemon's check could never use are config errors, with their path.

Loaded, they would fail every check and pass for an internet outage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ocrfleet.cli.common import load_catalog
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import load_config
from tests.support.daemon import site_config
from tests.support.internet import make_certificates


def _load(tmp_path: Path, **internet: Any) -> str:
    """The config error's text for these `[internet]` settings; '' when they load."""
    config = site_config(1883, tmp_path / "store.sqlite")
    config["internet"] = internet
    try:
        load_config(config, load_catalog().kinds)
    except ConfigError as exc:
        return str(exc)
    return ""


def _probe(**settings: Any) -> dict[str, Any]:
    return {"sites": ["lib"], "url": "https://localhost/", **settings}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://localhost:99999/", "not a URL"),
        ("https://localhost:abc/", "not a URL"),
        ("https://localhost:0/", "port 0"),
        ("https://localhost/caf\u00e9", "non-ASCII character"),
        ("https://b\u00fccher.example/", "non-ASCII character"),
        ("https://localhost/a b", "holds a space"),
        ("http://localhost/", "not an https:// URL"),
    ],
)
def test_a_url_the_check_cannot_fetch_is_refused(tmp_path: Path, url: str, words: str) -> None:
    error = _load(tmp_path, probe=_probe(url=url))
    assert error.startswith("internet.probe.url: "), error
    assert words in error


def test_a_percent_encoded_url_loads(tmp_path: Path) -> None:
    assert _load(tmp_path, probe=_probe(url="https://localhost:8443/caf%C3%A9?q=1")) == ""


@pytest.mark.parametrize(
    "resolve",
    [
        "",
        "  ",
        "b\u00fccher.example",
        "two words",
        # Would load and then fail every look-up, passing for an outage.
        "https://www.vlaminggem.be/",
        "www.vlaminggem.be:443",
        "user@www.vlaminggem.be",
        "www.vlaminggem.be/",
        "a" * 64 + ".be",
    ],
)
def test_a_name_that_cannot_be_looked_up_is_refused(tmp_path: Path, resolve: str) -> None:
    error = _load(tmp_path, probe=_probe(resolve=resolve))
    assert error.startswith("internet.probe.resolve: "), error


def test_a_url_as_the_name_to_resolve_says_so(tmp_path: Path) -> None:
    error = _load(tmp_path, probe=_probe(resolve="https://www.vlaminggem.be/"))
    assert error == (
        "internet.probe.resolve: 'https://www.vlaminggem.be/' is a URL: give its host name alone"
    )


@pytest.mark.parametrize("resolve", ["www.vlaminggem.be", "localhost.", "192.0.2.1", "2001:db8::1"])
def test_a_host_name_or_ip_address_to_resolve_loads(tmp_path: Path, resolve: str) -> None:
    assert _load(tmp_path, probe=_probe(resolve=resolve)) == ""


def test_a_missing_ca_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    error = _load(tmp_path, probe=_probe(ca_file=str(missing)))
    assert error.startswith("internet.probe.ca_file: "), error
    assert "does not exist" in error


def test_a_ca_file_that_is_no_certificate_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    error = _load(tmp_path, probe=_probe(ca_file=str(junk)))
    assert error.startswith("internet.probe.ca_file: "), error
    assert "no readable PEM file" in error


def test_a_real_ca_file_loads(tmp_path: Path) -> None:
    ca_file = make_certificates(tmp_path)[0]
    assert _load(tmp_path, probe=_probe(ca_file=str(ca_file))) == ""


def test_a_probe_interval_as_long_as_stale_after_is_refused(tmp_path: Path) -> None:
    """Else the daemon's own check lapses between two runs and its sites turn unknown."""
    error = _load(tmp_path, stale_after="15m", probe=_probe(interval="30m"))
    assert error == (
        "internet.probe.interval: 1800 s must be shorter than internet.stale_after "
        "(900 s), or the daemon's check goes stale between runs"
    )
    assert "internet.probe.interval" in _load(tmp_path, probe=_probe(interval="15m"))
    assert _load(tmp_path, probe=_probe(interval="14m")) == ""


def test_a_probe_whose_checks_may_end_further_apart_than_stale_after_is_refused(
    tmp_path: Path,
) -> None:
    """A check's time is taken when it ends: two may be interval + timeout apart."""
    error = _load(tmp_path, stale_after="60s", probe=_probe(interval="40s", timeout="20s"))
    assert error == (
        "internet.probe.interval: 40 s plus internet.probe.timeout (20 s) must be shorter "
        "than internet.stale_after (60 s): two checks may be that far apart, and the "
        "daemon's check goes stale between runs"
    )
    assert _load(tmp_path, stale_after="60s", probe=_probe(interval="40s", timeout="19s")) == ""


def test_a_probe_timeout_as_long_as_its_interval_is_refused(tmp_path: Path) -> None:
    error = _load(tmp_path, probe=_probe(interval="30s", timeout="30s"))
    assert error == (
        "internet.probe.timeout: 30 s must be shorter than internet.probe.interval (30 s), "
        "or a check is still running when the next is due"
    )
    assert _load(tmp_path, probe=_probe(interval="31s", timeout="30s")) == ""
