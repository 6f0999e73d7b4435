"""Reading and writing the ERP tables: sinks, a case's documents with their deliveries, closings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import ConfigError, NotFoundError
from ..store.base import tbl
from ..store.models import AfterSaleRecord
from .documents import KINDS
from .records import DisputeClosingRecord, ErpDeliveryRecord, ErpDocumentRecord, ErpSinkRecord

DOCS, DELIV, SINKS, CLOSINGS = (
    tbl(ErpDocumentRecord),
    tbl(ErpDeliveryRecord),
    tbl(ErpSinkRecord),
    tbl(DisputeClosingRecord),
)
CASES = tbl(AfterSaleRecord)


async def add_sink(
    engine: Any,
    name: str,
    kind: str,
    config: Mapping[str, str],
    shops: Sequence[str],
    kinds: Sequence[str],
    now: datetime,
    known_kinds: Sequence[str],
) -> int:
    """Add a sink; bad kinds or document kinds are a ConfigError naming them."""
    if kind not in known_kinds:
        raise ConfigError(f"unknown sink kind {kind!r} (one of {', '.join(sorted(known_kinds))})")
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ConfigError(f"--kinds: unknown document kind {', '.join(bad)} (one of {', '.join(KINDS)})")
    try:
        async with engine.begin() as conn:
            res = await conn.execute(
                insert(SINKS).values(
                    name=name,
                    kind=kind,
                    config=dict(config),
                    shops=list(shops),
                    kinds=list(kinds),
                    created_at=now,
                )
            )
            return int(res.inserted_primary_key[0])
    except IntegrityError:
        raise ConfigError(f"a sink named {name!r} already exists (hub sink remove {name} first)") from None


async def list_sinks(engine: Any) -> list[dict[str, Any]]:
    """Every sink with its delivery counts; secrets masked."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(SINKS).order_by(SINKS.c.name))).all()
        counts: dict[tuple[int, str], int] = {}
        for sink_id, status, n in await conn.execute(
            select(DELIV.c.sink_id, DELIV.c.status, func.count()).group_by(DELIV.c.sink_id, DELIV.c.status)
        ):
            counts[(sink_id, status)] = int(n)
    out = []
    for r in rows:
        config = dict(r.config or {})
        if config.get("secret") and not str(config["secret"]).startswith("env:"):
            config["secret"] = "***"
        out.append(
            {
                "name": r.name,
                "kind": r.kind,
                "config": config,
                "shops": list(r.shops or []),
                "kinds": list(r.kinds or []),
                "delivered": counts.get((r.id, "delivered"), 0),
                "failed": counts.get((r.id, "failed"), 0),
            }
        )
    return out


async def remove_sink(engine: Any, name: str) -> None:
    async with engine.begin() as conn:
        res = await conn.execute(delete(SINKS).where(SINKS.c.name == name))
    if not res.rowcount:
        raise NotFoundError(f"no sink named {name!r} (see `hub sink list`)")


async def sink_exists(engine: Any, name: str) -> bool:
    async with engine.connect() as conn:
        return (await conn.execute(select(SINKS.c.id).where(SINKS.c.name == name))).first() is not None


async def case_documents(engine: Any, case_id: int) -> list[dict[str, Any]]:
    """A case's ERP documents, in order, each with its delivery to every sink (the case page's
    "ERP 单据" block and ``hub case show``)."""
    async with engine.connect() as conn:
        docs = (
            await conn.execute(select(DOCS).where(DOCS.c.after_sale_id == case_id).order_by(DOCS.c.id))
        ).all()
        if not docs:
            return []
        rows = (
            await conn.execute(
                select(DELIV, SINKS.c.name.label("sink"))
                .join(SINKS, SINKS.c.id == DELIV.c.sink_id)
                .where(DELIV.c.document_id.in_([d.id for d in docs]))
                .order_by(SINKS.c.name)
            )
        ).all()
    by_doc: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_doc.setdefault(r.document_id, []).append(
            {
                "sink": r.sink,
                "status": r.status,
                "attempts": r.attempts,
                "error": r.error,
                "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
                "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
            }
        )
    return [
        {
            "number": d.number,
            "kind": d.kind,
            "step": d.step,
            "amount_fen": d.amount_fen,
            "created_at": d.created_at.isoformat(),
            "deliveries": by_doc.get(d.id, []),
        }
        for d in docs
    ]


async def close_dispute(
    engine: Any,
    case_id: int,
    *,
    department: str,
    person: str,
    penalty_fen: int,
    decision: str | None,
    actor: str,
    now: datetime,
) -> bool:
    """Record the merchant's closing of the case's dispute record; False when it was closed before
    (a closing is written once: the document it makes is never changed)."""
    if not department.strip() or not person.strip():
        raise ConfigError("closing a dispute record needs the responsible department and person")
    if penalty_fen < 0:
        raise ConfigError("--penalty-yuan cannot be negative")
    async with engine.begin() as conn:
        if (await conn.execute(select(CASES.c.id).where(CASES.c.id == case_id))).first() is None:
            raise NotFoundError(f"no case {case_id}")
        if (await conn.execute(select(CLOSINGS.c.id).where(CLOSINGS.c.after_sale_id == case_id))).first():
            return False
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(CLOSINGS).values(
                    after_sale_id=case_id,
                    department=department.strip(),
                    person=person.strip(),
                    penalty_fen=penalty_fen,
                    decision=decision,
                    closed_at=now,
                    closed_by=actor,
                )
            )
    except IntegrityError:
        return False
    return True


async def retry_now(engine: Any, sink: str, now: datetime) -> int:
    """Make a sink's failed deliveries due now (``hub sink replay``); returns how many."""
    async with engine.begin() as conn:
        sid = (await conn.execute(select(SINKS.c.id).where(SINKS.c.name == sink))).scalar()
        if sid is None:
            raise NotFoundError(f"no sink named {sink!r} (see `hub sink list`)")
        res = await conn.execute(
            update(DELIV)
            .where(DELIV.c.sink_id == sid, DELIV.c.status == "failed")
            .values(next_attempt_at=now)
        )
    return int(res.rowcount or 0)
