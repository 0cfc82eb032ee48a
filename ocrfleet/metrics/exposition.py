"""The Prometheus text formats written directly, and the answer to a /metrics request.

prometheus_client builds a Sample and a label dict for every series of every
scrape and costs ~10 µs each; the fleet alone is ~30 series per device. So
the fleet's families are written here as text, byte for byte what
prometheus_client would write, from lines that only change when a device's
state does (ocrfleet/metrics/fleetrender.py); the daemon's own few families
still go through prometheus_client and are appended.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Literal, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

FamilyType = Literal["gauge", "counter", "histogram"]

# Names of this shape are written unchanged under the escapings Prometheus
# asks for (underscores, allow-utf-8); anything else goes the slow way.
_LEGACY_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
PLAIN_ESCAPINGS = frozenset({openmetrics.UNDERSCORES, openmetrics.ALLOWUTF8})


def format_value(value: float) -> str:
    """A sample value as prometheus_client writes it (Go's formatting: 1.0, 1e+06, +Inf, NaN)."""
    # Most samples are 0 or 1 (states, flags); these answer them without repr().
    if value == 1.0:
        return "1.0"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    text: str = floatToGoString(value)  # type: ignore[no-untyped-call]
    return text


# Label values longer than this are cut: a device's free text (an agent's
# `os`, a printer's alert text) must not make a series of kilobytes.
MAX_LABEL_VALUE = 256
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def clean_label_value(value: str) -> str:
    """A label value without C0/C1 control characters, at most MAX_LABEL_VALUE long.

    Values come from devices (an agent's `os`, a printer's texts): an escape
    sequence or a NUL must not reach a terminal or a parser through /metrics.
    Each control character becomes U+FFFD; a cut value ends in "…".
    """
    # Almost every value passes this test, which costs far less than the regex.
    if value.isprintable() and len(value) <= MAX_LABEL_VALUE:
        return value
    if len(value) > MAX_LABEL_VALUE:
        value = value[: MAX_LABEL_VALUE - 1] + "…"
    return _CONTROL.sub("\ufffd", value)


def escape_label_value(value: str) -> str:
    """A label value as the text formats write it: cleaned, then escaped."""
    return _escape(clean_label_value(value))


def _escape(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


class LabelEscaper(dict[str, str]):
    """escape_label_value with memory, for one render: label values repeat a lot."""

    def __missing__(self, value: str) -> str:
        escaped = self[value] = escape_label_value(value)
        return escaped


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: its name as prometheus_client's families take it, and its text."""

    name: str
    help: str
    type: FamilyType
    labels: tuple[str, ...]
    # Every name in the family is written as is, so cached lines fit any plain escaping.
    plain: bool = field(init=False)
    text_header: bytes = field(init=False)
    openmetrics_header: bytes = field(init=False)
    _templates: Mapping[str, str] = field(init=False, repr=False, compare=False)
    # The one sample of a gauge or counter, and how many label values it takes.
    _sample: str = field(init=False, repr=False, compare=False)
    _arity: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
        samples = [self.name + s for s in suffixes.get(self.type, ("",))]
        names_ok = all(_LEGACY_METRIC.fullmatch(n) for n in (self.name, *samples))
        plain = names_ok and all(_LEGACY_LABEL.fullmatch(label) for label in (*self.labels, "le"))
        # prometheus_client's text format names a counter family after its samples.
        text_name = self.name + "_total" if self.type == "counter" else self.name
        text_help = self.help.replace("\\", r"\\").replace("\n", r"\n")
        text = f"# HELP {text_name} {text_help}\n# TYPE {text_name} {self.type}\n"
        om_help = _escape(self.help)
        om = f"# HELP {self.name} {om_help}\n# TYPE {self.name} {self.type}\n"
        object.__setattr__(self, "plain", plain)
        object.__setattr__(self, "text_header", text.encode())
        object.__setattr__(self, "openmetrics_header", om.encode())
        extra = {"_bucket": ("le",)}
        templates = {
            sample.removeprefix(self.name): _template(
                sample, (*self.labels, *extra.get(sample.removeprefix(self.name), ()))
            )
            for sample in samples
        }
        object.__setattr__(self, "_templates", MappingProxyType(templates))
        main = "_total" if self.type == "counter" else ""
        object.__setattr__(self, "_sample", templates.get(main, ""))
        object.__setattr__(self, "_arity", len(self.labels))

    def header(self, openmetrics_format: bool) -> bytes:
        return self.openmetrics_header if openmetrics_format else self.text_header

    def line(self, values: Sequence[str], value: float, suffix: str = "") -> str:
        """One sample; `values` are escaped label values in the order of `labels`.

        `suffix` names the sample within the family: "_total" for a counter,
        "_bucket" (whose last value is `le`), "_count" or "_sum" for a histogram.
        """
        template = self._templates[suffix]
        if len(values) != len(self.labels) + (suffix == "_bucket"):
            # prometheus_client zips names with values: the shorter one wins.
            labels = self.labels[: len(values)]
            template = _template(self.name + suffix, labels)
            values = values[: len(labels)]
        return template.format(*values, format_value(value))

    def sample(self, values: Sequence[str], value: float) -> str:
        """The sample of a gauge or counter: line() without a suffix to choose."""
        if len(values) != self._arity:
            return self.line(values, value, "_total" if self.type == "counter" else "")
        return self._sample.format(*values, format_value(value))


def _template(sample: str, labels: Sequence[str]) -> str:
    """`name{a="{0}",b="{1}"} {2}\n` with labels sorted by name, as prometheus_client writes them.

    The last field is the value.
    """
    if not labels:
        return sample + " {0}\n"
    order = sorted(range(len(labels)), key=labels.__getitem__)
    pairs = ",".join(f'{labels[i]}="{{{i}}}"' for i in order)
    return sample + "{{" + pairs + "}} {" + str(len(labels)) + "}\n"


class FleetText(Protocol):
    """What the /metrics answer needs from the fleet's renderer."""

    @property
    def collector(self) -> Collector:
        """The same families through prometheus_client, for formats not written directly."""

    def render(self, openmetrics_format: bool) -> bytes | None:
        """The fleet's families in the format, or None when they need name escaping."""


class MetricsSource(Protocol):
    def render(self, accept: str) -> tuple[bytes, str]:
        """The body and Content-Type answering a scrape with this Accept header."""


class Exposition:
    """/metrics: the fleet's families written directly, then those of `registry`.

    The output is what prometheus_client's encoder for the Accept header
    would write for a registry holding the fleet's collector first and then
    the collectors of `registry`.
    """

    def __init__(self, registry: CollectorRegistry, fleet: FleetText | None = None) -> None:
        self._registry = registry
        self._fleet = fleet

    def render(self, accept: str) -> tuple[bytes, str]:
        encoder, content_type = choose_encoder(accept)
        if self._fleet is None:
            return encoder(self._registry), content_type
        # choose_encoder returns partials carrying the escaping it negotiated.
        keywords = encoder.keywords if isinstance(encoder, partial) else {}
        base = encoder.func if isinstance(encoder, partial) else encoder
        escaping = keywords.get("escaping", openmetrics.UNDERSCORES)
        fleet = None
        if escaping in PLAIN_ESCAPINGS:
            fleet = self._fleet.render(base is openmetrics.generate_latest)
        if fleet is None:
            return encoder(_Chain((self._fleet.collector, self._registry))), content_type
        # An OpenMetrics body ends with "# EOF", which the rest's encoder writes.
        return fleet + encoder(self._registry), content_type


class _Chain(Collector):
    def __init__(self, collectors: Iterable[Collector]) -> None:
        self._collectors = tuple(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()
