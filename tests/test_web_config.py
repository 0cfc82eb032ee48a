"""web_config_file (exporter-toolkit's format), [http] users, and the pieces of logging in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml
from itsdangerous import URLSafeTimedSerializer

from ocrfleet.cli.main import main
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import load_config
from ocrfleet.config.webconfig import read_web_config
from ocrfleet.web.auth import LoginThrottle, Passwords, SessionExpired, Sessions
from tests.support.daemon import catalog
from tests.support.tls import make_pki

HASH = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "web-config.yml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _problems(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        read_web_config(path)
    return caught.value.render()


def test_an_exporter_toolkit_file_loads(tmp_path: Path) -> None:
    make_pki(tmp_path / "pki")
    path = _write(
        tmp_path,
        {
            "tls_server_config": {
                # Relative to the file, as exporter-toolkit reads them.
                "cert_file": "pki/server.crt",
                "key_file": "pki/server.key",
                "client_auth_type": "RequireAndVerifyClientCert",
                "client_ca_file": "pki/ca.pem",
                "min_version": "TLS13",
                "cipher_suites": ["TLS_AES_128_GCM_SHA256"],
            },
            "http_server_config": {"http2": False, "headers": {"X-Site": "lib"}},
            "basic_auth_users": {"anna": HASH},
        },
    )
    web = read_web_config(path)
    assert web.basic_auth_users == {"anna": HASH}
    assert web.tls_server_config is not None
    assert web.tls_server_config.ignored() == ["cipher_suites"]
    context = web.ssl_context()
    assert context is not None
    assert context.minimum_version.name == "TLSv1_3"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("basic_auth_users: [oops", "not YAML"),
        ("- a list", "expected a mapping"),
        ({"basic_auth_users": {"anna": "plain-text"}}, "basic_auth_users: the password of 'anna'"),
        ({"basic_auth_users": {"an na": HASH}}, "is not a user name"),
        ({"basic_auth": {}}, "basic_auth: unknown key"),
        (
            {"tls_server_config": {"cert_file": "missing.crt", "key_file": "missing.key"}},
            "cannot load cert_file",
        ),
        ({"tls_server_config": {"key_file": "x"}}, "tls_server_config.cert_file: required"),
        (
            {
                "tls_server_config": {
                    "cert_file": "a",
                    "key_file": "b",
                    "client_auth_type": "RequireAnyClientCert",
                }
            },
            "RequireAnyClientCert is not supported",
        ),
        ({"http_server_config": {"headers": {"Bad Header": "x"}}}, "is not a header name"),
        (
            {
                "tls_server_config": {
                    "cert_file": "a",
                    "key_file": "b",
                    "min_version": "TLS13",
                    "max_version": "TLS12",
                }
            },
            "min_version TLS13 is after max_version TLS12",
        ),
    ],
)
def test_a_bad_web_config_names_the_key(tmp_path: Path, content: Any, words: str) -> None:
    path = _write(tmp_path, content)
    problems = _problems(path)
    assert problems.startswith(f"http.web_config_file ({path})")
    assert words in problems


def test_client_auth_needs_a_ca(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    path = _write(
        tmp_path,
        {
            "tls_server_config": {
                "cert_file": str(pki.server_cert),
                "key_file": str(pki.server_key),
                "client_auth_type": "VerifyClientCertIfGiven",
            }
        },
    )
    assert "client_ca_file: required by VerifyClientCertIfGiven" in _problems(path)


def _config(tmp_path: Path, **http: Any) -> dict[str, Any]:
    return {
        "municipality": {"name": "Testdorp", "adult_population": 5000},
        "sites": [{"id": "lib", "name": "Library", "village_core": "Testdorp", "devices": []}],
        "http": http,
        "store": {"path": str(tmp_path / "store.sqlite")},
    }


def test_operators_must_be_users(tmp_path: Path) -> None:
    plugins = catalog()
    path = _write(tmp_path, {"basic_auth_users": {"anna": HASH}})
    loaded = load_config(
        _config(tmp_path, web_config_file=str(path), operators=["anna"]), plugins.kinds
    )
    assert loaded.web is not None
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, web_config_file=str(path), operators=["bert"]), plugins.kinds)
    assert "http.operators[0]: 'bert' is not in web_config_file's basic_auth_users" in str(
        caught.value
    )
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, operators=["anna"]), plugins.kinds)
    assert "http.operators[0]" in str(caught.value)


def test_check_config_reports_a_bad_web_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import tomli_w

    web = _write(tmp_path, {"basic_auth_users": {"anna": "secret"}})
    config = tmp_path / "ocrfleet.toml"
    config.write_bytes(tomli_w.dumps(_config(tmp_path, web_config_file=str(web))).encode())
    with pytest.raises(SystemExit) as exited:
        main(["check-config", "--secrets", "--config", str(config)])
    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert "http.web_config_file" in err and "is not a bcrypt hash" in err
    assert "Traceback" not in err


def test_passwords_are_checked_against_bcrypt_and_remembered() -> None:
    passwords = Passwords({"anna": HASH})
    assert passwords.check("anna", "pw")
    assert passwords.check("anna", "pw")  # from memory
    assert not passwords.check("anna", "PW")
    assert not passwords.check("bert", "pw")
    assert not passwords.check("anna", "")


def test_login_throttle_counts_attempts_per_client() -> None:
    now = [1000.0]
    throttle = LoginThrottle(attempts=3, window=60, now=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1") == 0
        assert throttle.begin("10.0.0.1") is not None
    assert throttle.begin("10.0.0.1") is None
    assert throttle.retry_after("10.0.0.1") == pytest.approx(60)
    assert throttle.begin("10.0.0.2") is not None
    now[0] += 61
    assert throttle.begin("10.0.0.1") is not None


def test_guesses_sent_at_once_are_counted_before_they_are_checked() -> None:
    throttle = LoginThrottle(attempts=5, window=60)
    # Ten guesses in flight together: the slow password check has answered
    # none of them yet, and still only five may go ahead.
    marks = [throttle.begin("10.0.0.1") for _ in range(10)]
    assert sum(mark is not None for mark in marks) == 5


def test_a_success_takes_back_only_its_own_attempt() -> None:
    throttle = LoginThrottle(attempts=5, window=60)
    for _ in range(4):
        throttle.begin("10.0.0.1")  # four wrong guesses at someone's account
    mark = throttle.begin("10.0.0.1")  # then one's own, right, password
    assert mark is not None
    throttle.succeeded("10.0.0.1", mark)
    # The four failures still count: one more guess, then a wait.
    assert throttle.begin("10.0.0.1") is not None
    assert throttle.begin("10.0.0.1") is None


def test_login_throttle_memory_is_bounded() -> None:
    throttle = LoginThrottle(attempts=1, max_clients=100)
    for n in range(1000):
        throttle.begin(f"10.0.{n // 256}.{n % 256}")
    assert throttle.retry_after("10.0.3.231") > 0
    assert throttle.retry_after("10.0.0.0") == 0  # forgotten, not kept forever


def test_sessions_expire_and_cannot_be_forged(monkeypatch: pytest.MonkeyPatch) -> None:
    key = b"k" * 32
    sessions = Sessions(lifetime=3600, key=key)
    cookie, session = sessions.issue("anna")
    read = sessions.read(cookie)
    assert read is not None and read.user == "anna" and read.csrf_token == session.csrf_token
    assert Sessions(3600, key=b"x" * 32).read(cookie) is None
    assert sessions.read(cookie[:-2] + "xx") is None
    # Signed by the right key but 2 hours ago.
    old = URLSafeTimedSerializer(key, salt="ocrfleet-session")
    monkeypatch.setattr(old, "get_timestamp", lambda: 1_000_000, raising=False)
    import itsdangerous.timed

    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: 1)
    stale = old.dumps({"u": "anna", "c": "t"})
    monkeypatch.undo()
    with pytest.raises(SessionExpired):
        sessions.read(stale)
