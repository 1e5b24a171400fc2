"""Child processes that never outlive their parent.

`triage serve` stops its children itself on SIGINT and SIGTERM (service.cli.serve), but a kill -9 or a crash
runs nothing at all. The kernel's parent-death signal covers those: each child we start (embedded Redis,
worker pool, queue workers) receives SIGTERM when its parent dies, and shuts down.
"""

from __future__ import annotations

import ctypes
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn` for subprocess: ask Linux to SIGTERM this child when the parent exits."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
