"""JOS service orders (服务单) → :class:`hub.domain.AfterSale`. Pure: no IO, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.clock import parse_cst
from hub.domain import AfterSale, AfterSaleKind, AfterSaleStatus
from hub.errors import MappingError

#: customerExpect (客户期望) → the kind of case.
KINDS: Mapping[int, AfterSaleKind] = {
    10: AfterSaleKind.RETURN_REFUND,  # 退货
    11: AfterSaleKind.REFUND_ONLY,  # 仅退款
    20: AfterSaleKind.EXCHANGE,  # 换货
    30: AfterSaleKind.REPAIR,  # 维修
    40: AfterSaleKind.REPAIR,  # 大家电安装: a service visit, handled like a repair
    50: AfterSaleKind.REPAIR,  # 大家电移机
    60: AfterSaleKind.REPAIR,  # 大家电增值服务
    70: AfterSaleKind.REPAIR,  # 上门维修
    80: AfterSaleKind.RESHIP,  # 补发商品
    90: AfterSaleKind.COMPENSATION,  # 优鲜赔
    100: AfterSaleKind.RETURN_REFUND,  # 试用收回
}

#: Kinds where goods go out to the buyer after the case is handled.
GOODS_OUT = frozenset({AfterSaleKind.EXCHANGE, AfterSaleKind.RESHIP, AfterSaleKind.REPAIR})

AUDIT = frozenset({10000, 10001, 10012, 10013})  #: 待审核领取, 待审核, 客户已反馈, 待审核和待客户反馈
BUYER_FEEDBACK = 10002  #: 待客户反馈
BUYER_CONFIRM = 10009  #: 待用户确认
RECEIVING = 10005  #: 待收货
PROCESSING = frozenset({10006, 10007})  #: 待处理领取, 待处理
REFUND_SUBMITTED = 10041  #: 提交退款申请
COLLECTION = 13000  #: 商家催收待处理 / 未收货待收款 / 已收货待收款
SERVICE_VISIT = frozenset({1100, 11000, 12000, 14000})  #: 待下发维修中心接单, 上门维修中, 上门检测中
AUDIT_CLOSED = 10004  #: 审核关闭
CANCELLED = 10011  #: 取消
DONE = 10010  #: 完成

STATUS_ZH: Mapping[int, str] = {
    10000: "待审核领取",
    10001: "待审核",
    10002: "待客户反馈",
    10004: "审核关闭",
    10005: "待收货",
    10006: "待处理领取",
    10007: "待处理",
    10009: "待用户确认",
    10010: "完成",
    10011: "取消",
    10012: "客户已反馈",
    10013: "待审核和待客户反馈",
    10041: "提交退款申请",
    13000: "商家催收待处理",
    1100: "待下发维修中心接单",
    11000: "待下发维修中心接单",
    12000: "上门维修中",
    14000: "上门检测中",
}


def jos_time(value: Any, field: str) -> datetime | None:
    """A JOS time: ``yyyy-MM-dd HH:mm:ss`` Beijing time, or epoch milliseconds (some SDKs type the
    same fields as int64). Empty is ``None``; anything else is a :class:`MappingError`."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        return parse_cst(text[:19])
    except ValueError as err:
        raise MappingError(f"not a JOS time: {text!r}", field=field) from err


def _int(payload: Mapping[str, Any], field: str) -> int:
    try:
        return int(str(payload[field]))
    except (KeyError, TypeError, ValueError) as err:
        raise MappingError(f"missing or not a number: {payload.get(field)!r}", field=field) from err


def status_of(code: int, kind: AfterSaleKind, has_waybill: bool) -> tuple[AfterSaleStatus, str | None]:
    """A serviceStatus in the unified vocabulary, and a warning when the code is unknown."""
    if code in AUDIT:
        return AfterSaleStatus.REQUESTED, None
    if code == BUYER_FEEDBACK:
        # The seller asked the buyer for more; the nearest status waiting for the buyer.
        return AfterSaleStatus.SELLER_REFUSED, None
    if code == BUYER_CONFIRM:
        return (AfterSaleStatus.RESHIPPED if kind in GOODS_OUT else AfterSaleStatus.SELLER_REFUSED), None
    if code == RECEIVING:
        return (AfterSaleStatus.RETURN_SHIPPED if has_waybill else AfterSaleStatus.AWAITING_RETURN), None
    if code in PROCESSING:
        return (
            AfterSaleStatus.AWAITING_RESHIP if kind in GOODS_OUT else AfterSaleStatus.RETURN_SHIPPED
        ), None
    if code in SERVICE_VISIT:
        return AfterSaleStatus.AWAITING_RESHIP, None
    if code in (REFUND_SUBMITTED, COLLECTION):
        return AfterSaleStatus.REFUNDING, None
    if code in (AUDIT_CLOSED, CANCELLED):
        return AfterSaleStatus.CLOSED, None
    if code == DONE:
        return AfterSaleStatus.SUCCEEDED, None
    # Unknown: kept raw, shown as waiting for the seller so that nobody misses it.
    return AfterSaleStatus.REQUESTED, f"unknown serviceStatus {code}: shown as requested"


def map_service(payload: Mapping[str, Any]) -> AfterSale:
    """One service order (``jingdong.asc.query.list`` ``pageResult.data[]``)."""
    service_id = _int(payload, "serviceId")
    order_id = _int(payload, "orderId")
    expect = _int(payload, "customerExpect")
    code = _int(payload, "serviceStatus")
    warnings: list[str] = []
    kind = KINDS.get(expect)
    if kind is None:
        kind = AfterSaleKind.RETURN_REFUND
        warnings.append(f"unknown customerExpect {expect}: shown as a return")
    waybill = str(payload.get("expressCode") or "").strip() or None
    status, warning = status_of(code, kind, waybill is not None)
    if warning:
        warnings.append(warning)
    created = jos_time(payload.get("afsApplyTime"), "afsApplyTime")
    updated = jos_time(payload.get("updateTime"), "updateTime")
    if updated is None:
        raise MappingError("missing", field="updateTime")
    refund = payload.get("applyRefundSum")
    try:
        refund_fen = int(str(refund)) if refund not in (None, "") else 0
    except ValueError as err:
        raise MappingError(f"not a whole number of fen: {refund!r}", field="applyRefundSum") from err
    if refund_fen < 0:
        raise MappingError(f"negative: {refund_fen}", field="applyRefundSum")
    version = payload.get("sysVersion")
    approved = jos_time(payload.get("approveDate"), "approveDate")
    received = jos_time(payload.get("receiveDate"), "receiveDate")
    return AfterSale(
        external_id=str(service_id),
        order_external_id=str(order_id),
        line_external_id=str(payload["skuId"]) if payload.get("skuId") not in (None, "") else None,
        kind=kind,
        status=status,
        platform_status=f"{code} {STATUS_ZH.get(code, '')}".strip(),
        created_at=created or updated,
        updated_at=updated,
        reason=str(payload.get("applyReason") or payload.get("questionDesc") or "") or None,
        description=str(payload.get("questionDesc") or "") or None,
        refund_fen=refund_fen,
        buyer=str(payload.get("customerName") or payload.get("customerPin") or "") or None,
        version=int(str(version)) if version not in (None, "") else None,
        return_waybill=waybill,
        facts={
            "customer_expect": expect,
            "service_status": code,
            "ware_name": payload.get("wareName"),
            "approved_at": approved.isoformat() if approved else None,
            "received_at": received.isoformat() if received else None,
            "exchange_waybill": payload.get("newExpressCode") or None,
        },
        warnings=tuple(warnings),
    )
