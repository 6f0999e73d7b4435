"""The audit trail of actions on cases, whoever takes them: an agent on the workbench or the API,
the command line (``hub case act``, actor ``cli``), or an automation. Each entry records what the
case looked like just before and just after the action (status, platform status, assignee, refund,
dispute), so the audit page can show a before/after diff without reading anything else.

One path for every caller: :func:`audited_action` performs the action through
:func:`hub.actions.perform_action` and appends the entry to the same ``audit_log`` table the
workbench's logins go to (:mod:`hub.store.auth_repo`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from .actions import ActionReply, perform_action
from .runtime import Hub
from .store import auth_repo
from .store.cases import get_case_row

#: the case fields an entry's before/after keeps (all plain values, JSON as they are)
SNAPSHOT_FIELDS = ("status", "platform_status", "assignee", "refund_fen", "dispute_status", "kind")


async def snapshot(hub: Hub, case_id: int) -> dict[str, Any]:
    """The case's audited fields now (empty when the case cannot be read)."""
    try:
        row = await get_case_row(hub.engine, case_id)
    except Exception:
        return {}
    return {name: getattr(row, name, None) for name in SNAPSHOT_FIELDS}


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields that differ."""
    return {k: [before.get(k), after.get(k)] for k in SNAPSHOT_FIELDS if before.get(k) != after.get(k)}


async def record_action(
    hub: Hub,
    *,
    actor: str,
    case_id: int,
    reply: ActionReply,
    params: Mapping[str, Any],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    via: str,
    now: datetime,
    remote: str | None = None,
    request_id: str | None = None,
) -> None:
    """Append one ``action`` entry: the reply, the parameters sent and the before/after of the case."""
    await auth_repo.insert_audit(
        hub.engine,
        {
            "at": now,
            "actor": actor[:120],
            "kind": "action",
            "case_id": case_id,
            "remote": (remote or "")[:64] or None,
            "request_id": request_id,
            "detail": {
                "action": reply.action,
                "status": reply.status,
                "idempotency_key": reply.idempotency_key,
                "replayed": reply.replayed,
                "message": reply.message[:500],
                "via": via,
                "params": {k: v for k, v in params.items() if isinstance(v, str | int | float | bool)},
                "before": dict(before),
                "after": dict(after),
            },
        },
    )


async def audited_action(
    hub: Hub,
    case_id: int,
    action: str,
    params: Mapping[str, Any],
    *,
    actor: str,
    via: str,
    idempotency_key: str | None = None,
    shop_ids: Collection[int] | None = None,
    remote: str | None = None,
    request_id: str | None = None,
) -> ActionReply:
    """Perform ``action`` (idempotently, as :func:`hub.actions.perform_action` does) and audit it."""
    before = await snapshot(hub, case_id)
    reply = await perform_action(
        hub, case_id, action, params, actor=actor, idempotency_key=idempotency_key, shop_ids=shop_ids
    )
    await record_action(
        hub,
        actor=actor,
        case_id=case_id,
        reply=reply,
        params=params,
        before=before,
        after=await snapshot(hub, case_id),
        via=via,
        now=hub.now(),
        remote=remote,
        request_id=request_id,
    )
    return reply
