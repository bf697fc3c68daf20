"""A scorecard is never built from a catalogue older than the records it counts — through real ingest,
scoring and publish servers on loopback, on SQLite and PostgreSQL (issue 17 item 4).

Seen once right after a catalogue and dossiers were pushed: publish recorded 56.00 for a unit whose
settled score was 50.00, and kept it. Scoring's consumer applied the catalogue's change notice and
then the dossiers' (in ingest's commit order); publish, told the dossiers' month changed, asked for
the scorecard at once — and scoring answered from its cached catalogue, loaded before the offers
arrived (the cache is checked for changes every ``catalogue_cache_seconds``): the new dossiers
counted against the old offers. The catalogue's own notice names only the running month, so
nothing made publish ask for August again. Here the cache window is an hour, so the old catalogue
would be served for certain.

Worked out from portal/2025's table (the version in force for 2026): Sở Tư pháp Phú Thọ (H25.01)
offers procedure 1.004227 online in full, as a service, and receives two of its dossiers online in
August. 3.1 "procedures offered online / performed" = 1/1; 3.2 "online services with an online
dossier / online services" = 1/1. Without the offer (the old catalogue) both have no data.
"""

from __future__ import annotations

from datetime import timedelta

import grpc
from chiso.ingest.v1 import ingest_pb2 as ipb
from chiso.publish.v1 import publish_pb2 as pb
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.types.v1 import types_pb2 as tpb

from tests.helpers import (
    NOW,
    auth,
    dossier_record,
    eventually,
    hanoi,
    ingest_server,
    publish_server,
    scoring_server,
    seed_units,
    setup_tokens,
    signing_key_file,
    ts,
    wait_scored,
)

AUG = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=8)


def dossier(code):
    return dossier_record(code, "H25.01", "1.004227", received=hanoi(2026, 8, 3, 8), due_days=5)


def indicators(card):
    return {i.id: (i.numerator, i.denominator) for i in card.indicators if i.id in ("3.1", "3.2")}


def test_dossiers_pushed_after_a_catalogue_change_are_scored_with_it(db_url, tmp_path):
    with ingest_server(db_url) as (ingest, db, _):
        tokens = setup_tokens(db)
        seed_units(ingest, tokens)
        with scoring_server(db_url, catalogue_cache_seconds=3600) as (scoring, scoring_handle), \
                publish_server(db_url, scoring_handle.address, key_file=signing_key_file(tmp_path)) as (pub, _):
            r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="d0", records=[dossier("d0")]),
                                    metadata=auth(tokens.national))
            assert r.result.accepted_count == 1
            wait_scored(db)
            request = spb.GetScorecardRequest(unit_code="H25.01", period=AUG, scope=tpb.SCOPE_UNIT)
            before = scoring.GetScorecard(request).scorecard  # scoring has loaded its catalogue: no offers
            assert "3.2" not in {i.id for i in before.indicators if i.denominator}

            offer = ipb.UnitProcedureRecord(unit_code="H25.01", procedure_code="1.004227",
                                            online_level=ipb.ONLINE_LEVEL_FULL,
                                            source_time=ts(NOW - timedelta(minutes=5)))
            r = ingest.SyncUnitProcedures(ipb.SyncUnitProceduresRequest(request_id="offer", records=[offer]),
                                          metadata=auth(tokens.national))
            assert r.result.accepted_count == 1
            r = ingest.SyncDossiers(ipb.SyncDossiersRequest(request_id="d1", records=[dossier("d1")]),
                                    metadata=auth(tokens.national))
            assert r.result.accepted_count == 1
            wait_scored(db)

            assert indicators(scoring.GetScorecard(request).scorecard) == {"3.1": (1, 1), "3.2": (1, 1)}

            def published():
                try:
                    card = pub.GetScorecard(pb.GetScorecardRequest(unit_code="H25.01", period=AUG,
                                                                   scope=tpb.SCOPE_UNIT)).scorecard.scorecard
                except grpc.RpcError:
                    return None
                got = {i.id: i for i in card.indicators}
                return card if got["2.1"].denominator == 2 else None

            card = eventually(published, 60.0, what="publish's live scorecard counting both dossiers")
            assert indicators(card) == {"3.1": (1, 1), "3.2": (1, 1)}  # the first one it recorded, not stale
