"""Fault injection for the kill test: ``HUB_CRASH_AT=point:n`` SIGKILLs the process the n-th time.

``HUB_CRASH_AT=point:n:stop`` SIGSTOPs it instead (a paused process, resumed by SIGCONT): the
worker tests use it to prove that a sync paused past its lease cannot commit after a takeover.

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
    point, _, rest = spec.partition(":")
    if point != name:
        return
    nth, _, how = rest.partition(":")
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGSTOP if how == "stop" else signal.SIGKILL)
