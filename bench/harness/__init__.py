"""What every benchmark in bench/ shares: processes, signals, load, memory, results.

Importing it also puts the repository root on sys.path, so that a script run
as `python bench/X.py` (only bench/ on its path) finds `devpeers`, the real
peers (Mosquitto, snmpsim, the daemon runner) the tests use too. The scripts
import harness before devpeers; isort keeps it so (harness is third-party to
it, devpeers first-party).

Modules, one purpose each:

* processes: a spawned contender process behind a pipe; stopping subprocesses.
* signals: SIGTERM and Ctrl-C end a run through its cleanup.
* load: CPU time of processes, other programs' load, the pure-Python probe.
* memory: the peak RSS of a process, sampled on a thread.
* describe: the commit measured, the machine, programs' versions.
* tables: Markdown tables and the checks' lines.
* results: --json/--no-json and the JSON file in bench/results/.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["RESULTS", "ROOT"]
