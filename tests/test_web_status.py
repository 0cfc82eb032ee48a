"""The status pages: their model (ocrfleet/web/status.py) and their HTML (pages.py).

A small fleet at chosen moments: seats counted against a site's minimum, a
closed site saying when it opens, the kiosk telling nothing internal,
acknowledged and silenced alerts, both languages, and names escaped.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ocrfleet.alerts.acks import Acknowledgement
from ocrfleet.alerts.store import AlertRecord
from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.devices import DeviceKey
from ocrfleet.i18n.text import Catalog
from ocrfleet.kinds import DeviceKind, StatusCard
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.state import DeviceView, FleetState
from ocrfleet.web.pages import CONTENT_SECURITY_POLICY, Pages, Viewer
from ocrfleet.web.status import StatusReader
from ocrfleet_printer.parse import parse_reading
from tests.support.daemon import catalog
from tests.support.snmprec import read_snmprec
from tests.support.words import installed_catalogs

_ = Catalog("ocrfleet")
BRUSSELS = ZoneInfo("Europe/Brussels")
KINDS = catalog().kinds
PRINTERS = Path(__file__).parent / "fixtures" / "snmp" / "printers"


def local(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS).timestamp()


MONDAY_10 = local(2027, 3, 1, 10, 0)  # open
SATURDAY_08 = local(2027, 3, 6, 8, 0)  # closed until Monday 9:00
MONDAY_0830 = local(2027, 3, 1, 8, 30)  # opens today at 9:00

WEEKDAYS = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
EVIL = "Bieb <script>alert('x')</script> & co"
SITES: list[dict[str, Any]] = [
    {
        "id": "lib",
        "name": EVIL,
        "village_core": "Testdorp",
        "opening_hours": WEEKDAYS,
        "min_usable_seats": 3,
        "devices": [
            {"id": "pc-01", "kind": "pc"},
            {"id": "pc-02", "kind": "pc"},
            {"id": "pc-03", "kind": "pc"},
            {"id": "pc-04", "kind": "pc", "reservable": True},
            {"id": "laptop-01", "kind": "laptop", "reservable": True},
            {"id": "mfp-01", "kind": "printer", "options": {"host": "127.0.0.1"}},
        ],
    },
    {
        "id": "hall",
        "name": "Dorpshuis",
        "village_core": "Testdorp",
        "language": "nl",
        "opening_hours": {"mon": ["13:00-17:00"]},
    },
]


def loaded_config(language: str = "en") -> LoadedConfig:
    return load_config(
        {
            "municipality": {"name": "Testdorp", "adult_population": 2000, "language": language},
            "sites": SITES,
        },
        KINDS,
    )


def record(
    key: str, site: str | None, device: str | None, summary: Any, **extra: Any
) -> AlertRecord:
    labels = {name: value for name, value in (("site", site), ("device", device)) if value}
    values: dict[str, Any] = {
        "key": key,
        "rule": key.split(":")[0],
        "labels": labels,
        "severity": "critical",
        "summary": summary,
        "description": "",
        "state": "firing",
        "active_since": MONDAY_10 - 600,
        "firing_since": MONDAY_10 - 300,
        "last_active": MONDAY_10,
        "last_notified": None,
        **extra,
    }
    return AlertRecord(**values)


class Fleet:
    """The daemon's live state, as the web server's callables would give it."""

    def __init__(self, now: float = MONDAY_10, language: str = "en") -> None:
        self.loaded = loaded_config(language)
        self.state = FleetState(self.loaded.devices, {})
        self.clock = ManualClock(now)
        self.records: dict[str, AlertRecord] = {}
        self.acks: dict[str, Acknowledgement] = {}
        self.suppressed: dict[str, str] = {}
        self.reader = StatusReader(
            loaded=lambda: self.loaded,
            state=lambda: self.state,
            kinds=KINDS,
            alerts=lambda: self.records,
            acknowledgements=lambda: self.acks,
            suppressed=lambda: self.suppressed,
            clock=self.clock,
            catalogs=installed_catalogs(),
        )

    def key(self, name: str) -> DeviceKey:
        return next(d.key for d in self.loaded.devices if str(d.key) == name)

    def up(self, *names: str, at: float | None = None) -> None:
        for name in names:
            self.state.record_heartbeat(self.key(name), self.clock.now() if at is None else at)

    def in_use(self, name: str) -> None:
        key = self.key(name)
        event = SessionEvent(SessionEventType.START, f"s-{name}", self.clock.now() - 60)
        self.state.record_session(key, event, True)


def busy_library() -> Fleet:
    """Open: pc-01..03 and pc-04 (reservable) up, pc-01 in use, the laptop down."""
    fleet = Fleet()
    fleet.up("lib/pc-01", "lib/pc-02", "lib/pc-03", "lib/pc-04", at=MONDAY_10 - 30)
    fleet.in_use("lib/pc-01")
    return fleet


# -- the model -------------------------------------------------------------------


def test_seats_usable_in_use_and_free_against_the_minimum() -> None:
    fleet = busy_library()
    reader = fleet.reader
    site = reader.site("lib", reader.speaker_for("lib"))
    assert site is not None
    seats = site.site.seats
    assert (seats.total, seats.usable, seats.in_use, seats.free) == (5, 4, 1, 3)
    assert (seats.walk_in_usable, seats.walk_in_free) == (3, 2)
    assert seats.minimum == 3 and not seats.below_minimum
    # Two seats go down: 2 usable of a minimum of 3.
    fleet.state.record_poll_failure(fleet.key("lib/pc-02"), "timeout", MONDAY_10)
    fleet.state.record_poll_failure(fleet.key("lib/pc-04"), "timeout", MONDAY_10)
    site = reader.site("lib", reader.speaker_for("lib"))
    assert site is not None
    assert site.site.seats.usable == 2 and site.site.seats.below_minimum
    # The seats are cards on the site page; the printer is equipment, as on the overview.
    assert [card.id for card in site.seats] == ["pc-01", "pc-02", "pc-03", "pc-04", "laptop-01"]
    assert [card.id for card in site.site.equipment] == ["mfp-01"]
    states = {card.id: card.state for card in site.seats}
    assert states == {
        "pc-01": "up",
        "pc-02": "down",
        "pc-03": "up",
        "pc-04": "down",
        "laptop-01": "unknown",
    }
    facts = {card.id: card.facts for card in site.seats}
    assert facts["pc-01"] == ("In use",) and facts["pc-03"] == ("Free",)
    assert next(c for c in site.seats if c.id == "pc-02").tone == "critical"


def test_a_closed_site_is_no_site_below_its_minimum() -> None:
    fleet = Fleet(SATURDAY_08)
    site = fleet.reader.overview(fleet.reader.speaker_for(None)).sites[0]
    assert site.seats.usable == 0 and not site.seats.below_minimum


def test_a_closed_site_says_when_it_opens_saturday_at_8() -> None:
    fleet = Fleet(SATURDAY_08)
    reader = fleet.reader
    overview = reader.overview(reader.speaker_for(None))
    lib, hall = overview.sites
    assert not lib.open_now and lib.closes_at is None
    assert lib.opens_at == "2027-03-08T08:00:00Z"  # Monday 9:00 in Brussels
    assert lib.hours == "Closed — opens Monday at 9:00"
    assert hall.hours == "Closed — opens Monday at 13:00"
    # Nobody uses a computer on a Saturday morning, and the page says why.
    assert "Every site is closed now" in overview.note
    kiosk = reader.kiosk("lib", reader.speaker_for("lib"))
    assert kiosk is not None and not kiosk.open_now
    assert kiosk.sentence == "Closed — opens Monday at 9:00"
    assert kiosk.opens_at == "2027-03-08T08:00:00Z"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (MONDAY_0830, "Closed — opens today at 9:00"),
        (local(2027, 3, 1, 18, 0), "Closed — opens tomorrow at 9:00"),
        (MONDAY_10, "Open until 17:00"),
    ],
)
def test_the_hours_sentence(now: float, expected: str) -> None:
    fleet = Fleet(now)
    assert fleet.reader.overview(fleet.reader.speaker_for(None)).sites[0].hours == expected


def test_an_open_site_says_until_when_and_no_one_explains_closing() -> None:
    fleet = busy_library()
    overview = fleet.reader.overview(fleet.reader.speaker_for(None))
    lib = overview.sites[0]
    assert lib.open_now and lib.opens_at is None
    assert lib.closes_at == "2027-03-01T16:00:00Z"
    assert overview.note == ""


def test_the_kiosk_counts_seats_without_reservation_and_nothing_else() -> None:
    fleet = busy_library()
    fleet.records["printer_condition:lib/mfp-01/jammed"] = record(
        "printer_condition:lib/mfp-01/jammed", "lib", "mfp-01", "Paper jam in printer mfp-01"
    )
    reader = fleet.reader
    kiosk = reader.kiosk("lib", reader.speaker_for("lib"))
    assert kiosk is not None
    assert (kiosk.free, kiosk.usable, kiosk.sentence) == (2, 3, "2 of 3 computers free")
    page = Pages().kiosk(kiosk, reader.speaker_for("lib"))
    text = visible_text(page)
    for internal in ("pc-0", "laptop", "mfp", "Paper jam", "printer", "lib/"):
        assert internal not in page, internal
    assert "2 of 3 computers free" in text
    assert element_text(page, "kiosk-free") == "2 of 3 computers free"
    assert 'http-equiv="refresh" content="15"' in page
    assert "<form" not in page and "<script" not in page.replace("&lt;script", "")


def test_the_kiosk_in_dutch_and_when_closed() -> None:
    fleet = busy_library()
    speaker = fleet.reader.speaker_for("lib", "nl")
    kiosk = fleet.reader.kiosk("lib", speaker)
    assert kiosk is not None and kiosk.sentence == "2 van 3 computers vrij"
    closed = Fleet(SATURDAY_08)
    kiosk = closed.reader.kiosk("lib", closed.reader.speaker_for("lib", "nl"))
    assert kiosk is not None and kiosk.sentence == "Gesloten — open vanaf maandag 9:00"
    page = Pages().kiosk(kiosk, speaker)
    assert 'lang="nl-BE"' in page
    assert 'id="kiosk-free" class="closed-note"' in page


def test_a_site_with_only_reservable_seats_counts_those_on_the_kiosk() -> None:
    fleet = Fleet()
    fleet.loaded = load_config(
        {
            "municipality": {"name": "T", "adult_population": 10},
            "sites": [
                {
                    "id": "pool",
                    "name": "Pool",
                    "village_core": "T",
                    "opening_hours": WEEKDAYS,
                    "devices": [{"id": "laptop-01", "kind": "laptop", "reservable": True}],
                }
            ],
        },
        KINDS,
    )
    fleet.state = FleetState(fleet.loaded.devices, {})
    fleet.up("pool/laptop-01")
    kiosk = fleet.reader.kiosk("pool", fleet.reader.speaker_for("pool"))
    assert kiosk is not None and kiosk.sentence == "1 of 1 computer free"


def test_alerts_show_who_acknowledged_and_why_they_are_silenced() -> None:
    fleet = busy_library()
    jam = "printer_condition:lib/mfp-01/jammed"
    seats = "site_seats_below_minimum:lib"
    norm = "municipality_below_norm:municipality"
    fleet.records = {
        jam: record(jam, "lib", "mfp-01", "Paper jam", severity="warning"),
        seats: record(seats, "lib", None, _("Too few computers usable")),
        norm: record(norm, None, None, "Below the norm", severity="info"),
        "pending:x": record("pending:x", "lib", None, "Not yet", state="pending"),
    }
    fleet.acks = {
        jam: Acknowledgement(jam, MONDAY_10 - 600, "Annelies", MONDAY_10 - 120, "on my way"),
        # Of an earlier episode of the alert: not this one's.
        seats: Acknowledgement(seats, MONDAY_10 - 86_400, "Jan", MONDAY_10 - 86_000, ""),
    }
    fleet.suppressed = {seats: "silenced #4 until 12:00: new PCs being installed"}
    overview = fleet.reader.overview(fleet.reader.speaker_for(None))
    assert [a.key for a in overview.alerts] == [seats, jam, norm]
    by_key = {a.key: a for a in overview.alerts}
    assert by_key[jam].acknowledged_by == "Annelies"
    assert by_key[jam].acknowledged_at == "2027-03-01T08:58:00Z"
    assert by_key[jam].acknowledged_at_words == "Mar 1, 2027 09:58 CET"
    assert by_key[jam].acknowledgement_comment == "on my way"
    assert by_key[seats].acknowledged_by is None
    assert by_key[seats].silenced == "silenced #4 until 12:00: new PCs being installed"
    assert by_key[seats].summary == "Too few computers usable"
    assert by_key[seats].site_name == EVIL and by_key[norm].site is None
    assert overview.sites[0].alerts_firing == 2
    site = fleet.reader.site("lib", fleet.reader.speaker_for("lib"))
    assert site is not None and [a.key for a in site.alerts] == [seats, jam]

    viewer = Viewer("Annelies", True, "tok3n")
    page = Pages().overview(overview, fleet.reader.speaker_for(None), viewer)
    assert "Annelies is on it (since Mar 1, 2027 09:58 CET): “on my way”" in visible_text(page)
    assert "Notifications held back: silenced #4 until 12:00" in visible_text(page)
    # Only the alert nobody acknowledged gets a form.
    forms = forms_of(page)
    acks = [f for f in forms if f["action"] == "/ui/acknowledge"]
    assert [f["fields"]["alert"] for f in acks] == [seats, norm]
    assert all(f["fields"]["csrf_token"] == "tok3n" and f["fields"]["back"] == "/" for f in acks)
    assert element_text(page, "user") == "Annelies"
    assert len(re.findall(r'class="alert severity-\w+" data-alert="', page)) == 3


def test_unknown_site_is_none() -> None:
    fleet = Fleet()
    speaker = fleet.reader.speaker_for("nowhere")
    assert fleet.reader.site("nowhere", speaker) is None
    assert fleet.reader.kiosk("nowhere", speaker) is None
    assert speaker.language == "en"


def test_the_language_follows_the_site_unless_asked() -> None:
    fleet = Fleet(SATURDAY_08)
    reader = fleet.reader
    assert reader.speaker_for("hall").language == "nl"
    assert reader.speaker_for("lib").language == "en"
    assert reader.speaker_for("hall", "en").language == "en"
    assert reader.speaker_for("hall", "fr").language == "nl"  # not one we speak: ignored
    hall = reader.site("hall", reader.speaker_for("hall"))
    assert hall is not None and hall.site.hours == "Gesloten — open vanaf maandag 13:00"
    dutch = Fleet(SATURDAY_08, language="nl").reader
    overview = dutch.overview(dutch.speaker_for(None))
    assert overview.language == "nl"
    assert overview.sites[0].hours == "Gesloten — open vanaf maandag 9:00"
    assert overview.note.startswith("Alle locaties zijn nu gesloten")


def test_dutch_pages() -> None:
    fleet = busy_library()
    printer = fleet.key("lib/mfp-01")
    fleet.state.record_reading(
        printer, parse_reading(read_snmprec(PRINTERS / "jammed.snmprec")), MONDAY_10
    )
    speaker = fleet.reader.speaker_for("lib", "nl")
    site = fleet.reader.site("lib", speaker)
    assert site is not None
    (printer_card,) = site.site.equipment
    assert printer_card.kind_title == "Printer" and printer_card.state_words == "Werkt"
    assert printer_card.condition == "Papier vastgelopen — verwijder het papier"
    assert printer_card.tone == "critical"
    assert printer_card.gauges[0].label == "Zwarte toner"
    laptop = next(card for card in site.seats if card.id == "laptop-01")
    assert laptop.state_words == "Nog geen nieuws" and laptop.kind_title == "Laptop"
    page = Pages().site(site, speaker, Viewer(None, False, ""))
    text = visible_text(page)
    for words in ("3 computers vrij", "1 in gebruik", "Problemen nu", "Aanmelden"):
        assert words in text, words
    assert "Open tot 17:00" in text


def test_everything_is_escaped() -> None:
    fleet = busy_library()
    fleet.records["x:lib"] = record("x:lib", "lib", None, "<img src=x onerror=alert(1)>")
    fleet.acks["x:lib"] = Acknowledgement("x:lib", MONDAY_10 - 600, "<b>eve</b>", MONDAY_10, "<i>")
    reader = fleet.reader
    pages = Pages()
    viewer = Viewer("<script>me</script>", True, '"><script>')
    speaker = reader.speaker_for("lib")
    site = reader.site("lib", speaker)
    kiosk = reader.kiosk("lib", speaker)
    assert site is not None and kiosk is not None
    for page in (
        pages.overview(reader.overview(speaker), speaker, viewer),
        pages.site(site, speaker, viewer),
        pages.kiosk(kiosk, speaker),
        pages.login(speaker, "<script>bad</script>", '/"><script>'),
        pages.error(404, "<script>gone</script>", speaker),
    ):
        assert "<script>alert" not in page and "<script>me" not in page
        assert "<img" not in page and "<b>eve" not in page and "<script>bad" not in page
        assert "<script>gone" not in page and '"><script>' not in page
        # The only script a page has is the refresh script, and only with forms.
        assert page.count("<script") <= 1
    assert "Bieb &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in pages.kiosk(
        kiosk, speaker
    )


def test_pages_render_for_a_site_without_devices() -> None:
    fleet = Fleet(local(2027, 3, 1, 14, 0))
    reader = fleet.reader
    speaker = reader.speaker_for("hall")
    site = reader.site("hall", speaker)
    kiosk = reader.kiosk("hall", speaker)
    assert site is not None and kiosk is not None
    assert site.seats == () and site.site.equipment == () and site.site.seats.total == 0
    page = Pages().site(site, speaker, Viewer("an", True, "t"))
    assert "Er zijn voor deze locatie geen toestellen ingesteld." in visible_text(page)
    assert kiosk.sentence == "Hier zijn geen openbare computers"
    assert element_text(Pages().kiosk(kiosk, speaker), "kiosk-free") == kiosk.sentence


def test_forms_only_for_who_may_write_and_their_contract() -> None:
    fleet = busy_library()
    fleet.records["x:lib"] = record("x:lib", "lib", None, "Something")
    reader = fleet.reader
    speaker = reader.speaker_for("lib")
    site = reader.site("lib", speaker)
    assert site is not None
    pages = Pages()
    reading = pages.site(site, speaker, Viewer("visitor", False, "t"))
    assert [f["action"] for f in forms_of(reading)] == ["/logout"]
    assert 'http-equiv="refresh" content="30"' in reading and "<script" not in reading
    page = pages.site(site, speaker, Viewer("an", True, "tok"))
    forms = forms_of(page)
    assert all(f["method"] == "post" for f in forms)
    assert all(
        f["fields"]["csrf_token"] == "tok" and f["fields"]["back"] == "/sites/lib" for f in forms
    )
    actions = [f["action"] for f in forms]
    assert actions.count("/ui/acknowledge") == 1
    assert actions.count("/ui/maintenance") == 6  # one per device
    assert actions.count("/ui/silence") == 7  # the site, and each device
    silence_site = next(f for f in forms if f["action"] == "/ui/silence")
    assert silence_site["fields"]["target"] == "lib"
    assert silence_site["selects"]["duration"] == ["1h", "2h", "4h", "1d"]
    assert set(silence_site["fields"]) >= {"reason"}
    maintenance = next(f for f in forms if f["action"] == "/ui/maintenance")
    assert maintenance["fields"]["device"] == "lib/pc-01"
    assert maintenance["selects"]["task"] == ["monthly", "renewal"]
    assert "note" in maintenance["fields"]
    ack = next(f for f in forms if f["action"] == "/ui/acknowledge")
    assert ack["fields"]["alert"] == "x:lib" and "comment" in ack["fields"]
    # With forms the refresh waits while someone types; without script, <noscript> refreshes.
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in page
    assert 'data-refresh="30"' in page and page.count("<script>") == 1
    assert 'id="site-lib"' in page
    anonymous = pages.overview(reader.overview(speaker), speaker, Viewer(None, False, ""))
    assert 'href="/login?back=/"' in anonymous and 'id="user"' not in anonymous
    assert forms_of(anonymous) == []
    assert 'id="site-lib"' in anonymous and 'id="site-hall"' in anonymous
    assert 'href="/sites/hall"' in anonymous


def test_login_and_error_pages() -> None:
    speaker = Fleet().reader.speaker_for(None)
    pages = Pages()
    login = pages.login(speaker, "Wrong user name or password", "/sites/lib")
    (form,) = forms_of(login)
    assert form["action"] == "/login" and form["method"] == "post"
    assert form["fields"] == {"back": "/sites/lib", "username": "", "password": ""}
    assert "Wrong user name or password" in visible_text(login)
    error = pages.error(404, "No site “x”", speaker)
    assert "Page not found" in visible_text(error) and "No site “x”" in visible_text(error)


def test_the_security_policy_allows_exactly_the_inline_style_and_script() -> None:
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    fleet = busy_library()
    speaker = fleet.reader.speaker_for(None)
    page = Pages().overview(fleet.reader.overview(speaker), speaker, Viewer("an", True, "t"))
    inline = [
        *re.findall(r"<style>(.*?)</style>", page, re.DOTALL),
        *re.findall(r"<script>(.*?)</script>", page, re.DOTALL),
    ]
    assert len(inline) == 2
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
        for text in inline
    }
    assert set(re.findall(r"'sha256-[^']+'", CONTENT_SECURITY_POLICY)) == hashes
    # No style attribute either: a policy without 'unsafe-inline' would refuse it.
    assert " style=" not in page


class _Broken(DeviceKind):
    name = "broken"

    def samples(self, device: DeviceView) -> list[Any]:
        return []

    def status_card(self, device: DeviceView) -> StatusCard:
        raise RuntimeError("plugin bug")


def test_a_failing_status_card_leaves_the_device_as_the_core_knows_it() -> None:
    fleet = busy_library()
    kinds: Mapping[str, DeviceKind] = {**KINDS, "printer": _Broken()}
    reader = StatusReader(
        loaded=lambda: fleet.loaded,
        state=lambda: fleet.state,
        kinds=kinds,
        alerts=dict,
        acknowledgements=dict,
        suppressed=dict,
        clock=fleet.clock,
    )
    site = reader.site("lib", reader.speaker_for("lib"))
    assert site is not None
    (card,) = site.site.equipment
    assert card.condition == "" and card.gauges == () and card.state == "unknown"


def test_the_models_are_json_for_the_api() -> None:
    fleet = busy_library()
    overview = fleet.reader.overview(fleet.reader.speaker_for(None))
    data = overview.model_dump(mode="json")
    assert data["sites"][0]["seats"]["free"] == 3
    assert data["made_at"] == "2027-03-01T09:00:00Z"
    schema = type(overview).model_json_schema()
    assert "SiteSummary" in schema["$defs"] and "AlertSummary" in schema["$defs"]


# -- reading HTML ----------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.skip = 0
        self.forms: list[dict[str, Any]] = []
        self.ids: dict[str, list[str]] = {}
        self._open_ids: list[tuple[str, str]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag in ("style", "script", "noscript"):
            self.skip += 1
        if "id" in found:
            self._open_ids.append((tag, found["id"]))
            self.ids.setdefault(found["id"], [])
        if tag == "form":
            self.forms.append(
                {
                    "action": found.get("action"),
                    "method": found.get("method"),
                    "fields": {},
                    "selects": {},
                }
            )
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][found.get("name")] = found.get("value", "")
        elif tag == "select" and self.forms:
            self._select = found["name"]
            self.forms[-1]["selects"][self._select] = []
            self.forms[-1]["fields"][self._select] = None
        elif tag == "option" and self.forms and self._select:
            self.forms[-1]["selects"][self._select].append(found["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "noscript"):
            self.skip -= 1
        if self._open_ids and self._open_ids[-1][0] == tag:
            self._open_ids.pop()
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.text.append(data)
            for _tag, name in self._open_ids:
                self.ids[name].append(data)


def _parsed(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def visible_text(page: str) -> str:
    return " ".join(" ".join(_parsed(page).text).split())


def element_text(page: str, element_id: str) -> str:
    return " ".join(" ".join(_parsed(page).ids[element_id]).split())


def forms_of(page: str) -> list[dict[str, Any]]:
    return _parsed(page).forms
