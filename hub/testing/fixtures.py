"""pytest fixtures for hub and its plugins: ``pytest_plugins = ["hub.testing.fixtures"]``.

- ``db_url``: a fresh, empty database URL, parametrised over SQLite (always) and PostgreSQL
  (when ``HUB_TEST_POSTGRES_URL`` names a server; otherwise that half is skipped, saying so).
- ``engine``: an AsyncEngine on it, migrated to head with alembic (never ``create_all``).
- ``plugin_manager``: a plugin manager with no entry points loaded; register what the test needs.
- ``make_hub``: builds a :class:`hub.runtime.Hub` over ``engine`` with the given plugin modules.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ..config import Settings, normalise_url
from ..plugins import get_plugin_manager
from ..runtime import Hub
from ..store.engine import create_engine
from ..store.migrate import upgrade

PG_ENV = "HUB_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    url = os.environ.get(PG_ENV)
    return normalise_url(url) if url else None


async def create_pg_database(admin_url: str) -> str:
    """Create a uniquely named database on the server of ``admin_url``; return its URL."""
    import asyncpg

    url = make_url(admin_url)
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(db_url: str) -> None:
    import asyncpg

    url = make_url(db_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database="postgres"
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    admin = postgres_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://... (not set)")
    url = await create_pg_database(admin)
    try:
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    await upgrade(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def plugin_manager() -> Iterator[pluggy.PluginManager]:
    yield get_plugin_manager(load_entrypoints=False)


@pytest.fixture
async def make_hub(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Callable[..., Hub]]:
    made: list[Hub] = []

    async def _noop_sleep(_s: float) -> None:
        return None

    def _make(*plugins: Any, fast_sleep: bool = True, **kw: Any) -> Hub:
        pm = get_plugin_manager(load_entrypoints=False, plugins=plugins)
        settings = Settings.from_env(
            database_url=str(engine.url.render_as_string(hide_password=False)), home=tmp_path / "home"
        )
        if fast_sleep:
            kw.setdefault("sleep", _noop_sleep)
        hub = Hub.open(settings, pm=pm, engine=engine, **kw)
        made.append(hub)
        return hub

    yield _make
    for hub in made:
        if hub._http is not None:
            await hub._http.close()
