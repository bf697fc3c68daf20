"""Scoring's own tables (SQLAlchemy Core, on the shared ``metadata``): the aggregates kept current from
ingest's change notices, the consumer's cursor, the change feed and the items set aside.

See :mod:`services.scoring.domain.cells` for what a cell is; the counter columns are its counters
(whole numbers). Schema changes go through Alembic migrations in ``services/shared/migrations``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from services.scoring.domain.cells import DEADLINE_KEYS, POLICIES
from services.scoring.domain.cells import PROC_COUNTERS as _PROC_COUNTERS
from services.scoring.domain.cells import UNIT_COUNTERS as _UNIT_COUNTERS
from services.shared.schema import Micros, metadata

score_cells = Table(
    "score_cells",
    metadata,
    Column("unit_code", String(64), nullable=False),
    Column("rm", Integer, nullable=False, comment="received month yyyymm"),
    Column("em", Integer, nullable=False, comment="end month yyyymm; 999912 = unfinished"),
    Column("sm", Integer, nullable=False, comment="processing-start month"),
    # one deadline key per lateness policy (cells.POLICIES), never per rule version
    *(Column(p.key, Integer, nullable=False, comment=f"deadline key, policy {p.id}: yyyymmdd unfinished, "
             "yyyymm00 finished; 0 always late, 99999999 never") for p in POLICIES),
    PrimaryKeyConstraint("unit_code", "rm", "em", "sm", *DEADLINE_KEYS),
    *(Column(name, BigInteger, nullable=False) for name in _UNIT_COUNTERS),
)

score_proc_cells = Table(
    "score_proc_cells",
    metadata,
    Column("unit_code", String(64), nullable=False),
    Column("procedure_code", String(32), nullable=False),
    Column("rm", Integer, nullable=False),
    Column("em", Integer, nullable=False),
    PrimaryKeyConstraint("unit_code", "rm", "em", "procedure_code"),
    *(Column(name, BigInteger, nullable=False) for name in _PROC_COUNTERS),
)

score_durations = Table(
    "score_durations",
    metadata,
    Column("unit_code", String(64), nullable=False),
    Column("procedure_code", String(32), nullable=False),
    Column("em", Integer, nullable=False, comment="end month"),
    Column("days", Integer, nullable=False, comment="whole calendar days from receipt to end"),
    PrimaryKeyConstraint("unit_code", "em", "procedure_code", "days"),
    Column("count", BigInteger, nullable=False),
    Column("seconds", BigInteger, nullable=False, comment="sum of exact durations, for the mean"),
)

score_dossiers = Table(
    "score_dossiers",
    metadata,
    Column("code", String(64), nullable=False),
    Column("source_id", String(64), nullable=False),
    PrimaryKeyConstraint("code", "source_id"),
    Column("unit_code", String(64), nullable=False),
    Column("procedure_code", String(32), nullable=False),
    Column("rm", Integer, nullable=False),
    Column("em", Integer, nullable=False),
    Column("sm", Integer, nullable=False),
    *(Column(key, Integer, nullable=False) for key in DEADLINE_KEYS),
    Column("bits", BigInteger, nullable=False, comment="services.scoring.domain.cells.COUNTERS bits"),
    Column("days", Integer, nullable=False),
    Column("seconds", BigInteger, nullable=False),
    Column("deadline_at", Micros, nullable=True,
           comment="unfinished with a deadline: the instant it turns late (due time, else statutory limit); "
                   "else null (migration 0015)"),
    # Early warning finds a unit's unfinished dossiers by deadline day: one partial index per lateness
    # policy, holding unfinished dossiers only (em = OPEN), so finished ones — most writes of a
    # backfill — cost the consumer nothing more.
    *(Index(f"ix_score_dossiers_open_{p.key}", "unit_code", p.key,
            sqlite_where=text("em = 999912"), postgresql_where=text("em = 999912")) for p in POLICIES),
    # Scoring's due ticker finds the dossiers turning late in a window of time by this one (a range on
    # the instant, led by it — the per-unit indexes above cannot serve a range over every unit).
    Index("ix_score_dossiers_open_deadline_at", "deadline_at",
          sqlite_where=text("em = 999912 AND deadline_at IS NOT NULL"),
          postgresql_where=text("em = 999912 AND deadline_at IS NOT NULL")),
    comment="what each dossier currently contributes to the cells (so an update can be taken back out)",
)

score_progress = Table(
    "score_progress",
    metadata,
    Column("name", String(32), primary_key=True, comment="consumer name"),
    Column("last_notice_id", BigInteger, nullable=False, comment="change_notices.id applied up to"),
    # rows: 'scoring' (notices applied), 'catalogue' (the newest catalogue notice applied) and
    # 'due_ticker' (updated_at: the instant due moments are announced up to; last_notice_id unused)
    Column("updated_at", Micros, nullable=False),
)

score_changes = Table(
    "score_changes",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("unit_code", String(64), nullable=False),
    Column("month", Integer, nullable=False, comment="yyyymm whose scorecards (and periods containing it) changed"),
    Column("created_at", Micros, nullable=False),
    comment="scoring's change feed (ListScorecardChanges); written in the consumer's transaction",
)

# --- scoring (migration 0007): what the consumer could not apply --------------------------------------

score_set_aside = Table(
    "score_set_aside",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("item_kind", String(16), nullable=False,
           comment="'dossier' (one stored dossier) or 'notice' (a change notice)"),
    Column("item_key", Text, nullable=False, comment="dossier: [source_id, code] as JSON; notice: its id"),
    Column("unit_code", Text, nullable=False),
    Column("error", Text, nullable=False, comment="the last failure, at most 1,000 characters"),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", Micros, nullable=False),
    Column("last_failed_at", Micros, nullable=False),
    Column("next_attempt_at", Micros, nullable=False),
    UniqueConstraint("item_kind", "item_key"),
    comment="items scoring's consumer set aside and retries with backoff (chiso-scoring set-aside)",
)

#: the aggregates proper (what ``chiso-scoring rebuild`` recomputes from the stored dossiers)
AGGREGATES = (score_cells, score_proc_cells, score_durations, score_dossiers)
