"""A third rule version, written only as a data file, scored and explained through the real scoring server.

Issue 16: a rule version is a data file plus at most one registered policy. "portal/2026" below is
portal/2025's file with a 2026–2030 stage of Resolution 76 targets (3.1 at 90%, 3.3 at 60%, 4.3 at
90%, 5.4 at 95%), 6.2 worth 3 points and 6.3 worth 5 (group 6 still 10), in force from 1 January 2026.
It sits in a temporary folder named by the scoring server's ``rules_dir`` setting; nothing in storage,
the cells or the service knows it. Expected points are worked by hand from those numbers on Phú Thọ's
August 2026 (test_scoring_grpc's module docstring lists the dossiers).
"""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import pytest
from chiso.scoring.v1 import scoring_pb2 as pb
from chiso.types.v1 import types_pb2 as tpb

from services.scoring import rules as shipped
from services.scoring.domain.rules import RuleTableError
from tests.helpers import auth, ingest_server, scoring_server, setup_tokens, wait_scored
from tests.integration.test_scoring_grpc import AUG, card, exact, indicators, load_august, pts

PORTAL_2025 = (Path(shipped.__file__).parent / "portal-2025.toml").read_text(encoding="utf-8")


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _stage(text: str, indicator: str, old_stage: str, value: str) -> str:
    """Adds a 2026–2030 stage after an indicator's 2021–2025 stage."""
    start = text.index(f'id = "{indicator}"\n')
    at = text.index(old_stage, start)
    new = old_stage + f"\n  {{ from = 2026-01-01, to = 2030-12-31, value = {value} }},"
    return text[:at] + new + text[at + len(old_stage):]


def portal_2026() -> str:
    text = _replace(PORTAL_2025, 'id = "portal/2025"', 'id = "portal/2026"')
    text = _replace(text, "effective_from = 2025-01-01", "effective_from = 2026-01-01")
    text = _stage(text, "3.1", "{ from = 2021-01-01, to = 2025-12-31, value = 0.80 },", "0.90")
    text = _stage(text, "3.3", "{ from = 2021-01-01, to = 2025-12-31, value = 0.50 },", "0.60")
    text = _stage(text, "4.3", "{ from = 2021-01-01, to = 2025-12-31, value = 0.80 },", "0.90")
    text = _stage(text, "5.4", "{ from = 2021-01-01, to = 2025-12-31, value = 0.90 },", "0.95")
    six_two = text.index('id = "6.2"')
    text = text[:six_two] + _replace(text[six_two:], "max = 2", "max = 3")
    six_three = text.index('id = "6.3"')
    text = text[:six_three] + _replace(text[six_three:], "max = 6", "max = 5")
    return text


@pytest.fixture
def world(db_url, tmp_path):
    (tmp_path / "portal-2026.toml").write_text(portal_2026(), encoding="utf-8")
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        with scoring_server(db_url, rules_dir=str(tmp_path)) as (scoring, _handle):
            load_august(ingest, tokens)
            wait_scored(db)
            yield scoring, tokens


def test_a_version_written_only_as_data_is_scored_and_explained(world):
    scoring, tokens = world
    sc = card(scoring, "H25", version="")  # no version named: portal/2026 is in force for August 2026
    assert sc.rule_version == "portal/2026"
    got = indicators(sc)
    # 3.1: 2 of 3 offers online, threshold 90% (2026–2030 stage): 2 × (2/3)/0.9
    assert (got["3.1"].numerator, got["3.1"].denominator) == (2, 3)
    assert exact(got["3.1"]) == pts(2, 2, 3, F(9, 10)) == F(40, 27)
    # 3.3: online d1 d2 d5 d8 of 9, × 1.4's rate 9/12 = 1/3, threshold 60%: 6 × (1/3)/0.6
    assert (got["3.3"].numerator, got["3.3"].denominator) == (4, 9)
    assert exact(got["3.3"]) == 6 * F(1, 3) / F(3, 5) == F(10, 3)
    # 4.3: d1 reused digitised data, of 9, threshold 90%
    assert exact(got["4.3"]) == pts(2, 1, 9, F(9, 10)) == F(20, 81)
    # 5.4: 9 less d2 d3 d4 d9 (late; d8 within its statutory limit) and d7 (petitioned), threshold 95%
    assert (got["5.4"].numerator, got["5.4"].denominator) == (4, 9)
    assert exact(got["5.4"]) == pts(6, 4, 9, F(19, 20)) == F(160, 57)
    # 6.2: P1 (d1) and P2 (d3) paid online, of the 2 fee-bearing procedures, now worth 3: 3 × min(1, 1/0.8)
    assert (got["6.2"].numerator, got["6.2"].denominator) == (2, 2) and exact(got["6.2"]) == 3
    # 6.3: d1 and d3 paid through a gateway, of the fee dossiers d1 d2 d3, now worth 5: 5 × 2/3
    assert exact(got["6.3"]) == F(10, 3)
    assert {g.id: g.max_points.value for g in sc.groups}["6"] in ("10", "10.00")
    assert sum((exact(i) for i in sc.indicators), F(0)) == F(int(sc.total_exact.numerator),
                                                            int(sc.total_exact.denominator))
    # the shipped versions are still there, by name
    assert card(scoring, "H25", version="portal/2025").rule_version == "portal/2025"
    # and the new version explains itself: 6.3's fee dossier not paid online is d2
    explained = scoring.ExplainIndicator(
        pb.ExplainIndicatorRequest(unit_code="H25", period=AUG, indicator_id="6.3", scope=tpb.SCOPE_SUBTREE),
        metadata=auth(tokens.phu_tho))
    assert [i.record_key.split("/")[1] for i in explained.items] == ["d2"]
    late = scoring.ExplainIndicator(
        pb.ExplainIndicatorRequest(unit_code="H25", period=AUG, indicator_id="2.1", scope=tpb.SCOPE_SUBTREE),
        metadata=auth(tokens.phu_tho))
    assert sorted(i.record_key.split("/")[1] for i in late.items) == ["d2", "d3", "d4", "d9"]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.replace('numerator = "dossiers_received_online_counted"',
                             'numerator = "dossiers_received_online_countd"').replace(
            "dossiers_received_online_counted = ", "dossiers_received_online_countd = "),
         "portal-2026.toml: indicator 3.3: measure 'dossiers_received_online_countd' has no code behind it"),
        (lambda t: t.replace('policy = "statutory_limit"', 'policy = "due_time"'),
         "portal-2026.toml: indicator 2.1: measure 'dossiers_finished_on_time_portal' judges lateness under "
         "policy 'statutory_limit', but the file names policy 'due_time'"),
        (lambda t: t.replace("{ from = 2021-01-01, to = 2025-12-31, value = 0.50 },", "").replace(
            "{ from = 2026-01-01, to = 2030-12-31, value = 0.60 }", "{ from = 2027-01-01, value = 0.60 }"),
         "portal-2026.toml: indicators[id=3.3].threshold: the first threshold stage starts 2027-01-01, after "
         "the version takes effect (2026-01-01)"),
    ],
)
def test_the_service_refuses_to_start_on_a_bad_version_naming_file_indicator_and_problem(
        db_url, tmp_path, change, message):
    (tmp_path / "portal-2026.toml").write_text(change(portal_2026()), encoding="utf-8")
    with pytest.raises(RuleTableError) as err, scoring_server(db_url, rules_dir=str(tmp_path)):
        pass
    assert message in str(err.value) and "\n" not in str(err.value)
