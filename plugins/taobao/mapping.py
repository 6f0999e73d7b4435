"""Pure mapping of TOP records (trades, refunds, Tmall disputes) to hub's unified model.

No IO. Field names and enum values are TOP's own (the trade, refund and Tmall dispute models of
the TOP API documentation). Unknown enum values are kept raw (``platform_status``, ``facts``) and mapped to a
safe default with a warning; a record that cannot be mapped raises :class:`MappingError` naming
the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.clock import CST, parse_cst
from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Dispute,
    DisputeKind,
    DisputeStatus,
    Order,
    OrderLine,
    OrderStatus,
    PlatformDeadline,
)
from hub.errors import MappingError
from hub.money import yuan_to_fen

# --- trades (TOP trade status enum) -------------------------------------------------------------

TRADE_STATUS: Mapping[str, OrderStatus] = {
    "TRADE_NO_CREATE_PAY": OrderStatus.PENDING_PAYMENT,
    "WAIT_BUYER_PAY": OrderStatus.PENDING_PAYMENT,
    "PAY_PENDING": OrderStatus.PENDING_PAYMENT,  # 国际信用卡支付付款确认中
    "WAIT_PRE_AUTH_CONFIRM": OrderStatus.PENDING_PAYMENT,  # 0元购合约中: nothing paid yet
    "WAIT_SELLER_SEND_GOODS": OrderStatus.PAID,
    "PAID_FORBID_CONSIGN": OrderStatus.PAID,  # paid, shipping forbidden for now
    "SELLER_CONSIGNED_PART": OrderStatus.SHIPPED,  # part shipped: the rest still counts as unshipped (rules)
    "WAIT_BUYER_CONFIRM_GOODS": OrderStatus.SHIPPED,
    "TRADE_BUYER_SIGNED": OrderStatus.SHIPPED,  # 货到付款 signed, not yet finished
    "TRADE_FINISHED": OrderStatus.COMPLETED,
    "TRADE_CLOSED": OrderStatus.CLOSED,  # closed after payment: refunded
    "TRADE_CLOSED_BY_TAOBAO": OrderStatus.CANCELLED,  # closed before payment
}
#: TOP's Chinese meaning of each trade status (shown beside the raw code).
TRADE_STATUS_ZH: Mapping[str, str] = {
    "TRADE_NO_CREATE_PAY": "没有创建支付宝交易",
    "WAIT_BUYER_PAY": "等待买家付款",
    "SELLER_CONSIGNED_PART": "卖家部分发货",
    "WAIT_SELLER_SEND_GOODS": "等待卖家发货，即：买家已付款",
    "WAIT_BUYER_CONFIRM_GOODS": "等待买家确认收货，即：卖家已发货",
    "TRADE_BUYER_SIGNED": "买家已签收，货到付款专用",
    "TRADE_FINISHED": "交易成功",
    "TRADE_CLOSED": "付款以后用户退款成功，交易自动关闭",
    "TRADE_CLOSED_BY_TAOBAO": "付款以前，卖家或买家主动关闭交易",
    "PAY_PENDING": "国际信用卡支付付款确认中",
    "WAIT_PRE_AUTH_CONFIRM": "0元购合约中",
    "PAID_FORBID_CONSIGN": "拼团中订单或者发货强管控的订单，已付款但禁止发货",
}
#: Statuses in which the seller still owes a shipment (docs/rules/taobao.md#taobao.late_shipment_72h).
UNSHIPPED_TRADE_STATUSES = frozenset({"WAIT_SELLER_SEND_GOODS", "SELLER_CONSIGNED_PART"})
#: A trade in one of these holds an after-sales case when a sub-order has an open refund.
_REFUNDABLE_ORDER_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED})

# --- refunds (TOP refund status enum) -----------------------------------------------------------

REFUND_STATUS: Mapping[str, AfterSaleStatus] = {
    "WAIT_SELLER_AGREE": AfterSaleStatus.REQUESTED,
    "WAIT_BUYER_RETURN_GOODS": AfterSaleStatus.AWAITING_RETURN,
    "WAIT_SELLER_CONFIRM_GOODS": AfterSaleStatus.RETURN_SHIPPED,
    "SELLER_REFUSE_BUYER": AfterSaleStatus.SELLER_REFUSED,
    "CLOSED": AfterSaleStatus.CLOSED,
    "SUCCESS": AfterSaleStatus.SUCCEEDED,
    # exchange statuses (refunds.receive.get status filter doc)
    "WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS": AfterSaleStatus.RESHIPPED,
    "EXCHANGE_TRANSFORM_TO_REFUND": AfterSaleStatus.CLOSED,  # exchange closed, turned into a refund
    "WAIT_SELLER_CONSIGN_GOODS": AfterSaleStatus.AWAITING_RESHIP,
}
#: TOP's Chinese meaning of each refund status.
REFUND_STATUS_ZH: Mapping[str, str] = {
    "WAIT_SELLER_AGREE": "买家已经申请退款，等待卖家同意",
    "WAIT_BUYER_RETURN_GOODS": "卖家已经同意退款，等待买家退货",
    "WAIT_SELLER_CONFIRM_GOODS": "买家已经退货，等待卖家确认收货",
    "SELLER_REFUSE_BUYER": "卖家拒绝退款",
    "CLOSED": "退款关闭",
    "SUCCESS": "退款成功",
    "WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS": "等待买家确认换货卖家发货商品",
    "EXCHANGE_TRANSFORM_TO_REFUND": "换货关闭转退款",
    "WAIT_SELLER_CONSIGN_GOODS": "商家确认收货等待商家发货",
}
#: ``order.refund_status`` values meaning an after-sales case is open on the line.
OPEN_REFUND_STATUSES = frozenset(
    {
        "WAIT_SELLER_AGREE",
        "WAIT_BUYER_RETURN_GOODS",
        "WAIT_SELLER_CONFIRM_GOODS",
        "SELLER_REFUSE_BUYER",
        "WAIT_SELLER_CONSIGN_GOODS",
        "WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS",
    }
)
#: Known ``order.refund_status`` values that are not open: terminal ones and the undocumented
#: but widely seen ``NO_REFUND`` (not in TOP's enum comment; client code uses it).
_QUIET_REFUND_STATUSES = frozenset({"NO_REFUND", "CLOSED", "SUCCESS", "EXCHANGE_TRANSFORM_TO_REFUND"})
_RETURN_STATUSES = frozenset({"WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS"})

DISPUTE_TYPE_KIND: Mapping[str, AfterSaleKind] = {
    "REFUND": AfterSaleKind.REFUND_ONLY,
    "REFUND_AND_RETURN": AfterSaleKind.RETURN_REFUND,
    "TMALL_EXCHANGE": AfterSaleKind.EXCHANGE,
    "TAOBAO_EXCHANGE": AfterSaleKind.EXCHANGE,
    "REPAIR": AfterSaleKind.REPAIR,
    "RESHIPPING": AfterSaleKind.RESHIP,
}
#: ``special_refund_type``: 价保 / 退差返现 are partial refunds without a return (补偿).
SPECIAL_REFUND_COMPENSATION = frozenset({"priceProtect", "cashBack"})

#: ``cs_status`` (客服介入), TOP refund field. ``None``: no intervention; 6 and 11 are
#: resolved from the refund's own status (see :func:`intervention`).
CS_STATUS: Mapping[int, DisputeStatus | None] = {
    1: None,  # 不需客服介入
    2: DisputeStatus.OPEN,  # 需要客服介入
    3: DisputeStatus.UNDER_REVIEW,  # 客服已经介入
    4: DisputeStatus.UNDER_REVIEW,  # 客服初审完成
    5: DisputeStatus.UNDER_REVIEW,  # 客服主管复审失败
    7: DisputeStatus.WITHDRAWN,  # 系统撤销 / 维权撤销
    8: DisputeStatus.RULED_FOR_BUYER,  # 支持买家
    9: DisputeStatus.RULED_FOR_SELLER,  # 支持卖家
    10: DisputeStatus.EVIDENCE_REQUIRED,  # 举证中
}
CS_STATUS_ZH: Mapping[int, str] = {
    1: "不需客服介入",
    2: "需要客服介入",
    3: "客服已经介入",
    4: "客服初审完成",
    5: "客服主管复审失败",
    6: "客服处理完成",
    7: "系统撤销/维权撤销",
    8: "支持买家",
    9: "支持卖家",
    10: "举证中",
    11: "开放申诉",
}

#: Reasons that make a request a 7-day no-reason return (the seller has no refuse button:
#: docs/rules/taobao.md#taobao.no_refuse_no_reason).
NO_REASON_MARKERS = ("七天无理由", "7天无理由")

# --- Tmall disputes (TOP tmall.dispute.receive.get) ---------------------------------------------

DISPUTE_REFUND_STATUS: Mapping[str, AfterSaleStatus] = {
    "1": AfterSaleStatus.REQUESTED,  # 买家已经申请退款，等待卖家同意
    "2": AfterSaleStatus.AWAITING_RETURN,  # 卖家已经同意退款，等待买家退货
    "3": AfterSaleStatus.RETURN_SHIPPED,  # 买家已经退货，等待卖家确认收货
    "4": AfterSaleStatus.CLOSED,  # 退款关闭
    "5": AfterSaleStatus.SUCCEEDED,  # 退款成功
    "6": AfterSaleStatus.SELLER_REFUSED,  # 卖家拒绝退款
    "7": AfterSaleStatus.RESHIPPED,  # 等待买家确认重新邮寄的货物
    "8": AfterSaleStatus.REQUESTED,  # 等待卖家确认退货地址: the seller acts
}
DISPUTE_EXCHANGE_STATUS: Mapping[str, AfterSaleStatus] = {
    "1": AfterSaleStatus.REQUESTED,  # 换货待处理
    "2": AfterSaleStatus.AWAITING_RETURN,  # 待买家退货
    "3": AfterSaleStatus.RETURN_SHIPPED,  # 买家已退货，待收货
    "4": AfterSaleStatus.CLOSED,  # 换货关闭
    "5": AfterSaleStatus.SUCCEEDED,  # 换货成功
    "6": AfterSaleStatus.SELLER_REFUSED,  # 待买家修改: the buyer must change the request
    "12": AfterSaleStatus.AWAITING_RESHIP,  # 待发出换货商品
    "13": AfterSaleStatus.RESHIPPED,  # 待买家收货
    "14": AfterSaleStatus.REFUNDING,  # 请退款: the exchange turns into a refund
}
#: TOP's Chinese meaning of the numeric dispute statuses, per table.
DISPUTE_REFUND_STATUS_ZH: Mapping[str, str] = {
    "1": "买家已经申请退款，等待卖家同意",
    "2": "卖家已经同意退款，等待买家退货",
    "3": "买家已经退货，等待卖家确认收货",
    "4": "退款关闭",
    "5": "退款成功",
    "6": "卖家拒绝退款",
    "7": "等待买家确认重新邮寄的货物",
    "8": "等待卖家确认退货地址",
}
DISPUTE_EXCHANGE_STATUS_ZH: Mapping[str, str] = {
    "1": "换货待处理",
    "2": "待买家退货",
    "3": "买家已退货，待收货",
    "4": "换货关闭",
    "5": "换货成功",
    "6": "待买家修改",
    "12": "待发出换货商品",
    "13": "待买家收货",
    "14": "请退款",
}
DISPUTE_REQUEST_KIND: Mapping[str, AfterSaleKind] = {
    "仅退款": AfterSaleKind.REFUND_ONLY,
    "退货退款": AfterSaleKind.RETURN_REFUND,
    "换货": AfterSaleKind.EXCHANGE,
}


# --- small readers -------------------------------------------------------------------------------


def _text(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _required_text(payload: Mapping[str, Any], *names: str) -> str:
    for name in names:
        text = _text(payload, name)
        if text is not None:
            return text
    raise MappingError("is missing", field=names[0])


def _time(payload: Mapping[str, Any], name: str, *, required: bool = False) -> datetime | None:
    text = _text(payload, name)
    if text is None:
        if required:
            raise MappingError("is missing", field=name)
        return None
    try:
        return parse_cst(text)
    except ValueError as err:
        raise MappingError(f"not a yyyy-MM-dd HH:mm:ss time: {text!r}", field=name) from err


def _fen(payload: Mapping[str, Any], name: str, default: int | None = 0) -> int | None:
    value = payload.get(name)
    if value is None or value == "":
        return default
    try:
        return yuan_to_fen(value)
    except ValueError as err:
        raise MappingError(f"not an amount in yuan: {value!r}", field=name) from err


def _int(payload: Mapping[str, Any], name: str, default: int | None = None) -> int | None:
    value = payload.get(name)
    if value is None or value == "":
        return default
    try:
        return int(str(value).strip())
    except ValueError as err:
        raise MappingError(f"not an integer: {value!r}", field=name) from err


def _bool(payload: Mapping[str, Any], name: str) -> bool | None:
    value = payload.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise MappingError(f"not a boolean: {value!r}", field=name)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _list(value: Any, element: str, field_name: str) -> list[Mapping[str, Any]]:
    """A TOP list in either JSON shape: ``{"order": [...]}`` or simplified ``[...]``."""
    if value is None or value == "":
        return []
    if isinstance(value, Mapping):
        if element in value:
            return _list(value[element], element, field_name)
        return [value] if value else []
    if isinstance(value, list):
        if not all(isinstance(v, Mapping) for v in value):
            raise MappingError(f"{element} entries must be objects", field=field_name)
        return list(value)
    raise MappingError(f"not a list of {element}", field=field_name)


# --- trades ----------------------------------------------------------------------------------------


def map_trade(payload: Mapping[str, Any]) -> Order:
    """A TOP trade (increment list or ``trade.fullinfo.get``) as an :class:`Order`."""
    tid = _required_text(payload, "tid_str", "tid")
    raw_status = _required_text(payload, "status")
    warnings: list[str] = []
    status = TRADE_STATUS.get(raw_status)
    if status is None:
        status = OrderStatus.PAID
        warnings.append(
            f"未知的交易状态 {raw_status!r}，暂按已付款显示 (unknown trade status: shown as paid)"
        )
    orders = _list(payload.get("orders"), "order", "orders")
    lines = tuple(_map_line(o, i) for i, o in enumerate(orders))
    open_refund = False
    for line in lines:
        rs = line.refund_status
        if rs in OPEN_REFUND_STATUSES:
            open_refund = True
        elif rs is not None and rs not in _QUIET_REFUND_STATUSES:
            warnings.append(f"子订单 {line.external_id} 的退款状态 {rs!r} 未知 (unknown refund_status)")
    if open_refund and status in _REFUNDABLE_ORDER_STATUSES:
        # An after-sales case holds the order (Taobao: an order under after-sales completes only
        # when the after-sales completes).
        status = OrderStatus.REFUNDING
    created = _time(payload, "created", required=True)
    modified = _time(payload, "modified", required=True)
    assert created is not None and modified is not None
    paid_at = _time(payload, "pay_time")
    shipped_at = _time(payload, "consign_time")
    end_time = _time(payload, "end_time")
    step_status = _text(payload, "step_trade_status")
    trade_type = _text(payload, "type")
    waybill = next((_text(o, "invoice_no") for o in orders if _text(o, "invoice_no")), None)
    presale = bool(step_status) or trade_type == "step"
    trace = logistics_trace(payload)
    completed_at = end_time if raw_status == "TRADE_FINISHED" else None
    facts: dict[str, Any] = {
        # the workbench shows ``platform_status_label`` beside the raw status (hub/web/present.py)
        "platform_status_label": TRADE_STATUS_ZH.get(raw_status),
        "trade_type": trade_type,
        "presale": presale,
        "step_trade_status": step_status,
        "unshipped": raw_status in UNSHIPPED_TRADE_STATUSES,
        "open_refund": open_refund,
        "timeout_action_time": _iso(_time(payload, "timeout_action_time")),
        "shipping_type": _text(payload, "shipping_type"),
        "seller_flag": _int(payload, "seller_flag"),
        # the ship-by time the listing promised (docs/rules/taobao.md#taobao.ship_promised)
        "ship_by": _iso(promised_ship_by(payload, paid_at, presale)),
        "consign_interval_hours": _int(payload, "consign_interval"),
        "completed_at": _iso(completed_at),
        # 退货运费险: TOP says whether the trade carries return-freight insurance
        "has_yfx": _bool(payload, "has_yfx"),
        "yfx_fee_fen": _fen(payload, "yfx_fee", None),
        "custom_made": any(_text(o, "customization") for o in orders) or None,
        # lines already refunded (极速退款 included) in a trade still to ship: they must not go out
        "refunded_lines": [
            line.external_id
            for line in lines
            if raw_status in UNSHIPPED_TRADE_STATUSES
            and (line.refund_status == "SUCCESS" or line.status == "TRADE_CLOSED")
        ]
        or None,
        "post_fee_fen": _fen(payload, "post_fee", None),
        # listing and category ids: the 7-day eligibility insight checks them against shop settings
        "item_ids": sorted({t for o in orders if (t := _text(o, "num_iid"))}) or None,
        "category_ids": sorted({t for o in orders if (t := _text(o, "cid"))}) or None,
        "trace_read": trace is not None or None,
        "collected_at": _iso(trace.collected_at) if trace else None,
        "signed_at": _iso(trace.signed_at) if trace else None,
    }
    return Order(
        warnings=tuple(warnings),
        external_id=tid,
        status=status,
        platform_status=raw_status,
        created_at=created,
        updated_at=modified,
        buyer=_text(payload, "buyer_nick") or _text(payload, "buyer_open_uid"),
        total_fen=_fen(payload, "total_fee") or 0,
        paid_fen=_fen(payload, "payment") or 0,
        paid_at=paid_at,
        shipped_at=shipped_at,
        signed_at=trace.signed_at if trace else None,
        completed_at=completed_at,
        waybill=waybill,
        remark=_text(payload, "seller_memo"),
        lines=lines,
        facts={k: v for k, v in facts.items() if v is not None},
    )


def promised_ship_by(payload: Mapping[str, Any], paid_at: datetime | None, presale: bool) -> datetime | None:
    """The ship-by time the listing promised, when TOP states one.

    ``delivery_time`` (最晚发货时间) first; a bare date means the end of that Beijing day. Then
    ``consign_interval`` (物流发货时效, hours after payment), then a presale's ``send_time``
    (订单将在此时间前发出). ``None``: the 72-hour default applies.
    """
    text = _text(payload, "delivery_time")
    if text is not None:
        if len(text) == 10:
            try:
                day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=CST)
            except ValueError as err:
                raise MappingError(f"not a yyyy-MM-dd date: {text!r}", field="delivery_time") from err
            return (day + timedelta(days=1)).astimezone(UTC)
        return _time(payload, "delivery_time")
    hours = _int(payload, "consign_interval")
    if hours and paid_at is not None:
        return paid_at + timedelta(hours=hours)
    if presale:
        return _time(payload, "send_time")
    return None


@dataclass(frozen=True)
class Trace:
    """What the logistics trace (taobao.logistics.trace.search, merged by the adapter) says."""

    collected_at: datetime | None  #: the courier's pickup (揽收)
    signed_at: datetime | None  #: the logistics sign-for (签收): starts the 7-day window


#: ``action`` values of trace steps (节点说明: 揽收、派送、签收), and the words for them.
PICKUP_ACTIONS = frozenset({"GOT", "ACCEPT", "TMS_ACCEPT", "CONSIGN_GOT"})
SIGN_ACTIONS = frozenset({"SIGNED", "TMS_SIGN", "SIGN"})


def logistics_trace(payload: Mapping[str, Any]) -> Trace | None:
    """The pickup and sign-for times from ``logistics_trace`` (a list of transit steps), or ``None``
    when the adapter did not read the trace for this trade."""
    raw = payload.get("logistics_trace")
    if raw is None:
        return None
    steps = _list(raw, "transit_step_info", "logistics_trace")
    collected: datetime | None = None
    signed: datetime | None = None
    for i, step in enumerate(steps):
        action = (_text(step, "action") or "").upper()
        desc = _text(step, "status_desc") or ""
        try:
            at = _time(step, "status_time")
        except MappingError as err:
            raise MappingError(str(err), field=f"logistics_trace[{i}].status_time") from err
        if at is None:
            continue
        signed_step = action in SIGN_ACTIONS or ("签收" in desc and "待签收" not in desc)
        if signed_step:
            signed = at if signed is None else min(signed, at)
        if action in PICKUP_ACTIONS or "揽收" in desc or signed_step:
            collected = at if collected is None else min(collected, at)
    return Trace(collected_at=collected, signed_at=signed)


def _map_line(order: Mapping[str, Any], index: int) -> OrderLine:
    oid = _text(order, "oid_str") or _text(order, "oid")
    if oid is None:
        raise MappingError("is missing", field=f"orders[{index}].oid")
    try:
        paid = _fen(order, "payment")
        if order.get("divide_order_fee") not in (None, ""):
            paid = _fen(order, "divide_order_fee")  # 分摊之后的实付金额: the line's true share
        unit = _fen(order, "price")
        quantity = _int(order, "num", 1)
    except MappingError as err:
        raise MappingError(str(err), field=f"orders[{index}].{err.field}") from err
    return OrderLine(
        external_id=oid,
        title=_text(order, "title") or "",
        sku_id=_text(order, "sku_id") or _text(order, "outer_sku_id"),
        sku_name=_text(order, "sku_properties_name"),
        quantity=quantity or 1,
        unit_price_fen=unit or 0,
        paid_fen=paid or 0,
        status=_text(order, "status"),
        refund_status=_text(order, "refund_status"),
    )


# --- refunds ---------------------------------------------------------------------------------------


def refund_kind(payload: Mapping[str, Any], warnings: list[str]) -> AfterSaleKind:
    """``dispute_type`` first; without it, ``has_good_return``; a return status implies a return."""
    raw_status = _text(payload, "status") or ""
    dispute_type = _text(payload, "dispute_type")
    has_return = _bool(payload, "has_good_return")
    special = _text(payload, "special_refund_type")
    kind: AfterSaleKind | None = None
    if special in SPECIAL_REFUND_COMPENSATION:
        kind = AfterSaleKind.COMPENSATION
    elif dispute_type is not None and dispute_type in DISPUTE_TYPE_KIND:
        kind = DISPUTE_TYPE_KIND[dispute_type]
    elif dispute_type not in (None, "OTHERS"):
        warnings.append(
            f"未知的退款类型 dispute_type {dispute_type!r}，按是否需要退货 (has_good_return) 判断 "
            "(unknown dispute_type)"
        )
    if kind is None:
        kind = AfterSaleKind.RETURN_REFUND if has_return else AfterSaleKind.REFUND_ONLY
    if kind is AfterSaleKind.REFUND_ONLY and raw_status in _RETURN_STATUSES:
        # Goods are travelling back, whatever the request said: treat it as a return.
        if dispute_type == "REFUND":
            warnings.append(
                f"仅退款 (dispute_type REFUND) 却处于退货状态 {raw_status}，按退货退款处理 "
                "(treated as a return)"
            )
        kind = AfterSaleKind.RETURN_REFUND
    return kind


def intervention(payload: Mapping[str, Any], refund_status: str, warnings: list[str]) -> Dispute | None:
    """``cs_status`` (客服介入) as a Dispute of kind ``intervention``, or ``None`` (1 or absent)."""
    cs = _int(payload, "cs_status")
    if cs is None or cs == 1:
        return None
    appeal_open = cs == 11
    status: DisputeStatus | None
    if cs in (6, 11):
        # 客服处理完成 / 开放申诉 do not say who won; the refund's own outcome does.
        if refund_status == "SUCCESS":
            status = DisputeStatus.RULED_FOR_BUYER
        elif refund_status in ("CLOSED", "SELLER_REFUSE_BUYER"):
            status = DisputeStatus.RULED_FOR_SELLER
        else:
            status = DisputeStatus.UNDER_REVIEW
    elif cs in CS_STATUS:
        status = CS_STATUS[cs]
    else:
        warnings.append(
            f"未知的客服介入状态 cs_status {cs}，暂按客服处理中显示 "
            "(unknown cs_status: shown as under review)"
        )
        status = DisputeStatus.UNDER_REVIEW
    if status is None:
        return None
    return Dispute(
        kind=DisputeKind.INTERVENTION,
        status=status,
        external_id=_text(payload, "refund_id"),
        platform_status=f"cs_status={cs}",
        updated_at=_time(payload, "modified"),
        appeal_open=appeal_open,
        note=CS_STATUS_ZH.get(cs),
    )


def remind_deadline(payload: Mapping[str, Any]) -> PlatformDeadline | None:
    """``refund_remind_timeout.timeout``: the platform's own deadline (it overrides the rules).

    ``remind_type`` has no documented meaning in TOP, so party, action and
    effect are left to the matching rule row.
    """
    remind = payload.get("refund_remind_timeout")
    if not isinstance(remind, Mapping):
        return None
    exists = _bool(remind, "exist_timeout")
    try:
        due = _time(remind, "timeout")
    except MappingError as err:
        raise MappingError(str(err), field=f"refund_remind_timeout.{err.field}") from err
    if due is None or exists is False:
        return None
    return PlatformDeadline(due_at=due)


def map_refund(payload: Mapping[str, Any]) -> AfterSale:
    """A TOP refund (list entry merged with ``taobao.refund.get`` detail) as an :class:`AfterSale`."""
    refund_id = _required_text(payload, "refund_id")
    tid = _required_text(payload, "tid")
    raw_status = _required_text(payload, "status")
    warnings: list[str] = []
    kind = refund_kind(payload, warnings)
    status = REFUND_STATUS.get(raw_status)
    if status is None:
        # Keep it in front of the seller (an open status) without inventing a deadline: the
        # rule rows match the raw WAIT_SELLER_AGREE, not this.
        status = AfterSaleStatus.REQUESTED
        warnings.append(
            f"未知的退款状态 {raw_status!r}，暂按待处理显示 (unknown refund status: shown as requested)"
        )
    created = _time(payload, "created", required=True)
    modified = _time(payload, "modified", required=True)
    assert created is not None and modified is not None
    dispute = intervention(payload, raw_status, warnings)
    if dispute is not None and dispute.status.is_open and status.is_open:
        status = AfterSaleStatus.PLATFORM_REVIEW
    reason = _text(payload, "reason")
    order_status = _text(payload, "order_status")
    good_status = _text(payload, "good_status")
    if good_status not in (None, "BUYER_NOT_RECEIVED", "BUYER_RECEIVED", "BUYER_RETURNED_GOODS"):
        warnings.append(f"未知的货物状态 good_status {good_status!r} (unknown good_status)")
    remind = payload.get("refund_remind_timeout")
    cs_status = _int(payload, "cs_status")
    facts: dict[str, Any] = {
        "platform_status_label": REFUND_STATUS_ZH.get(raw_status),
        "no_reason": bool(reason and any(m in reason for m in NO_REASON_MARKERS)),
        "operation_contraint": _text(payload, "operation_contraint"),
        "unshipped": order_status == "WAIT_SELLER_SEND_GOODS",
        "order_status": order_status,
        "order_status_label": TRADE_STATUS_ZH.get(order_status or ""),
        "good_status": good_status,
        "has_good_return": _bool(payload, "has_good_return"),
        "dispute_type": _text(payload, "dispute_type"),
        "refund_phase": _text(payload, "refund_phase"),
        "good_return_time": _iso(_time(payload, "good_return_time")),
        "return_company": _text(payload, "company_name"),
        "cs_status": cs_status,
        "cs_status_label": CS_STATUS_ZH.get(cs_status) if cs_status is not None else None,
        "advance_status": _int(payload, "advance_status"),
        "remind_type": _int(remind, "remind_type") if isinstance(remind, Mapping) else None,
        "not_received": good_status == "BUYER_NOT_RECEIVED" and kind is AfterSaleKind.REFUND_ONLY,
        "end_time": _iso(_time(payload, "end_time")),
        "status_unknown": raw_status not in REFUND_STATUS or None,
        # learnt by the adapter from the versions it saw (TOP states neither)
        "cs_since": _iso(_time(payload, "cs_since")),
        "requested_at": _iso(_time(payload, "requested_at")),
    }
    return AfterSale(
        external_id=refund_id,
        order_external_id=tid,
        line_external_id=_text(payload, "oid"),
        kind=kind,
        status=status,
        platform_status=raw_status,
        created_at=created,
        updated_at=modified,
        reason=reason,
        refund_fen=_fen(payload, "refund_fee") or 0,
        paid_fen=_fen(payload, "total_fee", None),
        buyer=_text(payload, "buyer_nick") or _text(payload, "buyer_open_uid"),
        description=_text(payload, "desc"),
        version=_int(payload, "refund_version"),
        return_waybill=_text(payload, "sid"),
        facts={k: v for k, v in facts.items() if v is not None},
        platform_deadline=remind_deadline(payload) if status.is_open else None,
        dispute=dispute,
        warnings=tuple(warnings),
    )


def is_exchange_dispute(payload: Mapping[str, Any]) -> bool:
    """Whether a ``tmall.dispute.receive.get`` entry is an exchange (换货)."""
    request = _text(payload, "dispute_request") or ""
    return "换货" in request or _text(payload, "dispute_type") in ("TMALL_EXCHANGE", "TAOBAO_EXCHANGE")


def map_dispute(payload: Mapping[str, Any]) -> AfterSale:
    """A Tmall reverse dispute (``tmall.dispute.receive.get``) as an :class:`AfterSale`.

    Its ``status`` is numeric text whose meaning depends on the dispute type: exchanges have
    their own table (1-6, 12-14) beside the refund one (1-8).
    """
    refund_id = _required_text(payload, "refund_id")
    order_id = _required_text(payload, "biz_order_id", "tid", "oid")
    raw_status = _required_text(payload, "status")
    warnings: list[str] = []
    request = _text(payload, "dispute_request")
    if is_exchange_dispute(payload):
        kind = AfterSaleKind.EXCHANGE
    elif request is not None and request in DISPUTE_REQUEST_KIND:
        kind = DISPUTE_REQUEST_KIND[request]
    else:
        if request is not None:
            warnings.append(
                f"未知的纠纷类型 dispute_request {request!r}，按是否需要退货 (has_good_return) 判断 "
                "(unknown dispute_request)"
            )
        kind = AfterSaleKind.RETURN_REFUND if _bool(payload, "has_good_return") else AfterSaleKind.REFUND_ONLY
    exchange = kind is AfterSaleKind.EXCHANGE
    table = DISPUTE_EXCHANGE_STATUS if exchange else DISPUTE_REFUND_STATUS
    labels = DISPUTE_EXCHANGE_STATUS_ZH if exchange else DISPUTE_REFUND_STATUS_ZH
    status = table.get(raw_status)
    if status is None:
        status = AfterSaleStatus.REQUESTED
        warnings.append(
            f"未知的纠纷状态 {raw_status!r}，暂按待处理显示 (unknown dispute status: shown as requested)"
        )
    created = _time(payload, "created", required=True)
    modified = _time(payload, "modified", required=True)
    assert created is not None and modified is not None
    due = _time(payload, "time_out")
    reason = _text(payload, "reason")
    order_status = _text(payload, "order_status")
    facts: dict[str, Any] = {
        "platform_status_label": labels.get(raw_status),
        "dispute_request": request,
        "no_reason": bool(reason and any(m in reason for m in NO_REASON_MARKERS)),
        "order_status": order_status,
        "order_status_label": TRADE_STATUS_ZH.get(order_status or ""),
        "unshipped": order_status == "WAIT_SELLER_SEND_GOODS",
        "good_status": _text(payload, "good_status"),
        "refund_phase": _text(payload, "refund_phase"),
        "good_return_time": _iso(_time(payload, "good_return_time")),
        "buyer_waybill": _text(payload, "buyer_logistic_no"),
        "buyer_logistics": _text(payload, "buyer_logistic_name"),
        "seller_waybill": _text(payload, "seller_logistic_no"),
        "seller_logistics": _text(payload, "seller_logistic_name"),
        "status_unknown": raw_status not in table or None,
    }
    return AfterSale(
        external_id=refund_id,
        order_external_id=order_id,
        line_external_id=_text(payload, "oid"),
        kind=kind,
        status=status,
        platform_status=raw_status,
        created_at=created,
        updated_at=modified,
        reason=reason,
        refund_fen=_fen(payload, "refund_fee") or 0,
        buyer=_text(payload, "buyer_nick") or _text(payload, "buyer_open_uid"),
        description=_text(payload, "desc"),
        return_waybill=_text(payload, "buyer_logistic_no"),
        facts={k: v for k, v in facts.items() if v is not None},
        platform_deadline=PlatformDeadline(due_at=due) if due is not None and status.is_open else None,
        warnings=tuple(warnings),
    )
