"""Who may read what (issue 15, item 5), through real ingest, scoring and publish servers on SQLite and
PostgreSQL.

August 2026, Phú Thọ's Sở Tư pháp (H25.01): ``late-1`` ended four days late; ``unhappy-1`` ended on time
but its applicant rated the service dissatisfied. Hà Nội's Sở Tư pháp (H01.01): ``hn-1``, on time.

Scorecards and rankings are public (counts). The records behind them — which dossiers were late, which
applicants were dissatisfied — are for the unit's own source systems, its officials and operators.
"""

from __future__ import annotations

import json
import time

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.types.v1 import types_pb2 as tpb

from services.shared import access
from services.shared.grpc_errors import details_from_rpc_error
from tests.helpers import (
    auth,
    dossier_record,
    ended_dossier,
    hanoi,
    ingest_server,
    publish_server,
    scoring_server,
    seed_units,
    setup_tokens,
    signing_key_file,
    wait_scored,
)

AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
CODES = ("late-1", "unhappy-1", "hn-1")


def official(db, principal_id, *roots):
    with db.write() as conn:
        access.ensure_principal(conn, principal_id, access.OFFICIAL, principal_id)
        access.set_grants(conn, principal_id, roots)
        return access.issue_token(conn, principal_id)


@pytest.fixture
def world(db_url, tmp_path):
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        records = [ended_dossier("late-1", "H25.01", 12),
                   ended_dossier("unhappy-1", "H25.01", 5, rating=ipb.RATING_DISSATISFIED),
                   ended_dossier("hn-1", "H01.01", 5)]
        r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="aug", records=records),
                                metadata=auth(tokens.national))
        assert r.result.accepted_count == 3, r.result
        officials = {name: official(db, name, *roots) for name, roots in (
            ("ptho-officials", ["H25"]), ("hanoi-officials", ["H01"]), ("ptho-justice", ["H25.01"]))}
        with scoring_server(db_url, token_cache_seconds=0) as (scoring, handle):
            wait_scored(db)
            yield {"ingest": ingest, "db": db, "tokens": tokens, "officials": officials, "scoring": scoring,
                   "scoring_address": handle.address, "db_url": db_url, "key": signing_key_file(tmp_path)}


def explain(world, unit, indicator, metadata=(), scope=tpb.SCOPE_SUBTREE):
    return world["scoring"].ExplainIndicator(spb.ExplainIndicatorRequest(
        unit_code=unit, period=AUG, scope=scope, rule_version="766/2022", indicator_id=indicator),
        metadata=metadata)


def refused(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    info, _ = details_from_rpc_error(err.value)
    return err.value.code(), info.reason if info is not None else ""


def test_records_behind_a_scorecard_only_for_the_units_sources_officials_and_operators(world):
    tokens, officials = world["tokens"], world["officials"]
    # 5.4 of Phú Thọ: late-1 (late) and unhappy-1 (rated dissatisfied) cost it points
    allowed = {
        "Phú Thọ's source": tokens.phu_tho,
        "Phú Thọ's officials": officials["ptho-officials"].token,
        "an operator": tokens.operator,
        "the national catalogue's source (*)": tokens.national,
    }
    for who, token in allowed.items():
        got = explain(world, "H25", "5.4", auth(token))
        assert sorted((i.record_key, i.reason_code) for i in got.items) == [
            ("national/late-1", "ended_late"), ("national/unhappy-1", "rated_dissatisfied")], who
    denied = {
        "Hà Nội's source": tokens.ha_noi,
        "Hà Nội's officials": officials["hanoi-officials"].token,
        "officials of one department, for the whole province": officials["ptho-justice"].token,
    }
    for who, token in denied.items():
        assert refused(lambda t=token: explain(world, "H25", "5.4", auth(t))) == (
            grpc.StatusCode.PERMISSION_DENIED, "UNIT_NOT_GRANTED"), who
    assert refused(lambda: explain(world, "H25", "5.4")) == (grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN")
    assert refused(lambda: explain(world, "H25", "5.4", auth("chiso_nope_nope"))) == (
        grpc.StatusCode.UNAUTHENTICATED, "BAD_TOKEN")
    # the department's officials read their own department (alone or with its subtree), and nothing else
    own = explain(world, "H25.01", "2.1", auth(officials["ptho-justice"].token), scope=tpb.SCOPE_UNIT)
    assert [i.record_key for i in own.items] == ["national/late-1"]
    assert refused(lambda: explain(world, "H01.01", "2.1", auth(officials["ptho-justice"].token))) == (
        grpc.StatusCode.PERMISSION_DENIED, "UNIT_NOT_GRANTED")
    # a unit that does not exist is refused like one outside the grant: its existence is not disclosed
    assert refused(lambda: explain(world, "H99", "2.1", auth(tokens.phu_tho)))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert refused(lambda: explain(world, "H99", "2.1", auth(tokens.operator)))[0] == grpc.StatusCode.NOT_FOUND
    # a revoked official's token stops working (the server here caches token checks for 0 s)
    with world["db"].write() as conn:
        access.revoke_token(conn, officials["ptho-officials"].token_id)
    assert refused(lambda: explain(world, "H25", "5.4", auth(officials["ptho-officials"].token))) == (
        grpc.StatusCode.UNAUTHENTICATED, "BAD_TOKEN")


def test_counts_stay_open_to_everyone(world):
    """Scorecards, rankings, what-if, rule versions and the change feed carry counts, never a record:
    no credential needed (publish calls them without one). The counts of 5.4 are there."""
    scoring = world["scoring"]
    card = scoring.GetScorecard(spb.GetScorecardRequest(unit_code="H25.01", period=AUG, scope=tpb.SCOPE_UNIT,
                                                        rule_version="766/2022")).scorecard
    ind = {i.id: i for i in card.indicators}["5.4"]
    assert (ind.numerator, ind.denominator) == (0, 2)  # both cost points: (2 − 1 dissatisfied − 1 late) / 2
    assert not any(code in str(card) for code in CODES)
    scoring.BatchGetScorecards(spb.BatchGetScorecardsRequest(keys=[spb.ScorecardKey(unit_code="H25", period=AUG)]))
    scoring.GetRanking(spb.GetRankingRequest(period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE))
    scoring.WhatIf(spb.WhatIfRequest(rule_version="766/2022"))
    assert scoring.ListRuleVersions(spb.ListRuleVersionsRequest()).rule_versions
    assert scoring.ListScorecardChanges(spb.ListScorecardChangesRequest()).changes


def test_an_officials_token_writes_nothing_and_operates_nothing(world):
    token = world["officials"]["ptho-officials"].token
    rec = dossier_record("by-official", "H25.01", received=hanoi(2026, 8, 3, 8))
    assert refused(lambda: world["ingest"].SyncDossiers(ipb.SyncDossiersRequest(request_id="x", records=[rec]),
                                                         metadata=auth(token))) == (
        grpc.StatusCode.PERMISSION_DENIED, "NOT_A_SOURCE")
    with publish_server(world["db_url"], world["scoring_address"], key_file=world["key"], follow=False,
                        deliver=False) as (pub, _):
        assert refused(lambda: pub.ListSubscriptions(ppb.ListSubscriptionsRequest(), metadata=auth(token))) == (
            grpc.StatusCode.PERMISSION_DENIED, "OPERATOR_REQUIRED")
        assert refused(lambda: pub.CreatePublication(ppb.CreatePublicationRequest(
            period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE, scope=tpb.SCOPE_SUBTREE), metadata=auth(token)))[0] == \
            grpc.StatusCode.PERMISSION_DENIED


def test_publish_and_its_exports_carry_counts_never_records(world):
    """What publish serves to the public — live scorecards, rankings, their exports, a publication —
    comes from scoring's scorecards: no dossier code, no rating of a person."""
    tokens = world["tokens"]
    with publish_server(world["db_url"], world["scoring_address"], key_file=world["key"],
                        follow_interval_seconds=0.1) as (pub, _):
        deadline = time.monotonic() + 60
        while True:
            try:
                live = pub.GetScorecard(ppb.GetScorecardRequest(unit_code="H25", period=AUG,
                                                                scope=tpb.SCOPE_SUBTREE))
                break
            except grpc.RpcError:
                assert time.monotonic() < deadline, "no live scorecard of H25"
                time.sleep(0.05)
        published = pub.CreatePublication(ppb.CreatePublicationRequest(
            request_id="aug", period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE, scope=tpb.SCOPE_SUBTREE),
            metadata=auth(tokens.operator))
        exports = [pub.ExportResults(ppb.ExportResultsRequest(
            format=fmt, ranking=ppb.GetRankingRequest(period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE))).content
            for fmt in (ppb.EXPORT_FORMAT_CSV, ppb.EXPORT_FORMAT_JSON)]
        exports.append(pub.ExportResults(ppb.ExportResultsRequest(
            format=ppb.EXPORT_FORMAT_JSON, publication_id=published.publication.publication_id)).content)
        served = [str(live), str(published), *(e.decode("utf-8") for e in exports)]
        assert json.loads(exports[1])  # the JSON export is what it says
        for text in served:
            assert not any(code in text for code in CODES), text[:200]
