"""Looking at a page or a PDF as a person would: headless Chromium and poppler-utils.

`make test` installs both (the Makefile's system-test-deps: Debian packages
`chromium` and `poppler-utils`); a missing one fails the test that needs it,
it is never skipped.
"""

from __future__ import annotations

import html.parser
import shutil
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 120.0


def program(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed (apt-get install {package}; make test does)")
    return found


def chromium(page: Path, *arguments: str, width: int = 1000, height: int = 1400) -> str:
    """Open `page` in headless Chromium with `arguments`; its standard output."""
    with tempfile.TemporaryDirectory(prefix="ocrfleet-test-chromium-") as profile:
        done = subprocess.run(
            [
                program("chromium", "chromium"),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                *arguments,
                page.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed: {done.stderr.decode('utf-8', 'replace')[-2000:]}")
    return done.stdout.decode("utf-8")


def screenshot(page: Path, png: Path, *, width: int = 1000, height: int = 1400) -> None:
    chromium(page, f"--screenshot={png}", width=width, height=height)
    if not png.is_file():
        raise RuntimeError(f"chromium took no screenshot of {page}")


def dump_dom(page: Path, *, width: int = 1000, height: int = 1400) -> str:
    """The page's DOM once loaded (and its scripts, if any, run), as HTML."""
    return chromium(page, "--virtual-time-budget=5000", "--dump-dom", width=width, height=height)


class _Text(html.parser.HTMLParser):
    """The words of an HTML page, as they would be read: no tags, no style, no script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(dom: str) -> str:
    """The text of a page (e.g. from dump_dom), whitespace collapsed."""
    parser = _Text()
    parser.feed(dom)
    return " ".join(" ".join(parser.parts).split())


# -- PDF (poppler-utils) --------------------------------------------------------


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(
        [program("pdfinfo", "poppler-utils"), str(pdf)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    ).stdout
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split(":", 1)[1])
    raise RuntimeError(f"pdfinfo gave no page count for {pdf}")


def pdf_text(pdf: Path, page: int | None = None) -> str:
    """The PDF's text (one page, or all), as pdftotext reads it in reading order."""
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    return subprocess.run(
        [program("pdftotext", "poppler-utils"), "-enc", "UTF-8", *pages, str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    ).stdout


def pdf_pngs(pdf: Path, directory: Path, dpi: int = 40) -> list[Path]:
    """Each page as a PNG, in page order."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [program("pdftoppm", "poppler-utils"), "-png", "-r", str(dpi), str(pdf), "page"],
        cwd=directory,
        capture_output=True,
        timeout=TIMEOUT,
        check=True,
    )
    return sorted(directory.glob("page*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[-1]))


# -- PNG --------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]  # unfiltered, `channels` bytes per pixel

    def ink(self, threshold: int = 230) -> float:
        """The share of pixels darker than near-white: 0 for a blank page."""
        dark = 0
        step = self.channels
        for row in self.rows:
            for x in range(0, len(row), step):
                if min(row[x : x + min(step, 3)]) < threshold:
                    dark += 1
        return dark / (self.width * self.height)

    def colours(self) -> int:
        step = self.channels
        return len({row[x : x + step] for row in self.rows for x in range(0, len(row), step)})


_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def read_png(path: Path) -> Image:
    """A non-interlaced 8-bit PNG (what Chromium and pdftoppm write), decoded."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    offset, idat = 8, b""
    width = height = depth = colour = interlace = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if depth != 8 or interlace or colour not in _CHANNELS:
        raise ValueError(f"{path}: only 8-bit non-interlaced grey/RGB(A) PNGs are read")
    channels = _CHANNELS[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(raw[start], line, previous, channels)
        rows.append(bytes(line))
        previous = line
    return Image(width, height, channels, rows)


def _unfilter(kind: int, line: bytearray, above: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = above[i]
        corner = above[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + nearest) & 0xFF
