"""Markdown tables and the lines of the correctness checks, as the benchmarks print them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

_RULES = {"l": "---", "r": "---:"}


def table(header: Sequence[str], align: str, rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table's lines; `align` has one letter per column, l(eft) or r(ight)."""
    if len(align) != len(header):
        raise ValueError(f"{len(header)} columns but alignment {align!r}")
    lines = [row(header), "|" + "|".join(_RULES[a] for a in align) + "|"]
    lines += [row(cells) for cells in rows]
    return lines


def row(cells: Sequence[object]) -> str:
    """`| a | b |`; an empty cell is `| |`."""
    return "|" + "".join(f" {cell} |" if str(cell) else " |" for cell in cells)


def check_lines(checks: Mapping[str, bool]) -> list[str]:
    """`ok   name` or `FAIL name`, one line per check."""
    return [f"{'ok  ' if ok else 'FAIL'} {name}" for name, ok in checks.items()]
