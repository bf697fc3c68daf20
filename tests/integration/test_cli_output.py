"""What the command-line tools print for a person, against the running suite (real servers on
loopback, seeded with Phú Thọ's August 2026): periods named as periods, names cut between words,
times as Hanoi's dd/mm/yyyy HH:MM, one spelling of unit kinds, empty lists that say so, and the
portal's report as a summary."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.publish.v1 import publish_pb2
from chiso.scoring.v1 import scoring_pb2
from chiso.types.v1 import types_pb2 as tpb

from services.shared.display import shorten
from tests.helpers import auth, ended_dossier, wait_scored
from tests.rpc_suite import running_suite

ROOT = Path(__file__).resolve().parents[2]
HANOI_TIME = r"\d\d/\d\d/\d{4} \d\d:\d\d"


def cli(module: str, *args: str, token: str = "", check: int | None = 0,
        **env_vars: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHISO_TOKEN": token, **env_vars}
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    if check is not None:
        assert done.returncode == check, (args, done.stdout, done.stderr)
    return done


def test_what_the_clis_print(sqlite_url, tmp_path):
    with running_suite(sqlite_url, tmp_path) as suite:
        scoring = suite.handles["ScoringService"].address
        publish = suite.handles["PublishService"].address
        score = ("services.scoring.score_cli", "--target", scoring)
        admin = ("services.publish.admin_cli", "--target", publish)
        ops = suite.tokens.operator

        # no subscription yet, said so; then Phú Thọ's portal subscribes, and a new dossier changes its scores
        none = cli(*admin, "subscription", "list", token=ops)
        assert (none.stdout, none.stderr.strip()) == ("", "(no subscriptions)")
        portal = suite.handles["PortalReceiverService"].address
        suite.stubs["publish"].CreateSubscription(publish_pb2.CreateSubscriptionRequest(
            request_id="s", subscription=publish_pb2.Subscription(subscription_id="portal-phu-tho", endpoint=portal,
                                                                  unit_codes=["H25"])), metadata=auth(ops), timeout=30)
        r = suite.stubs["ingest"].SyncDossiers(ipb.SyncDossiersRequest(
            request_id="after-subscribing", records=[ended_dossier("late-2", "H25.01", 20)]),
            metadata=auth(suite.tokens.national), timeout=30)
        assert r.result.accepted_count == 1
        wait_scored(suite.db)

        # periods as periods: a quarter is a quarter, a year and a year to date differ
        for period, label in (("2026-08", "tháng 08/2026"), ("2026-Q3", "quý III/2026"), ("2026", "năm 2026"),
                              ("2026-YTD", "từ đầu năm 2026 đến nay")):
            out = cli(*score, "--rule-version", "766/2022", "scorecard", "H25", period).stdout
            assert out.splitlines()[1] == f"Phiên bản 766/2022, {label}", out
        # indicator names whole, or cut between two words with "…"
        card = suite.stubs["scoring"].GetScorecard(scoring_pb2.GetScorecardRequest(
            unit_code="H25", period=tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8),
            rule_version="766/2022"), timeout=30).scorecard
        out = cli(*score, "--rule-version", "766/2022", "scorecard", "H25", "2026-08").stdout
        cut = 0
        for indicator in card.indicators:
            line = next(x for x in out.splitlines() if x.strip().startswith(indicator.id + " "))
            shown = line.strip()[len(indicator.id):].strip()
            if indicator.name in shown:
                continue
            cut += 1
            assert shorten(indicator.name, 60) in shown, (indicator.name, line)
            prefix = shorten(indicator.name, 60).removesuffix("…")
            assert indicator.name[len(prefix)] in " ,;:", (indicator.name, prefix)  # the next character ends a word
        assert cut, "the rule table has names longer than the column: some must be cut"

        # one spelling of unit kinds in every CLI (the other one is understood too); an empty ranking says so
        for spelling in ("ministerial-agency", "ministerial_agency"):
            out = cli(*score, "ranking", spelling, "2026-08").stdout
            assert out.splitlines()[1:] == ["      (no units of this kind have a score for this period)"]
            assert "tháng 08/2026" in out.splitlines()[0]
        bad = cli(*score, "ranking", "ministry-of-fun", "2026-08", check=2)
        assert "ministerial-agency" in bad.stderr
        help_text = cli(*admin, "publication", "create", "--help").stdout
        assert "ministerial-agency" in help_text and "ministerial_agency" not in help_text

        # publications: none yet, said so; then one, as a table with Hanoi time; JSON lines on request
        assert cli(*admin, "publication", "list", token=ops).stdout.strip() == "no publications"
        created = json.loads(cli(*admin, "publication", "create", "--period", "2026-08", "--kind", "province",
                                 "--scope", "subtree", "--title", "Kết quả tháng 8/2026", token=ops).stdout)
        out = cli(*admin, "publication", "list", token=ops).stdout.splitlines()
        assert out[0].split() == ["publication", "revision", "kỳ", "đơn", "vị", "công", "bố", "lúc", "tiêu", "đề"]
        assert created["publication_id"] in out[1] and "tháng 08/2026" in out[1] and "province" in out[1]
        assert re.search(HANOI_TIME, out[1]) and "Kết quả tháng 8/2026" in out[1], out
        (line,) = cli(*admin, "publication", "list", "--json", token=ops).stdout.splitlines()
        listed = json.loads(line)
        assert (listed["period"], listed["unit_kind"]) == ("2026-08", "province")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", listed["publish_time"]), listed
        assert cli(*admin, "publication", "list", "--period", "2026-07", token=ops).stdout.strip() == \
            "no publications for this period"

        # empty lists and replays say so (standard output stays JSON)
        aside = cli(*admin, "deliveries", "list", "portal-phu-tho", "--state", "set-aside", token=ops)
        assert (aside.stdout, aside.stderr.strip()) == ("", "(no set-aside deliveries for portal-phu-tho)")
        nothing = cli("services.scoring.server", "set-aside", "list", CHISO_DATABASE_URL=sqlite_url)
        assert (nothing.stdout, nothing.stderr.strip().splitlines()[-1]) == ("", "(nothing set aside)")
        replay = cli(*admin, "deliveries", "replay", "portal-phu-tho", token=ops)
        assert json.loads(replay.stdout) == {"replayed_count": 0}
        assert "nothing to replay" in replay.stderr

        # the portal's report: a summary a person reads; everything with --json
        db = tmp_path / "portal.db"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            held = json.loads(cli("services.publish.receiver", "report", "--db", str(db), "--json").stdout)
            if held["deliveries"] and held["publications"]:
                break
            time.sleep(0.2)
        assert held["deliveries"] and held["publications"], held
        out = cli("services.publish.receiver", "report", "--db", str(db)).stdout
        lines = out.splitlines()
        assert len(lines) < 20, out
        assert re.search(r"^deliveries: \d+ from subscription portal-phu-tho, sequences 1–\d+ \(none missing\)$",
                         out, re.MULTILINE), out
        assert re.search(rf"^last delivery: {HANOI_TIME}$", out, re.MULTILINE), out
        assert f"official publications: {created['publication_id']} (revision 1)" in out
        h25 = next(x for x in lines if x.strip().startswith("H25 "))
        assert re.search(r"\d+,\d\d", h25), out  # Vietnamese decimals
        missing = cli("services.publish.receiver", "report", "--db", str(tmp_path / "none.db"), check=2)
        assert "no receiver file" in missing.stderr


def test_token_list_in_hanoi_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    admin = ("services.shared.admin_cli", "--database-url", url)
    unmigrated = cli(*admin, "token", "list", check=2)
    assert unmigrated.stderr == f"chiso-admin: database {url}: no such table: tokens (run chiso-admin migrate)\n"
    cli(*admin, "migrate")
    empty = cli(*admin, "token", "list")
    assert empty.stdout.startswith("no tokens")
    cli(*admin, "source", "add", "igate-phu-tho", "--name", "Hệ thống iGate Phú Thọ", "--grant", "H25")
    out = cli(*admin, "token", "list").stdout.splitlines()
    assert out[0].split()[:3] == ["token", "id", "principal"]
    assert "igate-phu-tho" in out[1] and "Hệ thống iGate Phú Thọ" in out[1] and "H25" in out[1]
    assert re.search(HANOI_TIME, out[1]) and "còn hiệu lực" in out[1], out
    assert not re.search(r"\d{13,}", "\n".join(out))  # no microsecond counts
    (line,) = cli(*admin, "token", "list", "--json").stdout.splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", json.loads(line)["created_at"])

    # `| head -1`: the reader goes away; the command ends quietly, as cat does
    from services.shared import access
    from services.shared.db import Database

    db = Database(url)
    with db.write() as conn:
        for _ in range(1500):
            access.issue_token(conn, "igate-phu-tho")
    db.dispose()
    done = subprocess.run(["bash", "-c", f"{sys.executable} -m services.shared.admin_cli --database-url {url} "
                           "token list | head -1"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.split()[:3] == ["token", "id", "principal"] and done.stderr == "", done.stderr

