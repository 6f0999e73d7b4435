"""The JD adapter: service orders synced by update time, and the audit/receive/exchange actions.

Written against the kit: :class:`hub.kit.BaseAdapter` gives ``rule_table``,
``available_actions``, ``fetch_hints`` and ``close``; :class:`JosClient` (a
:class:`hub.kit.PlatformClient`) rate-limits and maps transport errors; :func:`hub.kit.paginate`
pages. The core gates actions on closed cases and re-fetches the case after an action.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from hub.clock import format_cst
from hub.domain import AfterSale, AfterSaleStatus, MappedRecord, Order, RawRecord, Shop
from hub.errors import ActionError, MappingError, PlatformRequestError
from hub.kit import BaseAdapter, PageSlice, paginate
from hub.platform import (
    ActionOutcome,
    ActionRequest,
    ActionResult,
    AdapterContext,
    Page,
    ResourceSpec,
    Window,
)

from .client import JosClient, business_result
from .info import INFO
from .mapping import jos_time
from .rules import RULES

SERVICE = "service"
LIST = "jingdong.asc.query.list"
PAGE_SIZE = 50  #: pageSize 1-50 (JOS doc comment)
COUNT = "jingdong.asc.audit.count"  #: the cheap call whose answer's Date header is JD's clock


class JdAdapter(BaseAdapter):
    """One JD POP shop's service orders."""

    info = INFO
    rules = RULES

    def __init__(self, shop: Shop, ctx: AdapterContext) -> None:
        super().__init__(shop, ctx)
        s = self.config
        self.client = JosClient(
            ctx,
            app_key=s.text("app_key"),
            app_secret=s.text("app_secret"),
            access_token=s.text("access_token"),
            gateway_url=s.text("gateway_url"),
            timeout=s.number("request_timeout"),
        )
        self.window = s.duration("sync_window")
        self.lookback = timedelta(days=s.number("initial_sync_days"))

    def _operator(self) -> dict[str, str]:
        """``buId``, ``operatePin`` and ``operateNick``: every service-order call names them."""
        s = self.config
        return {
            "buId": s.text("bu_id"),
            "operatePin": s.text("operate_pin"),
            "operateNick": s.text("operate_nick"),
        }

    # --- sync ----------------------------------------------------------------------------------

    def resources(self) -> Sequence[ResourceSpec]:
        """Service orders by update time (``updateTimeBegin/End``), a minute behind JD's clock."""
        return (
            ResourceSpec(
                name=SERVICE,
                window=self.window,
                overlap=timedelta(minutes=5),
                lag=timedelta(minutes=1),
                initial_lookback=self.lookback,
            ),
        )

    async def platform_now(self) -> datetime:
        """JD's clock: the ``Date`` of a cheap answer (JOS has no time API we could verify)."""
        await self.client.call(COUNT, self._operator())
        date = self.client.last_date
        if date is None:
            raise PlatformRequestError(f"jd {COUNT}: the answer has no Date header", platform="jd")
        # Set, not added to: call() may already have learnt the offset from a refused timestamp.
        self.client.learn_offset(date)
        return date

    async def fetch_window(self, resource: str, window: Window) -> AsyncIterator[Page]:
        """Every service order updated in ``window``, read from the last page back: a row
        updated meanwhile moves past the window's end instead of pushing an unread row onto a
        page already read."""
        if resource != SERVICE:
            raise ValueError(f"jd has no resource {resource!r}")
        query = {
            **self._operator(),
            "updateTimeBegin": format_cst(window.start),
            "updateTimeEnd": format_cst(window.end),
            "pageSize": PAGE_SIZE,
        }

        async def page(number: int) -> PageSlice[dict[str, Any]]:
            result = business_result(await self.client.call(LIST, {**query, "pageNumber": number}), LIST)
            items = [dict(i) for i in result.get("data") or () if isinstance(i, Mapping)]
            total = result.get("totalCount")
            return PageSlice(items=items, total=int(total) if total not in (None, "") else None)

        async for items in paginate(page, page_size=PAGE_SIZE, last_first=True):
            yield Page(records=[_raw(item) for item in items])

    async def fetch_one(self, resource: str, external_id: str) -> RawRecord | None:
        """One service order now (the list filtered by ``serviceId``); ``None`` if JD has none."""
        if resource != SERVICE:
            raise ValueError(f"jd has no resource {resource!r}")
        if not external_id.isdigit():
            return None
        inner = await self.client.call(
            LIST, {**self._operator(), "serviceId": int(external_id), "pageNumber": 1, "pageSize": 1}
        )
        data = business_result(inner, LIST).get("data") or ()
        return _raw(dict(data[0])) if data else None

    def map_record(self, raw: RawRecord) -> MappedRecord:
        """service → AfterSale (pure; see mapping.py)."""
        if raw.resource != SERVICE:
            raise MappingError(f"unknown resource {raw.resource!r}", field="resource")
        from .mapping import map_service

        return map_service(raw.payload)

    # --- actions -------------------------------------------------------------------------------

    def state_reason(self, action: str, case: AfterSale, order: Order | None) -> str | None:
        """Which step of the service order each action belongs to."""
        status = case.status
        if action in ("agree_return", "refuse") and status is not AfterSaleStatus.REQUESTED:
            return "只能审核待审核的服务单 (only a service order waiting for review)"
        if action == "confirm_receipt" and status not in (
            AfterSaleStatus.AWAITING_RETURN,
            AfterSaleStatus.RETURN_SHIPPED,
        ):
            return "没有待收货的退回商品 (no returned goods to register)"
        if action == "reship" and status is not AfterSaleStatus.AWAITING_RESHIP:
            return "收货登记后才能换新发货 (register the returned goods first)"
        return None

    async def perform(self, request: ActionRequest) -> ActionResult:
        """Re-read the service order for its current ``sysVersion`` (JD's optimistic lock), then
        call the action's API. The core re-reads the case afterwards."""
        case = request.case
        if case is None:
            raise ActionError("JD actions work on a service order")
        current = await self.fetch_one(SERVICE, case.external_id)
        if current is None:
            raise ActionError(f"JD has no service order {case.external_id}")
        params = request.params
        base = {
            **self._operator(),
            "serviceId": int(case.external_id),
            "orderId": int(case.order_external_id),
            "sysVersion": current.payload.get("sysVersion"),
        }
        if request.action == "agree_return":
            address = str(params.get("address") or self.config.get("return_address") or "").strip()
            if not address:
                raise ActionError(
                    "审核通过须提供寄回地址：参数 address 或店铺设置 return_address "
                    "(a return address is required: param address or shop setting return_address)"
                )
            call = {
                **base,
                "approveNotes": str(params.get("notes") or "同意"),
                "returnDetailAddress": address,
                "returnContactName": self.config.get("return_contact"),
                "returnContactMobile": self.config.get("return_mobile"),
            }
            return await self._write("jingdong.asc.audit.send", call, "已审核通过，等待客户寄回 (approved)")
        if request.action == "refuse":
            notes = str(params.get("notes") or "").strip()
            if not notes:
                raise ActionError("审核不通过须填写理由 notes (say why: param notes)")
            return await self._write(
                "jingdong.asc.audit.refuse", {**base, "approveNotes": notes}, "已审核不通过 (refused)"
            )
        if request.action == "confirm_receipt":
            call = {
                **base,
                "receiveRemark": params.get("remark"),
                "wareNum": current.payload.get("serviceCount"),
            }
            return await self._write("jingdong.asc.receive.register", call, "已收货登记 (receipt registered)")
        if request.action == "reship":
            call = {
                **base,
                "operateRemark": params.get("remark"),
                "skuId": current.payload.get("skuId"),
                "wareName": current.payload.get("wareName"),
                "wareNum": current.payload.get("serviceCount"),
            }
            return await self._write("jingdong.asc.process.renew", call, "已换新发货 (exchange goods sent)")
        raise ActionError(f"jd has no action {request.action!r}")

    async def _write(self, method: str, call: Mapping[str, Any], done: str) -> ActionResult:
        inner = await self.client.call(method, call, write=True)
        result = business_result(inner, method)
        return ActionResult(outcome=ActionOutcome.DONE, message=done, response=dict(result))


def _raw(item: dict[str, Any]) -> RawRecord:
    try:
        updated = jos_time(item.get("updateTime"), "updateTime")
    except MappingError:
        updated = None  # kept as received; the mapping quarantines it with the reason
    ident = str(item.get("serviceId") or "")
    if not ident:
        # Still kept (the core quarantines it); named by its content so it stays one record.
        ident = (
            "missing-serviceId-"
            + hashlib.sha1(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()[:12]
        )
    return RawRecord(resource=SERVICE, external_id=ident, payload=item, updated_at=updated)


def create_adapter(shop: Shop, ctx: AdapterContext) -> JdAdapter:
    """The factory hub calls for each JD shop (no IO)."""
    return JdAdapter(shop, ctx)
