"""Run alembic from code: ``hub db upgrade`` and the test fixtures use this, never ``create_all``."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

#: tables created by a migration but owned by a library (the PostgreSQL job queue's): not models
FOREIGN_TABLE_PREFIXES = ("procrastinate_",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate filter: leave the job queue's tables out of the model comparison."""
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_TABLE_PREFIXES))


def alembic_config() -> Config:
    """An alembic Config pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("hub.store") / "migrations"))
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {heads}")
    return heads[0]


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def _do(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_do)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    def _do(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_do)


async def current_revision(engine: AsyncEngine) -> str | None:
    def _do(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_do)


async def pending_diff(engine: AsyncEngine) -> list[object]:
    """What autogenerate would add (``alembic check``): an empty list when models and schema agree."""
    from alembic.autogenerate import compare_metadata

    from . import models  # noqa: F401
    from .base import Base

    def _do(conn: Connection) -> list[object]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        return list(compare_metadata(ctx, Base.metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(_do)
