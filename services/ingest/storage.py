"""Ingest's storage: bulk upserts guarded by source time, the batch ledger and the outbox.

Every statement on the write path is one round trip per batch (or per 500 keys), never per record:
the stored source times of a batch's keys are read with one ``IN`` query, the accepted records are
written with one ``executemany`` upsert whose ``WHERE excluded.source_time > stored.source_time``
keeps a late older update from overwriting a newer one even under concurrent writers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, insert, select, tuple_

from services.ingest.domain import RecordKind
from services.shared.records import (
    OPEN_MONTH,
    DossierRecord,
    PetitionRecord,
    ProcedureRecord,
    PublicationRecord,
    ReportedTotalRecord,
    UnitProcedureRecord,
    UnitRecord,
    month_of,
    month_of_date,
    row_builder,
)
from services.shared.schema import (
    batches,
    change_notices,
    dossiers,
    petitions,
    procedures,
    publications,
    reported_totals,
    unit_procedures,
    units,
)

_KEY_CHUNK = 500
_BOOKKEEPING = frozenset({"source_time", "source_id", "batch_id"})


@dataclass(frozen=True)
class TableMap:
    """How records of one kind become rows of one table."""

    table: Table
    key_columns: tuple[str, ...]
    #: whether the key includes the source system (dossiers and petitions)
    keyed_by_source: bool
    columns: tuple[str, ...]
    to_row: Callable[[tuple, str, str], tuple]  # (record, source_id, batch_id) -> row
    #: columns of a stored row that say which (unit, month range) it counted in before an update
    notice_columns: tuple[str, ...] = ()
    #: catalogue kinds: a record that says what the stored one says (a re-sync) notifies nobody
    quiet_when_unchanged: bool = False

    @property
    def content_columns(self) -> tuple[str, ...]:
        """What a record says: every column but when, by whom and in which batch it was sent."""
        return tuple(c for c in self.columns if c not in _BOOKKEEPING)

    def on_conflict(self) -> str:
        """The clause that makes an insert an upsert where only a newer source time wins."""
        keys = set(self.key_columns) | ({"source_id"} if self.keyed_by_source else set())
        conflict = ", ".join((["source_id"] if self.keyed_by_source else []) + list(self.key_columns))
        sets = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c not in keys)
        return (
            f"ON CONFLICT ({conflict}) DO UPDATE SET {sets} "
            f"WHERE excluded.source_time > {self.table.name}.source_time"
        )

    def upsert_sql(self, dialect: str) -> str:
        mark = "?" if dialect == "sqlite" else "%s"
        values = ", ".join([mark] * len(self.columns))
        return f"INSERT INTO {self.table.name} ({', '.join(self.columns)}) VALUES ({values}) {self.on_conflict()}"


def _cols(table: Table, *, skip: Iterable[str] = ()) -> tuple[str, ...]:
    skipped = set(skip)
    return tuple(c.name for c in table.columns if c.name not in skipped)


def _end_month(r: DossierRecord) -> int | None:
    return month_of(r.end_at) if r.end_at is not None else None


def _received_month(r: DossierRecord | PetitionRecord) -> int:
    return month_of(r.received_at)


def _table_map(record: type, table: Table, key: tuple[str, ...], keyed_by_source: bool,
               derived: dict | None = None, notice_columns: tuple[str, ...] = (), quiet: bool = False) -> TableMap:
    """Rows by column name: the record's fields, the source system and batch, and ``derived``."""
    columns = _cols(table)
    return TableMap(table, key, keyed_by_source, columns,
                    row_builder(record, columns, ("source_id", "batch_id"), derived), notice_columns,
                    quiet_when_unchanged=quiet)


TABLES: dict[RecordKind, TableMap] = {
    RecordKind.UNIT: _table_map(UnitRecord, units, ("code",), False, quiet=True),
    RecordKind.PROCEDURE: _table_map(ProcedureRecord, procedures, ("code",), False, quiet=True),
    RecordKind.UNIT_PROCEDURE: _table_map(UnitProcedureRecord, unit_procedures,
                                          ("unit_code", "procedure_code"), False, quiet=True),
    RecordKind.PUBLICATION: _table_map(
        PublicationRecord, publications, ("unit_code", "procedure_code", "decision_number"), False,
        {"decision_month": lambda r: month_of_date(r.decision_date)}, quiet=True),
    RecordKind.DOSSIER: _table_map(
        DossierRecord, dossiers, ("code",), True, {"received_month": _received_month, "end_month": _end_month},
        ("unit_code", "received_month", "end_month")),
    RecordKind.PETITION: _table_map(PetitionRecord, petitions, ("code",), True, {"received_month": _received_month},
                                    ("unit_code", "received_month")),
    RecordKind.REPORTED_TOTAL: _table_map(ReportedTotalRecord, reported_totals,
                                          ("unit_code", "year", "month"), False),
}


@dataclass(frozen=True, slots=True)
class Stored:
    source_time: int
    #: (unit, first month, last month) the stored version counted in, for dossiers and petitions
    months: tuple[str, int, int] | None


def stored_versions(
    conn: Connection, kind: RecordKind, source_id: str, keys: Sequence[tuple]
) -> dict[tuple, Stored]:
    """What is stored for these keys (one query per 500 keys)."""
    tm = TABLES[kind]
    t = tm.table
    key_cols = [t.c[c] for c in tm.key_columns]
    extra = [t.c[c] for c in tm.notice_columns]
    n = len(key_cols)
    out: dict[tuple, Stored] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _KEY_CHUNK):
        chunk = unique[start : start + _KEY_CHUNK]
        if n == 1:
            rows = _select_single_key(conn, tm, source_id, [k[0] for k in chunk])
        else:
            stmt = select(*key_cols, t.c.source_time, *extra).where(tuple_(*key_cols).in_(chunk))
            rows = conn.execute(stmt).all()
        for row in rows:
            months = None
            if extra:
                unit, first, *last = row[n + 1 :]
                end = last[0] if last else None
                months = (unit, first, end if end is not None else OPEN_MONTH)
            out[tuple(row[:n])] = Stored(row[n], months)
    return out


def _select_single_key(conn: Connection, tm: TableMap, source_id: str, values: list) -> list[tuple]:
    """The hot lookup as plain SQL: one ``= ANY(array)`` parameter on PostgreSQL (SQLAlchemy's
    expanding IN cost ~200 ms per 500 keys there), a plain IN list on SQLite."""
    key = tm.key_columns[0]
    cols = ", ".join([key, "source_time", *tm.notice_columns])
    by_source = "source_id = {m} AND " if tm.keyed_by_source else ""
    if conn.dialect.name == "postgresql":
        sql = f"SELECT {cols} FROM {tm.table.name} WHERE {by_source.format(m='%s')}{key} = ANY(%s)"
        params = ((source_id, values) if tm.keyed_by_source else (values,))
    else:
        marks = ", ".join("?" * len(values))
        sql = f"SELECT {cols} FROM {tm.table.name} WHERE {by_source.format(m='?')}{key} IN ({marks})"
        params = ((source_id, *values) if tm.keyed_by_source else tuple(values))
    return conn.exec_driver_sql(sql, params).all()


def changed_records(conn: Connection, kind: RecordKind, source_id: str, records: Sequence[tuple]) -> list[tuple]:
    """The records that say something the stored version does not (or are new). For catalogue kinds
    only — a nightly re-sync of ~3,400 units, their procedures and offers then costs scoring and
    publish nothing; other kinds are returned as they are. One query per 500 keys."""
    tm = TABLES[kind]
    if not tm.quiet_when_unchanged or not records:
        return list(records)
    t = tm.table
    content = tm.content_columns
    rows = [dict(zip(tm.columns, tm.to_row(r, source_id, ""), strict=True)) for r in records]
    keys = [tuple(row[c] for c in tm.key_columns) for row in rows]
    key_cols = [t.c[c] for c in tm.key_columns]
    stored: dict[tuple, tuple] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _KEY_CHUNK):
        chunk = unique[start : start + _KEY_CHUNK]
        where = key_cols[0].in_([k[0] for k in chunk]) if len(key_cols) == 1 else tuple_(*key_cols).in_(chunk)
        for found in conn.execute(select(*(t.c[c] for c in content)).where(where)).mappings():
            stored[tuple(found[c] for c in tm.key_columns)] = tuple(found[c] for c in content)
    return [
        r for r, row, key in zip(records, rows, keys, strict=True)
        if stored.get(key) != tuple(row[c] for c in content)
    ]


def write_records(
    conn: Connection, kind: RecordKind, source_id: str, batch_id: str, records: Sequence[tuple]
) -> None:
    """Upsert the records. ``records`` holds at most one version per key (``plan_batch`` sees to
    that), which the single-statement PostgreSQL path relies on."""
    if not records:
        return
    tm = TABLES[kind]
    rows = [tm.to_row(r, source_id, batch_id) for r in records]
    if conn.dialect.name == "postgresql":
        _copy_upsert(conn, tm, rows)
    else:
        conn.exec_driver_sql(tm.upsert_sql(conn.dialect.name), rows)


def _copy_upsert(conn: Connection, tm: TableMap, rows: list[tuple]) -> None:
    """PostgreSQL: COPY the batch into a session-local staging table, then one
    ``INSERT … SELECT … ON CONFLICT … WHERE newer`` (a third of executemany's cost per record)."""
    name = tm.table.name
    stage = f"_incoming_{name}"
    cols = ", ".join(tm.columns)
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {name}) ON COMMIT DELETE ROWS")
        with cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {stage} {tm.on_conflict()}")


NOTICE_ORDER_LOCK = 7661  # pg_advisory_xact_lock key (766 is the migration lock)


def write_notices(
    conn: Connection, kind: RecordKind, batch_id: str, months: Iterable[tuple[str, int, int]], now_us: int
) -> None:
    rows = [(u, a, b, int(kind), batch_id, now_us) for (u, a, b) in sorted(months)]
    if not rows:
        return
    cols = f"{change_notices.name} (unit_code, month_from, month_to, kind, batch_id, created_at)"
    if conn.dialect.name == "postgresql":
        # Notice ids must become visible in id order, or scoring's cursor could pass an id whose
        # transaction has not committed yet. This lock, held until commit, orders the id
        # assignment of concurrent batches by their commits (SQLite's writer lock does it there).
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({NOTICE_ORDER_LOCK})")
        with conn.connection.driver_connection.cursor() as cur, cur.copy(f"COPY {cols} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    conn.exec_driver_sql(f"INSERT INTO {cols} VALUES (?, ?, ?, ?, ?, ?)", rows)


def find_batch(conn: Connection, source_id: str, request_id: str) -> tuple[str, bytes] | None:
    """(request hash, stored response) of a committed batch with this request id."""
    row = conn.execute(
        select(batches.c.request_sha256, batches.c.response).where(
            batches.c.source_id == source_id, batches.c.idempotency_key == request_id
        )
    ).first()
    return (row.request_sha256, row.response) if row else None


def get_batch(conn: Connection, source_id: str, *, batch_id: str = "", request_id: str = ""):
    stmt = select(batches).where(batches.c.source_id == source_id)
    if batch_id:
        stmt = stmt.where(batches.c.batch_id == batch_id)
    else:
        stmt = stmt.where(batches.c.request_id == request_id).order_by(
            batches.c.committed_at.is_(None), batches.c.received_at.desc()
        )
    return conn.execute(stmt.limit(1)).mappings().first()


def write_ledger(conn: Connection, **values) -> None:
    conn.execute(insert(batches).values(**values))


def load_directory_rows(conn: Connection) -> tuple[dict[str, tuple[str | None, int, str | None]], dict[str, str]]:
    """Units (code → parent, kind, successor) and procedures (code → managing unit): two queries."""
    unit_rows = conn.execute(select(units.c.code, units.c.parent_code, units.c.kind, units.c.merged_into_code))
    procs = conn.execute(select(procedures.c.code, procedures.c.unit_code))
    return {code: (parent, kind, merged) for code, parent, kind, merged in unit_rows}, dict(procs.all())
