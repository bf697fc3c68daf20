"""`make run`'s demo, as a newcomer runs it (with --once so it stops by itself)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_loads_everything_and_says_where_to_look(tmp_path):
    out = subprocess.run([sys.executable, "-m", "services.demo", "--once", "--var-dir", str(tmp_path / "demo"),
                          "--dossiers", "3000"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    # every generated dossier was valid and stored: the running month's and a third as many of the month before
    loaded = re.search(r"3,000 dossiers and 30 petitions of (\d\d)/(\d{4}) \(running\), 1,000 and 10 of "
                       r"(\d\d)/(\d{4}) \(ended\)", out.stdout)
    assert loaded, out.stdout
    running, ended = (int(loaded[2]), int(loaded[1])), (int(loaded[4]), int(loaded[3]))
    assert ended == ((running[0], running[1] - 1) if running[1] > 1 else (running[0] - 1, 12))
    # the official publication it suggests is of the ended month (the running one cannot be published)
    assert f"--period {ended[0]}-{ended[1]:02d} --kind province" in out.stdout
    assert "ingest      127.0.0.1:" in out.stdout and "stopped: ingest, scoring, publish, portal" in out.stdout
    # the reference portal, subscribed to Phú Thọ, already holds verified deliveries
    held = re.search(r"it holds (\d+) verified deliveries", out.stdout)
    assert held and int(held.group(1)) > 0, out.stdout
    assert "scoring     127.0.0.1:" in out.stdout
    # the top of the live provincial ranking: five provinces with rank, code, Vietnamese name, total
    ranking = out.stdout.split("Live ranking of the provinces", 1)[1].split("Try:", 1)[0]
    rows = re.findall(r"^\s+(\d+)\s+(H\d\d)\s+(UBND .+?)\s+(\d+\.\d\d)\s+(Xuất sắc|Tốt|Khá|Trung bình|Yếu)$",
                      ranking, re.MULTILINE)
    assert len(rows) == 5, ranking
    totals = [float(r[3]) for r in rows]
    assert totals == sorted(totals, reverse=True) and rows[0][0] == "1"
    log = (tmp_path / "demo" / "ingest.log").read_text(encoding="utf-8")
    assert "\"event\": \"batch committed\"" in log
    assert "chiso_" not in log  # no token in logs
