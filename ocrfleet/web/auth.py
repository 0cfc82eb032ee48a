"""Who is asking: basic auth against bcrypt hashes, log-in sessions, roles, throttling.

Two ways in, both checked against web_config_file's `basic_auth_users`:
- HTTP basic auth on every request, as Prometheus and scripts do;
- the log-in page, which gives a signed, expiring session cookie and a CSRF
  token that every form must send back.

bcrypt costs ~0.2 s per check by design; like exporter-toolkit, a successful
check is remembered (keyed by a hash of the password, never the password),
so a Prometheus scraping every 15 s pays it once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import bcrypt
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_REMEMBERED = 1024


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Principal:
    """The one asking: a user (or nobody) with a role."""

    user: str | None
    role: Role | None  # None: may not even read
    via: str  # "basic", "session", "open" (no users configured), "none"
    csrf_token: str = ""

    @property
    def can_read(self) -> bool:
        return self.role is not None

    @property
    def can_write(self) -> bool:
        return self.role is Role.OPERATOR


class Passwords:
    """Checks user names and passwords against bcrypt hashes."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = {name: hashed.encode() for name, hashed in users.items()}
        self._good: OrderedDict[tuple[str, bytes], None] = OrderedDict()
        # Checks run on several worker threads at once.
        self._lock = threading.Lock()
        # Unknown users are checked against a hash as costly as the dearest
        # real one: a wrong name then takes as long as a wrong password, and
        # does not tell which names exist.
        cost = max((int(h.split(b"$")[2]) for h in self._users.values()), default=4)
        self._unknown = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(cost))

    @property
    def enabled(self) -> bool:
        return bool(self._users)

    @property
    def users(self) -> frozenset[str]:
        return frozenset(self._users)

    def check(self, user: str, password: str) -> bool:
        hashed = self._users.get(user)
        memo = (user, hashlib.sha256(password.encode() + (hashed or b"")).digest())
        with self._lock:
            if hashed is not None and memo in self._good:
                self._good.move_to_end(memo)
                return True
        try:
            ok = bcrypt.checkpw(password.encode(), hashed or self._unknown)
        except ValueError:
            ok = False
        if not ok or hashed is None:
            return False
        with self._lock:
            self._good[memo] = None
            while len(self._good) > _REMEMBERED:
                self._good.popitem(last=False)
        return True


class LoginThrottle:
    """At most `attempts` failed log-ins per client address within `window` seconds.

    An attempt counts from the moment it starts, before the slow password
    check: guesses sent all at once are refused past the limit, not let
    through while the first ones are still being checked. A success takes
    back only its own attempt, so logging in with one's own account does
    not wipe the failures guessed at another's. Used from the web server's
    event loop only.
    """

    def __init__(
        self,
        attempts: int = 5,
        window: float = 300.0,
        now: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self._attempts = attempts
        self._window = window
        self._now = now
        self._max_clients = max_clients
        self._tries: OrderedDict[str, list[float]] = OrderedDict()

    def retry_after(self, client: str) -> float:
        """Seconds until `client` may try again; 0 when it may now."""
        recent = self._recent(client)
        if len(recent) < self._attempts:
            return 0.0
        return max(recent[0] + self._window - self._now(), 1.0)

    def begin(self, client: str) -> float | None:
        """Count an attempt; its mark for succeeded(), or None when `client` must wait."""
        recent = self._recent(client)
        if len(recent) >= self._attempts:
            return None
        mark = self._now()
        recent.append(mark)
        self._tries[client] = recent
        self._tries.move_to_end(client)
        # A flood from many addresses must not grow memory without bound.
        while len(self._tries) > self._max_clients:
            self._tries.popitem(last=False)
        return mark

    def succeeded(self, client: str, mark: float) -> None:
        recent = self._tries.get(client)
        if recent is not None and mark in recent:
            recent.remove(mark)

    def _recent(self, client: str) -> list[float]:
        since = self._now() - self._window
        return [t for t in self._tries.get(client, ()) if t > since]


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    csrf_token: str


class SessionExpired(Exception):
    """A session cookie that was valid once and is now too old."""


class Sessions:
    """Signed session cookies: nothing to store, and a restart logs everyone out.

    The key is made at start-up, so a cookie cannot outlive the daemon that
    issued it, and no secret needs to be configured or kept.
    """

    COOKIE = "ocrfleet_session"

    def __init__(self, lifetime: float, key: bytes | None = None) -> None:
        self.lifetime = lifetime
        self._signer = URLSafeTimedSerializer(
            key or secrets.token_bytes(32), salt="ocrfleet-session"
        )

    def issue(self, user: str) -> tuple[str, Session]:
        session = Session(user, secrets.token_urlsafe(24))
        return self._signer.dumps({"u": user, "c": session.csrf_token}), session

    def read(self, cookie: str) -> Session | None:
        """The session a cookie carries; None if forged; SessionExpired if too old."""
        try:
            data: Any = self._signer.loads(cookie, max_age=int(self.lifetime))
        except SignatureExpired:
            raise SessionExpired from None
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        user, token = data.get("u"), data.get("c")
        if not isinstance(user, str) or not isinstance(token, str):
            return None
        return Session(user, token)


def same_token(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
