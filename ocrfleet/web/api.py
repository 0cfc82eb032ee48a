"""The JSON API, /api/v1: read the fleet, its alerts, silences, ledger and norms; write a few.

Its OpenAPI document is served at /api/v1/openapi.json and describes exactly
these routes and models (FastAPI generates it from them). Times are RFC 3339
in UTC; words (summaries, states) are in `?lang=` or the municipality's
language.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ocrfleet.alerts.acks import Acknowledgement
from ocrfleet.alerts.silences import Silence
from ocrfleet.config.durations import parse_duration
from ocrfleet.maintenance.ledger import MaintenanceEntry
from ocrfleet.web.actions import ActionError, Actions
from ocrfleet.web.auth import Principal
from ocrfleet.web.status import AlertSummary, SiteDetail, SiteSummary, utc
from ocrfleet.web.views import DeviceOut, Views

Language = Literal["nl", "en"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AcknowledgementOut(_Out):
    alert: str
    episode_started_at: str
    by: str
    at: str
    comment: str


class AcknowledgeIn(_In):
    alert: str = Field(min_length=1, max_length=400, description="the alert's key")
    comment: str = Field(default="", max_length=500)


class SilenceOut(_Out):
    id: int
    target: str = Field(description='"SITE" or "SITE/DEVICE"')
    starts_at: str
    ends_at: str
    reason: str
    created_by: str
    created_at: str
    state: Literal["active", "pending", "expired", "removed"]


class SilenceIn(_In):
    target: str = Field(min_length=1, max_length=200, description='"SITE" or "SITE/DEVICE"')
    reason: str = Field(min_length=1, max_length=500)
    duration: str | None = Field(default=None, description='how long from now, e.g. "2h", "1d"')
    ends_at: datetime | None = Field(default=None, description="when it ends (RFC 3339)")
    starts_at: datetime | None = Field(default=None, description="when it starts; now if absent")


class MaintenanceOut(_Out):
    id: int
    device: str
    task: str
    done_at: str
    minutes: int | None
    note: str
    source: str


class MaintenanceIn(_In):
    device: str = Field(min_length=3, max_length=200, description='"SITE/DEVICE"')
    task: str = Field(default="monthly", min_length=1, max_length=40)
    note: str = Field(default="", max_length=500)
    done_at: datetime | None = Field(default=None, description="when; now if absent")
    minutes: int | None = Field(default=None, ge=0, le=1440)


class Problem(_Out):
    detail: str


def _ack_out(ack: Acknowledgement) -> AcknowledgementOut:
    return AcknowledgementOut(
        alert=ack.key,
        episode_started_at=utc(ack.active_since),
        by=ack.by,
        at=utc(ack.at),
        comment=ack.comment,
    )


def _silence_out(silence: Silence, now: float) -> SilenceOut:
    return SilenceOut(
        id=silence.id,
        target=silence.target,
        starts_at=utc(silence.starts_at),
        ends_at=utc(silence.ends_at),
        reason=silence.reason,
        created_by=silence.created_by,
        created_at=utc(silence.created_at),
        state=silence.state(now),
    )


def _entry_out(entry: MaintenanceEntry) -> MaintenanceOut:
    return MaintenanceOut(
        id=entry.id,
        device=str(entry.device),
        task=entry.task,
        done_at=utc(entry.done_at),
        minutes=entry.minutes,
        note=entry.note,
        source=entry.source,
    )


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in [
        (400, "the request is not acceptable; `detail` says why"),
        (401, "no or wrong credentials, or an expired session"),
        (403, "not allowed (a viewer writing), or a cross-site write"),
        (404, "no such site, device, alert or silence"),
        (409, "the change conflicts with the current state"),
        (422, "the body or a parameter does not match the schema"),
    ]
}


def api_router(
    views: Views,
    actions: Actions,
    reader: Callable[..., Any],
    writer: Callable[..., Any],
) -> APIRouter:
    """The /api/v1 routes; `reader`/`writer` are the dependencies giving the Principal / user."""
    router = APIRouter(prefix="/api/v1", responses=_ERRORS)
    Reader = Annotated[Principal, Depends(reader)]
    Writer = Annotated[str, Depends(writer)]
    Lang = Annotated[Language | None, Query(description="the words' language")]

    @router.get("/sites", response_model=list[SiteSummary], tags=["read"])
    def sites(_: Reader, lang: Lang = None) -> list[SiteSummary]:
        """Every site: open or closed, seats usable, in use and free against its minimum."""
        return views.sites(lang)

    @router.get("/sites/{site}", response_model=SiteDetail, tags=["read"])
    def site(site: str, _: Reader, lang: Lang = None) -> SiteDetail:
        """One site with its devices and alerts."""
        return views.site(site, lang)

    @router.get("/devices", response_model=list[DeviceOut], tags=["read"])
    def devices(
        _: Reader, lang: Lang = None, site: Annotated[str | None, Query()] = None
    ) -> list[DeviceOut]:
        """Every device (or one site's) with its state and last reading."""
        return views.devices(site, lang)

    @router.get("/alerts", response_model=list[AlertSummary], tags=["read"])
    def alerts(_: Reader, lang: Lang = None) -> list[AlertSummary]:
        """Firing alerts, with who acknowledged them and what silences them."""
        return views.alerts(lang)

    @router.get("/silences", response_model=list[SilenceOut], tags=["read"])
    def silences(_: Reader, include_expired: Annotated[bool, Query()] = False) -> list[SilenceOut]:
        """Silences not over yet (with include_expired: every one)."""
        now = actions.clock.now()
        return [_silence_out(s, now) for s in actions.silences(include_expired)]

    @router.get("/maintenance", response_model=list[MaintenanceOut], tags=["read"])
    def maintenance(
        _: Reader,
        device: Annotated[str | None, Query(description='"SITE/DEVICE"')] = None,
        since: Annotated[datetime | None, Query()] = None,
    ) -> list[MaintenanceOut]:
        """The maintenance ledger, oldest first."""
        entries = actions.maintenance(device, _epoch(since) if since is not None else None)
        return [_entry_out(e) for e in entries]

    @router.get("/norms", tags=["read"])
    def norms(_: Reader) -> dict[str, Any]:
        """The guide's norms for the municipality, as `ocrfleet norms --json` prints them."""
        return views.norms()

    @router.post(
        "/acknowledgements", response_model=AcknowledgementOut, status_code=201, tags=["write"]
    )
    def acknowledge(body: AcknowledgeIn, user: Writer) -> AcknowledgementOut:
        """Acknowledge a firing alert: it is not repeated, and shows who took it on."""
        return _ack_out(actions.acknowledge(user, body.alert, body.comment))

    @router.delete(
        "/acknowledgements/{alert:path}", response_model=AcknowledgementOut, tags=["write"]
    )
    def withdraw(alert: str, user: Writer) -> AcknowledgementOut:
        """Withdraw an acknowledgement: the alert repeats again."""
        return _ack_out(actions.withdraw(user, alert))

    @router.post("/silences", response_model=SilenceOut, status_code=201, tags=["write"])
    def add_silence(body: SilenceIn, user: Writer) -> SilenceOut:
        """Hold back notifications about a site or device for a while."""
        now = actions.clock.now()
        ends_at = _silence_end(body, now)
        starts_at = _epoch(body.starts_at) if body.starts_at is not None else None
        silence = actions.silence(user, body.target, ends_at, body.reason, starts_at)
        return _silence_out(silence, actions.clock.now())

    @router.delete("/silences/{silence_id}", response_model=SilenceOut, tags=["write"])
    def expire_silence(silence_id: int, user: Writer) -> SilenceOut:
        """End a silence now."""
        silence = actions.expire_silence(user, silence_id)
        return _silence_out(silence, actions.clock.now())

    @router.post("/maintenance", response_model=MaintenanceOut, status_code=201, tags=["write"])
    def log_maintenance(body: MaintenanceIn, user: Writer) -> MaintenanceOut:
        """Log maintenance done on a device."""
        done_at = _epoch(body.done_at) if body.done_at is not None else None
        entry = actions.log_maintenance(
            user, body.device, body.task, body.note, done_at, body.minutes
        )
        return _entry_out(entry)

    return router


def _epoch(when: datetime) -> float:
    if when.tzinfo is None:
        raise ActionError("times need a zone, e.g. 2026-12-06T10:00:00Z or +01:00")
    return when.timestamp()


def _silence_end(body: SilenceIn, now: float) -> float:
    if (body.duration is None) == (body.ends_at is None):
        raise ActionError("give either duration or ends_at")
    if body.ends_at is not None:
        return _epoch(body.ends_at)
    assert body.duration is not None
    try:
        seconds = parse_duration(body.duration)
    except ValueError as exc:
        raise ActionError(f"duration: {exc}") from None
    start = _epoch(body.starts_at) if body.starts_at is not None else now
    return start + seconds


def request_language(request: Request) -> str | None:
    value = request.query_params.get("lang")
    return value if value in ("nl", "en") else None
