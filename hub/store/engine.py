"""The async engine: SQLite pragmas (WAL, foreign keys, busy timeout) and pool settings; libpq
URL options translated for asyncpg."""

from __future__ import annotations

import os
import shlex
import ssl
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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

        return engine
    if parsed.get_backend_name() == "postgresql":
        plain, connect_args = asyncpg_args(parsed)
        return create_async_engine(plain, pool_pre_ping=True, connect_args=connect_args, **kw)
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
