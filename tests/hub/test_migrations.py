"""Migrations: one head, upgrade → downgrade to base → upgrade, and no pending autogenerate diff."""

from __future__ import annotations

from sqlalchemy import inspect

from hub.store.engine import create_engine
from hub.store.migrate import current_revision, downgrade, head_revision, pending_diff, upgrade


async def test_up_down_up_and_check(db_url: str):
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        assert await pending_diff(engine) == []
        await downgrade(engine, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
        await upgrade(engine)
        assert await pending_diff(engine) == []
    finally:
        await engine.dispose()


def test_single_head():
    assert head_revision()
