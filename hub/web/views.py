"""Server-rendered pages: login, the work list, a case, sync status, the audit log."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from aiohttp import web
from multidict import MultiDict

from ..actions import evidence_file, evidence_pack
from ..money import fen_to_yuan
from ..policy.explain import deadline_policy
from ..store.cases import quarantined
from ..store.pages_repo import case_data, ping, shop_names
from . import auth
from .audit_view import action_names, audit_rows, param_labels
from .batch import toolbar_context
from .case_text import case_page_text
from .erp_parcels import case_blocks
from .forms import DUE_CHOICES, KINDS, PARTIES, STATUSES, check_key, is_number, parse_list_query
from .i18n import LANGS, labeller, translator
from .keys import LANG, PRINCIPAL, REQUEST_ID, hub_key, jinja_key, poll_ms_key
from .middlewares import CSRF_FIELD, LANG_COOKIE, SESSION_COOKIE, ApiError, remote_of, static_url
from .present import (
    arrange_insights,
    beijing_text,
    event_text,
    fmt_time,
    lag_zh,
    span_zh,
    status_label,
    zh_text,
)
from .service import act, case_view, store_evidence, summary, worklist_page
from .status import sync_status

routes = web.RouteTableDef()
LOGIN_CSRF_COOKIE = "hub_login_csrf"


def principal_of(request: web.Request) -> auth.Principal:
    """The authenticated caller (the auth middleware guarantees one on non-public routes)."""
    principal = request.get(PRINCIPAL)
    if principal is None:
        raise ApiError(401, "log in first")
    return principal  # type: ignore[no-any-return]


def case_id_of(request: web.Request) -> int:
    """The ``{id}`` of the path; a malformed one is a 404 like any unknown case."""
    text = request.match_info["id"]
    if not is_number(text):
        raise ApiError(404, f"no case {text[:40]}")
    return int(text)


def countdown(due: str | None, now: datetime, lang: str) -> str:
    """The time left (or overdue) in words; the page's script keeps it ticking."""
    if not due:
        return ""
    secs = int((datetime.fromisoformat(due) - now).total_seconds())
    over, secs = secs < 0, abs(secs)
    d, h, m = secs // 86400, secs % 86400 // 3600, secs % 3600 // 60
    if lang == "zh":
        text = f"{d}天{h}小时" if d else f"{h}小时{m}分" if h else f"{m}分{secs % 60}秒"
        return ("已超时 " if over else "剩余 ") + text
    text = f"{d}d {h}h" if d else f"{h}h {m}m" if h else f"{m}m {secs % 60}s"
    return f"overdue {text}" if over else f"{text} left"


def urgency(due: str | None, now: datetime) -> str:
    """The urgency class of a deadline: breached, lt_24h, lt_72h, later or none."""
    if not due:
        return "none"
    left = datetime.fromisoformat(due) - now
    if left < timedelta(0):
        return "breached"
    if left < timedelta(hours=24):
        return "lt_24h"
    return "lt_72h" if left < timedelta(hours=72) else "later"


def render(request: web.Request, template: str, status: int = 200, **ctx: Any) -> web.Response:
    """Render a page with what every template needs (translations, the caller, the CSRF token)."""
    hub = request.app[hub_key]
    lang = request.get(LANG, "zh")
    principal = request.get(PRINCIPAL)
    registry = hub.registry.platforms

    def platform_name(pid: str) -> str:
        info = registry.get(pid)
        if info is None:
            return pid
        return info.name_zh if lang == "zh" else info.name

    plain_party = labeller(lang)

    def party(pid: str | None, value: str | None) -> str:
        """Who must act: stored parties are named from the merchant's side already (merchant,
        buyer, platform, supplier); ``pid`` is kept for templates that pass the platform."""
        return plain_party("party", value)

    html = (
        request.app[jinja_key]
        .get_template(template)
        .render(
            request=request,
            t=translator(lang),
            label=labeller(lang),
            lang=lang,
            langs=LANGS,
            principal=principal,
            csrf=principal.csrf_token if principal else None,
            csrf_field=CSRF_FIELD,
            yuan=fen_to_yuan,
            fmt_time=fmt_time,
            zh_span=span_zh,
            platform_name=platform_name,
            party=party,
            static=static_url,
            request_id=request.get(REQUEST_ID),
            now_iso=hub.now().isoformat(),
            poll_ms=request.app[poll_ms_key],
            **ctx,
        )
    )
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


#: C0 and C1 control characters and the bidi controls: browsers drop some of them from URLs (a tab
#: or a newline inside "/\t/evil.com" makes it "//evil.com"), so a target carrying any is refused
_UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _safe_next(target: str | None) -> str:
    """Only local paths: a login or language link must not bounce the agent to another site.

    The target is checked as a browser would read it: percent-decoded (repeatedly, for doubly
    encoded tricks), with no control or bidi character, no backslash (browsers read it as a
    slash), starting with exactly one slash and with no scheme or host. Anything else is "/".
    """
    if not target:
        return "/"
    probe = target
    for _ in range(4):
        decoded = unquote(probe)
        if decoded == probe:
            break
        probe = decoded
    for text in (target, probe):
        if _UNSAFE_CHARS.search(text) or "\\" in text:
            return "/"
        if not text.startswith("/") or text.startswith("//"):
            return "/"
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return "/"
    return target


@routes.get("/login", name="login")
async def login_page(request: web.Request) -> web.Response:
    """The login form, with a double-submit CSRF token (there is no session to hold one yet)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        login_csrf=token,
        next=_safe_next(request.query.get("next")),
        error=None,
        name="",
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=request.secure, max_age=3600
    )
    return response


@routes.post("/login", name="login_post")
async def login_post(request: web.Request) -> web.StreamResponse:
    """Check the credentials (rate-limited, audited) and start a session."""
    hub = request.app[hub_key]
    form = await request.post()
    t = translator(request.get(LANG, "zh"))
    if not auth.same_secret(str(form.get("login_token", "")), request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise ApiError(403, "missing or wrong login form token: reload the login page")
    name = str(form.get("name", "")).strip()[:120]
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    audit_kw: dict[str, Any] = {
        "remote": remote_of(request),
        "request_id": request.get(REQUEST_ID),
        "now": hub.now(),
    }
    try:
        user = await auth.login(hub.engine, name, password, remote_of(request), now=hub.now())
    except auth.LoginRefused as err:
        await auth.audit(
            hub.engine,
            actor=name or "-",
            kind="login_limited" if err.rate_limited else "login_failed",
            **audit_kw,
        )
        response = render(
            request,
            "login.html",
            status=429 if err.rate_limited else 401,
            login_csrf=request.cookies.get(LOGIN_CSRF_COOKIE),
            next=target,
            name=name,
            error=t("login_limited") if err.rate_limited else t("login_failed"),
        )
        if err.rate_limited:
            response.headers["Retry-After"] = str(err.retry_after)
        return response
    sid = await auth.create_session(hub.engine, user.id, now=hub.now())
    await auth.audit(hub.engine, actor=user.name, kind="login", detail={"via": "password"}, **audit_kw)
    response = web.HTTPSeeOther(location=target)
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        httponly=True,
        samesite="Lax",
        secure=request.secure,
        path="/",
        max_age=int(auth.SESSION_TTL.total_seconds()),
    )
    response.del_cookie(LOGIN_CSRF_COOKIE)
    raise response


@routes.post("/logout", name="logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (a POST with the CSRF token, so another site cannot log an agent out)."""
    hub = request.app[hub_key]
    principal = principal_of(request)
    await auth.end_session(hub.engine, request.cookies.get(SESSION_COOKIE, ""))
    await auth.audit(
        hub.engine,
        actor=principal.name,
        kind="logout",
        now=hub.now(),
        remote=remote_of(request),
        request_id=request.get(REQUEST_ID),
    )
    response = web.HTTPSeeOther(location="/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@routes.get("/lang/{code}", name="lang")
async def set_lang(request: web.Request) -> web.StreamResponse:
    """Switch the page language (a cookie), then go back."""
    code = request.match_info["code"]
    if code not in LANGS:
        raise ApiError(404, f"no language {code[:10]!r}")
    response = web.HTTPSeeOther(location=_safe_next(request.query.get("next")))
    response.set_cookie(LANG_COOKIE, code, samesite="Lax", max_age=365 * 86400, path="/")
    raise response


@routes.get("/healthz", name="healthz")
async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers and the database is reachable."""
    await ping(request.app[hub_key].engine)
    return web.json_response({"ok": True})


async def _scope_shops(request: web.Request, principal: auth.Principal) -> list[str]:
    return await shop_names(request.app[hub_key].engine, principal.shop_ids)


def _toggle(query: MultiDict[str], name: str, value: str) -> str:
    """The query string with ``name=value`` switched on or off (and paging reset)."""
    q = MultiDict((k, v) for k, v in query.items() if k not in ("cursor",))
    values = [v for v in q.getall(name, []) if v]
    q.popall(name, None)
    if value in values:
        values.remove(value)
    else:
        values.append(value)
    for v in values:
        q.add(name, v)
    return "?" + urlencode(list(q.items()))


def _with(query: MultiDict[str], **changes: str | None) -> str:
    q = MultiDict((k, v) for k, v in query.items() if k not in changes and k != "cursor")
    for k, v in changes.items():
        if v:
            q.add(k, v)
    return "?" + urlencode(list(q.items()))


async def _status_labels(request: web.Request, ids: list[int]) -> dict[int, str]:
    """The platform's own label of each listed case's status, where its plugin keeps one in the facts
    (a page of at most 200 rows, read by primary key)."""
    out: dict[int, str] = {}
    for ident, data in await case_data(request.app[hub_key].engine, ids):
        text = status_label((data or {}).get("facts"))
        if text:
            out[int(ident)] = text
    return out


@routes.get("/", name="worklist")
async def worklist(request: web.Request) -> web.Response:
    """The work list: every open case in the caller's shops, soonest deadline first."""
    hub = request.app[hub_key]
    principal = principal_of(request)
    if principal.role == "agent" and "mine" not in request.query:
        # an agent's list opens on 我的待办 (the link to every case sends mine=0)
        raise web.HTTPSeeOther(location=_with(MultiDict(request.query), mine="1"))
    now = hub.now()
    lq = parse_list_query(request.query, principal, sorted(hub.registry.platforms), now)
    page, version = await worklist_page(hub, lq)
    listed = await summary(hub, lq.filter)
    counts, urgent = listed.facets, listed.urgency
    lang = request.get(LANG, "zh")
    query = MultiDict(request.query)
    labels = await _status_labels(request, [c["id"] for c in page.items if c["item"] == "case"])
    rows = [
        {
            **c,
            "urgency": urgency(c["next_action"] and c["next_action"]["due_at"], now),
            "countdown": countdown(c["next_action"] and c["next_action"]["due_at"], now, lang),
            "platform_status_label": labels.get(c["id"]) if c["item"] == "case" else None,
        }
        for c in page.items
    ]
    facets = {
        "platform": sorted(hub.registry.platforms),
        "shop": await _scope_shops(request, principal),
        "kind": list(KINDS),
        "status": list(STATUSES),
        "awaiting": [p for p in PARTIES if p != "none"],
    }
    return render(
        request,
        "worklist.html",
        rows=rows,
        page=page,
        counts=counts,
        urgent=urgent,
        lq=lq,
        facets=facets,
        version=version,
        query=query,
        toggle=_toggle,
        with_=_with,
        due_choices=DUE_CHOICES,
        now=now,
        next_url=_with(query, cursor=None) + "&cursor=" + page.next_cursor if page.next_cursor else None,
        batch=await toolbar_context(request, principal),
    )


@routes.get("/cases/{id}", name="case")
async def case_page(request: web.Request) -> web.Response:
    """One case: deadline, dispute, actions, insights, timeline, evidence, linked orders, raw record."""
    hub = request.app[hub_key]
    principal = principal_of(request)
    case_id = case_id_of(request)
    view = await case_view(hub, principal, case_id)
    detail = view.detail
    now = hub.now()
    lang = request.get(LANG, "zh")
    result = None
    done = request.query.get("done", "")
    if is_number(done):
        result = next((a for a in detail["actions"] if a["id"] == int(done)), None)
    due = detail["next_action"] and detail["next_action"]["due_at"]
    agents = await auth.agents_for_shop(hub.engine, detail["shop"])
    action_names = {a["action"]: a["label_zh"] if lang == "zh" else a["label"] for a in view.actions}
    return render(
        request,
        "case.html",
        c=detail,
        actions=view.actions,
        insights=arrange_insights(view.insights, lang),
        platform_status_label=status_label(detail.get("facts")),
        action_names=action_names,
        event_text=lambda e: event_text(e, labeller(lang), lang, action_names),
        beijing_text=lambda text: beijing_text(text, lang),
        now=now,
        result=result,
        replayed=request.query.get("replayed") == "1",
        error=request.query.get("error"),
        agents=agents,
        urgency=urgency(due, now),
        countdown=countdown(due, now, lang),
        notes=[e for e in detail["timeline"] if e["kind"] == "note"],
        # one fresh key per form and render: a double click or a resubmitted form sends the same key
        keys={a["action"]: f"web-{uuid.uuid4().hex}" for a in view.actions},
        platform_info=hub.registry.platforms.get(detail["platform"]),
        policy_note=await deadline_policy(hub, detail["shop"], detail["next_action"]),
        **await case_blocks(hub, case_id),  # ERP documents and parcels
        **await case_page_text(hub, principal, case_id, view.actions, lang),
    )


def _case_url(case_id: int, **query: str) -> str:
    return f"/cases/{case_id}" + ("?" + urlencode(query) if query else "") + "#result"


@routes.post("/cases/{id}/act/{action}", name="case_act")
async def case_act(request: web.Request) -> web.StreamResponse:
    """Perform an action from the case page's form, then show its result (post/redirect/get)."""
    principal = principal_of(request)
    case_id = case_id_of(request)
    action = request.match_info["action"]
    form = await request.post()
    key = check_key(str(form.get("idempotency_key", "")) or None)
    fields: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for name, value in form.items():
        if name in (CSRF_FIELD, "idempotency_key", "confirm"):
            continue
        if isinstance(value, str):
            fields[name] = value
        elif getattr(value, "filename", None):
            files[name] = value
    try:
        reply = await act(
            request,
            principal,
            case_id,
            action,
            fields,
            key,
            files=files,
            confirmed=form.get("confirm") == "yes",
            yuan=True,
            lang=request.get(LANG, "zh"),
        )
    except ApiError as err:
        if err.status in (404, 403):
            raise
        raise web.HTTPSeeOther(location=_case_url(case_id, error=err.message[:300])) from None
    raise web.HTTPSeeOther(
        location=_case_url(case_id, done=str(reply.id), replayed="1" if reply.replayed else "0")
    )


@routes.post("/cases/{id}/evidence", name="case_evidence")
async def case_evidence(request: web.Request) -> web.StreamResponse:
    """Upload evidence from the case page."""
    principal = principal_of(request)
    case_id = case_id_of(request)
    form = await request.post()
    try:
        await store_evidence(
            request, principal, case_id, form.get("file"), description=str(form.get("description", ""))
        )
    except ApiError as err:
        if err.status in (404, 403):
            raise
        raise web.HTTPSeeOther(
            location=f"/cases/{case_id}?" + urlencode({"error": err.message[:300]}) + "#evidence"
        ) from None
    raise web.HTTPSeeOther(location=f"/cases/{case_id}#evidence")


@routes.get("/cases/{id}/evidence/{eid}", name="case_evidence_file")
async def case_evidence_file(request: web.Request) -> web.Response:
    """Download one evidence file (scope-checked by the core)."""
    principal = principal_of(request)
    case_id = case_id_of(request)
    eid = request.match_info["eid"]
    if not is_number(eid):
        raise ApiError(404, "no such evidence")
    ev, content = await evidence_file(request.app[hub_key], int(eid), principal.shop_ids)
    if ev.after_sale_id != case_id:
        raise ApiError(404, "no such evidence on this case")
    return web.Response(
        body=content,
        content_type=ev.content_type or "application/octet-stream",
        headers={"Content-Disposition": _disposition(ev.name), "X-Content-Type-Options": "nosniff"},
    )


def _disposition(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(name)}"


@routes.get("/cases/{id}/pack", name="case_pack")
async def case_pack(request: web.Request) -> web.Response:
    """The case's evidence pack (zip) for an appeal."""
    principal = principal_of(request)
    case_id = case_id_of(request)
    data = await evidence_pack(request.app[hub_key], case_id, principal.shop_ids)
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": _disposition(f"case-{case_id}-evidence.zip")},
    )


@routes.get("/sync", name="sync")
async def sync_page(request: web.Request) -> web.Response:
    """Per shop: last successful sync, lag, errors, quarantined records, re-authorisation."""
    hub = request.app[hub_key]
    principal = principal_of(request)
    now = hub.now()
    shops = await sync_status(hub.engine, principal.shop_ids, now)
    quarantine = await quarantined(
        hub.engine, list(principal.shop_ids) if principal.shop_ids is not None else None
    )
    lang = request.get(LANG, "zh")
    return render(
        request,
        "sync.html",
        shops=shops,
        quarantine=quarantine,
        now=now,
        lag=_lag if lang != "zh" else lag_zh,
        zh_text=zh_text,
    )


def _lag(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"


@routes.get("/audit", name="audit")
async def audit_page(request: web.Request) -> web.Response:
    """The audit log (admins only)."""
    principal = principal_of(request)
    if not principal.is_admin:
        raise ApiError(403, "only admins read the audit log")
    hub = request.app[hub_key]
    entries = await auth.audit_entries(hub.engine, limit=300)
    lang = request.get(LANG, "zh")
    rows = audit_rows(
        entries,
        label=labeller(lang),
        t=translator(lang),
        lang=lang,
        names=action_names(hub.registry, lang),
        params=param_labels(hub.registry, lang),
    )
    return render(request, "audit.html", entries=rows)
