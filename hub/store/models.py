"""ORM rows (``*Record``). Tables are plural snake_case; constraint names come from the convention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Fen, JSONDoc

#: the sort key of a case with no deadline: after every real one
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


class ShopRecord(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    needs_reauth: Mapped[bool] = mapped_column(Boolean, default=False)
    reauth_reason: Mapped[str | None] = mapped_column(Text)
    #: a sync process's lease on the shop: several hub processes on one database never sync the
    #: same shop at once (a conditional UPDATE takes it; it lapses if the holder dies)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    #: the fingerprint of the rules and policy settings the shop's stored next actions come from:
    #: when it differs, the next sync recomputes them
    rules_digest: Mapped[str | None] = mapped_column(String(32))
    #: the platform asked hub to wait past the shop's max_wait: syncs skip the shop until then
    rate_limited_until: Mapped[datetime | None]
    rate_limit_reason: Mapped[str | None] = mapped_column(Text)
    #: bumped each time the lease changes hands: a commit checks it (fencing), so a paused holder
    #: whose lease was taken over cannot write
    lease_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: how many times a lapsed or dead holder's lease was taken over (a metric)
    lease_takeovers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: when the scheduler next enqueues this shop's sync (claimed with a conditional UPDATE)
    next_sync_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class _Deadline:
    """The next action, stored on orders and after-sales (the work list reads and sorts on it).

    ``deadline_*`` hold the one next action every surface shows (:class:`hub.domain.NextAction`):
    on a case linked to other orders it is the earliest merchant deadline across the chain, and
    ``deadline_via`` names the link it comes from. ``own_action`` is the subject's own next action
    (before the chain), which the chain of the linked subjects reads.
    """

    deadline_due_at: Mapped[datetime | None]  #: None: no clock (deadline_no_clock_reason says why)
    deadline_party: Mapped[str | None] = mapped_column(String(20))  #: merchant, buyer, platform, supplier
    deadline_action: Mapped[str | None] = mapped_column(String(40))
    deadline_on_expiry: Mapped[str | None] = mapped_column(String(40))
    deadline_source: Mapped[str | None] = mapped_column(String(20))
    deadline_rule_id: Mapped[str | None] = mapped_column(String(120))
    deadline_rule_source: Mapped[str | None] = mapped_column(Text)
    deadline_summary: Mapped[str | None] = mapped_column(Text)
    deadline_penalty_fen: Mapped[int | None] = mapped_column(Fen)
    deadline_no_clock_reason: Mapped[str | None] = mapped_column(Text)  #: English
    deadline_consequence_zh: Mapped[str | None] = mapped_column(Text)
    deadline_consequence_en: Mapped[str | None] = mapped_column(Text)
    #: {subject, platform, shop, external_id, label, label_en, case_id} of the link, or None
    deadline_via: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    #: the subject's own next action (NextAction fields, zh and en), or None
    own_action: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)


class OrderRecord(_Deadline, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "external_id"),
        Index("ix_orders_external_id", "external_id"),
        Index("ix_orders_recipient_key", "recipient_key"),
        # orders in the work list: a running merchant clock (ship), soonest first
        Index("ix_orders_worklist", "in_work", "work_due_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(40))
    platform_status: Mapped[str] = mapped_column(String(80))
    buyer: Mapped[str | None] = mapped_column(String(120))
    recipient_key: Mapped[str | None] = mapped_column(String(120))
    total_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_fen: Mapped[int] = mapped_column(Fen, default=0)
    created_at: Mapped[datetime]
    platform_updated_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    waybill: Mapped[str | None] = mapped_column(String(80))
    remark: Mapped[str | None] = mapped_column(Text)
    status_since: Mapped[datetime | None]
    #: the order is a work-list item: a merchant clock runs on it (ship, hold for a refund)
    in_work: Mapped[bool] = mapped_column(Boolean, default=False)
    #: deadline_due_at, or NO_DEADLINE: the work list's sort key
    work_due_at: Mapped[datetime]
    #: lines, links, facts, platform_deadline: the rest of the mapped Order
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    content_hash: Mapped[str] = mapped_column(String(32))


class AfterSaleRecord(_Deadline, Base):
    __tablename__ = "after_sales"
    __table_args__ = (
        UniqueConstraint("shop_id", "external_id"),
        # the work list: open cases, soonest deadline first, keyset-paged on (work_due_at, id)
        Index("ix_after_sales_worklist", "is_open", "work_due_at", "id"),
        Index("ix_after_sales_order", "shop_id", "order_external_id"),
        Index("ix_after_sales_external_id", "external_id"),
        Index("ix_after_sales_order_external_id", "order_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(80))
    order_external_id: Mapped[str] = mapped_column(String(80))
    line_external_id: Mapped[str | None] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(30))
    is_open: Mapped[bool] = mapped_column(Boolean)
    platform_status: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    refund_fen: Mapped[int] = mapped_column(Fen, default=0)
    buyer: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]
    platform_updated_at: Mapped[datetime]
    version: Mapped[int | None] = mapped_column(Fen)
    return_waybill: Mapped[str | None] = mapped_column(String(80))
    status_since: Mapped[datetime | None]
    dispute_kind: Mapped[str | None] = mapped_column(String(30))
    dispute_status: Mapped[str | None] = mapped_column(String(30))
    assignee: Mapped[str | None] = mapped_column(String(120))
    #: deadline_due_at (chain-aware), or NO_DEADLINE when there is none: a non-null sort key both
    #: backends index alike
    work_due_at: Mapped[datetime]
    #: facts, description, warnings, platform_deadline, dispute, paid_fen: the rest of the AfterSale
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    content_hash: Mapped[str] = mapped_column(String(32))


class EventRecord(Base):
    """A case's (or order's) timeline. Keyed by external id so bulk upserts need no returned ids."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "shop_id", "subject", "external_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(20))  #: "after_sale" or "order"
    external_id: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)


class RawRecordRow(Base):
    """What the platform sent, as received: the latest version of each record."""

    __tablename__ = "raw_records"
    __table_args__ = (UniqueConstraint("shop_id", "resource", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    resource: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    platform_updated_at: Mapped[datetime | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    payload_hash: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime]


class QuarantineRecord(Base):
    """A record that could not be mapped, with its error. Resolved when a later version maps."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("shop_id", "resource", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    resource: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    platform_updated_at: Mapped[datetime | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    payload_hash: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class SyncCheckpointRecord(Base):
    """How far a shop's resource is synced: the end of the last window committed."""

    __tablename__ = "sync_checkpoints"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    resource: Mapped[str] = mapped_column(String(40), primary_key=True)
    position_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SyncRunRecord(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_shop_started", "shop_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))  #: running, ok, partial, failed, reauth
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str]] = mapped_column(JSONDoc, default=list)


class ActionRecord(Base):
    """An action, recorded before it is sent. The idempotency key makes a retry never act twice."""

    __tablename__ = "actions"
    # a key is the caller's, scoped to one case and one action: two agents (or two shops) choosing
    # the same key neither see nor block each other's actions
    __table_args__ = (UniqueConstraint("after_sale_id", "action", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    after_sale_id: Mapped[int | None] = mapped_column(ForeignKey("after_sales.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    status: Mapped[str] = mapped_column(String(20))  #: pending, done, needs_verification, failed, recorded
    message: Mapped[str | None] = mapped_column(Text)
    response: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    actor: Mapped[str] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DisputeRecord(Base):
    """A dispute hub tracks itself: an appeal or refusal made in a merchant backend with no API."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    after_sale_id: Mapped[int] = mapped_column(ForeignKey("after_sales.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(30))
    subtype: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(120))


class EvidenceRecord(Base):
    """An evidence item attached to a case (and its dispute): a file hub stores, or a platform URL."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    after_sale_id: Mapped[int] = mapped_column(ForeignKey("after_sales.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column(Fen)
    sha256: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(Text)  #: relative to the hub home's evidence folder
    url: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(120))


class OrderLinkRecord(Base):
    """A purchase (e.g. a 17网 dropship order) linked to the sale it fulfils."""

    __tablename__ = "order_links"
    __table_args__ = (UniqueConstraint("purchase_order_id", "sale_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sale_order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(20))  #: remark, match, manual
    created_at: Mapped[datetime]


# The workbench's tables live in their own module; importing it here puts them in Base.metadata
# for alembic and the fixtures.
from . import access  # noqa: E402, F401


class WorkerTaskRecord(Base):
    """One task run by ``hub worker``: the ledger behind queue and latency metrics, and on SQLite
    the queue itself (PostgreSQL queues through procrastinate's tables)."""

    __tablename__ = "worker_tasks"
    __table_args__ = (Index("ix_worker_tasks_status_queued", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    #: at most one queued task per key (``sync:12``): enqueueing twice is a no-op
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    args: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    status: Mapped[str] = mapped_column(String(16))  #: queued, running, done, failed
    queued_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(160))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


# The alert channels and their sent-log live with the alerts (hub.notify); imported here so they
# are in Base.metadata for alembic and the fixtures.
# ERP documents and watched parcels live in their feature packages; importing them here puts
# their tables in Base.metadata for alembic and the fixtures.
from ..erp import records as _erp_records  # noqa: E402, F401
from ..logistics import records as _logistics_records  # noqa: E402, F401
from ..notify import models as _alert_models  # noqa: E402, F401
from . import policy_models  # noqa: E402, F401  (shop policies and auto-rules)
