"""`ocrfleet silence`: (being built)."""

from __future__ import annotations

import argparse

NAME = "silence"
HELP = "silence (being built)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=__import__("pathlib").Path)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
