"""Options of the `alertmanager` channel."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ocrfleet.plugin import Duration
from ocrfleet_webhook.target import HttpTargetOptions, TargetUrl

API_PATH = "/api/v2/alerts"


class AlertmanagerOptions(HttpTargetOptions):
    """`url` is Alertmanager's base URL (with its route prefix, if any)."""

    # Alertmanager resolves a firing alert by itself once its endsAt passes,
    # as it does when Prometheus stops re-sending one. ocrfleet sends a
    # firing alert again only with a reminder (alerting.repeat_interval, 4 h
    # by default), so this must exceed that interval.
    valid_for: Duration = Field(default=8 * 3600.0, gt=0)
    # A link for Alertmanager's users (each alert's generatorURL); none if empty.
    generator_url: str = ""

    @field_validator("url")
    @classmethod
    def _base_url(cls, value: TargetUrl) -> TargetUrl:
        if "/api/" in urlsplit(value.full).path + "/":
            raise ValueError(
                "give Alertmanager's base URL (such as http://alertmanager:9093); "
                f"the channel adds {API_PATH} itself"
            )
        return value
