"""Reading and changing watched parcels: a case's parcels, the unmatched returns, matching by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update

from ..errors import ConfigError, NotFoundError
from ..store.base import tbl
from ..store.models import AfterSaleRecord, ShopRecord
from .records import ParcelRecord
from .tracker import STATES

PARCELS, CASES, SHOPS = tbl(ParcelRecord), tbl(AfterSaleRecord), tbl(ShopRecord)
ROLES = ("outbound", "return", "reship")


def parcel_json(p: Any) -> dict[str, Any]:
    return {
        "waybill": p.waybill,
        "company": p.company,
        "shop_id": p.shop_id,
        "role": p.role,
        "case_id": p.after_sale_id,
        "order_external_id": p.order_external_id,
        "state": p.state,
        "tracker_state": p.tracker_state,
        "final": p.final,
        "action": p.action,
        "action_due_at": p.action_due_at.isoformat() if p.action_due_at else None,
        "last_event_at": p.last_event_at.isoformat() if p.last_event_at else None,
        "last_context": p.last_context,
        "last_error": p.last_error,
        "polled_at": p.polled_at.isoformat() if p.polled_at else None,
        "matched_by": p.matched_by,
        "traces": list(p.traces or []),
    }


async def case_parcels(engine: Any, case_id: int) -> list[dict[str, Any]]:
    """The parcels watched for a case (its logistics state), outbound first."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(PARCELS).where(PARCELS.c.after_sale_id == case_id).order_by(PARCELS.c.id)
            )
        ).all()
    return [parcel_json(p) for p in rows]


async def unmatched(engine: Any) -> list[dict[str, Any]]:
    """Parcels with no case that came back or are returns: to be matched by waybill."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(PARCELS)
                .where(
                    PARCELS.c.after_sale_id.is_(None),
                    or_(PARCELS.c.role == "return", PARCELS.c.state == "returned"),
                )
                .order_by(PARCELS.c.created_at, PARCELS.c.id)
            )
        ).all()
    return [parcel_json(p) for p in rows]


async def list_parcels(engine: Any, *, watching_only: bool = False) -> list[dict[str, Any]]:
    stmt = select(PARCELS).order_by(PARCELS.c.id)
    if watching_only:
        stmt = stmt.where(PARCELS.c.final.is_(False))
    async with engine.connect() as conn:
        return [parcel_json(p) for p in (await conn.execute(stmt)).all()]


async def add_parcel(
    engine: Any, waybill: str, company: str | None, role: str, phone: str | None, now: datetime
) -> bool:
    """Watch a waybill by hand (a parcel that came back with no case). False when it is watched
    already: it is then queried on the next pass, and its courier code and phone are updated
    when given."""
    waybill = waybill.strip()
    if not waybill:
        raise ConfigError("the waybill is empty")
    if role not in ROLES:
        raise ConfigError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    async with engine.begin() as conn:
        old = (
            await conn.execute(select(PARCELS.c.id, PARCELS.c.state).where(PARCELS.c.waybill == waybill))
        ).first()
        if old is not None:
            values: dict[str, Any] = {"updated_at": now, "next_poll_at": None}  # query it on the next pass
            if company:
                values["company"] = company
                if old.state == "unknown_company":
                    values["state"] = "pending"
            if phone:
                values["phone_tail"] = phone[-4:]
            await conn.execute(update(PARCELS).where(PARCELS.c.id == old.id).values(**values))
            return False
        await conn.execute(
            insert(PARCELS).values(
                waybill=waybill,
                company=company,
                role=role,
                phone_tail=phone[-4:] if phone else None,
                state="pending" if company else "unknown_company",
                final=False,
                traces=[],
                created_at=now,
                updated_at=now,
            )
        )
    return True


async def match(engine: Any, waybill: str, case_id: int, actor: str, now: datetime) -> None:
    """Tie a parcel to a case by hand; a parcel already matched to another case is refused."""
    async with engine.begin() as conn:
        p = (await conn.execute(select(PARCELS).where(PARCELS.c.waybill == waybill.strip()))).first()
        if p is None:
            raise NotFoundError(f"no watched parcel with waybill {waybill!r} (see `hub parcels list`)")
        c = (
            await conn.execute(
                select(CASES.c.id, CASES.c.shop_id, CASES.c.order_external_id).where(CASES.c.id == case_id)
            )
        ).first()
        if c is None:
            raise NotFoundError(f"no case {case_id}")
        if p.after_sale_id is not None and p.after_sale_id != case_id:
            raise ConfigError(f"parcel {waybill} is already matched to case {p.after_sale_id}")
        await conn.execute(
            update(PARCELS)
            .where(PARCELS.c.id == p.id)
            .values(
                after_sale_id=case_id,
                shop_id=c.shop_id,
                order_external_id=c.order_external_id,
                matched_by=actor,
                # read its action against the case on the next pass
                next_poll_at=None if not p.final else p.next_poll_at,
                updated_at=now,
            )
        )


__all__ = [
    "ROLES",
    "STATES",
    "add_parcel",
    "case_parcels",
    "list_parcels",
    "match",
    "parcel_json",
    "unmatched",
]
