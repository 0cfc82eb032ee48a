"""The bundled `webhook` channel, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import re
import sys
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from ocrfleet.config.errors import ConfigError
from ocrfleet.i18n.catalogs import Language
from ocrfleet.i18n.readers import Readers
from ocrfleet.notify.channels import Channel, DeliveryError
from ocrfleet.notify.compose import Composer
from ocrfleet.notify.notification import AlertItem, Notification, Status
from ocrfleet.notify.templates import ChannelTemplates
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager
from ocrfleet_alertmanager.options import AlertmanagerOptions
from ocrfleet_email.options import EmailOptions
from ocrfleet_webhook.channel import WebhookChannelType, WebhookOptions
from tests.support.channels import load_with_channel
from tests.support.http_receiver import HttpReceiver
from tests.support.mosquitto import free_port
from tests.support.words import installed_catalogs

STARTED = 1_714_557_600.25  # 2024-05-01T10:00:00.25Z
ENDED = 1_714_561_200.0  # 2024-05-01T11:00:00Z


def pc_down(status: Status = "firing", ends_at: float | None = None) -> AlertItem:
    return AlertItem(
        key="device_down:lib/pc-03",
        fingerprint="a1b2c3d4e5f60718",
        rule="device_down",
        status=status,
        severity="critical",
        labels={
            "alertname": "device_down",
            "severity": "critical",
            "site": "lib",
            "device": "pc-03",
        },
        summary='PC "pc-03" is down',
        description="No health report for 10 minutes.",
        starts_at=STARTED,
        ends_at=ends_at,
    )


def toner_low() -> AlertItem:
    return AlertItem(
        key="toner_low:lib/mfp",
        fingerprint="0f1e2d3c4b5a6978",
        rule="toner_low",
        status="firing",
        severity="warning",
        labels={"alertname": "toner_low", "severity": "warning", "site": "lib", "device": "mfp"},
        summary="Black toner at 4 %",
        description="No health report for 10 minutes.",
        starts_at=STARTED + 60,
        ends_at=None,
    )


def notification(*items: AlertItem, notification_id: str = "n-0001") -> Notification:
    firing = any(item.status == "firing" for item in items)
    return Notification(
        id=notification_id,
        channel="hook",
        group_key='{}:{site="lib"}',
        group_labels={"site": "lib"},
        type="alert",
        status="firing" if firing else "resolved",
        created_at=STARTED + 120,
        items=items,
    )


def webhook(url: Any, name: str = "hook", **options: Any) -> Channel:
    channel_type = WebhookChannelType()
    return channel_type.create(name, WebhookOptions.model_validate({"url": url, **options}))


def deliver(channel: Channel, note: Notification) -> None:
    async def run() -> None:
        try:
            await channel.deliver(note)
        finally:
            await channel.close()

    asyncio.run(run())


def delivery_error(channel: Channel, note: Notification) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        deliver(channel, note)
    return caught.value


@pytest.fixture
def receiver() -> Any:
    with HttpReceiver() as running:
        yield running


# -- registration and options --------------------------------------------------


def test_the_webhook_type_is_registered_by_its_entry_point() -> None:
    catalog = PluginCatalog.from_manager(build_plugin_manager())
    assert isinstance(catalog.channel_types["webhook"], WebhookChannelType)
    owners = [c.plugin for c in catalog.contributions if "webhook" in c.channel_types]
    assert owners == ["webhook"]


def _load(channel: dict[str, Any]) -> None:
    """Load a configuration with this channel as `hook`, as the daemon does."""
    load_with_channel("hook", channel)


def test_the_config_loader_accepts_a_webhook_channel() -> None:
    _load({"type": "webhook", "url": "https://chat.example/hooks/1", "timeout": "5s"})


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("url", "ftp://files.example/x", "must be a URL starting with http:// or https://"),
        ("url", "https:///no-host", "the URL has no host"),
        ("timeout", "soon", "'soon' is not a duration"),
        ("colour", "red", "unknown key"),
        ("headers", {"Content-Type": "text/plain"}, "is set by the channel itself"),
        ("headers", {"Bad Name": "x"}, "'Bad Name' is not a valid HTTP header name"),
        ("ca_file", "/nonexistent/ca.pem", "cannot read '/nonexistent/ca.pem'"),
        ("template", '{"text": "$titel"}', "unknown placeholder $titel (known: $title,"),
        ("template", '{"text": $title}', "not JSON once its placeholders are filled"),
        ("template", '{"text": "costs 5$"}', "be doubled ($$) for a dollar sign"),
    ],
)
def test_a_bad_option_is_named_with_its_place(option: str, value: Any, problem: str) -> None:
    channel = {"type": "webhook", "url": "https://chat.example/hooks/1", option: value}
    with pytest.raises(ConfigError) as caught:
        _load(channel)
    where = f"alerting.channels.hook.{option}"
    assert [p for p in caught.value.problems if p[0] == where and problem in p[1]], (
        caught.value.problems
    )


def test_two_ways_to_authenticate_are_refused() -> None:
    channel = {
        "type": "webhook",
        "url": "https://chat.example/hooks/1",
        "bearer_token": "t",
        "basic_auth": {"username": "u", "password": "p"},
    }
    with pytest.raises(ConfigError, match="give bearer_token or basic_auth, not both"):
        _load(channel)


# -- the Alertmanager v4 body --------------------------------------------------


def test_the_default_body_is_alertmanagers_webhook_v4(receiver: HttpReceiver) -> None:
    channel = webhook(f"{receiver.url}/alerts", external_url="https://ocrfleet.example/")
    deliver(channel, notification(pc_down(), toner_low()))

    (request,) = receiver.wait_for_requests(1)
    assert (request.method, request.path) == ("POST", "/alerts")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "n-0001"
    body = request.json()
    assert set(body) == {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
        "notificationId",
    }
    assert body["version"] == "4"
    assert body["groupKey"] == '{}:{site="lib"}'
    assert body["truncatedAlerts"] == 0
    assert body["status"] == "firing"
    assert body["receiver"] == "hook"
    assert body["groupLabels"] == {"site": "lib"}
    # Only what both alerts share, with the same value.
    assert body["commonLabels"] == {"site": "lib"}
    assert body["commonAnnotations"] == {"description": "No health report for 10 minutes."}
    assert body["externalURL"] == "https://ocrfleet.example/"
    assert body["notificationId"] == "n-0001"
    first, second = body["alerts"]
    assert first == {
        "status": "firing",
        "labels": {
            "alertname": "device_down",
            "severity": "critical",
            "site": "lib",
            "device": "pc-03",
        },
        "annotations": {
            "summary": 'PC "pc-03" is down',
            "description": "No health report for 10 minutes.",
        },
        "startsAt": "2024-05-01T10:00:00.25Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://ocrfleet.example/",
        "fingerprint": "a1b2c3d4e5f60718",
    }
    assert second["startsAt"] == "2024-05-01T10:01:00.25Z"
    assert second["fingerprint"] == "0f1e2d3c4b5a6978"


def test_a_resolved_alert_carries_its_end(receiver: HttpReceiver) -> None:
    resolved = notification(pc_down("resolved", ends_at=ENDED), notification_id="n-0002")
    deliver(webhook(receiver.url), resolved)

    (request,) = receiver.wait_for_requests(1)
    assert request.headers["idempotency-key"] == "n-0002"
    body = request.json()
    assert body["status"] == "resolved"
    (alert,) = body["alerts"]
    assert alert["status"] == "resolved"
    assert alert["endsAt"] == "2024-05-01T11:00:00Z"
    # A single alert: everything it has is common.
    assert body["commonLabels"] == alert["labels"]
    assert body["commonAnnotations"] == alert["annotations"]
    assert body["externalURL"] == alert["generatorURL"] == ""


def test_a_repeated_delivery_keeps_its_idempotency_key(receiver: HttpReceiver) -> None:
    channel = webhook(receiver.url)
    note = notification(pc_down(), notification_id="same-id")
    deliver(channel, note)
    deliver(channel, note)
    first, second = receiver.wait_for_requests(2)
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == "same-id"
    assert first.body == second.body


# -- the template body ---------------------------------------------------------


def test_a_template_body_escapes_every_value(receiver: HttpReceiver) -> None:
    template = (
        '{"text": "$title\\n$text", "status": "$status", "site": "${site}", '
        '"id": "$id", "price": "$$5"}'
    )
    deliver(webhook(receiver.url, template=template), notification(pc_down(), toner_low()))

    (request,) = receiver.wait_for_requests(1)
    assert request.headers["idempotency-key"] == "n-0001"
    assert request.json() == {
        "text": "[FIRING] lib: 2 firing\n"
        'FIRING [critical] lib/pc-03: PC "pc-03" is down\n'
        "FIRING [warning] lib/mfp: Black toner at 4 %",
        "status": "firing",
        "site": "lib",
        "id": "n-0001",
        "price": "$5",
    }


# -- the readers' words (composed when queued) ------------------------------------


def composed(note: Notification, language: Language) -> Notification:
    """As the alert engine queues it: texts rendered from the channel's templates."""
    readers = Readers(
        installed_catalogs(),
        language,
        "Europe/Brussels",
        site_names={"lib": "Bibliotheek Centrum"},
        everywhere="Testdorp",
    )
    compose = Composer(lambda: readers, lambda: ChannelTemplates({"hook": WebhookChannelType()}))
    return compose(note, readers.speaker(site="lib"))


def with_detail(item: AlertItem) -> AlertItem:
    return dataclasses.replace(item, detail="hrPrinterDetectedErrorState = 0x0200")


def test_the_annotations_are_in_the_readers_words(receiver: HttpReceiver) -> None:
    note = composed(notification(with_detail(pc_down()), toner_low()), "nl")
    deliver(webhook(receiver.url), note)

    body = receiver.wait_for_requests(1)[0].json()
    first, second = body["alerts"]
    assert first["annotations"] == {
        "summary": 'PC "pc-03" is down',
        "description": "No health report for 10 minutes.\n\n"
        "Technische details voor ICT: hrPrinterDetectedErrorState = 0x0200",
    }
    # No detail, nothing added.
    assert second["annotations"]["description"] == "No health report for 10 minutes."
    # Machines read UTC.
    assert first["startsAt"] == "2024-05-01T10:00:00.25Z"
    assert body["commonAnnotations"] == {}


def test_a_template_body_reads_in_the_readers_language(receiver: HttpReceiver) -> None:
    resolved = pc_down("resolved", ends_at=ENDED)
    template = '{"text": "$title\\n$text"}'
    languages: tuple[Language, ...] = ("nl", "en")
    for language in languages:
        note = composed(notification(toner_low(), resolved), language)
        deliver(webhook(receiver.url, template=template), note)
    dutch, english = (request.json()["text"] for request in receiver.wait_for_requests(2))
    assert dutch.splitlines() == [
        "Bibliotheek Centrum: 1 probleem, 1 opgelost",
        # "(Needs attention)": a core word, Dutch once the core catalog has it.
        dutch.splitlines()[1].split(" – ")[0] + " – Bibliotheek Centrum – mfp: Black toner at 4 %",
        'Opgelost – Bibliotheek Centrum – pc-03: PC "pc-03" is down',
    ]
    assert dutch.splitlines()[1].startswith("Probleem (")
    assert english.splitlines() == [
        "Bibliotheek Centrum: 1 problem, 1 solved",
        "Problem (Needs attention) – Bibliotheek Centrum – mfp: Black toner at 4 %",
        'Solved – Bibliotheek Centrum – pc-03: PC "pc-03" is down',
    ]


# -- authentication --------------------------------------------------------------


def test_headers_and_bearer_token_may_come_from_secrets(
    receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "s3cret-token")
    key_file = tmp_path / "key"
    key_file.write_text("k-123\n", encoding="utf-8")
    channel = webhook(
        receiver.url,
        bearer_token={"env": "HOOK_TOKEN"},
        headers={"X-Api-Key": {"file": str(key_file)}, "X-Team": "balie"},
    )
    deliver(channel, notification(pc_down()))
    (request,) = receiver.wait_for_requests(1)
    assert request.headers["authorization"] == "Bearer s3cret-token"
    assert request.headers["x-api-key"] == "k-123"
    assert request.headers["x-team"] == "balie"


def test_basic_auth(receiver: HttpReceiver) -> None:
    channel = webhook(receiver.url, basic_auth={"username": "ocr", "password": "pa:ss"})
    deliver(channel, notification(pc_down()))
    (request,) = receiver.wait_for_requests(1)
    expected = base64.b64encode(b"ocr:pa:ss").decode()
    assert request.headers["authorization"] == f"Basic {expected}"


# -- failures ------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_a_receiver_that_may_recover_is_retried(receiver: HttpReceiver, status: int) -> None:
    receiver.fail_next(status)
    channel = webhook(f"{receiver.url}/alerts")
    error = delivery_error(channel, notification(pc_down()))
    assert error.retryable
    assert f"{receiver.url}/alerts: HTTP {status}" in str(error)
    # The next try gets through.
    deliver(channel, notification(pc_down()))
    assert [r.answered for r in receiver.wait_for_requests(2)] == [status, 200]


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_a_refusal_is_not_retried(receiver: HttpReceiver, status: int) -> None:
    receiver.fail_until_told(status)
    error = delivery_error(webhook(receiver.url), notification(pc_down()))
    assert not error.retryable
    assert f"HTTP {status}" in str(error)


def test_the_message_names_the_url_without_credentials(receiver: HttpReceiver) -> None:
    receiver.fail_until_told(400)
    url = f"http://user:hunter2@127.0.0.1:{receiver.port}/hook?token=t0ps3cret"
    error = delivery_error(webhook(url), notification(pc_down()))
    message = str(error)
    assert message.startswith(f"http://127.0.0.1:{receiver.port}/hook: HTTP 400 Bad Request")
    assert "hunter2" not in message and "t0ps3cret" not in message
    # The credentials were sent all the same.
    (request,) = receiver.requests
    assert request.path == "/hook?token=t0ps3cret"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"user:hunter2").decode()


def test_a_url_from_a_secret_is_shown_without_its_path(
    receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_HOOK", f"{receiver.url}/hooks/T000/B000/XXXXsecret")
    receiver.fail_until_told(500)
    error = delivery_error(webhook({"env": "CHAT_HOOK"}), notification(pc_down()))
    assert str(error).startswith(f"{receiver.url}: HTTP 500")
    assert "XXXXsecret" not in str(error)
    assert receiver.requests[0].path == "/hooks/T000/B000/XXXXsecret"


def test_connection_refused_is_retryable() -> None:
    port = free_port()  # nothing listens there
    error = delivery_error(webhook(f"http://127.0.0.1:{port}/hook"), notification(pc_down()))
    assert error.retryable
    assert str(error).startswith(f"http://127.0.0.1:{port}/hook: cannot connect")


def test_the_body_is_json_even_with_non_ascii_text(receiver: HttpReceiver) -> None:
    item = pc_down()
    note = notification(
        AlertItem(**{**_fields(item), "summary": "Pc in de leeszaal van Ieper-Sint-Jan ✗"})
    )
    deliver(webhook(receiver.url), note)
    (request,) = receiver.wait_for_requests(1)
    assert json.loads(request.body.decode("utf-8"))["alerts"][0]["annotations"]["summary"] == (
        "Pc in de leeszaal van Ieper-Sint-Jan ✗"
    )


def _fields(item: AlertItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}


# -- docs/channels.md (for all three bundled channel types) ------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "channels.md"
OPTION_MODELS: dict[str, type[BaseModel]] = {
    "webhook": WebhookOptions,
    "email": EmailOptions,
    "alertmanager": AlertmanagerOptions,
}


def _doc_section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _marked_blocks(marker: str, language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    pattern = rf"<!-- {re.escape(marker)} -->\n```{language}\n(.*?)\n```"
    return re.findall(pattern, text, re.DOTALL)


@pytest.mark.parametrize("channel_type", sorted(OPTION_MODELS))
def test_the_doc_explains_every_option(channel_type: str) -> None:
    documented = set(re.findall(r"^\| `(\w+)` \|", _doc_section(channel_type), re.MULTILINE))
    model = OPTION_MODELS[channel_type]
    options = {field.alias or name for name, field in model.model_fields.items()}
    assert documented == options


def _with_test_secrets(value: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The example with every `{ env }` set and every `{ file }` made, as at a real site."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            monkeypatch.setenv(value["env"], "https://chat.example/hooks/T0/B0/x")
            return value
        if set(value) == {"file"}:
            secret = tmp_path / Path(value["file"]).name
            secret.write_text("not-a-real-secret\n", encoding="utf-8")
            return {"file": str(secret)}
        return {key: _with_test_secrets(item, monkeypatch, tmp_path) for key, item in value.items()}
    return value


@pytest.mark.parametrize("channel_type", sorted(OPTION_MODELS))
def test_the_doc_config_examples_load(
    channel_type: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    examples = _marked_blocks(f"example config: {channel_type}", "toml")
    assert examples
    for example in examples:
        channels = tomllib.loads(example)["alerting"]["channels"]
        for channel in channels.values():
            assert channel["type"] == channel_type
            _load(_with_test_secrets(channel, monkeypatch, tmp_path))


def test_the_doc_body_example_has_the_fields_sent(receiver: HttpReceiver) -> None:
    (example,) = _marked_blocks("example body: webhook", "json")
    documented = json.loads(example)
    deliver(webhook(receiver.url), notification(pc_down()))
    sent = receiver.wait_for_requests(1)[0].json()
    assert set(documented) == set(sent)
    assert set(documented["alerts"][0]) == set(sent["alerts"][0])
    assert documented["alerts"][0]["endsAt"] == sent["alerts"][0]["endsAt"]


def _example_plugin(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    (code,) = _marked_blocks("example: ocrfleet_ntfy.py", "python")
    module = types.ModuleType("ocrfleet_ntfy")
    # Where an import would put it: pydantic resolves the annotations there.
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, "ocrfleet_ntfy.py", "exec"), module.__dict__)
    return module


def test_the_doc_example_plugin_works(
    receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pyproject,) = _marked_blocks("example: pyproject.toml", "toml")
    project = tomllib.loads(pyproject)
    assert project["project"]["entry-points"]["ocrfleet"] == {"ntfy": "ocrfleet_ntfy"}
    assert project["tool"]["setuptools"]["py-modules"] == ["ocrfleet_ntfy"]

    plugin = _example_plugin(monkeypatch)
    catalog = PluginCatalog.from_manager(build_plugin_manager([plugin]))
    channel_type = catalog.channel_types["ntfy"]
    with pytest.raises(ValidationError, match="topic"):
        channel_type.options_model.model_validate({"topic": "no spaces allowed"})
    options = channel_type.options_model.model_validate(
        {"server": receiver.url, "topic": "bib", "token": "tk"}
    )
    channel = channel_type.create("phones", options)
    deliver(channel, notification(pc_down()))
    (request,) = receiver.wait_for_requests(1)
    assert request.headers["authorization"] == "Bearer tk"
    assert request.json() == {
        "topic": "bib",
        "title": '[FIRING] lib: PC "pc-03" is down',
        "message": 'PC "pc-03" is down (firing)',
        "priority": 4,
        "tags": ["ocrfleet", "n-0001"],
    }
    receiver.fail_next(503)
    assert delivery_error(channel, notification(pc_down())).retryable
