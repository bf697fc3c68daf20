"""Indexes for scoring's due ticker to find the petitions and listings time re-judges

Issue 17 item 1, continued: besides dossiers' deadlines, a live scorecard turns with time through
petitions — 766/2022's 5.2 counts those due by now, portal/2025's judges an open petition against its
stage limit at now — and publication listings falling due (portal/2025 1.2, by Hanoi day). The moments
are computed from stored columns (``services.scoring.domain.moments``): the due time itself, and the
anchors of the working-day limits, read by ranges — on the due time, on the receipt and last transfer
of petitions not ready for publication, on the readiness of petitions in process that are ready (partial indexes:
open petitions are few), and on the decision date of publications. No new column, no backfill.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_READY = sa.text("refused_at IS NULL AND published_at IS NULL AND ready_for_publication_at IS NOT NULL")
_NOT_READY = sa.text("refused_at IS NULL AND published_at IS NULL AND ready_for_publication_at IS NULL")
_TRANSFERRED = sa.text("refused_at IS NULL AND published_at IS NULL AND ready_for_publication_at IS NULL "
                       "AND last_transfer_at IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_petitions_due_at', 'petitions', ['due_at'])
    op.create_index('ix_petitions_open_received_at', 'petitions', ['received_at'],
                    sqlite_where=_NOT_READY, postgresql_where=_NOT_READY)
    op.create_index('ix_petitions_open_last_transfer_at', 'petitions', ['last_transfer_at'],
                    sqlite_where=_TRANSFERRED, postgresql_where=_TRANSFERRED)
    op.create_index('ix_petitions_open_ready_at', 'petitions', ['ready_for_publication_at'],
                    sqlite_where=_READY, postgresql_where=_READY)
    op.create_index('ix_publications_decision_date', 'publications', ['decision_date'])


def downgrade() -> None:
    op.drop_index('ix_publications_decision_date', table_name='publications')
    for name in ('ix_petitions_open_ready_at', 'ix_petitions_open_last_transfer_at',
                 'ix_petitions_open_received_at', 'ix_petitions_due_at'):
        op.drop_index(name, table_name='petitions')
