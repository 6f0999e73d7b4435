"""Request id and logging, error pages/JSON, authentication, CSRF: one middleware each, outermost first."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ..errors import (
    ActionError,
    ConfigError,
    HubError,
    IdempotencyConflict,
    NotFoundError,
    PluginError,
    StoreError,
)
from ..logging import secret_values
from ..scrub import register_all_shops, scrub_text
from . import auth
from .i18n import pick_lang, translator
from .keys import (
    LANG,
    PRINCIPAL,
    REQUEST_ID,
    counters_key,
    hub_key,
    jinja_key,
    proxies_key,
    secrets_refresh_key,
)
from .proxy import client_info

log = structlog.get_logger("hub.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "hub_session"
LANG_COOKIE = "hub_lang"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "_csrf"
#: paths anyone may reach; everything else needs a session or a token
PUBLIC = ("/login", "/static/", "/healthz", "/lang/", "/api/openapi.json")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiError(Exception):
    """A request the caller must fix (or may not make): its status and one clear line."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def wants_json(request: web.Request) -> bool:
    """API and metrics callers get JSON errors; browsers get pages."""
    return request.path.startswith(("/api/", "/metrics")) or request.path == "/api"


def remote_of(request: web.Request) -> str:
    """The caller's address, for rate limits and the audit log."""
    return request.remote or "unknown"


#: pages: only this origin's script, style, images and forms; never framed (clickjacking)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@web.middleware
async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Behind a trusted reverse proxy, continue with the client's own address and scheme (so rate
    limits, the audit log and the cookies' ``Secure`` flag see the real client); otherwise as is."""
    trusted = request.app[proxies_key]
    if not trusted:
        return await handler(request)
    info = client_info(request, trusted)
    if info.remote == request.remote and info.scheme == request.scheme:
        return await handler(request)
    return await handler(request.clone(remote=info.remote, scheme=info.scheme))


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers every answer carries: no framing, no type sniffing; pages get a Content-Security-Policy
    and API answers ``Cache-Control: no-store`` (they hold case data a shared cache must not keep)."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure_headers(request, exc.headers, exc.content_type)
        raise
    _secure_headers(request, response.headers, response.content_type)
    return response


def _secure_headers(request: web.Request, headers: MutableMapping[str, str], content_type: str) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if content_type == "text/html":
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    else:
        headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    if wants_json(request):
        headers["Cache-Control"] = "no-store"


#: how often the server re-reads the shops' secret values (a shop added from the CLI is covered)
SECRETS_REFRESH_S = 30.0
_SCRUBBED_TYPES = ("text/html", "application/json", "text/plain")


@web.middleware
async def scrub_secrets(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No page or API answer carries a shop's secret: stored data is scrubbed when written, and
    this catches whatever was stored before (or comes from a path that forgot): every text answer
    has the known secret values replaced by ``***``. Uploaded evidence is served as it was given."""
    app = request.app
    now = time.monotonic()
    if app[secrets_refresh_key][0] <= now:
        app[secrets_refresh_key][0] = now + SECRETS_REFRESH_S
        hub = app[hub_key]
        try:
            await register_all_shops(hub.engine, hub.registry.platforms)
        except Exception as err:  # the values known so far still apply; the request goes on
            log.warning("secrets_refresh_failed", error=f"{type(err).__name__}: {str(err)[:200]}")
    response = await handler(request)
    if (
        isinstance(response, web.Response)
        and isinstance(response.body, bytes)
        and response.content_type in _SCRUBBED_TYPES
        and request.match_info.route.name not in ("case_evidence_file",)
    ):
        charset = response.charset or "utf-8"
        body = response.body
        # look in the bytes first (a 200-row page is scanned in well under a millisecond); decode
        # and rewrite only the rare answer that holds a secret
        if any(v.encode(charset, "ignore") in body for v in secret_values()):
            text = body.decode(charset, errors="surrogateescape")
            response.body = scrub_text(text).encode(charset, errors="surrogateescape")
    return response


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give each request an id (the caller's X-Request-ID when it is sane), bind it to every log line
    of the request, and write one canonical ``http_request`` line with the outcome."""
    given = request.headers.get("X-Request-ID", "")
    rid = given if _SAFE_ID.match(given) else uuid.uuid4().hex
    request[REQUEST_ID] = rid
    request[LANG] = pick_lang(request.query.get("lang") or request.cookies.get(LANG_COOKIE))
    started = time.perf_counter()
    status = 500
    with structlog.contextvars.bound_contextvars(request_id=rid):
        try:
            response = await handler(request)
            status = response.status
            response.headers["X-Request-ID"] = rid
            return response
        except web.HTTPException as exc:
            status = exc.status
            exc.headers["X-Request-ID"] = rid
            raise
        finally:
            principal = request.get(PRINCIPAL)
            route = request.match_info.route.resource.canonical if request.match_info.route.resource else "-"
            request.app[counters_key].observe(request.method, route, status)
            # the path only: query strings may carry search terms, and never need to be in logs
            log.info(
                "http_request",
                method=request.method,
                path=request.path,
                route=route,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                user=principal.name if principal else None,
                remote=remote_of(request),
            )


def _error_response(request: web.Request, status: int, message: str, **extra: object) -> web.Response:
    if wants_json(request):
        return web.json_response(
            {"error": message, "status": status, "request_id": request.get(REQUEST_ID), **extra},
            status=status,
        )
    t = translator(request.get(LANG, "zh"))
    title = {404: t("not_found"), 403: t("forbidden"), 401: t("forbidden")}.get(
        status, t("server_error") if status >= 500 else t("bad_request")
    )
    env = request.app[jinja_key]
    html = env.get_template("error.html").render(
        t=t,
        lang=request.get(LANG, "zh"),
        status=status,
        title=title,
        message=message,
        request_id=request.get(REQUEST_ID),
        principal=request.get(PRINCIPAL),
        request=request,
        csrf=getattr(request.get(PRINCIPAL), "csrf_token", None),
        csrf_field=CSRF_FIELD,
        static=static_url,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def static_url(name: str) -> str:
    """The URL of a shipped asset, versioned so a new release is never served a stale cached copy."""
    from .. import __version__

    return f"/static/{name}?v={__version__}"


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn errors into clear 4xx answers (JSON for the API, a page for browsers); a bug is a 500 with
    the request id, logged with its traceback, and never shows internals to the caller."""
    try:
        return await handler(request)
    except ApiError as err:
        return _error_response(request, err.status, err.message, **err.extra)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 405 and wants_json(request):
            return _error_response(
                request,
                405,
                f"{request.method} is not allowed on {request.path}",
                allowed=sorted(getattr(exc, "allowed_methods", ()) or ()),
            )
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        response = _error_response(request, exc.status, message)
        for key in ("WWW-Authenticate", "Retry-After", "Allow"):
            if key in exc.headers:
                response.headers[key] = exc.headers[key]
        return response
    except NotFoundError as err:
        return _error_response(request, 404, str(err))
    except HttpProcessingError as err:
        # a body that cannot be parsed (e.g. a multipart part header with control characters)
        return _error_response(request, 400, f"the request body cannot be read: {err.message[:120]}")
    except IdempotencyConflict as err:
        return _error_response(request, 422, str(err))
    except ActionError as err:
        return _error_response(request, 409, str(err))
    except ConfigError as err:
        return _error_response(request, 400, str(err))
    except (PluginError, StoreError) as err:
        log.error("request_failed", error=str(err), error_class=type(err).__name__)
        return _error_response(request, 503, "the hub cannot serve this now: " + str(err))
    except HubError as err:
        return _error_response(request, 400, str(err))
    except Exception:
        log.exception("request_crashed")
        return _error_response(request, 500, "internal error: quote the request id to the administrator")


def _is_public(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the caller from a bearer token (scripts) or the session cookie (browsers).

    A bad token is a 401 (never a silent fall back to the cookie); a page without a session
    redirects to the login page; an API call without credentials is a 401.
    """
    hub = request.app[hub_key]
    header = request.headers.get("Authorization", "")
    principal = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Authorization must be 'Bearer TOKEN'")
        principal = await auth.principal_for_token(hub.engine, token.strip(), now=hub.now())
        if principal is None:
            raise ApiError(401, "the API token is unknown or revoked")
    elif request.cookies.get(SESSION_COOKIE):
        principal = await auth.principal_for_session(
            hub.engine, request.cookies[SESSION_COOKIE], now=hub.now()
        )
    if principal is not None:
        request[PRINCIPAL] = principal
    elif not _is_public(request.path):
        if wants_json(request):
            exc = ApiError(401, "log in or send 'Authorization: Bearer TOKEN'")
            raise exc
        target = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther(location=f"/login?next={_quote(target)}")
    return await handler(request)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state-changing request made with the session cookie carries the session's CSRF token
    (a form field or the X-CSRF-Token header). Token-authenticated scripts need none: a browser
    never attaches a bearer token by itself."""
    principal = request.get(PRINCIPAL)
    # /login checks its own double-submit token: the caller may be switching from another session
    if (
        request.method in UNSAFE_METHODS
        and principal is not None
        and principal.via == "session"
        and request.path != "/login"
    ):
        given = request.headers.get(CSRF_HEADER)
        if not given and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        if not auth.same_secret(given, principal.csrf_token):
            raise ApiError(403, "missing or wrong CSRF token: reload the page and try again")
    return await handler(request)
