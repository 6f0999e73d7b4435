"""The Pinduoduo PlatformAdapter: windows over PDD's modified time, actions, push hints."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from hub.domain import MappedRecord, RawRecord, Shop
from hub.errors import ActionError, ConfigError, MappingError, PlatformRequestError, PlatformStopError
from hub.kit import BaseAdapter
from hub.platform import (
    ActionOutcome,
    ActionRequest,
    ActionResult,
    AdapterContext,
    Hint,
    Page,
    ResourceSpec,
    Window,
)

from . import mapping
from .client import PddClient
from .info import CAPABILITIES, DEFAULT_GATEWAY, DEFAULT_PUSH_URL, INFO
from .push import PmcReader, hints_for
from .rules import TABLE

log = structlog.get_logger("hub.plugins.pinduoduo")

ORDER = "order"
AFTER_SALE = "after_sale"
PAGE_SIZE = 100  # the documented maximum of both increment APIs
MAX_SPAN = timedelta(minutes=30)  # both increment APIs: end - start <= 30 min
LAG = timedelta(minutes=3)  # "结束时间不小于拼多多系统时间前3min可以避免漏单" (PDD increment API)

#: Every documented after_sales_status, for the 'each' filter mode.
ALL_STATUS_CODES = tuple(sorted(mapping.STATUS_CODES))

ORDER_API = "pdd.order.number.list.increment.get"
REFUND_LIST_API = "pdd.refund.list.increment.get"
REFUND_DETAIL_API = "pdd.refund.information.get"


class PddAdapter(BaseAdapter):
    """One shop's connection to PDD. Creating it does no IO."""

    info = INFO
    rules = TABLE

    def __init__(self, shop: Shop, ctx: AdapterContext) -> None:
        settings = shop.settings
        missing = [k for k in ("client_id", "client_secret", "access_token") if not settings.get(k)]
        if missing:
            raise ConfigError(f"pinduoduo shop {shop.name!r} lacks settings: {', '.join(missing)}")
        self.shop = shop
        self.ctx = ctx
        try:
            timeout = float(settings.get("request_timeout") or 30)
        except ValueError as err:
            raise ConfigError(
                f"request_timeout must be seconds, got {settings.get('request_timeout')!r}"
            ) from err
        self.client = PddClient(
            session=ctx.session,
            limiter=ctx.limiter,
            client_id=settings["client_id"],
            client_secret=settings["client_secret"],
            access_token=settings["access_token"],
            gateway_url=settings.get("gateway_url") or DEFAULT_GATEWAY,
            now=ctx.now,
            timeout=timeout,
        )
        try:
            self.initial_lookback = timedelta(days=float(settings.get("initial_sync_days") or 30))
        except ValueError as err:
            days = settings.get("initial_sync_days")
            raise ConfigError(f"initial_sync_days must be a number, got {days!r}") from err
        self.status_filter = settings.get("after_sales_status_filter") or "all"
        if self.status_filter not in ("all", "each"):
            raise ConfigError(f"after_sales_status_filter must be all or each, got {self.status_filter!r}")
        self.push = PmcReader(
            session=ctx.session,
            push_url=settings.get("push_url") or DEFAULT_PUSH_URL,
            client_id=settings["client_id"],
            client_secret=settings["client_secret"],
        )
        # pdd.refund.information.get needs the order_sn: remember it for every case seen.
        self._order_of: dict[str, str] | None = None
        self._memo_path = Path(ctx.data_dir) / "pinduoduo_case_orders.json"

    # ------------------------------------------------------------------ sync

    def resources(self) -> Sequence[ResourceSpec]:
        return (
            ResourceSpec(
                name=ORDER,
                window=MAX_SPAN,
                overlap=timedelta(minutes=5),
                lag=LAG,
                initial_lookback=self.initial_lookback,
            ),
            ResourceSpec(
                name=AFTER_SALE,
                window=MAX_SPAN,
                overlap=timedelta(minutes=5),
                lag=LAG,
                initial_lookback=self.initial_lookback,
            ),
        )

    async def platform_now(self) -> datetime:
        """PDD's clock, from ``pdd.time.get`` (拼多多系统时间), which also aligns our timestamps."""
        body = await self.client.call("pdd.time.get", auth=False)
        stated = mapping.parse_time(body.get("time"), field="time")
        if stated is None:
            return self.client.platform_clock()
        self.client.learn_time(stated)
        return stated

    async def fetch_window(self, resource: str, window: Window) -> AsyncIterator[Page]:
        start, end = _epoch(window.start), _epoch(window.end)
        if end - start > MAX_SPAN.total_seconds():
            raise ValueError(f"a PDD window spans at most 30 minutes, got {window.end - window.start}")
        if resource == ORDER:
            params = {
                "start_updated_at": start,
                "end_updated_at": end,
                "is_lucky_flag": 0,
                "order_status": 5,
                "refund_status": 5,
            }
            async for rows in self._pages(ORDER_API, params, "order_sn_list"):
                yield Page(records=[self._order_record(r) for r in rows if isinstance(r, Mapping)])
        elif resource == AFTER_SALE:
            statuses = (mapping.STATUS_ALL,) if self.status_filter == "all" else ALL_STATUS_CODES
            seen: dict[str, datetime | None] = {}
            for status in statuses:
                params = {
                    "start_updated_at": start,
                    "end_updated_at": end,
                    "after_sales_status": status,
                    "after_sales_type": mapping.TYPE_ALL,
                }
                async for rows in self._pages(REFUND_LIST_API, params, "refund_list"):
                    records = []
                    for row in rows:
                        if not isinstance(row, Mapping):
                            continue
                        record = await self._after_sale_record(row)
                        if record.external_id in seen and _not_newer(
                            record.updated_at, seen[record.external_id]
                        ):
                            continue  # the same case met under another status filter
                        seen[record.external_id] = record.updated_at
                        records.append(record)
                    self._save_memo()
                    yield Page(records=records)
        else:
            raise ValueError(f"pinduoduo has no resource {resource!r}")

    async def _pages(self, api: str, params: Mapping[str, Any], key: str) -> AsyncIterator[list[Any]]:
        """Pages of one query, read from the last back (PDD paging): page 1 first to learn the count."""
        first = await self.client.call(api, {**params, "page": 1, "page_size": PAGE_SIZE})
        rows = list(first.get(key) or [])
        total = mapping.parse_int(first.get("total_count"), field="total_count")
        if total is None:
            # No count given: read forward while pages come back full.
            yield rows
            page = 1
            while len(rows) >= PAGE_SIZE or str(first.get("has_next")).lower() == "true":
                page += 1
                first = await self.client.call(api, {**params, "page": page, "page_size": PAGE_SIZE})
                rows = list(first.get(key) or [])
                if not rows:
                    break
                yield rows
            return
        last = math.ceil(total / PAGE_SIZE)
        if last <= 1:
            yield rows
            return
        for page in range(last, 0, -1):
            body = await self.client.call(api, {**params, "page": page, "page_size": PAGE_SIZE})
            yield list(body.get(key) or [])

    def _order_record(self, order: Mapping[str, Any]) -> RawRecord:
        return RawRecord(
            resource=ORDER,
            external_id=str(order.get("order_sn") or ""),
            payload=dict(order),
            updated_at=_time_or_none(order.get("updated_at")),
        )

    async def _after_sale_record(self, row: Mapping[str, Any]) -> RawRecord:
        """The list row with the detail merged in under ``detail`` (expire_time, join_or_not, images...)."""
        payload: dict[str, Any] = dict(row)
        case_id, order_sn = str(row.get("id") or ""), str(row.get("order_sn") or "")
        if case_id and order_sn:
            self._memo()[case_id] = order_sn
            try:
                payload["detail"] = await self.client.call(
                    REFUND_DETAIL_API, {"order_sn": order_sn, "after_sales_id": case_id}
                )
            except PlatformStopError:
                raise
            except PlatformRequestError as err:
                # The list row is still worth keeping; the mapping turns this into a warning.
                payload["detail_error"] = str(err)
        return RawRecord(
            resource=AFTER_SALE,
            external_id=case_id,
            payload=payload,
            updated_at=_latest(row.get("updated_time"), (payload.get("detail") or {}).get("updated_time")),
        )

    async def fetch_one(self, resource: str, external_id: str) -> RawRecord | None:
        if resource == ORDER:
            body = await self.client.call("pdd.order.information.get", {"order_sn": external_id})
            info = body.get("order_info")
            return self._order_record(info) if isinstance(info, Mapping) and info.get("order_sn") else None
        if resource == AFTER_SALE:
            order_sn = self._memo().get(external_id)
            if order_sn is None:
                raise PlatformRequestError(
                    f"after-sales {external_id}: its order_sn is unknown "
                    "(pdd.refund.information.get needs it); "
                    "the next sync window will bring it",
                    platform="pinduoduo",
                )
            return await self._fetch_case(external_id, order_sn)
        raise ValueError(f"pinduoduo has no resource {resource!r}")

    async def _fetch_case(self, case_id: str, order_sn: str) -> RawRecord | None:
        # The list API given an order_sn returns all of that order's cases, other filters ignored.
        end = _epoch(self.client.platform_clock())
        body = await self.client.call(
            REFUND_LIST_API,
            {
                "order_sn": order_sn,
                "after_sales_status": mapping.STATUS_ALL,
                "after_sales_type": mapping.TYPE_ALL,
                "start_updated_at": end - int(MAX_SPAN.total_seconds()),
                "end_updated_at": end,
                "page": 1,
                "page_size": PAGE_SIZE,
            },
        )
        for row in body.get("refund_list") or []:
            if isinstance(row, Mapping) and str(row.get("id")) == case_id:
                return await self._after_sale_record(row)
        detail = await self.client.call(REFUND_DETAIL_API, {"order_sn": order_sn, "after_sales_id": case_id})
        if not isinstance(detail, Mapping) or not detail.get("id"):
            return None
        return RawRecord(
            resource=AFTER_SALE,
            external_id=case_id,
            payload={"detail": detail},
            updated_at=_time_or_none(detail.get("updated_time")),
        )

    def map_record(self, raw: RawRecord) -> MappedRecord:
        if raw.resource == ORDER:
            return mapping.map_order(raw.payload)
        if raw.resource == AFTER_SALE:
            return mapping.map_after_sale(raw.payload)
        raise MappingError(f"unknown resource {raw.resource!r}", field="resource")

    # ------------------------------------------------------------------ actions

    async def perform(self, request: ActionRequest) -> ActionResult:
        cap = next((c for c in CAPABILITIES if c.action == request.action), None)
        if cap is None:
            raise ActionError(f"pinduoduo has no action {request.action!r}")
        if not cap.supported:
            raise ActionError(cap.reason or f"{request.action} is not supported on pinduoduo")
        case = request.case
        if case is None:
            raise ActionError(f"{request.action} needs an after-sales case")
        available = {a.action: a for a in self.available_actions(case, request.order)}
        if not available[cap.action].enabled:
            raise ActionError(available[cap.action].reason or f"{request.action} is not allowed now")
        self._memo()[case.external_id] = case.order_external_id
        req: dict[str, Any] = {
            "after_sales_id": int(case.external_id) if case.external_id.isdigit() else case.external_id,
            "order_sn": case.order_external_id,
            "operate_desc": str(
                request.params.get("operate_desc")
                or ("同意退款" if cap.action == "agree_refund" else "同意退货")
            ),
        }
        if cap.action == "agree_return":
            req["return_address_id"] = str(
                request.params.get("return_address_id") or await self.default_address_id()
            )
        log.info(
            "pdd.action",
            action=cap.action,
            case=case.external_id,
            key=request.idempotency_key,
            actor=request.actor,
        )
        assert cap.api is not None
        response = await self.client.call(cap.api, {"request": req})
        raw_result = response.get("result")
        result: Mapping[str, Any] = raw_result if isinstance(raw_result, Mapping) else {}
        ok = _truthy(result.get("succ", result.get("success")))
        message = str(result.get("message") or "")
        # The case and its order both changed (the order's refund_status follows the case).
        refreshed = [
            r
            for r in (
                await self._fetch_case(case.external_id, case.order_external_id),
                await self.fetch_one(ORDER, case.order_external_id),
            )
            if r is not None
        ]
        return ActionResult(
            outcome=ActionOutcome.DONE if ok else ActionOutcome.FAILED,
            message=message or ("done" if ok else "PDD refused the action"),
            response=dict(response),
            refreshed=refreshed,
        )

    async def return_addresses(self) -> list[Mapping[str, Any]]:
        body = await self.client.call("pdd.refund.address.list.get")
        return [a for a in body.get("refund_address_list") or [] if isinstance(a, Mapping)]

    async def default_address_id(self) -> str:
        """The shop's default return address (pdd.refund.address.list.get), else the only one."""
        addresses = await self.return_addresses()
        default = [a for a in addresses if _truthy(a.get("is_default"))]
        pick = default[0] if default else (addresses[0] if len(addresses) == 1 else None)
        if pick is None:
            raise ActionError(
                "no default return address: set one in 商家后台 → 退货地址, or pass return_address_id"
                if addresses
                else "the shop has no return address in 商家后台"
            )
        return str(pick.get("refund_address_id") or pick.get("id"))

    # ------------------------------------------------------------------ push

    async def fetch_hints(self) -> Sequence[Hint]:
        messages = await self.push.drain()
        hints: dict[tuple[str, str], Hint] = {}
        for msg in messages:
            tid = msg.content.get("tid") or msg.content.get("order_sn")
            refund_id = msg.content.get("refund_id")
            if tid and refund_id:
                self._memo()[str(refund_id)] = str(tid)
            made = hints_for(msg)
            if not made:
                log.info("pmc.ignored", type=msg.type, id=msg.id)
            for hint in made:
                hints.setdefault((hint.resource, hint.external_id), hint)
        self._save_memo()
        return list(hints.values())

    async def close(self) -> None:
        await self.push.close()
        self._save_memo()

    # ------------------------------------------------------------------ case → order memo

    def _memo(self) -> dict[str, str]:
        if self._order_of is None:
            self._order_of = {}
            if self._memo_path.is_file():
                try:
                    loaded = json.loads(self._memo_path.read_text("utf-8"))
                    self._order_of = {str(k): str(v) for k, v in loaded.items()}
                except (ValueError, OSError, AttributeError):
                    log.warning("pdd.memo_unreadable", path=str(self._memo_path))
        return self._order_of

    def _save_memo(self) -> None:
        if self._order_of is None:
            return
        try:
            self._memo_path.parent.mkdir(parents=True, exist_ok=True)
            self._memo_path.write_text(json.dumps(self._order_of), "utf-8")
        except OSError:
            log.warning("pdd.memo_unwritable", path=str(self._memo_path))


def _epoch(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp())


def _time_or_none(value: Any) -> datetime | None:
    try:
        return mapping.parse_time(value, field="updated")
    except MappingError:
        return None  # map_record reports it; the raw record is still kept


def _latest(*values: Any) -> datetime | None:
    times = [t for t in (_time_or_none(v) for v in values) if t]
    return max(times) if times else None


def _not_newer(new: datetime | None, old: datetime | None) -> bool:
    return new is None or (old is not None and new <= old)


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true")


def make_adapter(shop: Shop, ctx: AdapterContext) -> PddAdapter:
    """The factory hub calls for each Pinduoduo shop (no IO)."""
    return PddAdapter(shop, ctx)
