"""score_dossiers.deadline_at: the instant an unfinished dossier turns late, indexed for the due ticker

Issue 17 item 1: time passing is handled from an index of due moments, not by re-reading every
running scorecard. Scoring's due ticker announces, in its change feed, the (unit, month) of every
unfinished dossier whose deadline passed since its last tick; it finds them by a range on this
column (partial index on the unfinished dossiers that have one, ``em = 999912``). The day keys
(``dm_due``, ``dm_stat``) cannot serve: a live scorecard re-judges a dossier at the exact instant
of its deadline, and their indexes lead with the unit.

Existing unfinished dossiers get their instant here, from the stored dossier and its procedure's
statutory limit, with the contribution function the consumer uses (so the column equals what the
consumer would write); finished ones keep null, and so does a row no contribution can be worked
out for (the consumer sets such a row aside).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_DUE = sa.text("em = 999912 AND deadline_at IS NOT NULL")
_PAGE = 5000


def upgrade() -> None:
    op.add_column('score_dossiers', sa.Column(
        'deadline_at', sa.BigInteger(), nullable=True,
        comment='unfinished with a deadline: the instant it turns late (due time, else statutory limit); '
                'else null (migration 0015)'))
    op.create_index('ix_score_dossiers_open_deadline_at', 'score_dossiers', ['deadline_at'],
                    sqlite_where=_DUE, postgresql_where=_DUE)
    _backfill(op.get_bind())


def _backfill(conn) -> None:
    from services.scoring.domain import cells as C  # pure Python, no I/O

    fields = ", ".join(f"d.{name}" for name in C.DossierRow._fields)
    statutory = {code: C.clamp_statutory_days(days) for code, days in conn.execute(
        sa.text("SELECT code, statutory_days FROM procedures"))}
    after = ("", "")
    while True:
        rows = conn.execute(sa.text(
            f"SELECT s.code, s.source_id, {fields} FROM score_dossiers s JOIN dossiers d "
            "ON d.code = s.code AND d.source_id = s.source_id "
            "WHERE s.em = 999912 AND (s.code > :c OR (s.code = :c AND s.source_id > :s)) "
            "ORDER BY s.code, s.source_id LIMIT :n"), {"c": after[0], "s": after[1], "n": _PAGE}).all()
        if not rows:
            return
        updates = []
        for row in rows:
            d = C.DossierRow(*row[2:])
            try:
                at = C.contribution(d, statutory.get(d.procedure_code, 0)).deadline_at
            except Exception:  # noqa: BLE001, S112 — a row the consumer cannot place either: left null
                continue
            if at is not None:
                updates.append({"c": row[0], "s": row[1], "at": at})
        if updates:
            conn.execute(sa.text("UPDATE score_dossiers SET deadline_at = :at WHERE code = :c AND source_id = :s"),
                         updates)
        after = (rows[-1][0], rows[-1][1])


def downgrade() -> None:
    op.drop_index('ix_score_dossiers_open_deadline_at', table_name='score_dossiers')
    op.drop_column('score_dossiers', 'deadline_at')
