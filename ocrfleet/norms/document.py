"""The guide's norms as a JSON document, for `ocrfleet norms --json` and the web API."""

from __future__ import annotations

from typing import Any

from ocrfleet.norms.figures import (
    GUIDANCE_COORDINATION_HOURS,
    HOURS_PER_HALF_DAY,
    SOURCE_DEVICES,
    SOURCE_GUIDANCE,
    SOURCE_LESSONS,
    SOURCE_RESERVATION,
    UNRESERVED_SEATS_PER_SITE,
    NormFigures,
    Usable,
)
from ocrfleet.norms.live import LiveStates


def _exact(value: float) -> float:
    return round(value, 4)


def _usable_json(usable: Usable | None) -> dict[str, int] | None:
    if usable is None:
        return None
    return {
        "up": usable.up,
        "scheduled_off": usable.scheduled_off,
        "usable": usable.total,
        # Up or closed, but at a site whose internet is down: not in "usable".
        "no_internet": usable.no_internet,
    }


def norms_document(figures: NormFigures, live: LiveStates, sites: int) -> dict[str, Any]:
    """The figures as `ocrfleet norms --json` and /api/v1/norms give them (docs/norms.md)."""
    devices = figures.devices
    guidance = figures.guidance
    lessons = figures.lessons
    staff = {task: _exact(hours) for task, hours in figures.staff_hours_per_week.items()}
    staff["total"] = _exact(sum(figures.staff_hours_per_week.values()))
    return {
        "municipality": {
            "name": figures.municipality,
            "adult_population": figures.adults,
            "village_cores": [core.name for core in figures.village_cores],
            "sites": sites,
        },
        "daemon": {"url": live.url, "reachable": live.states is not None, "error": live.error},
        "devices": {
            "source": SOURCE_DEVICES,
            "exact": _exact(devices.exact),
            "by_population": devices.by_population,
            "by_village_cores": devices.by_village_cores,
            "required": devices.required,
            "configured": devices.configured,
            "configured_by_kind": dict(devices.configured_by_kind),
            "now": _usable_json(devices.now),
            "ok": devices.ok,
            "ok_now": devices.ok_now,
        },
        "village_cores": [
            {
                "village_core": core.name,
                "source": SOURCE_DEVICES,
                "required": 1,
                "configured": core.configured,
                "now": _usable_json(core.now),
                "ok": core.ok,
                "ok_now": core.ok_now,
            }
            for core in figures.village_cores
        ],
        "unreserved_seats": [
            {
                "site": site.site,
                "name": site.name,
                "source": SOURCE_RESERVATION,
                "required": UNRESERVED_SEATS_PER_SITE,
                "seats": site.seats,
                "configured": site.unreserved,
                "now": _usable_json(site.now),
                "ok": site.ok,
                "ok_now": site.ok_now,
            }
            for site in figures.unreserved
        ],
        "guidance": {
            "source": SOURCE_GUIDANCE,
            "exact": _exact(guidance.exact),
            "half_days_per_week": guidance.half_days_per_week,
            "hours_per_half_day": HOURS_PER_HALF_DAY,
            "coordination_hours_per_half_day": GUIDANCE_COORDINATION_HOURS,
            "hours_per_week": _exact(guidance.hours_per_week),
        },
        "group_lessons": {
            "source": SOURCE_LESSONS,
            "exact": _exact(lessons.exact),
            "half_days_per_month": lessons.half_days_per_month,
            "teaching_hours_per_month": _exact(lessons.teaching_hours_per_month),
            "preparation_hours_per_month": _exact(lessons.preparation_hours_per_month),
            "coordination_hours_per_month": _exact(lessons.coordination_hours_per_month),
            "hours_per_month": _exact(lessons.hours_per_month),
            "hours_per_week": _exact(lessons.hours_per_week),
        },
        "device_tasks": [
            {
                "task": task.task,
                "source": task.source,
                "devices": task.devices,
                "hours_per_device": task.hours_per_device,
                "period": task.period,
                "hours_per_week": _exact(task.hours_per_week),
            }
            for task in figures.device_tasks
        ],
        "staff_hours_per_week": staff,
    }
