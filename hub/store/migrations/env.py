"""Alembic environment: async, URL from hub's settings unless a connection is handed in."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from hub.config import Settings
from hub.store import models  # noqa: F401  (registers the tables)
from hub.store.base import Base
from hub.store.engine import create_engine
from hub.store.migrate import include_name

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        user_module_prefix="hub.store.base.",
        include_name=include_name,
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run_sync)
            await conn.commit()
    finally:
        await engine.dispose()


def run() -> None:
    connection: Any = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
        return
    url = config.attributes.get("url") or Settings.from_env().database_url
    asyncio.run(_run_async(url))


if context.is_offline_mode():
    context.configure(
        url=Settings.from_env().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        user_module_prefix="hub.store.base.",
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
