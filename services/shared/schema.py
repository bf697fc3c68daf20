"""The relational schema of chiso (SQLAlchemy Core), shared by the three services.

One database holds everything; each table has one owning service that writes it:

* access (``principals``, ``tokens``, ``grants``) — managed by ``chiso-admin``; read by every service.
* ingest: the source records (``units`` … ``reported_totals``), the batch ledger ``batches`` and the
  outbox ``change_notices`` that scoring consumes.
* scoring and publish declare their own tables beside their code (``services/<service>/tables.py``,
  on this module's ``metadata``); :func:`load_service_tables` finds them for Alembic and tests.

Conventions: instants are stored as integer microseconds since the Unix epoch (UTC), which is exact,
zone-free and cheap to compare; the domain turns them into zone-aware datetimes. Calendar months of
Asia/Ho_Chi_Minh are stored as ``yyyymm`` integers for grouping. Dates are ISO ``DATE``. The many
yes/no facts of a dossier live in one ``flags`` integer (see ``services.shared.records.DossierFlag``).
Schema changes go through Alembic migrations in ``services/shared/migrations``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Instants: microseconds since the epoch, UTC.
Micros = BigInteger

# --------------------------------------------------------------------------- access

principals = Table(
    "principals",
    metadata,
    Column("id", String(64), primary_key=True, comment="source system id or operator id"),
    Column("kind", String(16), nullable=False, comment="'source' or 'operator'"),
    Column("display_name", Text, nullable=False),
    Column("created_at", Micros, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token_id", String(32), primary_key=True, comment="public part of the token"),
    Column("principal_id", String(64), ForeignKey("principals.id"), nullable=False),
    Column("secret_sha256", String(64), nullable=False, comment="hex SHA-256 of the secret part"),
    Column("created_at", Micros, nullable=False),
    Column("revoked_at", Micros, nullable=True),
    Index("ix_tokens_principal", "principal_id"),
)

grants = Table(
    "grants",
    metadata,
    Column("principal_id", String(64), ForeignKey("principals.id"), primary_key=True),
    Column("unit_code", String(64), primary_key=True, comment="root of a granted subtree; '*' = all"),
    Column("created_at", Micros, nullable=False),
)

# --------------------------------------------------------------------------- ingest: records

units = Table(
    "units",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", SmallInteger, nullable=False, comment="chiso.types.v1.UnitKind"),
    Column("parent_code", String(64), nullable=True),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("merged_into_code", String(64), nullable=True),
    Column("merged_on", Date, nullable=True),
    Column("source_time", Micros, nullable=False),
    Column("source_id", String(64), nullable=False),
    Column("batch_id", String(32), nullable=False),
    Index("ix_units_parent", "parent_code"),
    Index("ix_units_kind", "kind"),
)

procedures = Table(
    "procedures",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("field", Text, nullable=False),
    Column("unit_code", String(64), nullable=False),
    Column("issues_result_document", Boolean, nullable=False),
    Column("statutory_days", Integer, nullable=False),
    Column("applicants_are_individuals", Boolean, nullable=False),
    Column("source_time", Micros, nullable=False),
    Column("source_id", String(64), nullable=False),
    Column("batch_id", String(32), nullable=False),
)

unit_procedures = Table(
    "unit_procedures",
    metadata,
    Column("unit_code", String(64), primary_key=True),
    Column("procedure_code", String(32), primary_key=True),
    Column("online_level", SmallInteger, nullable=False),
    Column("online_service_status", SmallInteger, nullable=False),
    Column("has_fee", Boolean, nullable=False),
    Column("payment_integrated", Boolean, nullable=False),
    Column("population_data_eligible", Boolean, nullable=False),
    Column("population_data_connected", Boolean, nullable=False),
    Column("certified_copy", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("source_time", Micros, nullable=False),
    Column("source_id", String(64), nullable=False),
    Column("batch_id", String(32), nullable=False),
)

publications = Table(
    "publications",
    metadata,
    Column("unit_code", String(64), primary_key=True),
    Column("procedure_code", String(32), primary_key=True),
    Column("decision_number", String(64), primary_key=True),
    Column("decision_date", Date, nullable=False),
    Column("legal_effective_date", Date, nullable=True),
    Column("listed_at", Micros, nullable=True),
    Column("parts", Integer, nullable=False, comment="bit i set = chiso.ingest.v1.ProcedurePart i"),
    Column("decision_month", Integer, nullable=False, comment="yyyymm of decision_date"),
    Column("source_time", Micros, nullable=False),
    Column("source_id", String(64), nullable=False),
    Column("batch_id", String(32), nullable=False),
    Index("ix_publications_unit_month", "unit_code", "decision_month"),
    # scoring's due ticker reads, once a Hanoi day, the decisions whose listing falls due (0016)
    Index("ix_publications_decision_date", "decision_date"),
)

dossiers = Table(
    "dossiers",
    metadata,
    Column("source_id", String(64), nullable=False),
    Column("code", String(64), nullable=False),
    # Code first: the batch lookup is "code = ANY(…) AND source_id = …", selective on code even
    # when PostgreSQL's statistics are stale (a fresh table during a backfill).
    PrimaryKeyConstraint("code", "source_id"),
    Column("unit_code", String(64), nullable=False),
    Column("procedure_code", String(32), nullable=False),
    Column("channel", SmallInteger, nullable=False),
    Column("received_at", Micros, nullable=False),
    Column("received_month", Integer, nullable=False, comment="yyyymm, Asia/Ho_Chi_Minh"),
    Column("due_at", Micros, nullable=True),
    Column("started_at", Micros, nullable=True),
    Column("end_at", Micros, nullable=True),
    Column("end_month", Integer, nullable=True, comment="yyyymm of end_at, Asia/Ho_Chi_Minh"),
    Column("end_state", SmallInteger, nullable=False),
    Column("processing_state", SmallInteger, nullable=False),
    Column("supplement_count", Integer, nullable=False),
    Column("last_supplement_at", Micros, nullable=True),
    Column("applicant_supplement_seconds", BigInteger, nullable=False),
    Column("fee_amount", BigInteger, nullable=False),
    Column("payment_channel", SmallInteger, nullable=False),
    Column("rating", SmallInteger, nullable=False),
    Column("flags", Integer, nullable=False, comment="services.shared.records.DossierFlag bits"),
    Column("source_time", Micros, nullable=False),
    Column("batch_id", String(32), nullable=False),
    # One secondary index only: every index roughly halves the bulk-upsert rate on SQLite
    # (BENCHMARKS.md). Scoring keeps its own aggregates rather than querying dossiers by state; its
    # consumer finds a notice's dossiers by (unit, received month, batch) — without the batch in the
    # index it read every dossier of the unit's month for each notice (190 notices/s on a 5 M store
    # against 3,000/s with it, BENCHMARKS.md § Whole pipeline).
    Index("ix_dossiers_unit_received_batch", "unit_code", "received_month", "batch_id"),
)

_READY = text("refused_at IS NULL AND published_at IS NULL AND ready_for_publication_at IS NOT NULL")
_NOT_READY = text("refused_at IS NULL AND published_at IS NULL AND ready_for_publication_at IS NULL")
_TRANSFERRED = text("refused_at IS NULL AND published_at IS NULL AND ready_for_publication_at IS NULL "
                    "AND last_transfer_at IS NOT NULL")

petitions = Table(
    "petitions",
    metadata,
    Column("source_id", String(64), nullable=False),
    Column("code", String(64), nullable=False),
    # Code first: the batch lookup is "code = ANY(…) AND source_id = …", selective on code even
    # when PostgreSQL's statistics are stale (a fresh table during a backfill).
    PrimaryKeyConstraint("code", "source_id"),
    Column("unit_code", String(64), nullable=False),
    Column("category", SmallInteger, nullable=False),
    Column("received_at", Micros, nullable=False),
    Column("received_month", Integer, nullable=False),
    Column("due_at", Micros, nullable=True),
    Column("resolved_at", Micros, nullable=True),
    Column("refused_at", Micros, nullable=True),
    Column("first_supplement_at", Micros, nullable=True),
    Column("ready_for_publication_at", Micros, nullable=True),
    Column("published_at", Micros, nullable=True),
    Column("last_transfer_at", Micros, nullable=True),
    Column("transfer_count", Integer, nullable=False),
    Column("likes", Integer, nullable=False),
    Column("dislikes", Integer, nullable=False),
    Column("repeat_complaint", Boolean, nullable=False),
    Column("rating", SmallInteger, nullable=False),
    Column("source_time", Micros, nullable=False),
    Column("batch_id", String(32), nullable=False),
    Index("ix_petitions_unit_received", "unit_code", "received_month"),
    # Scoring's due ticker (migration 0016) finds the petitions time re-judges in a window by ranges on
    # these: due times (766/2022 5.2), and the anchors of the stage limit an open petition is judged
    # against (portal/2025 5.2) — receipt or last transfer while not ready, readiness after.
    Index("ix_petitions_due_at", "due_at"),
    Index("ix_petitions_open_received_at", "received_at", sqlite_where=_NOT_READY, postgresql_where=_NOT_READY),
    Index("ix_petitions_open_last_transfer_at", "last_transfer_at",
          sqlite_where=_TRANSFERRED, postgresql_where=_TRANSFERRED),
    Index("ix_petitions_open_ready_at", "ready_for_publication_at",
          sqlite_where=_READY, postgresql_where=_READY),
)

reported_totals = Table(
    "reported_totals",
    metadata,
    Column("unit_code", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("dossiers_received", BigInteger, nullable=False),
    Column("source_time", Micros, nullable=False),
    Column("source_id", String(64), nullable=False),
    Column("batch_id", String(32), nullable=False),
)

# --------------------------------------------------------------------------- ingest: ledger, outbox

batches = Table(
    "batches",
    metadata,
    Column("batch_id", String(32), primary_key=True),
    Column("source_id", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column(
        "idempotency_key",
        String(128),
        nullable=True,
        comment="request_id when committed; NULL for refused atomic batches (the id stays usable)",
    ),
    Column("kind", SmallInteger, nullable=False, comment="chiso.ingest.v1.RecordKind"),
    Column("request_sha256", String(64), nullable=False),
    Column("atomic", Boolean, nullable=False),
    Column("received_at", Micros, nullable=False),
    Column("committed_at", Micros, nullable=True),
    Column("record_count", Integer, nullable=False),
    Column("accepted_count", Integer, nullable=False),
    Column("stale_count", Integer, nullable=False),
    Column("rejected_count", Integer, nullable=False),
    Column("outcome", String(16), nullable=False, comment="'committed' or 'refused'"),
    Column("response", LargeBinary, nullable=False, comment="the outcome as first answered (JSON, UTF-8)"),
    UniqueConstraint("source_id", "idempotency_key"),
    Index("ix_batches_source_request", "source_id", "request_id"),
    # a source's latest batch, for early warning's "source silent" rule (migration 0010)
    Index("ix_batches_source_committed", "source_id", "committed_at"),
)

change_notices = Table(
    "change_notices",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("unit_code", String(64), nullable=False),
    Column("month_from", Integer, nullable=False, comment="first yyyymm affected"),
    Column("month_to", Integer, nullable=False, comment="last yyyymm affected; 999912 = open-ended"),
    Column("kind", SmallInteger, nullable=False, comment="chiso.ingest.v1.RecordKind that changed"),
    Column("batch_id", String(32), nullable=False),
    Column("created_at", Micros, nullable=False),
)

OPEN_MONTH = 999912


def load_service_tables() -> MetaData:
    """``metadata`` with every service's own tables on it: each ``services/<service>/tables.py`` is
    found and imported (no import from here up into a named service)."""
    import importlib
    import pkgutil

    import services

    for module in pkgutil.iter_modules(services.__path__):
        if module.ispkg and importlib.util.find_spec(f"services.{module.name}.tables") is not None:
            importlib.import_module(f"services.{module.name}.tables")
    return metadata
