"""Templates operators can change: the texts a channel type declares, rendered at queue time.

A `ChannelType` names its templates (`templates`, `item_templates`) and the
package that ships them (`template_package`, in its `templates/` folder).
For a channel `frontdesk` of type `email`, `email.subject.j2` is looked up
in `<directory>/frontdesk/`, then in `<directory>/`, then among the shipped
ones (`[templates] directory` in the configuration).

Templates run in Jinja2's sandbox, with the words of the template owner's
catalog (`_`, `gettext`, `ngettext`) and helpers that write values in the
reader's notation and time zone (`moment`, `day`, `percent`, ...). A
template that does not compile or fails while rendering (an undefined
name, a sandbox violation, any exception) is logged with its file and line,
and the shipped one is used instead; if that fails too, the core's plain
words (ocrfleet/notify/words.py). A template never loses a notification.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
)

from ocrfleet.i18n.speaker import CORE_DOMAIN, Speaker
from ocrfleet.i18n.text import BRACED, fill
from ocrfleet.notify.channels import ChannelType, text_key
from ocrfleet.notify.notification import AlertItem, Notification
from ocrfleet.notify.sandbox import BoundedSandbox
from ocrfleet.notify.words import ONE_LINE, fallback_text, severity

if TYPE_CHECKING:
    from ocrfleet.config.loader import LoadedConfig

log = logging.getLogger(__name__)

# A template writing more than this is stopped: a loop gone wrong.
MAX_OUTPUT = 200_000


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """What is wrong with a template, and where: printed as `<file>:<line>: <message>`."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class TemplateFailed(Exception):
    def __init__(self, problem: TemplateProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class ChannelTemplates:
    """Each configured channel's type, and the directory of the operator's templates."""

    types: Mapping[str, ChannelType]
    directory: Path | None = None

    @classmethod
    def from_loaded(cls, loaded: LoadedConfig) -> ChannelTemplates:
        return cls(
            {name: channel_type for name, (channel_type, _) in loaded.channels.items()},
            loaded.config.templates.directory,
        )


def declares_templates(channel_type: ChannelType) -> bool:
    return bool(channel_type.templates or channel_type.item_templates)


def shipped_directory(package: str | None) -> Path | None:
    """Where a package ships its default templates: `<package>/templates/`."""
    if package is None:
        return None
    try:
        return Path(str(files(package) / "templates"))
    except (ImportError, TypeError) as exc:
        log.error("templates of package %r not found: %s", package, exc)
        return None


def _is_html(name: str | None) -> bool:
    return name is not None and name.endswith((".html.j2", ".htm.j2"))


def _environment(loader: BaseLoader) -> BoundedSandbox:
    environment = BoundedSandbox(
        loader=loader,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        autoescape=_is_html,
        trim_blocks=True,
        lstrip_blocks=True,
        # Compiled templates are kept by TemplateSet, which notices a new
        # override; Jinja's own cache would not.
        cache_size=0,
    )
    # Bound to the reader at each render (the context's `gettext`); these
    # only make a template usable when nobody gives them.
    environment.install_null_translations()  # type: ignore[attr-defined]
    return environment


class TemplateSet:
    """The templates of one channel: the operator's, over the shipped ones."""

    def __init__(self, channel: str, channel_type: ChannelType, directory: Path | None) -> None:
        self.channel = channel
        self.channel_type = channel_type
        self.domain = channel_type.template_package or CORE_DOMAIN
        self.shipped = shipped_directory(channel_type.template_package)
        self.overrides = [directory / channel, directory] if directory is not None else []
        shipped = [FileSystemLoader(str(self.shipped))] if self.shipped is not None else []
        self._full = _environment(
            ChoiceLoader([*(FileSystemLoader(str(d)) for d in self.overrides), *shipped])
        )
        self._default = _environment(ChoiceLoader(shipped))
        self._compiled: dict[tuple[str, Path | None, int], Template] = {}
        self._lock = threading.Lock()

    def files(self) -> list[str]:
        """Every template file the channel type declares."""
        declared = [
            *self.channel_type.templates.values(),
            *self.channel_type.item_templates.values(),
        ]
        return list(dict.fromkeys(declared))

    def source(self, file: str) -> Path | None:
        """The file `file` is read from: an override, the shipped one, or None (none exists)."""
        for directory in [*self.overrides, *([self.shipped] if self.shipped else [])]:
            path = directory / file
            if path.is_file():
                return path
        return None

    def is_shipped(self, path: Path | None) -> bool:
        return path is not None and self.shipped is not None and path.parent == self.shipped

    def template(self, file: str, *, shipped_only: bool = False) -> Template:
        """The compiled template; raises TemplateFailed if it does not compile."""
        if shipped_only:
            path = self.shipped / file if self.shipped is not None else None
            environment = self._default
        else:
            path = self.source(file)
            environment = self._full
        if path is None or not path.is_file():
            raise TemplateFailed(TemplateProblem(file, None, "no such template"))
        try:
            mtime = path.stat().st_mtime_ns
        except OSError as exc:
            raise TemplateFailed(
                TemplateProblem(str(path), None, exc.strerror or str(exc))
            ) from exc
        key = (file, path, mtime)
        with self._lock:
            found = self._compiled.get(key)
        if found is not None:
            return found
        compiled = load_template(environment, file, str(path))
        with self._lock:
            self._compiled = {k: v for k, v in self._compiled.items() if k[:2] != key[:2]}
            self._compiled[key] = compiled
        return compiled

    def render(self, file: str, variables: Mapping[str, Any]) -> str:
        """`file` rendered: the operator's, else the shipped one; raises TemplateFailed if neither.

        Every failure is logged with its file and line.
        """
        source = self.source(file)
        if not self.is_shipped(source):
            try:
                return render_template(self.template(file), variables)
            except TemplateFailed as exc:
                log.error(
                    "template %s (channel %r); using the shipped template instead",
                    exc.problem,
                    self.channel,
                )
        try:
            return render_template(self.template(file, shipped_only=True), variables)
        except TemplateFailed as exc:
            log.error(
                "shipped template %s (channel %r); using plain words instead",
                exc.problem,
                self.channel,
            )
            raise


def load_template(environment: Environment, name: str, source: str) -> Template:
    """`name` compiled; raises TemplateFailed naming the file (`source`) and line."""
    try:
        return environment.get_template(name)
    except TemplateNotFound as exc:
        raise TemplateFailed(TemplateProblem(name, None, "no such template")) from exc
    except TemplateSyntaxError as exc:
        raise TemplateFailed(
            TemplateProblem(exc.filename or source, exc.lineno, exc.message or str(exc))
        ) from exc
    except Exception as exc:
        raise TemplateFailed(_problem(exc, source)) from exc


def render_template(
    template: Template, variables: Mapping[str, Any], max_output: int | None = MAX_OUTPUT
) -> str:
    """`template` rendered within its sandbox's budget, and at most `max_output` characters;
    raises TemplateFailed naming the file and line of whatever went wrong."""
    parts: list[str] = []
    size = 0
    environment = template.environment
    budget: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if isinstance(environment, BoundedSandbox):
        budget = environment.budget()
    try:
        with budget:
            for chunk in template.generate(dict(variables)):
                size += len(chunk)
                if max_output is not None and size > max_output:
                    raise TemplateFailed(
                        TemplateProblem(
                            template.filename or template.name or "?",
                            None,
                            f"writes more than {max_output} characters",
                        )
                    )
                parts.append(chunk)
    except TemplateFailed:
        raise
    except TemplateSyntaxError as exc:  # in a template it includes
        raise TemplateFailed(
            TemplateProblem(exc.filename or exc.name or "?", exc.lineno, exc.message or str(exc))
        ) from exc
    except Exception as exc:
        raise TemplateFailed(_problem(exc, template.filename or template.name or "?")) from exc
    return "".join(parts)


def _problem(exc: BaseException, file: str) -> TemplateProblem:
    """Where in the template `exc` happened: Jinja gives template lines frames of their own."""
    line: int | None = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not name.endswith(".py") and not name.startswith("<"):
            file, line = name, tb.tb_lineno
        tb = tb.tb_next
    message = str(exc) if exc.__class__.__module__.startswith("jinja2") else None
    return TemplateProblem(file, line, message or f"{type(exc).__name__}: {exc}")


# -- what a template sees ----------------------------------------------------------


def variables(
    notification: Notification,
    speaker: Speaker,
    domain: str,
    where: Callable[[str | None], str],
    here: str,
    item: AlertItem | None = None,
) -> dict[str, Any]:
    """The names a template may use (docs/channels.md lists them)."""

    def gettext(msgid: str, **values: Any) -> str:
        return _filled(speaker.gettext(str(msgid), domain), str(msgid), values)

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
        values.setdefault("n", speaker.number(n))
        pattern = speaker.ngettext(str(singular), str(plural), int(n), domain)
        return _filled(pattern, str(singular if n == 1 else plural), values)

    def moment(at: float | None, zone: bool = True) -> str:
        return "" if at is None else speaker.moment(float(at), zone_name=zone)

    def time(at: float | None) -> str:
        return "" if at is None else speaker.time(float(at))

    def day(value: date | float | None, weekday: bool = False) -> str:
        if value is None:
            return ""
        if not isinstance(value, date):
            value = datetime.fromtimestamp(float(value), speaker.zone).date()
        return speaker.day(value, weekday=weekday)

    def place(value: AlertItem | str | None = None) -> str:
        if value is None:
            return here
        if isinstance(value, AlertItem):
            return where(value.labels.get("site"))
        return where(str(value))

    def severity_words(value: AlertItem | str) -> str:
        return severity(speaker, value.severity if isinstance(value, AlertItem) else str(value))

    found: dict[str, Any] = {
        "notification": notification,
        "items": notification.items,
        "firing": notification.firing,
        "resolved": notification.resolved,
        "title": notification.title(),
        "channel": notification.channel,
        "language": speaker.language,
        "timezone": speaker.zone.key,
        "gettext": gettext,
        "ngettext": ngettext,
        "moment": moment,
        "time": time,
        "day": day,
        "percent": speaker.percent,
        "number": speaker.number,
        "span": speaker.span,
        "where": place,
        "severity": severity_words,
    }
    if item is not None:
        found["item"] = item
    return found


def _filled(pattern: str, source: str, values: Mapping[str, Any]) -> str:
    """A template's message with its values: plain `{name}` only, so that a message
    written in an operator's template cannot reach past the sandbox (`{x.__class__}`)."""
    words = {name: str(value) for name, value in values.items()}
    if set(BRACED.findall(pattern)) - set(words):
        log.warning("translation of %r is broken", source)
        pattern = source
    return fill(pattern, words)


# -- composing -------------------------------------------------------------------


class ChannelTexts:
    """Renders the texts channel types declare, keeping one TemplateSet per channel."""

    def __init__(self) -> None:
        self._sets: dict[tuple[str, int, Path | None], TemplateSet] = {}
        self._lock = threading.Lock()

    def template_set(
        self, channel: str, channel_type: ChannelType, directory: Path | None
    ) -> TemplateSet:
        key = (channel, id(channel_type), directory)
        with self._lock:
            found = self._sets.get(key)
            if found is None:
                found = TemplateSet(channel, channel_type, directory)
                self._sets[key] = found
            return found

    def texts(
        self,
        notification: Notification,
        speaker: Speaker,
        channel_type: ChannelType,
        directory: Path | None,
        where: Callable[[str | None], str],
        here: str,
    ) -> dict[str, str]:
        """Every declared text of the notification's channel; never raises."""
        templates = self.template_set(notification.channel, channel_type, directory)
        heading = notification.title()
        found: dict[str, str] = {}
        wanted: list[tuple[str, str, AlertItem | None]] = [
            (name, file, None) for name, file in channel_type.templates.items()
        ]
        wanted += [
            (name, file, item)
            for item in notification.items
            for name, file in channel_type.item_templates.items()
        ]
        for name, file, item in wanted:
            try:
                context = variables(notification, speaker, templates.domain, where, here, item)
                text = templates.render(file, context)
            except Exception:
                # Logged by render (or a bug here): the core's plain words.
                try:
                    text = fallback_text(name, notification, speaker, heading, where, item)
                except Exception:
                    log.exception("no words for %s of notification %s", name, notification.id)
                    continue
            found[text_key(name, item)] = (
                " ".join(text.split()) if name in ONE_LINE else text.strip()
            )
        return found


def check_templates(
    channels: Mapping[str, ChannelType],
    directory: Path | None,
    speakers: Iterable[Speaker],
    where: Callable[[str | None], str],
) -> list[TemplateProblem]:
    """Every template the channels would use, compiled and tried on a sample notification."""
    problems: list[TemplateProblem] = []
    if directory is not None and not directory.is_dir():
        problems.append(TemplateProblem(str(directory), None, "no such directory ([templates])"))
    speakers = list(speakers)
    for channel, channel_type in sorted(channels.items()):
        if not declares_templates(channel_type):
            continue
        templates = TemplateSet(channel, channel_type, directory)
        for file in templates.files():
            for shipped_only in (False, True):
                if shipped_only and templates.is_shipped(templates.source(file)):
                    continue
                try:
                    template = templates.template(file, shipped_only=shipped_only)
                    for speaker in speakers:
                        for item, note in _samples(channel, channel_type, file):
                            context = variables(
                                note, speaker, templates.domain, where, where(None), item
                            )
                            render_template(template, context)
                except TemplateFailed as exc:
                    if exc.problem not in problems:
                        problems.append(exc.problem)
    return problems


def _samples(
    channel: str, channel_type: ChannelType, file: str
) -> list[tuple[AlertItem | None, Notification]]:
    """A notification with a firing and a resolved alert, and one with a single alert."""
    firing = AlertItem(
        key="device_down:sample/pc-01",
        fingerprint="0123456789abcdef",
        rule="device_down",
        status="firing",
        severity="critical",
        labels={"alertname": "device_down", "severity": "critical", "device": "pc-01"},
        summary="pc-01 is out of reach",
        description="It has not answered since 10:05.\nCheck its power and network cable.",
        starts_at=1_780_000_000.0,
        ends_at=None,
        detail="pc sample/pc-01: state down, reason timeout",
    )
    resolved = dataclasses.replace(
        firing,
        key="toner_low:sample/mfp",
        rule="toner_low",
        status="resolved",
        severity="warning",
        labels={"alertname": "toner_low", "severity": "warning", "device": "mfp"},
        summary="Black toner at 4 %",
        description="",
        ends_at=1_780_003_600.0,
        detail="",
    )
    both = Notification(
        id="sample",
        channel=channel,
        group_key="[]",
        group_labels={},
        type="alert",
        status="firing",
        created_at=1_780_003_600.0,
        items=(firing, resolved),
    )
    one = dataclasses.replace(both, items=(firing,), repeat=True)
    if file in channel_type.item_templates.values():
        return [(firing, both), (resolved, both)]
    return [(None, both), (None, one)]
