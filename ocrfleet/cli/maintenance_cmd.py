"""`ocrfleet maintenance`: (being built)."""

from __future__ import annotations

import argparse

NAME = "maintenance"
HELP = "maintenance (being built)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=__import__("pathlib").Path)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
