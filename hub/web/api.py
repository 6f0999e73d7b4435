"""The JSON API under ``/api``: the same objects as the CLI's ``--json`` output, scoped to the caller.

Scripts send ``Authorization: Bearer TOKEN``; the browser's own calls use the session cookie (and
the CSRF header for anything that changes state). Every route is described in ``/api/openapi.json``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..actions import available_actions, evidence_pack
from ..store.cases import quarantined
from . import auth
from .forms import check_key, is_number, parse_list_query
from .keys import counters_key, hub_key
from .metrics import render_metrics
from .middlewares import ApiError
from .openapi import openapi_document
from .service import act, case_view, count_total, store_evidence, summary, worklist_page
from .status import sync_status
from .views import case_id_of, principal_of

routes = web.RouteTableDef()
MAX_JSON = 256 * 1024


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body; a clear 4xx when it is missing, too big, not JSON or not an object."""
    if request.content_length is not None and request.content_length > MAX_JSON:
        raise ApiError(413, f"the JSON body is over {MAX_JSON // 1024} KB")
    raw = await request.read()
    if not raw.strip():
        return {}
    if request.content_type not in ("application/json", "text/json"):
        raise ApiError(415, "send the body as application/json")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(400, f"the body is not valid JSON: {str(err)[:120]}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the JSON body must be an object")
    return body


@routes.get("/api/openapi.json", name="api_openapi")
async def api_openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 description of this API."""
    return web.json_response(openapi_document(request.app))


@routes.get("/api/me", name="api_me")
async def api_me(request: web.Request) -> web.Response:
    """Who the caller is, their role and their shops."""
    p = principal_of(request)
    return web.json_response(
        {"name": p.name, "role": p.role, "shops": list(p.shops), "via": p.via, "can_act": p.can_act}
    )


@routes.get("/api/cases", name="api_cases")
async def api_cases(request: web.Request) -> web.Response:
    """One page of the work list: ``items`` are exactly the objects of ``hub cases --json``."""
    hub = request.app[hub_key]
    principal = principal_of(request)
    lq = parse_list_query(request.query, principal, sorted(hub.registry.platforms), hub.now())
    page, version = await worklist_page(hub, lq)
    return web.json_response(
        {"items": page.items, "next_cursor": page.next_cursor, "total": page.total, "version": version}
    )


@routes.get("/api/cases/counts", name="api_case_counts")
async def api_case_counts(request: web.Request) -> web.Response:
    """Counts per platform, shop, kind, status, awaiting (the next action's party) and item within
    the filter, its total, and the filtered items by urgency (facet and urgency counts may be up to
    30 s old: they are a scan of every match)."""
    hub = request.app[hub_key]
    principal = principal_of(request)
    now = hub.now()
    lq = parse_list_query(request.query, principal, sorted(hub.registry.platforms), now)
    counts = await summary(hub, lq.filter)
    return web.json_response(
        {
            "facets": counts.facets,
            "total": await count_total(hub, lq.filter),
            "urgency": counts.urgency,
        }
    )


@routes.get("/api/worklist/version", name="api_worklist_version")
async def api_worklist_version(request: web.Request) -> web.Response:
    """A small value that changes when the filtered list's page changes: the page polls it."""
    hub = request.app[hub_key]
    principal = principal_of(request)
    lq = parse_list_query(request.query, principal, sorted(hub.registry.platforms), hub.now())
    page, version = await worklist_page(hub, lq)
    return web.json_response({"version": version, "total": page.total})


@routes.get("/api/cases/{id}", name="api_case")
async def api_case(request: web.Request) -> web.Response:
    """One case with timeline, order, linked orders, raw record, disputes, evidence, actions done,
    the actions available now (``actions_available``) and the plugins' insights."""
    principal = principal_of(request)
    view = await case_view(request.app[hub_key], principal, case_id_of(request))
    return web.json_response({**view.detail, "actions_available": view.actions, "insights": view.insights})


@routes.get("/api/cases/{id}/actions", name="api_case_actions")
async def api_case_actions(request: web.Request) -> web.Response:
    """The actions this case allows now, and why not the others."""
    principal = principal_of(request)
    items = await available_actions(request.app[hub_key], case_id_of(request), principal.shop_ids)
    return web.json_response({"items": items})


@routes.post("/api/cases/{id}/actions/{action}", name="api_case_act")
async def api_case_act(request: web.Request) -> web.Response:
    """Perform an action: ``{"params": {...}, "idempotency_key": "..."}`` (or the Idempotency-Key
    header). The same key never acts twice: the stored reply comes back with ``replayed: true``."""
    principal = principal_of(request)
    case_id = case_id_of(request)
    body = await read_json(request)
    unknown = sorted(set(body) - {"params", "idempotency_key"})
    if unknown:
        raise ApiError(422, f"unknown field {', '.join(unknown)[:200]} (fields: params, idempotency_key)")
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise ApiError(422, "params must be an object")
    header_key = request.headers.get("Idempotency-Key")
    body_key = body.get("idempotency_key")
    if header_key and body_key and header_key != body_key:
        raise ApiError(422, "the Idempotency-Key header and the idempotency_key field differ")
    key = check_key(header_key or body_key)
    reply = await act(request, principal, case_id, request.match_info["action"], params, key)
    status = 200
    if reply.status == "failed":
        status = 409
    return web.json_response(reply.as_dict(), status=status)


@routes.post("/api/cases/{id}/evidence", name="api_case_evidence")
async def api_case_evidence(request: web.Request) -> web.Response:
    """Upload an evidence file (multipart field ``file``, optional ``description``); type and size checked."""
    principal = principal_of(request)
    case_id = case_id_of(request)
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "send the evidence as multipart/form-data with a 'file' field")
    try:
        form = await request.post()
    except ValueError as err:
        raise ApiError(400, f"the multipart body cannot be read: {str(err)[:120]}") from None
    description = form.get("description", "")
    ident = await store_evidence(
        request,
        principal,
        case_id,
        form.get("file"),
        description=description if isinstance(description, str) else "",
    )
    return web.json_response({"id": ident}, status=201)


@routes.post("/api/cases/{id}/notes", name="api_case_note")
async def api_case_note(request: web.Request) -> web.Response:
    """Add a note to the case's timeline: ``{"text": "..."}``."""
    principal = principal_of(request)
    case_id = case_id_of(request)
    body = await read_json(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(422, "a note needs 'text' (a non-empty string)")
    key = check_key(body.get("idempotency_key") or request.headers.get("Idempotency-Key"))
    reply = await act(request, principal, case_id, "note", {"note": text}, key)
    return web.json_response(reply.as_dict(), status=201 if not reply.replayed else 200)


@routes.get("/api/cases/{id}/evidence-pack", name="api_case_pack")
async def api_case_pack(request: web.Request) -> web.Response:
    """The evidence pack (zip): case, order, timeline, guides and every evidence file."""
    principal = principal_of(request)
    case_id = case_id_of(request)
    data = await evidence_pack(request.app[hub_key], case_id, principal.shop_ids)
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-evidence.zip"'},
    )


@routes.get("/api/sync", name="api_sync")
async def api_sync(request: web.Request) -> web.Response:
    """Sync status per shop in scope, and the unresolved quarantined records with their raw payloads."""
    hub = request.app[hub_key]
    principal = principal_of(request)
    shop_ids = list(principal.shop_ids) if principal.shop_ids is not None else None
    return web.json_response(
        {
            "shops": await sync_status(hub.engine, principal.shop_ids, hub.now()),
            "quarantined": await quarantined(hub.engine, shop_ids),
        }
    )


@routes.get("/api/audit", name="api_audit")
async def api_audit(request: web.Request) -> web.Response:
    """The latest audit entries (admins only); ``?kind=login_failed`` to filter, ``?limit=`` up to 1000."""
    principal = principal_of(request)
    if not principal.is_admin:
        raise ApiError(403, "only admins read the audit log")
    limit = request.query.get("limit", "200")
    if not is_number(limit) or not 1 <= int(limit) <= 1000:
        raise ApiError(400, "limit must be a whole number from 1 to 1000")
    kind = request.query.get("kind") or None
    return web.json_response(
        {
            "items": await auth.audit_entries(
                request.app[hub_key].engine, limit=int(limit), kind=kind[:40] if kind else None
            )
        }
    )


@routes.get("/metrics", name="metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics (admins only: they name every shop)."""
    principal = principal_of(request)
    if not principal.is_admin:
        raise ApiError(403, "only admins may read the metrics")
    hub = request.app[hub_key]
    text = await render_metrics(hub.engine, hub.now(), request.app[counters_key])
    return web.Response(
        body=text.encode(),
        headers={
            "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
            "X-Content-Type-Options": "nosniff",
        },
    )
