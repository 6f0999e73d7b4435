"""Typed application and request state (``web.AppKey``), kept in one module."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

from ..runtime import Hub

if TYPE_CHECKING:
    from .metrics import RequestCounters

hub_key = web.AppKey("hub", Hub)
jinja_key = web.AppKey("jinja", jinja2.Environment)
counters_key: web.AppKey[RequestCounters] = web.AppKey("counters")
#: whether the app closes the hub (engine, HTTP session) on shutdown
owns_hub_key = web.AppKey("owns_hub", bool)

#: how often the work list polls for changes, in milliseconds
poll_ms_key = web.AppKey("poll_ms", int)

#: request-scoped values (aiohttp requests take plain string keys)
PRINCIPAL = "hub.principal"
REQUEST_ID = "hub.request_id"
LANG = "hub.lang"
