"""The unified model: one vocabulary for every platform.

Plugins map their platform's records to these types in their ``mapping`` module; the store, the
rule evaluator, the CLI, the API and the agent page speak only these. The names are the contract
(see docs/model.md and DESIGN.md): money is integer fen (``*_fen``), times are aware UTC
(``*_at``), a platform's own identifiers are strings (``external_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class OrderRole(StrEnum):
    """Which side of the merchant an order is on."""

    SALE = "sale"  #: the merchant sold to a buyer (Taobao, Pinduoduo)
    PURCHASE = "purchase"  #: the merchant bought upstream to fulfil a sale (17网 dropship)


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"  #: paid, not shipped (售中)
    SHIPPED = "shipped"
    COMPLETED = "completed"  #: trade success / confirmed receipt
    REFUNDING = "refunding"  #: an after-sales case holds the order
    CANCELLED = "cancelled"  #: closed before payment, or by the buyer
    CLOSED = "closed"  #: closed after payment (fully refunded)


class AfterSaleKind(StrEnum):
    REFUND_ONLY = "refund_only"  #: 仅退款
    RETURN_REFUND = "return_refund"  #: 退货退款
    EXCHANGE = "exchange"  #: 换货
    RESHIP = "reship"  #: 补发 / 补寄
    REPAIR = "repair"  #: 维修
    COMPENSATION = "compensation"  #: 补偿 / 补差价


class Party(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"
    PLATFORM = "platform"
    NONE = "none"


class AfterSaleStatus(StrEnum):
    REQUESTED = "requested"
    SELLER_REFUSED = "seller_refused"
    AWAITING_RETURN = "awaiting_return"
    RETURN_SHIPPED = "return_shipped"
    AWAITING_RESHIP = "awaiting_reship"
    RESHIPPED = "reshipped"
    REFUNDING = "refunding"
    PLATFORM_REVIEW = "platform_review"
    SUCCEEDED = "succeeded"
    CLOSED = "closed"

    @property
    def awaiting(self) -> Party:
        """Who the case waits for in this status (DESIGN.md's table)."""
        return AWAITING[self]

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL_STATUSES


AWAITING: Mapping[AfterSaleStatus, Party] = {
    AfterSaleStatus.REQUESTED: Party.SELLER,
    AfterSaleStatus.SELLER_REFUSED: Party.BUYER,
    AfterSaleStatus.AWAITING_RETURN: Party.BUYER,
    AfterSaleStatus.RETURN_SHIPPED: Party.SELLER,
    AfterSaleStatus.AWAITING_RESHIP: Party.SELLER,
    AfterSaleStatus.RESHIPPED: Party.BUYER,
    AfterSaleStatus.REFUNDING: Party.PLATFORM,
    AfterSaleStatus.PLATFORM_REVIEW: Party.PLATFORM,
    AfterSaleStatus.SUCCEEDED: Party.NONE,
    AfterSaleStatus.CLOSED: Party.NONE,
}

TERMINAL_STATUSES = frozenset({AfterSaleStatus.SUCCEEDED, AfterSaleStatus.CLOSED})
OPEN_STATUSES = frozenset(s for s in AfterSaleStatus if s not in TERMINAL_STATUSES)


class DisputeKind(StrEnum):
    INTERVENTION = "intervention"  #: 介入: the platform mediates a refund
    COMPLAINT = "complaint"  #: 维权: late_shipment, fake_shipment, broken_promise, not_received
    APPEAL = "appeal"  #: 申诉 against a platform decision


class DisputeStatus(StrEnum):
    OPEN = "open"
    EVIDENCE_REQUIRED = "evidence_required"
    UNDER_REVIEW = "under_review"
    RULED_FOR_BUYER = "ruled_for_buyer"
    RULED_FOR_SELLER = "ruled_for_seller"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self in {DisputeStatus.OPEN, DisputeStatus.EVIDENCE_REQUIRED, DisputeStatus.UNDER_REVIEW}


class OnExpiry(StrEnum):
    """What the platform does by itself when a deadline passes and nobody acted."""

    AUTO_AGREE = "auto_agree"
    AUTO_REFUND = "auto_refund"
    AUTO_CLOSE = "auto_close"
    AUTO_CONFIRM = "auto_confirm"
    ESCALATION_OPENS = "escalation_opens"
    PENALTY = "penalty"
    SCRAPPED = "scrapped"  #: 17网: an unclaimed return parcel is destroyed
    OVERDUE = "overdue"  #: nothing automatic happens; the case is flagged overdue
    NOTHING = "nothing"


class DeadlineSource(StrEnum):
    PLATFORM = "platform"  #: the platform stated the time itself; always wins
    RULE = "rule"  #: a plugin's rule table computed it


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    WAYBILL = "waybill"
    WEIGHT = "weight"
    CHAT = "chat"
    VIDEO = "video"
    DOCUMENT = "document"


@dataclass(frozen=True, kw_only=True)
class Shop:
    """One seller account on one platform. ``settings`` holds the plugin's settings, secrets resolved."""

    name: str
    platform: str
    settings: Mapping[str, str] = field(default_factory=dict)
    id: int | None = None
    needs_reauth: bool = False


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    external_id: str
    title: str = ""
    sku_id: str | None = None
    sku_name: str | None = None
    quantity: int = 1
    unit_price_fen: int = 0
    paid_fen: int = 0
    status: str | None = None  #: the platform's own line status, raw
    refund_status: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderLink:
    """A hint that this (purchase) order fulfils a sale order; resolved by the core."""

    sale_external_id: str | None = None  #: the sale's order id, e.g. read from a purchase remark
    recipient_key: str | None = None  #: normalised recipient (name + phone tail) to match by
    sku_keys: tuple[str, ...] = ()
    day: str | None = None  #: YYYY-MM-DD (Beijing) the purchase was placed


@dataclass(frozen=True, kw_only=True)
class Order:
    external_id: str
    status: OrderStatus
    platform_status: str  #: the platform's own status value, raw
    created_at: datetime
    updated_at: datetime  #: the platform's modified time: decides newer-wins
    role: OrderRole = OrderRole.SALE
    buyer: str | None = None
    recipient_key: str | None = None
    total_fen: int = 0
    paid_fen: int = 0
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    signed_at: datetime | None = None
    completed_at: datetime | None = None
    waybill: str | None = None
    remark: str | None = None
    lines: tuple[OrderLine, ...] = ()
    links: tuple[OrderLink, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)  #: plugin facts the rules read
    platform_deadline: PlatformDeadline | None = None
    warnings: tuple[str, ...] = ()  #: mapping warnings (e.g. an unknown status mapped to a default)


@dataclass(frozen=True, kw_only=True)
class Evidence:
    kind: EvidenceKind
    name: str
    description: str = ""
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    url: str | None = None  #: the platform's URL, for evidence the platform holds
    added_at: datetime | None = None
    added_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class Dispute:
    kind: DisputeKind
    status: DisputeStatus
    external_id: str | None = None
    subtype: str | None = None  #: complaint type: late_shipment, fake_shipment, broken_promise, ...
    platform_status: str | None = None
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    appeal_open: bool = False  #: the platform has opened an appeal path (开放申诉)
    note: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PlatformDeadline:
    """A deadline the platform states itself (TOP ``refund_remind_timeout``, PDD ``expire_time``)."""

    due_at: datetime
    action: str | None = None
    on_expiry: OnExpiry | None = None
    party: Party | None = None


@dataclass(frozen=True, kw_only=True)
class AfterSale:
    external_id: str
    order_external_id: str
    kind: AfterSaleKind
    status: AfterSaleStatus
    platform_status: str  #: the platform's own status value(s), raw, e.g. "WAIT_SELLER_AGREE"
    created_at: datetime
    updated_at: datetime  #: the platform's modified time: decides newer-wins
    line_external_id: str | None = None
    reason: str | None = None
    refund_fen: int = 0
    paid_fen: int | None = None
    buyer: str | None = None
    description: str | None = None
    version: int | None = None  #: the platform's record version, tie-breaker (TOP refund_version)
    return_waybill: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)  #: plugin facts the rules read (ISO times)
    platform_deadline: PlatformDeadline | None = None
    dispute: Dispute | None = None
    warnings: tuple[str, ...] = ()  #: mapping warnings (e.g. an unknown status mapped to a default)

    @property
    def awaiting(self) -> Party:
        return self.status.awaiting


@dataclass(frozen=True, kw_only=True)
class Deadline:
    """The next thing someone must do on a case, and what happens if nobody does."""

    due_at: datetime
    party: Party
    action: str
    on_expiry: OnExpiry
    source: DeadlineSource
    rule_id: str | None = None
    rule_source: str | None = None  #: the document the rule comes from
    summary: str | None = None  #: e.g. "72 小时未处理将自动同意退款"
    penalty_fen: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "due_at": self.due_at.isoformat(),
            "party": self.party.value,
            "action": self.action,
            "on_expiry": self.on_expiry.value,
            "source": self.source.value,
            "rule_id": self.rule_id,
            "rule_source": self.rule_source,
            "summary": self.summary,
            "penalty_fen": self.penalty_fen,
        }


@dataclass(frozen=True, kw_only=True)
class Event:
    """One entry of a case's timeline. ``at`` is the platform's time of the change when known."""

    at: datetime
    kind: str  #: created, status_changed, deadline_changed, dispute_changed, action, note, ...
    summary: str
    actor: str = "platform"
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RawRecord:
    """What the platform sent, as received. Kept beside the mapped record, and alone when mapping fails."""

    resource: str  #: e.g. "trade", "refund", "after_sale", "purchase"
    external_id: str
    payload: Mapping[str, Any]
    updated_at: datetime | None = None  #: the platform's modified time, when the plugin can read it


@dataclass(frozen=True, kw_only=True)
class Insight:
    """Advice shown on a case: a handling guide, an eligibility verdict, a conflict warning."""

    kind: str  #: guide, eligibility, warning, upstream_step, link
    title: str
    body: str = ""
    level: str = "info"  #: info, warning, danger
    source: str | None = None  #: where the advice comes from (a seed, a rule id)
    due_at: datetime | None = None
    amount_fen: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


MappedRecord = Order | AfterSale
