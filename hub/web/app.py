"""The workbench's aiohttp application: the factory and the server runner.

The factory wires state, resources, routes and middlewares, in that order. The application holds
one :class:`hub.runtime.Hub`, and through it one database engine and one HTTP client session; a
cleanup context closes them when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import jinja2
import structlog
from aiohttp import web

from ..runtime import Hub
from . import api, erp_parcels, policy_pages, reports_views, rules_pages, views
from . import batch as batch_routes
from . import export as export_routes
from .keys import (
    counters_key,
    hub_key,
    jinja_key,
    owns_hub_key,
    poll_ms_key,
    proxies_key,
    secrets_refresh_key,
)
from .metrics import RequestCounters
from .middlewares import (
    authenticate,
    csrf,
    errors,
    forwarded,
    request_context,
    scrub_secrets,
    security_headers,
)
from .proxy import networks

log = structlog.get_logger("hub.web")

HERE = Path(__file__).parent
#: evidence files are up to 10 MB; the multipart envelope and the other fields need a little more
MAX_BODY = 11 * 1024 * 1024

ReadyCallback = Callable[[str], object]


async def _hub_context(app: web.Application) -> AsyncIterator[None]:
    """Start: check the database answers. Stop: close the engine and the HTTP session (when owned)."""
    hub = app[hub_key]
    log.info("workbench_starting", platforms=sorted(hub.registry.platforms))
    yield
    if app[owns_hub_key]:
        await hub.close()
    log.info("workbench_stopped")


def _jinja() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests instead of rendering blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def create_app(
    hub: Hub, *, owns_hub: bool = True, poll_ms: int = 10_000, trusted_proxies: tuple[str, ...] | None = None
) -> web.Application:
    """The workbench application for ``hub``. With ``owns_hub`` the app closes the hub on shutdown;
    ``poll_ms`` is how often an open work list asks whether it changed; ``trusted_proxies`` (CIDRs,
    default ``HUB_TRUSTED_PROXIES``) are the reverse proxies whose forwarding headers are believed."""
    app = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[forwarded, request_context, security_headers, scrub_secrets, errors, authenticate, csrf],
    )
    app[proxies_key] = networks(hub.settings.trusted_proxies if trusted_proxies is None else trusted_proxies)
    app[hub_key] = hub
    app[owns_hub_key] = owns_hub
    app[jinja_key] = _jinja()
    app[counters_key] = RequestCounters()
    app[poll_ms_key] = poll_ms
    app[secrets_refresh_key] = [0.0]  # read on the first request
    app.cleanup_ctx.append(_hub_context)
    # before the API's /api/cases/{id}: /api/cases/export and /api/cases/batch are not case ids
    app.router.add_routes(export_routes.routes)
    app.router.add_routes(batch_routes.routes)
    app.router.add_routes(views.routes)
    app.router.add_routes(erp_parcels.routes)
    app.router.add_routes(api.routes)
    app.router.add_routes(reports_views.routes)  # /reports, /ledger and their API twins
    app.router.add_routes(policy_pages.routes)  # /policy, /auto
    app.router.add_routes(rules_pages.routes)
    app.router.add_static("/static/", HERE / "static", name="static", append_version=False)
    return app


async def run_server(
    hub: Hub, host: str = "127.0.0.1", port: int = 8080, *, on_ready: ReadyCallback | None = None
) -> None:
    """Serve the workbench until SIGINT/SIGTERM (or cancellation), then shut down gracefully.

    ``on_ready(url)`` is called (and awaited when it returns an awaitable) once the socket listens;
    ``hub demo`` uses it to print the address and the demo login.
    """
    app = create_app(hub)
    runner = web.AppRunner(app, access_log=None)  # our request_context middleware logs each request
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        site = web.TCPSite(runner, host, port, shutdown_timeout=10)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # the real port when port=0
        bound = sockets[0].getsockname()[1] if sockets else port
        url = f"http://{host}:{bound}/"
        log.info("workbench_listening", url=url)
        if on_ready is not None:
            result = on_ready(url)
            if inspect.isawaitable(result):
                await result
        await stop.wait()
        log.info("workbench_shutting_down")
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await runner.cleanup()
