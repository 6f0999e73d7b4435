"""The Taobao / Tmall PlatformAdapter: windows, pages, detail merges, actions and TMC hints."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from hub.clock import parse_cst, parse_duration
from hub.domain import AfterSale, AfterSaleKind, AfterSaleStatus, MappedRecord, Order, RawRecord, Shop
from hub.errors import ActionError, ConfigError, MappingError, PlatformRequestError
from hub.kit import BaseAdapter
from hub.money import fen_to_yuan
from hub.platform import (
    ActionAvailability,
    ActionOutcome,
    ActionRequest,
    ActionResult,
    AdapterContext,
    Choice,
    Hint,
    Page,
    ResourceSpec,
    Window,
)
from hub.rules import action_availability

from .client import FileParam, TopClient, unwrap_list
from .info import CAPABILITIES, DEFAULT_TRADE_TYPES, INFO, PLATFORM_ID
from .mapping import is_exchange_dispute, map_dispute, map_refund, map_trade
from .rules import RULE_TABLE

log = structlog.get_logger(__name__)

TRADE = "trade"
REFUND = "refund"
TMALL_DISPUTE = "tmall_dispute"

TRADE_FIELDS = (
    "tid,tid_str,type,status,payment,total_fee,post_fee,discount_fee,adjust_fee,received_payment,created,"
    "modified,pay_time,consign_time,end_time,timeout_action_time,buyer_nick,buyer_open_uid,seller_nick,"
    "seller_memo,seller_flag,buyer_message,shipping_type,step_trade_status,step_paid_fee,trade_from,orders,"
    "consign_interval,delivery_time,send_time,has_yfx,yfx_fee,yfx_type"
)
#: Trades whose parcel is on its way or delivered: the adapter reads their logistics trace for the
#: pickup (fake-shipment check) and sign-for time (the 7-day no-reason window).
TRACE_STATUSES = frozenset(
    {"SELLER_CONSIGNED_PART", "WAIT_BUYER_CONFIRM_GOODS", "TRADE_BUYER_SIGNED", "TRADE_FINISHED"}
)
#: Fields refunds.receive.get supports (its TOP documentation).
REFUND_LIST_FIELDS = (
    "refund_id,tid,title,buyer_nick,seller_nick,total_fee,status,created,refund_fee,oid,good_status,"
    "company_name,sid,payment,reason,desc,has_good_return,modified,order_status,refund_phase,dispute_type,end_time"
)
#: What refund.get adds: the list lacks the timeout, intervention, constraint and version
#: (taobao.refund.get's documented fields; cs_status, modified and order_status as in the
#: official sample).
REFUND_DETAIL_FIELDS = (
    "refund_id,alipay_no,tid,oid,buyer_nick,seller_nick,total_fee,status,created,modified,refund_fee,good_status,"
    "has_good_return,payment,reason,desc,num_iid,title,price,num,good_return_time,company_name,sid,address,"
    "shipping_type,refund_remind_timeout,refund_phase,refund_version,operation_contraint,attribute,outer_id,"
    "dispute_type,sku,end_time,cs_status,advance_status,order_status"
)
DISPUTE_FIELDS = (
    "refund_id,biz_order_id,oid,status,dispute_request,created,modified,refund_fee,reason,desc,good_status,"
    "order_status,refund_phase,time_out,title,num,buyer_nick,buyer_open_uid,has_good_return,good_return_time,"
    "buyer_logistic_name,buyer_logistic_no,seller_logistic_name,seller_logistic_no,address,alipay_no"
)

PAGE_SIZE = 100  #: the largest page TOP's list APIs serve
MAX_WINDOW = timedelta(days=1)  #: end_modified - start_modified <= 1 day (TOP increment APIs)
TMC_QUANTITY = 100  #: taobao.tmc.messages.consume takes 10-200

# Documented limits of the write APIs (TOP documentation of each write API).
REFUSE_MESSAGE_MIN, REFUSE_MESSAGE_MAX = 2, 200
REFUSE_PROOF_MAX_BYTES = 130_000
RETURN_PROOF_MAX_BYTES = 5 * 1024 * 1024
AGREE_MAX_FEN = {False: 600_000, True: 1_000_000}  #: per call: Taobao 6000 yuan, Tmall 10000 yuan

_IMAGE_MAGIC = (
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
_VERIFY_MARKERS = ("验证码", "verify", "verification", "sms")
NEEDS_CODE = "需要短信验证码：请输入验证码 code 后再次提交 (needs a verification code)"


def _truthy(value: str | None) -> bool:
    return str(value or "").strip().lower() in ("true", "1", "yes")


def _modified(payload: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_cst(str(payload["modified"]))
    except (KeyError, TypeError, ValueError):
        return None  # the mapping reports it; the raw record is kept as received


def _id(payload: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = payload.get(name)
        if value not in (None, ""):
            return str(value)
    # Still keep the record (it is quarantined by the core); name it by its content.
    digest = hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"missing-{names[0]}-{digest}"


class TaobaoAdapter(BaseAdapter):
    """One Taobao or Tmall shop. Created without IO; every call goes through :class:`TopClient`."""

    info = INFO
    rules = RULE_TABLE

    def __init__(self, shop: Shop, ctx: AdapterContext) -> None:
        s = shop.settings
        missing = [k for k in ("app_key", "app_secret", "session") if not s.get(k)]
        if missing:
            raise ConfigError(f"taobao shop {shop.name!r}: missing setting(s) {', '.join(missing)}")
        self.shop = shop
        self.ctx = ctx
        self.tmall = _truthy(s.get("tmall"))
        self.trade_types = s.get("trade_types") or DEFAULT_TRADE_TYPES
        self.tmc_group = s.get("tmc_group") or None
        self.read_trace = _truthy(s.get("read_logistics_trace") or "true")
        # What TOP does not say about a refund's history, learnt from the versions seen: when its
        # cs_status (客服介入 step) was entered, and when the buyer re-submitted after a refusal.
        self._seen: dict[str, dict[str, str]] | None = None
        self._seen_path = Path(ctx.data_dir) / "taobao_refund_history.json"
        self._seen_dirty = False
        window = parse_duration(s.get("sync_window") or "30m")
        self.window = min(window, MAX_WINDOW)
        self.client = TopClient(
            session=ctx.session,
            limiter=ctx.limiter,
            app_key=s["app_key"],
            app_secret=s["app_secret"],
            session_key=s["session"],
            gateway_url=s.get("gateway_url") or "https://eco.taobao.com/router/rest",
            sign_method=s.get("sign_method") or "md5",
            simplify=_truthy(s.get("simplify")),
            now=ctx.now,
            timeout=float(s.get("request_timeout") or 30),
        )

    def __repr__(self) -> str:
        return f"TaobaoAdapter(shop={self.shop.name!r}, tmall={self.tmall})"

    # --- sync ----------------------------------------------------------------------------------

    def resources(self) -> Sequence[ResourceSpec]:
        """Trades, then refunds (so a refund's order is there first), then Tmall exchanges.

        Windows on modified time of at most ``sync_window`` (TOP: ≤ 1 day, recommended ≤ 30 min,
        TOP's paging rule), read from the last page back; the 5-minute overlap re-reads late-indexed rows.
        """
        specs = [
            ResourceSpec(
                name=TRADE, window=self.window, overlap=timedelta(minutes=5)
            ),
            ResourceSpec(
                name=REFUND, window=self.window, overlap=timedelta(minutes=5)
            ),
        ]
        if self.tmall:
            specs.append(
                ResourceSpec(
                    name=TMALL_DISPUTE,
                    window=self.window,
                    overlap=timedelta(minutes=5),
                )
            )
        return specs

    async def platform_now(self) -> datetime:
        """TOP's clock, from ``taobao.time.get`` (the gateway checks timestamps against it)."""
        return await self.client.sync_clock()

    async def fetch_window(self, resource: str, window: Window) -> AsyncIterator[Page]:
        """Yield the pages of ``resource`` modified in ``window``, last page first."""
        if window.end - window.start > MAX_WINDOW:
            raise ValueError(f"window {window.start}..{window.end} is longer than TOP's 1 day")
        if resource == TRADE:
            params = {
                "fields": TRADE_FIELDS,
                "start_modified": window.start,
                "end_modified": window.end,
                "type": self.trade_types,
            }
            async for items in self._pages("taobao.trades.sold.increment.get", params, _trades):
                yield Page(
                    records=[self._raw(TRADE, await self._with_trace(t), "tid_str", "tid") for t in items]
                )
        elif resource == REFUND:
            params = {
                "fields": REFUND_LIST_FIELDS,
                "start_modified": window.start,
                "end_modified": window.end,
                "type": self.trade_types,
            }
            async for items in self._pages("taobao.refunds.receive.get", params, _refunds):
                records = [self._raw(REFUND, await self._with_detail(item), "refund_id") for item in items]
                self._save_seen()  # once a page: what this page taught about each refund's history
                yield Page(records=records)
        elif resource == TMALL_DISPUTE:
            if not self.tmall:
                raise ValueError("tmall_dispute is read for Tmall shops only (setting tmall=true)")
            params = {"fields": DISPUTE_FIELDS, "start_modified": window.start, "end_modified": window.end}
            async for items in self._pages("tmall.dispute.receive.get", params, _disputes):
                # Refund-type disputes are the refunds resource's; only exchanges are read here.
                yield Page(
                    records=[
                        self._raw(TMALL_DISPUTE, d, "refund_id") for d in items if is_exchange_dispute(d)
                    ]
                )
        else:
            raise ValueError(f"unknown resource {resource!r}")

    async def _pages(
        self,
        method: str,
        params: Mapping[str, Any],
        extract: Callable[[Mapping[str, Any]], tuple[list[dict[str, Any]], int | None, bool]],
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Read a list from its last page back (TOP: "必须采用倒序的分页方式").

        The first call learns ``total_results`` (so ``use_has_next`` stays false); if it all fits
        one page that page is the answer, otherwise pages N..1 are read, page 1 last.
        """
        base = {**params, "page_size": PAGE_SIZE, "use_has_next": False}
        first = await self.client.call(method, {**base, "page_no": 1})
        items, total, has_next = extract(first)
        if total is None:
            # No count in the answer (some gateways answer has_next only): forward is all we can do.
            yield items
            page_no = 1
            while has_next and items:
                page_no += 1
                items, _, has_next = extract(await self.client.call(method, {**base, "page_no": page_no}))
                yield items
            return
        pages = max(1, math.ceil(total / PAGE_SIZE))
        if pages == 1:
            yield items
            return
        for page_no in range(pages, 0, -1):
            page_items, _, _ = extract(await self.client.call(method, {**base, "page_no": page_no}))
            yield page_items

    async def _with_detail(self, item: dict[str, Any]) -> dict[str, Any]:
        """Merge ``taobao.refund.get`` into a list entry (what the list lacks: timeout, cs_status,
        operation_contraint, refund_version)."""
        refund_id = item.get("refund_id")
        if refund_id in (None, ""):
            return item
        try:
            detail = await self._refund_detail(str(refund_id))
        except PlatformRequestError as err:
            # The list entry still maps; the case just lacks the detail fields until the next sync.
            log.warning("taobao.refund_detail_failed", refund_id=str(refund_id), error=str(err))
            return item
        return {**item, **detail} if detail else item

    async def _with_trace(self, trade: dict[str, Any]) -> dict[str, Any]:
        """Merge the logistics trace (``taobao.logistics.trace.search``) into a shipped trade as
        ``logistics_trace``: TOP's trade has no sign-for time, and the 7-day no-reason window runs
        from it (docs/rules/taobao.md#taobao.no_reason_window_7d)."""
        tid = trade.get("tid_str") or trade.get("tid")
        if not self.read_trace or trade.get("status") not in TRACE_STATUSES or tid in (None, ""):
            return trade
        try:
            inner = await self.client.call("taobao.logistics.trace.search", {"tid": str(tid)})
        except PlatformRequestError as err:
            # The trade still maps; the window waits for the next sync that reads the trace.
            log.warning("taobao.trace_failed", tid=str(tid), error=str(err))
            return trade
        steps = inner.get("trace_list")
        return {**trade, "logistics_trace": steps if steps is not None else []}

    async def _refund_detail(self, refund_id: str) -> dict[str, Any] | None:
        inner = await self.client.call(
            "taobao.refund.get", {"fields": REFUND_DETAIL_FIELDS, "refund_id": refund_id}
        )
        refund = inner.get("refund")
        return refund if isinstance(refund, dict) else None

    def _raw(self, resource: str, payload: dict[str, Any], *id_fields: str) -> RawRecord:
        if resource == REFUND:
            payload = self._with_history(payload)
        return RawRecord(
            resource=resource,
            external_id=_id(payload, *id_fields),
            payload=payload,
            updated_at=_modified(payload),
        )

    async def fetch_one(self, resource: str, external_id: str) -> RawRecord | None:
        """Re-fetch one trade (fullinfo), refund (detail) or Tmall dispute; ``None`` if gone."""
        try:
            if resource == TRADE:
                inner = await self.client.call(
                    "taobao.trade.fullinfo.get", {"fields": TRADE_FIELDS, "tid": external_id}
                )
                trade = inner.get("trade")
                if not isinstance(trade, dict):
                    return None
                return self._raw(TRADE, await self._with_trace(trade), "tid_str", "tid")
            if resource == REFUND:
                refund = await self._refund_detail(external_id)
                raw = self._raw(REFUND, refund, "refund_id") if refund else None
                self._save_seen()
                return raw
            if resource == TMALL_DISPUTE:
                inner = await self.client.call(
                    "tmall.dispute.receive.get", {"fields": DISPUTE_FIELDS, "refund_id": external_id}
                )
                disputes, _, _ = _disputes(inner)
                return self._raw(TMALL_DISPUTE, disputes[0], "refund_id") if disputes else None
        except PlatformRequestError as err:
            if "not-exist" in (err.sub_code or "") or "not_exist" in (err.sub_code or ""):
                return None
            raise
        raise ValueError(f"unknown resource {resource!r}")

    def map_record(self, raw: RawRecord) -> MappedRecord:
        """trade → Order; refund and tmall_dispute → AfterSale (pure; see mapping.py)."""
        if raw.resource == TRADE:
            return map_trade(raw.payload)
        if raw.resource == REFUND:
            return map_refund(raw.payload)
        if raw.resource == TMALL_DISPUTE:
            return map_dispute(raw.payload)
        raise MappingError(f"unknown resource {raw.resource!r}", field="resource")

    # --- actions -------------------------------------------------------------------------------

    async def param_choices(self, action: str, param: str) -> Sequence[Choice]:
        """The shop's addresses for ``agree_return``'s ``address_id`` (TOP
        ``taobao.logistics.address.search``, the seller's address book; its ``contact_id`` is the
        ``seller_address_id`` the agreement takes): the default return address first. Nothing
        for any other parameter."""
        if (action, param) != ("agree_return", "address_id"):
            return []
        # the whole address book (no ``rdef``): the default return address (cancel_def) first
        inner = await self.client.call("taobao.logistics.address.search", {})
        rows = unwrap_list(inner.get("addresses"), "address_result")
        rows.sort(key=lambda r: not _truthy(str(r.get("cancel_def", "")).lower()))
        return [_address_choice(r) for r in rows if r.get("contact_id") not in (None, "")]

    def available_actions(self, case: AfterSale, order: Order | None) -> Sequence[ActionAvailability]:
        """Every supported capability, enabled or with the reason it is not (state, shop, rules)."""
        return action_availability(
            CAPABILITIES, case, RULE_TABLE, lambda action: self._state_reason(action, case)
        )

    def _state_reason(self, action: str, case: AfterSale) -> str | None:
        """Why ``action`` does not fit the case's state or shop, or ``None`` when it does."""
        status = case.status
        is_dispute = case.facts.get("dispute_request") is not None or case.kind is AfterSaleKind.EXCHANGE
        if is_dispute:
            return "换货请在天猫卖家中心处理（开放平台没有换货的写接口） (exchanges: no TOP write API)"
        if action in ("refuse_return", "review") and not self.tmall:
            return "仅限天猫店铺（天猫专用接口） (Tmall shops only)"
        if status is AfterSaleStatus.PLATFORM_REVIEW:
            return (
                "淘宝客服介入中，请按举证要求在卖家中心处理 (Taobao customer service is handling this case)"
            )
        if action == "agree_refund":
            if status not in (AfterSaleStatus.REQUESTED, AfterSaleStatus.RETURN_SHIPPED):
                return (
                    "仅在退款等待卖家处理（买家申请中，或买家已退货）时可用 "
                    "(only while the refund waits for the seller)"
                )
        elif action == "refuse":
            if status is AfterSaleStatus.RETURN_SHIPPED and self.tmall:
                return "天猫店铺请用“拒绝收货”拒绝退回的货物 (on Tmall use refuse_return)"
            if status not in (AfterSaleStatus.REQUESTED, AfterSaleStatus.RETURN_SHIPPED):
                return "仅在退款等待卖家处理时可用 (only while the refund waits for the seller)"
        elif action == "agree_return":
            if status is not AfterSaleStatus.REQUESTED or case.kind is not AfterSaleKind.RETURN_REFUND:
                return "仅在退货申请等待卖家处理时可用 (only for a return request waiting for the seller)"
        elif action == "refuse_return":
            if status is not AfterSaleStatus.RETURN_SHIPPED:
                return "仅在买家已寄回退货后可用 (only once the buyer has shipped the return)"
        elif action == "review" and status not in (AfterSaleStatus.REQUESTED, AfterSaleStatus.RETURN_SHIPPED):
            return "仅在退款等待卖家处理时可用 (only while the refund waits for the seller)"
        return None

    async def perform(self, request: ActionRequest) -> ActionResult:
        """Send one action; return the platform's answer and the refreshed refund."""
        case = request.case
        if case is None:
            raise ActionError(f"{request.action}：需要一个售后单 (needs an after-sales case)")
        availability = {a.action: a for a in self.available_actions(case, request.order)}
        if request.action not in availability:
            raise ActionError(f"淘宝不支持操作 {request.action!r} (unknown action for taobao)")
        if not availability[request.action].enabled:
            raise ActionError(
                f"{request.action} 当前不可用 (not available)：{availability[request.action].reason}"
            )
        handler = {
            "agree_refund": self._agree_refund,
            "refuse": self._refuse,
            "agree_return": self._agree_return,
            "refuse_return": self._refuse_return,
            "review": self._review,
        }[request.action]
        result = await handler(case, request.params)
        if result.outcome is ActionOutcome.DONE:
            fresh = await self.fetch_one(REFUND, case.external_id)
            result = ActionResult(
                outcome=result.outcome,
                message=result.message,
                response=result.response,
                refreshed=[fresh] if fresh else [],
            )
        log.info(
            "taobao.action",
            action=request.action,
            refund_id=case.external_id,
            outcome=result.outcome.value,
            actor=request.actor,
            idempotency_key=request.idempotency_key,
        )
        return result

    async def _version(self, case: AfterSale) -> int:
        """The refund_version to send: the one the agent saw, so a changed refund is refused by
        the platform rather than acted on blindly; fetched only when the case has none."""
        if case.version is not None:
            return case.version
        detail = await self._refund_detail(case.external_id)
        if not detail or detail.get("refund_version") in (None, ""):
            raise ActionError(
                f"退款 {case.external_id}：平台未返回 refund_version (the platform gave no refund_version)"
            )
        return int(str(detail["refund_version"]))

    def _phase(self, case: AfterSale) -> str | None:
        phase = case.facts.get("refund_phase")
        if phase is None and self.tmall:
            raise ActionError(
                f"退款 {case.external_id}：缺少 refund_phase（天猫必填） "
                "(refund_phase unknown, required on Tmall)"
            )
        return str(phase) if phase is not None else None

    async def _agree_refund(self, case: AfterSale, params: Mapping[str, Any]) -> ActionResult:
        amount = params.get("amount_fen")
        amount_fen = case.refund_fen if amount in (None, "") else int(amount)
        if amount_fen <= 0:
            raise ActionError("退款金额 amount_fen 必须大于 0 (amount_fen must be positive)")
        if amount_fen > case.refund_fen:
            raise ActionError(
                f"退款金额 ¥{fen_to_yuan(amount_fen)} 超过买家申请的 ¥{fen_to_yuan(case.refund_fen)} "
                "(amount is more than requested)"
            )
        limit = AGREE_MAX_FEN[self.tmall]
        if amount_fen > limit:
            raise ActionError(
                f"{'天猫' if self.tmall else '淘宝'}接口单次最多同意退款 {fen_to_yuan(limit)} 元，"
                f"请到卖家中心操作 (TOP agrees at most {fen_to_yuan(limit)} yuan per call on "
                f"{'Tmall' if self.tmall else 'Taobao'})"
            )
        version = await self._version(case)
        phase = self._phase(case)
        info = f"{case.external_id}|{amount_fen}|{version}" + (f"|{phase}" if phase else "")
        call: dict[str, Any] = {"refund_infos": info}
        if params.get("code"):
            call["code"] = str(params["code"])
        try:
            inner = await self.client.call("taobao.rp.refunds.agree", call)
        except PlatformRequestError as err:
            if _asks_for_code(str(err), err.sub_code):
                return ActionResult(
                    outcome=ActionOutcome.NEEDS_VERIFICATION,
                    message=NEEDS_CODE,
                    response={"error": str(err), "sub_code": err.sub_code},
                )
            raise
        results = unwrap_list(inner.get("results"), "refund_mapping_result")
        mine = next((r for r in results if str(r.get("refund_id")) == case.external_id), None)
        succ = bool(mine.get("succ")) if mine is not None else bool(inner.get("succ"))
        message = str((mine or {}).get("message") or inner.get("message") or "")
        if succ:
            return ActionResult(
                outcome=ActionOutcome.DONE, message=message or "已同意退款 (refund agreed)", response=inner
            )
        if _asks_for_code(message, inner.get("msg_code")):
            return ActionResult(outcome=ActionOutcome.NEEDS_VERIFICATION, message=NEEDS_CODE, response=inner)
        return ActionResult(
            outcome=ActionOutcome.FAILED,
            message=message or "平台拒绝了此操作 (the platform refused)",
            response=inner,
        )

    async def _refuse(self, case: AfterSale, params: Mapping[str, Any]) -> ActionResult:
        message = str(params.get("message") or "").strip()
        if not REFUSE_MESSAGE_MIN <= len(message) <= REFUSE_MESSAGE_MAX:
            raise ActionError(
                f"拒绝理由须为 {REFUSE_MESSAGE_MIN}-{REFUSE_MESSAGE_MAX} 个字符，当前 {len(message)} 个 "
                "(refuse message length, taobao.refund.refuse refuse_message)"
            )
        proof = params.get("proof")
        if proof in (None, "") and self.tmall:
            raise ActionError(
                "天猫拒绝退款须上传凭证图片 "
                "(a proof image is required on Tmall, taobao.refund.refuse refuse_proof)"
            )
        files = (
            {"refuse_proof": self._image(proof, REFUSE_PROOF_MAX_BYTES)} if proof not in (None, "") else None
        )
        call: dict[str, Any] = {
            "refund_id": case.external_id,
            "refuse_message": message,
            "refuse_reason_id": params.get("reason_id"),
        }
        if self.tmall:
            call["refund_phase"] = self._phase(case)
            call["refund_version"] = await self._version(case)
        elif case.version is not None:
            call["refund_version"] = case.version
            call["refund_phase"] = case.facts.get("refund_phase")
        inner = await self.client.call("taobao.refund.refuse", call, files=files)
        return _success(inner, "已拒绝退款 (refund refused)")

    async def _agree_return(self, case: AfterSale, params: Mapping[str, Any]) -> ActionResult:
        address_id = params.get("address_id")
        if address_id in (None, ""):
            raise ActionError("同意退货须填写退货地址 ID address_id (seller_address_id is required)")
        call: dict[str, Any] = {
            "refund_id": case.external_id,
            "refund_phase": self._phase(case),
            "refund_version": await self._version(case),
            "seller_address_id": address_id,
            "remark": params.get("remark"),
            "post_fee_bear_role": params.get("post_fee_bear_role"),
        }
        if not self.tmall:  # name/address/post/tel/mobile are Taobao-only (TOP rp.returngoods.agree)
            for key in ("name", "address", "post", "tel", "mobile"):
                call[key] = params.get(key)
        inner = await self.client.call("taobao.rp.returngoods.agree", call)
        return _success(inner, "已同意退货 (return agreed)")

    async def _refuse_return(self, case: AfterSale, params: Mapping[str, Any]) -> ActionResult:
        proof = params.get("proof")
        if proof in (None, ""):
            raise ActionError(
                "拒绝收货须上传凭证图片 "
                "(a proof image is required, taobao.rp.returngoods.refuse refuse_proof)"
            )
        if params.get("reason_id") in (None, ""):
            raise ActionError(
                "拒绝收货须填写拒绝原因 reason_id (required, taobao.rp.returngoods.refuse refuse_reason_id)"
            )
        call = {
            "refund_id": case.external_id,
            "refund_phase": self._phase(case),
            "refund_version": await self._version(case),
            "refuse_reason_id": params["reason_id"],
        }
        inner = await self.client.call(
            "taobao.rp.returngoods.refuse",
            call,
            files={"refuse_proof": self._image(proof, RETURN_PROOF_MAX_BYTES)},
        )
        return _success(inner, "已拒绝收货 (returned goods refused)")

    async def _review(self, case: AfterSale, params: Mapping[str, Any]) -> ActionResult:
        operator = str(params.get("operator") or "").strip()
        if not operator:
            raise ActionError("须填写审核人姓名 operator (the reviewer's name is required)")
        if params.get("result") in (None, ""):
            raise ActionError("须填写审核结果 result：true 通过 / false 不通过 (result is required)")
        result = params["result"] if isinstance(params["result"], bool) else _truthy(str(params["result"]))
        call = {
            "refund_id": case.external_id,
            "operator": operator,
            "refund_phase": self._phase(case),
            "refund_version": await self._version(case),
            "result": result,
            "message": params.get("message"),
        }
        inner = await self.client.call("taobao.rp.refund.review", call)
        return _success(inner, "已审核退款 (refund reviewed)")

    def _image(self, value: Any, max_bytes: int) -> FileParam:
        """A proof image checked against TOP's limits (GIF/JPG/PNG, size) before anything is sent.

        Accepts bytes, a path (absolute or under the shop's data folder), or a mapping with
        ``content`` (bytes) and optionally ``filename``.
        """
        filename = "proof"
        if isinstance(value, bytes | bytearray):
            content = bytes(value)
        elif isinstance(value, Mapping):
            raw = value.get("content", value.get("data"))
            if not isinstance(raw, bytes | bytearray):
                raise ActionError("凭证 proof：content 必须是图片字节 (content must be bytes)")
            content = bytes(raw)
            filename = str(value.get("filename") or filename)
        elif isinstance(value, str | Path):
            path = Path(value)
            if not path.is_absolute():
                path = self.ctx.data_dir / path
            try:
                content = path.read_bytes()
            except OSError as err:
                raise ActionError(f"凭证 proof：无法读取 {path}：{err.strerror} (cannot read)") from err
            filename = path.name
        else:
            raise ActionError("凭证 proof：请提供图片内容或文件路径 (give image bytes or a file path)")
        if len(content) > max_bytes:
            raise ActionError(
                f"凭证图片 {len(content)} 字节，平台最多接受 {max_bytes} 字节 (proof image too large)"
            )
        for magic, content_type, ext in _IMAGE_MAGIC:
            if content.startswith(magic):
                if "." not in filename:
                    filename = f"{filename}.{ext}"
                return FileParam(filename=filename, content=content, content_type=content_type)
        raise ActionError("凭证须为 GIF、JPG 或 PNG 图片 (proof must be a GIF, JPG or PNG image)")

    # --- push ----------------------------------------------------------------------------------

    async def fetch_hints(self) -> Sequence[Hint]:
        """Consume TMC messages, confirm them, return one hint per record to re-fetch.

        A message is only a hint (TMC is at-least-once, unordered): the record is re-fetched
        and the core's newer-wins decides, so duplicates and old messages change nothing.
        """
        inner = await self.client.call(
            "taobao.tmc.messages.consume",
            {"quantity": TMC_QUANTITY, "group_name": self.tmc_group},
            with_session=False,
        )
        messages = unwrap_list(inner.get("messages"), "tmc_message")
        if not messages:
            return []
        hints: list[Hint] = []
        seen: set[tuple[str, str]] = set()
        for message in messages:
            hint = self.hint_for(message)
            if hint is not None and (hint.resource, hint.external_id) not in seen:
                seen.add((hint.resource, hint.external_id))
                hints.append(hint)
        ids = [str(m["id"]) for m in messages if m.get("id") not in (None, "")]
        # Confirm what was read (≤ 200 ids a call); an unusable message is confirmed too,
        # else it would come back for ever.
        for start in range(0, len(ids), 200):
            await self.client.call(
                "taobao.tmc.messages.confirm",
                {"s_message_ids": ",".join(ids[start : start + 200]), "group_name": self.tmc_group},
                with_session=False,
            )
        return hints

    def hint_for(self, message: Mapping[str, Any]) -> Hint | None:
        """The record a TMC message points at: refunds by ``refund_id``, trades by ``tid``."""
        topic = str(message.get("topic") or "")
        content: Any = message.get("content")
        if isinstance(content, str):
            try:
                content = json.loads(content)
            except ValueError:
                log.warning("taobao.tmc_unreadable", message_id=message.get("id"), topic=topic)
                return None
        if not isinstance(content, Mapping):
            return None
        message_id = str(message["id"]) if message.get("id") is not None else None
        if topic.startswith("taobao_refund_") and content.get("refund_id") not in (None, ""):
            resource = TMALL_DISPUTE if self.tmall and content.get("bill_type") == "replace_bill" else REFUND
            return Hint(resource=resource, external_id=str(content["refund_id"]), message_id=message_id)
        if topic.startswith("taobao_trade_") and content.get("tid") not in (None, ""):
            return Hint(resource=TRADE, external_id=str(content["tid"]), message_id=message_id)
        return None

    async def close(self) -> None:
        """Nothing to release (the HTTP session is the hub's); the refund history is on disk."""
        self._save_seen()

    # --- refund history (what one TOP record cannot say) -----------------------------------

    def _history(self) -> dict[str, dict[str, str]]:
        if self._seen is None:
            self._seen = {}
            if self._seen_path.is_file():
                try:
                    loaded = json.loads(self._seen_path.read_text("utf-8"))
                    self._seen = {str(k): {str(a): str(b) for a, b in v.items()} for k, v in loaded.items()}
                except (ValueError, OSError, AttributeError):
                    log.warning("taobao.history_unreadable", path=str(self._seen_path))
        return self._seen

    def _save_seen(self) -> None:
        if self._seen is None or not self._seen_dirty:
            return
        self._seen_dirty = False
        try:
            self._seen_path.parent.mkdir(parents=True, exist_ok=True)
            self._seen_path.write_text(json.dumps(self._seen), "utf-8")
        except OSError:
            log.warning("taobao.history_unwritable", path=str(self._seen_path))

    def _with_history(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Add ``cs_since`` (when the current cs_status was first seen) and ``requested_at`` (when
        a refused request came back to WAIT_SELLER_AGREE: the buyer re-submitted) to a refund.

        TOP gives neither; both are the ``modified`` time of the first version showing the change,
        remembered per refund in the shop's data folder so a later message never moves them
        (docs/rules/taobao.md#taobao.evidence_upload, #taobao.refund_reply_72h).
        """
        refund_id = str(payload.get("refund_id") or "")
        modified = str(payload.get("modified") or "")
        if not refund_id or _modified(payload) is None:
            return payload
        seen = self._history()
        entry = dict(seen.get(refund_id, {}))
        cs = str(payload.get("cs_status") or "")
        status = str(payload.get("status") or "")
        if cs and cs != "1" and entry.get("cs") != cs:
            entry["cs"], entry["cs_since"] = cs, modified
        if status == "WAIT_SELLER_AGREE" and entry.get("status") == "SELLER_REFUSE_BUYER":
            entry["requested_at"] = modified
        entry["status"] = status
        if entry != seen.get(refund_id):
            seen[refund_id] = entry
            self._seen_dirty = True
        extra: dict[str, str] = {k: entry[k] for k in ("cs_since", "requested_at") if k in entry}
        if entry.get("cs") != cs:
            extra.pop("cs_since", None)
        return {**payload, **extra} if extra else payload


def _asks_for_code(text: str, code: Any) -> bool:
    haystack = f"{text} {code or ''}".lower()
    return any(marker in haystack for marker in _VERIFY_MARKERS)


def _success(inner: Mapping[str, Any], done: str) -> ActionResult:
    ok = inner.get("is_success")
    if ok is None or ok is True or str(ok).lower() == "true":
        return ActionResult(outcome=ActionOutcome.DONE, message=done, response=dict(inner))
    return ActionResult(
        outcome=ActionOutcome.FAILED,
        message=str(inner.get("message") or "平台拒绝了此操作 (the platform refused)"),
        response=dict(inner),
    )


def _count(inner: Mapping[str, Any]) -> tuple[int | None, bool]:
    total = inner.get("total_results")
    has_next = str(inner.get("has_next", "false")).lower() == "true"
    return (int(str(total)) if total not in (None, "") else None), has_next


def _trades(inner: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int | None, bool]:
    return (unwrap_list(inner.get("trades"), "trade"), *_count(inner))


def _refunds(inner: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int | None, bool]:
    return (unwrap_list(inner.get("refunds"), "refund"), *_count(inner))


def _disputes(inner: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int | None, bool]:
    """``tmall_dispute_receive_get_response.result`` carries the list and its own error fields."""
    result = inner.get("result", inner)
    if not isinstance(result, Mapping):
        return [], 0, False
    if result.get("error_code") not in (None, "", "0"):
        raise PlatformRequestError(
            f"tmall.dispute.receive.get: {result.get('error_msg') or result['error_code']}",
            platform=PLATFORM_ID,
            code=str(result["error_code"]),
        )
    return (unwrap_list(result.get("results"), "dispute"), *_count(result))


def _address_choice(row: Mapping[str, Any]) -> Choice:
    """One address-book entry as the agent reads it: where, who, and whether it is the default."""
    where = "".join(str(row.get(k) or "") for k in ("province", "city", "country", "addr"))
    who = " ".join(str(row.get(k)) for k in ("contact_name", "mobile_phone", "phone") if row.get(k))
    default = "（默认退货地址）" if _truthy(str(row.get("cancel_def", "")).lower()) else ""
    return Choice(value=str(row["contact_id"]), label=" · ".join(p for p in (where, who) if p) + default)


def create_adapter(shop: Shop, ctx: AdapterContext) -> TaobaoAdapter:
    """The factory hub calls for each Taobao shop (no IO)."""
    return TaobaoAdapter(shop, ctx)
