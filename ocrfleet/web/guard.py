"""Who may do what: every request's Principal, and the checks before a write.

Without users in web_config_file everyone may read, as /metrics always
allowed, and nobody may write: an acknowledgement or a silence must say
who made it.

Writes are protected against cross-site requests two ways: a form or a
request carried by the session cookie must send the session's CSRF token;
a request with basic auth (which browsers also send on their own) must be
JSON and must not come from another site (Origin, Sec-Fetch-Site).
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ocrfleet.web.auth import (
    LoginThrottle,
    Passwords,
    Principal,
    Role,
    Session,
    SessionExpired,
    Sessions,
    same_token,
)

log = logging.getLogger(__name__)

NOBODY = Principal(None, None, "none")
ANONYMOUS = Principal(None, Role.VIEWER, "anonymous")
CSRF_HEADER = "X-CSRF-Token"


class Refused(Exception):
    """A request refused, with the status and a one-line reason."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        expired: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.expired = expired
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="ocrfleet", charset="UTF-8"'
        if self.retry_after is not None:
            headers["Retry-After"] = str(math.ceil(self.retry_after))
        return headers


@dataclass(frozen=True)
class Guard:
    passwords: Passwords
    operators: frozenset[str]
    sessions: Sessions
    throttle: LoginThrottle
    public_kiosk: bool
    secure_cookies: bool
    # [http] anonymous_read: who gives no credentials may still read.
    anonymous_read: bool = False

    def role_of(self, user: str) -> Role:
        return Role.OPERATOR if user in self.operators else Role.VIEWER

    async def principal(self, request: Request) -> Principal:
        """Who is asking; Refused for wrong credentials or an expired session."""
        if not self.passwords.enabled:
            return Principal(None, Role.VIEWER, "open")
        header = request.headers.get("authorization")
        if header is not None:
            user, password = _basic(header)
            await self.check_password(user, password, client_address(request))
            return Principal(user, self.role_of(user), "basic")
        cookie = request.cookies.get(Sessions.COOKIE)
        if cookie:
            try:
                session = self.sessions.read(cookie)
            except SessionExpired:
                raise Refused(401, "your session expired: log in again", expired=True) from None
            if session is not None and session.user in self.passwords.users:
                return _from_session(session, self.role_of(session.user))
        return ANONYMOUS if self.anonymous_read else NOBODY

    async def check_password(self, user: str, password: str, client: str) -> None:
        mark = self.throttle.begin(client)
        if mark is None:
            raise Refused(
                429,
                "too many failed log-ins: try again later",
                retry_after=self.throttle.retry_after(client),
            )
        if not await run_in_threadpool(self.passwords.check, user, password):
            log.warning("web: failed log-in for user %r from %s", user, client)
            raise Refused(401, "wrong user name or password")
        self.throttle.succeeded(client, mark)

    def check_write(self, principal: Principal, request: Request, form_token: str | None) -> str:
        """The user allowed to make this write; Refused otherwise."""
        if principal.via == "open":
            raise Refused(403, "writing needs a user: see basic_auth_users in docs/web.md")
        if principal.user is None or principal.role is None:
            raise Refused(401, "log in first")
        if not principal.can_write:
            raise Refused(403, f"{principal.user} may read but not change anything")
        if principal.via == "session":
            token = form_token if form_token is not None else request.headers.get(CSRF_HEADER)
            if token is None or not same_token(token, principal.csrf_token):
                raise Refused(403, "missing or wrong CSRF token: reload the page and try again")
        else:
            refuse_cross_site(request)
            if form_token is not None:
                raise Refused(403, "forms need a log-in session, not basic auth")
        return principal.user


def refuse_cross_site(request: Request) -> None:
    """Refused when the browser says the request comes from a page of another site."""
    origin = request.headers.get("origin")
    foreign = origin is not None and not _same_origin(origin, request)
    if request.headers.get("sec-fetch-site") == "cross-site" or foreign:
        raise Refused(403, "a request from another site is refused")


def _from_session(session: Session, role: Role) -> Principal:
    return Principal(session.user, role, "session", session.csrf_token)


def _basic(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise Refused(401, "only basic authentication is accepted")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Refused(401, "malformed basic authentication") from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise Refused(401, "malformed basic authentication")
    return user, password


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "?"


def _same_origin(origin: str, request: Request) -> bool:
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")
