"""Configuration errors as `path.to.key: message` lines."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import ValidationError

# pydantic's wording is written for programmers; these read better in a config file.
_FRIENDLY = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


class ConfigError(Exception):
    """One or more problems, each tied to where it is in the file."""

    def __init__(self, problems: Sequence[tuple[str, str]], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(
            f"{path}: {message}" if path else message for path, message in self.problems
        )


def format_location(loc: Iterable[str | int]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path:
            path += f".{part}"
        else:
            path = part
    return path


def problems_from_validation(
    exc: ValidationError, prefix: Sequence[str | int] = ()
) -> list[tuple[str, str]]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = [*prefix, *(part for part in error["loc"] if not _is_internal(part))]
        message = _FRIENDLY.get(error["type"], error["msg"])
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        problems.append((format_location(loc), message))
    return problems


# Validators and unions that wrap a type add their own name to the location
# (e.g. "function-after[_parse(), str]"); the user never wrote those.
_INTERNAL_PART = re.compile(
    r"^(function-(after|before|wrap|plain)|tagged-union|union|nullable|chain"
    r"|lax-or-strict|json-or-python|definition-ref)\["
)


def _is_internal(part: str | int) -> bool:
    if not isinstance(part, str):
        return False
    # "<...>" marks a union member's tag (see ocrfleet.snmp.options).
    return _INTERNAL_PART.match(part) is not None or part.startswith("<")
