"""The web side of a running daemon: /metrics, users, sessions, CSRF, the API, bad input."""

from __future__ import annotations

import gc
import gzip
import http.client
import socket
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

from ocrfleet.alerts.silences import SilenceStore
from ocrfleet.store.connections import StoreConnections
from tests.support.daemon import RunningApp, site_config, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.tls import make_pki
from tests.support.web import OPERATORS, USERS, WebClient, write_web_config


def _config(broker: Mosquitto, tmp_path: Path, **http: Any) -> dict[str, Any]:
    config = site_config(
        broker.port,
        tmp_path / "store.sqlite",
        devices=[{"id": "pc-01", "kind": "pc"}, {"id": "pc-02", "kind": "pc"}],
    )
    config["http"].update(http)
    return config


@pytest.fixture
def daemon(broker: Mosquitto, tmp_path: Path) -> Iterator[RunningApp]:
    web_config = write_web_config(tmp_path)
    config = _config(broker, tmp_path, web_config_file=str(web_config), operators=OPERATORS)
    with RunningApp(config) as running:
        yield running


def _client(running: RunningApp, user: str | None = None) -> WebClient:
    host, port = running.app.http.address
    return WebClient(host, port).as_user(user)


# -- /metrics and /healthz ------------------------------------------------------------


def test_metrics_need_a_user_once_users_are_configured(daemon: RunningApp) -> None:
    anonymous = _client(daemon)
    refused = anonymous.get("/metrics")
    assert refused.status == 401
    assert refused.headers["www-authenticate"].startswith("Basic")
    assert b"Traceback" not in refused.body
    wrong = _client(daemon).as_user("bert", "not-his-password").get("/metrics")
    assert wrong.status == 401
    unknown = _client(daemon).as_user("nobody", "x").get("/metrics")
    assert unknown.status == 401

    viewer = _client(daemon, "bert")
    answer = viewer.get("/metrics")
    assert answer.status == 200
    assert b"ocrfleet_device_up" in answer.body
    # Every exporter's own figures.
    assert b"process_resident_memory_bytes" in answer.body
    assert b"process_open_fds" in answer.body
    head = viewer.request("HEAD", "/metrics")
    assert head.status == 200 and head.body == b""
    assert viewer.get("/healthz").json()["ok"] is True


def test_metrics_are_gzipped_when_asked(daemon: RunningApp) -> None:
    viewer = _client(daemon, "bert")
    plain = viewer.get("/metrics")
    zipped = viewer.get("/metrics", **{"Accept-Encoding": "gzip"})
    assert zipped.headers.get("content-encoding") == "gzip"
    assert plain.headers.get("content-encoding") is None
    body = gzip.decompress(zipped.body)
    names = {line.split("{")[0].split(" ")[0] for line in body.decode().splitlines()}
    assert "ocrfleet_device_up" in names
    assert len(zipped.body) < len(body) / 3


def test_healthz_is_open_but_says_little_to_strangers(daemon: RunningApp) -> None:
    stranger = _client(daemon).get("/healthz")
    assert stranger.status == 200
    assert stranger.json() == {"ok": True}
    full = _client(daemon, "bert").get("/healthz").json()
    assert full["ok"] is True and "store_queue" in full


def test_the_openapi_document_needs_a_login(daemon: RunningApp) -> None:
    assert _client(daemon).get("/api/v1/openapi.json").status == 401


def test_security_headers_on_every_answer(daemon: RunningApp) -> None:
    for answer in (_client(daemon).get("/metrics"), _client(daemon, "bert").get("/api/v1/sites")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


# -- roles and writes -----------------------------------------------------------------------


def test_viewers_read_and_operators_write(daemon: RunningApp, tmp_path: Path) -> None:
    viewer = _client(daemon, "bert")
    operator = _client(daemon, "anna")
    sites = viewer.get("/api/v1/sites")
    assert sites.status == 200
    assert [site["id"] for site in sites.json()] == ["lib"]

    silence = {"target": "lib/pc-01", "duration": "2h", "reason": "new disk"}
    refused = viewer.post_json("/api/v1/silences", silence)
    assert refused.status == 403
    assert "bert may read" in refused.json()["detail"]

    made = operator.post_json("/api/v1/silences", silence)
    assert made.status == 201, made.text
    created = made.json()
    assert created["created_by"] == "anna" and created["state"] == "active"

    # The same store `ocrfleet silence list` reads.
    store = SilenceStore(StoreConnections(tmp_path / "store.sqlite"))
    try:
        assert [s.id for s in store.list(created_at(created))] == [created["id"]]
    finally:
        store.close()
    listed = viewer.get("/api/v1/silences").json()
    assert [s["id"] for s in listed] == [created["id"]]

    ended = operator.request("DELETE", f"/api/v1/silences/{created['id']}")
    assert ended.status == 200
    assert viewer.get("/api/v1/silences").json() == []
    again = operator.request("DELETE", f"/api/v1/silences/{created['id']}")
    assert again.status == 409

    logged = operator.post_json(
        "/api/v1/maintenance", {"device": "lib/pc-02", "task": "monthly", "note": "dusted"}
    )
    assert logged.status == 201, logged.text
    assert logged.json()["source"] == "web:anna"
    ledger = viewer.get("/api/v1/maintenance?device=lib/pc-02").json()
    assert [entry["note"] for entry in ledger] == ["dusted"]


def created_at(silence: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(silence["created_at"]).timestamp()


def test_writes_without_users_are_refused(broker: Mosquitto, tmp_path: Path) -> None:
    with RunningApp(_config(broker, tmp_path)) as running:
        anyone = _client(running)
        assert anyone.get("/metrics").status == 200
        assert anyone.get("/api/v1/sites").status == 200
        refused = anyone.post_json(
            "/api/v1/silences", {"target": "lib", "duration": "1h", "reason": "x"}
        )
        assert refused.status == 403
        assert "needs a user" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "words"),
    [
        ("POST", "/api/v1/silences", b"{not json", {"Content-Type": "application/json"}, 422, ""),
        ("POST", "/api/v1/silences", b"[]", {"Content-Type": "application/json"}, 422, "body"),
        (
            "POST",
            "/api/v1/silences",
            b'{"target": "lib", "duration": "1h", "reason": "x", "extra": 1}',
            {"Content-Type": "application/json"},
            422,
            "extra",
        ),
        (
            "POST",
            "/api/v1/silences",
            b'{"target": "elsewhere", "duration": "1h", "reason": "x"}',
            {"Content-Type": "application/json"},
            404,
            "no site",
        ),
        (
            "POST",
            "/api/v1/silences",
            b'{"target": "lib", "duration": "soon", "reason": "x"}',
            {"Content-Type": "application/json"},
            400,
            "duration",
        ),
        (
            "POST",
            "/api/v1/silences",
            b'{"target": "lib", "duration": "1h", "reason": "x"}',
            {"Content-Type": "application/json", "Origin": "http://evil.example"},
            403,
            "another site",
        ),
        ("DELETE", "/api/v1/silences/99999", None, {}, 404, "no silence"),
        ("DELETE", "/api/v1/silences/abc", None, {}, 422, ""),
        (
            "POST",
            "/api/v1/acknowledgements",
            b'{"alert": "no_such_rule:lib"}',
            {"Content-Type": "application/json"},
            404,
            "",
        ),
        (
            "POST",
            "/api/v1/maintenance",
            b'{"device": "lib/pc-99"}',
            {"Content-Type": "application/json"},
            404,
            "no device",
        ),
        ("GET", "/api/v1/sites/elsewhere", None, {}, 404, "no site"),
        ("GET", "/api/v1/nothing-here", None, {}, 404, ""),
        ("PUT", "/api/v1/sites", None, {}, 405, ""),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    daemon: RunningApp,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    words: str,
) -> None:
    answer = _client(daemon, "anna").request(method, path, body=body, headers=headers)
    assert answer.status == status, answer.text
    detail = answer.json()["detail"]
    assert words in str(detail)
    assert "Traceback" not in answer.text


def test_a_huge_body_is_refused_before_it_is_read(daemon: RunningApp) -> None:
    operator = _client(daemon, "anna")
    big = b'{"target": "lib", "duration": "1h", "reason": "' + b"x" * 200_000 + b'"}'
    answer = operator.request(
        "POST", "/api/v1/silences", body=big, headers={"Content-Type": "application/json"}
    )
    assert answer.status == 413
    assert "larger than" in answer.json()["detail"]


# -- log-in, sessions, CSRF ---------------------------------------------------------------------


def _login(running: RunningApp, user: str) -> WebClient:
    browser = _client(running)
    answer = browser.post_form(
        "/login", {"username": user, "password": USERS[user], "back": "/sites/lib"}
    )
    assert answer.status == 303, answer.text
    assert answer.headers["location"] == "/sites/lib"
    assert "ocrfleet_session" in browser.cookies
    return browser


def test_forms_need_a_session_and_its_csrf_token(daemon: RunningApp) -> None:
    browser = _login(daemon, "anna")
    form = {"target": "lib", "duration": "1h", "reason": "cleaning", "back": "/"}
    without = browser.post_form("/ui/silence", form)
    assert without.status == 403
    assert "CSRF" in without.text
    wrong = browser.post_form("/ui/silence", {**form, "csrf_token": "guess"})
    assert wrong.status == 403

    page = browser.get("/sites/lib", Accept="text/html")
    assert page.status == 200
    token = _csrf_token(page.text)
    made = browser.post_form("/ui/silence", {**form, "csrf_token": token})
    assert made.status == 303
    assert made.headers["location"] == "/"
    silences = browser.get("/api/v1/silences").json()
    assert [(s["target"], s["created_by"]) for s in silences] == [("lib", "anna")]

    # An API write through the session cookie needs the token as a header.
    api = {"target": "lib/pc-01", "duration": "1h", "reason": "x"}
    assert browser.post_json("/api/v1/silences", api).status == 403
    assert browser.post_json("/api/v1/silences", api, **{"X-CSRF-Token": token}).status == 201

    # Somewhere else to go back to is not followed.
    elsewhere = browser.post_form(
        "/ui/silence", {**form, "csrf_token": token, "back": "//evil.example/"}
    )
    assert elsewhere.headers["location"] == "/"


def test_a_viewer_session_cannot_write(daemon: RunningApp) -> None:
    browser = _login(daemon, "bert")
    token = _csrf_token(browser.get("/sites/lib", Accept="text/html").text)
    answer = browser.post_form(
        "/ui/silence",
        {"target": "lib", "duration": "1h", "reason": "x", "csrf_token": token, "back": "/"},
    )
    assert answer.status == 403


def test_pages_send_a_browser_to_the_login_and_back(daemon: RunningApp) -> None:
    browser = _client(daemon)
    answer = browser.get("/sites/lib", Accept="text/html")
    assert answer.status == 303
    assert answer.headers["location"] == "/login?back=/sites/lib"
    assert browser.get("/login?back=/sites/lib", Accept="text/html").status == 200
    # The kiosk is public by default.
    assert browser.get("/kiosk/lib", Accept="text/html").status == 200
    # An API client gets 401, not a page.
    assert browser.get("/api/v1/sites").status == 401


def test_a_forged_session_cookie_is_nobody(daemon: RunningApp) -> None:
    browser = _client(daemon)
    browser.cookies["ocrfleet_session"] = "eyJ1IjoiYW5uYSJ9.forged.signature"
    assert browser.get("/api/v1/sites").status == 401


def test_failed_logins_are_throttled(daemon: RunningApp) -> None:
    browser = _client(daemon)
    for _ in range(5):
        answer = browser.post_form("/login", {"username": "anna", "password": "guess"})
        assert answer.status == 401
    # Even the right password waits now.
    answer = browser.post_form("/login", {"username": "anna", "password": USERS["anna"]})
    assert answer.status == 429
    assert int(answer.headers["retry-after"]) > 0
    basic = _client(daemon, "anna").get("/metrics")
    assert basic.status == 429


def test_logout_ends_the_session(daemon: RunningApp) -> None:
    browser = _login(daemon, "anna")
    token = _csrf_token(browser.get("/sites/lib", Accept="text/html").text)
    assert browser.post_form("/logout", {"csrf_token": token}).status == 303
    assert "ocrfleet_session" not in browser.cookies
    assert browser.get("/api/v1/sites").status == 401


def _csrf_token(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


# -- the OpenAPI document, against the running server ------------------------------------------


def test_the_openapi_document_is_valid_and_describes_the_answers(daemon: RunningApp) -> None:
    viewer = _client(daemon, "bert")
    document = viewer.get("/api/v1/openapi.json").json()
    validate_openapi(document)
    paths = document["paths"]
    for path in ("/api/v1/sites", "/api/v1/alerts", "/api/v1/silences", "/api/v1/acknowledgements"):
        assert path in paths
    checked = 0
    for path, operations in paths.items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        schema = get["responses"]["200"]["content"]["application/json"]["schema"]
        answer = viewer.get(path)
        assert answer.status == 200, (path, answer.text)
        _validate(answer.json(), schema, document)
        checked += 1
    _validate(
        viewer.get("/api/v1/sites/lib").json(),
        paths["/api/v1/sites/{site}"]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ],
        document,
    )
    assert checked >= 6
    # A write's answer too.
    made = _client(daemon, "anna").post_json(
        "/api/v1/silences", {"target": "lib", "duration": "1h", "reason": "check"}
    )
    post = paths["/api/v1/silences"]["post"]["responses"]["201"]["content"]["application/json"]
    _validate(made.json(), post["schema"], document)


def _validate(value: Any, schema: dict[str, Any], document: dict[str, Any]) -> None:
    rooted = {**schema, "components": document.get("components", {})}
    jsonschema.Draft202012Validator(rooted).validate(value)


# -- TLS, and a real Prometheus scraping through it ------------------------------------


def test_prometheus_scrapes_over_tls_with_basic_auth(broker: Mosquitto, tmp_path: Path) -> None:
    from tests.support.prometheus import Prometheus

    pki = make_pki(tmp_path / "pki")
    web_config = write_web_config(tmp_path, pki=pki, client_auth="RequireAndVerifyClientCert")
    config = _config(broker, tmp_path, web_config_file=str(web_config), operators=OPERATORS)
    with RunningApp(config) as running:
        host, port = running.app.http.address
        assert running.app.http.scheme == "https"
        # No client certificate: the handshake fails.
        bare = ssl.create_default_context(cafile=str(pki.ca))
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            WebClient(host, port, bare).as_user("bert").get("/metrics")
        trusted = ssl.create_default_context(cafile=str(pki.ca))
        trusted.load_cert_chain(pki.client_cert, pki.client_key)
        assert WebClient(host, port, trusted).get("/metrics").status == 401
        assert WebClient(host, port, trusted).as_user("bert").get("/metrics").status == 200

        job = {
            "basic_auth": {"username": "bert", "password": USERS["bert"]},
            "tls_config": {
                "ca_file": str(pki.ca),
                "cert_file": str(pki.client_cert),
                "key_file": str(pki.client_key),
            },
        }
        with Prometheus(
            tmp_path / "prom", [f"https://{host}:{port}/metrics"], job_settings=job
        ) as prom:
            wait_for(
                lambda: any(s["value"][1] == "1" for s in prom.query('up{job="ocrfleet"}')),
                timeout=30,
                what="Prometheus scraping over TLS",
            )
            devices = prom.query("ocrfleet_device_up")
            assert {s["metric"]["device"] for s in devices} == {"pc-01", "pc-02"}


# -- load: idle sockets and bursts of scrapes ------------------------------------------


def test_idle_sockets_and_a_burst_of_scrapes_leave_metrics_answering(
    broker: Mosquitto, tmp_path: Path
) -> None:
    config = _config(broker, tmp_path, request_timeout="2s")
    with RunningApp(config) as running:
        host, port = running.app.http.address
        threads_before = threading.active_count()
        idle = [socket.create_connection((host, port)) for _ in range(500)]
        try:
            # One thread per connection would show here.
            assert threading.active_count() - threads_before < 20
            client = _client(running)
            with ThreadPoolExecutor(max_workers=200) as pool:
                answers = list(pool.map(lambda _: client.get("/metrics").status, range(200)))
            assert answers == [200] * 200
            assert client.get("/metrics").status == 200

            # The server closes connections that never send a request.
            def closed(sock: socket.socket) -> bool:
                sock.settimeout(10)
                try:
                    return sock.recv(1) == b""
                except ConnectionResetError:
                    return True

            assert all(closed(sock) for sock in idle)

            # A kept-alive connection whose second request never completes
            # is closed too, not only one that never sent a first.
            slow = socket.create_connection((host, port))
            try:
                slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                slow.settimeout(10)
                answer = b""
                while not answer.endswith(b"}"):  # the whole JSON answer
                    answer += slow.recv(65536)
                assert answer.startswith(b"HTTP/1.1 200")
                slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # no end
                assert closed(slow)
            finally:
                slow.close()
        finally:
            for sock in idle:
                sock.close()


def test_anonymous_read_lets_anyone_look_but_not_write(broker: Mosquitto, tmp_path: Path) -> None:
    web_config = write_web_config(tmp_path)
    config = _config(
        broker,
        tmp_path,
        web_config_file=str(web_config),
        operators=OPERATORS,
        anonymous_read=True,
    )
    with RunningApp(config) as running:
        anyone = _client(running)
        assert anyone.get("/metrics").status == 200
        assert anyone.get("/api/v1/sites").status == 200
        page = anyone.get("/sites/lib", Accept="text/html")
        assert page.status == 200
        assert 'name="csrf_token"' not in page.text  # no forms for nobody
        refused = anyone.post_json(
            "/api/v1/silences", {"target": "lib", "duration": "1h", "reason": "x"}
        )
        assert refused.status == 401
        # Wrong credentials are still wrong, not anonymous.
        assert _client(running).as_user("anna", "guess").get("/metrics").status == 401
        assert (
            _client(running, "anna")
            .post_json("/api/v1/silences", {"target": "lib", "duration": "1h", "reason": "x"})
            .status
            == 201
        )


def test_closed_connections_leave_no_reference_cycles(broker: Mosquitto, tmp_path: Path) -> None:
    # A cycle per closed connection makes back-to-back scrapes set off
    # collections that stall ingest (bench/README.md, scrape.py).
    with RunningApp(_config(broker, tmp_path)) as running:
        web = running.app.http
        host, port = web.address
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            gc.garbage.clear()
            for _ in range(20):
                connection = http.client.HTTPConnection(host, port, timeout=10)
                connection.request("GET", "/metrics", headers={"Connection": "close"})
                assert connection.getresponse().read()
                connection.close()
            wait_for(
                lambda: not web._server.server_state.connections,
                what="the server to close its side of every connection",
            )
            gc.collect()
            left = [type(o).__name__ for o in gc.garbage if "Transport" in type(o).__name__]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
    assert left == []
