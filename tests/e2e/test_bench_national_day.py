"""``tools/bench_national_day.py`` (part of ``make bench``) runs its whole scenario — setup, the trickle,
the four events, alerts — at a tiny scale on SQLite and writes every row of its tables. No timing is
asserted: the figures are the benchmark's business, not a test's."""

from __future__ import annotations

import re

from tools import bench_national_day as nd
from tools.bench import WORK


def test_a_tiny_national_day_runs_every_event_and_reports_every_row(tmp_path):
    WORK.mkdir(exist_ok=True)
    o = nd.Options(backend="sqlite", backfill=600, history=300, event_seconds=1.0, min_samples=2,
                   trickle_period=0.25, communes_per_province=1, alert_poll_seconds=1.0, setup_timeout=90,
                   backfill_timeout=90, burst_timeout=90, resync_timeout=90)
    lines = nd.measure(tmp_path / "work", o, progress=print)
    text = "\n".join(lines)
    print(text)
    assert lines[0] == "## A national day (SQLite)"
    assert "--backend sqlite --backfill 600" in text and "Commit " in text

    events = ("| 1. ordinary traffic only", "| 2. H01 sends 600 records",
              "| 3. one new dossier for each of 33 communes", "| 4. catalogue re-sync")
    freshness = [line for line in lines if line.startswith(events)]
    assert len(freshness) == 4
    for row in freshness:  # scoring, publish's live scorecard, its change feed: every batch seen
        seen = re.findall(r"\((\d+)/(\d+)\)", row)
        assert len(seen) == 3 and all(a == b and int(a) >= 2 for a, b in seen), row

    settled = [line for line in lines if line.startswith(("| 1. quiet", "| 2. backfill", "| 3. burst", "| 4. re-sync"))]
    assert len(settled) == 8  # the events table and the alerts table
    for row in settled[1:4]:
        assert "did not settle" not in row and "accepted" in row, row
    assert "records accepted" in settled[1] and "600 of 600" in settled[1]
    assert "33 of 33" in settled[2]  # every commune but the trickle's (34 provinces, one commune each)
    assert "notices/s" in text and "End to end (first record sent → publish caught up)" in text
    assert "186 units watched (every unit has an e-mail recipient" in text
    for service in ("ingest", "scoring", "publish"):
        assert any(line.startswith(f"| {service} | ") and " MB |" in line for line in lines), service
