"""Batch work in the workbench: ``POST /api/cases/batch`` for scripts and the page's own calls, and
``POST /cases/batch`` for the work list's toolbar (a form: confirm a money-moving batch with its
total in 元, then show each case's result).

Every case goes through the single-case path (:func:`hub.web.service.act`): the same role, scope,
state and parameter checks, the same action record and audit entry, under the batch key. See
:mod:`hub.batch` for the outcomes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from ..actions import HUB_ACTIONS
from ..batch import (
    MAX_BATCH,
    BatchResult,
    BatchRow,
    check_ids,
    offered,
    row_from_reply,
    run_batch,
)
from ..errors import ConfigError, HubError
from ..store.auth_repo import active_user_roles
from ..store.batch import selected_cases
from . import auth
from .auth import Principal
from .forms import check_key, is_number, param_specs
from .i18n import MESSAGES
from .keys import REQUEST_ID, hub_key
from .middlewares import ApiError, remote_of
from .service import act, require_actor

routes = web.RouteTableDef()

#: the toolbar's texts (kept here, merged into the page vocabulary, so the batch feature is one module)
MESSAGES.update(
    {
        "batch_selected": {"zh": "已选 {n} 条", "en": "{n} selected"},
        "batch_select_all": {"zh": "全选本页", "en": "Select all on this page"},
        "batch_action": {"zh": "批量操作", "en": "Batch action"},
        "batch_note": {"zh": "备注内容", "en": "Note"},
        "batch_agent": {"zh": "分配给", "en": "Assign to"},
        "batch_unassign": {"zh": "（取消分配）", "en": "(unassign)"},
        "batch_go": {"zh": "执行", "en": "Run"},
        "batch_title": {"zh": "批量操作结果", "en": "Batch results"},
        "batch_confirm_title": {"zh": "确认批量操作", "en": "Confirm the batch"},
        "batch_confirm_money": {
            "zh": "将对 {n} 个售后单执行「{action}」，涉及退款合计 ¥{total}。确认后立即提交平台。",
            "en": "{action} on {n} cases moves ¥{total} in total. It is sent once you confirm.",
        },
        "batch_confirm_go": {"zh": "确认执行", "en": "Confirm"},
        "batch_will_skip": {"zh": "将跳过", "en": "will be skipped"},
        "batch_back": {"zh": "返回列表", "en": "Back to the list"},
        "batch_counts": {
            "zh": "完成 {done} 条，被拒绝 {refused} 条，跳过 {skipped} 条",
            "en": "{done} done, {refused} refused, {skipped} skipped",
        },
        "batch_replayed": {"zh": "（此前已执行，未重复提交）", "en": "(done before: not sent again)"},
        "batch_outcome": {"zh": "结果", "en": "Result"},
        "batch_reason": {"zh": "说明", "en": "Details"},
        "batch_none": {"zh": "请先勾选要处理的售后单", "en": "Tick the cases first"},
        "batch_too_many": {"zh": "一次最多处理 {n} 条", "en": "At most {n} cases per batch"},
        "batch_unknown_action": {"zh": "请选择批量操作", "en": "Choose an action"},
        "batch_amount": {"zh": "退款金额", "en": "Refund"},
        "export": {"zh": "导出", "en": "Export"},
        "export_xlsx": {"zh": "导出 Excel", "en": "Export XLSX"},
        "export_csv": {"zh": "导出 CSV", "en": "Export CSV"},
        "my_queue": {"zh": "我的待办", "en": "My queue"},
        "all_cases": {"zh": "全部", "en": "All"},
    }
)

#: hub's own actions the toolbar offers (the others need a form of their own per case)
TOOLBAR_HUB_ACTIONS = ("assign", "note")


def toolbar_actions(hub: Any) -> list[dict[str, Any]]:
    """The actions the toolbar offers: assign and note (every platform), then each platform action
    some installed platform supports, with the platforms that offer it (the page's script narrows
    the choice to the actions every selected row's platform offers) and whether it moves money."""
    out: list[dict[str, Any]] = []
    for name in TOOLBAR_HUB_ACTIONS:
        out.append(
            {
                "action": name,
                "label_zh": _hub_label_zh(name),
                "label": HUB_ACTIONS[name],
                "money_moves": False,
                "platforms": [],
            }
        )
    by_action: dict[str, dict[str, Any]] = {}
    for pid, info in sorted(hub.registry.platforms.items()):
        for cap in info.capabilities:
            if not cap.supported:
                continue
            entry = by_action.setdefault(
                cap.action,
                {
                    "action": cap.action,
                    "label_zh": cap.label_zh,
                    "label": cap.label,
                    "money_moves": False,
                    "platforms": [],
                },
            )
            entry["money_moves"] = entry["money_moves"] or cap.money_moves
            entry["platforms"].append(pid)
    return out + [by_action[k] for k in sorted(by_action)]


def _hub_label_zh(name: str) -> str:
    from ..actions import HUB_LABELS_ZH

    return HUB_LABELS_ZH[name]


def _money_platforms(hub: Any, action: str) -> set[str]:
    """The platforms on which ``action`` moves money."""
    return {
        pid
        for pid, info in hub.registry.platforms.items()
        for cap in info.capabilities
        if cap.action == action and cap.money_moves
    }


async def agents_in_scope(hub: Any, principal: Principal) -> list[str]:
    """Who the caller may assign cases to: admins, and agents serving one of the caller's shops."""
    rows = await active_user_roles(hub.engine)
    mine = set(principal.shops)
    return sorted(
        r.name
        for r in rows
        if r.role == "admin" or (r.role == "agent" and (principal.is_admin or mine & set(r.shops or [])))
    )


async def toolbar_context(request: web.Request, principal: Principal) -> dict[str, Any]:
    """What the work list's batch toolbar needs: its actions, the agents, a fresh batch key."""
    hub = request.app[hub_key]
    return {
        "actions": toolbar_actions(hub),
        "agents": await agents_in_scope(hub, principal) if principal.can_act else [],
        # one key per render: submitting the same toolbar twice replays instead of acting twice
        "key": f"batch-{uuid.uuid4().hex}",
        "max": MAX_BATCH,
        "can_act": principal.can_act,
    }


async def one_case(
    request: web.Request,
    principal: Principal,
    case_id: int,
    action: str,
    params: Mapping[str, Any],
    key: str | None,
    *,
    external_id: str | None,
    page_form: bool,
) -> BatchRow:
    """Act on one case of a batch through the single-case path. A case that does not offer the
    action now is skipped (unless this key already acted on it: the stored result is replayed);
    a refusal keeps its reason. ``page_form``: the toolbar sends one note and one agent for every
    case, so each case gets only the parameters its action takes, and the total was confirmed."""
    hub = request.app[hub_key]
    state, skipped = await offered(
        hub, case_id, action, key, shop_ids=principal.shop_ids, external_id=external_id
    )
    if state is None:
        assert skipped is not None
        return skipped
    given = dict(params)
    if page_form:
        names = {str(s["name"]) for s in param_specs(state)}
        given = {k: v for k, v in given.items() if k in names}
    try:
        reply = await act(
            request, principal, case_id, action, given, key, confirmed=True if page_form else None
        )
    except ApiError as err:
        outcome = "skipped" if err.status in (404, 409) else "refused"
        return BatchRow(
            id=case_id,
            outcome=outcome,
            message=err.message,
            reason_zh=("当前不可执行：" if outcome == "skipped" else "未执行：") + err.message,
            external_id=external_id,
        )
    except HubError as err:
        return BatchRow(
            id=case_id,
            outcome="refused",
            message=str(err),
            reason_zh=f"未执行：{err}",
            external_id=external_id,
        )
    return row_from_reply(case_id, reply, external_id)


async def run_web_batch(
    request: web.Request,
    principal: Principal,
    ids: list[int],
    action: str,
    params: Mapping[str, Any],
    key: str | None,
    *,
    page_form: bool,
) -> BatchResult:
    """Run a batch for the caller and audit it (each case is audited by the single-case path too)."""
    hub = request.app[hub_key]
    known = await selected_cases(hub.engine, ids, principal.shop_ids)

    async def one(case_id: int) -> BatchRow:
        row = known.get(case_id)
        return await one_case(
            request,
            principal,
            case_id,
            action,
            params,
            key,
            external_id=row.external_id if row is not None else None,
            page_form=page_form,
        )

    result = await run_batch(ids, action, key, one)
    await auth.audit(
        hub.engine,
        actor=principal.name,
        kind="batch",
        now=hub.now(),
        remote=remote_of(request),
        request_id=request.get(REQUEST_ID),
        detail={"action": action, "key": key, "ids": ids, "counts": result.counts, "via": principal.via},
    )
    return result


def _principal(request: web.Request) -> Principal:
    from .views import principal_of

    return principal_of(request)


@routes.post("/api/cases/batch", name="api_case_batch")
async def api_case_batch(request: web.Request) -> web.Response:
    """One action on many cases: ``{"ids": [...], "action": "...", "params": {...}, "key": "..."}``
    (at most 200 ids). Each case's result: ``done``, ``refused`` (with the reason) or ``skipped``
    (the case does not offer the action now, or is not the caller's). The same key never acts
    twice on a case: resubmitting the batch replays."""
    from .api import read_json

    principal = _principal(request)
    require_actor(principal)
    body = await read_json(request)
    unknown = sorted(set(body) - {"ids", "action", "params", "key"})
    if unknown:
        raise ApiError(422, f"unknown field {', '.join(unknown)[:200]} (fields: ids, action, params, key)")
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids:
        raise ApiError(422, "ids must be a non-empty list of case ids")
    if any(isinstance(i, bool) or not isinstance(i, int) or i < 1 for i in ids):
        raise ApiError(422, "ids must be case ids (positive whole numbers)")
    try:
        ids = check_ids(ids)
    except ConfigError as err:
        raise ApiError(422, str(err)) from None
    action = body.get("action")
    if not isinstance(action, str) or not action.strip() or len(action) > 60:
        raise ApiError(422, "action must be the name of an action, e.g. agree_refund, assign or note")
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise ApiError(422, "params must be an object")
    key = check_key(body.get("key"))
    result = await run_web_batch(request, principal, ids, action.strip(), params, key, page_form=False)
    return web.json_response(result.as_dict())


async def _would_skip(
    hub: Any, principal: Principal, ids: list[int], action: str, key: str | None
) -> dict[int, str]:
    """The selected cases that do not allow ``action`` now, with the reason (read, nothing sent).
    A case this key already acted on is not skipped: the batch replays it (the same total)."""
    out: dict[int, str] = {}
    for case_id in ids:
        _state, skipped = await offered(hub, case_id, action, key, shop_ids=principal.shop_ids)
        if skipped is not None:
            out[case_id] = skipped.reason_zh
    return out


def _local(url: str) -> str:
    """The path and query of a same-site URL ("" for another site's)."""
    parts = urlsplit(url)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return ""
    return parts.path + ("?" + parts.query if parts.query else "")


def _form_ids(values: list[Any]) -> list[int]:
    ids = [str(v) for v in values if isinstance(v, str) and is_number(str(v))]
    return list(dict.fromkeys(int(v) for v in ids))


@routes.post("/cases/batch", name="case_batch")
async def case_batch(request: web.Request) -> web.Response:
    """The work list's toolbar: confirm a money-moving batch with its total, then run it and show
    each case's result."""
    from .views import _safe_next, render

    hub = request.app[hub_key]
    principal = _principal(request)
    require_actor(principal)
    form = await request.post()
    ids = _form_ids(form.getall("id", []))
    action = str(form.get("action", "")).strip()
    # back to the list as it was filtered: the confirm page carries it, the list's own form is
    # known by its Referer (the page does not echo its search into another form)
    back = _safe_next(str(form.get("back", "")) or _local(request.headers.get("Referer", "")))
    key = check_key(str(form.get("key", "")) or None) or f"batch-{uuid.uuid4().hex}"
    offered = {a["action"]: a for a in toolbar_actions(hub)}

    def refuse(message_key: str, **fmt: Any) -> web.Response:
        return render(
            request,
            "batch.html",
            status=422,
            mode="error",
            message_key=message_key,
            fmt=fmt,
            back=back,
            result=None,
            rows={},
            action_label="",
            total="",
            ids=[],
            action=action,
            params={},
            key=key,
        )

    if not ids:
        return refuse("batch_none")
    if len(ids) > MAX_BATCH:
        return refuse("batch_too_many", n=MAX_BATCH)
    if action not in offered:
        return refuse("batch_unknown_action")
    params: dict[str, Any] = {}
    if action == "assign":
        params["agent"] = str(form.get("agent", ""))
    note = str(form.get("note", "")).strip()
    if note:
        params["note"] = note
    known = await selected_cases(hub.engine, ids, principal.shop_ids)
    money = _money_platforms(hub, action)
    # what the batch would do to each case, when money moves: the total counts only the cases
    # that allow the action now (the others will be skipped, and say so before anything is sent)
    skips: dict[int, str] = {}
    if money & {r.platform for r in known.values()}:
        skips = await _would_skip(hub, principal, list(known), action, key)
    total_fen = sum(r.refund_fen for i, r in known.items() if r.platform in money and i not in skips)
    label = offered[action]["label_zh"]
    if money & {r.platform for r in known.values()} and (
        form.get("confirm") != "yes" or str(form.get("confirm_total", "")) != str(total_fen)
    ):
        # the agent sees the count and the total before anything moves; a changed selection
        # (another total) asks again
        return render(
            request,
            "batch.html",
            mode="confirm",
            message_key="",
            fmt={"skips": skips, "n": len(known) - len(skips)},
            back=back,
            result=None,
            rows=known,
            action_label=label,
            total=total_fen,
            ids=ids,
            action=action,
            params=params,
            key=key,
        )
    result = await run_web_batch(request, principal, ids, action, params, key, page_form=True)
    return render(
        request,
        "batch.html",
        mode="result",
        message_key="",
        fmt={},
        back=back,
        result=result,
        rows=known,
        action_label=label,
        total=total_fen,
        ids=ids,
        action=action,
        params=params,
        key=key,
    )


def openapi_paths(list_params: list[dict[str, Any]], errors: Any) -> dict[str, Any]:
    """The OpenAPI description of ``POST /api/cases/batch`` and ``GET /api/cases/export``."""
    row = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "external_id": {"type": ["string", "null"]},
            "outcome": {"type": "string", "enum": ["done", "refused", "skipped"]},
            "outcome_zh": {"type": "string"},
            "status": {"type": ["string", "null"], "description": "the action record's status"},
            "message": {"type": "string"},
            "reason_zh": {"type": "string", "description": "why it was refused or skipped (Chinese)"},
            "replayed": {"type": "boolean"},
            "idempotency_key": {"type": ["string", "null"]},
            "action_id": {"type": ["integer", "null"]},
        },
    }
    export_params = [p for p in list_params if p["name"] not in ("limit", "cursor")]
    return {
        "/api/cases/batch": {
            "post": {
                "operationId": "batchAct",
                "summary": f"One action on up to {MAX_BATCH} cases, each through the single-case path; "
                "a result per case (done, refused with the reason, skipped when the case does not "
                "offer the action now or is not the caller's). The key is every case's idempotency "
                "key: the same batch again replays.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["ids", "action"],
                                "properties": {
                                    "ids": {
                                        "type": "array",
                                        "items": {"type": "integer", "minimum": 1},
                                        "minItems": 1,
                                        "maxItems": MAX_BATCH,
                                    },
                                    "action": {
                                        "type": "string",
                                        "examples": ["agree_refund", "assign", "note"],
                                    },
                                    "params": {"type": "object"},
                                    "key": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{8,120}$"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "each case's result, in the order given",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "action": {"type": "string"},
                                        "key": {"type": ["string", "null"]},
                                        "counts": {
                                            "type": "object",
                                            "additionalProperties": {"type": "integer"},
                                        },
                                        "results": {"type": "array", "items": row},
                                    },
                                }
                            }
                        },
                    },
                    **errors(400, 403, 413, 415, 422),
                },
            }
        },
        "/api/cases/export": {
            "get": {
                "operationId": "exportCases",
                "summary": "The filtered work list (every page) as XLSX or CSV (UTF-8 with a BOM), "
                "Chinese headers, streamed",
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "enum": ["xlsx", "csv"]},
                    },
                    *export_params,
                ],
                "responses": {
                    "200": {
                        "description": "the file",
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                        },
                    },
                    **errors(400),
                },
            }
        },
    }
