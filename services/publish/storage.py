"""Publish's SQL (SQLAlchemy Core). Functions take an open connection; the service layer owns the
transactions. See ``services.publish.tables`` for what each table holds."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from services.publish.domain.documents import FEED_ALERT, FEED_LIVE, FEED_OFFICIAL, Card, CardKey
from services.publish.domain.subscriptions import PENDING, SET_ASIDE, Outgoing, Subscription
from services.publish.tables import (
    publish_changes,
    publish_deliveries,
    publish_keys,
    publish_live,
    publish_official,
    publish_publications,
    publish_requests,
    publish_set_aside,
    publish_state,
    publish_subscriptions,
    publish_units,
)

CHANGES, SCORING = "changes", "scoring"
#: the past lane's cursor in scoring's change feed (``SCORING`` is the live lane's)
SCORING_PAST = "scoring_past"
#: the follower lanes: the state row holding each one's cursor
LANES = (SCORING, SCORING_PAST)
KIND_LIVE, KIND_PUBLICATION = 1, 2  # chiso.publish.v1.ChangeKind
KIND_ALERT = 3  # an early-warning alert: an outbox entry only, never in the public feed


def _insert(conn: Connection, table):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def upsert(conn: Connection, table, rows: Sequence[dict], keys: Sequence[str]) -> None:
    if not rows:
        return
    stmt = _insert(conn, table)
    cols = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in cols})
    conn.execute(stmt, list(rows))


# --------------------------------------------------------------------------- state and sequence


def read_state(conn: Connection, name: str) -> tuple[int, str]:
    row = conn.execute(select(publish_state.c.int_value, publish_state.c.text_value)
                       .where(publish_state.c.name == name)).one()
    return row.int_value, row.text_value


def lane_cursors(conn: Connection) -> list[str]:
    """Where each follower lane is in scoring's change feed (publish has caught up when no change
    follows any of them)."""
    return [read_state(conn, lane)[1] for lane in LANES]


def lock_state(conn: Connection, name: str) -> tuple[int, str]:
    """The row, locked until the transaction ends (PostgreSQL; SQLite writers are serialised)."""
    row = conn.execute(select(publish_state.c.int_value, publish_state.c.text_value)
                       .where(publish_state.c.name == name).with_for_update()).one()
    return row.int_value, row.text_value


def write_state(conn: Connection, name: str, now: int, *, int_value: int | None = None,
                text_value: str | None = None) -> None:
    values: dict = {"updated_at": now}
    if int_value is not None:
        values["int_value"] = int_value
    if text_value is not None:
        values["text_value"] = text_value
    conn.execute(update(publish_state).where(publish_state.c.name == name).values(**values))


def allocate(conn: Connection, count: int, now: int) -> list[int]:
    """``count`` feed sequence numbers. The ``changes`` row stays locked until commit, so feed rows
    become visible in sequence order: no reader ever sees n+1 before n."""
    last, _ = lock_state(conn, CHANGES)
    write_state(conn, CHANGES, now, int_value=last + count)
    return list(range(last + 1, last + count + 1))


# --------------------------------------------------------------------------- keys


def register_key(conn: Connection, key_id: str, algorithm: str, public_raw: bytes, now: int) -> None:
    stmt = _insert(conn, publish_keys).values(key_id=key_id, algorithm=algorithm, public_key=public_raw,
                                              created_at=now)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["key_id"]))


def keys(conn: Connection) -> list:
    return list(conn.execute(select(publish_keys).order_by(publish_keys.c.created_at.desc())))


# --------------------------------------------------------------------------- units and live scorecards


def upsert_units(conn: Connection, cards: Iterable[Card], now: int) -> None:
    rows = {c.unit_code: {"code": c.unit_code, "name": c.unit_name, "kind": c.unit_kind,
                          "parent_code": c.parent_code, "updated_at": now} for c in cards}
    upsert(conn, publish_units, [rows[k] for k in sorted(rows)], ["code"])


def parents(conn: Connection) -> dict[str, str]:
    return {code: parent for code, parent in conn.execute(select(publish_units.c.code, publish_units.c.parent_code))}


def unit_row(conn: Connection, code: str):
    return conn.execute(select(publish_units).where(publish_units.c.code == code)).first()


def unit_name(conn: Connection, code: str) -> str:
    return conn.execute(select(publish_units.c.name).where(publish_units.c.code == code)).scalar() or ""


def live_hashes(conn: Connection, keys_: Sequence[CardKey]) -> dict[tuple[str, str, int], tuple[str, int]]:
    """(content hash, compute time) of the stored live scorecards among ``keys_``."""
    out: dict[tuple[str, str, int], tuple[str, int]] = {}
    codes = sorted({k.unit_code for k in keys_})
    wanted = {(k.unit_code, k.period.key, k.scope) for k in keys_}
    for i in range(0, len(codes), 500):
        rows = conn.execute(select(publish_live.c.unit_code, publish_live.c.period_key, publish_live.c.scope,
                                   publish_live.c.content_sha256, publish_live.c.computed_at)
                            .where(publish_live.c.unit_code.in_(codes[i:i + 500])))
        for r in rows:
            key = (r.unit_code, r.period_key, r.scope)
            if key in wanted:
                out[key] = (r.content_sha256, r.computed_at)
    return out


def upsert_live(conn: Connection, rows: Sequence[dict]) -> None:
    upsert(conn, publish_live, rows, ["unit_code", "period_key", "scope"])


def live_keys(conn: Connection) -> list[tuple[str, str, int]]:
    return list(conn.execute(select(publish_live.c.unit_code, publish_live.c.period_key,
                                    publish_live.c.scope)))


def live_row(conn: Connection, unit_code: str, period_key: str, scope: int):
    return conn.execute(select(publish_live).where(
        publish_live.c.unit_code == unit_code, publish_live.c.period_key == period_key,
        publish_live.c.scope == scope)).first()


def _unit_filters(table, unit_kind: int, parent_code: str) -> list:
    where = []
    if unit_kind:
        where.append(table.c.unit_kind == unit_kind)
    if parent_code:
        where.append(table.c.parent_code == parent_code)
    return where


def live_rows(conn: Connection, period_key: str, unit_kind: int, parent_code: str, after: tuple[str, int] | None,
              limit: int, scope: int = 0) -> tuple[list, int]:
    where = [publish_live.c.period_key == period_key, *_unit_filters(publish_live, unit_kind, parent_code)]
    if scope:
        where.append(publish_live.c.scope == scope)
    total = conn.execute(select(func.count()).select_from(publish_live).where(*where)).scalar_one()
    if after is not None:
        code, scope = after
        where.append(or_(publish_live.c.unit_code > code,
                         and_(publish_live.c.unit_code == code, publish_live.c.scope > scope)))
    rows = conn.execute(select(publish_live).where(*where)
                        .order_by(publish_live.c.unit_code, publish_live.c.scope).limit(limit))
    return list(rows), total


def subtree_codes(conn: Connection, roots: Sequence[str]) -> list[str]:
    """Sorted codes of ``roots`` and every unit beneath them, in publish's hierarchy."""
    children: dict[str, list[str]] = {}
    for code, parent in parents(conn).items():
        if parent:
            children.setdefault(parent, []).append(code)
    seen, stack = set(roots), list(roots)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return sorted(seen)


def _after_key(table, after: tuple[str, str, int]):
    code, period, scope = after
    return or_(table.c.unit_code > code, and_(table.c.unit_code == code, or_(
        table.c.period_key > period, and_(table.c.period_key == period, table.c.scope > scope))))


def live_in_key_order(conn: Connection, *, period_key: str = "", scope: int = 0, codes: Sequence[str] | None = None,
                      after: tuple[str, str, int] | None = None, limit: int | None = None,
                      columns: Sequence | None = None) -> list:
    """Live rows ordered by (unit, period, scope), after ``after``: of one period and scope when given,
    of the sorted unit ``codes`` when given (``None``: every unit)."""
    t = publish_live
    where = []
    if period_key:
        where.append(t.c.period_key == period_key)
    if scope:
        where.append(t.c.scope == scope)
    if after is not None:
        where.append(_after_key(t, after))
    stmt = select(*(columns or [t])).where(*where).order_by(t.c.unit_code, t.c.period_key, t.c.scope)
    if codes is None:
        return list(conn.execute(stmt if limit is None else stmt.limit(limit)))
    out: list = []
    start = bisect_left(codes, after[0]) if after is not None else 0
    for i in range(start, len(codes), 500):
        part = stmt.where(t.c.unit_code.in_(list(codes[i:i + 500])))
        out.extend(conn.execute(part if limit is None else part.limit(limit - len(out))))
        if limit is not None and len(out) >= limit:
            break
    return out


def live_payloads_at(conn: Connection, keys_: Iterable[tuple[str, str, int]], seq: int) -> dict[tuple, bytes]:
    """The payload of each key's latest live feed entry at or before ``seq`` (a key first recorded
    after it is left out). One indexed look-up per key (``ix_publish_changes_key``)."""
    c = publish_changes
    out: dict[tuple, bytes] = {}
    for key in keys_:
        code, period, scope = key
        payload = conn.execute(select(c.c.payload).where(
            c.c.unit_code == code, c.c.period_key == period, c.c.scope == scope, c.c.seq <= seq,
            c.c.kind == KIND_LIVE).order_by(c.c.seq.desc()).limit(1)).scalar()
        if payload is not None:
            out[key] = bytes(payload)
    return out


def latest_publication_changes(conn: Connection, codes: Sequence[str] | None) -> list[tuple[int, str]]:
    """(feed sequence, publication id) of the latest revision of every publication, or of those
    including one of the sorted unit ``codes``."""
    latest = _latest_revisions()
    p = publish_publications
    stmt = select(p.c.change_seq, p.c.publication_id).join(
        latest, and_(p.c.publication_id == latest.c.publication_id, p.c.revision == latest.c.rev))
    if codes is None:
        return [tuple(r) for r in conn.execute(stmt)]
    o = publish_official
    found: dict[str, int] = {}
    for i in range(0, len(codes), 500):
        part = stmt.join(o, and_(o.c.publication_id == p.c.publication_id, o.c.revision == p.c.revision)) \
            .where(o.c.unit_code.in_(list(codes[i:i + 500]))).distinct()
        for seq, pid in conn.execute(part):
            found[pid] = seq
    return [(seq, pid) for pid, seq in found.items()]
def _rank_of(table, me, *peer_match) -> tuple:
    """Correlated counts over ``table``'s rows that ``peer_match`` ties to the row ``me``: its rank
    (1 + peers with a higher shown total; NULL when it is not ranked) and how many are ranked."""
    peer = table.alias("peer")
    match = [m(peer) for m in peer_match]
    higher = (select(func.count()).select_from(peer)
              .where(*match, peer.c.total_centi > me.c.total_centi).scalar_subquery())
    ranked = select(func.count()).select_from(peer).where(*match, peer.c.total_centi.is_not(None)).scalar_subquery()
    rank = case((me.c.total_centi.is_(None), None), else_=higher + 1)
    return rank.label("rank"), ranked.label("ranked_count")


def live_history(conn: Connection, unit_code: str, period_keys: Sequence[str], scope: int) -> list:
    """The unit's live scorecards for ``period_keys`` with, in the same query, each one's rank among
    its peers (same period, scope, kind and parent) and their number."""
    me = publish_live.alias("me")
    rank, ranked = _rank_of(publish_live, me,
                            lambda p: p.c.period_key == me.c.period_key, lambda p: p.c.scope == me.c.scope,
                            lambda p: p.c.unit_kind == me.c.unit_kind, lambda p: p.c.parent_code == me.c.parent_code)
    return list(conn.execute(
        select(me.c.period_key, me.c.scorecard, me.c.version, me.c.updated_at, rank, ranked)
        .where(me.c.unit_code == unit_code, me.c.scope == scope, me.c.period_key.in_(list(period_keys)))))


def official_history(conn: Connection, unit_code: str, period_keys: Sequence[str], scope: int = 0) -> list:
    """The unit's scorecards in the latest revision of every publication of ``period_keys`` (of
    ``scope``, or any), newest publication first, each with its rank in that revision and the number
    ranked there."""
    me, p = publish_official.alias("me"), publish_publications
    latest = _latest_revisions()
    rank, ranked = _rank_of(publish_official, me,
                            lambda o: o.c.publication_id == me.c.publication_id,
                            lambda o: o.c.revision == me.c.revision, lambda o: o.c.scope == me.c.scope)
    stmt = (select(me.c.period_key, me.c.scope, me.c.scorecard, me.c.publication_id, me.c.revision,
                   p.c.publish_time, rank, ranked)
            .join(p, and_(p.c.publication_id == me.c.publication_id, p.c.revision == me.c.revision))
            .join(latest, and_(me.c.publication_id == latest.c.publication_id, me.c.revision == latest.c.rev))
            .where(me.c.unit_code == unit_code, me.c.period_key.in_(list(period_keys))))
    if scope:
        stmt = stmt.where(me.c.scope == scope)
    return list(conn.execute(stmt.order_by(p.c.publish_time.desc(), me.c.publication_id)))


def official_totals(conn: Connection, publication_id: str, revision: int) -> list[tuple[str, int | None]]:
    """(unit code, shown total in hundredths) of the scorecards of one revision."""
    o = publish_official
    return [(r.unit_code, r.total_centi) for r in conn.execute(
        select(o.c.unit_code, o.c.total_centi).where(o.c.publication_id == publication_id,
                                                      o.c.revision == revision))]


# --------------------------------------------------------------------------- change feed


def insert_changes(conn: Connection, rows: Sequence[dict]) -> None:
    if rows:
        conn.execute(insert(publish_changes), list(rows))


def changes_after(conn: Connection, seq: int, limit: int) -> list:
    """The public change feed after ``seq``: live scorecards and publications — never alerts (they name
    dossiers and go only to the subscriptions they were raised for)."""
    return list(conn.execute(select(publish_changes).where(publish_changes.c.seq > seq,
                                                           publish_changes.c.kind != KIND_ALERT)
                             .order_by(publish_changes.c.seq).limit(limit)))


def last_seq(conn: Connection) -> int:
    return conn.execute(select(func.max(publish_changes.c.seq))).scalar() or 0


def change_row(kind: int, seq: int, *, payload: bytes, signature: bytes, key_id: str, content_type: str,
               now: int, unit_code: str = "", period_key: str = "", scope: int = 0, publication_id: str = "",
               revision: int = 0) -> dict:
    feed = {KIND_LIVE: FEED_LIVE, KIND_ALERT: FEED_ALERT}.get(kind, FEED_OFFICIAL)
    return {"seq": seq, "kind": kind, "feed": feed,
            "unit_code": unit_code, "period_key": period_key, "scope": scope, "publication_id": publication_id,
            "revision": revision, "content_type": content_type, "payload": payload, "signature": signature,
            "key_id": key_id, "created_at": now}


# --------------------------------------------------------------------------- publications


def insert_publication(conn: Connection, row: dict, official: Sequence[dict]) -> None:
    conn.execute(insert(publish_publications).values(**row))
    if official:
        conn.execute(insert(publish_official), list(official))


def latest_revision(conn: Connection, publication_id: str):
    return conn.execute(select(publish_publications).where(publish_publications.c.publication_id == publication_id)
                        .order_by(publish_publications.c.revision.desc()).limit(1)).first()


def revision_row(conn: Connection, publication_id: str, revision: int):
    if not revision:
        return latest_revision(conn, publication_id)
    return conn.execute(select(publish_publications).where(
        publish_publications.c.publication_id == publication_id,
        publish_publications.c.revision == revision)).first()


def _latest_revisions():
    return (select(publish_publications.c.publication_id, func.max(publish_publications.c.revision).label("rev"))
            .group_by(publish_publications.c.publication_id).subquery())


def list_latest_publications(conn: Connection, period_key: str, after: tuple[int, str] | None, limit: int) -> list:
    """Latest revisions, newest publish time first (keyset: publish_time, publication_id)."""
    latest = _latest_revisions()
    p = publish_publications
    stmt = select(p).join(latest, and_(p.c.publication_id == latest.c.publication_id, p.c.revision == latest.c.rev))
    if period_key:
        stmt = stmt.where(p.c.period_key == period_key)
    if after is not None:
        t, pid = after
        stmt = stmt.where(or_(p.c.publish_time < t, and_(p.c.publish_time == t, p.c.publication_id > pid)))
    return list(conn.execute(stmt.order_by(p.c.publish_time.desc(), p.c.publication_id).limit(limit)))


def latest_publication_for(conn: Connection, period_key: str, unit_kind: int, parent_code: str, scope: int = 0):
    """The latest revision of the most recently issued publication of a period, kind and parent (and
    ``scope``, when given)."""
    latest = _latest_revisions()
    p = publish_publications
    stmt = (select(p).join(latest, and_(p.c.publication_id == latest.c.publication_id, p.c.revision == latest.c.rev))
            .where(p.c.period_key == period_key, p.c.unit_kind == unit_kind, p.c.parent_code == parent_code))
    if scope:
        stmt = stmt.where(p.c.scope == scope)
    return conn.execute(stmt.order_by(p.c.publish_time.desc()).limit(1)).first()


def official_rows(conn: Connection, period_key: str, unit_code: str = "", scope: int = 0, unit_kind: int = 0,
                  parent_code: str = "", *, publication_id: str = "", revision: int = 0) -> list:
    """Scorecards frozen for a period, newest publication first: of one revision when given, else of
    the latest revision of every publication."""
    o, p = publish_official, publish_publications
    stmt = select(o, p.c.publish_time).join(p, and_(p.c.publication_id == o.c.publication_id,
                                                    p.c.revision == o.c.revision))
    if publication_id:
        stmt = stmt.where(o.c.publication_id == publication_id, o.c.revision == revision)
    else:
        latest = _latest_revisions()
        stmt = stmt.join(latest, and_(o.c.publication_id == latest.c.publication_id, o.c.revision == latest.c.rev))
    stmt = stmt.where(o.c.period_key == period_key, *_unit_filters(o, unit_kind, parent_code))
    if unit_code:
        stmt = stmt.where(o.c.unit_code == unit_code)
    if scope:
        stmt = stmt.where(o.c.scope == scope)
    return list(conn.execute(stmt.order_by(p.c.publish_time.desc(), o.c.publication_id)))


# --------------------------------------------------------------------------- operator requests


def find_request(conn: Connection, principal_id: str, request_id: str):
    return conn.execute(select(publish_requests).where(publish_requests.c.principal_id == principal_id,
                                                       publish_requests.c.request_id == request_id)).first()


def record_request(conn: Connection, principal_id: str, request_id: str, method: str, sha: str, result: str,
                   now: int) -> None:
    conn.execute(insert(publish_requests).values(principal_id=principal_id, request_id=request_id, method=method,
                                                 request_sha256=sha, result=result, created_at=now))


# --------------------------------------------------------------------------- subscriptions


def _feeds_bits(feeds: Iterable[int]) -> int:
    return sum(1 << (f - 1) for f in set(feeds))


def subscription_values(sub: Subscription) -> dict:
    return {"display_name": sub.display_name, "endpoint": sub.endpoint,
            "unit_codes": json.dumps(list(sub.unit_codes), ensure_ascii=False), "feeds": _feeds_bits(sub.feeds),
            "tls_enabled": sub.tls_enabled, "tls_ca": sub.tls_ca, "tls_server_name": sub.tls_server_name,
            "alert_settings": json.dumps(dict(sub.alert_settings), ensure_ascii=False, sort_keys=True)}


def to_subscription(row, pending: int = 0, set_aside: int = 0) -> Subscription:
    feeds = frozenset(f for f in (FEED_LIVE, FEED_OFFICIAL, FEED_ALERT) if row.feeds & (1 << (f - 1)))
    return Subscription(row.subscription_id, row.display_name, row.endpoint, tuple(json.loads(row.unit_codes)),
                        feeds, bool(row.tls_enabled), bytes(row.tls_ca), row.tls_server_name, row.created_at,
                        pending, set_aside, tuple(sorted(json.loads(row.alert_settings or "{}").items())))


def insert_subscription(conn: Connection, sub: Subscription, now: int) -> None:
    conn.execute(insert(publish_subscriptions).values(subscription_id=sub.subscription_id, created_at=now,
                                                      updated_at=now, last_sequence=0, **subscription_values(sub)))


def update_subscription(conn: Connection, sub: Subscription, now: int) -> bool:
    return conn.execute(update(publish_subscriptions)
                        .where(publish_subscriptions.c.subscription_id == sub.subscription_id)
                        .values(updated_at=now, **subscription_values(sub))).rowcount > 0


def delete_subscription(conn: Connection, subscription_id: str) -> bool:
    conn.execute(delete(publish_deliveries).where(publish_deliveries.c.subscription_id == subscription_id))
    return conn.execute(delete(publish_subscriptions)
                        .where(publish_subscriptions.c.subscription_id == subscription_id)).rowcount > 0


def subscription_row(conn: Connection, subscription_id: str):
    return conn.execute(select(publish_subscriptions)
                        .where(publish_subscriptions.c.subscription_id == subscription_id)).first()


def subscriptions(conn: Connection, after: str = "", limit: int | None = None, *, only: str = "",
                  counts: bool = False) -> list[Subscription]:
    stmt = select(publish_subscriptions).order_by(publish_subscriptions.c.subscription_id)
    if after:
        stmt = stmt.where(publish_subscriptions.c.subscription_id > after)
    if only:
        stmt = stmt.where(publish_subscriptions.c.subscription_id == only)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = list(conn.execute(stmt))
    tally: dict[tuple[str, int], int] = {}
    if rows and counts:
        d = publish_deliveries
        ids = [r.subscription_id for r in rows]
        for sid, state, n in conn.execute(select(d.c.subscription_id, d.c.state, func.count())
                                          .where(d.c.subscription_id.in_(ids), d.c.state.in_([PENDING, SET_ASIDE]))
                                          .group_by(d.c.subscription_id, d.c.state)):
            tally[(sid, state)] = n
    return [to_subscription(r, tally.get((r.subscription_id, PENDING), 0),
                            tally.get((r.subscription_id, SET_ASIDE), 0)) for r in rows]


def reserve_sequences(conn: Connection, subscription_id: str, count: int) -> int | None:
    """First of ``count`` new sequence numbers of a subscription (None if it was deleted meanwhile)."""
    s = publish_subscriptions
    last = conn.execute(select(s.c.last_sequence).where(s.c.subscription_id == subscription_id)
                        .with_for_update()).scalar()
    if last is None:
        return None
    conn.execute(update(s).where(s.c.subscription_id == subscription_id).values(last_sequence=last + count))
    return last + 1


def insert_deliveries(conn: Connection, rows: Sequence[dict]) -> None:
    if rows:
        conn.execute(insert(publish_deliveries), list(rows))


# --------------------------------------------------------------------------- delivery queue


def claim(conn: Connection, owner: str, now: int, until: int) -> list[str]:
    """Lease every subscription nobody holds (or whose lease ran out) to ``owner``."""
    s = publish_subscriptions
    free = or_(s.c.lease_owner.is_(None), s.c.lease_expires_at < now, s.c.lease_owner == owner)
    ids = list(conn.execute(select(s.c.subscription_id).where(free).with_for_update(skip_locked=True)).scalars())
    if ids:
        conn.execute(update(s).where(s.c.subscription_id.in_(ids), free)
                     .values(lease_owner=owner, lease_expires_at=until))
    return list(conn.execute(select(s.c.subscription_id).where(s.c.lease_owner == owner,
                                                               s.c.lease_expires_at == until)).scalars())


def renew(conn: Connection, subscription_id: str, owner: str, until: int) -> bool:
    s = publish_subscriptions
    return conn.execute(update(s).where(s.c.subscription_id == subscription_id, s.c.lease_owner == owner)
                        .values(lease_expires_at=until)).rowcount > 0


def release(conn: Connection, owner: str, subscription_ids: Sequence[str] | None = None) -> None:
    s = publish_subscriptions
    stmt = update(s).where(s.c.lease_owner == owner)
    if subscription_ids is not None:
        stmt = stmt.where(s.c.subscription_id.in_(list(subscription_ids)))
    conn.execute(stmt.values(lease_owner=None, lease_expires_at=None))


@dataclass(frozen=True)
class Due:
    """A subscription's next pending delivery, without its payload (``load_item`` reads that)."""

    delivery_id: str
    subscription_id: str
    sequence: int
    feed: int
    attempts: int
    next_attempt_at: int
    change_seq: int
    payload_size: int


def next_pending(conn: Connection, subscription_id: str) -> Due | None:
    d, c = publish_deliveries, publish_changes
    row = conn.execute(
        select(d.c.delivery_id, d.c.sequence, d.c.feed, d.c.attempts, d.c.next_attempt_at, d.c.change_seq,
               func.length(c.c.payload).label("payload_size"))
        .join(c, c.c.seq == d.c.change_seq)
        .where(d.c.subscription_id == subscription_id, d.c.state == PENDING)
        .order_by(d.c.sequence).limit(1)).first()
    if row is None:
        return None
    return Due(row.delivery_id, subscription_id, row.sequence, row.feed, row.attempts, row.next_attempt_at,
               row.change_seq, row.payload_size or 0)


def load_item(conn: Connection, due: Due) -> Outgoing:
    """The delivery as sent: ``due`` with its change's payload and signature."""
    c = publish_changes
    row = conn.execute(select(c.c.payload, c.c.content_type, c.c.signature, c.c.key_id)
                       .where(c.c.seq == due.change_seq)).one()
    return Outgoing(due.delivery_id, due.subscription_id, due.sequence, due.feed, bytes(row.payload),
                    row.content_type, bytes(row.signature), row.key_id, due.attempts)


def set_delivery(conn: Connection, delivery_id: str, **values) -> bool:
    d = publish_deliveries
    return conn.execute(update(d).where(d.c.delivery_id == delivery_id, d.c.state == PENDING)
                        .values(**values)).rowcount > 0


def deliveries(conn: Connection, subscription_id: str, state: int, after: int, limit: int) -> list:
    d = publish_deliveries
    stmt = select(d).where(d.c.subscription_id == subscription_id, d.c.sequence > after)
    if state:
        stmt = stmt.where(d.c.state == state)
    return list(conn.execute(stmt.order_by(d.c.sequence).limit(limit)))


def replay(conn: Connection, subscription_id: str, delivery_ids: Sequence[str], now: int) -> int:
    """Set-aside deliveries back in line with fresh attempts (their number is returned); pending ones
    waiting out a backoff are due now (their attempts kept)."""
    d = publish_deliveries

    def chosen(stmt):
        stmt = stmt.where(d.c.subscription_id == subscription_id)
        return stmt.where(d.c.delivery_id.in_(list(delivery_ids))) if delivery_ids else stmt

    conn.execute(chosen(update(d)).where(d.c.state == PENDING, d.c.next_attempt_at > now)
                 .values(next_attempt_at=now))
    return conn.execute(chosen(update(d)).where(d.c.state == SET_ASIDE)
                        .values(state=PENDING, attempts=0, next_attempt_at=now, last_error="")).rowcount


# --------------------------------------------------------------------------- set-aside live scorecards


@dataclass(frozen=True)
class SetAside:
    key: CardKey
    error: str
    attempts: int
    first_failed_at: int
    last_failed_at: int
    next_attempt_at: int


def _set_aside_of(row) -> SetAside:
    from services.publish.domain.documents import PeriodRef

    return SetAside(CardKey(row.unit_code, PeriodRef.from_key(row.period_key), row.scope), row.error, row.attempts,
                    row.first_failed_at, row.last_failed_at, row.next_attempt_at)


def set_aside_rows(conn: Connection, *, due_by: int | None = None, after: tuple[str, str, int] | None = None,
                   keys_: Sequence[CardKey] | None = None, limit: int | None = None) -> list[SetAside]:
    """Set-aside scorecards by (unit, period, scope): those due by ``due_by``, after ``after``, or the
    ``keys_`` given."""
    t = publish_set_aside
    stmt = select(t).order_by(t.c.unit_code, t.c.period_key, t.c.scope)
    if due_by is not None:
        stmt = stmt.where(t.c.next_attempt_at <= due_by)
    if after is not None:
        code, period, scope = after
        stmt = stmt.where(or_(t.c.unit_code > code, and_(t.c.unit_code == code, or_(
            t.c.period_key > period, and_(t.c.period_key == period, t.c.scope > scope)))))
    if keys_ is not None:
        wanted = {(k.unit_code, k.period.key, k.scope) for k in keys_}
        stmt = stmt.where(t.c.unit_code.in_(sorted({k[0] for k in wanted})))
        rows = [r for r in conn.execute(stmt) if (r.unit_code, r.period_key, r.scope) in wanted]
        return [_set_aside_of(r) for r in rows[:limit]]
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_set_aside_of(r) for r in conn.execute(stmt)]


def set_aside_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(publish_set_aside)).scalar() or 0


def set_aside(conn: Connection, key: CardKey, error: str, now: int, next_attempt_at: Callable[[int], int]) -> bool:
    """Record a failed attempt at ``key``: set aside the first time (True), counted after;
    ``next_attempt_at(attempts)`` gives the next try."""
    t = publish_set_aside
    where = (t.c.unit_code == key.unit_code, t.c.period_key == key.period.key, t.c.scope == key.scope)
    attempts = conn.execute(select(t.c.attempts).where(*where)).scalar()
    values = {"error": error[:1000], "last_failed_at": now, "next_attempt_at": next_attempt_at((attempts or 0) + 1)}
    if attempts is None:
        conn.execute(insert(t).values(unit_code=key.unit_code, period_key=key.period.key, scope=key.scope,
                                      attempts=1, first_failed_at=now, **values))
        return True
    conn.execute(update(t).where(*where).values(attempts=attempts + 1, **values))
    return False


def clear_set_aside(conn: Connection, keys_: Iterable[CardKey]) -> int:
    """Remove ``keys_`` from the set-aside scorecards (they were read and recorded); how many were."""
    t = publish_set_aside
    wanted = {(k.unit_code, k.period.key, k.scope) for k in keys_}
    present = [tuple(r) for r in conn.execute(select(t.c.unit_code, t.c.period_key, t.c.scope))]
    gone = [k for k in present if k in wanted]
    for code, period, scope in gone:
        conn.execute(delete(t).where(t.c.unit_code == code, t.c.period_key == period, t.c.scope == scope))
    return len(gone)
