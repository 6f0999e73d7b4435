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


async def test_0004_keeps_the_party_and_names_the_merchant(db_url: str):
    """Stored "seller" becomes "merchant"; an open case's party survives the retired column;
    every shop's next actions are marked for recomputation at its next sync."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    engine = create_engine(db_url)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        await upgrade(engine, "0003")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO shops (id, platform, name, settings, needs_reauth, created_at, updated_at) "
                    "VALUES (1, 'acme', 's', '{}', false, :at, :at)"
                ),
                {"at": at},
            )
            for ident, awaiting, party, is_open in (
                (1, "seller", None, True),  # no deadline: the party came from the status
                (2, "buyer", "seller", True),  # a deadline for the seller
                (3, "none", None, False),
            ):
                await conn.execute(
                    text(
                        "INSERT INTO after_sales (id, shop_id, external_id, order_external_id, kind, status, "
                        "awaiting, is_open, platform_status, refund_fen, created_at, platform_updated_at, "
                        "work_due_at, data, content_hash, deadline_party) VALUES (:id, 1, :ext, 'O', "
                        "'refund_only', 'requested', :awaiting, :open, 'X', 0, :at, :at, :at, '{}', 'h', "
                        ":party)"
                    ),
                    {
                        "id": ident,
                        "ext": f"C{ident}",
                        "awaiting": awaiting,
                        "open": is_open,
                        "at": at,
                        "party": party,
                    },
                )
        await upgrade(engine)
        async with engine.connect() as conn:
            parties = dict((await conn.execute(text("SELECT id, deadline_party FROM after_sales"))).all())
            digest = (await conn.execute(text("SELECT rules_digest FROM shops"))).scalar()
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("after_sales")}
            )
        assert parties == {1: "merchant", 2: "merchant", 3: None}
        assert digest is None and "awaiting" not in columns
    finally:
        await engine.dispose()
