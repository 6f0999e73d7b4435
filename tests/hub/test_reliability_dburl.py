"""Database URLs with libpq options (``?sslmode=require``): translated for asyncpg, or refused in
one line naming the option; never a traceback."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine.url import make_url

from hub.config import normalise_url
from hub.errors import ConfigError
from hub.store.engine import asyncpg_args, create_engine
from hub.testing.fixtures import PG_ENV, postgres_url

ROOT = Path(__file__).resolve().parents[2]
BASE = "postgresql+asyncpg://hub:secret@db.example:5432/hub"


def test_libpq_options_become_asyncpg_arguments() -> None:
    url, args = asyncpg_args(
        make_url(
            f"{BASE}?sslmode=require&connect_timeout=7&application_name=hub-sync"
            "&options=-c%20search_path%3Dapp%20-c%20statement_timeout%3D5000&target_session_attrs=read-write"
            "&prepared_statement_cache_size=0"
        )
    )
    assert dict(url.query) == {"prepared_statement_cache_size": "0"}
    assert url.password == "secret" and url.database == "hub"
    assert args == {
        "ssl": "require",
        "timeout": 7.0,
        "target_session_attrs": "read-write",
        "server_settings": {
            "application_name": "hub-sync",
            "search_path": "app",
            "statement_timeout": "5000",
        },
    }


def test_certificate_options_make_an_ssl_context(tmp_path: Path) -> None:
    ca = ssl.get_default_verify_paths().cafile
    if not ca or not os.path.exists(ca):
        pytest.skip("no system CA bundle to stand in for a root certificate")
    _, args = asyncpg_args(make_url(f"{BASE}?sslmode=verify-full&sslrootcert={ca}"))
    ctx = args["ssl"]
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    _, args = asyncpg_args(make_url(f"{BASE}?sslmode=verify-ca&sslrootcert={ca}"))
    assert not args["ssl"].check_hostname and args["ssl"].verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sslmode=bogus", "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full"),
        ("keepalives=1", "option keepalives is not supported"),
        ("connect_timeout=soon", "connect_timeout must be seconds, not 'soon'"),
        ("options=search_path", "options must be -c name=value settings"),
        ("sslmode=verify-full&sslrootcert=/nonexistent/root.crt", "cannot read the SSL certificate files"),
    ],
)
def test_an_unusable_option_is_one_clear_error(query: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        asyncpg_args(make_url(f"{BASE}?{query}"))
    assert message in str(info.value)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("query", ["sslmode=bogus", "keepalives=1"])
def test_hub_refuses_a_bad_option_in_one_line(tmp_path: Path, query: str) -> None:
    url = f"postgresql://hub:secret@127.0.0.1:1/hub?{query}"
    res = subprocess.run(
        [sys.executable, "-m", "hub", "--database", url, "db", "current"],
        capture_output=True,
        text=True,
        env={**os.environ, "HUB_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hub: error: database URL"), res.stderr
    assert "secret" not in res.stderr


async def test_options_reach_the_server() -> None:
    admin = postgres_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://... (not set)")
    url = normalise_url(
        admin.replace("postgresql+asyncpg://", "postgresql://")
        + "?sslmode=prefer&connect_timeout=5&application_name=hub-check"
        + "&options=-c%20statement_timeout%3D4321"
    )
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            name = (await conn.execute(text("select current_setting('application_name')"))).scalar()
            timeout = (await conn.execute(text("select current_setting('statement_timeout')"))).scalar()
    finally:
        await engine.dispose()
    assert (name, timeout) == ("hub-check", "4321ms")


def test_hub_runs_with_libpq_options(tmp_path: Path) -> None:
    admin = postgres_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://... (not set)")
    url = admin.replace("postgresql+asyncpg://", "postgresql://") + "?sslmode=prefer&application_name=hub"
    res = subprocess.run(
        [sys.executable, "-m", "hub", "--database", url, "db", "current"],
        capture_output=True,
        text=True,
        env={**os.environ, "HUB_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
