"""The acme client, mapping, rules and adapter (one module: it is a test platform)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Dispute,
    DisputeKind,
    DisputeStatus,
    MappedRecord,
    OnExpiry,
    Order,
    OrderStatus,
    Party,
    RawRecord,
    Shop,
)
from hub.errors import (
    MappingError,
    PlatformAuthError,
    PlatformConnectionError,
    PlatformRateLimitError,
    PlatformRequestError,
)
from hub.money import yuan_to_fen
from hub.platform import (
    ActionAvailability,
    ActionOutcome,
    ActionRequest,
    ActionResult,
    AdapterContext,
    Capability,
    Hint,
    Page,
    PlatformInfo,
    ResourceSpec,
    SettingSpec,
    Window,
)
from hub.rules import Match, Penalty, Rule, RuleTable

INFO = PlatformInfo(
    id="acme",
    name="Acme (test platform)",
    name_zh="测试平台",
    settings=(
        SettingSpec(name="api_url", help="API endpoint", required=True),
        SettingSpec(name="token", help="API token", required=True, secret=True),
        SettingSpec(name="reply_within", help="shop policy: answer a request within (default 72h)"),
    ),
    capabilities=(
        Capability(action="agree_refund", label="Agree refund", label_zh="同意退款", money_moves=True),
        Capability(
            action="refuse", label="Refuse", label_zh="拒绝", supported=False, reason="acme has no refuse API"
        ),
    ),
    rate_limits={"*": 50.0},
)

STATUS = {
    "NEW": AfterSaleStatus.REQUESTED,
    "AGREED": AfterSaleStatus.REFUNDING,
    "RETURNING": AfterSaleStatus.RETURN_SHIPPED,
    "DONE": AfterSaleStatus.SUCCEEDED,
    "CLOSED": AfterSaleStatus.CLOSED,
    "ESCALATED": AfterSaleStatus.PLATFORM_REVIEW,
}

RULES = RuleTable(
    platform="acme",
    # every (kind, status) map_case can produce
    states=frozenset(("refund_only", s.value) for s in STATUS.values()),
    rules=(
        Rule(
            id="acme.reply_72h",
            match=Match(statuses=frozenset({"requested"})),
            anchor=("fact:requested_at", "created_at"),
            duration=timedelta(hours=72),
            setting="reply_within",  # a shop policy may shorten it (source policy)
            start_event="the buyer submits (or re-submits) the request",
            party=Party.MERCHANT,
            action="reply",
            on_expiry=OnExpiry.AUTO_AGREE,
            source="tests/testplatform (test rule)",
            summary_zh="72 小时未处理将自动同意退款",
            consequence_zh="平台自动同意退款",
            consequence_en="the platform agrees the refund automatically",
            summary_en="Auto-agreed after 72 h",
        ),
        Rule(
            id="acme.confirm_10d",
            match=Match(statuses=frozenset({"return_shipped"})),
            anchor="status_since",
            duration=timedelta(days=10),
            counting="natural_days",
            start_event="the buyer ships the return",
            party=Party.MERCHANT,
            action="confirm_receipt",
            on_expiry=OnExpiry.AUTO_REFUND,
            source="tests/testplatform (test rule)",
            summary_zh="10 天未确认收货将自动退款",
            summary_en="Auto-refunded after 10 days",
        ),
        Rule(
            id="acme.refunding",
            match=Match(statuses=frozenset({"refunding"})),
            party=Party.PLATFORM,
            action="refund",
            on_expiry=OnExpiry.NOTHING,
            no_clock_reason="the platform pays the refund; nobody else acts",
            no_clock_reason_zh="平台退款中，无需处理",
            source="tests/testplatform (test rule)",
            summary_zh="退款中",
            summary_en="refunding",
        ),
        Rule(
            id="acme.review",
            match=Match(statuses=frozenset({"platform_review"})),
            party=Party.PLATFORM,
            action="review",
            on_expiry=OnExpiry.NOTHING,
            no_clock_reason="the platform's staff decide and publish no deadline",
            no_clock_reason_zh="平台处理中，平台未给出时限",
            source="tests/testplatform (test rule)",
            summary_zh="平台介入中",
            summary_en="under platform review",
        ),
        Rule(
            id="acme.ship_48h",
            match=Match(subject="order", statuses=frozenset({"paid"})),
            anchor=("paid_at", "created_at"),
            duration=timedelta(hours=48),
            party=Party.MERCHANT,
            action="ship",
            on_expiry=OnExpiry.PENALTY,
            penalty=Penalty(percent="5", cap_fen=2500),
            source="tests/testplatform (test rule)",
            summary_zh="48 小时内发货，超时赔付 5%",
            summary_en="ship within 48 h or pay 5%",
        ),
    ),
)


def map_case(raw: RawRecord) -> AfterSale:
    p = raw.payload
    try:
        status = STATUS[p["status"]]
    except KeyError as err:
        raise MappingError(f"unknown status {p.get('status')!r}", field="status") from err
    try:
        amount = yuan_to_fen(p["amount"])
    except (KeyError, ValueError) as err:
        raise MappingError(str(err), field="amount") from err
    dispute = (
        Dispute(kind=DisputeKind.INTERVENTION, status=DisputeStatus.UNDER_REVIEW)
        if p["status"] == "ESCALATED"
        else None
    )
    return AfterSale(
        external_id=str(p["id"]),
        order_external_id=str(p["order_id"]),
        kind=AfterSaleKind.REFUND_ONLY,
        status=status,
        platform_status=p["status"],
        created_at=datetime.fromisoformat(p["created"]),
        updated_at=datetime.fromisoformat(p["modified"]),
        reason=p.get("reason"),
        refund_fen=amount,
        dispute=dispute,
    )


def map_order(raw: RawRecord) -> Order:
    p = raw.payload
    return Order(
        external_id=str(p["id"]),
        status=OrderStatus.PAID,
        platform_status=p["status"],
        created_at=datetime.fromisoformat(p["created"]),
        updated_at=datetime.fromisoformat(p["modified"]),
        paid_fen=yuan_to_fen(p["total"]),
        total_fen=yuan_to_fen(p["total"]),
    )


class AcmeAdapter:
    def __init__(self, shop: Shop, ctx: AdapterContext) -> None:
        self.shop, self.ctx = shop, ctx
        self.url = shop.settings["api_url"]
        #: one adapter serves one sync (or one hint re-fetch): the sandbox tells syncs apart by it
        self.session_id = uuid.uuid4().hex

    async def call(self, api: str, **params: Any) -> dict[str, Any]:
        await self.ctx.limiter.acquire(api)
        try:
            async with self.ctx.session.post(
                self.url,
                json={"api": api, **params},
                headers={"X-Token": self.shop.settings["token"], "X-Acme-Session": self.session_id},
                timeout=aiohttp.ClientTimeout(total=2),
            ) as resp:
                body = await resp.json()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError) as err:
            raise PlatformConnectionError(f"acme unreachable: {err!r}", platform="acme") from err
        if status == 429:
            raise PlatformRateLimitError(
                "acme rate limit", retry_after=float(body["retry_after"]), platform="acme"
            )
        if status == 401:
            raise PlatformAuthError(f"acme: {body['error']}", platform="acme", code=body["error"])
        if status >= 500:
            raise PlatformConnectionError("acme internal error", platform="acme")
        if status >= 400:
            raise PlatformRequestError(f"acme: {body['error']}", platform="acme")
        return dict(body)

    async def check_credentials(self) -> None:
        """A cheap authenticated call (``hub doctor``): the clock API checks the token."""
        await self.call("now")

    def resources(self) -> Sequence[ResourceSpec]:
        return (
            ResourceSpec(name="order", window=timedelta(days=1)),
            ResourceSpec(name="case", window=timedelta(days=1)),
        )

    async def platform_now(self) -> datetime:
        return datetime.fromisoformat((await self.call("now"))["now"])

    async def fetch_window(self, resource: str, window: Window) -> AsyncIterator[Page]:
        api = "cases.list" if resource == "case" else "orders.list"
        args = {"start": window.start.isoformat(), "end": window.end.isoformat(), "page_size": 40}
        first = await self.call(api, page=1, **args)
        pages = max(1, -(-int(first["total"]) // 40))
        # last page first, like TOP and PDD: rows modified meanwhile move to the end, not past us
        for page in range(pages, 0, -1):
            body = first if page == 1 else await self.call(api, page=page, **args)
            yield Page(
                records=[
                    RawRecord(
                        resource=resource,
                        external_id=str(r["id"]),
                        payload=r,
                        updated_at=datetime.fromisoformat(r["modified"]),
                    )
                    for r in body["items"]
                ]
            )

    async def fetch_one(self, resource: str, external_id: str) -> RawRecord | None:
        api = "case.get" if resource == "case" else "order.get"
        item = (await self.call(api, id=external_id))["item"]
        if item is None:
            return None
        return RawRecord(
            resource=resource,
            external_id=external_id,
            payload=item,
            updated_at=datetime.fromisoformat(item["modified"]),
        )

    def map_record(self, raw: RawRecord) -> MappedRecord:
        return map_case(raw) if raw.resource == "case" else map_order(raw)

    def rule_table(self) -> RuleTable:
        return RULES

    def available_actions(self, case: AfterSale, order: Order | None) -> Sequence[ActionAvailability]:
        return (
            ActionAvailability(
                action="agree_refund",
                enabled=case.status == AfterSaleStatus.REQUESTED,
                reason=None if case.status == AfterSaleStatus.REQUESTED else "not requested",
            ),
            ActionAvailability(action="refuse", enabled=False, reason="acme has no refuse API"),
        )

    async def perform(self, request: ActionRequest) -> ActionResult:
        assert request.case is not None
        body = await self.call("case.agree", id=request.case.external_id)
        item = body["item"]
        return ActionResult(
            outcome=ActionOutcome.DONE,
            message="agreed",
            response=body,
            refreshed=[
                RawRecord(
                    resource="case",
                    external_id=item["id"],
                    payload=item,
                    updated_at=datetime.fromisoformat(item["modified"]),
                )
            ],
        )

    async def fetch_hints(self) -> Sequence[Hint]:
        msgs = (await self.call("messages.consume"))["messages"]
        return [Hint(resource="case", external_id=m["id"]) for m in msgs]

    async def close(self) -> None:
        return None
