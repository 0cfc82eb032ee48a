"""Programs the tests run that `make test` installs (promtool, systemd-analyze, ...)."""

from __future__ import annotations

import os
import shutil

import pytest


def installed(name: str, package: str) -> str:
    """The program's path. Missing, it fails the test under CI, where a skip would pass
    tests that ran nothing, and skips it elsewhere."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed (Debian package {package})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found
