"""What publish needs from the outside, as interfaces: scoring (scorecards, rankings, the change
feed) and a portal's receiver. The gRPC adapters are ``services.publish.scoring_client`` and
``services.publish.portal_client``; tests use plain fakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.publish.domain.documents import Card, CardKey, PeriodRef
from services.publish.domain.subscriptions import Outgoing


@dataclass(frozen=True)
class ChangesPage:
    """Scorecards scoring says may have changed (month periods), and where to resume."""

    keys: Sequence[CardKey]
    next_cursor: str


@dataclass(frozen=True)
class RankingView:
    """A ranking as scoring computed it: its units (for a publication: the ranked ones, then those
    without data) and the ranking document."""

    rule_version: str
    unit_codes: Sequence[str]
    document: dict


class ScoringPort(Protocol):
    def changes(self, after_cursor: str, page_size: int) -> ChangesPage:
        """Changes after ``after_cursor`` ("" = from the beginning)."""

    def scorecards(self, keys: Sequence[CardKey], rule_version: str = "") -> list[Card]:
        """The scorecards of ``keys`` (as of each period's end, or now while it runs), in order."""

    def ranking(self, period: PeriodRef, unit_kind: int, parent_code: str, scope: int,
                rule_version: str = "") -> RankingView:
        """Units of a kind (beneath ``parent_code``) ranked for a period."""


class PortalSender(Protocol):
    def send(self, item: Outgoing, timeout: float) -> None:
        """Deliver ``item`` within ``timeout`` seconds; raise ``DeliveryFailed`` unless acknowledged."""

    def close(self) -> None:
        """Release the connection."""
