"""The async engine: SQLite pragmas (WAL, foreign keys, busy timeout) and pool settings; libpq
URL options translated for asyncpg."""

from __future__ import annotations

import os
import shlex
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..config import redact_url
from ..errors import ConfigError, StoreError


def create_engine(url: str, **kw: Any) -> AsyncEngine:
    """An AsyncEngine for ``url``; for SQLite, the file's folder is created and WAL is on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            try:
                path = Path(db).expanduser()
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                # buyers' names and addresses: a new database is readable by the hub's user only
                # (SQLite gives its -wal and -shm files the database file's permissions)
                if not path.exists():
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
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
        plain, connect_args = asyncpg_args(parsed)
        engine = create_async_engine(plain, pool_recycle=3600, connect_args=connect_args, **kw)
        _ping_when_idle(engine)
        return engine
    raise StoreError(f"unsupported database {redact_url(url)}")


#: libpq's sslmode values; asyncpg's ``ssl`` argument takes the same names
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
#: URL options hub understands (libpq's names, as in ``postgresql://...?sslmode=require``)
URL_OPTIONS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
    "fallback_application_name",
    "options",
    "target_session_attrs",
)
#: options of SQLAlchemy's asyncpg dialect itself: left in the URL for it
DIALECT_OPTIONS = ("prepared_statement_cache_size",)


def asyncpg_args(url: URL) -> tuple[URL, dict[str, Any]]:
    """Translate a PostgreSQL URL's libpq options into asyncpg's connect arguments.

    asyncpg is handed a URL's query options as keyword arguments, and it has none of libpq's
    names: ``?sslmode=require`` would crash every command with a traceback. Returns the URL
    without its options and the arguments for ``asyncpg.connect``; an option with no asyncpg
    equivalent, or a bad value, is a :class:`ConfigError` naming it.
    """
    where = f"database URL {redact_url(url.render_as_string(hide_password=False))}"
    options: dict[str, str] = {}
    for key, value in url.query.items():
        options[key] = value[-1] if isinstance(value, tuple) else value
    unknown = sorted(set(options) - set(URL_OPTIONS) - set(DIALECT_OPTIONS))
    if unknown:
        raise ConfigError(
            f"{where}: option {', '.join(unknown)} is not supported "
            f"(supported: {', '.join(URL_OPTIONS + DIALECT_OPTIONS)})"
        )
    args: dict[str, Any] = {}
    server: dict[str, str] = {}
    mode = options.get("sslmode")
    if mode is not None:
        if mode not in SSL_MODES:
            raise ConfigError(f"{where}: sslmode must be one of {', '.join(SSL_MODES)}, not {mode!r}")
        args["ssl"] = mode
    if "connect_timeout" in options:
        try:
            args["timeout"] = float(options["connect_timeout"])
        except ValueError:
            raise ConfigError(
                f"{where}: connect_timeout must be seconds, not {options['connect_timeout']!r}"
            ) from None
    name = options.get("application_name") or options.get("fallback_application_name")
    if name:
        server["application_name"] = name
    if "options" in options:
        server.update(_server_options(options["options"], where))
    if "target_session_attrs" in options:
        args["target_session_attrs"] = options["target_session_attrs"]
    if server:
        args["server_settings"] = server
    files = {k: options[k] for k in ("sslrootcert", "sslcert", "sslkey") if options.get(k)}
    if files and mode != "disable":
        args["ssl"] = _ssl_context(
            mode or ("verify-full" if "sslrootcert" in files else "require"), files, where
        )
    return url.set(query={k: v for k, v in url.query.items() if k in DIALECT_OPTIONS}), args


def _server_options(text: str, where: str) -> dict[str, str]:
    """libpq's ``options`` (``-c search_path=app -c statement_timeout=5000``) as server settings."""
    out: dict[str, str] = {}
    words = shlex.split(text)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c" and i + 1 < len(words):
            word, i = words[i + 1], i + 1
        elif word.startswith("-c"):
            word = word[2:]
        elif word.startswith("--"):
            word = word[2:]
        else:
            raise ConfigError(f"{where}: options must be -c name=value settings, got {text!r}")
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise ConfigError(f"{where}: options must be -c name=value settings, got {text!r}")
        out[key.replace("-", "_")] = value
        i += 1
    return out


def _ssl_context(mode: str, files: dict[str, str], where: str) -> ssl.SSLContext:
    """An SSL context for libpq's certificate options, verifying as ``mode`` says."""
    try:
        ctx = ssl.create_default_context(cafile=files.get("sslrootcert"))
        if "sslcert" in files:
            ctx.load_cert_chain(files["sslcert"], files.get("sslkey"))
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(f"{where}: cannot read the SSL certificate files: {err}") from err
    ctx.check_hostname = mode == "verify-full"
    ctx.verify_mode = ssl.CERT_REQUIRED if mode in ("verify-ca", "verify-full") else ssl.CERT_NONE
    return ctx



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
