"""Publish's tables (migration 0003), on the shared metadata. Instants are UTC microseconds.

* ``publish_state`` — two rows: ``changes`` (last sequence number of the change feed; its row lock
  orders the feed: whoever holds it commits before the next number is handed out) and ``scoring``
  (scoring's change-feed cursor publish has applied up to).
* ``publish_units`` — units as the scorecards named them (code, name, kind, parent): the hierarchy
  publish matches subscriptions and filters lists with.
* ``publish_live`` — the latest live scorecard per (unit, period, scope) and its version, with its
  shown total in hundredths (ranks of a unit's history are counted in SQL from it).
* ``publish_changes`` — the change feed: one row per live scorecard version or publication
  revision, with the signed payload delivered to portals; indexed by live scorecard key (migration
  0012) for consistent snapshots.
* ``publish_publications`` / ``publish_official`` — signed revisions and the scorecards each froze.
* ``publish_subscriptions`` / ``publish_deliveries`` — portals and the outbox of deliveries to them
  (written in the transaction of the change they carry).
* ``publish_requests`` — operators' request ids (AIP-155).
* ``publish_keys`` — public keys that ever signed, for GetPublicKey.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services.shared.schema import Micros, metadata

publish_state = Table(
    "publish_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("int_value", BigInteger, nullable=False),
    Column("text_value", Text, nullable=False),
    Column("updated_at", Micros, nullable=False),
    comment="'changes': last feed sequence; 'scoring': scoring's cursor applied up to",
)

publish_keys = Table(
    "publish_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("algorithm", String(16), nullable=False),
    Column("public_key", LargeBinary, nullable=False, comment="raw public key"),
    Column("created_at", Micros, nullable=False),
)

publish_units = Table(
    "publish_units",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", SmallInteger, nullable=False, comment="chiso.types.v1.UnitKind"),
    Column("parent_code", String(64), nullable=False),
    Column("updated_at", Micros, nullable=False),
)

publish_live = Table(
    "publish_live",
    metadata,
    Column("unit_code", String(64), nullable=False),
    Column("period_key", String(16), nullable=False, comment="2026-08, 2026-Q3, 2026, 2026-YTD"),
    Column("scope", SmallInteger, nullable=False, comment="chiso.types.v1.Scope"),
    PrimaryKeyConstraint("unit_code", "period_key", "scope"),
    Column("unit_kind", SmallInteger, nullable=False),
    Column("parent_code", String(64), nullable=False),
    Column("version", BigInteger, nullable=False, comment="publish_changes.seq of this content"),
    Column("content_sha256", String(64), nullable=False, comment="of the scorecard without as_of/compute_time"),
    Column("scorecard", LargeBinary, nullable=False, comment="canonical JSON of chiso.types.v1.Scorecard"),
    Column("updated_at", Micros, nullable=False),
    Column("computed_at", Micros, nullable=False, server_default="0",
           comment="scoring's compute time of this content, µs since the epoch"),
    Column("total_centi", BigInteger, nullable=True,
           comment="shown total in hundredths (80.24 → 8024), what ranks compare; NULL: not ranked (migration 0008)"),
    Index("ix_publish_live_period_kind", "period_key", "unit_kind", "unit_code"),
    # a unit's rank among its peers is counted from this index alone (migration 0011)
    Index("ix_publish_live_peers", "period_key", "unit_kind", "parent_code", "scope", "total_centi"),
    Index("ix_publish_live_period_parent", "period_key", "parent_code", "unit_code"),
)

publish_changes = Table(
    "publish_changes",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False, comment="committed in this order"),
    Column("kind", SmallInteger, nullable=False, comment="chiso.publish.v1.ChangeKind"),
    Column("feed", SmallInteger, nullable=False),
    Column("unit_code", String(64), nullable=False, comment="live changes"),
    Column("period_key", String(16), nullable=False),
    Column("scope", SmallInteger, nullable=False),
    Column("publication_id", String(64), nullable=False, comment="publications"),
    Column("revision", Integer, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("payload", LargeBinary, nullable=False, comment="canonical JSON, signed"),
    Column("signature", LargeBinary, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("created_at", Micros, nullable=False),
    Index("ix_publish_changes_key", "unit_code", "period_key", "scope", "seq"),
)

publish_publications = Table(
    "publish_publications",
    metadata,
    Column("publication_id", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    PrimaryKeyConstraint("publication_id", "revision"),
    Column("title", Text, nullable=False),
    Column("period_key", String(16), nullable=False),
    Column("unit_kind", SmallInteger, nullable=False),
    Column("parent_code", String(64), nullable=False),
    Column("scope", SmallInteger, nullable=False),
    Column("requested_rule_version", String(32), nullable=False, comment="as asked ('' = in force)"),
    Column("rule_version", String(32), nullable=False, comment="as used"),
    Column("reason", Text, nullable=False),
    Column("publish_time", Micros, nullable=False),
    Column("change_seq", BigInteger, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("key_id", String(32), nullable=False),
    Index("ix_publish_publications_period", "period_key", "publish_time"),
    Index("ix_publish_publications_time", "publish_time"),
)

publish_official = Table(
    "publish_official",
    metadata,
    Column("publication_id", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("unit_code", String(64), nullable=False),
    Column("scope", SmallInteger, nullable=False),
    PrimaryKeyConstraint("publication_id", "revision", "unit_code", "scope"),
    Column("period_key", String(16), nullable=False),
    Column("unit_kind", SmallInteger, nullable=False),
    Column("parent_code", String(64), nullable=False),
    Column("scorecard", LargeBinary, nullable=False, comment="canonical JSON, as in the payload"),
    Column("total_centi", BigInteger, nullable=True,
           comment="shown total in hundredths (80.24 → 8024), what ranks compare; NULL: not ranked (migration 0008)"),
    Index("ix_publish_official_unit", "period_key", "unit_code"),
    Index("ix_publish_official_peers", "publication_id", "revision", "scope", "total_centi"),
)

publish_requests = Table(
    "publish_requests",
    metadata,
    Column("principal_id", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    PrimaryKeyConstraint("principal_id", "request_id"),
    Column("method", String(32), nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("result", Text, nullable=False, comment="name of what the request made"),
    Column("created_at", Micros, nullable=False),
)

publish_subscriptions = Table(
    "publish_subscriptions",
    metadata,
    Column("subscription_id", String(64), primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("endpoint", String(260), nullable=False),
    Column("unit_codes", Text, nullable=False, comment="JSON list of subtree roots; [] = every unit"),
    Column("feeds", SmallInteger, nullable=False, comment="bits: 1 live, 2 official"),
    Column("tls_enabled", Boolean, nullable=False),
    Column("tls_ca", LargeBinary, nullable=False),
    Column("tls_server_name", String(253), nullable=False),
    Column("created_at", Micros, nullable=False),
    Column("updated_at", Micros, nullable=False),
    Column("last_sequence", BigInteger, nullable=False, comment="sequence of the latest delivery"),
    Column("lease_owner", String(96), nullable=True, comment="replica delivering for this subscription"),
    Column("lease_expires_at", Micros, nullable=True),
    Column("alert_settings", Text, nullable=False, server_default="{}",
           comment="JSON: overrides of the shipped alert rules (migration 0010)"),
)

publish_deliveries = Table(
    "publish_deliveries",
    metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("subscription_id", String(64), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("change_seq", BigInteger, nullable=False),
    Column("feed", SmallInteger, nullable=False),
    Column("state", SmallInteger, nullable=False, comment="chiso.publish.v1.DeliveryState"),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Micros, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("created_at", Micros, nullable=False),
    Column("delivered_at", Micros, nullable=True),
    UniqueConstraint("subscription_id", "sequence"),
    Index("ix_publish_deliveries_queue", "subscription_id", "state", "sequence"),
)

publish_set_aside = Table(
    "publish_set_aside",
    metadata,
    Column("unit_code", String(64), nullable=False),
    Column("period_key", String(16), nullable=False),
    Column("scope", SmallInteger, nullable=False),
    PrimaryKeyConstraint("unit_code", "period_key", "scope"),
    Column("error", Text, nullable=False, comment="the last failure, at most 1,000 characters"),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", Micros, nullable=False),
    Column("last_failed_at", Micros, nullable=False),
    Column("next_attempt_at", Micros, nullable=False),
    Index("ix_publish_set_aside_due", "next_attempt_at"),
    comment="live scorecards the follower could not read or record; retried with backoff (migration 0007)",
)


# --- early warning (migration 0010) -------------------------------------------------------------------

alert_recipients = Table(
    "alert_recipients",
    metadata,
    Column("unit_code", String(64), nullable=False),
    Column("address", String(254), nullable=False),
    PrimaryKeyConstraint("unit_code", "address"),
    Column("created_at", Micros, nullable=False),
    comment="e-mail addresses that receive a unit's alerts (the reserved 'email' subscription)",
)

alert_units = Table(
    "alert_units",
    metadata,
    Column("unit_code", String(64), primary_key=True),
    Column("period_key", String(16), nullable=False, comment="the running month last evaluated"),
    Column("baseline_band", String(16), nullable=False, comment="band at the month's first evaluation ('' none)"),
    Column("live_version", BigInteger, nullable=False, comment="publish_live.version evaluated (data changes)"),
    Column("evaluated_at", Micros, nullable=False, comment="also the compare-and-set of replicas"),
    comment="when each watched unit's alert rules were last evaluated",
)

alert_state = Table(
    "alert_state",
    metadata,
    Column("subscription_id", String(64), nullable=False),
    Column("unit_code", String(64), nullable=False),
    Column("rule_id", String(32), nullable=False),
    Column("period_key", String(16), nullable=False),
    PrimaryKeyConstraint("subscription_id", "unit_code", "rule_id", "period_key"),
    Column("alert_id", String(40), nullable=False),
    Column("state", String(16), nullable=False, comment="OPEN or RESOLVED"),
    Column("title", Text, nullable=False),
    Column("opened_at", Micros, nullable=False),
    Column("resolved_at", Micros, nullable=True),
    Index("ix_alert_state_unit_opened", "unit_code", "opened_at"),
    comment="one alert per subscription, unit, rule and period: raised once, resolved once",
)
