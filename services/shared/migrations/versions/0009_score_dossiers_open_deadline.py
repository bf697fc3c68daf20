"""score_dossiers: partial indexes on the deadline day of unfinished dossiers (early warning)

ListAtRiskDossiers lists a unit's unfinished dossiers whose deadline falls within a few working days.
Scoring already keeps each dossier's deadline day per rule family (``dmp``, ``dm766``: ``yyyymmdd``
while unfinished); these indexes find them by (unit, day) without reading the unit's other dossiers.
Partial (``em = 999912``, unfinished only): finished dossiers, most of what a backfill writes, are
not in them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_OPEN = sa.text("em = 999912")


def upgrade() -> None:
    op.create_index('ix_score_dossiers_open_dmp', 'score_dossiers', ['unit_code', 'dmp'],
                    sqlite_where=_OPEN, postgresql_where=_OPEN)
    op.create_index('ix_score_dossiers_open_dm766', 'score_dossiers', ['unit_code', 'dm766'],
                    sqlite_where=_OPEN, postgresql_where=_OPEN)


def downgrade() -> None:
    op.drop_index('ix_score_dossiers_open_dm766', table_name='score_dossiers')
    op.drop_index('ix_score_dossiers_open_dmp', table_name='score_dossiers')
