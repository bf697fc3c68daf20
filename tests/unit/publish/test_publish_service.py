"""Publish's service layer with plain fakes of scoring and of portals, on a real SQLite file."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from functools import partial

import pytest

from services.publish.delivery import DeliverySettings, Dispatcher, SendBudget
from services.publish.domain import documents as D
from services.publish.domain.ports import ChangesPage, RankingView
from services.publish.domain.subscriptions import (
    DELIVERED,
    PENDING,
    SET_ASIDE,
    DeliveryFailed,
    RetryPolicy,
    Subscription,
)
from services.publish.service import Publish
from services.publish.signing import Signer, verify
from services.shared.db import Database
from services.shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from tests.helpers import eventually

AUG = D.PeriodRef(D.MONTH, 2026, 8)
NOW = int(datetime(2026, 11, 23, 3, tzinfo=UTC).timestamp()) * 1_000_000
UNITS = {  # code: (name, kind, parent)
    "H25": ("UBND tỉnh Phú Thọ", 4, ""), "H25.01": ("Sở Tư pháp tỉnh Phú Thọ", 5, "H25"),
    "H01": ("UBND thành phố Hà Nội", 4, ""), "H01.01": ("Sở Tư pháp thành phố Hà Nội", 5, "H01"),
}


class FakeScoring:
    """Scorecards are totals set by the test; changes are what the test says changed."""

    def __init__(self):
        self.totals: dict[tuple[str, int], str] = {}
        self.log: list[tuple[str, int]] = []  # (unit, scope) changes for August

    def set(self, code, scope, total):
        self.totals[(code, scope)] = total
        self.log.append((code, scope))

    def changes(self, after_cursor, page_size):
        start = int(after_cursor or 0)
        page = self.log[start:start + page_size]
        keys = [D.CardKey(code, AUG, scope) for code, scope in page]
        return ChangesPage(keys, str(start + len(page)) if page else after_cursor)

    def card(self, key):
        name, kind, parent = UNITS[key.unit_code]
        total = self.totals.get((key.unit_code, key.scope), "0.00")
        body = {"name": f"units/{key.unit_code}/scorecards/{key.period.key}",
                "unit": {"code": key.unit_code, "name": name}, "scope": D.SCOPES[key.scope],
                "total": {"value": total}, "asOf": D.rfc3339(time.time_ns() // 1000),
                "computeTime": D.rfc3339(time.time_ns() // 1000)}
        return D.Card(key.unit_code, name, kind, parent, key.period, key.scope, "766/2022", total, 4, True, body)

    def scorecards(self, keys, rule_version=""):
        return [self.card(k) for k in keys]

    def ranking(self, period, unit_kind, parent_code, scope, rule_version=""):
        codes = sorted(c for c, (_, k, p) in UNITS.items() if k == unit_kind and (not parent_code or p == parent_code))
        return RankingView("766/2022", codes, {"entries": []})


@pytest.fixture
def world(sqlite_url):
    db = Database(sqlite_url)
    scoring = FakeScoring()
    clock = {"now": NOW}
    publish = Publish(db, scoring, Signer.generate(), clock=lambda: clock["now"])
    publish.register_key()
    yield publish, scoring, db, clock
    db.dispose()


def drain(publish):
    while publish.follow_once(100)[0]:
        pass


def test_scoring_computes_the_next_part_while_publish_records_one(world, monkeypatch):
    """A round of many changed units is read from scoring in parts; the next part is asked for before
    the current one is recorded, so scoring's work and publish's overlap. Every card is still recorded
    once, in order — the live lane's (periods still running) before the past lane's —, and each lane's
    cursor moves with its last part."""
    import services.publish.service as service_module

    publish, scoring, db, _ = world
    monkeypatch.setattr(service_module, "CARDS_PER_TRANSACTION", 2)  # 2 changes × 2 periods a lane: 2 parts
    asked = threading.Event()
    fetched: list[list[str]] = []
    plain = scoring.scorecards

    def scorecards(keys, rule_version=""):
        fetched.append([k.unit_code for k in keys])
        if len(fetched) == 2:
            asked.set()
        return plain(keys, rule_version)

    monkeypatch.setattr(scoring, "scorecards", scorecards)
    overlapped: list[bool] = []
    record = publish._record_live

    def recording(conn, cards, sums):
        if not overlapped:  # the first part: the second is asked for meanwhile
            overlapped.append(asked.wait(10))
        return record(conn, cards, sums)

    monkeypatch.setattr(publish, "_record_live", recording)
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
    scoring.set("H01.01", D.SCOPE_UNIT, "65.00")
    assert publish.follow_once(100) == (2, 8)
    assert overlapped == [True]
    assert fetched == [["H25.01"] * 2, ["H01.01"] * 2] * 2
    # 23 November 2026: the year and year-to-date run (live lane), August and Q3 have ended (past lane)
    assert [c.document["scorecard"]["name"] for c in publish.changes(0, 100)] == [
        f"units/{u}/scorecards/{p}" for periods in (("2026", "2026-YTD"), ("2026-08", "2026-Q3"))
        for u in ("H25.01", "H01.01") for p in periods]
    assert publish.follow_once(100) == (0, 0)  # the cursor moved past both


def test_live_changes_are_recorded_once_per_content_and_numbered_in_order(world):
    publish, scoring, _, _ = world
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
    drain(publish)
    # one change of H25.01 alone in August moves its August, Q3, 2026 and 2026-YTD scorecards: the
    # running ones first (the live lane), then the ended ones (the past lane)
    changes = publish.changes(0, 100)
    assert [(c.seq, c.document["scorecard"]["name"]) for c in changes] == [
        (1, "units/H25.01/scorecards/2026"), (2, "units/H25.01/scorecards/2026-YTD"),
        (3, "units/H25.01/scorecards/2026-08"), (4, "units/H25.01/scorecards/2026-Q3")]
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")  # reported again, same content: nothing new
    drain(publish)
    assert len(publish.changes(0, 100)) == 4
    scoring.set("H25.01", D.SCOPE_UNIT, "72.50")
    drain(publish)
    later = publish.changes(4, 100)
    assert [c.seq for c in later] == [5, 6, 7, 8]
    live = publish.scorecard(D.CardKey("H25.01", AUG, D.SCOPE_UNIT), D.FEED_LIVE)
    assert live["version"] == "7" and live["scorecard"]["total"] == {"value": "72.50"}  # after 2026, 2026-YTD
    with pytest.raises(NotFound):
        publish.scorecard(D.CardKey("H01.01", AUG, D.SCOPE_UNIT), D.FEED_LIVE)


def test_a_card_computed_earlier_never_replaces_one_computed_later(world, monkeypatch):
    publish, scoring, _, _ = world
    key = D.CardKey("H25.01", AUG, D.SCOPE_UNIT)
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
    (earlier,) = scoring.scorecards([key])
    time.sleep(0.002)
    scoring.set("H25.01", D.SCOPE_UNIT, "75.00")
    assert publish.refresh_live([key]) == 1  # the later computation gets in first
    # A slower writer arrives with the earlier computation: another replica following the same round,
    # or a round that fetched its part before this refresh. Its content differs, but it is older.
    later_scoring = publish.scoring
    stale = type("Stale", (), {"scorecards": lambda self, keys, rule_version="": [earlier]})()
    monkeypatch.setattr(publish, "scoring", stale)
    assert publish.refresh_live([key]) == 0
    assert publish.scorecard(key, D.FEED_LIVE)["scorecard"]["total"] == {"value": "75.00"}
    monkeypatch.setattr(publish, "scoring", later_scoring)
    scoring.set("H25.01", D.SCOPE_UNIT, "80.00")  # a newer computation with new content is recorded
    assert publish.refresh_live([key]) == 1
    assert publish.scorecard(key, D.FEED_LIVE)["scorecard"]["total"] == {"value": "80.00"}
    assert [c.document["scorecard"]["total"]["value"] for c in publish.changes(0, 10)] == ["75.00", "80.00"]


def test_outbox_rows_go_to_the_subscriptions_that_want_them(world):
    publish, scoring, db, _ = world
    publish.create_subscription("ops", "s1", Subscription("portal-phu-tho", "", "127.0.0.1:1", ("H25",)))
    publish.create_subscription("ops", "s2", Subscription("national", "", "127.0.0.1:2", (),
                                                          frozenset({D.FEED_OFFICIAL})))
    scoring.set("H25", D.SCOPE_SUBTREE, "60.00")  # H25 known as a unit before its department arrives
    drain(publish)
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
    scoring.set("H01.01", D.SCOPE_UNIT, "50.00")
    drain(publish)
    phu_tho, _ = publish.list_deliveries("portal-phu-tho", 0, 100, "")
    # 4 periods each of H25 subtree and H25.01 alone; nothing of Hà Nội; sequences 1..8
    assert [d.sequence for d in phu_tho] == list(range(1, 9))
    assert {d.state for d in phu_tho} == {PENDING}
    assert publish.list_deliveries("national", 0, 100, "")[0] == []  # official feed only
    assert publish.get_subscription("portal-phu-tho").pending_count == 8


def test_publication_is_signed_frozen_idempotent_and_corrected(world):
    publish, scoring, db, clock = world
    publish.create_subscription("ops", "s1", Subscription("national", "", "127.0.0.1:2"))
    scoring.set("H25", D.SCOPE_SUBTREE, "81.00")
    scoring.set("H01", D.SCOPE_SUBTREE, "81.00")
    spec = D.PublicationSpec(AUG, 4, "", D.SCOPE_SUBTREE, "", "")
    running = D.PublicationSpec(D.PeriodRef(D.MONTH, 2026, 11), 4, "", D.SCOPE_SUBTREE, "", "")
    with pytest.raises(FailedPrecondition):
        publish.create_publication("ops", "p0", running)
    first = publish.create_publication("ops", "p1", spec)
    doc = first.document
    assert doc["revision"] == 1 and doc["title"] == "Kết quả đánh giá Bộ chỉ số 766 tháng 8/2026 — các tỉnh, thành phố"
    assert [(e["rank"], e["unit"]["code"]) for e in doc["ranking"]["entries"]] == [(1, "H01"), (1, "H25")]
    assert first.payload == D.canonical_json(doc)
    assert verify(publish.signer.public_raw, first.payload, first.signature)
    assert publish.create_publication("ops", "p1", spec).payload == first.payload  # AIP-155 repeat
    with pytest.raises(AlreadyExists):
        publish.create_publication("ops", "p1", D.PublicationSpec(AUG, 5, "", D.SCOPE_SUBTREE, "", ""))
    pid = doc["publicationId"]

    scoring.set("H01", D.SCOPE_SUBTREE, "79.00")  # late data for August after publishing
    clock["now"] += 1_000_000
    official = publish.scorecard(D.CardKey("H01", AUG, D.SCOPE_SUBTREE), D.FEED_OFFICIAL)
    assert official["scorecard"]["total"] == {"value": "81.00"} and official["revision"] == 1
    with pytest.raises(InvalidArgument):
        publish.correct_publication("ops", "c1", pid, " ")
    second = publish.correct_publication("ops", "c1", pid, "Bổ sung dữ liệu đồng bộ muộn")
    assert second.document["revision"] == 2 and second.document["reason"] == "Bổ sung dữ liệu đồng bộ muộn"
    assert [(e["rank"], e["unit"]["code"]) for e in second.document["ranking"]["entries"]] == [(1, "H25"), (2, "H01")]
    assert publish.get_publication(pid, 1).payload == first.payload
    assert publish.get_publication(pid).document["revision"] == 2
    official = publish.scorecard(D.CardKey("H01", AUG, D.SCOPE_SUBTREE), D.FEED_OFFICIAL)
    assert official["scorecard"]["total"] == {"value": "79.00"} and official["revision"] == 2
    names = [c.publication_name for c in publish.changes(0, 100) if c.publication_name]
    assert names == [f"publications/{pid}/revisions/1", f"publications/{pid}/revisions/2"]
    assert [d.sequence for d in publish.list_deliveries("national", 0, 100, "")[0]] == [1, 2]


class FlakyPortal:
    """Fails the first ``failures`` attempts of every delivery; records what it accepted."""

    def __init__(self, failures=0, always_fail=False):
        self.failures = failures
        self.always_fail = always_fail
        self.tries: dict[str, int] = {}
        self.accepted: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, sub):
        return self

    def send(self, item, timeout):
        with self.lock:
            self.tries[item.delivery_id] = self.tries.get(item.delivery_id, 0) + 1
            if self.always_fail or self.tries[item.delivery_id] <= self.failures:
                raise DeliveryFailed("UNAVAILABLE: portal down")
            self.accepted.append(item.sequence)

    def close(self):
        pass


wait_until = partial(eventually, timeout=30.0, interval=0.02)


def run_dispatcher(db, portal, max_attempts):
    d = Dispatcher(db, portal, DeliverySettings(owner="replica-a", lease_seconds=5, poll_seconds=0.02,
                                                deliver_timeout=1, policy=RetryPolicy(max_attempts, 0.01, 0.05)),
                   clock=lambda: time.time_ns() // 1000)
    d.start()
    return d


def test_retries_then_delivers_in_order_and_sets_aside_after_the_last_attempt(world):
    publish, scoring, db, clock = world
    clock["now"] = time.time_ns() // 1000  # the dispatcher runs on real time
    publish.create_subscription("ops", "s1", Subscription("portal-phu-tho", "", "127.0.0.1:1", ("H25",)))
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
    drain(publish)
    portal = FlakyPortal(failures=2)
    d = run_dispatcher(db, portal, max_attempts=5)
    try:
        wait_until(lambda: publish.get_subscription("portal-phu-tho").pending_count == 0)
    finally:
        d.stop()
    assert portal.accepted == [1, 2, 3, 4]
    rows, _ = publish.list_deliveries("portal-phu-tho", DELIVERED, 100, "")
    assert [(r.sequence, r.attempts) for r in rows] == [(1, 3), (2, 3), (3, 3), (4, 3)]

    dead = FlakyPortal(always_fail=True)
    scoring.set("H25.01", D.SCOPE_UNIT, "71.00")
    drain(publish)
    d = run_dispatcher(db, dead, max_attempts=3)
    try:
        wait_until(lambda: publish.get_subscription("portal-phu-tho").set_aside_count == 4)
    finally:
        d.stop()
    aside, _ = publish.list_deliveries("portal-phu-tho", SET_ASIDE, 100, "")
    assert [(r.sequence, r.attempts, r.last_error) for r in aside] == [
        (s, 3, "UNAVAILABLE: portal down") for s in (5, 6, 7, 8)]
    assert publish.replay("portal-phu-tho", [aside[0].delivery_id]) == 1
    assert publish.replay("portal-phu-tho", []) == 3
    back = FlakyPortal()
    d = run_dispatcher(db, back, max_attempts=3)
    try:
        wait_until(lambda: publish.get_subscription("portal-phu-tho").pending_count == 0)
    finally:
        d.stop()
    assert back.accepted == [5, 6, 7, 8]
    with db.read() as conn:
        owners = conn.exec_driver_sql("SELECT lease_owner FROM publish_subscriptions").scalars().all()
    assert owners == [None]  # released on stop


class SlowPortal:
    """Accepts everything after a pause; records the most payload bytes it was sent at once."""

    def __init__(self, pause=0.05):
        self.pause = pause
        self.lock = threading.Lock()
        self.inflight = 0
        self.most = 0
        self.most_calls = 0
        self.calls = 0
        self.delivered: list[str] = []

    def __call__(self, sub):
        return self

    def send(self, item, timeout):
        with self.lock:
            self.inflight += len(item.payload)
            self.calls += 1
            self.most = max(self.most, self.inflight)
            self.most_calls = max(self.most_calls, self.calls)
        time.sleep(self.pause)
        with self.lock:
            self.inflight -= len(item.payload)
            self.calls -= 1
            self.delivered.append(item.delivery_id)

    def close(self):
        pass


@pytest.mark.parametrize("room", ["one", "two", "all"])
def test_payload_bytes_sent_at_once_stay_within_the_replicas_budget(world, room):
    publish, scoring, db, clock = world
    clock["now"] = time.time_ns() // 1000
    for i in range(6):
        publish.create_subscription("ops", f"s{i}", Subscription(f"portal-{i}", "", "127.0.0.1:1", ("H25",)))
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
    scoring.set("H25", D.SCOPE_UNIT, "60.00")
    drain(publish)
    with db.read() as conn:
        sizes = conn.exec_driver_sql("SELECT length(payload) FROM publish_changes").scalars().all()
    assert 2 * max(sizes) < 3 * min(sizes)  # so a budget of two of the largest never holds three
    budget = {"one": min(sizes) - 1, "two": 2 * max(sizes), "all": 100 * max(sizes)}[room]
    portal = SlowPortal()
    d = Dispatcher(db, portal, DeliverySettings(owner="replica-a", lease_seconds=5, poll_seconds=0.02,
                                                deliver_timeout=1, policy=RetryPolicy(3, 0.01, 0.05),
                                                inflight_bytes=budget),
                   clock=lambda: time.time_ns() // 1000)
    d.start()
    try:
        wait_until(lambda: all(publish.get_subscription(f"portal-{i}").pending_count == 0 for i in range(6)))
    finally:
        d.stop()
    total = sum(publish.get_subscription(f"portal-{i}").pending_count for i in range(6))
    assert total == 0 and len(portal.delivered) == len(set(portal.delivered)) == 6 * len(sizes)
    if room == "one":
        assert portal.most_calls == 1 and portal.most == max(sizes)  # each larger than the budget: one at a time
    elif room == "two":
        assert portal.most_calls == 2 and portal.most <= budget
    else:
        assert portal.most_calls > 2  # room for all: subscriptions are served side by side
    assert d.budget.used == 0


def test_the_send_budget_serves_in_order_lets_a_large_payload_go_alone_and_gives_up_cleanly():
    budget = SendBudget(100)
    assert budget.acquire(60, lambda: True)
    order: list[str] = []

    def take(name, size):
        assert budget.acquire(size, lambda: True)
        order.append(name)

    big = threading.Thread(target=take, args=("big", 500))  # larger than the budget: waits for an empty budget
    big.start()
    wait_until(lambda: len(budget._queue) == 1)
    small = threading.Thread(target=take, args=("small", 10))  # would fit now, but arrived after the big one
    small.start()
    wait_until(lambda: len(budget._queue) == 2)
    time.sleep(0.05)
    assert order == []
    budget.release(60)
    big.join(5)
    assert order == ["big"] and budget.used == 500
    time.sleep(0.05)
    assert order == ["big"]  # nothing else while the large one is out
    budget.release(500)
    small.join(5)
    assert order == ["big", "small"] and budget.used == 10

    asked = []
    blocked = SendBudget(10)
    assert blocked.acquire(10, lambda: True)
    assert not blocked.acquire(5, lambda: asked.append(1) or len(asked) < 2)  # gives up when told
    assert blocked.used == 10 and not blocked._queue
    blocked.release(10)
    assert blocked.used == 0


def test_a_waiter_that_gives_up_or_fails_leaves_the_line_to_the_next():
    budget = SendBudget(10)
    assert budget.acquire(10, lambda: True)
    got: list[str] = []
    quit_now = threading.Event()

    def boom():
        raise RuntimeError("database gone")

    def head():
        try:
            budget.acquire(5, boom)
        except RuntimeError:
            got.append("head failed")

    def second():
        got.append("second gave up" if not budget.acquire(5, lambda: not quit_now.is_set()) else "?")

    def third():
        assert budget.acquire(5, lambda: True)
        got.append("third")

    threads = [threading.Thread(target=f) for f in (head, second, third)]
    for n, t in enumerate(threads, 1):
        t.start()
        wait_until(lambda n=n: len(budget._queue) == n)  # queued in this order
    threads[0].join(5)
    assert got == ["head failed"]
    quit_now.set()
    threads[1].join(5)
    assert got == ["head failed", "second gave up"] and budget.used == 10
    budget.release(10)
    threads[2].join(5)
    assert got == ["head failed", "second gave up", "third"] and budget.used == 5 and not budget._queue


def test_replay_has_a_pending_delivery_waiting_out_its_backoff_tried_at_once(world):
    publish, scoring, db, clock = world
    clock["now"] = time.time_ns() // 1000
    publish.create_subscription("ops", "s1", Subscription("portal-phu-tho", "", "127.0.0.1:1", ("H25",)))
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
    drain(publish)
    settings = DeliverySettings(owner="replica-a", lease_seconds=5, poll_seconds=0.02, deliver_timeout=1,
                                policy=RetryPolicy(12, 1000.0, 1000.0))  # after a failure: wait ~990 s
    d = Dispatcher(db, FlakyPortal(always_fail=True), settings, clock=lambda: time.time_ns() // 1000,
                   rand=lambda: 0.99)
    d.start()
    try:
        wait_until(lambda: publish.list_deliveries("portal-phu-tho", PENDING, 100, "")[0][0].attempts == 1)
    finally:
        d.stop()
    (first, *rest), _ = publish.list_deliveries("portal-phu-tho", PENDING, 100, "")
    with db.read() as conn:
        due = conn.exec_driver_sql("SELECT next_attempt_at FROM publish_deliveries WHERE delivery_id = ?",
                                   (first.delivery_id,)).scalar()
    assert due > time.time_ns() // 1000 + 900 * 1_000_000  # waiting out its backoff

    assert publish.replay("portal-phu-tho", []) == 0  # nothing was set aside
    back = FlakyPortal()
    d = Dispatcher(db, back, settings, clock=lambda: time.time_ns() // 1000)
    d.start()
    try:
        wait_until(lambda: publish.get_subscription("portal-phu-tho").pending_count == 0)
    finally:
        d.stop()
    assert back.accepted == [first.sequence] + [r.sequence for r in rest]
    rows, _ = publish.list_deliveries("portal-phu-tho", DELIVERED, 100, "")
    assert rows[0].attempts == 2  # its attempts kept: one failed, one delivered


class BuggyPortal(FlakyPortal):
    """Raises something that is not DeliveryFailed — a bug in a sender — for sequence 2 only."""

    def send(self, item, timeout):
        if item.sequence == 2:
            raise KeyError("injected: a sender bug")
        super().send(item, timeout)


def test_a_delivery_that_fails_in_any_way_is_set_aside_and_the_worker_moves_on(world):
    """Before, an error other than the portal's refusal killed the subscription's worker; the
    dispatcher started a new one on the same delivery, forever, and nothing after it was sent."""
    publish, scoring, db, clock = world
    clock["now"] = time.time_ns() // 1000
    publish.create_subscription("ops", "s1", Subscription("portal-phu-tho", "", "127.0.0.1:1", ("H25",)))
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
    drain(publish)  # 4 deliveries: sequences 1–4
    portal = BuggyPortal()
    d = run_dispatcher(db, portal, max_attempts=3)
    try:
        wait_until(lambda: publish.get_subscription("portal-phu-tho").pending_count == 0)
    finally:
        d.stop()
    assert portal.accepted == [1, 3, 4]
    aside, _ = publish.list_deliveries("portal-phu-tho", SET_ASIDE, 100, "")
    assert [(r.sequence, r.attempts, r.last_error) for r in aside] == [
        (2, 3, "internal: KeyError: 'injected: a sender bug'")]


def test_a_sender_that_cannot_be_made_fails_its_deliveries_until_they_are_set_aside(world):
    publish, scoring, db, clock = world
    clock["now"] = time.time_ns() // 1000
    publish.create_subscription("ops", "s1", Subscription("portal-phu-tho", "", "127.0.0.1:1", ("H25",)))
    scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
    drain(publish)

    def factory(sub):
        raise ValueError("injected: bad CA bundle")

    d = run_dispatcher(db, factory, max_attempts=2)
    try:
        wait_until(lambda: publish.get_subscription("portal-phu-tho").set_aside_count == 4)
    finally:
        d.stop()
    aside, _ = publish.list_deliveries("portal-phu-tho", SET_ASIDE, 100, "")
    assert {(r.attempts, r.last_error) for r in aside} == {(2, "cannot connect: ValueError: injected: bad CA bundle")}


class PickyScoring(FakeScoring):
    """Fails every batch holding a key of one unit (a bug in scoring, say), or answers NO_RULE_VERSION
    for a period, as scoring does."""

    def __init__(self):
        super().__init__()
        self.broken: set[str] = set()
        self.calls = 0

    def scorecards(self, keys, rule_version=""):
        self.calls += 1
        if any(k.period.key == "2026-Q3" for k in keys):
            raise FailedPrecondition("no rule version", reason="NO_RULE_VERSION", metadata={"period": "2026-Q3"})
        if any(k.unit_code in self.broken for k in keys):
            raise RuntimeError(f"injected: cannot score {sorted(self.broken)}")
        return super().scorecards(keys, rule_version)


def test_the_follower_sets_failing_scorecards_aside_and_retries_them_with_backoff(sqlite_url):
    db = Database(sqlite_url)
    scoring = PickyScoring()
    clock = {"now": NOW}
    publish = Publish(db, scoring, Signer.generate(), clock=lambda: clock["now"], retry=RetryPolicy(5, 1.0, 8.0),
                      random=lambda: 1.0)
    try:
        scoring.broken = {"H25.01"}
        scoring.set("H25.01", D.SCOPE_UNIT, "70.00")
        scoring.set("H01.01", D.SCOPE_UNIT, "65.00")
        scoring.set("H25", D.SCOPE_SUBTREE, "60.00")
        # 3 changes × (August, 2026, 2026-YTD; Q3 has no rule version: dropped) = 9 keys, 3 of them H25.01's
        assert publish.follow_once(100) == (3, 6)
        assert publish.follow_once(100) == (0, 0)  # the cursor moved on
        aside, _ = publish.list_set_aside(100, "")
        assert [(r.key.unit_code, r.key.period.key, r.attempts) for r in aside] == [
            ("H25.01", p, 1) for p in ("2026", "2026-08", "2026-YTD")]
        assert all(r.next_attempt_at == NOW + 1_000_000 and "injected" in r.error for r in aside)
        assert publish.retry_set_aside() == (0, 0)  # not due yet (backoff: 1 s after the first failure)
        clock["now"] = NOW + 1_000_000
        assert publish.retry_set_aside() == (0, 3)  # due, fails again: the next wait doubles
        aside, _ = publish.list_set_aside(100, "")
        assert {(r.attempts, r.next_attempt_at) for r in aside} == {(2, NOW + 3_000_000)}
        scoring.broken = set()  # the cause is removed
        clock["now"] = NOW + 3_000_000
        assert publish.retry_set_aside() == (3, 0)
        assert publish.list_set_aside(100, "") == ([], "")
        assert publish.scorecard(D.CardKey("H25.01", AUG, D.SCOPE_UNIT), D.FEED_LIVE)["scorecard"]["total"] == {
            "value": "70.00"}
    finally:
        db.dispose()
