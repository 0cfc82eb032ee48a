"""What the API and the pages read, in the reader's language: the status, devices, norms."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field
from pydantic_core import to_jsonable_python

from ocrfleet.clock import Clock
from ocrfleet.config.loader import LoadedConfig
from ocrfleet.devices import DeviceKey
from ocrfleet.devicestate import device_status
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.internet.judge import InternetJudge, judge_fleet, offline_sites
from ocrfleet.kinds import DeviceKind
from ocrfleet.norms.document import norms_document
from ocrfleet.norms.figures import norm_figures
from ocrfleet.norms.live import LiveStates
from ocrfleet.state import FleetState
from ocrfleet.web.actions import ActionError
from ocrfleet.web.status import (
    AlertSummary,
    DeviceCardModel,
    SiteDetail,
    SiteSummary,
    StatusReader,
)


class DeviceOut(DeviceCardModel):
    reading: dict[str, Any] | None = Field(
        default=None, description="the kind's last reading, as its plugin defines it"
    )


class Views:
    def __init__(
        self,
        status: StatusReader,
        loaded: Callable[[], LoadedConfig],
        state: Callable[[], FleetState],
        kinds: Mapping[str, DeviceKind],
        clock: Clock,
        internet: InternetJudge | None = None,
    ) -> None:
        self.status = status
        self._loaded = loaded
        self._state = state
        self._kinds = kinds
        self._clock = clock
        self._internet = internet or InternetJudge(kinds)

    def speaker(self, site: str | None, language: str | None) -> Speaker:
        return self.status.speaker_for(site, language)

    def sites(self, language: str | None) -> list[SiteSummary]:
        return list(self.status.overview(self.speaker(None, language)).sites)

    def site(self, site: str, language: str | None) -> SiteDetail:
        detail = self.status.site(site, self.speaker(site, language))
        if detail is None:
            raise ActionError(f"there is no site {site!r}", 404)
        return detail

    def alerts(self, language: str | None) -> list[AlertSummary]:
        return list(self.status.overview(self.speaker(None, language)).alerts)

    def devices(self, site: str | None, language: str | None) -> list[DeviceOut]:
        sites = [site] if site is not None else list(self._loaded().schedules)
        state = self._state()
        found: list[DeviceOut] = []
        for site_id in sites:
            detail = self.site(site_id, language)
            for card in (*detail.seats, *detail.site.equipment):
                view = state.view(DeviceKey(card.site, card.id))
                reading = view.reading if view is not None else None
                found.append(DeviceOut(**card.model_dump(), reading=_jsonable(reading)))
        return found

    def norms(self) -> dict[str, Any]:
        loaded = self._loaded()
        now = self._clock.now()
        seat_kinds = {name for name, kind in self._kinds.items() if kind.is_seat}
        state = self._state()
        states = {}
        for info in loaded.devices:
            if info.kind not in seat_kinds:
                continue
            view = state.view(info.key)
            if view is not None:
                states[info.key] = device_status(view, now, self._kinds.get(info.kind)).state
        offline = offline_sites(judge_fleet(self._internet, loaded.config, state, now))
        figures = norm_figures(loaded.config, loaded.devices, seat_kinds, states, offline)
        return norms_document(
            figures, LiveStates(None, states, offline_sites=offline), len(loaded.config.sites)
        )


def _jsonable(reading: object | None) -> dict[str, Any] | None:
    if reading is None:
        return None
    try:
        value = to_jsonable_python(reading)
    except Exception:
        return {"text": repr(reading)}
    return value if isinstance(value, dict) else {"value": value}
