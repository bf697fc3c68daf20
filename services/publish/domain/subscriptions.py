"""Portal subscriptions and the delivery policy: who gets what, in which order, how retries back off.

Decided where the spec is silent:

* A subscription with no unit codes wants every unit; with unit codes, every unit in those subtrees
  (the unit itself or one of its ancestors is a root). No feeds named means both feeds (live and
  official); early-warning alerts (FEED_ALERT) only go to a subscription that names that feed.
* A live scorecard goes to a subscription when its unit is in one of the subtrees. A publication
  goes whole (its signature covers all of it) when any unit it includes is in one of the subtrees.
* A new subscription first receives the current state of its units once — the latest feed entry of
  each live scorecard in its subtrees, and the latest revision of each publication including one of
  them, in feed order — then what changes from its creation on (both enqueued in the transaction
  that creates it, under the feed's lock: nothing in between is missed or sent twice). Older
  versions and superseded revisions are not sent. Widening an existing subscription's units
  (UpdateSubscription) sends only what changes from then on.
* Order: each subscription's deliveries are numbered 1, 2, 3 … in the order of publish's change
  feed and sent strictly in that order; a delivery that keeps failing holds back the ones after it
  until it succeeds or is set aside after ``max_attempts`` attempts. A replayed delivery therefore
  arrives after later ones: a receiver applies a live scorecard only if its version is newer than
  the one it holds (the reference receiver does).
* Retries back off exponentially with full jitter: the n-th retry waits a uniformly random time in
  ``[0, min(cap, base · 2^(n-1))]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from services.publish.domain.alerts import AlertSettingsError, load_rules, with_overrides
from services.publish.domain.documents import FEED_LIVE, FEED_OFFICIAL, FEEDS
from services.shared.backoff import full_jitter
from services.shared.errors import FieldViolation, InvalidArgument

PENDING, DELIVERED, SET_ASIDE = 1, 2, 3

_ID = re.compile(r"[a-z][a-z0-9-]{0,61}[a-z0-9]")
_ENDPOINT = re.compile(r"[A-Za-z0-9.\-\[\]:_]{1,253}:\d{1,5}")
MAX_UNIT_CODES = 200
MAX_CA_BYTES = 64 * 1024


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    display_name: str
    endpoint: str
    unit_codes: tuple[str, ...] = ()
    feeds: frozenset[int] = frozenset({FEED_LIVE, FEED_OFFICIAL})
    tls_enabled: bool = False
    tls_ca: bytes = b""
    tls_server_name: str = ""
    create_time_us: int = 0
    pending_count: int = 0
    set_aside_count: int = 0
    #: overrides of the shipped alert rules ("<rule>.<setting>", value), sorted (domain.alerts)
    alert_settings: tuple[tuple[str, str], ...] = ()

    def wants(self, feed: int, units: Iterable[str], ancestors: Callable[[str], Iterable[str]]) -> bool:
        """Whether an item of ``feed`` about ``units`` is for this subscription."""
        if feed not in self.feeds:
            return False
        if not self.unit_codes:
            return True
        roots = set(self.unit_codes)
        return any(code in roots or roots.intersection(ancestors(code)) for code in units)


def check_subscription(sub: Subscription, prefix: str = "subscription") -> Subscription:
    """The subscription with defaults filled in (no feeds: both), or InvalidArgument naming every bad
    field."""
    bad: list[FieldViolation] = []
    if not _ID.fullmatch(sub.subscription_id):
        bad.append(FieldViolation(f"{prefix}.subscription_id",
                                  "2–63 characters: lower-case letters, digits and '-', starting with a letter"))
    if len(sub.display_name) > 200:
        bad.append(FieldViolation(f"{prefix}.display_name", "at most 200 characters"))
    if not _ENDPOINT.fullmatch(sub.endpoint) or not 0 < int(sub.endpoint.rsplit(":", 1)[-1] or 0) < 65536:
        bad.append(FieldViolation(f"{prefix}.endpoint", "host:port of the portal's receiver"))
    if len(sub.unit_codes) > MAX_UNIT_CODES:
        bad.append(FieldViolation(f"{prefix}.unit_codes", f"at most {MAX_UNIT_CODES}"))
    for i, code in enumerate(sub.unit_codes):
        if not code or len(code) > 64 or code != code.strip():
            bad.append(FieldViolation(f"{prefix}.unit_codes[{i}]", "a unit code of 1–64 characters"))
    for feed in sub.feeds:
        if feed not in FEEDS:
            bad.append(FieldViolation(f"{prefix}.feeds", f"unknown feed {feed}"))
    if len(sub.tls_ca) > MAX_CA_BYTES:
        bad.append(FieldViolation(f"{prefix}.tls.ca_certificate", f"at most {MAX_CA_BYTES} bytes"))
    if len(sub.tls_server_name) > 253:
        bad.append(FieldViolation(f"{prefix}.tls.server_name", "at most 253 characters"))
    if len(sub.alert_settings) > 50:
        bad.append(FieldViolation(f"{prefix}.alert_settings", "at most 50 settings"))
    else:
        try:
            with_overrides(load_rules(), dict(sub.alert_settings))
        except AlertSettingsError as exc:
            bad.append(FieldViolation(f"{prefix}.alert_settings[{exc.field[:64]}]", exc.message))
    if bad:
        raise InvalidArgument(f"bad subscription: {bad[0].field}: {bad[0].description}", reason="BAD_SUBSCRIPTION",
                              violations=bad)
    feeds = frozenset(sub.feeds) or frozenset({FEED_LIVE, FEED_OFFICIAL})
    codes = tuple(dict.fromkeys(sub.unit_codes))
    return Subscription(sub.subscription_id, sub.display_name, sub.endpoint, codes, feeds, sub.tls_enabled,
                        sub.tls_ca, sub.tls_server_name, sub.create_time_us, sub.pending_count, sub.set_aside_count,
                        tuple(sorted(sub.alert_settings)))


def ancestors_from(parents: Mapping[str, str]) -> Callable[[str], list[str]]:
    """Ancestors of a unit from a code → parent code map (cycles cut)."""

    def ancestors(code: str) -> list[str]:
        out: list[str] = []
        seen = {code}
        parent = parents.get(code, "")
        while parent and parent not in seen:
            out.append(parent)
            seen.add(parent)
            parent = parents.get(parent, "")
        return out

    return ancestors


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_seconds: float = 1.0
    cap_seconds: float = 300.0

    def delay(self, attempts: int, random: Callable[[], float]) -> float:
        """Wait before the next try after ``attempts`` failed tries (full jitter)."""
        return full_jitter(attempts, self.base_seconds, self.cap_seconds, random)

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


MAX_DELIVERY_BYTES = 64 * 1024 * 1024
"""Largest delivery publish sends and the reference receiver accepts (a national publication of every
commune is ~28 MB)."""


@dataclass(frozen=True)
class Outgoing:
    """One delivery as sent to a portal (``chiso.portal.v1.DeliverRequest``)."""

    delivery_id: str
    subscription_id: str
    sequence: int
    feed: int
    payload: bytes
    content_type: str
    signature: bytes
    key_id: str
    attempts: int = 0


@dataclass
class DeliveryFailed(Exception):
    """The portal did not acknowledge a delivery; ``message`` is kept as the delivery's last error."""

    message: str
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message
