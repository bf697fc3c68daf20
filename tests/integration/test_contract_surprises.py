"""Silent surprises of the public contract (issue 16 item 4), through real ingest and scoring servers on
SQLite and PostgreSQL: an offer sent without a withdrawal flag is offered; WhatIf uses the unit kind
it is given; ListRuleVersions gives only the formula kinds its contract documents.

By hand (766/2022, 3.1 = 2 × min(1, rate / 80%)): Sở Xây dựng (H25.02) offers P1 online in full and
says nothing about withdrawal → 1 online of 1 performed → 2 × min(1, 1/0.8) = 2.00. P2 sent
withdrawn → not performed: still 1 of 1. Before the fix the first offer (field `active` left out)
counted as withdrawn: 0 of 0, not applicable.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.types.v1 import types_pb2 as tpb

from tests.helpers import NOW, auth, ingest_server, scoring_server, seed_units, setup_tokens, ts, wait_scored

AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
P1, P2 = "1.004227", "1.001193"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(db_url):
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_server(db_url) as (scoring, _handle):
            yield ingest, scoring, db, tokens


def offer_3_1(scoring):
    sc = scoring.GetScorecard(spb.GetScorecardRequest(unit_code="H25.02", period=AUG, rule_version="766/2022"))
    i = {i.id: i for i in sc.scorecard.indicators}["3.1"]
    return i.numerator, i.denominator, i.points.value, i.status


def test_an_offer_sent_without_withdrawn_is_offered(world):
    ingest, scoring, db, tokens = world
    t = NOW - timedelta(minutes=20)
    offered = ipb.UnitProcedureRecord(unit_code="H25.02", procedure_code=P1, online_level=ipb.ONLINE_LEVEL_FULL,
                                      source_time=ts(t))  # nothing said about withdrawal
    withdrawn = ipb.UnitProcedureRecord(unit_code="H25.02", procedure_code=P2, online_level=ipb.ONLINE_LEVEL_NONE,
                                        withdrawn=True, source_time=ts(t))
    r = ingest.SyncUnitProcedures(ipb.SyncUnitProceduresRequest(request_id="offers", records=[offered, withdrawn]),
                                  metadata=auth(tokens.phu_tho))
    assert r.result.accepted_count == 2, r.result
    wait_scored(db)
    assert offer_3_1(scoring) == (1, 1, "2.00", tpb.INDICATOR_STATUS_SCORED)
    # withdrawing the first, later: nothing performed any more
    offered.source_time.CopyFrom(ts(t + timedelta(minutes=5)))
    offered.withdrawn = True
    r = ingest.SyncUnitProcedures(ipb.SyncUnitProceduresRequest(request_id="withdraw", records=[offered]),
                                  metadata=auth(tokens.phu_tho))
    assert r.result.accepted_count == 1, r.result
    wait_scored(db)
    assert offer_3_1(scoring)[:2] == (0, 0) and offer_3_1(scoring)[3] == tpb.INDICATOR_STATUS_NOT_APPLICABLE
    # the old field is gone from the contract: a JSON record naming it is refused, not misread
    assert "active" not in ipb.UnitProcedureRecord.DESCRIPTOR.fields_by_name


def test_what_if_uses_the_unit_kind(world):
    _, scoring, _, _ = world

    def parameters(kind):
        card = scoring.WhatIf(spb.WhatIfRequest(rule_version="766/2022", period=AUG, unit_kind=kind,
                                                counts=[spb.IndicatorCounts(indicator_id="1.1", numerator=1,
                                                                            denominator=2)])).scorecard
        got = {i.id: dict(i.parameters) for i in card.indicators}
        return card.unit.kind, got["1.1"].get("lead_working_days"), got["1.2"].get("listing_working_days")

    # the rule table: decisions 20 working days ahead for ministries and ministerial agencies, 5 otherwise;
    # listings within 10 and 5 working days
    assert parameters(tpb.UNIT_KIND_MINISTRY) == (tpb.UNIT_KIND_MINISTRY, "20", "10")
    assert parameters(tpb.UNIT_KIND_MINISTERIAL_AGENCY) == (tpb.UNIT_KIND_MINISTERIAL_AGENCY, "20", "10")
    assert parameters(tpb.UNIT_KIND_PROVINCE) == (tpb.UNIT_KIND_PROVINCE, "5", "5")
    assert parameters(tpb.UNIT_KIND_UNSPECIFIED) == (tpb.UNIT_KIND_UNSPECIFIED, "5", "5")
    with pytest.raises(grpc.RpcError) as err:
        scoring.WhatIf(spb.WhatIfRequest(rule_version="766/2022", unit_kind=99))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # a stored unit's scorecard shows the parameters of its own kind (a province: 5)
    sc = scoring.GetScorecard(spb.GetScorecardRequest(unit_code="H25", period=AUG, rule_version="766/2022")).scorecard
    assert {i.id: dict(i.parameters) for i in sc.indicators}["1.1"] == {"lead_working_days": "5"}


def test_rule_versions_give_only_documented_formula_kinds(world):
    _, scoring, _, _ = world
    text = (ROOT / "protos/chiso/scoring/v1/scoring.proto").read_text(encoding="utf-8")
    comment = re.search(r"((?:  //.*\n)+)  string kind = 5;", text).group(1)
    documented = set(re.findall(r'"([a-z_]+)"', comment))
    kinds = {i.kind for v in scoring.ListRuleVersions(spb.ListRuleVersionsRequest()).rule_versions
             for i in v.indicators}
    assert "full" in kinds and kinds <= documented, (kinds, documented)
