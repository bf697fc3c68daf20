"""Retry waits shared by the background loops (publish's deliveries and follower, scoring's consumer)."""

from __future__ import annotations

from collections.abc import Callable


def full_jitter(attempts: int, base_seconds: float, cap_seconds: float, random: Callable[[], float]) -> float:
    """Seconds to wait after ``attempts`` failed tries: uniformly random in
    ``[0, min(cap, base · 2^(attempts-1))]`` ("full jitter")."""
    ceiling = min(cap_seconds, base_seconds * 2 ** max(0, min(attempts - 1, 62)))
    return random() * ceiling
