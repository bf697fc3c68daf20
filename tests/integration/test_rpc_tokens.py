"""Page tokens and cursors are the caller's input too (issue 15, item 4): forged, huge or deeply nested
ones are INVALID_ARGUMENT (BAD_PAGE_TOKEN / BAD_CURSOR), never INTERNAL — through the real servers on
SQLite and PostgreSQL (where a number past 2^63 used to overflow a BIGINT parameter)."""

from __future__ import annotations

import base64
import json

import grpc
import pytest
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.types.v1 import types_pb2 as tpb

from services.publish.domain.documents import PeriodRef
from services.publish.domain.paging import fingerprint
from services.shared.grpc_errors import details_from_rpc_error
from tests.helpers import auth
from tests.rpc_suite import running_suite

AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)
ODD_POSITIONS = ["abc", [1], [None, None], [1e30, "x"], [2**63, "x"], ["x", 2**63], 2**63, -1, ["a\x00", 1],
                 [["x"], 1], {"a": 1}, True, [True, "x"]]


def forged(fp: str, position) -> str:
    raw = json.dumps([fp, position]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def suite(db_url, tmp_path):
    with running_suite(db_url, tmp_path) as s:
        yield s


def refused(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    info, _ = details_from_rpc_error(err.value)
    return err.value.code(), info.reason if info else err.value.details()


def test_forged_deep_and_huge_page_tokens_and_cursors_are_invalid_argument(suite):
    publish, scoring = suite.stubs["publish"], suite.stubs["scoring"]
    op = auth(suite.tokens.operator)
    aug = PeriodRef(AUG.kind, AUG.year, AUG.number)
    lists = {
        "ListPublications": (fingerprint("publications", ""),
                             lambda t: publish.ListPublications(ppb.ListPublicationsRequest(page_token=t), timeout=10)),
        "ListScorecards": (fingerprint("scorecards", aug.key, 0, "", 0), lambda t: publish.ListScorecards(
            ppb.ListScorecardsRequest(period=AUG, page_token=t), timeout=10)),
        "ListSubscriptions": (fingerprint("subscriptions"), lambda t: publish.ListSubscriptions(
            ppb.ListSubscriptionsRequest(page_token=t), metadata=op, timeout=10)),
        "ListDeliveries": (fingerprint("deliveries", "portal-1", 0), lambda t: publish.ListDeliveries(
            ppb.ListDeliveriesRequest(subscription_id="portal-1", page_token=t), metadata=op, timeout=10)),
    }
    for name, (fp, call) in lists.items():
        for position in ODD_POSITIONS:
            if name == "ListSubscriptions" and position == "abc":
                continue  # a subscription id: a well-formed position of this list
            assert refused(lambda c=call, p=position, f=fp: c(forged(f, p))) == (
                grpc.StatusCode.INVALID_ARGUMENT, "BAD_PAGE_TOKEN"), (name, position)
        for token in ("[" * 100_000, base64.urlsafe_b64encode(b"[" * 100_000).decode(), "%%%"):
            assert refused(lambda c=call, t=token: c(t)) == (grpc.StatusCode.INVALID_ARGUMENT, "BAD_PAGE_TOKEN"), name
        # a NUL in any text of a request is refused before the handler (see the NUL test below)
        assert refused(lambda c=call: c("\x00")) == (grpc.StatusCode.INVALID_ARGUMENT, "NUL_CHARACTER"), name
    # change-feed cursors past a 64-bit integer, or not digits
    for seq in (2**63, 2**64, 10**30):
        cursor = base64.urlsafe_b64encode(f"c1:{seq}".encode()).decode().rstrip("=")
        assert refused(lambda c=cursor: publish.ListChanges(ppb.ListChangesRequest(cursor=c), timeout=10)) == (
            grpc.StatusCode.INVALID_ARGUMENT, "BAD_CURSOR")
        assert refused(lambda c=cursor: list(publish.StreamChanges(ppb.StreamChangesRequest(cursor=c), timeout=10))) \
            == (grpc.StatusCode.INVALID_ARGUMENT, "BAD_CURSOR")
        assert refused(lambda s=seq: scoring.ListScorecardChanges(
            spb.ListScorecardChangesRequest(after_cursor=str(s)), timeout=10)) == (
            grpc.StatusCode.INVALID_ARGUMENT, "BAD_CURSOR")
    for cursor in ("+5", " 5", "5_0", "٣"):
        assert refused(lambda c=cursor: scoring.ListScorecardChanges(
            spb.ListScorecardChangesRequest(after_cursor=c), timeout=10)) == (
            grpc.StatusCode.INVALID_ARGUMENT, "BAD_CURSOR")
    # the largest valid cursor is simply past the end
    last = base64.urlsafe_b64encode(f"c1:{2**63 - 1}".encode()).decode().rstrip("=")
    assert not publish.ListChanges(ppb.ListChangesRequest(cursor=last), timeout=10).changes
    assert not scoring.ListScorecardChanges(spb.ListScorecardChangesRequest(after_cursor=str(2**63 - 1)),
                                            timeout=10).changes


def test_as_of_outside_the_timestamp_range_is_invalid_argument(suite):
    scoring = suite.stubs["scoring"]
    for seconds, nanos in ((-(2**63), 0), (-62135596801, 0), (253402300800, 0), (1785000000, -1),
                           (1785000000, 10**9), (253402300799, 0)):
        request = spb.GetScorecardRequest(unit_code="H25", period=AUG, rule_version="766/2022")
        request.as_of.seconds, request.as_of.nanos = seconds, nanos
        assert refused(lambda r=request: scoring.GetScorecard(r, timeout=10)) == (
            grpc.StatusCode.INVALID_ARGUMENT, "BAD_TIMESTAMP"), (seconds, nanos)
        batch = spb.BatchGetScorecardsRequest(keys=[spb.ScorecardKey(unit_code="H25", period=AUG)])
        batch.as_of.CopyFrom(request.as_of)
        assert refused(lambda r=batch: scoring.BatchGetScorecards(r, timeout=10))[0] == grpc.StatusCode.INVALID_ARGUMENT


def test_a_nul_character_in_any_text_is_invalid_argument(suite):
    """A NUL in request_id, batch_id, unit_code or publication_id (any text of a request outside its
    lists of records) is refused before it reaches a handler — PostgreSQL cannot store it and no code
    holds one — with the field's path, on both databases. A record's NUL is that record's refusal."""
    from chiso.ingest.v1 import ingest_pb2 as ipb

    from tests.helpers import dossier_record

    ingest, publish, scoring = suite.stubs["ingest"], suite.stubs["publish"], suite.stubs["scoring"]
    src = auth(suite.tokens.national)
    calls = {
        "request_id": lambda: ingest.SyncDossiers(ipb.SyncDossiersRequest(
            request_id="lô\x001", records=[dossier_record("NUL-1")]), metadata=src, timeout=10),
        "batch_id": lambda: ingest.GetBatch(ipb.GetBatchRequest(batch_id="ab\x00"), metadata=src, timeout=10),
        "unit_code": lambda: publish.GetScorecard(ppb.GetScorecardRequest(unit_code="H25\x00", period=AUG),
                                                  timeout=10),
        "publication_id": lambda: publish.GetPublication(ppb.GetPublicationRequest(publication_id="p\x00"),
                                                         timeout=10),
        "unit_code ": lambda: scoring.GetScorecard(spb.GetScorecardRequest(unit_code="\x00", period=AUG),
                                                   timeout=10),
    }
    for field_name, call in calls.items():
        with pytest.raises(grpc.RpcError) as err:
            call()
        info, bad = details_from_rpc_error(err.value)
        assert (err.value.code(), info.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "NUL_CHARACTER"), field_name
        assert [v.field for v in bad.field_violations] == [field_name.strip()]
    # in a batch, the record with a NUL is refused with its field and the others are kept
    result = ingest.SyncDossiers(ipb.SyncDossiersRequest(
        request_id="nul-3", records=[dossier_record("NUL-3"), dossier_record("NUL\x004")]), metadata=src,
        timeout=10).result
    assert result.accepted_count == 1 and [e.index for e in result.errors] == [1]


def test_periods_before_the_first_rule_version_are_a_clear_refusal_in_every_read(suite):
    """1999-01, 2021-06 and 2022-07 have no rule version in force: scoring's scorecard and ranking and
    publish's live ranking say so (FAILED_PRECONDITION NO_RULE_VERSION — permanent, not the retryable
    UNAVAILABLE publish's ranking of 1999-01 once answered); publish has no live scorecard of them
    (NOT_FOUND)."""
    publish, scoring = suite.stubs["publish"], suite.stubs["scoring"]
    for year, month in ((1999, 1), (2021, 6), (2022, 7)):
        p = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=year, number=month)
        for call in (lambda p=p: publish.GetRanking(ppb.GetRankingRequest(period=p, unit_kind=tpb.UNIT_KIND_PROVINCE),
                                                    timeout=10),
                     lambda p=p: scoring.GetRanking(spb.GetRankingRequest(period=p, unit_kind=tpb.UNIT_KIND_PROVINCE),
                                                    timeout=10),
                     lambda p=p: scoring.GetScorecard(spb.GetScorecardRequest(period=p, unit_code="H25"), timeout=10)):
            assert refused(call) == (grpc.StatusCode.FAILED_PRECONDITION, "NO_RULE_VERSION"), (year, month)
        code, _ = refused(lambda p=p: publish.GetScorecard(ppb.GetScorecardRequest(period=p, unit_code="H25"),
                                                          timeout=10))
        assert code == grpc.StatusCode.NOT_FOUND
