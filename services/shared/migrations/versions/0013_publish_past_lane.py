"""publish_state 'scoring_past': the cursor of publish's second follower lane (ended periods)

Publish follows scoring's change feed in two lanes: the live lane records scorecards of periods still
running (and those ended within the last day), the past lane those of ended periods — so a province
backfilling last year keeps the past lane busy while today's changes elsewhere are recorded at once.
The past lane starts where the single follower was.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text(
        "INSERT INTO publish_state (name, int_value, text_value, updated_at) "
        "SELECT 'scoring_past', int_value, text_value, updated_at FROM publish_state WHERE name = 'scoring'"))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM publish_state WHERE name = 'scoring_past'"))
