"""Shop leases: several hub processes may share one database; a shop is synced by one at a time.

A lease is taken with one conditional UPDATE (free, lapsed, or already ours), which both SQLite
and PostgreSQL apply atomically to the row, so no transaction stays open while the platform is
called. ``SELECT ... FOR UPDATE SKIP LOCKED`` would hold a transaction (and, on SQLite, the
write lock) for the whole sync, which the conditional UPDATE avoids, and it works the same on
both backends. A holder that dies loses its lease when ``lease_until`` passes, or at
once when it ran on this machine and its process is gone (a killed sync restarts right away).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..store.base import tbl
from ..store.models import ShopRecord

SHOPS = tbl(ShopRecord)
LEASE = timedelta(minutes=10)

#: this process's identity as a lease holder
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead_here(holder: str | None) -> bool:
    """True when ``holder`` is a process of this machine that no longer runs (it was killed):
    its lease need not be waited out."""
    if not holder:
        return False
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


async def acquire(engine: AsyncEngine, shop_id: int, now: datetime, owner: str = OWNER) -> bool:
    """Take (or renew) the shop's lease; False when another live process holds it."""
    async with engine.begin() as conn:
        res = await conn.execute(
            update(SHOPS)
            .where(
                SHOPS.c.id == shop_id,
                or_(SHOPS.c.lease_owner.is_(None), SHOPS.c.lease_until < now, SHOPS.c.lease_owner == owner),
            )
            .values(lease_owner=owner, lease_until=now + LEASE)
        )
        if res.rowcount:
            return True
        holder = (await conn.execute(select(SHOPS.c.lease_owner).where(SHOPS.c.id == shop_id))).scalar()
        if not _dead_here(holder):
            return False
        # The holder was killed on this machine: take its lease over now (still conditional, so
        # two processes racing for it cannot both win).
        res = await conn.execute(
            update(SHOPS)
            .where(SHOPS.c.id == shop_id, SHOPS.c.lease_owner == holder)
            .values(lease_owner=owner, lease_until=now + LEASE)
        )
        return bool(res.rowcount)


async def release(engine: AsyncEngine, shop_id: int, owner: str = OWNER) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(SHOPS)
            .where(SHOPS.c.id == shop_id, SHOPS.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
