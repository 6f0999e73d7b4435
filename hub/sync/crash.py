"""Fault injection for the kill test: ``HUB_CRASH_AT=point:n`` SIGKILLs the process the n-th time.

Used by tests/hub/test_kill.py to prove that a sync killed anywhere and started again ends with
exactly the data of an uninterrupted run. With the variable unset this is one dict lookup.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def crashpoint(name: str) -> None:
    spec = os.environ.get("HUB_CRASH_AT")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
