"""The Prometheus text formats written directly, and the answer to a /metrics request.

prometheus_client builds a Sample and a label dict for every series of every
scrape and costs ~10 µs each; the fleet alone is ~30 series per device. So
the fleet's families are written here as text, byte for byte what
prometheus_client would write, from lines that only change when a device's
state does (ocrfleet/metrics/fleetrender.py). The families of the other
collectors are written here too (FamilyWriter): those with a series per
device or task as RowsFamily, whose label text is kept between scrapes and
whose samples prometheus_client gets only when it asks; the rest from their
samples, and whatever is not plain (units, exemplars, timestamps, other
types, names to escape) by prometheus_client itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Literal, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

FamilyType = Literal["gauge", "counter", "histogram"]

# Names of this shape are written unchanged under the escapings Prometheus
# asks for (underscores, allow-utf-8); anything else goes the slow way.
_LEGACY_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
PLAIN_ESCAPINGS = frozenset({openmetrics.UNDERSCORES, openmetrics.ALLOWUTF8})


def format_value(value: float) -> str:
    """A sample value as prometheus_client writes it (Go's formatting: 1.0, 1e+06, +Inf, NaN).

    For a float (not a subclass) between -1e6 and 1e6 this is repr(value):
    loops over many samples test that and call repr() themselves.
    """
    # Most samples are 0 or 1 (states, flags); these answer them without repr().
    if value == 1.0:
        return "1.0"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    # floatToGoString, without its call and its tests of what is rare.
    number = float(value)
    text = repr(number)
    if number > 0:
        dot = text.find(".")
        if dot > 6:
            if number == math.inf:
                return "+Inf"
            # Go switches to exponents sooner than Python.
            mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1 :]}".rstrip("0.")
            return f"{mantissa}e+{dot - 1:02d}"
        return "+Inf" if number == math.inf else text
    if number == -math.inf:
        return "-Inf"
    return "NaN" if number != number else text


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
    # That sample's line up to its value: `name{a="{0}"} `.
    _prefix: str = field(init=False, repr=False, compare=False)

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
        prefix = _template(self.name + main, self.labels, value=False)
        object.__setattr__(self, "_prefix", prefix)

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

    def series(self, values: Sequence[str]) -> str:
        """sample()'s line up to its value: the same name, labels and escaped `values`."""
        if len(values) != self._arity:
            # As line(): prometheus_client zips names with values, the shorter one wins.
            labels = self.labels[: len(values)]
            main = "_total" if self.type == "counter" else ""
            return _template(self.name + main, labels, value=False).format(*values[: len(labels)])
        return self._prefix.format(*values)


def _template(sample: str, labels: Sequence[str], value: bool = True) -> str:
    """`name{a="{0}",b="{1}"} {2}\n` with labels sorted by name, as prometheus_client writes them.

    The last field is the value; without `value`, the template ends before it.
    """
    end = "{" + str(len(labels)) + "}\n" if value else ""
    if not labels:
        return sample + " " + end
    order = sorted(range(len(labels)), key=labels.__getitem__)
    pairs = ",".join(f'{labels[i]}="{{{i}}}"' for i in order)
    return sample + "{{" + pairs + "}} " + end


class FleetText(Protocol):
    """What the /metrics answer needs from the fleet's renderer."""

    @property
    def collector(self) -> Collector:
        """The same families through prometheus_client, for formats not written directly."""

    def render(
        self, openmetrics_format: bool, end: Callable[[], bytes] | None = None
    ) -> bytes | None:
        """The fleet's families in the format, then what `end` gives; None when names need escaping.

        `end` is called once the fleet's snapshot is taken: a poll counts its
        outcome before it records it in the fleet's state, so a scrape that
        shows an outcome also counts it. Its text is joined in with the fleet's
        lines: a body of megabytes is copied once, not twice.
        """


class MetricsSource(Protocol):
    def render(self, accept: str) -> tuple[bytes, str]:
        """The body and Content-Type answering a scrape with this Accept header."""


Row = tuple[tuple[str, ...], float]


class SeriesText:
    """One family's series as text up to their values, kept from one scrape to the next.

    A collector with a series per device or task keeps one of these per
    family: a scrape then formats only the values. Only the last scrape's
    series are kept, so label values that come and go cannot pile up.
    """

    def __init__(self, family: Family) -> None:
        if family.type not in ("gauge", "counter"):
            raise ValueError(f"{family.name}: only gauges and counters are written by rows")
        self.family = family
        # Replaced whole by each scrape: scrapes at once at worst format a line twice.
        self._kept: dict[tuple[str, ...], str] = {}

    def lines(self, rows: Iterable[Row]) -> str:
        kept = self._kept
        now: dict[tuple[str, ...], str] = {}
        series = self.family.series
        parts: list[str] = []
        append = parts.append
        for values, value in rows:
            start = kept.get(values)
            if start is None:
                start = series([_escape(v) for v in values])
            now[values] = start
            append(start)
            # format_value without its call for the usual values (see its docstring).
            if value.__class__ is float and -1e6 < value < 1e6:
                append(repr(value))
            else:
                append(format_value(value))
            append("\n")
        self._kept = now
        return "".join(parts)

    def family_of(self, rows: Sequence[Row]) -> RowsFamily:
        return RowsFamily(self, rows)


class RowsFamily(Metric):
    """A gauge or counter family as rows of label values and a value.

    FamilyWriter writes it from its SeriesText; prometheus_client (the
    formats that escape names, and the reference in tests) reads `samples`,
    which are built only then.
    """

    def __init__(self, series: SeriesText, rows: Sequence[Row]) -> None:
        self._built: list[Sample] | None = None
        family = series.family
        super().__init__(family.name, family.help, family.type)
        self._series = series
        self._rows = rows

    @property
    def samples(self) -> list[Sample]:
        if self._built is None:
            family = self._series.family
            name = family.name + "_total" if family.type == "counter" else family.name
            labels = family.labels
            self._built = [
                Sample(name, dict(zip(labels, values, strict=True)), value)
                for values, value in self._rows
            ]
        return self._built

    @samples.setter
    def samples(self, samples: list[Sample]) -> None:
        # Metric.__init__ sets []: the rows are the samples until then.
        self._built = samples or None

    def text(self, openmetrics_format: bool) -> str | None:
        """Header and lines, or None when a name would need escaping."""
        family = self._series.family
        if not family.plain:
            return None
        return family.header(openmetrics_format).decode() + self._series.lines(self._rows)


_PLAIN_TYPES = frozenset({"gauge", "counter", "histogram", "unknown"})
# Samples the text format moves into families of their own.
_OPENMETRICS_ONLY = ("_created", "_gsum", "_gcount")


class FamilyWriter:
    """Families of prometheus_client collectors as its encoders write them, byte for byte.

    Plain families (gauge, counter, histogram or unknown; names written as
    they are; no unit, timestamp, exemplar or native histogram) are written
    here, at a fraction of prometheus_client's cost per sample; any other
    family is left to prometheus_client's encoder, one family at a time.
    """

    def __init__(self) -> None:
        # Metric and label names seen, and whether they are written as is.
        self._names: dict[str, bool] = {}
        self._labels: dict[str, bool] = {}

    def write(
        self, collector: Collector, openmetrics_format: bool, encoder: Callable[[Collector], bytes]
    ) -> bytes:
        """Every family of `collector`, as `encoder` (a plain escaping) would write them."""
        out: list[str] = []
        for metric in collector.collect():
            text = None
            if isinstance(metric, RowsFamily):
                text = metric.text(openmetrics_format)
            if text is None:
                text = self._plain(metric, openmetrics_format)
            if text is None:
                text = encoder(_One(metric)).decode()
                if openmetrics_format:
                    text = text.removesuffix("# EOF\n")
            out.append(text)
        if openmetrics_format:
            out.append("# EOF\n")
        return "".join(out).encode()

    def _name_ok(self, name: str) -> bool:
        ok = self._names.get(name)
        if ok is None:
            ok = _LEGACY_METRIC.fullmatch(name) is not None
            if len(self._names) < _MAX_NAMES:
                self._names[name] = ok
        return ok

    def _label_ok(self, name: str) -> bool:
        ok = self._labels.get(name)
        if ok is None:
            ok = _LEGACY_LABEL.fullmatch(name) is not None and not name.startswith("__")
            if len(self._labels) < _MAX_NAMES:
                self._labels[name] = ok
        return ok

    def _plain(self, metric: Metric, openmetrics_format: bool) -> str | None:
        name, kind = metric.name, metric.type
        if kind not in _PLAIN_TYPES or metric.unit or not self._name_ok(name):
            return None
        if openmetrics_format:
            lines = [f"# HELP {name} {_escape(metric.documentation)}\n# TYPE {name} {kind}\n"]
            moved: tuple[str, ...] = ()
        else:
            text_name = name + "_total" if kind == "counter" else name
            text_help = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
            text_type = "untyped" if kind == "unknown" else kind
            lines = [f"# HELP {text_name} {text_help}\n# TYPE {text_name} {text_type}\n"]
            moved = tuple(name + suffix for suffix in _OPENMETRICS_ONLY)
        append = lines.append
        name_ok, label_ok = self._name_ok, self._label_ok
        for sample in metric.samples:
            sample_name, labels, value = sample.name, sample.labels, sample.value
            if (
                sample.timestamp is not None
                or sample.exemplar is not None
                or sample.native_histogram is not None
                or value is None
                or sample_name in moved
                or not name_ok(sample_name)
            ):
                return None
            if labels:
                pairs = []
                for label in sorted(labels):
                    if not label_ok(label):
                        return None
                    pairs.append(f'{label}="{_escape(labels[label])}"')
                append(f"{sample_name}{{{','.join(pairs)}}} {format_value(value)}\n")
            else:
                append(f"{sample_name} {format_value(value)}\n")
        return "".join(lines)


# A collector inventing names cannot make the writer's memory of them grow past this.
_MAX_NAMES = 10_000


class Exposition:
    """/metrics: the fleet's families written directly, then those of `registry`.

    The output is what prometheus_client's encoder for the Accept header
    would write for a registry holding the fleet's collector first and then
    the collectors of `registry`.
    """

    def __init__(self, registry: CollectorRegistry, fleet: FleetText | None = None) -> None:
        self._registry = registry
        self._fleet = fleet
        self._writer = FamilyWriter()

    def render(self, accept: str) -> tuple[bytes, str]:
        encoder, content_type = choose_encoder(accept)
        # choose_encoder returns partials carrying the escaping it negotiated.
        keywords = encoder.keywords if isinstance(encoder, partial) else {}
        base = encoder.func if isinstance(encoder, partial) else encoder
        escaping = keywords.get("escaping", openmetrics.UNDERSCORES)
        openmetrics_format = base is openmetrics.generate_latest
        if escaping not in PLAIN_ESCAPINGS:
            return encoder(self._everything()), content_type

        # An OpenMetrics body ends with "# EOF", which the writer adds.
        def rest() -> bytes:
            return self._writer.write(self._registry, openmetrics_format, encoder)

        if self._fleet is None:
            return rest(), content_type
        body = self._fleet.render(openmetrics_format, rest)
        if body is None:
            return encoder(self._everything()), content_type
        return body, content_type

    def _everything(self) -> Collector:
        if self._fleet is None:
            return self._registry
        return _Chain((self._fleet.collector, self._registry))


class _Chain(Collector):
    def __init__(self, collectors: Iterable[Collector]) -> None:
        self._collectors = tuple(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


class _One(Collector):
    def __init__(self, metric: Metric) -> None:
        self._metric = metric

    def collect(self) -> Iterator[Metric]:
        yield self._metric
