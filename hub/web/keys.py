"""Typed application and request state (``web.AppKey``), kept in one module."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

from ..runtime import Hub
from .auth import Principal

if TYPE_CHECKING:
    from .metrics import RequestCounters
    from .proxy import Network

hub_key = web.AppKey("hub", Hub)
jinja_key = web.AppKey("jinja", jinja2.Environment)
counters_key: web.AppKey[RequestCounters] = web.AppKey("counters")
#: whether the app closes the hub (engine, HTTP session) on shutdown
owns_hub_key = web.AppKey("owns_hub", bool)

#: the networks of the trusted reverse proxies (HUB_TRUSTED_PROXIES)
proxies_key: web.AppKey[tuple[Network, ...]] = web.AppKey("trusted_proxies")

#: when the shops' secret values are next re-read (monotonic seconds, in a one-item list to mutate)
secrets_refresh_key: web.AppKey[list[float]] = web.AppKey("secrets_refresh")

#: how often the work list polls for changes, in milliseconds
poll_ms_key = web.AppKey("poll_ms", int)

#: request-scoped values
PRINCIPAL = web.RequestKey("principal", Principal)
REQUEST_ID = web.RequestKey("request_id", str)
LANG = web.RequestKey("lang", str)
