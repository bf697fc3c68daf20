"""Early warning's storage: recipients, evaluation state, alerts raised; and the source activity the
"source silent" rule reads (``batches`` by its (source, committed) index, ``grants``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from services.publish.domain.alerts import OPEN, RESOLVED, StoredAlert
from services.publish.tables import alert_recipients, alert_state, alert_units, publish_live, publish_units
from services.shared.access import ALL_UNITS, SOURCE
from services.shared.schema import batches, grants, principals, units

# --- recipients -------------------------------------------------------------------------------------


def add_recipient(conn: Connection, unit_code: str, address: str, now: int) -> int:
    """Add (idempotent); the creation time of the stored row."""
    t = alert_recipients
    row = conn.execute(select(t.c.created_at).where(t.c.unit_code == unit_code, t.c.address == address)).first()
    if row is not None:
        return row[0]
    conn.execute(insert(t).values(unit_code=unit_code, address=address, created_at=now))
    return now


def remove_recipient(conn: Connection, unit_code: str, address: str) -> bool:
    t = alert_recipients
    return conn.execute(delete(t).where(t.c.unit_code == unit_code, t.c.address == address)).rowcount > 0


def recipients(conn: Connection, unit_code: str = "", after: tuple[str, str] | None = None,
               limit: int = 1000) -> list[tuple[str, str, int]]:
    t = alert_recipients
    stmt = select(t.c.unit_code, t.c.address, t.c.created_at).order_by(t.c.unit_code, t.c.address).limit(limit)
    if unit_code:
        stmt = stmt.where(t.c.unit_code == unit_code)
    if after is not None:
        stmt = stmt.where(or_(t.c.unit_code > after[0], (t.c.unit_code == after[0]) & (t.c.address > after[1])))
    return [tuple(r) for r in conn.execute(stmt)]


def addresses_of(conn: Connection, unit_code: str) -> list[str]:
    t = alert_recipients
    return list(conn.execute(select(t.c.address).where(t.c.unit_code == unit_code).order_by(t.c.address)).scalars())


def units_with_recipients(conn: Connection) -> list[str]:
    t = alert_recipients
    return list(conn.execute(select(t.c.unit_code).distinct().order_by(t.c.unit_code)).scalars())


def top_units(conn: Connection) -> list[str]:
    """Units without a parent (provinces, ministries) as publish knows them."""
    t = publish_units
    return list(conn.execute(select(t.c.code).where(t.c.parent_code == "").order_by(t.c.code)).scalars())


def unit_name(conn: Connection, unit_code: str) -> str:
    """The unit's name from the catalogue (or as publish's scorecards named it); "" if unknown."""
    name = conn.execute(select(units.c.name).where(units.c.code == unit_code)).scalar()
    if name is None:
        name = conn.execute(select(publish_units.c.name).where(publish_units.c.code == unit_code)).scalar()
    return name or ""


def ancestors(conn: Connection, unit_code: str) -> list[str]:
    """The unit's ancestors in the catalogue (ingest's units, shared; else as publish's scorecards named
    them), nearest first — a few single-row reads."""
    out, seen, code = [], {unit_code}, unit_code
    while True:
        parent = conn.execute(select(units.c.parent_code).where(units.c.code == code)).scalar()
        if parent is None:
            parent = conn.execute(select(publish_units.c.parent_code).where(publish_units.c.code == code)).scalar()
        if not parent or parent in seen:
            return out
        out.append(parent)
        seen.add(parent)
        code = parent


def known_unit(conn: Connection, unit_code: str) -> bool:
    """A unit of the catalogue (ingest's units, shared), or one publish has scorecards of."""
    if conn.execute(select(units.c.code).where(units.c.code == unit_code)).first() is not None:
        return True
    return conn.execute(select(publish_units.c.code).where(publish_units.c.code == unit_code)).first() is not None


# --- evaluation state -------------------------------------------------------------------------------


def reevaluate_soon(conn: Connection, unit_codes: Sequence[str] | None) -> int:
    """Have the alert worker evaluate these units (None: every unit evaluated so far) in its next round,
    whatever their last evaluation: someone new watches them (a recipient, a subscription with the alert
    feed, changed alert settings), and what already holds is owed to them now, not after the interval.
    An evaluation running meanwhile gives way (``claim_unit`` compares ``evaluated_at``)."""
    q = update(alert_units).values(evaluated_at=0)
    if unit_codes is not None:
        q = q.where(alert_units.c.unit_code.in_(list(unit_codes)))
    return conn.execute(q).rowcount


def unit_state(conn: Connection, unit_code: str):
    return conn.execute(select(alert_units).where(alert_units.c.unit_code == unit_code)).first()


def unit_states(conn: Connection, unit_codes: Sequence[str]) -> dict[str, object]:
    out = {}
    for i in range(0, len(unit_codes), 500):
        chunk = unit_codes[i:i + 500]
        out.update({r.unit_code: r for r in conn.execute(select(alert_units)
                                                          .where(alert_units.c.unit_code.in_(chunk)))})
    return out


def live_versions(conn: Connection, unit_codes: Sequence[str], period_key: str,
                  scope: int) -> dict[str, tuple[int, int]]:
    """unit code → (version, updated_at µs) of its live scorecard of the period — one read per 500 units,
    without the scorecards themselves (the alert worker's look for work)."""
    t = publish_live
    out = {}
    for i in range(0, len(unit_codes), 500):
        chunk = unit_codes[i:i + 500]
        out.update({r.unit_code: (r.version, r.updated_at) for r in conn.execute(
            select(t.c.unit_code, t.c.version, t.c.updated_at)
            .where(t.c.period_key == period_key, t.c.scope == scope, t.c.unit_code.in_(chunk)))})
    return out


def claim_unit(conn: Connection, unit_code: str, seen_evaluated_at: int | None, values: dict) -> bool:
    """Record an evaluation if nobody else recorded one since ``seen_evaluated_at`` (None: never
    evaluated): the compare-and-set that keeps two replicas from both sending."""
    t = alert_units
    if seen_evaluated_at is None:  # a replica inserting the same unit meanwhile fails the transaction
        conn.execute(insert(t).values(unit_code=unit_code, **values))
        return True
    return conn.execute(update(t).where(t.c.unit_code == unit_code, t.c.evaluated_at == seen_evaluated_at)
                        .values(**values)).rowcount > 0


def stored_alerts(conn: Connection, subscription_id: str, unit_code: str, period_key: str) -> dict[str, StoredAlert]:
    t = alert_state
    rows = conn.execute(select(t.c.rule_id, t.c.alert_id, t.c.state, t.c.title)
                        .where(t.c.subscription_id == subscription_id, t.c.unit_code == unit_code,
                               t.c.period_key == period_key))
    return {r.rule_id: StoredAlert(r.alert_id, r.state) for r in rows}


def stored_title(conn: Connection, alert_id: str) -> str:
    return conn.execute(select(alert_state.c.title).where(alert_state.c.alert_id == alert_id)).scalar() or ""


def open_alert(conn: Connection, subscription_id: str, unit_code: str, rule_id: str, period_key: str,
               alert_id: str, title: str, now: int) -> None:
    conn.execute(insert(alert_state).values(subscription_id=subscription_id, unit_code=unit_code, rule_id=rule_id,
                                            period_key=period_key, alert_id=alert_id, state=OPEN, title=title,
                                            opened_at=now, resolved_at=None))


def resolve_alert(conn: Connection, alert_id: str, now: int) -> bool:
    t = alert_state
    return conn.execute(update(t).where(t.c.alert_id == alert_id, t.c.state == OPEN)
                        .values(state=RESOLVED, resolved_at=now)).rowcount > 0


def alerts(conn: Connection, unit_code: str, state: str, after: tuple[int, str] | None, limit: int) -> list:
    t = alert_state
    stmt = select(t).order_by(t.c.opened_at.desc(), t.c.alert_id.desc()).limit(limit)
    if unit_code:
        stmt = stmt.where(t.c.unit_code == unit_code)
    if state:
        stmt = stmt.where(t.c.state == state)
    if after is not None:
        stmt = stmt.where(or_(t.c.opened_at < after[0], (t.c.opened_at == after[0]) & (t.c.alert_id < after[1])))
    return list(conn.execute(stmt))


# --- source activity --------------------------------------------------------------------------------


def sources_covering(conn: Connection, lineage: Iterable[str]) -> list[str]:
    """Source systems whose grant covers a unit whose lineage (itself and its ancestors) is given."""
    roots = sorted(set(lineage) | {ALL_UNITS})
    stmt = (select(grants.c.principal_id).distinct()
            .join(principals, principals.c.id == grants.c.principal_id)
            .where(principals.c.kind == SOURCE, grants.c.unit_code.in_(roots))
            .order_by(grants.c.principal_id))
    return list(conn.execute(stmt).scalars())


def last_batch_at(conn: Connection, source_id: str) -> int | None:
    """When the source's latest batch was committed (µs), from the (source_id, committed_at) index."""
    return conn.execute(select(func.max(batches.c.committed_at)).where(batches.c.source_id == source_id)).scalar()
