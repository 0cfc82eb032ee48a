"""The html report and its PDF as a person sees them: drawn by headless Chromium, read back.

The page is screenshot and its DOM dumped by Chromium; the PDF is printed by
`ocrfleet report --format pdf`, then drawn by pdftoppm and read by
pdftotext. Also: the operator's own template, and what happens when it is
broken.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.report.html_format import render_html
from ocrfleet.report.html_template import check_report_templates
from ocrfleet.report.model import SiteFigures
from tests.support.chromium import (
    dump_dom,
    pdf_pages,
    pdf_pngs,
    pdf_text,
    read_png,
    screenshot,
    visible_text,
)
from tests.test_report_coordinator import (
    DUTCH,
    LONG,
    MACHINE,
    config_data,
    leftovers,
    october,
    run,
    seed,
    speaker,
    write_config,
)

# Added to a copy of the page: after layout, says whether any text holding
# the long name is cut (overflow, ellipsis, outside the page) and whether
# any chart label runs outside its chart.
_CHECK = """
<script>
addEventListener("load", () => {
  const name = %s;
  const problems = [];
  let seen = 0;
  for (const el of document.querySelectorAll("body *")) {
    if (el instanceof SVGElement) {
      if (!(el instanceof SVGTextElement)) continue;  // a tooltip <title> is not drawn
      const box = el.getBBox();
      const view = el.ownerSVGElement.viewBox.baseVal;
      if (box.x < 0 || box.x + box.width > view.width + 0.5) {
        problems.push("chart label cut: " + el.textContent);
      }
      if (el.textContent.includes(name)) seen += 1;
      continue;
    }
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.includes(name));
    if (!own) continue;
    seen += 1;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (el.scrollWidth > el.clientWidth + 1 && style.overflowX !== "visible") {
      problems.push("clipped: " + el.tagName);
    }
    if (style.textOverflow === "ellipsis") problems.push("ellipsis: " + el.tagName);
    if (box.right > document.documentElement.clientWidth + 1) {
      problems.push("outside the page: " + el.tagName);
    }
    if (box.width === 0 || style.visibility === "hidden") problems.push("hidden: " + el.tagName);
  }
  document.body.dataset.checked = JSON.stringify({seen, problems});
});
</script>
"""


@pytest.fixture(scope="module")
def dutch_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("page")
    seed(work / "store.sqlite")
    page = work / "report.html"
    page.write_text(render_html(october(work / "store.sqlite"), speaker("nl")), encoding="utf-8")
    return page


def test_the_page_is_drawn_and_reads_in_dutch(dutch_page: Path, tmp_path: Path) -> None:
    png = tmp_path / "page.png"
    screenshot(dutch_page, png, width=1000, height=1400)
    image = read_png(png)
    assert (image.width, image.height) == (1000, 1400)
    assert 0.01 < image.ink() < 0.5  # words and tables drawn, not a blank or black page
    assert image.colours() > 8  # text, rules, the note's colour, red for short figures
    text = visible_text(dump_dom(dutch_page))
    for word in DUTCH:
        assert word in text, word
    assert leftovers(text) == []
    assert not MACHINE.search(text)
    assert "Printerproblemen" in text and "Toestellen onbereikbaar" in text
    assert "printer_condition" not in text and "printer_unreachable" not in text


def test_no_site_name_is_cut(dutch_page: Path, tmp_path: Path) -> None:
    source = dutch_page.read_text(encoding="utf-8")
    checked = tmp_path / "checked.html"
    checked.write_text(
        source.replace("</body>", _CHECK % json.dumps(LONG) + "</body>"), encoding="utf-8"
    )
    dom = dump_dom(checked)
    found = re.search(r'data-checked="([^"]*)"', dom)
    assert found is not None, "the check did not run"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    assert result["problems"] == []
    # Every table row, the chart of utilisation, and the site's own part.
    assert result["seen"] >= 8
    assert LONG in visible_text(dom)
    for rule in ("text-overflow", "overflow: hidden", "overflow:hidden"):
        assert rule not in source


# -- PDF ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dutch_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("pdf")
    seed(work / "store.sqlite")
    config = write_config(work, config_data(work / "store.sqlite"))
    target = work / "oktober.pdf"
    assert run(["-c", str(config), "--month", "2026-10", "--format", "pdf", "-o", str(target)]) == 0
    return target


def test_the_pdf_prints_every_page(dutch_pdf: Path, tmp_path: Path) -> None:
    assert dutch_pdf.read_bytes().startswith(b"%PDF")
    pages = pdf_pages(dutch_pdf)
    pngs = pdf_pngs(dutch_pdf, tmp_path / "pages")
    assert len(pngs) == pages >= 2
    for png in pngs:
        image = read_png(png)
        # A4 portrait at 40 dpi: 331 x 468.
        assert (image.width, image.height) == (331, 468)
        assert image.ink() > 0.005, f"{png.name} is blank"


def test_the_pdf_reads_in_dutch_with_names_whole(dutch_pdf: Path) -> None:
    text = pdf_text(dutch_pdf)
    flat = " ".join(text.split())
    for word in DUTCH:
        assert word in flat, word
    assert LONG in flat
    assert leftovers(flat) == []
    assert not MACHINE.search(flat)


def test_the_sites_part_starts_a_page_of_its_own(dutch_pdf: Path) -> None:
    pages = [pdf_text(dutch_pdf, page) for page in range(1, pdf_pages(dutch_pdf) + 1)]
    starts = [i for i, text in enumerate(pages) if text.lstrip().startswith("Per locatie")]
    assert len(starts) == 1
    # The two sites' parts are short: both on that page, which is the last.
    assert starts[0] == len(pages) - 1
    last = " ".join(pages[-1].split())
    assert LONG in last and "Bibliotheek" in last
    assert last.count("sessies,") == 2  # each site's caption, beside its chart


def test_a_long_list_of_sites_is_not_cut_between_pages(tmp_path: Path) -> None:
    data = config_data(tmp_path / "store.sqlite")
    extra = [f"Buurthuis {letter} aan de Schelde" for letter in "ABCDEFGHIJKL"]
    data["sites"] += [
        {"id": f"buurt-{n}", "name": name, "village_core": "Zonnegem"}
        for n, name in enumerate(extra, 1)
    ]
    names = [LONG, "Bibliotheek", *extra]
    seed(tmp_path / "store.sqlite")
    config = write_config(tmp_path, data)
    target = tmp_path / "sites.pdf"
    assert (
        run(
            [
                "-c",
                str(config),
                "--month",
                "2026-10",
                "--format",
                "pdf",
                "-o",
                str(target),
                "--language",
                "en",
            ]
        )
        == 0
    )
    pages = [" ".join(pdf_text(target, p).split()) for p in range(1, pdf_pages(target) + 1)]
    first = next(i for i, text in enumerate(pages) if text.startswith("Per site"))
    part = pages[first:]
    assert len(part) >= 2  # fourteen sites do not fit on one page
    for text in part:
        # Whatever a page holds, it holds whole sites: each heading with its caption.
        captions = text.count("sessions,") + text.count("session,")
        assert captions == sum(name in text for name in names) > 0, text
    assert sum(text.count("sessions,") + text.count("session,") for text in part) == len(names)


def test_without_chromium_the_pdf_is_refused_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(tmp_path / "store.sqlite")
    config = write_config(tmp_path, config_data(tmp_path / "store.sqlite"))
    target = tmp_path / "x.pdf"
    argv = ["-c", str(config), "--month", "2026-10", "--format", "pdf"]
    assert run(argv) == 2
    assert "--format pdf needs -o FILE" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert run([*argv, "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ocrfleet report: the pdf format needs Chromium")
    assert "apt-get install chromium" in err and err.count("\n") == 1
    assert not target.exists()


# -- the operator's template -------------------------------------------------------


def template(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_an_operators_template_replaces_a_block_of_the_shipped_one(
    tmp_path: Path, store_path: Path
) -> None:
    templates = tmp_path / "templates"
    template(
        templates,
        "report.html.j2",
        '{% extends "ocrfleet/report.html.j2" %}\n'
        "{% block header %}<h1>Zonnegem – {{ report.title }}</h1>"
        '<p class="contact">{{ _("Per site") }}</p>{% endblock %}\n',
    )
    page = render_html(october(store_path), speaker("en"), templates)
    assert "<h1>Zonnegem – Zonnegem: public computer rooms, October 2026</h1>" in page
    assert '<p class="contact">Per site</p>' in page
    assert "Compared with September 2026" in page  # the rest is the shipped page
    # report/report.html.j2 comes before report.html.j2.
    template(
        templates,
        "report/report.html.j2",
        "<p>{{ report.scope }}; {{ month(data.month.first_day) }}: "
        "{{ percent(data.total.utilisation) }}, {{ number(data.total.sessions) }}</p>",
    )
    assert render_html(october(store_path), speaker("en"), templates) == (
        "<p>2 sites; October 2026: 36.1%, 38</p>"
    )
    assert check_report_templates(templates) == []


def test_a_template_escapes_what_it_shows(tmp_path: Path, store_path: Path) -> None:
    templates = tmp_path / "templates"
    template(templates, "report.html.j2", "{% for s in report.sites %}{{ s.name }};{% endfor %}")
    report = october(store_path)
    evil = SiteFigures(site="x", name="<script>alert(1)</script>")
    page = render_html(
        dataclasses.replace(report, sites=(report.sites[0], evil)), speaker("en"), templates
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("<h1>{{ report.title }}</h1>\n{% if %}\n", 2, "Expected an expression"),
        ("<h1>{{ report.title }}</h1>\n\n{{ report.no_such_field }}\n", 3, "no_such_field"),
        ("{{ report.title }}\n{{ report.__class__.__mro__ }}\n", 2, "__class__"),
        ('{% include "nowhere.html.j2" %}\n', 1, "nowhere.html.j2"),
    ],
)
def test_a_broken_template_is_reported_and_the_shipped_one_used(
    tmp_path: Path,
    store_path: Path,
    caplog: pytest.LogCaptureFixture,
    text: str,
    line: int,
    message: str,
) -> None:
    templates = tmp_path / "templates"
    path = template(templates, "report/report.html.j2", text)
    with caplog.at_level(logging.ERROR, logger="ocrfleet.report.html_template"):
        page = render_html(october(store_path), speaker("en"), templates)
    assert "Compared with September 2026" in page and page.startswith("<!DOCTYPE html>")
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1
    assert logged[0].startswith(f"report template {path}:{line}: "), logged[0]
    assert message in logged[0] and "shipped template" in logged[0]
    problems = check_report_templates(templates)
    assert [(p.file, p.line) for p in problems] == [(str(path), line)]
    assert str(problems[0]).startswith(f"{path}:{line}: ")
    assert message in problems[0].message


def test_the_command_takes_the_templates_directory_from_the_config(
    tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = tmp_path / "templates"
    template(templates, "report/report.html.j2", "<title>{{ report.title }}</title>")
    data = config_data(store_path)
    data["templates"] = {"directory": str(templates)}
    config = write_config(tmp_path, data)
    assert (
        run(["-c", str(config), "--month", "2026-10", "--format", "html", "--language", "en"]) == 0
    )
    assert capsys.readouterr().out == (
        "<title>Zonnegem: public computer rooms, October 2026</title>"
    )


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    seed(path)
    return path


def test_the_command_says_which_template_line_is_broken(
    tmp_path: Path,
    store_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    templates = tmp_path / "templates"
    path = template(templates, "report/report.html.j2", "<p>\n{{ report.nope }}\n</p>\n")
    data = config_data(store_path)
    data["templates"] = {"directory": str(templates)}
    config = write_config(tmp_path, data)
    argv = ["-c", str(config), "--month", "2026-10", "--format", "html", "--language", "en"]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!DOCTYPE html>") and "Compared with September 2026" in out
    # Logged as an error: on stderr for a person at the command line.
    (logged,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.getMessage().startswith(f"report template {path}:2: ")
