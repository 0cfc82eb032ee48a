"""A daemon with users and (optionally) TLS, and a small HTTP client for its web side."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from tests.support.tls import Pki

# Low bcrypt cost: the tests check passwords often, and cost is not what they test.
ROUNDS = 4
USERS = {"anna": "anna-secret", "bert": "bert-secret"}
OPERATORS = ["anna"]


def write_web_config(
    directory: Path,
    users: Mapping[str, str] = USERS,
    pki: Pki | None = None,
    client_auth: str = "NoClientCert",
) -> Path:
    hashed = {
        name: bcrypt.hashpw(password.encode(), bcrypt.gensalt(ROUNDS)).decode()
        for name, password in users.items()
    }
    config: dict[str, Any] = {"basic_auth_users": hashed}
    if pki is not None:
        tls: dict[str, Any] = {
            "cert_file": str(pki.server_cert),
            "key_file": str(pki.server_key),
            "client_auth_type": client_auth,
        }
        if client_auth != "NoClientCert":
            tls["client_ca_file"] = str(pki.ca)
        config["tls_server_config"] = tls
    path = directory / "web-config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class WebClient:
    host: str
    port: int
    tls: ssl.SSLContext | None = None
    user: str | None = None
    password: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def as_user(self, user: str | None, password: str | None = None) -> WebClient:
        return WebClient(self.host, self.port, self.tls, user, password or USERS.get(user or ""))

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Answer:
        sent = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            sent.setdefault("Content-Type", "application/json")
        if self.user is not None:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            sent.setdefault("Authorization", f"Basic {token}")
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection: http.client.HTTPConnection
        if self.tls is not None:
            connection = http.client.HTTPSConnection(
                self.host, self.port, timeout=30, context=self.tls
            )
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie, _, _ = value.partition(";")
                    key, _, text = cookie.partition("=")
                    if text and text != '""':
                        self.cookies[key.strip()] = text.strip()
                    else:
                        self.cookies.pop(key.strip(), None)
            return answer
        finally:
            connection.close()

    def get(self, path: str, **headers: str) -> Answer:
        return self.request("GET", path, headers=headers)

    def post_json(self, path: str, body: Any, **headers: str) -> Answer:
        return self.request("POST", path, json_body=body, headers=headers)

    def post_form(self, path: str, fields: Mapping[str, str]) -> Answer:
        from urllib.parse import urlencode

        return self.request(
            "POST",
            path,
            body=urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
