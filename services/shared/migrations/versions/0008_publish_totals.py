"""publish_live, publish_official: the shown total in hundredths, so ranks are counted in SQL

A unit's history (GetScorecardHistory) gives its rank among its peers in each of up to 60 periods:
with the total in a column that is one query over the peers' rows, not thousands of scorecards
parsed. Existing rows get the total of the scorecard they hold.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 16:40:00
"""

import json
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COMMENT = 'shown total in hundredths (80.24 → 8024), what ranks compare; NULL: not ranked (migration 0008)'
KEYS = {'publish_live': ('unit_code', 'period_key', 'scope'),
        'publish_official': ('publication_id', 'revision', 'unit_code', 'scope')}


def _centi(scorecard: bytes) -> int | None:
    card = json.loads(bytes(scorecard))
    if card.get('noData'):
        return None  # no record of its period: not ranked
    total = card.get('total', {}).get('value') or '0'
    return int(Decimal(total).scaleb(2).to_integral_value())


def upgrade() -> None:
    for name in KEYS:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column('total_centi', sa.BigInteger(), nullable=True, comment=COMMENT))
    conn = op.get_bind()
    for name, keys in KEYS.items():
        table = sa.table(name, *(sa.column(k) for k in keys), sa.column('scorecard'), sa.column('total_centi'))
        pk = sa.tuple_(*(table.c[k] for k in keys))
        stmt = (sa.update(table).where(*(table.c[k] == sa.bindparam(f'k_{k}') for k in keys))
                .values(total_centi=sa.bindparam('v_total')))
        after = None
        while True:  # 500 scorecards (~5 MB) at a time, in key order
            query = sa.select(*(table.c[k] for k in keys), table.c.scorecard).order_by(*(table.c[k] for k in keys))
            if after is not None:
                query = query.where(pk > sa.tuple_(*after))
            rows = conn.execute(query.limit(500)).fetchall()
            if not rows:
                break
            conn.execute(stmt, [{**{f'k_{k}': getattr(r, k) for k in keys}, 'v_total': _centi(r.scorecard)}
                                for r in rows])
            after = tuple(getattr(rows[-1], k) for k in keys)


def downgrade() -> None:
    for name in KEYS:
        with op.batch_alter_table(name) as batch:
            batch.drop_column('total_centi')
