"""scoped idempotency keys: unique per case and action, no longer across every shop

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 06:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the scoped constraint is weaker than the global one: existing rows always satisfy it
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_actions_idempotency_key", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_actions_after_sale_id_action_idempotency_key"),
            ["after_sale_id", "action", "idempotency_key"],
        )


def downgrade() -> None:
    # fails (saying which key) if two cases have since used the same key: rename one first
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_actions_after_sale_id_action_idempotency_key"), type_="unique"
        )
        batch_op.create_unique_constraint("uq_actions_idempotency_key", ["idempotency_key"])
