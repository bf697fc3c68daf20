"""Early-warning alerts: recipients, evaluation state, one alert per rule, unit, period and subscription

* ``alert_recipients`` — e-mail addresses per unit (operator RPCs, ``chiso-publish-admin recipients``);
* ``alert_units`` — when each watched unit was last evaluated, its band at the month's start;
* ``alert_state`` — the alerts raised (OPEN) and resolved, the deduplication of alerts;
* ``publish_subscriptions.alert_settings`` — a subscription's overrides of the shipped rules;
* ``ix_batches_source_committed`` — a source's latest batch ("source silent") without a scan.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('publish_subscriptions') as batch:
        batch.add_column(sa.Column('alert_settings', sa.Text(), nullable=False, server_default='{}',
                                   comment='JSON: overrides of the shipped alert rules (migration 0010)'))
    op.create_index('ix_batches_source_committed', 'batches', ['source_id', 'committed_at'])
    op.create_table(
        'alert_recipients',
        sa.Column('unit_code', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('unit_code', 'address', name=op.f('pk_alert_recipients')),
        comment="e-mail addresses that receive a unit's alerts (the reserved 'email' subscription)",
    )
    op.create_table(
        'alert_units',
        sa.Column('unit_code', sa.String(length=64), nullable=False),
        sa.Column('period_key', sa.String(length=16), nullable=False, comment='the running month last evaluated'),
        sa.Column('baseline_band', sa.String(length=16), nullable=False,
                  comment="band at the month's first evaluation ('' none)"),
        sa.Column('live_version', sa.BigInteger(), nullable=False,
                  comment='publish_live.version evaluated (data changes)'),
        sa.Column('evaluated_at', sa.BigInteger(), nullable=False, comment='also the compare-and-set of replicas'),
        sa.PrimaryKeyConstraint('unit_code', name=op.f('pk_alert_units')),
        comment="when each watched unit's alert rules were last evaluated",
    )
    op.create_table(
        'alert_state',
        sa.Column('subscription_id', sa.String(length=64), nullable=False),
        sa.Column('unit_code', sa.String(length=64), nullable=False),
        sa.Column('rule_id', sa.String(length=32), nullable=False),
        sa.Column('period_key', sa.String(length=16), nullable=False),
        sa.Column('alert_id', sa.String(length=40), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False, comment='OPEN or RESOLVED'),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('opened_at', sa.BigInteger(), nullable=False),
        sa.Column('resolved_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('subscription_id', 'unit_code', 'rule_id', 'period_key', name=op.f('pk_alert_state')),
        comment='one alert per subscription, unit, rule and period: raised once, resolved once',
    )
    op.create_index('ix_alert_state_unit_opened', 'alert_state', ['unit_code', 'opened_at'])


def downgrade() -> None:
    op.drop_index('ix_alert_state_unit_opened', table_name='alert_state')
    op.drop_table('alert_state')
    op.drop_table('alert_units')
    op.drop_table('alert_recipients')
    op.drop_index('ix_batches_source_committed', table_name='batches')
    with op.batch_alter_table('publish_subscriptions') as batch:
        batch.drop_column('alert_settings')
