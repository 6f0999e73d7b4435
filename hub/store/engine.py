"""The async engine: SQLite pragmas (WAL, foreign keys, busy timeout) and pool settings."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..config import redact_url
from ..errors import StoreError


def create_engine(url: str, **kw: Any) -> AsyncEngine:
    """An AsyncEngine for ``url``; for SQLite, the file's folder is created and WAL is on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            try:
                Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"cannot create the database folder for {db}: {err}") from err
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kw)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        _skip_idle_rollbacks(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = create_async_engine(url, pool_recycle=3600, **kw)
        _ping_when_idle(engine)
        return engine
    raise StoreError(f"unsupported database {redact_url(url)}")


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads only, without transaction round trips.

    On PostgreSQL it runs in autocommit: no BEGIN before the query and no ROLLBACK when it goes
    back to the pool (two round trips of a three-round-trip page). On SQLite a read opens no
    transaction anyway (and the rollback on return is skipped, see _skip_idle_rollbacks)."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


#: a pooled PostgreSQL connection unused this long is pinged before it is handed out again
IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling without a round trip per checkout.

    ``pool_pre_ping`` pings on every checkout: one extra round trip for every work-list page.
    A connection returned moments ago is alive (a restarted server is noticed by the first query,
    which invalidates the pool's connections); only one that sat idle is pinged, and a dead one is
    replaced before anyone uses it."""
    sync = engine.sync_engine

    @event.listens_for(sync, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["hub_checked_in"] = time.monotonic()

    @event.listens_for(sync, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("hub_checked_in")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            sync.dialect.do_ping(dbapi_conn)
        except Exception as err:  # any failure means: do not hand this connection out
            raise exc.DisconnectionError(f"idle connection failed its ping: {err}") from err


def _skip_idle_rollbacks(engine: AsyncEngine) -> None:
    """Skip the ROLLBACK a read-only connection gets when it goes back to the pool (SQLite).

    sqlite3 opens a transaction only before a write, so after a read there is nothing to roll
    back; yet every rollback is a hop to aiosqlite's thread (about a third of a work-list page).
    The driver says whether a transaction is open without that hop."""
    dialect = engine.sync_engine.dialect
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        inner = getattr(getattr(dbapi_connection, "_connection", None), "_connection", None)
        if inner is not None and not inner.in_transaction:
            return
        rollback(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
