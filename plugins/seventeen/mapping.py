"""Pure mapping: a 17网 raw record (export rows + the ledger's steps) -> Order or AfterSale.

A 17网 order is the **purchase** behind a sale: ``Order.role`` is ``purchase`` and its ``links``
carry the hints the core resolves to the sale (the sale order id the merchant wrote in the remark,
and the recipient + SKU + day). A 17网 after-sales case is a return to the stall; 17网 has no
exchange, so an exchange request is mapped as a return with a warning (17网's dropship after-sales
FAQ: 17网暂不支持换货).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.clock import CST
from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Order,
    OrderLine,
    OrderLink,
    OrderRole,
    OrderStatus,
)
from hub.errors import MappingError
from hub.money import yuan_to_fen

from .eligibility import Item
from .snapshot import PURCHASE, PURCHASE_RETURN, row_time
from .state import (
    AUTO_CONFIRM_AFTER,
    EXTENSION_MAX,
    STAGE_STATUS,
    OrderFacts,
    ReturnState,
    Stage,
    replay,
    stage_from_export,
)

ORDER_STATUS: Mapping[str, OrderStatus] = {
    "待付款": OrderStatus.PENDING_PAYMENT,
    "已付款": OrderStatus.PAID,
    "待拿货": OrderStatus.PAID,
    "拿货中": OrderStatus.PAID,
    "待发货": OrderStatus.PAID,
    "已拿货": OrderStatus.PAID,
    "缺货": OrderStatus.PAID,
    "部分缺货": OrderStatus.PAID,
    "已发货": OrderStatus.SHIPPED,
    "已签收": OrderStatus.SHIPPED,
    "交易成功": OrderStatus.COMPLETED,
    "已完成": OrderStatus.COMPLETED,
    "已确认收货": OrderStatus.COMPLETED,
    "退款中": OrderStatus.REFUNDING,
    "退货中": OrderStatus.REFUNDING,
    "售后中": OrderStatus.REFUNDING,
    "下架退款中": OrderStatus.REFUNDING,
    "已退款": OrderStatus.CLOSED,
    "已关闭": OrderStatus.CLOSED,
    "交易关闭": OrderStatus.CLOSED,
    "已取消": OrderStatus.CANCELLED,
}
OUT_OF_STOCK = ("缺货",)
DISCONTINUED = ("已下架", "下架", "不做了", "停产", "档口不做")
#: Taobao tids are 12-20 digits (19 today, shorter in older shops; never an 11-digit mobile number);
#: Pinduoduo order_sn is ``YYMMDD-`` and 15-18 digits.
PDD_ORDER_SN = re.compile(r"(?<![\d-])\d{6}-\d{15,18}(?![\d-])")
TAOBAO_TID = re.compile(r"(?<![\d-])\d{12,20}(?![\d-])")


def sale_ids_in(remark: str | None) -> list[str]:
    """Sale order ids the merchant wrote in a purchase remark, in the order written."""
    if not remark:
        return []
    found: list[tuple[int, str]] = [(m.start(), m.group()) for m in PDD_ORDER_SN.finditer(remark)]
    found += [(m.start(), m.group()) for m in TAOBAO_TID.finditer(remark)]
    out: list[str] = []
    for _, value in sorted(found):
        if value not in out:
            out.append(value)
    return out


def recipient_key(name: str | None, phone: str | None) -> str | None:
    """``name:tail4``: the recipient's name without spaces and the last four digits of the phone."""
    name = re.sub(r"\s+", "", name or "")
    if not name:
        return None
    digits = re.sub(r"\D", "", phone or "")
    return f"{name}:{digits[-4:]}" if digits else name


def sku_key(color: str | None, size: str | None) -> str:
    """``colour/size`` lower-cased without spaces: what a sale SKU and a stall SKU have in common."""
    return "/".join(re.sub(r"\s+", "", v or "").lower() for v in (color, size))


def _time(value: str | None) -> datetime | None:
    return row_time(value).astimezone(UTC) if value else None


def _fen(value: str | None) -> int | None:
    return yuan_to_fen(value) if value else None


def items_of(order_payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The order's lines as the facts, eligibility and chain modules read them."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    order_id = order_payload["order_id"]
    for row in order_payload.get("rows") or []:
        base = (
            row.get("line_id")
            or f"{order_id}:{row.get('style_no', '')}:{row.get('color', '')}:{row.get('size', '')}"
        )
        line_id, n = base, 1
        while line_id in seen:
            n += 1
            line_id = f"{base}#{n}"
        seen.add(line_id)
        status = row.get("line_status") or ""
        item_status = row.get("item_status") or ""
        items.append(
            {
                "line_id": line_id,
                "style_no": row.get("style_no") or "",
                "title": row.get("title") or "",
                "color": row.get("color") or "",
                "size": row.get("size") or "",
                "category": row.get("category") or "",
                "stall": row.get("stall") or "",
                "quantity": int(row.get("quantity") or 0),
                "unit_price_fen": _fen(row.get("unit_price")) or 0,
                "current_price_fen": _fen(row.get("current_price")),
                "delisted": any(w in item_status or w in status for w in DISCONTINUED),
                "special_price": row.get("special_price") == "1" or "特价" in (row.get("title") or ""),
                "line_status": status,
            }
        )
    return items


def order_facts_of(order_payload: Mapping[str, Any]) -> tuple[OrderStatus, str, dict[str, Any]]:
    """The order's hub status, its raw status, and the facts the rules and the chain read."""
    rows: Sequence[Mapping[str, str]] = order_payload.get("rows") or []
    first = rows[0] if rows else {}
    raw = (first.get("status") or "").strip()
    warnings: list[str] = []
    shipped_at = _time(first.get("shipped_at"))
    status = ORDER_STATUS.get(raw)
    if status is None:
        status = OrderStatus.SHIPPED if shipped_at else OrderStatus.PAID
        warnings.append(f"unknown 17网 order status {raw!r}: kept raw, read as {status.value}")
    items = items_of(order_payload)
    out_of_stock = (
        raw in OUT_OF_STOCK or raw == "部分缺货" or any(i["line_status"] in OUT_OF_STOCK for i in items)
    )
    discontinued = any(i["delisted"] for i in items)
    option = first.get("ship_option") or ""
    extensions = [e for e in order_payload.get("ledger") or [] if e.get("action") == "extend_receipt"]
    facts: dict[str, Any] = {
        "stalls": sorted({i["stall"] for i in items if i["stall"]}),
        "items": items,
        "out_of_stock": out_of_stock,
        "ship_available_after_3d": "三天" in option and "先发" in option,
        "ship_option": option or None,
        "discontinued": discontinued,
        "receipt_extended": bool(extensions),
        # what was paid on top of the goods: 17网 refunds the goods only, at the stall's price
        "postage_fen": _fen(first.get("postage")),
        "service_fee_fen": _fen(first.get("service_fee")),
    }
    if shipped_at:
        due = shipped_at + AUTO_CONFIRM_AFTER
        if extensions:
            days = int((extensions[0].get("params") or {}).get("days") or 7)
            facts["receipt_extension_days"] = days
            due += min(timedelta(days=days), EXTENSION_MAX)
        facts["auto_confirm_at"] = due.isoformat()
    if warnings:
        facts["warnings"] = warnings
    return status, raw, facts


def map_purchase(payload: Mapping[str, Any], updated_at: datetime) -> Order:
    rows: Sequence[Mapping[str, str]] = payload.get("rows") or []
    if not rows:
        raise MappingError("the purchase has no export rows", field="rows")
    first = rows[0]
    status, raw, facts = order_facts_of(payload)
    created_at = _time(first.get("created_at"))
    if created_at is None:
        raise MappingError("no order time", field="created_at (下单时间)")
    items = facts["items"]
    lines = tuple(
        OrderLine(
            external_id=i["line_id"],
            title=i["title"] or i["style_no"],
            sku_id=i["style_no"] or None,
            sku_name="/".join(v for v in (i["color"], i["size"]) if v) or None,
            quantity=i["quantity"],
            unit_price_fen=i["unit_price_fen"],
            paid_fen=i["unit_price_fen"] * i["quantity"],
            status=i["line_status"] or None,
        )
        for i in items
    )
    goods = sum(line.paid_fen for line in lines)
    fees = (_fen(first.get("service_fee")) or 0) + (_fen(first.get("postage")) or 0)
    paid_total = _fen(first.get("paid_total"))
    rkey = recipient_key(first.get("recipient"), first.get("phone"))
    day = created_at.astimezone(CST).date().isoformat()
    skus = tuple(dict.fromkeys(sku_key(i["color"], i["size"]) for i in items if i["color"] or i["size"]))
    remark = first.get("remark") or None
    sale_ids = sale_ids_in(remark)
    if sale_ids:
        links = tuple(
            OrderLink(sale_external_id=s, recipient_key=rkey, sku_keys=skus, day=day) for s in sale_ids
        )
    elif rkey:
        links = (OrderLink(recipient_key=rkey, sku_keys=skus, day=day),)
    else:
        links = ()
    completed_at = (
        _time(first.get("completed_at")) if status in (OrderStatus.COMPLETED, OrderStatus.CLOSED) else None
    )
    warnings = tuple(facts.pop("warnings", ()))
    return Order(
        warnings=warnings,
        external_id=payload["order_id"],
        role=OrderRole.PURCHASE,
        status=status,
        platform_status=raw,
        created_at=created_at,
        updated_at=updated_at,
        buyer=None,
        recipient_key=rkey,
        total_fen=paid_total if paid_total is not None else goods + fees,
        paid_fen=paid_total if paid_total is not None else (goods + fees if first.get("paid_at") else 0),
        paid_at=_time(first.get("paid_at")),
        shipped_at=_time(first.get("shipped_at")),
        completed_at=completed_at,
        waybill=first.get("waybill") or None,
        remark=remark,
        lines=lines,
        links=links,
        facts=facts,
    )


def _ledger_times(entries: Sequence[Mapping[str, Any]]) -> list[tuple[datetime, Mapping[str, Any]]]:
    return [(datetime.fromisoformat(e["at"]), e) for e in entries]


def return_state(payload: Mapping[str, Any]) -> ReturnState | None:
    """The return's state: the export row (17网's word at its time), then later ledger steps."""
    row: Mapping[str, str] | None = payload.get("row")
    entries = sorted(_ledger_times(payload.get("ledger") or []), key=lambda t: (t[0], t[1].get("seq", 0)))
    state: ReturnState | None = None
    after = entries
    if row:
        stage, warning = stage_from_export(row.get("status") or "")
        signed = _time(row.get("daifa_signed_at"))
        terminal = stage in (Stage.ACCEPTED, Stage.REFUSED, Stage.SENT_BACK, Stage.CANCELLED)
        refund = _fen(row.get("refund_amount"))
        state = ReturnState(
            stage=stage,
            platform_status=(row.get("status") or "").strip(),
            applied=True,
            applied_at=_time(row.get("applied_at")),
            return_address=row.get("return_address") or None,
            waybill=row.get("return_waybill") or None,
            courier=row.get("return_courier") or None,
            daifa_signed_at=signed,
            result_at=_time(row.get("completed_at")) if terminal else None,
            refund_fen=refund if stage in (Stage.ACCEPTED, Stage.REFUNDING) else None,
            warnings=(warning,) if warning else (),
            facts={
                k: row[k]
                for k in ("reason", "quantity", "condition", "style_no", "color", "size", "type")
                if row.get(k)
            },
        )
        exported = datetime.fromisoformat(payload["export_updated_at"])
        before = [(at, e) for at, e in entries if at <= exported]
        after = [(at, e) for at, e in entries if at > exported]
        # Steps reported before this export are already in 17网's status; keep what the export
        # does not carry (the return address, the recall flag).
        for _, e in before:
            params = e.get("params") or {}
            if e["action"] == "daifa_agreed" and not state.return_address:
                state = _with(state, return_address=params.get("return_address"))
            if e["action"] == "enter_return_waybill":
                state = _with(
                    state,
                    mid_way_recall=bool(params.get("mid_way_recall")),
                    waybill=state.waybill or params.get("waybill"),
                )
    return replay(state, after)


def _with(state: ReturnState, **changes: Any) -> ReturnState:
    return replace(state, **changes)


def order_facts_for_steps(order_payload: Mapping[str, Any] | None) -> OrderFacts | None:
    if not order_payload:
        return None
    status, _, facts = order_facts_of(order_payload)
    first = (order_payload.get("rows") or [{}])[0]
    auto = facts.get("auto_confirm_at")
    return OrderFacts(
        order_id=order_payload["order_id"],
        status=status.value,
        outbound_waybill=first.get("waybill") or None,
        shipped_at=_time(first.get("shipped_at")),
        auto_confirm_at=datetime.fromisoformat(auto) if auto else None,
        receipt_extended=bool(facts.get("receipt_extended")),
    )


KIND_TEXT: Mapping[str, AfterSaleKind] = {
    "退货退款": AfterSaleKind.RETURN_REFUND,
    "退货": AfterSaleKind.RETURN_REFUND,
    "仅退款": AfterSaleKind.REFUND_ONLY,
    "退款": AfterSaleKind.REFUND_ONLY,
}
NO_EXCHANGE = "17网暂不支持换货：这笔申请按退货处理，换的货请在17网重新下单"


def map_return(payload: Mapping[str, Any], updated_at: datetime) -> AfterSale:
    row: Mapping[str, str] | None = payload.get("row")
    order_id = (payload.get("order_id") or "").strip()
    if not order_id:
        raise MappingError("the after-sales row names no 17网 order", field="order_id (订单号)")
    state = return_state(payload)
    if state is None:  # a ledger-only record always has at least one entry
        raise MappingError("no export row and no recorded step", field="row")
    facts: dict[str, Any] = dict(state.facts)
    warnings = list(state.warnings)
    type_text = str(facts.pop("type", "") or "").strip()
    kind = AfterSaleKind.RETURN_REFUND
    if type_text:
        if "换" in type_text:
            warnings.append(NO_EXCHANGE)
            facts["exchange_requested"] = True
        elif type_text in KIND_TEXT:
            kind = KIND_TEXT[type_text]
        else:
            warnings.append(f"unknown 17网 after-sales type {type_text!r}: kept raw, read as a return")
    raw_qty = facts.get("quantity")
    quantity = int(raw_qty) if raw_qty not in (None, "") else None
    if quantity is not None and quantity <= 0:
        raise MappingError(
            f"return quantity {quantity} is not a positive number", field="quantity (退货数量)"
        )

    order_payload = payload.get("order")
    item: dict[str, Any] | None = None
    if order_payload:
        o_status, _, o_facts = order_facts_of(order_payload)
        candidates = [
            i
            for i in o_facts["items"]
            if all(not facts.get(k) or i[k] == facts.get(k) for k in ("style_no", "color", "size"))
        ]
        item = candidates[0] if candidates else None
        facts.update(
            {
                "order_status": o_status.value,
                "order_completed": o_status is OrderStatus.COMPLETED,
                "receipt_extended": o_facts["receipt_extended"],
            }
        )
        if o_facts.get("auto_confirm_at"):
            facts["auto_confirm_at"] = o_facts["auto_confirm_at"]
        first = (order_payload.get("rows") or [{}])[0]
        if first.get("waybill"):
            facts["outbound_waybill"] = first["waybill"]
        if first.get("shipped_at"):
            facts["order_shipped_at"] = _time(first["shipped_at"]).isoformat()  # type: ignore[union-attr]
    if quantity is None:
        quantity = item["quantity"] if item else 1
    facts["quantity"] = quantity
    paid_fen = item["unit_price_fen"] * quantity if item else None
    if item:
        facts["line"] = {k: item[k] for k in ("style_no", "color", "size", "category", "title", "stall")}
        # the stall's current price, never more than was paid
        facts["expected_refund_fen"] = Item.from_fact(item).refund_unit_fen * quantity
        facts["current_price_known"] = item["current_price_fen"] is not None
    facts.update(
        {
            "stage": state.stage.value,
            "applied": state.applied,
            "mid_way_recall": state.mid_way_recall,
        }
    )
    for name in (
        "applied_at",
        "agreed_at",
        "waybill_entered_at",
        "daifa_signed_at",
        "result_at",
        "unclaimed_since",
    ):
        value = getattr(state, name)
        if value is not None:
            facts[name] = value.astimezone(UTC).isoformat()
    if state.return_address:
        facts["return_address"] = state.return_address
    if state.courier:
        facts["return_courier"] = state.courier
    if state.refused_reason:
        facts["refused_reason"] = state.refused_reason
    since = stage_entered_at(state)
    if since is not None:
        # when the case entered its status, from 17网's own times or the recorded step: the
        # clocks that run from it never move with a later export or step
        facts["status_since"] = since.astimezone(UTC).isoformat()
    created = state.applied_at or state.daifa_signed_at
    if created is None:
        entries = payload.get("ledger") or []
        created = datetime.fromisoformat(entries[0]["at"]) if entries else updated_at
    return AfterSale(
        external_id=payload["return_id"],
        order_external_id=order_id,
        kind=kind,
        status=state_status(state),
        platform_status=state.platform_status or state.stage.value,
        created_at=created.astimezone(UTC),
        updated_at=updated_at,
        line_external_id=item["line_id"] if item else None,
        reason=(row or {}).get("reason") or facts.get("reason") or None,
        # the amount asked for (hub's model): what 17网 will refund, i.e. the stall's accepted refund
        # once known, else the goods at the stall's current price; paid_fen is what the goods cost
        refund_fen=state.refund_fen
        if state.refund_fen is not None
        else int(facts.get("expected_refund_fen") or 0),
        paid_fen=paid_fen,
        description=(row or {}).get("note") or None,
        return_waybill=state.waybill,
        facts=facts,
        warnings=tuple(warnings),
    )


def stage_entered_at(state: ReturnState) -> datetime | None:
    """When the return entered its current hub status, when 17网's data or a step says so."""
    status = STAGE_STATUS[state.stage]
    if status is AfterSaleStatus.REQUESTED:
        return state.applied_at
    if status is AfterSaleStatus.AWAITING_RETURN:
        return state.agreed_at
    if status is AfterSaleStatus.RETURN_SHIPPED:
        if state.stage is Stage.UNCLAIMED:
            return state.daifa_signed_at
        return state.waybill_entered_at
    if status in (AfterSaleStatus.SELLER_REFUSED, AfterSaleStatus.REFUNDING):
        return state.result_at
    return None


def state_status(state: ReturnState) -> AfterSaleStatus:
    return STAGE_STATUS[state.stage]


def map_raw(resource: str, payload: Mapping[str, Any], updated_at: datetime | None) -> Order | AfterSale:
    if updated_at is None:
        raise MappingError("the record has no updated_at", field="updated_at")
    try:
        if resource == PURCHASE:
            return map_purchase(payload, updated_at)
        if resource == PURCHASE_RETURN:
            return map_return(payload, updated_at)
    except MappingError:
        raise
    except (KeyError, ValueError, TypeError) as err:
        raise MappingError(
            f"malformed {resource} record: {err!r}", field=str(err) if isinstance(err, KeyError) else None
        ) from err
    raise MappingError(f"unknown resource {resource!r}", field="resource")
