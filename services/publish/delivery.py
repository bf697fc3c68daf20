"""Pushing the outbox to portals: one worker thread per subscription, leased across replicas.

A replica's ``Dispatcher`` leases every subscription nobody holds (a lease column with an expiry,
taken with a conditional UPDATE — on PostgreSQL after ``SELECT … FOR UPDATE SKIP LOCKED``) and runs
a ``SubscriptionWorker`` for each. The worker sends that subscription's pending deliveries strictly
in sequence order, one at a time, each call bounded by ``deliver_timeout`` (so a slow or dead
portal only ever holds up its own worker), and renews its lease as it goes. A replica that stops
releases its leases; one that dies loses them when they expire, and another replica takes over
from the first delivery not acknowledged. Because only the lease holder sends, each delivery is
sent by one replica at a time; a delivery acknowledged just as a lease changes hands may be sent
again — the portal drops it by its delivery id (at least once, once in effect).

Payloads are read only when they are about to be sent, and a ``SendBudget`` shared by the workers
bounds the payload bytes being sent at once (``inflight_bytes``; a payload larger than the whole
budget goes alone): fifty subscriptions to one 28 MB national publication hold one or two copies of
it in memory, not fifty. Waiters are served in arrival order. A send holds its payload's share until
it ends: a refused connection ends it at once, but a portal that does not answer holds it for up to
``deliver_timeout`` per attempt — and a payload larger than the budget holds all of it, so the
replica's other deliveries wait meanwhile (OPERATIONS.md, runbooks).

Failures back off with full jitter (``RetryPolicy``); after ``max_attempts`` the delivery is set
aside (visible with ListDeliveries, replayable) and the worker moves on to the next one. Any failure
of one delivery counts so — a refusal, a payload that does not load, a sender that cannot be made, a
bug — so no single delivery can hold its subscription's worker forever; only the database being
unavailable is retried as it is.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from prometheus_client import Counter

from services.publish import storage as S
from services.publish.domain.ports import PortalSender
from services.publish.domain.subscriptions import (
    DELIVERED,
    SET_ASIDE,
    DeliveryFailed,
    Outgoing,
    RetryPolicy,
    Subscription,
)
from services.shared.db import DATABASE_UNAVAILABLE, Database, log_failure

log = structlog.get_logger("chiso.publish.delivery")

SENT = Counter("chiso_publish_deliveries_total", "Delivery attempts, by outcome", ["outcome"])

SenderFactory = Callable[[Subscription], PortalSender]


@dataclass(frozen=True)
class DeliverySettings:
    owner: str
    lease_seconds: float = 30.0
    poll_seconds: float = 0.5
    deliver_timeout: float = 10.0
    policy: RetryPolicy = RetryPolicy()
    inflight_bytes: int = 16 * 1024 * 1024


class SendBudget:
    """Payload bytes being sent at once, across all workers of a replica, at most ``limit`` — except
    that a payload larger than ``limit`` may go when nothing else is in flight. First come, first
    served: a large payload waiting at the head is not overtaken by small ones."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0
        self._cond = threading.Condition()
        self._queue: deque[int] = deque()
        self._tickets = itertools.count()

    def acquire(self, size: int, keep_waiting: Callable[[], bool]) -> bool:
        """Wait for room for ``size`` bytes; ``keep_waiting`` is asked (outside the lock) about once a
        second while waiting — returning False gives up, and then nothing is held."""
        with self._cond:
            ticket = next(self._tickets)
            self._queue.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._queue[0] == ticket and (self.used == 0 or self.used + size <= self.limit):
                        self.used += size
                        self.peak = max(self.peak, self.used)
                        return True
                    self._cond.wait(1.0)
                if not keep_waiting():
                    return False
        finally:
            with self._cond:
                self._queue.remove(ticket)
                self._cond.notify_all()

    def release(self, size: int) -> None:
        with self._cond:
            self.used -= size
            self._cond.notify_all()

    def wake(self) -> None:
        """Have every waiter ask its ``keep_waiting`` now (on stop)."""
        with self._cond:
            self._cond.notify_all()


def _us(seconds: float) -> int:
    return int(seconds * 1_000_000)


class _CannotSend(Exception):
    """The subscription's sender could not be made (its error is the delivery's)."""


class SubscriptionWorker:
    def __init__(self, dispatcher: Dispatcher, subscription_id: str, lease_until: int) -> None:
        self.d = dispatcher
        self.subscription_id = subscription_id
        self.lease_until = lease_until
        self.lease_lost = False
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"deliver-{subscription_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def _pause(self, seconds: float) -> None:
        self.wake.wait(max(0.0, min(seconds, self.d.settings.poll_seconds)))
        self.wake.clear()

    def _keep_lease(self) -> bool:
        """Renew the lease when half of it has run; False if it is lost (the worker then stops)."""
        d, settings = self.d, self.d.settings
        now = d.clock()
        if now > self.lease_until - _us(settings.lease_seconds / 2):
            until = now + _us(settings.lease_seconds)
            with d.db.write() as conn:
                if not S.renew(conn, self.subscription_id, settings.owner, until):
                    return False
            self.lease_until = until
        return True

    def _still_wanted(self) -> bool:
        """Asked while waiting for the send budget: keeps the lease; False ends the wait."""
        if self.stopping.is_set():
            return False
        if not self._keep_lease():
            self.lease_lost = True
            return False
        return True

    def _run(self) -> None:
        d, settings = self.d, self.d.settings
        sender: PortalSender | None = None
        sender_error: str | None = None
        current: Subscription | None = None
        bound = log.bind(subscription=self.subscription_id, replica=settings.owner)
        try:
            while not self.stopping.is_set():
                if not self._keep_lease():
                    bound.info("lease lost or subscription deleted; worker stops")
                    return
                with d.db.read() as conn:
                    subs = S.subscriptions(conn, only=self.subscription_id)
                    due = S.next_pending(conn, self.subscription_id)
                if not subs:
                    return
                if subs[0] != current:
                    if sender is not None:
                        sender.close()
                    current, sender, sender_error = subs[0], None, None
                    try:
                        sender = d.sender_factory(subs[0])
                    except Exception as exc:  # noqa: BLE001 — e.g. a CA bundle that does not load
                        sender_error = f"cannot connect: {type(exc).__name__}: {exc}"
                        bound.warning("cannot make a sender for the subscription", error=sender_error[:300])
                if due is None:
                    self._pause(settings.poll_seconds)
                    continue
                wait = (due.next_attempt_at - d.clock()) / 1e6
                if wait > 0:
                    self._pause(wait)
                    continue
                if not d.budget.acquire(due.payload_size, self._still_wanted):
                    if self.lease_lost:
                        bound.info("lease lost or subscription deleted; worker stops")
                        return
                    continue
                try:
                    with d.db.read() as conn:  # the wait may have been long: still the same delivery?
                        item = None
                        if S.subscriptions(conn, only=self.subscription_id)[:1] == [current] \
                                and S.next_pending(conn, self.subscription_id) == due:
                            item = S.load_item(conn, due)
                    if item is not None:
                        if sender is None:
                            raise _CannotSend(sender_error or "no sender")
                        self._attempt(sender, item, bound)
                    del item
                except DATABASE_UNAVAILABLE:
                    raise
                except Exception as exc:  # noqa: BLE001 — this delivery fails like a refused one, never the worker
                    error = str(exc) if isinstance(exc, _CannotSend) else f"internal: {type(exc).__name__}: {exc}"
                    if not isinstance(exc, _CannotSend):
                        bound.error("delivery could not be sent", delivery_id=due.delivery_id, exc_info=exc)
                    self._failed(due.delivery_id, due.sequence, due.attempts + 1, error, bound)
                finally:
                    d.budget.release(due.payload_size)
        except Exception as exc:  # noqa: BLE001 — logged; the dispatcher starts a new worker
            log_failure(bound, "delivery worker failed", exc)
        finally:
            if sender is not None:
                sender.close()
            if self.stopping.is_set():
                try:
                    with d.db.write() as conn:
                        S.release(conn, settings.owner, [self.subscription_id])
                except Exception:  # noqa: BLE001 — the lease then simply expires
                    bound.warning("could not release the lease", exc_info=True)

    def _attempt(self, sender: PortalSender, item: Outgoing, bound) -> None:
        d, settings = self.d, self.d.settings
        attempts = item.attempts + 1
        try:
            sender.send(item, settings.deliver_timeout)
        except DeliveryFailed as exc:
            self._failed(item.delivery_id, item.sequence, attempts, str(exc), bound)
            return
        with d.db.write() as conn:
            S.set_delivery(conn, item.delivery_id, attempts=attempts, state=DELIVERED, delivered_at=d.clock(),
                           last_error="")
        SENT.labels("delivered").inc()

    def _failed(self, delivery_id: str, sequence: int, attempts: int, error: str, bound) -> None:
        """Record a failed attempt: retry after a backoff, or set the delivery aside after the last."""
        d, settings = self.d, self.d.settings
        error = error[:1000]
        now = d.clock()
        if settings.policy.exhausted(attempts):
            with d.db.write() as conn:
                S.set_delivery(conn, delivery_id, attempts=attempts, state=SET_ASIDE, last_error=error,
                               next_attempt_at=now)
            SENT.labels("set_aside").inc()
            bound.warning("delivery set aside", delivery_id=delivery_id, sequence=sequence, attempts=attempts,
                          error=error)
        else:
            delay = settings.policy.delay(attempts, d.random)
            with d.db.write() as conn:
                S.set_delivery(conn, delivery_id, attempts=attempts, last_error=error,
                               next_attempt_at=now + _us(delay))
            SENT.labels("failed").inc()
            bound.info("delivery failed; will retry", delivery_id=delivery_id, sequence=sequence, attempts=attempts,
                       retry_in_s=round(delay, 3), error=error)


class Dispatcher:
    """Leases subscriptions and keeps one worker per leased subscription running."""

    def __init__(self, db: Database, sender_factory: SenderFactory, settings: DeliverySettings,
                 clock: Callable[[], int], rand: Callable[[], float] = random.random) -> None:
        self.db = db
        self.sender_factory = sender_factory
        self.settings = settings
        self.clock = clock
        self.random = rand
        self.budget = SendBudget(settings.inflight_bytes)
        self.workers: dict[str, SubscriptionWorker] = {}
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publish-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def notify(self) -> None:
        """New deliveries or subscription changes: wake the workers and the lease loop."""
        self._kick.set()
        for w in list(self.workers.values()):
            w.wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        self._thread.join(timeout=30)
        for w in self.workers.values():
            w.stop()
        self.budget.wake()
        for w in self.workers.values():
            w.thread.join(timeout=self.settings.deliver_timeout + 5)
        try:
            with self.db.write() as conn:
                S.release(conn, self.settings.owner)
        except Exception:  # noqa: BLE001
            log.warning("could not release delivery leases", exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.lease_round()
            except Exception as exc:  # noqa: BLE001 — keep going
                log_failure(log, "delivery lease round failed", exc)
            self._kick.wait(self.settings.poll_seconds)
            self._kick.clear()

    def lease_round(self) -> None:
        now = self.clock()
        until = now + _us(self.settings.lease_seconds)
        with self.db.write() as conn:
            held = S.claim(conn, self.settings.owner, now, until)
        for sid in held:
            worker = self.workers.get(sid)
            if worker is not None and worker.alive():
                worker.lease_until = max(worker.lease_until, until)
                continue
            worker = SubscriptionWorker(self, sid, until)
            self.workers[sid] = worker
            if self._stop.is_set():
                return
            worker.start()
        for sid in [s for s, w in self.workers.items() if not w.alive()]:
            if sid not in held:
                del self.workers[sid]
