"""Repository functions for what acting on a case writes: action records (keyed for
idempotency), timeline events, hub's own disputes (recorded refusals and appeals), evidence, and
the lookups :mod:`hub.actions` needs. Each takes an open connection, so a caller groups them in
one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain import DisputeKind, DisputeStatus
from .base import tbl
from .models import (
    ActionRecord,
    AfterSaleRecord,
    DisputeRecord,
    EventRecord,
    EvidenceRecord,
    RawRecordRow,
)

A = tbl(ActionRecord)
C = tbl(AfterSaleRecord)
D = tbl(DisputeRecord)
E = tbl(EventRecord)
V = tbl(EvidenceRecord)
R = tbl(RawRecordRow)


async def action_by_key(conn: AsyncConnection, case_id: int, action: str, key: str) -> Any:
    """The action recorded under ``key`` for this case and this action, or ``None``: a key is
    scoped to one case and action, so another case's (or shop's) use of it is never seen here."""
    return (
        await conn.execute(
            select(A).where(A.c.after_sale_id == case_id, A.c.action == action, A.c.idempotency_key == key)
        )
    ).first()


async def insert_action(conn: AsyncConnection, **values: Any) -> int:
    """Record an action before anything is sent; returns its id."""
    result = await conn.execute(insert(A).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def update_action(conn: AsyncConnection, action_id: int, **values: Any) -> None:
    await conn.execute(update(A).where(A.c.id == action_id).values(**values))


async def add_event(
    conn: AsyncConnection,
    *,
    shop_id: int,
    external_id: str,
    at: datetime,
    kind: str,
    actor: str,
    summary: str,
    data: Mapping[str, Any],
) -> None:
    """Append one entry to a case's timeline."""
    await conn.execute(
        insert(E).values(
            shop_id=shop_id,
            subject="after_sale",
            external_id=external_id,
            at=at,
            kind=kind,
            actor=actor,
            summary=summary,
            data=dict(data),
        )
    )


async def raw_resource(conn: AsyncConnection, shop_id: int, external_id: str) -> str | None:
    """Which resource a record came from (what ``fetch_one`` needs to re-read it)."""
    return (
        await conn.execute(select(R.c.resource).where(R.c.shop_id == shop_id, R.c.external_id == external_id))
    ).scalar()


async def set_assignee(conn: AsyncConnection, case_id: int, agent: str | None) -> None:
    await conn.execute(update(C).where(C.c.id == case_id).values(assignee=agent))


async def open_appeal(conn: AsyncConnection, case_id: int) -> Any:
    """The case's latest appeal that is still open, or ``None``."""
    return (
        await conn.execute(
            select(D)
            .where(
                D.c.after_sale_id == case_id,
                D.c.kind == DisputeKind.APPEAL.value,
                D.c.status.in_([s.value for s in DisputeStatus if s.is_open]),
            )
            .order_by(D.c.id.desc())
        )
    ).first()


async def add_dispute(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(D).values(**values))


async def update_dispute(conn: AsyncConnection, dispute_id: int, **values: Any) -> None:
    await conn.execute(update(D).where(D.c.id == dispute_id).values(**values))


async def add_evidence(conn: AsyncConnection, **values: Any) -> int:
    """Store an evidence item's row; returns its id."""
    result = await conn.execute(insert(V).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def evidence_row(conn: AsyncConnection, evidence_id: int) -> Any:
    return (await conn.execute(select(V).where(V.c.id == evidence_id))).first()


async def cases_of_order(conn: AsyncConnection, shop_id: int, order_external_id: str) -> list[Any]:
    """Every case of one order (a linked order's cases, for insights)."""
    return list(
        (
            await conn.execute(
                select(C).where(C.c.shop_id == shop_id, C.c.order_external_id == order_external_id)
            )
        ).all()
    )
