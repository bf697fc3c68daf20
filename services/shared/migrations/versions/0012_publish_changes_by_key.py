"""publish_changes: an index by live scorecard key, for consistent snapshots

``ListLiveSnapshot`` answers every page as the live results stood at one feed position N. A live
scorecard that changed after N (its stored version is newer) is answered with its latest feed entry at
or before N: this index finds that entry without scanning the feed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 16:40:00
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_publish_changes_key', 'publish_changes', ['unit_code', 'period_key', 'scope', 'seq'])


def downgrade() -> None:
    op.drop_index('ix_publish_changes_key', table_name='publish_changes')
