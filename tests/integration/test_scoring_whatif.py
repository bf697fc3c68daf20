"""Scoring's what-if and rule versions through a real server. Expected points are worked out here
by hand from the rule tables (SPEC §4.1, PORTAL_RULES.md), not taken from the code."""

from __future__ import annotations

import grpc
import pytest
from chiso.scoring.v1 import scoring_pb2 as pb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb

from services.shared.grpc_errors import details_from_rpc_error

AUGUST_2026 = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
IDS_766 = ["1.1", "1.2", "1.3", "1.4", "2.1", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6",
           "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "5.2", "5.3", "5.4"]


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    from services.scoring.server import ScoringSettings, build

    url = f"sqlite:///{tmp_path_factory.mktemp('whatif')}/w.db"
    handle = build(ScoringSettings(port=0, metrics_port=-1, consume=False, database_url=url))
    handle.start()
    channel = grpc.insecure_channel(handle.address)
    yield scoring_pb2_grpc.ScoringServiceStub(channel)
    channel.close()
    handle.stop(0)


def what_if(stub, version, counts, period=AUGUST_2026):
    req = pb.WhatIfRequest(rule_version=version, period=period)
    for ind, (num, den) in counts.items():
        req.counts.add(indicator_id=ind, numerator=num, denominator=den)
    return stub.WhatIf(req).scorecard


def full_marks_except(**overrides):
    counts = {i: (100, 100) for i in IDS_766}
    counts.update({k[1:].replace("_", "."): v for k, v in overrides.items()})
    return counts


def test_766_what_if_worked_by_hand(stub):
    # 2.1: 20 × 700/1000 = 14 (6 lost); 5.4: 6 × min(1, 0.85/0.90) = 6 × 17/18 = 17/3 (1/3 lost)
    # total = 100 − 6 − 1/3 = 281/3 = 93.666… → 93.67, Xuất sắc
    card = what_if(stub, "766/2022", full_marks_except(i2_1=(700, 1000), i5_4=(850, 1000)))
    assert card.rule_version == "766/2022"
    assert (card.total_exact.numerator, card.total_exact.denominator) == ("281", "3")
    assert card.total.value == "93.67"
    assert card.classification == tpb.CLASSIFICATION_EXCELLENT and card.classification_label == "Xuất sắc"
    by_id = {i.id: i for i in card.indicators}
    assert by_id["2.1"].points.value == "14.00" and by_id["2.1"].rate.value == "0.7000"
    assert by_id["5.4"].points.value == "5.67" and by_id["5.4"].threshold.value == "0.9000"
    assert (by_id["5.4"].points_exact.numerator, by_id["5.4"].points_exact.denominator) == ("17", "3")
    groups = {g.id: (g.max_points.value, g.points.value) for g in card.groups}
    assert groups == {"1": ("18.00", "18.00"), "2": ("20.00", "14.00"), "3": ("22.00", "22.00"),
                      "4": ("22.00", "22.00"), "5": ("18.00", "17.67")}


def test_clearing_late_dossiers_reaches_the_band_edge(stub):
    # "If we clear late dossiers, do we reach Xuất sắc?" 2.1 at 500/1000 = 10 points → total 90.00 exactly.
    at_edge = what_if(stub, "766/2022", full_marks_except(i2_1=(500, 1000)))
    assert at_edge.total.value == "90.00" and at_edge.classification == tpb.CLASSIFICATION_EXCELLENT
    # One dossier fewer on time: 20 × 499/1000 = 9.98 → 89.98, Tốt
    below = what_if(stub, "766/2022", full_marks_except(i2_1=(499, 1000)))
    assert below.total.value == "89.98" and below.classification_label == "Tốt"


def test_indicators_without_counts_follow_their_no_data_rule(stub):
    # Nothing given: 1.1–1.3 and groups III–IV (but 2.1, 5.4) are N/A (0); 1.4 has no previous year (0);
    # 2.1 and 5.4 are 0; 5.2 and 5.3 are full points → total 12.00, Yếu.
    card = what_if(stub, "766/2022", {})
    assert card.total.value == "12.00" and card.classification == tpb.CLASSIFICATION_WEAK
    by_id = {i.id: i for i in card.indicators}
    assert by_id["1.1"].status == tpb.INDICATOR_STATUS_NOT_APPLICABLE
    assert by_id["2.2"].status == tpb.INDICATOR_STATUS_ANALYSIS_ONLY
    assert by_id["5.2"].points.value == "6.00"


def test_portal_2025_sync_factor_and_payment_group(stub):
    counts = {
        "1.4": (80, 100),  # 6 × 0.8 = 4.8
        "3.3": (30, 100),  # rate 0.30 × 0.80 (1.4's rate) = 0.24; 6 × min(1, 0.24/0.5) = 2.88
        "6.1": (6, 10),  # 2 × min(1, 0.6/0.8) = 1.5
        "6.2": (9, 10),  # 2 × min(1, 0.9/0.8) = 2
        "6.3": (50, 100),  # 6 × 0.5 = 3
    }
    card = what_if(stub, "portal/2025", counts)
    by_id = {i.id: i for i in card.indicators}
    assert by_id["3.3"].points.value == "2.88" and by_id["3.3"].rate.value == "0.2400"
    assert "fitted" in by_id["3.3"].flags
    assert [by_id[i].points.value for i in ("6.1", "6.2", "6.3")] == ["1.50", "2.00", "3.00"]
    assert {g.id: g.points.value for g in card.groups}["6"] == "6.50"


def test_rule_versions_are_listed_with_their_groups(stub):
    versions = {v.id: v for v in stub.ListRuleVersions(pb.ListRuleVersionsRequest()).rule_versions}
    assert set(versions) == {"766/2022", "portal/2025"}
    old, new = versions["766/2022"], versions["portal/2025"]
    assert (old.effective_date.year, old.effective_date.month, old.effective_date.day) == (2022, 8, 1)
    assert (new.effective_date.year, new.effective_date.month, new.effective_date.day) == (2025, 1, 1)
    assert [g.max_points.value for g in old.groups] == ["18.00", "20.00", "22.00", "22.00", "18.00"]
    assert [g.max_points.value for g in new.groups] == ["18.00", "20.00", "12.00", "22.00", "18.00", "10.00"]
    assert {g.name for g in new.groups} >= {"Công khai, minh bạch", "Thanh toán trực tuyến"}


def test_bad_what_if_input(stub):
    with pytest.raises(grpc.RpcError) as err:
        what_if(stub, "766/2099", {})
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert details_from_rpc_error(err.value)[0].reason == "UNKNOWN_RULE_VERSION"
    with pytest.raises(grpc.RpcError) as err:
        what_if(stub, "766/2022", {"2.1": (11, 10)})
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_from_rpc_error(err.value)[1].field_violations[0].field == "counts[0]"
    with pytest.raises(grpc.RpcError) as err:
        what_if(stub, "766/2022", {"9.9": (1, 1)})
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        what_if(stub, "766/2022", {}, period=tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=13))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        stub.GetScorecard(pb.GetScorecardRequest(unit_code="H15"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # no period


def test_whatif_cli_prints_the_scorecard(capsys, tmp_path):
    from services.scoring.server import ScoringSettings, build
    from services.scoring.whatif_cli import main

    handle = build(ScoringSettings(port=0, metrics_port=-1, consume=False, database_url=f"sqlite:///{tmp_path}/w.db"))
    handle.start()
    try:
        # 2.1: 14; 3.3: 6 × min(1, 0.40/0.50) = 4.8; 5.2 and 5.3 full with no petitions (12); 5.4: 17/3
        # total = 14 + 4.8 + 12 + 5.666… = 36.466… → 36.47, Yếu
        code = main(["--target", handle.address, "--rule-version", "766/2022", "--period", "2026-08",
                     "2.1=700/1000", "5.4=850/1000", "3.3=40/100"])
        out = capsys.readouterr().out
        assert code == 0
        assert "Tổng điểm: 36.47 — Yếu" in out
        assert "Tỷ lệ hồ sơ xử lý đúng hạn" in out and "14.00" in out
        assert main(["--target", handle.address, "--rule-version", "766/2022", "2.1=7/5"]) == 2
        assert "exceeds denominator" in capsys.readouterr().err
    finally:
        handle.stop(0)


def test_exact_values_beyond_64_bits_are_carried_as_digits():
    from fractions import Fraction

    from services.scoring.transport import ratio

    big = Fraction(250006337895640449593, 2500063378956404495)  # a real total seen at 10 million dossiers
    r = ratio(big)
    assert Fraction(int(r.numerator), int(r.denominator)) == big
