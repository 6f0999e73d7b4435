"""alert channels and their sent-log (超时预警)

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01 11:00:00+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.base

revision: str = '0011'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('alert_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('shops', JSONDoc, nullable=False),
    sa.Column('within_seconds', sa.Integer(), nullable=False),
    sa.Column('parties', JSONDoc, nullable=False),
    sa.Column('created_at', hub.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_sent_at', hub.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', hub.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_channels')),
    sa.UniqueConstraint('name', name=op.f('uq_alert_channels_name'))
    )
    op.create_table('alert_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=8), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('due_at', hub.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('party', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', hub.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', hub.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['alert_channels.id'], name=op.f('fk_alert_sent_channel_id_alert_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_sent')),
    sa.UniqueConstraint('channel_id', 'item', 'item_id', 'due_at', 'party', name=op.f('uq_alert_sent_channel_id_item_item_id_due_at_party'))
    )
    with op.batch_alter_table('alert_sent', schema=None) as batch_op:
        batch_op.create_index('ix_alert_sent_status_channel', ['status', 'channel_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_sent', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_sent_status_channel')
    op.drop_table('alert_sent')
    op.drop_table('alert_channels')
