"""Acting on a case: recorded before it is sent, keyed for idempotency, the answer stored, the
case re-fetched. A double click, a retried request or a crash between sending and recording never
acts twice: the key of an action already done returns the stored result without calling the
platform, and a failed action can be retried under the same key.

Some actions are hub's own and work on every platform: notes, assignment, and recording what the
merchant did in a backend that has no API (a refusal, an appeal and its outcome).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from .domain import DisputeKind, DisputeStatus, EvidenceKind, Insight, Order
from .errors import ActionError, HubError, IdempotencyConflict, NotFoundError, PlatformError
from .platform import ActionAvailability, ActionOutcome, ActionRequest, CaseContext, LinkedOrder
from .plugins import collect
from .runtime import Hub
from .scrub import register_shop, scrub
from .store import actions as repo
from .store.cases import case_detail, get_case_row, linked_orders, order_for_case
from .store.serialize import after_sale_from_row, digest, jsonable, order_from_row
from .store.shops import get_shop_row_by_id, shop_from_row
from .store.upsert import upsert_batch

log = structlog.get_logger("hub.actions")

#: hub's own actions, available on every platform
HUB_ACTIONS = {
    "note": "Add a note",
    "assign": "Assign to an agent",
    "record_refusal": "Record a refusal made in the merchant backend",
    "record_appeal": "Record an appeal (申诉) filed in the merchant backend",
    "record_appeal_outcome": "Record the appeal's outcome",
}
APPEAL_OUTCOMES = ("ruled_for_seller", "ruled_for_buyer", "withdrawn")

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = {
    "image/jpeg": EvidenceKind.PHOTO,
    "image/png": EvidenceKind.PHOTO,
    "image/gif": EvidenceKind.PHOTO,
    "image/webp": EvidenceKind.PHOTO,
    "application/pdf": EvidenceKind.DOCUMENT,
    "video/mp4": EvidenceKind.VIDEO,
    "text/plain": EvidenceKind.CHAT,
}


_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
#: names keep letters, digits and ordinary punctuation; separators, controls and bidi go
_NAME_UNSAFE = re.compile('[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff<>:"|?*]')


def safe_file_name(name: str) -> str:
    """An evidence file name safe to store, show, send and pack: the last path component whatever
    the separator (``../``, ``..\\``), no control or bidi character (an RLO can make ``gpj.exe``
    read as ``exe.jpg``), no characters Windows refuses, no leading dots, at most 200 characters."""
    base = re.split(r"[/\\]", str(name))[-1]
    base = _NAME_UNSAFE.sub("", unicodedata.normalize("NFC", base))
    base = " ".join(base.split()).lstrip(". ").rstrip(". ")
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:200]
    return base or "evidence"


#: ISO media files that are not MP4 video (HEIC/AVIF photos, QuickTime): not accepted as video/mp4
_NOT_MP4_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"qt  "})


def sniff_type(content: bytes) -> str | None:
    """The accepted type the bytes are, from their signature; None when they are none of them.

    Text is UTF-8 (or GB18030, which chat exports from Chinese tools often are) with no NUL."""
    head = content[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp" and head[8:12] not in _NOT_MP4_BRANDS:
        return "video/mp4"
    if b"\x00" in content:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        # a few stray controls are fine in a chat log; a binary file is mostly controls
        controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\r\n\x0c")
        return "text/plain" if controls * 20 <= max(len(text[:4096]), 1) else None
    return None


def write_private(root: Path, rel: str, content: bytes) -> Path:
    """Write ``content`` to ``root/rel`` readable by the hub's user only: folders 0700, file 0600
    (evidence holds buyers' addresses and faces). Created so from the start, not narrowed after."""
    path = root / rel
    for folder in (root, path.parent):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # a folder made before this rule (or under a loose umask) is narrowed
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    os.chmod(path, 0o600)
    return path


@dataclass
class ActionReply:
    id: int
    action: str
    status: str
    message: str
    idempotency_key: str
    replayed: bool  #: True when the key had already acted: nothing was sent this time

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "status": self.status,
            "message": self.message,
            "idempotency_key": self.idempotency_key,
            "replayed": self.replayed,
        }


async def _load(hub: Hub, case_id: int, shop_ids: Collection[int] | None) -> tuple[Any, Any, Order | None]:
    row = await get_case_row(hub.engine, case_id, shop_ids)
    async with hub.engine.connect() as conn:
        order_row = await order_for_case(conn, row)
    return row, after_sale_from_row(row), order_from_row(order_row) if order_row is not None else None


async def available_actions(
    hub: Hub, case_id: int, shop_ids: Collection[int] | None = None
) -> list[dict[str, Any]]:
    """Every action of the case's platform and hub's own: enabled or not, and why not."""
    row, case, order = await _load(hub, case_id, shop_ids)
    info = hub.registry.info(row.platform)
    shop = shop_from_row(row_shop := await _shop_row(hub, row.shop_id))
    adapter = hub.adapter(shop)
    try:
        states = {a.action: a for a in adapter.available_actions(case, order)}
    finally:
        await adapter.close()
    out: list[dict[str, Any]] = []
    for cap in info.capabilities:
        state = states.get(
            cap.action, ActionAvailability(action=cap.action, enabled=cap.supported, reason=cap.reason)
        )
        closed = not case.status.is_open
        enabled = cap.supported and state.enabled and not row_shop.needs_reauth and not closed
        reason = (
            cap.reason
            if not cap.supported
            else "the shop needs re-authorisation"
            if row_shop.needs_reauth
            else _closed_reason(case)
            if closed
            else state.reason
        )
        out.append(
            {
                "action": cap.action,
                "label": cap.label,
                "label_zh": cap.label_zh,
                "enabled": enabled,
                "reason": None if enabled else reason,
                "money_moves": cap.money_moves,
                "params": [jsonable(p) for p in cap.params],
                "supported": cap.supported,
                "origin": "platform",
            }
        )
    for name, label in HUB_ACTIONS.items():
        enabled, reason = True, None
        if name == "record_appeal_outcome" and not await _open_appeal(hub, row.id):
            enabled, reason = False, "no appeal recorded for this case"
        out.append(
            {
                "action": name,
                "label": label,
                "label_zh": HUB_LABELS_ZH[name],
                "enabled": enabled,
                "reason": reason,
                "money_moves": False,
                "params": [],
                "supported": True,
                "origin": "hub",
            }
        )
    return out


def _closed_reason(case: Any) -> str:
    """Why a closed or succeeded case allows no platform action (the core gates this, not each
    plugin: a platform's state checks cannot forget it)."""
    shown = case.platform_status or case.status.value
    return f"售后单已结束（{shown}），不能再操作 (the case is {case.status.value})"


HUB_LABELS_ZH = {
    "note": "添加备注",
    "assign": "分配客服",
    "record_refusal": "登记后台拒绝",
    "record_appeal": "登记申诉",
    "record_appeal_outcome": "登记申诉结果",
}


async def _shop_row(hub: Hub, shop_id: int) -> Any:
    return await get_shop_row_by_id(hub.engine, shop_id)


async def _open_appeal(hub: Hub, case_id: int) -> Any:
    async with hub.engine.connect() as conn:
        return await repo.open_appeal(conn, case_id)


async def find_action(conn: Any, case_id: int, action: str, key: str) -> Any:
    """The action recorded under ``key`` for this case and action, or None."""
    return await repo.action_by_key(conn, case_id, action, key)


def check_same_params(existing: Any, params: Mapping[str, Any], key: str) -> None:
    """A key already used must come back with the same parameters; otherwise it is a new request
    that needs a new key (:class:`IdempotencyConflict`, naming the parameters that differ)."""
    before, now = jsonable(dict(existing.params or {})), jsonable(dict(params))
    if before == now:
        return
    differ = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    raise IdempotencyConflict(
        f"idempotency key {key!r} was already used for {existing.action} on this case with other "
        f"parameters ({', '.join(differ)}): use a new key to act again"
    )


def platform_key(case_id: int, action: str, key: str) -> str:
    """The key handed to the plugin: the caller's key scoped to the case and action, so a plugin
    that deduplicates per shop (17网's ledger) never confuses two cases that chose the same key."""
    prefix = f"{case_id}:{action}:"
    return key if key.startswith(prefix) else prefix + key


def default_key(case_row: Any, action: str, params: Mapping[str, Any]) -> str:
    """The same action with the same parameters on the same version of a case has the same key."""
    state = f"{case_row.platform_updated_at.isoformat()}:{case_row.version}"
    return f"{case_row.id}:{action}:{digest([jsonable(params), state])[:16]}"


async def perform_action(
    hub: Hub,
    case_id: int,
    action: str,
    params: Mapping[str, Any] | None = None,
    *,
    actor: str,
    idempotency_key: str | None = None,
    shop_ids: Collection[int] | None = None,
) -> ActionReply:
    params = dict(params or {})
    row, case, order = await _load(hub, case_id, shop_ids)
    key = idempotency_key or default_key(row, action, params)
    now = hub.now()
    async with hub.engine.begin() as conn:
        # a key is scoped to this case and this action: another case's (or shop's) use of the same
        # key is a different record, never seen here
        existing = await find_action(conn, row.id, action, key)
        if existing is not None:
            check_same_params(existing, params, key)
            if existing.status != "failed":
                return ActionReply(
                    id=existing.id,
                    action=action,
                    status=existing.status,
                    message=existing.message or "",
                    idempotency_key=key,
                    replayed=True,
                )
            record_id = existing.id
            await repo.update_action(
                conn,
                record_id,
                status="pending",
                attempts=existing.attempts + 1,
                updated_at=now,
                params=params,
            )
        else:
            if action not in HUB_ACTIONS:
                await _check_allowed(hub, row, action)
            record_id = await repo.insert_action(
                conn,
                idempotency_key=key,
                shop_id=row.shop_id,
                after_sale_id=row.id,
                action=action,
                params=params,
                status="pending",
                response={},
                actor=actor,
                attempts=1,
                created_at=now,
                updated_at=now,
            )
    # The record is committed before anything is sent: a crash from here on leaves a pending row.
    try:
        if action in HUB_ACTIONS:
            status, message, response = await _hub_action(hub, row, action, params, actor)
        else:
            status, message, response = await _platform_action(
                hub, row, case, order, action, params, platform_key(row.id, action, key), actor
            )
    except (PlatformError, HubError) as err:
        status, message, response = "failed", str(err), {"error": str(err), "class": type(err).__name__}
    # what the platform said is stored and shown: a gateway echoing our request must not leak a secret
    message, response = scrub(message), scrub(response)
    async with hub.engine.begin() as conn:
        await repo.update_action(
            conn, record_id, status=status, message=message, response=jsonable(response), updated_at=hub.now()
        )
        await repo.add_event(
            conn,
            shop_id=row.shop_id,
            external_id=row.external_id,
            at=hub.now(),
            kind="action",
            actor=actor,
            summary=f"{action}: {status}" + (f" — {message}" if message else ""),
            data={"action": action, "status": status, "idempotency_key": key},
        )
    log.info("action", case=case_id, action=action, status=status, actor=actor)
    return ActionReply(
        id=record_id, action=action, status=status, message=message, idempotency_key=key, replayed=False
    )


async def _check_allowed(hub: Hub, row: Any, action: str) -> None:
    states = {a["action"]: a for a in await available_actions(hub, row.id)}
    state = states.get(action)
    if state is None:
        known = ", ".join(sorted(states))
        raise ActionError(f"{row.platform} has no action {action!r} (actions: {known})")
    if not state["enabled"]:
        raise ActionError(f"{action} is not allowed on this case: {state['reason']}")


async def _platform_action(
    hub: Hub,
    row: Any,
    case: Any,
    order: Order | None,
    action: str,
    params: dict[str, Any],
    key: str,
    actor: str,
) -> tuple[str, str, Any]:
    shop = shop_from_row(await _shop_row(hub, row.shop_id))
    register_shop(shop.settings, hub.registry.platforms.get(shop.platform))
    sent = await _resolve_files(hub, row, action, params)
    adapter = hub.adapter(shop)
    try:
        result = await adapter.perform(
            ActionRequest(
                action=action, case=case, order=order, params=sent, idempotency_key=key, actor=actor
            )
        )
        refreshed = list(result.refreshed)
        if not refreshed and result.outcome in (ActionOutcome.DONE, ActionOutcome.RECORDED):
            async with hub.engine.connect() as conn:
                resource = await repo.raw_resource(conn, row.shop_id, row.external_id)
            if resource:
                fresh = await adapter.fetch_one(resource, row.external_id)
                refreshed = [fresh] if fresh is not None else []
        if refreshed:
            async with hub.engine.begin() as conn:
                await upsert_batch(
                    conn,
                    shop_id=row.shop_id,
                    records=refreshed,
                    mapper=adapter.map_record,
                    rules=adapter.rule_table(),
                    settings=shop.settings,
                    now=hub.now(),
                    actor=actor,
                    merchant_side=hub.registry.info(shop.platform).merchant_side,
                )
    finally:
        await adapter.close()
    return result.outcome.value, result.message, dict(result.response)


async def _resolve_files(hub: Hub, row: Any, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """File parameters are given as evidence ids (attach the file first); the adapter receives
    ``{"filename", "content", "content_type"}``. The recorded action keeps the id, not the bytes."""
    cap = hub.registry.info(row.platform).capability(action)
    out = dict(params)
    for spec in cap.params if cap else ():
        value = params.get(spec.name)
        if spec.type != "file" or value in (None, ""):
            continue
        text = str(value).removeprefix("evidence:")
        if not text.isdigit():
            raise ActionError(f"{spec.name}: give the id of an evidence item attached to this case")
        ev, content = await evidence_file(hub, int(text))
        if ev.after_sale_id != row.id:
            raise ActionError(f"{spec.name}: evidence {text} belongs to another case")
        out[spec.name] = {"filename": ev.name, "content": content, "content_type": ev.content_type}
    return out


async def _hub_action(
    hub: Hub, row: Any, action: str, params: dict[str, Any], actor: str
) -> tuple[str, str, Any]:
    now = hub.now()
    note = str(params.get("note") or params.get("text") or "").strip()
    async with hub.engine.begin() as conn:
        if action == "note":
            if not note:
                raise ActionError("a note needs text (param note)")
            await repo.add_event(
                conn,
                shop_id=row.shop_id,
                external_id=row.external_id,
                at=now,
                kind="note",
                actor=actor,
                summary=note,
                data={},
            )
            return "done", "note added", {}
        if action == "assign":
            agent = str(params.get("agent") or "").strip() or None
            await repo.set_assignee(conn, row.id, agent)
            return "done", f"assigned to {agent}" if agent else "unassigned", {}
        if action == "record_refusal":
            if not note:
                raise ActionError("say why it was refused (param note)")
            await repo.add_dispute(
                conn,
                after_sale_id=row.id,
                kind=DisputeKind.COMPLAINT.value,
                subtype="refusal",
                status=DisputeStatus.OPEN.value,
                note=note,
                opened_at=now,
                updated_at=now,
                opened_by=actor,
            )
            return "recorded", "refusal recorded", {}
        if action == "record_appeal":
            await repo.add_dispute(
                conn,
                after_sale_id=row.id,
                kind=DisputeKind.APPEAL.value,
                subtype=params.get("subtype"),
                status=DisputeStatus.UNDER_REVIEW.value,
                note=note or None,
                opened_at=now,
                updated_at=now,
                opened_by=actor,
            )
            return "recorded", "appeal recorded: under review", {}
        if action == "record_appeal_outcome":
            outcome = str(params.get("outcome") or "")
            if outcome not in APPEAL_OUTCOMES:
                raise ActionError(f"outcome must be one of {', '.join(APPEAL_OUTCOMES)}")
            appeal = await repo.open_appeal(conn, row.id)
            if appeal is None:
                raise ActionError("no open appeal on this case: record the appeal first")
            await repo.update_dispute(
                conn,
                appeal.id,
                status=outcome,
                updated_at=now,
                note=(appeal.note or "") + (f"\n{note}" if note else ""),
            )
            return "recorded", f"appeal {outcome}", {}
    raise ActionError(f"unknown hub action {action!r}")


async def add_evidence(
    hub: Hub,
    case_id: int,
    *,
    name: str,
    content: bytes,
    content_type: str | None,
    actor: str,
    description: str = "",
    kind: str | None = None,
    shop_ids: Collection[int] | None = None,
) -> int:
    """Store an evidence file for a case (size and type checked); returns its id."""
    row = await get_case_row(hub.engine, case_id, shop_ids)
    name = safe_file_name(name)
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    declared = _ALIASES.get(declared, declared)
    if declared in ("", "application/octet-stream"):
        declared = mimetypes.guess_type(name)[0] or ""
    if declared and declared not in EVIDENCE_TYPES:
        raise ActionError(
            f"{name}: type {declared} is not accepted (accepted: {', '.join(sorted(EVIDENCE_TYPES))})"
        )
    if not content:
        raise ActionError(f"{name}: the file is empty")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise ActionError(
            f"{name}: {len(content)} bytes is over the {MAX_EVIDENCE_BYTES // 1024 // 1024} MB limit"
        )
    # the bytes decide, not the name or the sender's word: a script renamed .png is not a photo
    ctype = sniff_type(content)
    if ctype is None:
        raise ActionError(
            f"{name}: the content is not of an accepted type (accepted: {', '.join(sorted(EVIDENCE_TYPES))})"
        )
    if declared and declared != ctype:
        raise ActionError(f"{name}: the content is {ctype}, not {declared} as its name or type says")
    ev_kind = EvidenceKind(kind) if kind else EVIDENCE_TYPES[ctype]
    sha = hashlib.sha256(content).hexdigest()
    ext = mimetypes.guess_extension(ctype) or ""
    rel = f"{row.id}/{sha}{ext}"
    write_private(hub.settings.home / "evidence", rel, content)
    now = hub.now()
    async with hub.engine.begin() as conn:
        ident = await repo.add_evidence(
            conn,
            after_sale_id=row.id,
            kind=ev_kind.value,
            name=name[:255],
            description=description,
            content_type=ctype,
            size=len(content),
            sha256=sha,
            path=rel,
            url=None,
            added_at=now,
            added_by=actor,
        )
        await repo.add_event(
            conn,
            shop_id=row.shop_id,
            external_id=row.external_id,
            at=now,
            kind="evidence_added",
            actor=actor,
            summary=f"evidence {ev_kind.value}: {name}",
            data={"evidence_id": ident},
        )
    return int(ident)


async def evidence_file(
    hub: Hub, evidence_id: int, shop_ids: Collection[int] | None = None
) -> tuple[Any, bytes]:
    async with hub.engine.connect() as conn:
        ev = await repo.evidence_row(conn, evidence_id)
    if ev is None or ev.path is None:
        raise NotFoundError(f"no evidence {evidence_id}")
    await get_case_row(hub.engine, ev.after_sale_id, shop_ids)  # scope check
    return ev, (hub.settings.home / "evidence" / ev.path).read_bytes()


async def case_insights(hub: Hub, case_id: int, shop_ids: Collection[int] | None = None) -> list[Insight]:
    """Ask every plugin for advice on a case (handling guides, eligibility, upstream steps, warnings)."""
    row = await get_case_row(hub.engine, case_id, shop_ids)
    shop = shop_from_row(await _shop_row(hub, row.shop_id), resolve=False)
    case = after_sale_from_row(row)
    linked: list[LinkedOrder] = []
    async with hub.engine.connect() as conn:
        order_row = await order_for_case(conn, row)
        if order_row is not None:
            for lrow, _lshop, _lplatform, _method in await linked_orders(conn, order_row.id):
                if shop_ids is not None and lrow.shop_id not in shop_ids:
                    continue
                lcases = await repo.cases_of_order(conn, lrow.shop_id, lrow.external_id)
                lshop = shop_from_row(await _shop_row(hub, lrow.shop_id), resolve=False)
                linked.append(
                    LinkedOrder(
                        shop=lshop, order=order_from_row(lrow), cases=[after_sale_from_row(c) for c in lcases]
                    )
                )
    ctx = CaseContext(
        shop=shop,
        case=case,
        order=order_from_row(order_row) if order_row is not None else None,
        linked=linked,
        now=hub.now(),
    )
    return [i for i in await collect(hub.pm, "hub_case_insights", context=ctx) if isinstance(i, Insight)]


async def evidence_pack(hub: Hub, case_id: int, shop_ids: Collection[int] | None = None) -> bytes:
    """One zip for an appeal: case, order, waybill, weights, timeline, notes and evidence files."""
    import io
    import json
    import zipfile

    detail = await case_detail(hub.engine, case_id, shop_ids)
    insights = await case_insights(hub, case_id, shop_ids)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        lines = [
            f"Case {detail['external_id']} ({detail['platform']} / {detail['shop']})",
            f"Order: {detail['order_external_id']}",
            f"Kind: {detail['kind']}  Status: {detail['status']}",
            f"Refund: {detail['refund_fen'] / 100:.2f} yuan  Reason: {detail['reason'] or '-'}",
        ]
        order = detail.get("order") or {}
        if order:
            lines.append(f"Paid: {order['paid_fen'] / 100:.2f} yuan  Waybill: {order.get('waybill') or '-'}")
        for k, v in sorted((detail.get("facts") or {}).items()):
            if "weight" in k or "waybill" in k:
                lines.append(f"{k}: {v}")
        lines.append("")
        lines.append("Timeline:")
        lines += [f"  {e['at']}  {e['actor']}: {e['summary']}" for e in detail["timeline"]]
        lines.append("")
        lines.append("Evidence to gather (from the handling guides):")
        lines += [f"  - {i.title}: {i.body}" for i in insights if i.kind == "guide"]
        zf.writestr("README.txt", "\n".join(lines))
        zf.writestr("case.json", json.dumps(detail, ensure_ascii=False, indent=2))
        for ev in detail["evidence"]:
            try:
                _, content = await evidence_file(hub, ev["id"], shop_ids)
            except (NotFoundError, OSError):
                continue
            # names stored before they were sanitised are made safe here too
            zf.writestr(f"evidence/{ev['id']}-{safe_file_name(ev['name'])}", content)
    return buf.getvalue()
