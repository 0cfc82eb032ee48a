"""The demo's one user, so that a newcomer can log in and acknowledge an alert.

Its password is made afresh at every start and printed with the demo's
addresses; it is never the same twice, so a demo left running on a LAN is
not open to a password everyone knows. Reading needs no login in the demo
(`[http] anonymous_read`), as on a trusted LAN.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

DEMO_USER = "demo"
# Low, as the password is random and lives as long as the demo.
_ROUNDS = 10


@dataclass(frozen=True)
class DemoUser:
    name: str
    password: str
    web_config_file: Path


def make_demo_user(directory: Path) -> DemoUser:
    password = secrets.token_urlsafe(9)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(_ROUNDS)).decode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "web-config.yml"
    path.write_text(yaml.safe_dump({"basic_auth_users": {DEMO_USER: hashed}}), encoding="utf-8")
    path.chmod(0o600)
    return DemoUser(DEMO_USER, password, path)
