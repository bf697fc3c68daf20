"""Publish through real ingest, scoring and publish servers on loopback, on SQLite and PostgreSQL.

August 2026, every dossier received 3 Aug 08:00 and due 5 days later (8 Aug 08:00):
  Phú Thọ   H25.01: a1 ended 5 Aug, a2 ended 6 Aug            → on time 2 of 2 (2.1 = 20 × 2/2 = 20)
  Hà Nội    H01.01: b1 ended 5 Aug, b2 ended 12 Aug (late)     → on time 1 of 2 (2.1 = 20 × 1/2 = 10)
  Tuyên Quang H30.01: c1 ended 5 Aug, c2 ended 12 Aug (late)   → the same as Hà Nội
So the provinces rank Phú Thọ 1, then Hà Nội and Tuyên Quang sharing rank 2 (listed by code).
The correction adds c3 (ended on time) to Tuyên Quang: 2 of 3 on time (2.1 = 13.33) and 5.4 rises
too ((3−1)/3 against (2−1)/2), so Tuyên Quang moves ahead of Hà Nội: 1 H25, 2 H30, 3 H01.
"""

from __future__ import annotations

from datetime import datetime

import grpc
import pytest
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.publish.v1 import publish_pb2 as pb
from chiso.types.v1 import types_pb2 as tpb
from google.protobuf import json_format

from services.publish import transport
from services.publish.signing import key_id_of, verify
from services.scoring.domain.periods import HANOI
from services.shared.grpc_errors import details_from_rpc_error
from tests.helpers import (
    auth,
    ended_dossier,
    eventually,
    ingest_server,
    publish_caught_up,
    publish_server,
    scoring_server,
    seed_units,
    setup_tokens,
    signing_key_file,
    unit_record,
)

AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
UNIT, SUBTREE = tpb.SCOPE_UNIT, tpb.SCOPE_SUBTREE


def push(ingest, tokens, request_id, records):
    r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id=request_id, records=records),
                            metadata=auth(tokens.national))
    assert r.result.accepted_count == len(records), r.result


def on_time(pub, unit, scope=SUBTREE, feed=tpb.FEED_LIVE, **kw):
    sc = pub.GetScorecard(pb.GetScorecardRequest(unit_code=unit, period=AUG, scope=scope, feed=feed, **kw)).scorecard
    ind = {i.id: i for i in sc.scorecard.indicators}["2.1"]
    return ind.numerator, ind.denominator


@pytest.fixture
def world(db_url, tmp_path):
    key = signing_key_file(tmp_path)
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        units = [unit_record("H30", "UBND tỉnh Tuyên Quang", 4),
                 unit_record("H30.01", "Sở Tư pháp tỉnh Tuyên Quang", 5, "H30")]
        assert ingest.SyncUnits(ipb.SyncUnitsRequest(request_id="h30", records=units),
                                metadata=auth(tokens.national)).result.accepted_count == 2
        with scoring_server(db_url) as (_scoring, scoring_handle), \
                publish_server(db_url, scoring_handle.address, key_file=key) as (pub, handle):
            push(ingest, tokens, "august", [ended_dossier("a1", "H25.01", 5), ended_dossier("a2", "H25.01", 6),
                                            ended_dossier("b1", "H01.01", 5), ended_dossier("b2", "H01.01", 12),
                                            ended_dossier("c1", "H30.01", 5), ended_dossier("c2", "H30.01", 12)])
            eventually(lambda: on_time(pub, "H30") == (1, 2) and on_time(pub, "H25") == (2, 2)
                       and on_time(pub, "H01") == (1, 2), tolerate=(grpc.RpcError,), what="live results of August")
            eventually(lambda: publish_caught_up(db, scoring_handle.address), tolerate=(grpc.RpcError,),
                       what="both lanes of publish's follower at scoring's feed end")
            yield {"ingest": ingest, "pub": pub, "handle": handle, "tokens": tokens, "db_url": db_url, "key": key,
                   "scoring": scoring_handle, "db": db}


def all_changes(pub, cursor="", page_size=7):
    out = []
    while True:
        page = pub.ListChanges(pb.ListChangesRequest(cursor=cursor, page_size=page_size))
        if not page.changes:
            assert page.next_cursor == cursor
            return out
        out.extend(page.changes)
        assert page.next_cursor == page.changes[-1].cursor
        cursor = page.next_cursor


def key_of(change):
    sc = change.scorecard.scorecard
    return sc.name, sc.scope


def test_live_results_and_the_feed_resumed_from_every_cursor(world):
    pub, ingest, tokens = world["pub"], world["ingest"], world["tokens"]
    # August's live scorecards: each department alone and with its subtree, and its province's subtree
    listed, token = [], ""
    while True:
        page = pub.ListScorecards(pb.ListScorecardsRequest(period=AUG, page_size=4, page_token=token))
        assert page.total_size == 9
        listed += [(s.scorecard.unit.code, s.scorecard.scope, s.feed, s.scorecard.provisional) for s in page.scorecards]
        token = page.next_page_token
        if not token:
            break
    # live results are provisional, even for a month that has ended, until published
    assert listed == [(code, scope, tpb.FEED_LIVE, True) for code, scope in (
        ("H01", SUBTREE), ("H01.01", UNIT), ("H01.01", SUBTREE), ("H25", SUBTREE), ("H25.01", UNIT),
        ("H25.01", SUBTREE), ("H30", SUBTREE), ("H30.01", UNIT), ("H30.01", SUBTREE))]
    assert on_time(pub, "H25.01", UNIT) == (2, 2)

    feed = all_changes(pub)
    cursors = [c.cursor for c in feed]
    assert len(set(cursors)) == len(cursors) and all(c.kind == pb.CHANGE_KIND_LIVE_SCORECARD for c in feed)
    versions = [c.scorecard.version for c in feed]
    assert versions == sorted(versions)
    for i in range(len(feed) + 1):  # resume after every position, including before the first and after the last
        after = cursors[i - 1] if i else ""
        got = pub.ListChanges(pb.ListChangesRequest(cursor=after, page_size=1000))
        assert [c.cursor for c in got.changes] == cursors[i:]
        assert got.next_cursor == (cursors[-1] if i < len(feed) else after)

    # a stream from the middle gets the rest, then what happens next, with nothing skipped or repeated
    middle = len(feed) // 2
    stream = pub.StreamChanges(pb.StreamChangesRequest(cursor=cursors[middle - 1]), timeout=120)
    seen = []
    for message in stream:
        seen.append(message.change)
        if len(seen) == len(feed) - middle:
            break
    assert [c.cursor for c in seen] == cursors[middle:]
    # a late dossier of H25.01 in August: H25.01 alone, H25.01 with subtree and H25 with subtree, each for
    # August, Q3, 2026 and 2026 year-to-date — 12 scorecards move
    push(ingest, tokens, "late", [ended_dossier("a3", "H25.01", 20)])
    fresh = []
    for message in stream:
        fresh.append(message.change)
        if len(fresh) == 12:
            break
    stream.cancel()
    names = sorted(key_of(c) for c in fresh)
    assert names == sorted((f"units/{code}/scorecards/{p}", scope)
                           for code, scope in (("H25.01", UNIT), ("H25.01", SUBTREE), ("H25", SUBTREE))
                           for p in ("2026-08", "2026-Q3", "2026", "2026-YTD"))
    assert on_time(pub, "H25") == (2, 3)
    assert [c.cursor for c in all_changes(pub, cursors[-1])] == [c.cursor for c in fresh]


def test_a_feed_page_stops_before_the_message_limit_and_the_rest_follows(world, monkeypatch):
    # 1,000 live scorecards exceed gRPC's default 4 MiB receive limit (a client would get
    # RESOURCE_EXHAUSTED): a page stops before transport.PAGE_BYTES, here made three changes' worth
    pub = world["pub"]
    feed = all_changes(pub, page_size=1000)
    largest = max(c.ByteSize() for c in feed)
    monkeypatch.setattr(transport, "PAGE_BYTES", 3 * (largest + 8))
    page = pub.ListChanges(pb.ListChangesRequest(page_size=1000))
    assert 1 <= len(page.changes) <= 3 < len(feed)
    assert page.next_cursor == page.changes[-1].cursor
    assert [c.cursor for c in all_changes(pub, page_size=1000)] == [c.cursor for c in feed]
    monkeypatch.setattr(transport, "PAGE_BYTES", 1)  # one change larger than the limit still comes, alone
    assert len(pub.ListChanges(pb.ListChangesRequest(page_size=1000)).changes) == 1


def test_the_feed_survives_a_restart_of_publish(world):
    pub, handle, ingest, tokens = world["pub"], world["handle"], world["ingest"], world["tokens"]
    before = all_changes(pub)
    handle.stop(0)
    push(ingest, tokens, "while-down", [ended_dossier("b3", "H01.01", 4)])  # on time: H01 becomes 2 of 3
    with publish_server(world["db_url"], world["scoring"].address, key_file=world["key"]) as (again, _):
        eventually(lambda: on_time(again, "H01") == (2, 3) and publish_caught_up(world["db"], world["scoring"].address),
                   tolerate=(grpc.RpcError,), what="publish catching up after its restart")
        after = all_changes(again, before[-1].cursor)
        # the 12 scorecards of H01.01 alone, H01.01 with subtree and H01 with subtree, for 4 periods
        assert len(after) == 12
        assert [c.cursor for c in all_changes(again)] == [c.cursor for c in before + after]


def test_an_official_publication_is_signed_frozen_and_corrected(world):
    pub, ingest, tokens = world["pub"], world["ingest"], world["tokens"]
    request = pb.CreatePublicationRequest(request_id="q-aug", period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                          scope=SUBTREE)
    with pytest.raises(grpc.RpcError) as err:  # official results take no default scope
        pub.CreatePublication(pb.CreatePublicationRequest(request_id="no-scope", period=AUG,
                                                          unit_kind=tpb.UNIT_KIND_PROVINCE),
                              metadata=auth(tokens.operator))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_from_rpc_error(err.value)[0].reason == "SCOPE_REQUIRED"
    with pytest.raises(grpc.RpcError) as err:
        pub.CreatePublication(request)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as err:
        pub.CreatePublication(request, metadata=auth(tokens.phu_tho))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert details_from_rpc_error(err.value)[0].reason == "OPERATOR_REQUIRED"
    with pytest.raises(grpc.RpcError) as err:
        today = datetime.now(HANOI)
        running = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=today.year, number=today.month)
        pub.CreatePublication(pb.CreatePublicationRequest(period=running, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                          scope=SUBTREE), metadata=auth(tokens.operator))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # the current month is still running
    assert details_from_rpc_error(err.value)[0].reason == "PERIOD_NOT_ENDED"

    first = pub.CreatePublication(request, metadata=auth(tokens.operator)).publication
    assert first.revision == 1 and first.name == f"publications/{first.publication_id}/revisions/1"
    assert first.title == "Kết quả đánh giá Bộ chỉ số 766 tháng 8/2026 — các tỉnh, thành phố"
    assert [(e.rank, e.unit.code) for e in first.ranking.entries] == [(1, "H25"), (2, "H01"), (2, "H30")]
    assert [s.unit.code for s in first.scorecards] == ["H01", "H25", "H30"]
    assert all(not s.provisional and s.scope == SUBTREE for s in first.scorecards)
    # anyone can verify it with the published key
    (key,) = pub.GetPublicKey(pb.GetPublicKeyRequest()).keys
    assert key.key_id == first.key_id == key_id_of(key.public_key) and key.algorithm == "ed25519"
    assert verify(key.public_key, first.payload, first.signature)
    parsed = json_format.Parse(first.payload, pb.Publication())
    bare = pb.Publication()
    bare.CopyFrom(first)
    bare.ClearField("payload")
    bare.ClearField("signature")
    assert parsed == bare
    # a repeat of the request is answered with the same publication; the id reused for another is refused
    assert pub.CreatePublication(request, metadata=auth(tokens.operator)).publication.payload == first.payload
    other = pb.CreatePublicationRequest(request_id="q-aug", period=AUG, unit_kind=tpb.UNIT_KIND_DEPARTMENT,
                                        scope=SUBTREE)
    with pytest.raises(grpc.RpcError) as err:
        pub.CreatePublication(other, metadata=auth(tokens.operator))
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS

    # data that arrives later moves the live results, never the official ones
    push(ingest, tokens, "c3", [ended_dossier("c3", "H30.01", 6)])
    eventually(lambda: on_time(pub, "H30") == (2, 3), tolerate=(grpc.RpcError,),
               what="the late dossier in live results")
    # without a scope, the official scorecard is the unit alone, as for live ones (the contract's one
    # default): the publication froze provinces with their subtrees, and the answer says so
    with pytest.raises(grpc.RpcError) as err:
        pub.GetScorecard(pb.GetScorecardRequest(unit_code="H30", period=AUG, feed=tpb.FEED_OFFICIAL))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and "(scope SCOPE_SUBTREE)" in err.value.details()
    official = pub.GetScorecard(pb.GetScorecardRequest(unit_code="H30", period=AUG, feed=tpb.FEED_OFFICIAL,
                                                       scope=SUBTREE)).scorecard
    assert official.scorecard.scope == SUBTREE and not official.scorecard.provisional
    assert (official.feed, official.publication_id, official.revision) == (tpb.FEED_OFFICIAL, first.publication_id, 1)
    assert on_time(pub, "H30", feed=tpb.FEED_OFFICIAL) == (1, 2)
    official_ranking = pub.GetRanking(pb.GetRankingRequest(period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                           feed=tpb.FEED_OFFICIAL))
    assert official_ranking.ranking == first.ranking and official_ranking.feed == tpb.FEED_OFFICIAL
    live_ranking = pub.GetRanking(pb.GetRankingRequest(period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE)).ranking
    assert [(e.rank, e.unit.code) for e in live_ranking.entries] == [(1, "H25"), (2, "H30"), (3, "H01")]

    with pytest.raises(grpc.RpcError) as err:
        pub.CorrectPublication(pb.CorrectPublicationRequest(publication_id=first.publication_id),
                               metadata=auth(tokens.operator))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # a correction says why
    reason = "Bổ sung dữ liệu đồng bộ muộn của Sở Tư pháp tỉnh Tuyên Quang"
    second = pub.CorrectPublication(pb.CorrectPublicationRequest(
        request_id="fix-1", publication_id=first.publication_id, reason=reason),
        metadata=auth(tokens.operator)).publication
    assert (second.revision, second.reason, second.publication_id) == (2, reason, first.publication_id)
    assert [(e.rank, e.unit.code) for e in second.ranking.entries] == [(1, "H25"), (2, "H30"), (3, "H01")]
    assert verify(key.public_key, second.payload, second.signature)
    assert on_time(pub, "H30", feed=tpb.FEED_OFFICIAL) == (2, 3)
    assert on_time(pub, "H30", feed=tpb.FEED_OFFICIAL, publication_id=first.publication_id, revision=1) == (1, 2)
    kept = pub.GetPublication(pb.GetPublicationRequest(publication_id=first.publication_id, revision=1)).publication
    assert kept == first
    assert pub.GetPublication(pb.GetPublicationRequest(publication_id=first.publication_id)).publication == second
    listed = pub.ListPublications(pb.ListPublicationsRequest(period=AUG)).publications
    assert [(p.publication_id, p.revision, len(p.scorecards), p.payload) for p in listed] == [
        (first.publication_id, 2, 0, b"")]
    feed = all_changes(pub)
    assert [c.publication_name for c in feed if c.kind == pb.CHANGE_KIND_PUBLICATION] == [first.name, second.name]

    # exports: the signed payload as JSON, a CSV with a byte-order mark in rank order
    as_json = pub.ExportResults(pb.ExportResultsRequest(publication_id=first.publication_id, revision=1,
                                                        format=pb.EXPORT_FORMAT_JSON))
    assert as_json.content == first.payload and as_json.content_type == "application/json"
    as_csv = pub.ExportResults(pb.ExportResultsRequest(publication_id=first.publication_id,
                                                       format=pb.EXPORT_FORMAT_CSV))
    assert as_csv.filename == f"{first.publication_id}-r2.csv" and as_csv.content.startswith(b"\xef\xbb\xbf")
    lines = as_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mã công bố,Lần ban hành,Kỳ đánh giá,Bộ tiêu chí,Hạng,Mã đơn vị,Tên đơn vị,Phạm vi,"
                               "Tổng điểm,Xếp loại,")
    assert [line.split(",")[4:8] for line in lines[1:]] == [
        ["1", "H25", "UBND tỉnh Phú Thọ", "Đơn vị và các đơn vị trực thuộc"],
        ["2", "H30", "UBND tỉnh Tuyên Quang", "Đơn vị và các đơn vị trực thuộc"],
        ["3", "H01", "UBND thành phố Hà Nội", "Đơn vị và các đơn vị trực thuộc"]]
    ranking_csv = pub.ExportResults(pb.ExportResultsRequest(
        ranking=pb.GetRankingRequest(period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE), format=pb.EXPORT_FORMAT_CSV))
    assert [line.split(",")[3:7:3] for line in ranking_csv.content.decode("utf-8-sig").splitlines()[1:]] == [
        ["1", "H25"], ["2", "H30"], ["3", "H01"]]


def test_lists_filter_and_page_and_bad_requests_get_clear_statuses(world):
    pub, tokens = world["pub"], world["tokens"]
    depts = pub.ListScorecards(pb.ListScorecardsRequest(period=AUG, unit_kind=tpb.UNIT_KIND_DEPARTMENT))
    assert [(s.scorecard.unit.code, s.scorecard.scope) for s in depts.scorecards] == [
        ("H01.01", UNIT), ("H01.01", SUBTREE), ("H25.01", UNIT), ("H25.01", SUBTREE), ("H30.01", UNIT),
        ("H30.01", SUBTREE)]
    in_phu_tho = pub.ListScorecards(pb.ListScorecardsRequest(period=AUG, parent_code="H25"))
    assert [(s.scorecard.unit.code, s.scorecard.scope) for s in in_phu_tho.scorecards] == [
        ("H25.01", UNIT), ("H25.01", SUBTREE)]
    first = pub.ListScorecards(pb.ListScorecardsRequest(period=AUG, page_size=2))
    assert first.total_size == 9 and len(first.scorecards) == 2
    with pytest.raises(grpc.RpcError) as err:  # a token of another listing
        pub.ListScorecards(pb.ListScorecardsRequest(period=AUG, unit_kind=tpb.UNIT_KIND_PROVINCE,
                                                    page_token=first.next_page_token))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_from_rpc_error(err.value)[0].reason == "BAD_PAGE_TOKEN"
    bad = [
        (pub.ListChanges, pb.ListChangesRequest(cursor="42"), "BAD_CURSOR"),
        (pub.ListScorecards, pb.ListScorecardsRequest(), "BAD_PERIOD"),
        (pub.GetScorecard, pb.GetScorecardRequest(unit_code="H25", period=tpb.Period(kind=1, year=2026, number=13)),
         "BAD_PERIOD"),
        (pub.ListChanges, pb.ListChangesRequest(page_size=-1), "BAD_PAGE_SIZE"),
        (pub.ExportResults, pb.ExportResultsRequest(publication_id="x"), "FORMAT_REQUIRED"),
    ]
    for method, request, reason in bad:
        with pytest.raises(grpc.RpcError) as err:
            method(request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, reason
        assert details_from_rpc_error(err.value)[0].reason == reason
    with pytest.raises(grpc.RpcError) as err:
        pub.GetScorecard(pb.GetScorecardRequest(unit_code="H99", period=AUG))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        pub.GetPublication(pb.GetPublicationRequest(publication_id="nope"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    for method, request in ((pub.ListSubscriptions, pb.ListSubscriptionsRequest()),
                            (pub.ReplayDeliveries, pb.ReplayDeliveriesRequest(subscription_id="x"))):
        with pytest.raises(grpc.RpcError) as err:
            method(request, metadata=auth(tokens.national))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError) as err:
            method(request)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
