"""Early warning's reads: a unit's unfinished dossiers by deadline day (``score_dossiers``' partial
indexes, one per lateness policy), and those dossiers' stored rows by key. Never a scan of the store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import literal_column, select
from sqlalchemy.engine import Connection

from services.scoring.domain import cells as C
from services.scoring.storage import _CHUNK, DOSSIER_COLUMNS, _chunks
from services.scoring.tables import score_dossiers
from services.shared.schema import dossiers

#: The partial indexes' predicate, as a literal: a bound parameter would not let SQLite (nor a generic
#: PostgreSQL plan) prove the query's rows are in the index.
_OPEN = literal_column(str(C.OPEN))


def open_due_between(conn: Connection, unit_codes: Sequence[str], policy: C.Policy, day_from: int,
                     day_to: int) -> list[tuple[str, str, int]]:
    """(code, source id, bits) of the units' unfinished dossiers whose deadline day key (``yyyymmdd``;
    the ``policy``'s) is in ``[day_from, day_to)``."""
    t = score_dossiers
    day = t.c[policy.key]
    out: list[tuple[str, str, int]] = []
    for chunk in _chunks(unit_codes):
        stmt = select(t.c.code, t.c.source_id, t.c.bits).where(
            t.c.unit_code.in_(chunk), t.c.em == _OPEN, day >= int(day_from), day < int(day_to))
        out.extend((r[0], r[1], int(r[2])) for r in conn.execute(stmt))
    return out


def dossier_rows(conn: Connection, keys: Iterable[tuple[str, str]]) -> list[C.DossierRow]:
    """The stored rows of dossiers (code, source id), by primary key; missing ones are left out."""
    wanted = set(keys)
    codes = sorted({code for code, _ in wanted})
    out = []
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start:start + _CHUNK]
        for row in conn.execute(select(*DOSSIER_COLUMNS).where(dossiers.c.code.in_(chunk))):
            r = C.DossierRow(*row)
            if (r.code, r.source_id) in wanted:
                out.append(r)
    return out
