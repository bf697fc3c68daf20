"""publish_live: when scoring computed the content (never replace it with an older computation)

Publish records a live scorecard when its content differs from the stored one. Two writers can
hold cards computed at different moments — two replicas following the same round of scoring's
feed, or a round and the periodic refresh of running periods — and the later transaction is not
always the later computation: an older card could overwrite a newer one (after a due time passed,
say) and stay until the next change. The stored card's compute time lets a writer skip cards
computed before it. Existing rows get 0 (any new computation replaces them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('publish_live') as batch:
        batch.add_column(sa.Column('computed_at', sa.BigInteger(), nullable=False, server_default='0',
                                   comment="scoring's compute time of this content, µs since the epoch"))


def downgrade() -> None:
    with op.batch_alter_table('publish_live') as batch:
        batch.drop_column('computed_at')
