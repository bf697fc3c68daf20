"""scoring aggregates keyed by lateness policy, not by rule version; a successful-payment counter

Issue 16: a rule version is a data file plus at most one registered policy. The deadline keys and
lateness counters were named after the two versions (``dm766``/``dmp``, ``late766``/``late_p``,
``dpl766``/``dpl_p``); they are now named after the policies the versions name — ``due_time``
(``dm_due``, ``late_due``, ``dpl_due``) and ``statutory_limit`` (``dm_stat``, ``late_stat``,
``dpl_stat``) — so a new version of either policy is a rule file only. A counter ``paid`` (a
successful online payment, whatever the fee data) is added to the procedure cells for portal/2025's
corrected 6.2.

The aggregates are derived data: the cell tables and the per-dossier contributions are made again
empty in their new shape and scoring's cursor goes back to the first change notice, so the consumer
places every stored dossier again by itself. On a large store run ``chiso-scoring rebuild`` right after
upgrading instead (OPERATIONS.md): it does the same in one pass and moves the cursor to the newest
notice. The change feed is kept (its ids keep increasing).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 17:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_OPEN = sa.text("em = 999912")
_UNIT_COUNTERS = ("n", "online", "digitised", "reused", "linked_dig", "store", "pop_eid", "fee", "fee_paid",
                  "paid_gw", "certified", "eres", "dp")
_PROC_COUNTERS = ("n", "online", "online_eres", "digitised", "dig_eres", "synced_file", "pop", "pop_eid",
                  "fee_data", "fee_paid")


def _key(name: str, policy: str, comment: bool) -> sa.Column:
    text = (f"deadline key, policy {policy}: yyyymmdd unfinished, yyyymm00 finished; 0 always late, "
            "99999999 never") if comment else None
    return sa.Column(name, sa.Integer(), nullable=False, comment=text)


def _tables(keys: tuple[tuple[str, str], ...], late: tuple[str, ...], paid: bool) -> None:
    counter = lambda name: sa.Column(name, sa.BigInteger(), nullable=False)  # noqa: E731
    op.create_table(
        'score_cells',
        sa.Column('unit_code', sa.String(length=64), nullable=False),
        sa.Column('rm', sa.Integer(), nullable=False, comment='received month yyyymm'),
        sa.Column('em', sa.Integer(), nullable=False, comment='end month yyyymm; 999912 = unfinished'),
        sa.Column('sm', sa.Integer(), nullable=False, comment='processing-start month'),
        *(_key(name, policy, True) for name, policy in keys),
        *(counter(n) for n in (*_UNIT_COUNTERS, *late)),
        sa.PrimaryKeyConstraint('unit_code', 'rm', 'em', 'sm', *(name for name, _ in keys),
                                name=op.f('pk_score_cells')),
    )
    op.create_table(
        'score_proc_cells',
        sa.Column('unit_code', sa.String(length=64), nullable=False),
        sa.Column('procedure_code', sa.String(length=32), nullable=False),
        sa.Column('rm', sa.Integer(), nullable=False),
        sa.Column('em', sa.Integer(), nullable=False),
        *(counter(n) for n in (*_PROC_COUNTERS, *(("paid",) if paid else ()))),
        sa.PrimaryKeyConstraint('unit_code', 'rm', 'em', 'procedure_code', name=op.f('pk_score_proc_cells')),
    )
    op.create_table(
        'score_dossiers',
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('source_id', sa.String(length=64), nullable=False),
        sa.Column('unit_code', sa.String(length=64), nullable=False),
        sa.Column('procedure_code', sa.String(length=32), nullable=False),
        sa.Column('rm', sa.Integer(), nullable=False),
        sa.Column('em', sa.Integer(), nullable=False),
        sa.Column('sm', sa.Integer(), nullable=False),
        *(_key(name, policy, False) for name, policy in keys),
        sa.Column('bits', sa.BigInteger(), nullable=False, comment='services.scoring.domain.cells.COUNTERS bits'),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('code', 'source_id', name=op.f('pk_score_dossiers')),
        comment='what each dossier currently contributes to the cells (so an update can be taken back out)',
    )
    for name, _ in reversed(keys):  # as 0009 made them (the planner breaks a cost tie by creation order)
        op.create_index(f'ix_score_dossiers_open_{name}', 'score_dossiers', ['unit_code', name],
                        sqlite_where=_OPEN, postgresql_where=_OPEN)


def _replace(keys, late, paid) -> None:
    for table in ('score_cells', 'score_proc_cells', 'score_dossiers'):
        op.drop_table(table)  # its indexes go with it
    op.execute("DELETE FROM score_durations")  # taken out and put back by the consumer with the rest
    _tables(keys, late, paid)
    # the consumer places every stored dossier again (or chiso-scoring rebuild does it at once)
    op.execute("UPDATE score_progress SET last_notice_id = 0")


def upgrade() -> None:
    _replace((("dm_due", "due_time"), ("dm_stat", "statutory_limit")),
             ("late_due", "late_stat", "dpl_due", "dpl_stat"), paid=True)


def downgrade() -> None:
    # the keys as 0002 named them; 0009's indexes are made again under their old names
    _replace((("dm766", "766/2022"), ("dmp", "portal/2025")), ("late766", "late_p", "dpl766", "dpl_p"), paid=False)
