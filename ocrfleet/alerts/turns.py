"""Fair turns: a session past its limit while visitors may be waiting (docs/turns.md).

The guide for public computer rooms lets a municipality limit a computer
session so that everyone gets a turn. The front desk hears of a session once
when it passes its seat's `session_limit` while the limit applies (by
default: every seat that is up is in use) and its seat is up: on a seat
that is down nobody is there to ask. From then on the finding stays until
that session ends, even if a seat frees up or its own goes down meanwhile:
a desk asked to end one session is never asked again for it. The sessions found are kept
across restarts: in saved_state every few minutes, and rebuilt from the
alerts the engine saved with each evaluation (restore_findings), so neither
a restart nor a crash announces them again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass
from typing import Any

from pydantic import Field

from ocrfleet.alerts.rules import (
    AlertRule,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet.config.durations import Duration
from ocrfleet.devicestate import DeviceState
from ocrfleet.i18n.text import Catalog, Span
from ocrfleet.state import DeviceView
from ocrfleet.turns.seats import SeatSession, SiteTurns, site_turns

_ = Catalog("ocrfleet")

# Ten years: no session lasts that long, whatever sessions.max_duration says (it has no
# upper bound), so a firing alert is never repeated within its session.
NEVER_WITHIN_A_SESSION = 10 * 365 * 24 * 3600.0


class SessionOverLimitSettings(RuleSettings):
    # The limit itself is the tolerance.
    for_: Duration = Field(default=0.0, alias="for")
    resolve_after: Duration = 0.0
    repeat_interval: Duration | None = NEVER_WITHIN_A_SESSION


@dataclass(frozen=True, slots=True)
class _Found:
    """A session past its limit, as it was when first found; its words never change."""

    site: str
    device: str
    kind: str
    session_id: str
    found_at: float
    used: float
    limit: float
    full: bool

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.site, self.device, self.session_id)


class SessionOverLimitRule(AlertRule):
    name = "session_over_limit"
    title = _("Sessions over the time limit")
    description = (
        "a seat's session runs past its session_limit while the limit applies "
        "(session_limit_applies: every seat that is up in use, or always); once per session"
    )
    default_severity = Severity.WARNING
    settings_model = SessionOverLimitSettings

    def __init__(self) -> None:
        self._found: dict[tuple[str, str, str], _Found] = {}
        # Sessions told before a restart that saved_state had not kept yet: the
        # engine's alerts for them, yielded as they were.
        self._told: dict[tuple[str, str, str], Finding] = {}

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        turns = site_turns(
            context.config, context.snapshot.devices, _is_up(context), context.seat_kinds
        )
        open_sessions = {
            (s.key.site, s.key.device, s.session_id)
            for seen in turns.values()
            for s in seen.sessions
        }
        # A session that ended (or a seat no longer configured) is done with.
        self._found = {key: f for key, f in self._found.items() if key in open_sessions}
        self._told = {key: f for key, f in self._told.items() if key in open_sessions}
        for seen in turns.values():
            if context.site_open.get(seen.site, True) and seen.limit_applies:
                for session in seen.over_limit(context.now):
                    self._remember(session, seen, context.now)
        findings = [_finding(self.name, found) for found in self._found.values()]
        findings += self._told.values()
        yield from sorted(findings, key=lambda f: f.subject)

    def _remember(self, session: SeatSession, seen: SiteTurns, now: float) -> None:
        key = (session.key.site, session.key.device, session.session_id)
        if key in self._found or key in self._told or session.limit is None:
            return
        self._found[key] = _Found(
            site=session.key.site,
            device=session.key.device,
            kind=session.kind,
            session_id=session.session_id,
            found_at=now,
            used=session.used(now),
            limit=session.limit,
            full=seen.full,
        )

    def saved_state(self) -> Mapping[str, Any] | None:
        return {"found": [list(astuple(found)) for found in self._found.values()]}

    def restore_findings(self, findings: Sequence[Finding]) -> None:
        for finding in findings:
            site, device = finding.labels.get("site"), finding.labels.get("device")
            prefix = f"{site}/{device}/"
            if site is None or device is None or not finding.subject.startswith(prefix):
                continue  # not one of ours: the engine resolves it after its grace
            key = (site, device, finding.subject.removeprefix(prefix))
            if key not in self._found:
                self._told[key] = finding

    def restore_state(self, state: Mapping[str, Any]) -> None:
        found = state.get("found")
        if not isinstance(found, list):
            raise ValueError("no list of sessions found")
        kept: dict[tuple[str, str, str], _Found] = {}
        for item in found:
            if not (isinstance(item, list) and len(item) == 8):
                raise ValueError(f"not a session found: {item!r}")
            site, device, kind, session_id, found_at, used, limit, full = item
            if not all(isinstance(v, str) for v in (site, device, kind, session_id)):
                raise ValueError(f"not a session found: {item!r}")
            if not all(isinstance(v, int | float) for v in (found_at, used, limit)):
                raise ValueError(f"not a session found: {item!r}")
            entry = _Found(
                site,
                device,
                kind,
                session_id,
                float(found_at),
                float(used),
                float(limit),
                bool(full),
            )
            kept[entry.key] = entry
        self._found = kept


def _is_up(context: RuleContext) -> Callable[[DeviceView], bool]:
    def is_up(view: DeviceView) -> bool:
        status = context.statuses.get(view.info.key)
        return status is not None and status.state is DeviceState.UP

    return is_up


def _finding(rule: str, found: _Found) -> Finding:
    used, limit = Span(found.used), Span(found.limit)
    if found.full:
        summary = _(
            "{device} has been in use for {used}; the limit is {limit} and every computer is taken",
            device=found.device,
            used=used,
            limit=limit,
        )
        description = _(
            "Visitors may be waiting for a computer. Kindly ask the visitor at {device} to "
            "finish, so that the next one gets a turn.",
            device=found.device,
        )
    else:
        summary = _(
            "{device} has been in use for {used}; the limit is {limit}",
            device=found.device,
            used=used,
            limit=limit,
        )
        description = _(
            "Kindly ask the visitor at {device} to finish, so that everyone gets a turn.",
            device=found.device,
        )
    return Finding(
        rule=rule,
        subject=f"{found.site}/{found.device}/{found.session_id}",
        labels={
            "site": found.site,
            "device": found.device,
            "kind": found.kind,
            "category": "turns",
        },
        summary=summary,
        description=description,
        detail=(
            f"session {found.session_id} on {found.site}/{found.device}: open {found.used:.0f} s "
            f"at {found.found_at:.0f}, session_limit {found.limit:.0f} s, "
            f"site full {str(found.full).lower()}"
        ),
    )
