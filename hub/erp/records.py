"""ERP document tables: sinks, documents (one per kind + case + step) and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, Fen, JSONDoc


class ErpSinkRecord(Base):
    """A configured destination for ERP documents (``hub sink add``)."""

    __tablename__ = "erp_sinks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  #: file, webhook, or a plugin's sink kind
    #: the sink's settings (dir, url, secret as ``env:VAR`` or literal, format, warehouse)
    config: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    #: only documents of these shops / document kinds; empty: all
    shops: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    created_at: Mapped[datetime]


class ErpDocumentRecord(Base):
    """One ERP document: the idempotency key is (kind, case, step); it is made once, never changed."""

    __tablename__ = "erp_documents"
    __table_args__ = (UniqueConstraint("kind", "after_sale_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)  #: the document number the ERP sees
    kind: Mapped[str] = mapped_column(String(30))
    step: Mapped[str] = mapped_column(String(30))
    after_sale_id: Mapped[int] = mapped_column(ForeignKey("after_sales.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen, default=0)
    #: every field a sink writes (see hub.erp.documents.FIELDS)
    body: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    created_at: Mapped[datetime]


class ErpDeliveryRecord(Base):
    """One document's delivery to one sink: delivered once, or failed with its reason and retried."""

    __tablename__ = "erp_deliveries"
    __table_args__ = (
        UniqueConstraint("document_id", "sink_id"),
        Index("ix_erp_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("erp_documents.id", ondelete="CASCADE"))
    sink_id: Mapped[int] = mapped_column(ForeignKey("erp_sinks.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))  #: delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class DisputeClosingRecord(Base):
    """The merchant's closing of a dispute record (维权单): who was responsible, and the penalty."""

    __tablename__ = "dispute_closings"

    id: Mapped[int] = mapped_column(primary_key=True)
    after_sale_id: Mapped[int] = mapped_column(ForeignKey("after_sales.id", ondelete="CASCADE"), unique=True)
    department: Mapped[str] = mapped_column(String(120))
    person: Mapped[str] = mapped_column(String(120))
    penalty_fen: Mapped[int] = mapped_column(Fen, default=0)
    decision: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime]
    closed_by: Mapped[str] = mapped_column(String(120))
