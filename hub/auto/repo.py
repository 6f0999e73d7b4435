"""Auto-rules in the store: add (a new version each time), enable/disable, the kill switch, the
runs (history and the daily cap's ledger)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..clock import CST
from ..errors import ConfigError
from ..store.base import tbl
from ..store.policy_models import AutoRuleRecord, AutoRuleVersionRecord, AutoRunRecord, AutoSwitchRecord

R = tbl(AutoRuleRecord)
V = tbl(AutoRuleVersionRecord)
RUN = tbl(AutoRunRecord)
SW = tbl(AutoSwitchRecord)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
#: run outcomes whose money counts against the daily cap (sent, or possibly sent)
SPENT = ("done", "recorded", "pending", "needs_verification")


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ConfigError(
            f"rule name {name!r}: use 1-60 letters, digits, '_', '.', '-' (starting with a letter or digit)"
        )
    return name


def beijing_day(at: datetime) -> str:
    """The Beijing date a daily cap counts on."""
    return at.astimezone(CST).date().isoformat()


async def rule_named(conn: AsyncConnection, name: str) -> Any:
    row = (await conn.execute(select(R).where(R.c.name == name))).first()
    if row is None:
        raise ConfigError(f"no auto-rule named {name!r} (see `hub auto list`)")
    return row


async def save_rule(
    engine: AsyncEngine,
    *,
    name: str,
    shops: Sequence[str],
    condition: str,
    action: str,
    params: Mapping[str, Any],
    daily_cap_fen: int | None,
    actor: str,
    now: datetime,
) -> Any:
    """Add the rule, or a new version of it (a new version starts disabled: enable it after its
    dry-run). Returns the rule's row."""
    values = {
        "shops": list(shops),
        "condition": condition,
        "action": action,
        "params": dict(params),
        "daily_cap_fen": daily_cap_fen,
    }
    async with engine.begin() as conn:
        row = (await conn.execute(select(R).where(R.c.name == name))).first()
        if row is None:
            rid = (
                await conn.execute(
                    insert(R).values(
                        name=name, version=1, enabled=False, created_at=now, updated_at=now, **values
                    )
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            version = 1
        else:
            rid, version = row.id, row.version + 1
            await conn.execute(
                update(R)
                .where(R.c.id == rid)
                .values(version=version, enabled=False, updated_at=now, **values)
            )
        await conn.execute(
            insert(V).values(rule_id=rid, version=version, created_at=now, created_by=actor[:120], **values)
        )
        return (await conn.execute(select(R).where(R.c.id == rid))).first()


async def set_enabled(engine: AsyncEngine, name: str, enabled: bool, now: datetime) -> Any:
    async with engine.begin() as conn:
        row = await rule_named(conn, name)
        await conn.execute(update(R).where(R.c.id == row.id).values(enabled=enabled, updated_at=now))
        return (await conn.execute(select(R).where(R.c.id == row.id))).first()


async def all_rules(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(R).order_by(R.c.name))).all())


async def get_rule(engine: AsyncEngine, name: str) -> Any:
    async with engine.connect() as conn:
        return await rule_named(conn, name)


async def versions(engine: AsyncEngine, rule_id: int) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            (await conn.execute(select(V).where(V.c.rule_id == rule_id).order_by(V.c.version.desc()))).all()
        )


async def runs(engine: AsyncEngine, rule_id: int | None = None, limit: int = 100) -> list[Any]:
    """The latest runs (of one rule), newest first."""
    stmt = select(RUN, R.c.name).join(R, R.c.id == RUN.c.rule_id).order_by(RUN.c.id.desc()).limit(limit)
    if rule_id is not None:
        stmt = stmt.where(RUN.c.rule_id == rule_id)
    async with engine.connect() as conn:
        return list((await conn.execute(stmt)).all())


async def is_paused(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return bool((await conn.execute(select(SW.c.paused).where(SW.c.id == 1))).scalar())


async def set_paused(engine: AsyncEngine, paused: bool, actor: str, now: datetime) -> None:
    async with engine.begin() as conn:
        exists = (await conn.execute(select(SW.c.id).where(SW.c.id == 1))).first()
        values = {"paused": paused, "changed_at": now, "changed_by": actor[:120]}
        if exists:
            await conn.execute(update(SW).where(SW.c.id == 1).values(**values))
        else:
            await conn.execute(insert(SW).values(id=1, **values))


async def spent_today(conn: AsyncConnection, rule_id: int, day: str) -> int:
    """Fen this rule moved (or may have moved) on the Beijing ``day``, across every run."""
    total = (
        await conn.execute(
            select(func.coalesce(func.sum(RUN.c.amount_fen), 0)).where(
                RUN.c.rule_id == rule_id, RUN.c.day == day, RUN.c.outcome.in_(SPENT)
            )
        )
    ).scalar_one()
    return int(total)


async def handled_cases(conn: AsyncConnection, rule_id: int, version: int) -> set[int]:
    """Cases this version already acted on (or was refused on): not tried again. Failed ones are
    retried under the same idempotency key."""
    rows = (
        await conn.execute(
            select(RUN.c.after_sale_id).where(
                RUN.c.rule_id == rule_id,
                RUN.c.version == version,
                RUN.c.after_sale_id.is_not(None),
                RUN.c.outcome.not_in(("failed", "capped")),
            )
        )
    ).all()
    return {int(r[0]) for r in rows}


async def add_run(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(RUN).values(**values))
