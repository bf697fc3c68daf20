"""score_set_aside, publish_set_aside: what a background loop could not apply, set aside

One stored record or one scorecard that fails (a value no code path expected, a bug) used to stop
scoring's consumer or publish's follower for everyone: each retried the same batch forever. They now
set the failing item aside in these tables — visible to operators (``chiso-scoring set-aside``,
``chiso-publish-admin set-aside``), retried with backoff, replayable — and go on with the rest.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-05 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'score_set_aside',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('item_kind', sa.String(length=16), nullable=False,
                  comment="'dossier' (one stored dossier) or 'notice' (a change notice)"),
        sa.Column('item_key', sa.Text(), nullable=False, comment='dossier: [source_id, code] as JSON; notice: its id'),
        sa.Column('unit_code', sa.Text(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False, comment='the last failure, at most 1,000 characters'),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('first_failed_at', sa.BigInteger(), nullable=False),
        sa.Column('last_failed_at', sa.BigInteger(), nullable=False),
        sa.Column('next_attempt_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_score_set_aside')),
        sa.UniqueConstraint('item_kind', 'item_key', name=op.f('uq_score_set_aside_item_kind_item_key')),
        comment="items scoring's consumer set aside and retries with backoff (chiso-scoring set-aside)",
    )
    op.create_table(
        'publish_set_aside',
        sa.Column('unit_code', sa.String(length=64), nullable=False),
        sa.Column('period_key', sa.String(length=16), nullable=False),
        sa.Column('scope', sa.SmallInteger(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False, comment='the last failure, at most 1,000 characters'),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('first_failed_at', sa.BigInteger(), nullable=False),
        sa.Column('last_failed_at', sa.BigInteger(), nullable=False),
        sa.Column('next_attempt_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('unit_code', 'period_key', 'scope', name=op.f('pk_publish_set_aside')),
        comment='live scorecards the follower could not read or record; retried with backoff (migration 0007)',
    )
    op.create_index('ix_publish_set_aside_due', 'publish_set_aside', ['next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_publish_set_aside_due', table_name='publish_set_aside')
    op.drop_table('publish_set_aside')
    op.drop_table('score_set_aside')
