"""Pure mapping: PDD JSON → hub's Order and AfterSale. No IO, no clock.

Field names and enums are PDD's own (its order and after-sales API documentation). What PDD
sends is accepted in every documented shape: times as ``yyyy-MM-dd HH:mm:ss`` (Beijing) or epoch
seconds/milliseconds, numbers as strings, optional fields missing. An unknown enum value is kept
raw and mapped to a safe default with a warning; a record that cannot be mapped raises :class:`MappingError`.

An after-sales raw payload is the list row (``pdd.refund.list.increment.get``) with the detail
(``pdd.refund.information.get``) merged in under ``"detail"``; either may be missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.clock import parse_cst
from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Dispute,
    DisputeKind,
    DisputeStatus,
    OnExpiry,
    Order,
    OrderLine,
    OrderStatus,
    Party,
    PlatformDeadline,
)
from hub.errors import MappingError
from hub.money import yuan_to_fen

S = AfterSaleStatus


@dataclass(frozen=True)
class StatusCode:
    """One ``after_sales_status`` code: its Chinese label and the hub status it maps to."""

    code: int
    label: str
    status: AfterSaleStatus


#: Every documented ``after_sales_status`` (PDD's enum, identical in list, detail and
#: order APIs). 1 is "全部" in the request filter only; 19, 20, 23, 26, 28-30 are unused.
STATUS_CODES: dict[int, StatusCode] = {
    c.code: c
    for c in (
        StatusCode(0, "无售后", S.CLOSED),
        StatusCode(2, "买家申请退款，待商家处理", S.REQUESTED),
        StatusCode(3, "退货退款，待商家处理", S.REQUESTED),  # RETURN_SHIPPED once a return waybill exists
        StatusCode(4, "商家同意退款，退款中", S.REFUNDING),
        StatusCode(5, "平台同意退款，退款中", S.REFUNDING),
        StatusCode(6, "驳回退款，待买家处理", S.SELLER_REFUSED),
        StatusCode(7, "已同意退货退款,待用户发货", S.AWAITING_RETURN),
        StatusCode(8, "平台处理中", S.PLATFORM_REVIEW),
        StatusCode(9, "平台拒绝退款，退款关闭", S.CLOSED),
        StatusCode(10, "退款成功", S.SUCCEEDED),
        StatusCode(11, "买家撤销", S.CLOSED),
        StatusCode(12, "买家逾期未处理，退款失败", S.CLOSED),
        StatusCode(13, "买家逾期，超过有效期", S.CLOSED),
        StatusCode(14, "换货补寄待商家处理", S.REQUESTED),  # AWAITING_RESHIP once the goods came back
        StatusCode(15, "换货补寄待用户处理", S.AWAITING_RETURN),
        StatusCode(16, "换货补寄成功", S.SUCCEEDED),
        StatusCode(17, "换货补寄失败", S.CLOSED),
        StatusCode(18, "换货补寄待用户确认完成", S.RESHIPPED),
        StatusCode(21, "待商家同意维修", S.REQUESTED),
        StatusCode(22, "待用户确认发货", S.AWAITING_RETURN),
        StatusCode(24, "维修关闭", S.CLOSED),
        StatusCode(25, "维修成功", S.SUCCEEDED),
        StatusCode(27, "待用户确认收货", S.RESHIPPED),
        StatusCode(31, "已同意拒收退款，待用户拒收", S.AWAITING_RETURN),
        StatusCode(32, "补寄待商家发货", S.AWAITING_RESHIP),
        StatusCode(33, "同意召回后退款，待商家召回", S.RETURN_SHIPPED),
    )
}

#: The filter value meaning "every status" in the list request (2018 doc; [U] today).
STATUS_ALL = 1
#: Statuses in which PDD waits for the seller (the only ones with an ``expire_time``).
SELLER_PENDING = frozenset({2, 3, 14, 21, 32, 33})
#: Statuses where ``pdd.refund.agree`` / ``returngoods.agree`` are accepted.
AGREEABLE = frozenset({2, 3})

#: ``after_sales_type`` in the list API (the request numbering: 1 is "全部").
LIST_TYPES: dict[int, AfterSaleKind] = {
    2: AfterSaleKind.REFUND_ONLY,
    3: AfterSaleKind.RETURN_REFUND,
    4: AfterSaleKind.EXCHANGE,
    5: AfterSaleKind.RESHIP,  # 缺货补寄
    6: AfterSaleKind.REPAIR,
}
TYPE_ALL = 1
#: ``after_sales_type`` in ``pdd.refund.information.get`` (its own numbering, one lower).
DETAIL_TYPES: dict[int, AfterSaleKind] = {
    1: AfterSaleKind.REFUND_ONLY,
    2: AfterSaleKind.RETURN_REFUND,
    3: AfterSaleKind.EXCHANGE,
    4: AfterSaleKind.RESHIP,  # 补寄
    5: AfterSaleKind.REPAIR,
}

ORDER_STATUS = {1: "待发货", 2: "已发货待签收", 3: "已签收"}
ORDER_REFUND_STATUS = {1: "无售后或售后关闭", 2: "售后处理中", 3: "退款中", 4: "退款成功"}
CONFIRM_STATUS = {0: "未成交", 1: "已成交", 2: "已取消"}
GROUP_STATUS = {0: "拼团中", 1: "已成团", 2: "团失败"}

# Epoch values below this are doc placeholders ("1"), not times.
_MIN_EPOCH = 100_000_000


# ---------------------------------------------------------------------------------- primitives


def parse_time(value: Any, *, field: str) -> datetime | None:
    """A PDD time as aware UTC: ``yyyy-MM-dd HH:mm:ss`` (Beijing), epoch s or ms, int or string.

    Empty values (``None``, ``""``, ``0``) are ``None``; anything else unreadable raises.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value, field)
    text = str(value).strip()
    if text in ("", "0", "null"):
        return None
    if text.replace(".", "", 1).isdigit():
        return _from_epoch(float(text), field)
    try:
        return parse_cst(text[:19])
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise MappingError(f"not a time: {value!r}", field=field) from err
    if parsed.tzinfo is None:
        return parse_cst(parsed.strftime("%Y-%m-%d %H:%M:%S"))
    return parsed.astimezone(UTC)


def _from_epoch(value: float, field: str) -> datetime | None:
    if value <= 0:
        return None
    seconds = value / 1000 if value > 10**11 else value  # PDD mixes seconds and milliseconds
    if seconds < _MIN_EPOCH:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise MappingError(f"not a time: {value!r}", field=field) from err


def parse_int(value: Any, *, field: str) -> int | None:
    """An integer PDD may send as a number or a string; ``None`` when absent."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, float) else int(str(value).strip())
    except ValueError as err:
        raise MappingError(f"not an integer: {value!r}", field=field) from err
    if isinstance(number, float):
        if not number.is_integer():
            raise MappingError(f"not an integer: {value!r}", field=field)
        return int(number)
    return number


def yuan(value: Any, *, field: str) -> int:
    """A yuan amount (string or number) as exact fen."""
    try:
        return yuan_to_fen(value)
    except ValueError as err:
        raise MappingError(str(err), field=field) from err


def fen(value: Any, *, field: str) -> int:
    """An amount the detail API sends as integer fen (分)."""
    number = parse_int(value, field=field)
    if number is None:
        raise MappingError("amount is missing", field=field)
    return number


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# ---------------------------------------------------------------------------------- after-sales


def kind_for(
    list_type: int | None, detail_type: int | None, status: int | None
) -> tuple[AfterSaleKind, list[str]]:
    """The case kind: the detail's numbering wins, the list's is the fallback, the status the last resort."""
    warnings: list[str] = []
    kind: AfterSaleKind | None = None
    if detail_type is not None:
        kind = DETAIL_TYPES.get(detail_type)
        if kind is None:
            warnings.append(f"unknown after_sales_type {detail_type} (detail); kept raw")
    if list_type is not None:
        from_list = LIST_TYPES.get(list_type)
        if from_list is None:
            warnings.append(f"unknown after_sales_type {list_type} (list); kept raw")
        elif kind is not None and from_list != kind:
            warnings.append(
                f"after_sales_type differs: list {list_type} ({from_list.value}) vs detail "
                f"{detail_type} ({kind.value}); the detail's is used"
            )
        kind = kind or from_list
    if kind is None:
        kind = _kind_from_status(status)
        if list_type is not None or detail_type is not None:
            warnings.append(f"after_sales_type unknown: kind {kind.value} guessed from the status")
    return kind, warnings


def _kind_from_status(status: int | None) -> AfterSaleKind:
    if status in (3, 7, 31):
        return AfterSaleKind.RETURN_REFUND
    if status in (14, 15, 16, 17, 18):
        return AfterSaleKind.EXCHANGE
    if status == 32:
        return AfterSaleKind.RESHIP
    if status in (21, 22, 24, 25):
        return AfterSaleKind.REPAIR
    return AfterSaleKind.REFUND_ONLY


def status_for(code: int | None, *, return_waybill: bool) -> tuple[AfterSaleStatus, list[str]]:
    """The hub status of an ``after_sales_status`` code; an unknown one is awaited by the seller."""
    if code is None or code not in STATUS_CODES:
        # Safe default: the case lands in the seller's work list, where a person will look at it.
        return S.REQUESTED, [f"unknown after_sales_status {code!r}; kept raw, shown as requested"]
    status = STATUS_CODES[code].status
    # PDD keeps 3 (退货退款，待商家处理) after the buyer ships the return: the waybill tells them apart.
    if code == 3 and return_waybill:
        return S.RETURN_SHIPPED, []
    # 14 (换货补寄待商家处理) with goods back from the buyer: the seller must send the new goods.
    if code == 14 and return_waybill:
        return S.AWAITING_RESHIP, []
    return status, []


def dispute_for(
    code: int | None, join: bool, status: AfterSaleStatus, case_id: str, at: datetime | None
) -> Dispute | None:
    """平台处理中 (8) or ``join_or_not`` is an intervention; 5 and 9 are its rulings."""
    label = STATUS_CODES[code].label if code in STATUS_CODES else None
    if code == 8:
        state = DisputeStatus.UNDER_REVIEW
    elif code == 5:
        state = DisputeStatus.RULED_FOR_BUYER
    elif code == 9:
        state = DisputeStatus.RULED_FOR_SELLER
    elif join:
        if status.is_open and status not in (S.REFUNDING,):
            state = DisputeStatus.UNDER_REVIEW
        elif status in (S.REFUNDING, S.SUCCEEDED):
            state = DisputeStatus.RULED_FOR_BUYER
        else:
            state = DisputeStatus.WITHDRAWN
    else:
        return None
    return Dispute(
        kind=DisputeKind.INTERVENTION,
        status=state,
        external_id=case_id,
        platform_status=f"{code}:{label}" if label else str(code),
        updated_at=at,
        note="平台介入 (join_or_not=1)" if join else None,
    )


def _pick(list_row: Mapping[str, Any], detail: Mapping[str, Any], *names: str) -> Any:
    """The first non-empty value among the detail's and then the list's fields of these names."""
    for source in (detail, list_row):
        for name in names:
            value = source.get(name)
            if value not in (None, ""):
                return value
    return None


def map_after_sale(payload: Mapping[str, Any]) -> AfterSale:
    """Map one after-sales raw payload (list row + ``detail``) to an :class:`AfterSale`."""
    detail_raw = payload.get("detail")
    detail: Mapping[str, Any] = detail_raw if isinstance(detail_raw, Mapping) else {}
    row: Mapping[str, Any] = payload
    warnings: list[str] = []

    case_id = _text(_pick(row, detail, "id", "after_sales_id"))
    if case_id is None:
        raise MappingError("after-sales id is missing", field="id")
    order_sn = _text(_pick(row, detail, "order_sn"))
    if order_sn is None:
        raise MappingError("order_sn is missing", field="order_sn")

    code = parse_int(_pick(row, detail, "after_sales_status"), field="after_sales_status")
    list_type = parse_int(row.get("after_sales_type"), field="after_sales_type") if "id" in row else None
    detail_type = (
        parse_int(detail.get("after_sales_type"), field="detail.after_sales_type") if detail else None
    )
    kind, kind_warnings = kind_for(list_type, detail_type, code)
    warnings += kind_warnings

    waybill = _text(_pick(row, detail, "tracking_number", "express_no"))
    status, status_warnings = status_for(code, return_waybill=waybill is not None)
    warnings += status_warnings

    updated_candidates = [
        parse_time(row.get("updated_time"), field="updated_time"),
        parse_time(detail.get("updated_time"), field="detail.updated_time"),
    ]
    updated = max((t for t in updated_candidates if t), default=None)
    if updated is None:
        raise MappingError("no readable modified time", field="updated_time")
    recreated = parse_time(detail.get("recreated_at"), field="detail.recreated_at")
    created = parse_time(row.get("created_time"), field="created_time") or recreated or updated
    # A request the buyer re-submitted after a rejection restarts the merchant's reply clock
    # (docs/rules/pinduoduo.md#pinduoduo.policy_reply): PDD reports it as recreated_at.
    requested_at = recreated if recreated is not None and recreated > created else None

    refund_fen = _refund_fen(row, detail, warnings)
    paid_fen = None
    if detail.get("order_amount") not in (None, ""):
        paid_fen = fen(detail["order_amount"], field="detail.order_amount")
    elif row.get("order_amount") not in (None, ""):
        paid_fen = yuan(row["order_amount"], field="order_amount")

    expire = parse_time(detail.get("expire_time"), field="detail.expire_time")
    join = str(detail.get("join_or_not", "")).strip() == "1"
    dispute = dispute_for(code, join, status, case_id, updated)

    if payload.get("detail_error"):
        warnings.append(f"detail not read: {payload['detail_error']}")

    facts: dict[str, Any] = {
        "after_sales_status": code,
        "after_sales_status_label": STATUS_CODES[code].label if code in STATUS_CODES else None,
        "list_after_sales_type": list_type,
        "detail_after_sales_type": detail_type,
        "expire_time": _iso(expire),
        "join_or_not": join,
        "dispute_refund": str(_pick(row, detail, "dispute_refund_status") or "") == "1",
        "speed_refund": str(_pick(row, detail, "speed_refund_flag") or "") == "1",
        "user_shipping_status": _text(_pick(row, detail, "user_shipping_status")),
        "shipping_status": _text(detail.get("shipping_status")),
        "return_waybill": waybill is not None,
        "return_company": _text(_pick(row, detail, "shipping_name")),
        "images": [str(i) for i in detail.get("images") or [] if i],
        "goods_name": _text(row.get("goods_name")),
        "goods_id": _text(row.get("goods_id")),
        "refund_operator_role": _text(_pick(row, detail, "refund_operator_role")),
        "confirm_time": _iso(parse_time(_pick(row, detail, "confirm_time"), field="confirm_time")),
        "requested_at": _iso(requested_at),
    }
    if code not in STATUS_CODES:
        facts["status_unknown"] = True
    exchange = detail.get("exchange_shipping_detail")
    if isinstance(exchange, Mapping) and exchange:
        facts["exchange"] = dict(exchange)
    part = parse_int(detail.get("part_after_sales_type"), field="detail.part_after_sales_type")
    if part in (1, 2):
        facts["part_after_sales"] = {
            "type": "count" if part == 1 else "percent",
            "value": detail.get("part_after_sales_value"),
        }

    platform_deadline = None
    if expire is not None and status.is_open:
        platform_deadline = _stated_deadline(expire, status, code)

    sku = _text(_pick(row, detail, "sku_id"))
    goods = _text(row.get("goods_id"))
    return AfterSale(
        external_id=case_id,
        order_external_id=order_sn,
        kind=kind,
        status=status,
        platform_status=str(code) if code is not None else "",
        created_at=created,
        updated_at=updated,
        line_external_id=f"{goods}:{sku}" if goods and sku else None,
        reason=_text(_pick(row, detail, "after_sales_reason", "after_sale_reason")),
        refund_fen=refund_fen,
        paid_fen=paid_fen,
        description=_text(detail.get("remark")),
        return_waybill=waybill,
        facts=facts,
        platform_deadline=platform_deadline,
        dispute=dispute,
        warnings=tuple(warnings),
    )


def _refund_fen(row: Mapping[str, Any], detail: Mapping[str, Any], warnings: list[str]) -> int:
    """The refund in fen: the detail's integer fen wins, the list's yuan string is the fallback."""
    from_detail = from_list = None
    if detail.get("refund_amount") not in (None, ""):
        from_detail = fen(detail["refund_amount"], field="detail.refund_amount")
    if row.get("refund_amount") not in (None, ""):
        from_list = yuan(row["refund_amount"], field="refund_amount")
    if from_detail is not None and from_list is not None and from_detail != from_list:
        warnings.append(f"refund_amount differs: list {from_list} fen, detail {from_detail} fen; detail used")
    amount = from_detail if from_detail is not None else from_list
    if amount is None:
        raise MappingError("amount is missing", field="refund_amount")
    return amount


def _stated_deadline(expire: datetime, status: AfterSaleStatus, code: int | None) -> PlatformDeadline:
    """PDD's ``expire_time`` (售后逾期时间): the seller's deadline in the current status."""
    if code == 33:  # 同意召回后退款，待商家召回: recall the parcel, then the refund goes out
        return PlatformDeadline(
            due_at=expire, action="recall_parcel", on_expiry=OnExpiry.AUTO_REFUND, party=Party.MERCHANT
        )
    if status is S.RETURN_SHIPPED:
        return PlatformDeadline(
            due_at=expire, action="confirm_receipt", on_expiry=OnExpiry.AUTO_REFUND, party=Party.MERCHANT
        )
    # Otherwise the matching rule row says the action and effect: a request is answered, but one
    # on an unshipped order is "hold the parcel and refund" (docs/rules/pinduoduo.md).
    return PlatformDeadline(due_at=expire, party=Party.MERCHANT)


# ---------------------------------------------------------------------------------- orders


def order_status_for(order: Mapping[str, Any]) -> tuple[OrderStatus, list[str]]:
    """The hub order status from ``confirm_status``, ``group_status``, ``refund_status``, ``order_status``."""
    warnings: list[str] = []
    confirm = parse_int(order.get("confirm_status"), field="confirm_status")
    group = parse_int(order.get("group_status"), field="group_status")
    refund = parse_int(order.get("refund_status"), field="refund_status")
    shipping = parse_int(order.get("order_status"), field="order_status")
    for name, value, known in (
        ("confirm_status", confirm, CONFIRM_STATUS),
        ("group_status", group, GROUP_STATUS),
        ("refund_status", refund, ORDER_REFUND_STATUS),
        ("order_status", shipping, ORDER_STATUS),
    ):
        if value is not None and value not in known:
            warnings.append(f"unknown {name} {value}; kept raw")
    if confirm == 2:
        return OrderStatus.CANCELLED, warnings
    if group == 2:
        return OrderStatus.CLOSED, warnings  # 团失败: the payment goes back
    if refund == 4:
        return OrderStatus.CLOSED, warnings
    if refund in (2, 3):
        return OrderStatus.REFUNDING, warnings
    if shipping == 3:
        return OrderStatus.COMPLETED, warnings
    if shipping == 2:
        return OrderStatus.SHIPPED, warnings
    if shipping != 1:
        warnings.append(f"order_status {shipping!r} unknown: shown as paid")
    return OrderStatus.PAID, warnings


def map_order(order: Mapping[str, Any]) -> Order:
    """Map an order object (increment list or ``order_info``) to an :class:`Order`."""
    order_sn = _text(order.get("order_sn"))
    if order_sn is None:
        raise MappingError("order_sn is missing", field="order_sn")
    updated = parse_time(order.get("updated_at"), field="updated_at")
    if updated is None:
        raise MappingError("no readable modified time", field="updated_at")
    created = parse_time(order.get("created_time"), field="created_time") or updated
    status, warnings = order_status_for(order)
    paid_at = parse_time(order.get("pay_time"), field="pay_time") or parse_time(
        order.get("confirm_time"), field="confirm_time"
    )
    shipped_at = parse_time(order.get("shipping_time"), field="shipping_time")
    received_at = parse_time(order.get("receive_time"), field="receive_time")
    last_ship = parse_time(order.get("last_ship_time"), field="last_ship_time")

    lines = []
    for i, item in enumerate(order.get("item_list") or []):
        if not isinstance(item, Mapping):
            raise MappingError("not an object", field=f"item_list[{i}]")
        count = parse_int(item.get("goods_count"), field=f"item_list[{i}].goods_count") or 1
        price = yuan(item.get("goods_price", 0), field=f"item_list[{i}].goods_price")
        lines.append(
            OrderLine(
                external_id=f"{_text(item.get('goods_id')) or ''}:{_text(item.get('sku_id')) or ''}",
                title=_text(item.get("goods_name")) or "",
                sku_id=_text(item.get("sku_id")),
                sku_name=_text(item.get("goods_spec")),
                quantity=count,
                unit_price_fen=price,
                paid_fen=price * count,
            )
        )

    raw = {k: order.get(k) for k in ("order_status", "refund_status", "confirm_status", "group_status")}
    platform_status = " ".join(f"{k}={v}" for k, v in raw.items() if v is not None)
    group = parse_int(order.get("group_status"), field="group_status")
    forming = group == 0 and status is OrderStatus.PAID
    confirmed = parse_time(order.get("confirm_time"), field="confirm_time")
    facts: dict[str, Any] = {
        # PDD counts the ship clock from group formation (成团 = confirm_time), not payment
        "last_ship_time": None if forming else _iso(last_ship),
        "group_forming": forming,
        "group_formed_at": _iso(confirmed) if group == 1 else None,
        "unshipped": parse_int(order.get("order_status"), field="order_status") == 1,
        "signed_at": _iso(received_at),
        "completed_at": _iso(received_at) if status is OrderStatus.COMPLETED else None,
        "postage_fen": yuan(order["postage"], field="postage")
        if order.get("postage") not in (None, "")
        else None,
        "after_sales_status": parse_int(order.get("after_sales_status"), field="after_sales_status"),
        "risk_control": str(order.get("risk_control_status", "")) == "1",
        "group_status": parse_int(order.get("group_status"), field="group_status"),
        "is_pre_sale": str(order.get("is_pre_sale", "")) == "1",
        "trade_type": parse_int(order.get("trade_type"), field="trade_type"),
    }
    if warnings:
        facts["warnings"] = warnings
    deadline = None
    if status is OrderStatus.PAID and last_ship is not None and not forming:
        deadline = PlatformDeadline(due_at=last_ship, action="ship", party=Party.MERCHANT)

    name = _text(order.get("receiver_name_mask")) or _text(order.get("receiver_name"))
    phone = _text(order.get("receiver_phone_mask")) or _text(order.get("receiver_phone"))
    recipient = f"{name}|{phone[-4:]}" if name and phone and phone[-4:].isdigit() else None

    return Order(
        external_id=order_sn,
        status=status,
        platform_status=platform_status,
        created_at=created,
        updated_at=updated,
        recipient_key=recipient,
        total_fen=yuan(order.get("goods_amount", 0), field="goods_amount"),
        paid_fen=yuan(order.get("pay_amount", 0), field="pay_amount"),
        paid_at=paid_at,
        shipped_at=shipped_at,
        signed_at=received_at,
        completed_at=received_at if status is OrderStatus.COMPLETED else None,
        waybill=_text(order.get("tracking_number")),
        remark=_text(order.get("remark")) or _text(order.get("buyer_memo")),
        lines=tuple(lines),
        facts=facts,
        platform_deadline=deadline,
    )
