"""publish_live, publish_official: indexes that rank a unit among its peers without reading a row

GetScorecardHistory counts, for each period, the peers with a higher shown total (``total_centi``,
migration 0008). The rows hold ~10 KB of scorecard each and the total lies past it: counting from the
rows read every peer's scorecard (a commune's 12 months among 3,321 communes: ~0.5 s on SQLite).
From these indexes alone it is ~1.5 ms.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 17:05:00
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_publish_live_peers', 'publish_live',
                    ['period_key', 'unit_kind', 'parent_code', 'scope', 'total_centi'])
    op.create_index('ix_publish_official_peers', 'publish_official',
                    ['publication_id', 'revision', 'scope', 'total_centi'])


def downgrade() -> None:
    op.drop_index('ix_publish_official_peers', table_name='publish_official')
    op.drop_index('ix_publish_live_peers', table_name='publish_live')
