"""next action: one stored answer to who acts next, what and by when

Retires ``after_sales.awaiting`` (the next action's party is ``deadline_party``, always set on an
open case), renames the stored party ``seller`` to ``merchant``, adds the next action's words
(consequence, no-clock reason), its chain link (``deadline_via``), each subject's own next action
(``own_action``), the orders' work-list columns, and ``shops.rules_digest`` (the next sync
recomputes every shop's stored next actions with the new model).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 06:20:00+00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _next_action_columns() -> list[sa.Column]:
    return [
        sa.Column("deadline_no_clock_reason", sa.Text(), nullable=True),
        sa.Column("deadline_consequence_zh", sa.Text(), nullable=True),
        sa.Column("deadline_consequence_en", sa.Text(), nullable=True),
        sa.Column("deadline_via", _json(), nullable=True),
        sa.Column("own_action", _json(), nullable=True),
    ]


def upgrade() -> None:
    # the next sync recomputes every shop's next actions (NULL never equals a digest)
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rules_digest", sa.String(length=32), nullable=True))
    for table in ("after_sales", "orders"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in _next_action_columns():
                batch_op.add_column(column)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_work", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("work_due_at", hub.store.base.UTCDateTime(timezone=True), nullable=True)
        )
    orders = sa.table(
        "orders",
        sa.column("work_due_at", hub.store.base.UTCDateTime(timezone=True)),
        sa.column("deadline_due_at", hub.store.base.UTCDateTime(timezone=True)),
    )
    op.execute(orders.update().values(work_due_at=sa.func.coalesce(orders.c.deadline_due_at, NO_DEADLINE)))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column(
            "work_due_at", existing_type=hub.store.base.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("in_work", server_default=None)
        batch_op.create_index("ix_orders_worklist", ["in_work", "work_due_at", "id"], unique=False)
    # the party of an open case's next action was the deadline's, or else the status's: keep it,
    # and name the merchant "merchant" (was "seller") everywhere it is stored
    op.execute("UPDATE after_sales SET deadline_party = awaiting WHERE deadline_party IS NULL AND is_open")
    for table in ("after_sales", "orders"):
        op.execute(f"UPDATE {table} SET deadline_party = 'merchant' WHERE deadline_party = 'seller'")
    with op.batch_alter_table("after_sales", schema=None) as batch_op:
        batch_op.drop_column("awaiting")


def downgrade() -> None:
    with op.batch_alter_table("after_sales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE after_sales SET awaiting = CASE WHEN deadline_party = 'merchant' THEN 'seller' "
        "WHEN deadline_party IS NULL THEN 'none' WHEN deadline_party = 'supplier' THEN 'seller' "
        "ELSE deadline_party END"
    )
    for table in ("after_sales", "orders"):
        op.execute(f"UPDATE {table} SET deadline_party = 'seller' WHERE deadline_party = 'merchant'")
    with op.batch_alter_table("after_sales", schema=None) as batch_op:
        batch_op.alter_column("awaiting", existing_type=sa.String(length=20), nullable=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_worklist")
        batch_op.drop_column("work_due_at")
        batch_op.drop_column("in_work")
    for table in ("after_sales", "orders"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(_next_action_columns()):
                batch_op.drop_column(column.name)
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.drop_column("rules_digest")
