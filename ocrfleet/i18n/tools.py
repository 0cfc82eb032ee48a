"""Keeping a plugin's catalogs: extract its words, update the `.po` files, compile `.mo`.

    python -m ocrfleet.i18n.tools extract PACKAGE_DIR...   # .pot, and .po updated
    python -m ocrfleet.i18n.tools compile PACKAGE_DIR...   # .mo beside each .po
    python -m ocrfleet.i18n.tools check PACKAGE_DIR...     # untranslated words, exit 1

A package's domain is its directory name; its words are the `_("...")` and
`_n("...", "...", ...)` calls of its Python files and the `_()`/`{% trans %}`
of its Jinja2 templates (`*.j2`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from ocrfleet.i18n.catalogs import LANGUAGES, SOURCE_LANGUAGE, compile_po
from ocrfleet.i18n.text import BRACED

KEYWORDS = {"_": None, "_n": (1, 2), "gettext": None, "ngettext": (1, 2)}
METHODS = [("**.py", "python"), ("**.j2", "jinja2")]
# "{name}" in Python messages, "%(name)s" in a template's {% trans %} block.
_PLACEHOLDER = re.compile(rf"{BRACED.pattern}|%\((\w+)\)s")


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, tuple | list):
        return tuple(str(v) for v in value)
    return (str(value),) if value else ()


def extract(package: Path) -> PoCatalog:
    """Every message of a package, as a catalog template."""
    template = PoCatalog(project=package.name, domain=package.name)
    for filename, lineno, message, comments, context in extract_from_dir(
        package,
        METHODS,
        options_map={"**.j2": {"extensions": "jinja2.ext.i18n"}},
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        template.add(
            message,
            None,
            [(filename, lineno)],
            auto_comments=comments,
            context=context,
        )
    return template


def po_path(package: Path, language: str) -> Path:
    return package / "locale" / language / "LC_MESSAGES" / f"{package.name}.po"


def update(package: Path) -> list[Path]:
    """Write `locale/<domain>.pot` and merge it into each language's `.po`."""
    template = extract(package)
    pot = package / "locale" / f"{package.name}.pot"
    pot.parent.mkdir(parents=True, exist_ok=True)
    with pot.open("wb") as fp:
        write_po(fp, template, width=100, omit_header=True, sort_output=True)
    written = [pot]
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = po_path(package, language)
        if path.exists():
            with path.open("rb") as fp:
                catalog = read_po(fp, locale=language, domain=package.name)
            created = catalog.creation_date
            catalog.update(template, no_fuzzy_matching=True)
            # Only new words change the file: no date churn.
            catalog.creation_date = created
        else:
            catalog = PoCatalog(
                locale=language, domain=package.name, project=package.name, fuzzy=False
            )
            catalog.update(template, no_fuzzy_matching=True)
            path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fp:
            write_po(
                fp,
                catalog,
                width=100,
                omit_header=False,
                sort_output=True,
                ignore_obsolete=True,
                include_previous=False,
            )
        written.append(path)
    return written


def compile_package(package: Path) -> list[Path]:
    written = []
    for po in sorted((package / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_po(po))
        written.append(mo)
    return written


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check(package: Path) -> list[Problem]:
    """Words of the package with no translation, a fuzzy one, or one that drops a value."""
    template = extract(package)
    problems: list[Problem] = []
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = po_path(package, language)
        if not path.exists():
            problems.append(Problem(str(path), "missing"))
            continue
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=language)
        for message in template:
            if not message.id:
                continue
            where = ", ".join(f"{f}:{n}" for f, n in message.locations[:1])
            found = catalog.get(message.id, message.context)
            ids = _strings(message.id)
            if found is None or not found.string or found.fuzzy:
                problems.append(Problem(f"{path}", f"no {language} words for {ids[0]!r} ({where})"))
                continue
            strings = _strings(found.string)
            if not all(strings) or (len(ids) > 1 and len(strings) < 2):
                problems.append(Problem(f"{path}", f"a plural form of {ids[0]!r} is empty"))
                continue
            known = set().union(*(_placeholders(i) for i in ids))
            for text in strings:
                if _placeholders(text) - known:
                    problems.append(
                        Problem(f"{path}", f"{language} words for {ids[0]!r} name an unknown value")
                    )
                elif len(ids) == 1 and _placeholders(text) != known:
                    problems.append(
                        Problem(f"{path}", f"{language} words for {ids[0]!r} drop a value")
                    )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] not in ("extract", "compile", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    command, packages = args[0], [Path(p) for p in args[1:]]
    status = 0
    for package in packages:
        if command == "extract":
            for path in update(package):
                print(f"wrote {path}")
        elif command == "compile":
            for path in compile_package(package):
                print(f"wrote {path}")
        else:
            for problem in check(package):
                print(problem)
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
