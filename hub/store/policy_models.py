"""Tables of the shop's own policy values and of the auto-rules (their versions, runs and switch).

Kept in their own module like :mod:`hub.store.access`; :mod:`hub.store.models` imports it so the
tables are part of ``Base.metadata``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONDoc


class ShopPolicyRecord(Base):
    """One value of one policy key for one shop, in force from ``effective_at``. Never updated:
    a change is a new row, so the history stays (the latest row in force wins)."""

    __tablename__ = "shop_policies"
    __table_args__ = (Index("ix_shop_policies_shop_key", "shop_id", "key", "effective_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(40))  #: the canonical text (24h, 15d, 1000, 16:00)
    effective_at: Mapped[datetime]
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(120))
    #: when hub last wrote this value into the shop's rule settings (None: not yet in force)
    applied_at: Mapped[datetime | None]


class AutoRuleRecord(Base):
    """An auto-rule's current version; every version is kept in ``auto_rule_versions``."""

    __tablename__ = "auto_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    shops: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    condition: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    daily_cap_fen: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AutoRuleVersionRecord(Base):
    """One version of an auto-rule, as it was added (the history ``hub auto show`` lists)."""

    __tablename__ = "auto_rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("auto_rules.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    shops: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    condition: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    daily_cap_fen: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(120))


class AutoRunRecord(Base):
    """What an auto-rule did to one case (or why it stopped): its history and the daily cap's ledger."""

    __tablename__ = "auto_runs"
    __table_args__ = (Index("ix_auto_runs_rule_day", "rule_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("auto_rules.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    day: Mapped[str] = mapped_column(String(10))  #: the Beijing date the cap counts on
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    after_sale_id: Mapped[int | None] = mapped_column(ForeignKey("after_sales.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(40))
    amount_fen: Mapped[int] = mapped_column(Integer, default=0)
    #: done, recorded, pending, needs_verification, failed, refused, capped
    outcome: Mapped[str] = mapped_column(String(30))
    action_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)


class AutoSwitchRecord(Base):
    """The kill switch for every auto-rule: one row (id 1); no row means running."""

    __tablename__ = "auto_switch"

    id: Mapped[int] = mapped_column(primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(120))
