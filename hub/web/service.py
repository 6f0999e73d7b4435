"""What pages and API handlers share: acting on a case (role, state, parameters, idempotency,
audit), storing evidence, reading a case with what the caller may see of it, the live-list version."""

from __future__ import annotations

import json
import re
import time
import weakref
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import structlog
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from .. import audit as audit_trail
from ..actions import (
    ActionReply,
    add_evidence,
    available_actions,
    case_insights,
    evidence_file,
    perform_action,
    safe_file_name,
)
from ..errors import ActionError, IdempotencyConflict, NotFoundError
from ..runtime import Hub
from ..store.cases import (
    CaseFilter,
    CasePage,
    case_detail,
    count_cases,
    list_cases,
    list_summary,
    urgency_counts,
)
from ..store.pages_repo import action_by_key
from ..store.serialize import digest, jsonable
from . import auth
from .auth import Principal
from .forms import ListQuery, coerce_params, is_number, param_specs
from .keys import REQUEST_ID, hub_key
from .middlewares import ApiError, remote_of

log = structlog.get_logger("hub.web")
CONFIRM_NEEDED = "this action moves money: tick the confirmation first"


def require_actor(principal: Principal) -> None:
    """Viewers read only."""
    if not principal.can_act:
        raise ApiError(403, f"{principal.name} is a viewer: viewers cannot act on cases")


async def used_key(hub: Hub, case_id: int, action: str, key: str | None) -> Any:
    """The action already recorded under ``key`` for this case and action (a resubmitted form or a
    retried call), or None. Keys are scoped: another case's use of the same key is not seen."""
    if key is None:
        return None
    return await action_by_key(hub.engine, case_id, action, key)


async def action_state(hub: Hub, principal: Principal, case_id: int, action: str) -> dict[str, Any]:
    """The action's state on this case (enabled or not); 404 when the case is out of scope or the
    action unknown."""
    states = {a["action"]: a for a in await available_actions(hub, case_id, principal.shop_ids)}
    state = states.get(action)
    if state is None:
        raise ApiError(404, f"no action {action[:60]!r} on this case (actions: {', '.join(sorted(states))})")
    return state


async def check_action(hub: Hub, principal: Principal, case_id: int, action: str) -> dict[str, Any]:
    """The action's state on this case; 404 when the case is out of scope or the action unknown,
    409 (with the platform's reason) when it is not allowed now."""
    state = await action_state(hub, principal, case_id, action)
    if not state["enabled"]:
        raise ApiError(409, f"{action} is not allowed on this case: {state['reason']}")
    return state


async def evidence_ref(hub: Hub, principal: Principal, case_id: int, evidence_id: object) -> str:
    """Check that an action's ``file`` parameter names evidence of this case; the core hands the
    plugin the file's content (and records the id, never a path or the bytes)."""
    if (
        isinstance(evidence_id, bool)
        or not isinstance(evidence_id, int | str)
        or not is_number(str(evidence_id))
    ):
        raise ApiError(422, "a file parameter takes the id of evidence uploaded to this case")
    try:
        ev, _content = await evidence_file(hub, int(evidence_id), principal.shop_ids)
    except NotFoundError:
        raise ApiError(422, f"no evidence {evidence_id} on this case") from None
    if ev.after_sale_id != case_id:
        raise ApiError(422, f"no evidence {evidence_id} on this case")
    return str(ev.id)


async def act(
    request: web.Request,
    principal: Principal,
    case_id: int,
    action: str,
    given: Mapping[str, Any],
    key: str | None,
    *,
    files: Mapping[str, Any] | None = None,
    confirmed: bool | None = None,
    yuan: bool = False,
    lang: str = "en",
) -> ActionReply:
    """Perform ``action`` for the caller: role, scope, state and parameters checked, the reply audited.

    A key already used for this action on this case is handed to the core, which replays the
    stored result: the action may no longer be allowed (it was done), and the second click must
    still answer, not act. The same key with other parameters is a 422 (a new request needs a new key).
    ``files`` are uploaded form files for ``file`` parameters; they are stored as evidence first.
    ``confirmed`` is the page's confirmation tick: False refuses an action that moves money (the
    API passes None: a script's call is its own confirmation). ``yuan``: the caller is the page's
    form, whose amounts are typed in 元 (the API sends fen); ``lang`` words the parameter errors.
    The audit entry keeps the case's fields before and after (:mod:`hub.audit`).
    """
    hub = request.app[hub_key]
    require_actor(principal)
    previous = await used_key(hub, case_id, action, key)
    if previous is None:
        state = await check_action(hub, principal, case_id, action)
        if state["money_moves"] and confirmed is False:
            raise ApiError(422, CONFIRM_NEEDED)
    else:
        # a replay: the action may no longer be allowed (it was done), but its parameters are read
        # the same way, so the core can tell a true replay from a new request under an old key
        state = await action_state(hub, principal, case_id, action)
    specs = param_specs(state)
    values = dict(given)
    for spec in specs:
        if spec.get("type") != "file":
            continue
        upload = (files or {}).get(spec["name"])
        if upload is not None and previous is not None:
            # the resubmitted form carries the file again: it was stored the first time
            values[spec["name"]] = (previous.params or {}).get(spec["name"])
        elif upload is not None:
            ident = await store_evidence(request, principal, case_id, upload, description=f"{action} proof")
            values[spec["name"]] = str(ident)
        if values.get(spec["name"]) not in (None, ""):
            values[spec["name"]] = await evidence_ref(hub, principal, case_id, values[spec["name"]])
    agents: list[str] = []
    if any(s.get("type") == "agent" for s in specs):
        detail = await case_detail(hub.engine, case_id, principal.shop_ids)
        agents = await auth.agents_for_shop(hub.engine, detail["shop"])
    params = coerce_params(specs, values, agents=agents, yuan=yuan, lang=lang)
    before = await audit_trail.snapshot(hub, case_id)

    async def perform() -> ActionReply:
        try:
            return await perform_action(
                hub,
                case_id,
                action,
                params,
                actor=principal.name,
                idempotency_key=key,
                shop_ids=principal.shop_ids,
            )
        except IdempotencyConflict as err:
            raise ApiError(422, str(err)) from None

    try:
        reply = await perform()
    except IntegrityError:
        # two submits raced past the check with the same key: the loser replays the winner's record
        reply = await perform()
    await audit_trail.record_action(
        hub,
        actor=principal.name,
        case_id=case_id,
        reply=reply,
        params=params,
        before=before,
        after=await audit_trail.snapshot(hub, case_id),
        via=principal.via,
        now=hub.now(),
        remote=remote_of(request),
        request_id=request.get(REQUEST_ID),
    )
    return reply


async def store_evidence(
    request: web.Request, principal: Principal, case_id: int, upload: Any, *, description: str = ""
) -> int:
    """Store an uploaded file as evidence (the core checks its type and size); audited."""
    hub = request.app[hub_key]
    require_actor(principal)
    if not hasattr(upload, "file") or not getattr(upload, "filename", None):
        raise ApiError(422, "send the evidence as a multipart file field named 'file'")
    content = upload.file.read()
    raw_name = str(upload.filename)
    # RFC 5987 clients (aiohttp's own, curl --form-string) send filename*=utf-8''%E7...; the parser
    # hands that over still percent-encoded, while browsers send the UTF-8 name as it is
    if re.search(r"%[0-9A-Fa-f]{2}", raw_name):
        raw_name = unquote(raw_name)
    name = safe_file_name(raw_name)
    try:
        ident = await add_evidence(
            hub,
            case_id,
            name=name,
            content=content,
            content_type=getattr(upload, "content_type", None) or None,
            actor=principal.name,
            description=description[:2000],
            shop_ids=principal.shop_ids,
        )
    except ActionError as err:
        raise ApiError(422, str(err)) from None
    await auth.audit(
        hub.engine,
        actor=principal.name,
        kind="evidence",
        now=hub.now(),
        case_id=case_id,
        remote=remote_of(request),
        request_id=request.get(REQUEST_ID),
        detail={"evidence_id": ident, "name": name, "size": len(content)},
    )
    return ident


@dataclass
class CaseView:
    """A case as the caller may see it."""

    detail: dict[str, Any]
    actions: list[dict[str, Any]]
    insights: list[dict[str, Any]]


def in_scope(principal: Principal, shop: str) -> bool:
    """Whether the caller serves ``shop`` (admins serve every shop)."""
    return principal.is_admin or shop in principal.shops


async def case_view(hub: Hub, principal: Principal, case_id: int) -> CaseView:
    """The case with its actions and insights; linked orders of shops outside the caller's scope are
    left out (the core returns every link, and a linked 17网 purchase may belong to another team)."""
    detail = await case_detail(hub.engine, case_id, principal.shop_ids)
    detail["linked"] = [lk for lk in detail.get("linked", []) if in_scope(principal, lk["shop"])]
    actions = await available_actions(hub, case_id, principal.shop_ids)
    for a in actions:
        a["params"] = param_specs(a)
        if not principal.can_act and a["enabled"]:
            a["enabled"], a["reason"] = False, "viewers cannot act"
    insights = [jsonable(i) for i in await case_insights(hub, case_id, principal.shop_ids)]
    return CaseView(detail=detail, actions=actions, insights=insights)


@dataclass
class Summary:
    """The filtered list's total, its counts per platform, shop, kind, status, awaiting (the next
    action's party) and item, and its items by urgency: all over exactly the listed rows."""

    total: int
    facets: dict[str, dict[str, int]]
    urgency: dict[str, int] = field(default_factory=dict)


#: facet counts are reused this long: rescanning 200,000 rows on every render of a busy team's list
#: would cost more than it tells; the total beside them is always counted fresh (it is cheap)
FACETS_TTL = 30.0
#: per engine (weakly: a closed hub's cache goes with it), then per filter and scope
_facets: weakref.WeakKeyDictionary[Any, dict[str, tuple[float, Summary]]] = weakref.WeakKeyDictionary()


def _filter_key(f: CaseFilter) -> str:
    return json.dumps(
        [
            sorted(f.platforms),
            sorted(f.shops),
            sorted(f.kinds),
            sorted(f.statuses) if f.statuses is not None else None,
            sorted(f.awaiting),
            f.due_within.total_seconds() if f.due_within is not None else None,
            f.dispute_only,
            f.search,
            sorted(f.shop_ids) if f.shop_ids is not None else None,
            f.orders,
            f.mine,
        ]
    )


async def count_total(hub: Hub, f: CaseFilter) -> int:
    """How many cases the filter matches (within the caller's scope)."""
    return await count_cases(hub.engine, f)


async def summary(hub: Hub, f: CaseFilter, *, fresh: bool = False) -> Summary:
    """Facet counts (and their total) of the filtered list: the core's one grouped scan, cached for
    :data:`FACETS_TTL` seconds per filter and scope (the list itself is always fresh)."""
    cache = _facets.setdefault(hub.engine.sync_engine, {})
    key = _filter_key(f)
    now = time.monotonic()
    cached = cache.get(key)
    if cached is not None and not fresh and cached[0] > now:
        return cached[1]
    total, facets, by_urgency = await list_summary(hub.engine, f)
    result = Summary(total=total, facets=facets, urgency=by_urgency)
    if len(cache) > 1000:  # bounded: many distinct searches must not grow it forever
        cache.clear()
    cache[key] = (now + FACETS_TTL, result)
    return result


async def worklist_page(hub: Hub, lq: ListQuery) -> tuple[CasePage, str]:
    """A work-list page with its (fresh) total, and a version that changes whenever what the page
    shows changes (a new or changed case on it, or a new total): the open page polls it."""
    page = await list_cases(hub.engine, lq.filter, limit=lq.limit, cursor=lq.cursor)
    page.total = await count_total(hub, lq.filter)
    stamp = [
        [
            c["id"],
            c["updated_at"],
            c["status"],
            c["assignee"],
            c["item"],
            c["next_action"],
            c["dispute"],
        ]
        for c in page.items
    ]
    return page, digest([page.total, stamp])[:16]


async def urgency(hub: Hub, now: datetime, shop_ids: Collection[int] | None) -> dict[str, int]:
    """Open cases by urgency within the caller's scope (the core's one grouped scan)."""
    return await urgency_counts(hub.engine, now, shop_ids)
