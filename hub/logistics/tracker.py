"""The tracker contract: ask a tracking service where a parcel is.

A tracker answers one query at a time with a :class:`Tracking`: the service's own state code,
hub's reading of it (:data:`STATES`), whether it is final, and the traces newest first. The
logistics watch (:mod:`hub.logistics.watcher`) decides what that means for the case. Built in:
``kuaidi100``; plugins add theirs with the ``hub_register_trackers`` hook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import aiohttp

from ..errors import ConfigError

#: hub's parcel states (what the case page shows; English codes, Chinese labels in the page)
STATES = (
    "pending",  #: not queried yet
    "no_trace",  #: the service has nothing for the waybill yet
    "in_transit",
    "delivering",
    "problem",  #: the courier reports a problem (疑难)
    "out_of_area",  #: 超区: the courier does not deliver there
    "signed",
    "returned",  #: returned to sender (退签 / 退回 / 拒签)
    "stalled",  #: no movement beyond the threshold
    "unknown_company",  #: no courier code: cannot be queried
)


@dataclass(frozen=True)
class Trace:
    at: datetime | None
    context: str
    area: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Tracking:
    """One answer: ``code`` the service's state, raw; ``state`` hub's reading; ``final`` stops polling."""

    code: str
    state: str
    final: bool
    traces: Sequence[Trace] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


class TrackingError(Exception):
    """The service refused or failed; ``no_result`` for "nothing found yet", ``retry_after`` (s)
    when it asks to slow down."""

    def __init__(
        self, message: str, *, code: str = "", no_result: bool = False, retry_after: float | None = None
    ):
        super().__init__(message)
        self.code = code
        self.no_result = no_result
        self.retry_after = retry_after


class Tracker(Protocol):
    name: str

    async def track(self, company: str, waybill: str, phone: str | None = None) -> Tracking: ...


@dataclass(frozen=True)
class TrackerContext:
    """What a tracker factory is handed: the hub's HTTP session and the settings (environment)."""

    http: aiohttp.ClientSession
    env: Mapping[str, str]


TrackerFactory = Callable[[TrackerContext], Tracker]
TrackerRegister = Callable[[str, TrackerFactory], None]


def tracker_factories(pm: Any) -> dict[str, TrackerFactory]:
    """The built-in trackers plus those plugins register."""
    from .kuaidi100 import Kuaidi100Tracker

    out: dict[str, TrackerFactory] = {"kuaidi100": Kuaidi100Tracker.from_context}

    def register(name: str, factory: TrackerFactory) -> None:
        if name in out:
            raise ConfigError(f"tracker {name!r} is already registered")
        out[name] = factory

    pm.hook.hub_register_trackers(register=register)
    return out
