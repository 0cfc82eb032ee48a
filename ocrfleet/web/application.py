"""The web application: /metrics, /healthz, the status pages, the kiosk, log-in and the API.

Built once by the App (the composition root) from the parts it already has;
nothing here is global. Routes check who asks through the Guard; pages that
need a login send a browser to /login, everything else answers 401.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocrfleet.config.durations import parse_duration
from ocrfleet.web.actions import ActionError, Actions
from ocrfleet.web.api import api_router, request_language
from ocrfleet.web.auth import Principal, Sessions, same_token
from ocrfleet.web.guard import Guard, Refused, client_address, refuse_cross_site
from ocrfleet.web.pages import CONTENT_SECURITY_POLICY, Pages, Viewer
from ocrfleet.web.scrape import SharedScrapes
from ocrfleet.web.views import Views

log = logging.getLogger(__name__)

HealthCheck = Callable[[], dict[str, Any]]
# Forms and API bodies are a few hundred bytes; this leaves room and no more.
MAX_BODY = 64 * 1024
_TOO_LARGE = f"the request body is larger than {MAX_BODY} bytes"
# On every answer, errors included: the server adds them to each one
# (ocrfleet/app/web.py), which also covers a crash's 500.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # The pages' own style and script, by hash, and nothing else.
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


@dataclass(frozen=True)
class WebParts:
    scrapes: SharedScrapes
    health: HealthCheck
    views: Views
    pages: Pages
    actions: Actions
    guard: Guard


def build_application(parts: WebParts) -> FastAPI:
    guard = parts.guard
    views = parts.views
    pages = parts.pages
    actions = parts.actions
    app = FastAPI(
        title="ocrfleet",
        summary="Public computer rooms: sites, devices, alerts, silences and maintenance.",
        version="1",
        # Served below, behind the same login as the API it describes.
        openapi_url=None,
        # The interactive docs load scripts from a CDN; the pages must work offline.
        docs_url=None,
        redoc_url=None,
    )

    async def principal(request: Request) -> Principal:
        return await guard.principal(request)

    async def reader(request: Request) -> Principal:
        who = await guard.principal(request)
        if not who.can_read:
            raise Refused(401, "log in first")
        return who

    async def api_writer(request: Request) -> str:
        who = await guard.principal(request)
        return guard.check_write(who, request, None)

    app.include_router(api_router(views, actions, reader, api_writer))

    # -- errors --------------------------------------------------------------

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if _wants_html(request) and exc.status == 401:
            back = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            suffix = "&expired=1" if exc.expired else ""
            response: Response = RedirectResponse(f"/login?back={back}{suffix}", 303)
            if exc.expired:
                response.delete_cookie(Sessions.COOKIE)
            return response
        return _problem(request, exc.status, str(exc), exc.headers())

    @app.exception_handler(ActionError)
    async def action_error(request: Request, exc: ActionError) -> Response:
        return _problem(request, exc.status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        ]
        return _problem(request, 422, "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _problem(request, exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.error("web: %s %s failed", request.method, request.url.path, exc_info=exc)
        return _problem(request, 500, "internal error; the daemon's log says more")

    def _problem(
        request: Request, status: int, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        if _wants_html(request):
            html = pages.error(status, message, views.speaker(None, request_language(request)))
            return HTMLResponse(html, status, headers=headers)
        return JSONResponse({"detail": message}, status, headers=headers)

    # -- for machines ----------------------------------------------------------

    @app.api_route("/metrics", methods=["GET", "HEAD"], include_in_schema=False)
    async def metrics(request: Request, _: Annotated[Principal, Depends(reader)]) -> Response:
        gzipped = "gzip" in request.headers.get("accept-encoding", "").lower()
        body, content_type = await parts.scrapes.render(request.headers.get("accept", ""), gzipped)
        headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"} if gzipped else {}
        return Response(body, media_type=content_type, headers=headers)

    @app.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
    async def healthz(who: Annotated[Principal, Depends(principal)]) -> Response:
        status = parts.health()
        code = 200 if status.get("ok") else 503
        # Open to service managers and load balancers, which have no user;
        # the details (store errors, paths) only for those who may read.
        return JSONResponse(status if who.can_read else {"ok": bool(status.get("ok"))}, code)

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    async def openapi(_: Annotated[Principal, Depends(reader)]) -> JSONResponse:
        return JSONResponse(app.openapi())

    # -- for people --------------------------------------------------------------

    def viewer(who: Principal) -> Viewer:
        return Viewer(who.user, who.can_write, who.csrf_token)

    # The pages read the fleet, the store and every kind's status card: in
    # a worker thread, so that the loop goes on answering scrapes meanwhile.

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def overview(request: Request, who: Annotated[Principal, Depends(reader)]) -> str:
        language = request_language(request)

        def render() -> str:
            speaker = views.speaker(None, language)
            return pages.overview(views.status.overview(speaker), speaker, viewer(who))

        result: str = await run_in_threadpool(render)
        return result

    @app.get("/sites/{site}", response_class=HTMLResponse, include_in_schema=False)
    async def site_page(
        site: str, request: Request, who: Annotated[Principal, Depends(reader)]
    ) -> str:
        language = request_language(request)

        def render() -> str:
            speaker = views.speaker(site, language)
            model = views.status.site(site, speaker)
            if model is None:
                raise ActionError(f"there is no site {site!r}", 404)
            return pages.site(model, speaker, viewer(who))

        result: str = await run_in_threadpool(render)
        return result

    @app.get("/kiosk/{site}", response_class=HTMLResponse, include_in_schema=False)
    async def kiosk(site: str, request: Request) -> str:
        if not guard.public_kiosk:
            await reader(request)
        language = request_language(request)

        def render() -> str:
            speaker = views.speaker(site, language)
            model = views.status.kiosk(site, speaker)
            if model is None:
                raise ActionError(f"there is no site {site!r}", 404)
            return pages.kiosk(model, speaker)

        result: str = await run_in_threadpool(render)
        return result

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_page(request: Request, back: str = "/", expired: str = "") -> str:
        speaker = views.speaker(None, request_language(request))
        error = speaker.gettext("Your session expired: please log in again.") if expired else None
        return pages.login(speaker, error, _local(back))

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=256)],
        back: Annotated[str, Form(max_length=2000)] = "/",
    ) -> Response:
        speaker = views.speaker(None, request_language(request))
        client = client_address(request)
        try:
            # Another site must not log a browser in as someone else.
            refuse_cross_site(request)
            if not guard.passwords.enabled:
                raise Refused(403, "no users are configured: see docs/web.md")
            await guard.check_password(username, password, client)
        except Refused as exc:
            message = {
                401: speaker.gettext("Wrong user name or password."),
                429: speaker.gettext("Too many failed attempts: wait a few minutes."),
            }.get(exc.status, str(exc))
            headers = {k: v for k, v in exc.headers().items() if k != "WWW-Authenticate"}
            return HTMLResponse(
                pages.login(speaker, message, _local(back)), exc.status, headers=headers
            )
        cookie, _ = guard.sessions.issue(username)
        log.info("web: %s logged in from %s", username, client)
        response = RedirectResponse(_local(back), 303)
        response.set_cookie(
            Sessions.COOKIE,
            cookie,
            max_age=int(guard.sessions.lifetime),
            httponly=True,
            samesite="strict",
            secure=guard.secure_cookies,
        )
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(
        request: Request,
        who: Annotated[Principal, Depends(principal)],
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        if who.via == "session" and not same_token(csrf_token, who.csrf_token):
            raise Refused(403, "missing or wrong CSRF token: reload the page and try again")
        response = RedirectResponse("/login", 303)
        response.delete_cookie(Sessions.COOKIE)
        if who.user is not None:
            log.info("web: %s logged out", who.user)
        return response

    FormText = Annotated[str, Form(max_length=500)]

    async def form_writer(request: Request) -> tuple[str, str]:
        who = await guard.principal(request)
        if who.user is None:
            raise Refused(401, "log in first")
        form = await request.form()
        token = form.get("csrf_token")
        user = guard.check_write(who, request, token if isinstance(token, str) else "")
        back = form.get("back")
        return user, _local(back if isinstance(back, str) else "/")

    FormUser = Annotated[tuple[str, str], Depends(form_writer)]

    @app.post("/ui/acknowledge", include_in_schema=False)
    async def ui_acknowledge(
        written: FormUser, alert: FormText, comment: FormText = ""
    ) -> Response:
        user, back = written
        await run_in_threadpool(actions.acknowledge, user, alert, comment)
        return RedirectResponse(back, 303)

    @app.post("/ui/silence", include_in_schema=False)
    async def ui_silence(
        written: FormUser, target: FormText, duration: FormText, reason: FormText
    ) -> Response:
        user, back = written
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise ActionError(f"duration: {exc}") from None
        now = actions.clock.now()
        await run_in_threadpool(actions.silence, user, target, now + seconds, reason)
        return RedirectResponse(back, 303)

    @app.post("/ui/maintenance", include_in_schema=False)
    async def ui_maintenance(
        written: FormUser, device: FormText, task: FormText = "monthly", note: FormText = ""
    ) -> Response:
        user, back = written
        await run_in_threadpool(actions.log_maintenance, user, device, task, note)
        return RedirectResponse(back, 303)

    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(_BodyLimit)
    return app


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path in ("/metrics", "/healthz"):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "POST"


def _local(back: str) -> str:
    """A path on this server to go back to; anything else (another site) becomes /."""
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        return "/"
    return back


class _BodyLimit:
    """Request bodies capped at MAX_BODY.

    A pure ASGI middleware: it must see a chunked body as it streams in.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY):
                await _too_large(send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY:
                    # Handled inside the application, like any HTTP error.
                    raise StarletteHTTPException(413, _TOO_LARGE)
            return message

        await self.app(scope, limited_receive, send)


async def _too_large(send: Send) -> None:
    body = json.dumps({"detail": _TOO_LARGE}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
