"""End to end across real processes: ingest, scoring, publish and two reference portals (Phú Thọ's and
the Ministry of Justice's) each in its own process on one database. A province's system and a ministry's
system push batches over gRPC; the scorecards scoring serves, publish's national pull and change feed,
and what the portals receive (verified, stored) carry the values worked out here, independently, from
the records the clients sent and the rule tables' text — never by calling the project's scoring code."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction as F
from math import floor
from typing import NamedTuple

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.ingest.v1 import ingest_pb2_grpc
from chiso.publish.v1 import publish_pb2 as ppb
from chiso.publish.v1 import publish_pb2_grpc
from chiso.scoring.v1 import scoring_pb2 as spb
from chiso.scoring.v1 import scoring_pb2_grpc
from chiso.types.v1 import types_pb2 as tpb
from google.protobuf import json_format
from google.type.date_pb2 import Date

from services.publish.receiver import report
from services.shared import access
from services.shared.db import Database
from services.shared.processes import free_port, spawn, wait_healthy
from tests.helpers import (
    NOW,
    auth,
    dossier_record,
    hanoi,
    procedure_record,
    seed_units,
    setup_tokens,
    signing_key_file,
    ts,
    unit_record,
    wait_scored,
)


def _service(procs: list, module: str, prefix: str, db_url: str, log, **extra: str) -> str:
    port = free_port()
    procs.append(spawn(module, {f"{prefix}DATABASE_URL": db_url, f"{prefix}PORT": str(port),
                                f"{prefix}METRICS_PORT": "-1", f"{prefix}LOG_LEVEL": "WARNING",
                                **{prefix + k: v for k, v in extra.items()}}, output=log))  # fmt: skip
    wait_healthy(f"127.0.0.1:{port}", procs[-1])
    return f"127.0.0.1:{port}"


# --- the ministry: Bộ Tư pháp (B01), October 2026 -----------------------------------------------------
#
# October 2026 has ended, so its scorecard is judged as of the month's end, E = 1 November 2026 00:00
# in Hanoi, whenever it is asked for. No public holiday falls between 4 September and 23 November
# 2026, so there a working day is Monday to Friday (20 working days = 4 calendar weeks). The expected
# scorecards below are worked out from the records this test sends and the rule tables' text (SPEC.md
# §4.1 and §4.3 for "766/2022", PORTAL_RULES.md for "portal/2025"; where the text leaves a detail open,
# the measure definitions in services/scoring/rules/*.toml, e.g. that 6.3 counts, above and below the
# line, only dossiers whose processing started in the period), never by calling scoring code.

MINISTRY = "B01"
OCTOBER = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=10)
OCT_1, E = hanoi(2026, 10, 1), hanoi(2026, 11, 1)
H, DAY = timedelta(hours=1), timedelta(days=1)
T_EARLY, T_STALE, T_FINAL = NOW - 4 * H, NOW - 3 * H, NOW - 2 * H  # source times: first < stale < final
REPORTED = 500  # dossiers B01 reported to the national reporting system for October (1.4)

# The procedures B01 manages: code, name, issues a result document, statutory limit (working days),
# applicants are citizens or foreigners.
LLTP, LUAT_SU, CONG_CHUNG, QUOC_TICH, TRONG_TAI, GIAM_DINH, DAU_GIA = (
    "2.000505", "2.000635", "2.000908", "2.002339", "2.000488", "2.000960", "2.000200")
PROCEDURES = [
    (LLTP, "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", True, 10, True),
    (LUAT_SU, "Đăng ký hoạt động của chi nhánh tổ chức hành nghề luật sư nước ngoài", True, 10, False),
    (CONG_CHUNG, "Bổ nhiệm công chứng viên", False, 20, True),
    (QUOC_TICH, "Xác nhận có quốc tịch Việt Nam", False, 5, True),
    (TRONG_TAI, "Thành lập Trung tâm trọng tài", False, 15, False),
    (GIAM_DINH, "Đăng ký hoạt động Văn phòng giám định tư pháp", False, 15, False),
    (DAU_GIA, "Cấp thẻ đấu giá viên", False, 10, True),
]
RESULT_DOCUMENT = {LLTP, LUAT_SU}
# How B01 performs them: online level, fee, payment integrated with DVCQG, eligible for and connected
# to population data, performed (DAU_GIA is withdrawn: it is no longer one of B01's procedures).
OFFERS = [
    (LLTP, pb.ONLINE_LEVEL_FULL, True, True, True, True, True),
    (LUAT_SU, pb.ONLINE_LEVEL_PARTIAL, True, False, False, False, True),
    (CONG_CHUNG, pb.ONLINE_LEVEL_NONE, False, False, True, False, True),
    (QUOC_TICH, pb.ONLINE_LEVEL_PARTIAL, True, True, True, True, True),
    (TRONG_TAI, pb.ONLINE_LEVEL_PARTIAL, True, False, False, False, True),  # no dossier in October
    (GIAM_DINH, pb.ONLINE_LEVEL_NONE, False, False, False, False, True),  # no dossier in October
    (DAU_GIA, pb.ONLINE_LEVEL_FULL, True, True, False, False, False),
]
# Performed: 6; offered online: LLTP, LUAT_SU, QUOC_TICH, TRONG_TAI (4 online services); with a fee:
# the same 4, of which LLTP and QUOC_TICH are integrated with DVCQG's payments; eligible for population
# data: LLTP, CONG_CHUNG, QUOC_TICH, connected: LLTP, QUOC_TICH; applicants citizens: LLTP, CONG_CHUNG,
# QUOC_TICH (DAU_GIA's offer is withdrawn).

class Case(NamedTuple):
    """A dossier's timing case, by SPEC §4.3 and PORTAL_RULES 2.1."""

    in_october: bool  # among October's dossiers: received in October, or carried over unfinished into it
    finished: bool  # finished by E
    late766: bool  # late under 766/2022
    late_portal: bool  # late under portal/2025


CASES = {
    "on_time": Case(True, True, False, False),  # ended before its due time
    "ended_late": Case(True, True, True, True),  # ended after its due time
    "overdue": Case(True, False, True, True),  # unfinished, due time passed before E
    "within_due": Case(True, False, False, False),  # unfinished, due 4–7 November: after E (passed by now)
    "ended_after_e": Case(True, False, False, False),  # ended 2–5 November before its due time: unfinished at E
    "waiting_ok": Case(True, False, False, False),  # waiting on its one supplement request, made before due
    "waiting_late": Case(True, False, True, True),  # waiting on its one supplement request, made after due
    "two_supplements": Case(True, True, True, True),  # ended before due, but two supplement requests
    "unlawful_pause": Case(True, True, True, True),  # ended before due, but paused unlawfully
    "one_supplement": Case(True, True, False, False),  # one supplement request, ended before due
    "carried_overdue": Case(True, False, True, True),  # received in September, unfinished, due in September
    "carried_done": Case(True, True, False, False),  # received in September, ended on time on 1–3 October
    "september": Case(False, True, False, False),  # received and ended in September: not October's
    # QUOC_TICH's dossiers come without a due time: 766/2022 holds them on time; portal/2025 holds them
    # to the statutory limit, 5 working days from receipt
    "nd_quick": Case(True, True, False, False),  # ended within 20 hours
    "nd_slow": Case(True, True, False, True),  # ended 14–18 calendar days (≥ 10 working days) after receipt
    "nd_open_old": Case(True, False, False, True),  # unfinished, received 1–15 October: > 5 working days by E
    "nd_open_new": Case(True, False, False, False),  # unfinished, received 26–31 October: 5 wd end after E
}
DUE_MIX = {"on_time": 40, "ended_late": 12, "overdue": 8, "within_due": 6, "ended_after_e": 4, "waiting_ok": 4,
           "waiting_late": 3, "two_supplements": 3, "unlawful_pause": 2, "one_supplement": 5,
           "carried_overdue": 3, "carried_done": 4, "september": 4}
NO_DUE_MIX = {"nd_quick": 50, "nd_slow": 15, "nd_open_old": 10, "nd_open_new": 10}
PROCEDURE_MIX = {LLTP: 45, LUAT_SU: 15, CONG_CHUNG: 12, QUOC_TICH: 28}
FEES = {LLTP: 200_000, LUAT_SU: 1_000_000, QUOC_TICH: 100_000}
ONLINE, DVCQG, GATEWAY = pb.CHANNEL_ONLINE, pb.PAYMENT_CHANNEL_NATIONAL_PLATFORM, pb.PAYMENT_CHANNEL_LOCAL_GATEWAY


@dataclass
class Sent:
    """A dossier as B01's system last sent it, with the timing case it was built for."""

    rec: pb.DossierRecord
    case: str
    started: datetime

    @property
    def timing(self) -> Case:
        return CASES[self.case]

    @property
    def proc(self) -> str:
        return self.rec.procedure_code


def _whole_feed(publish) -> list:
    """Every entry of publish's change feed, page by page."""
    feed, cursor = [], ""
    while True:
        page = publish.ListChanges(ppb.ListChangesRequest(cursor=cursor, page_size=500), timeout=30)
        if not page.changes:
            return feed
        feed.extend(page.changes)
        cursor = page.next_cursor


def _at(rnd: random.Random, month: int, first: int, last: int) -> datetime:
    return hanoi(2026, month, rnd.randint(first, last), rnd.randint(7, 16), rnd.randint(0, 59))


def _ministry_dossier(rnd: random.Random, number: int, proc: str, case: str) -> Sent:
    due = end = last_supplement = None
    supplements, waiting, unlawful = 0, False, False
    if case == "carried_overdue":
        received = _at(rnd, 9, 21, 24)
        due = received + 5 * DAY
    elif case == "carried_done":
        received = _at(rnd, 9, 28, 30)
        due, end = received + 7 * DAY, _at(rnd, 10, 1, 3)
    elif case == "september":
        received = _at(rnd, 9, 7, 15)
        due, end = received + 5 * DAY, received + rnd.randint(1, 200) * H  # by 24 September
    elif case == "within_due":
        received = _at(rnd, 10, 28, 31)
        due = received + 7 * DAY
    elif case == "ended_after_e":
        received = _at(rnd, 10, 27, 30)
        due, end = received + 10 * DAY, E + rnd.randint(24, 96) * H
    elif case == "nd_quick":
        received = _at(rnd, 10, 1, 28)
        end = received + rnd.randint(1, 20) * H
    elif case == "nd_slow":
        received = _at(rnd, 10, 1, 12)
        end = received + rnd.randint(14, 18) * DAY
    elif case == "nd_open_old":
        received = _at(rnd, 10, 1, 15)
    elif case == "nd_open_new":
        received = _at(rnd, 10, 26, 31)
    else:  # received 1–20 October, due 5 days later (by 25 October)
        received = _at(rnd, 10, 1, 20)
        due = received + 5 * DAY
        if case == "on_time":
            end = received + rnd.randint(1, 119) * H
        elif case == "ended_late":
            end = due + rnd.randint(1, 120) * H
        elif case == "waiting_ok":
            supplements, waiting, last_supplement = 1, True, received + rnd.randint(1, 96) * H
        elif case == "waiting_late":
            supplements, waiting, last_supplement = 1, True, due + rnd.randint(1, 72) * H
        elif case == "two_supplements":
            supplements, last_supplement, end = 2, received + DAY, received + rnd.randint(48, 110) * H
        elif case == "unlawful_pause":
            unlawful, end = True, received + rnd.randint(1, 110) * H
        elif case == "one_supplement":
            supplements, last_supplement, end = 1, received + DAY, received + rnd.randint(30, 110) * H
    if case in ("within_due", "nd_open_new", "ended_after_e"):
        started = received + rnd.randint(0, 30 if end else 60) * H  # some start in November
    else:
        started = received + rnd.randint(0, 45) * timedelta(minutes=1)
    online_offer = proc != CONG_CHUNG
    rec = pb.DossierRecord(
        code=f"BTP-{number:04d}", unit_code=MINISTRY, procedure_code=proc,
        channel=ONLINE if online_offer and rnd.random() < 0.4 else rnd.choice([pb.CHANNEL_IN_PERSON] * 3 + [
            pb.CHANNEL_POSTAL]),
        received_time=ts(received), processing_start_time=ts(started), source_time=ts(T_FINAL),
        supplement_count=supplements, unlawful_pause=unlawful, processing_state=pb.PROCESSING_STATE_PROCESSING,
        digitised=rnd.random() < 0.7, reused_digitised_data=rnd.random() < 0.35,
        linked_to_data_store=rnd.random() < 0.5, petitioned=rnd.random() < 0.05,
        # Bổ nhiệm công chứng viên never uses population data, a verified e-ID or the data store
        component_from_data_store=online_offer and rnd.random() < 0.2,
        verified_eid=online_offer and rnd.random() < 0.3,
        used_population_data=rnd.random() < {LLTP: 0.55, QUOC_TICH: 0.55, LUAT_SU: 0.1, CONG_CHUNG: 0}[proc],
    )  # fmt: skip
    if due is not None:
        rec.due_time.CopyFrom(ts(due))
    if last_supplement is not None:
        rec.last_supplement_time.CopyFrom(ts(last_supplement))
    if waiting:
        rec.processing_state = pb.PROCESSING_STATE_WAITING_SUPPLEMENT
    if end is not None:
        rec.end_time.CopyFrom(ts(end))
        rec.processing_state = pb.PROCESSING_STATE_UNSPECIFIED
        rec.end_state = rnd.choices([pb.END_STATE_COMPLETED, pb.END_STATE_RESULT_RETURNED, pb.END_STATE_REJECTED,
                                     pb.END_STATE_STOPPED, pb.END_STATE_WITHDRAWN], [5, 10, 2, 1, 1])[0]
    if CASES[case].finished:  # finished by E: a result, its rating
        rec.electronic_result = rnd.random() < 0.7
        rec.synced_with_result_file = rec.electronic_result and rnd.random() < 0.85
        rec.result_to_data_store = rnd.random() < 0.15
        rec.rating = rnd.choices([pb.RATING_SATISFIED, pb.RATING_NEUTRAL, pb.RATING_DISSATISFIED,
                                  pb.RATING_UNSPECIFIED], [6, 2, 1, 1])[0]
    if proc in (LLTP, QUOC_TICH) and rnd.random() < 0.15:
        rec.fee_all_zero = True  # exempt: a fee list of zeros
    elif proc in FEES:
        rec.fee_amount = FEES[proc]
        if rnd.random() < 0.55:
            rec.paid_online, rec.payment_channel = True, rnd.choice([DVCQG, DVCQG, GATEWAY])
    return Sent(rec, case, started)


def _ministry_dossiers(rnd: random.Random, count: int) -> list[Sent]:
    out = []
    for number in range(count):
        proc = rnd.choices(list(PROCEDURE_MIX), list(PROCEDURE_MIX.values()))[0]
        mix = NO_DUE_MIX if proc == QUOC_TICH else DUE_MIX
        out.append(_ministry_dossier(rnd, number, proc, rnd.choices(list(mix), list(mix.values()))[0]))
    return out


def _first_version(final: pb.DossierRecord) -> pb.DossierRecord:
    """What the source sent before the dossier ended: still being processed, digitised the other way."""
    rec = pb.DossierRecord()
    rec.CopyFrom(final)
    for name in ("end_time", "end_state", "electronic_result", "synced_with_result_file", "result_to_data_store",
                 "rating"):
        rec.ClearField(name)
    rec.processing_state = pb.PROCESSING_STATE_PROCESSING
    rec.digitised = not final.digitised
    rec.source_time.CopyFrom(ts(T_EARLY))
    return rec


def _stale_version(final: pb.DossierRecord) -> pb.DossierRecord:
    """An older update arriving late: it must change nothing."""
    rec = pb.DossierRecord()
    rec.CopyFrom(final)
    rec.digitised, rec.reused_digitised_data = not final.digitised, not final.reused_digitised_data
    rec.rating, rec.petitioned = pb.RATING_DISSATISFIED, True
    rec.source_time.CopyFrom(ts(T_STALE))
    return rec


SEVEN_PARTS = list(range(pb.PROCEDURE_PART_NAME, pb.PROCEDURE_PART_AGENCY + 1))
ALL_PARTS = list(range(pb.PROCEDURE_PART_NAME, pb.PROCEDURE_PART_LEGAL_BASIS + 1))


def _ministry_publications() -> list[pb.PublicationRecord]:
    """Publication decisions (a ministry: decided ≥ 20 working days before the legal text takes effect,
    listed within 10 working days of the decision)."""
    rows = [  # procedure, decision, decided, legal text effective, listed, parts of the listing
        # D1 Mon 5 Oct; effective Mon 16 Nov, 20 wd before = Mon 19 Oct: on time. Listed Thu 8 Oct (by 19 Oct).
        (LLTP, "101/QĐ-BTP", date(2026, 10, 5), date(2026, 11, 16), hanoi(2026, 10, 8, 9), ALL_PARTS),
        # D2 Mon 12 Oct; effective Mon 2 Nov, 20 wd before = Mon 5 Oct: late. Listed Thu 29 Oct, due Mon 26 Oct:
        # late. The listing has the seven parts portal/2025 asks for, not all eleven.
        (LUAT_SU, "108/QĐ-BTP", date(2026, 10, 12), date(2026, 11, 2), hanoi(2026, 10, 29, 9), SEVEN_PARTS),
        # D3 Tue 20 Oct, amends LLTP; effective Mon 9 Nov, 20 wd before = Mon 12 Oct: late. Not listed (due 3 Nov).
        (LLTP, "115/QĐ-BTP", date(2026, 10, 20), date(2026, 11, 9), None, ALL_PARTS),
        # D4 Wed 21 Oct; effective Mon 23 Nov, 20 wd before = Mon 26 Oct: on time. Not listed (due 4 Nov).
        (QUOC_TICH, "117/QĐ-BTP", date(2026, 10, 21), date(2026, 11, 23), None, ALL_PARTS),
        # D5 Thu 1 Oct; effective Thu 5 Nov, 20 wd before = Thu 8 Oct: on time. Not listed, due Thu 15 Oct.
        (GIAM_DINH, "99/QĐ-BTP", date(2026, 10, 1), date(2026, 11, 5), None, ALL_PARTS),
        # D6 Mon 28 Sep (September's decision); listed Fri 9 Oct, due Mon 12 Oct: on time.
        (CONG_CHUNG, "95/QĐ-BTP", date(2026, 9, 28), date(2026, 10, 23), hanoi(2026, 10, 9, 9), ALL_PARTS),
        # D7 Mon 14 Sep, listed Fri 18 Sep (both September's); the listing lacks the agency, has the fees.
        (TRONG_TAI, "80/QĐ-BTP", date(2026, 9, 14), date(2026, 10, 15), hanoi(2026, 9, 18, 9),
         [p for p in SEVEN_PARTS if p != pb.PROCEDURE_PART_AGENCY] + [pb.PROCEDURE_PART_FEES]),
    ]
    out = []
    for proc, number, decided, effective, listed, parts in rows:
        rec = pb.PublicationRecord(unit_code=MINISTRY, procedure_code=proc, decision_number=number,
                                   decision_date=Date(year=decided.year, month=decided.month, day=decided.day),
                                   legal_effective_date=Date(year=effective.year, month=effective.month,
                                                             day=effective.day),
                                   parts=parts, source_time=ts(T_FINAL))
        if listed is not None:
            rec.listed_time.CopyFrom(ts(listed))
        out.append(rec)
    return out


def _ministry_petitions() -> list[pb.PetitionRecord]:
    """Petitions. 766/2022 judges them by due and resolved times and ratings; portal/2025 by its stage
    limits in working days (refusal 2, first supplement 5, ready for publication 15 from receipt or the
    last transfer, publication 2 from readiness) and likes, dislikes, repeats."""

    def petition(code, received, **times):
        rec = pb.PetitionRecord(code=code, unit_code=MINISTRY, category=times.pop("category", 1),
                                received_time=ts(received), source_time=ts(T_FINAL))
        for name, value in times.items():
            if isinstance(value, datetime):
                getattr(rec, name).CopyFrom(ts(value))
            else:
                setattr(rec, name, value)
        return rec

    sat, neutral, dissat = pb.RATING_SATISFIED, pb.RATING_NEUTRAL, pb.RATING_DISSATISFIED
    return [
        # Q1 Mon 5 Oct: due 19 Oct, resolved 15 Oct; ready 14 Oct (limit 26 Oct), published 15 Oct (limit 16 Oct)
        petition("PAKN-01", hanoi(2026, 10, 5, 9), due_time=hanoi(2026, 10, 19, 9),
                 resolved_time=hanoi(2026, 10, 15, 9), ready_for_publication_time=hanoi(2026, 10, 14, 9),
                 published_time=hanoi(2026, 10, 15, 9), likes=3, rating=sat),
        # Q2 Thu 1 Oct: due 15 Oct, resolved 22 Oct (late); ready 26 Oct, limit Thu 22 Oct 10:00 (late);
        # 5 dislikes, 1 like
        petition("PAKN-02", hanoi(2026, 10, 1, 10), due_time=hanoi(2026, 10, 15, 10),
                 resolved_time=hanoi(2026, 10, 22, 10), ready_for_publication_time=hanoi(2026, 10, 26, 10),
                 published_time=hanoi(2026, 10, 27, 10), likes=1, dislikes=5, rating=dissat),
        # Q3 Mon 12 Oct: refused Tue 13 Oct (limit Wed 14 Oct), due 26 Oct
        petition("PAKN-03", hanoi(2026, 10, 12, 9), due_time=hanoi(2026, 10, 26, 9),
                 resolved_time=hanoi(2026, 10, 13, 10), refused_time=hanoi(2026, 10, 13, 10), rating=neutral,
                 category=2),
        # Q4 Tue 20 Oct: first supplement request 22 Oct (limit 27 Oct), in process at E (ready limit 10 Nov);
        # due 10 Nov; one like, one dislike (not more dislikes than likes)
        petition("PAKN-04", hanoi(2026, 10, 20, 9), due_time=hanoi(2026, 11, 10, 9),
                 first_supplement_time=hanoi(2026, 10, 22, 9), likes=1, dislikes=1),
        # Q5 Fri 2 Oct: in process at E, ready limit Fri 23 Oct passed (late); due 23 Oct, unresolved;
        # complained about again
        petition("PAKN-05", hanoi(2026, 10, 2, 9), due_time=hanoi(2026, 10, 23, 9), repeat_complaint=True),
        # Q6 Mon 21 Sep: ready Fri 9 Oct (limit Mon 12 Oct), published Mon 12 Oct (limit Tue 13 Oct): handled
        # in October, received in September; due 12 Oct 17:00, resolved 12 Oct 09:00
        petition("PAKN-06", hanoi(2026, 9, 21, 9), due_time=hanoi(2026, 10, 12, 17),
                 resolved_time=hanoi(2026, 10, 12, 9), ready_for_publication_time=hanoi(2026, 10, 9, 9),
                 published_time=hanoi(2026, 10, 12, 9)),
        # Q7 Thu 8 Oct, transferred Mon 19 Oct: in process at E, ready limit 15 wd after the transfer = 9 Nov
        # (15 wd after receipt, 29 Oct, would have passed); due 20 Nov
        petition("PAKN-07", hanoi(2026, 10, 8, 9), due_time=hanoi(2026, 11, 20, 9),
                 last_transfer_time=hanoi(2026, 10, 19, 10), transfer_count=1),
        # Q8 Mon 26 Oct: ready 26 Oct 16:00, published Fri 30 Oct (limit Wed 28 Oct 16:00: late); due 9 Nov
        petition("PAKN-08", hanoi(2026, 10, 26, 8), due_time=hanoi(2026, 11, 9, 8),
                 resolved_time=hanoi(2026, 10, 30, 10), ready_for_publication_time=hanoi(2026, 10, 26, 16),
                 published_time=hanoi(2026, 10, 30, 10), rating=sat),
        # Q9 Tue 15 Sep: due, resolved and published in September — none of October's
        petition("PAKN-09", hanoi(2026, 9, 15, 9), due_time=hanoi(2026, 9, 29, 9),
                 resolved_time=hanoi(2026, 9, 28, 9), ready_for_publication_time=hanoi(2026, 9, 28, 9),
                 published_time=hanoi(2026, 9, 30, 9), rating=sat),
    ]


def _ministry_token(db: Database) -> str:
    """A token for B01's one-stop system, granted B01 only."""
    with db.write() as conn:
        access.ensure_principal(conn, "mot-cua-bo-tu-phap", access.SOURCE, "Hệ thống một cửa điện tử Bộ Tư pháp")
        access.set_grants(conn, "mot-cua-bo-tu-phap", [MINISTRY])
        return access.issue_token(conn, "mot-cua-bo-tu-phap").token


def _push_ministry(ingest, national: str, token: str) -> list[Sent]:
    """B01's catalogue and October, pushed over gRPC by B01's system (the unit itself comes from the
    national catalogue); returns the dossiers as last sent."""
    r = ingest.SyncUnits(pb.SyncUnitsRequest(request_id="btp-unit", records=[
        unit_record(MINISTRY, "Bộ Tư pháp", tpb.UNIT_KIND_MINISTRY)]), metadata=auth(national), timeout=30)
    assert r.result.accepted_count == 1, r
    meta = auth(token)
    r = ingest.SyncProcedures(pb.SyncProceduresRequest(request_id="btp-procs", records=[
        procedure_record(code, name, MINISTRY, issues_result_document=doc, statutory_days=days,
                         applicants_are_individuals=people) for code, name, doc, days, people in PROCEDURES]),
        metadata=meta, timeout=30)
    assert r.result.accepted_count == len(PROCEDURES), r
    r = ingest.SyncUnitProcedures(pb.SyncUnitProceduresRequest(request_id="btp-offers", records=[
        pb.UnitProcedureRecord(unit_code=MINISTRY, procedure_code=code, online_level=level, has_fee=fee,
                               online_service_status=pb.ONLINE_SERVICE_STATUS_ACTIVE if level != pb.ONLINE_LEVEL_NONE
                               else pb.ONLINE_SERVICE_STATUS_UNSPECIFIED, payment_integrated=integrated,
                               population_data_eligible=eligible, population_data_connected=connected,
                               withdrawn=not active, source_time=ts(T_FINAL))
        for code, level, fee, integrated, eligible, connected, active in OFFERS]), metadata=meta, timeout=30)
    assert r.result.accepted_count == len(OFFERS), r
    r = ingest.SyncPublications(pb.SyncPublicationsRequest(request_id="btp-pubs", records=_ministry_publications()),
                                metadata=meta, timeout=30)
    assert r.result.accepted_count == 7, r
    r = ingest.SyncPetitions(pb.SyncPetitionsRequest(request_id="btp-pakn", records=_ministry_petitions()),
                             metadata=meta, timeout=30)
    assert r.result.accepted_count == 9, r
    r = ingest.SyncReportedTotals(pb.SyncReportedTotalsRequest(request_id="btp-reported", records=[
        pb.ReportedTotalRecord(unit_code=MINISTRY, year=2026, month=10, dossiers_received=REPORTED,
                               source_time=ts(T_FINAL))]), metadata=meta, timeout=30)
    assert r.result.accepted_count == 1, r

    rnd = random.Random(766)
    sent = _ministry_dossiers(rnd, 480)
    # A quarter of the dossiers that ended by E were first sent unfinished (status changes); a few others
    # get an older update late, which must change nothing.
    updated = [s for s in sent if s.timing.finished and s.rec.received_time.seconds >= OCT_1.timestamp()
               and rnd.random() < 0.25]
    changed = {s.rec.code for s in updated}
    stale = [s for s in sent if s.rec.code not in changed and rnd.random() < 0.08]
    first = [_first_version(s.rec) if s.rec.code in changed else s.rec for s in sent]
    rnd.shuffle(first)
    batches = [first[i::3] for i in range(3)]
    # a record for a unit outside the grant (a Phú Thọ department) is refused and changes nothing
    batches[0].append(dossier_record("BTP-OUT", "H25.01", "1.004227", received=hanoi(2026, 10, 5, 9), t=T_FINAL))
    for b, records in enumerate(batches):
        r = ingest.SyncDossiers(pb.SyncDossiersRequest(request_id=f"btp-oct-{b}", records=records), metadata=meta,
                                timeout=30)
        refused = [(e.index, e.reason) for e in r.result.errors]
        assert refused == ([(len(records) - 1, "OUT_OF_GRANT")] if b == 0 else []), refused
        assert r.result.accepted_count == len(records) - (b == 0)
    r = ingest.SyncDossiers(pb.SyncDossiersRequest(request_id="btp-oct-changes", records=[s.rec for s in updated]),
                            metadata=meta, timeout=30)
    assert r.result.accepted_count == len(updated) > 20, r.result.errors
    r = ingest.SyncDossiers(pb.SyncDossiersRequest(request_id="btp-oct-stale", records=[
        _stale_version(s.rec) for s in stale]), metadata=meta, timeout=30)
    assert r.result.stale_count == len(stale) > 10 and r.result.accepted_count == 0
    return sent


def _points(maximum: int, rate: F, threshold: F = F(1)) -> F:
    """SPEC §4.1 and PORTAL_RULES: points = max × min(1, rate / threshold) ("linear": threshold 100%)."""
    return maximum * min(F(1), rate / threshold)


def _count(items, predicate) -> int:
    return sum(1 for s in items if predicate(s))


# Expected: indicator id → (numerator, denominator, exact points); None = not applicable (N/A, 0 points).


def _expected_766(sent: list[Sent]) -> dict[str, tuple[int, int, F] | None]:
    """B01, October 2026, under "766/2022" (SPEC.md §4.1 table; threshold targets of 2025 carried forward)."""
    october = [s for s in sent if s.timing.in_october]  # received in October or carried over unfinished into it
    n = len(october)
    finished = [s for s in october if s.timing.finished]  # finished by E
    on_time = _count(october, lambda s: not s.timing.late766)
    of_online = [s for s in october if s.proc in (LLTP, LUAT_SU, QUOC_TICH, TRONG_TAI)]  # offered online
    with_fee = [s for s in october if s.rec.fee_amount > 0]
    digitised = [s for s in october if s.rec.digitised]
    of_connected = [s for s in october if s.proc in (LLTP, QUOC_TICH)]  # connected to population data
    bad = _count(october, lambda s: s.rec.rating == pb.RATING_DISSATISFIED or s.rec.petitioned or s.timing.late766)
    # 3.2 and 3.4 count procedures: the seeded mix has online dossiers, and online payments, for three of
    # the four online, fee-bearing procedures (none for TRONG_TAI, which had no dossier)
    assert {s.proc for s in october if s.rec.channel == ONLINE} == {LLTP, LUAT_SU, QUOC_TICH}
    assert {s.proc for s in with_fee if s.rec.paid_online} == {LLTP, LUAT_SU, QUOC_TICH}
    online = _count(of_online, lambda s: s.rec.channel == ONLINE)
    paid = _count(with_fee, lambda s: s.rec.paid_online)
    e_result = _count(finished, lambda s: s.rec.electronic_result)
    reused = _count(october, lambda s: s.rec.reused_digitised_data)
    linked = _count(digitised, lambda s: s.rec.linked_to_data_store)
    population = _count(of_connected, lambda s: s.rec.used_population_data)
    assert n < REPORTED
    return {
        # I. 1.1: decisions of October made ≥ 20 wd before their legal text: D1, D4, D5 of D1–D5
        "1.1": (3, 5, _points(6, F(3, 5))),
        # 1.2: of the 5 procedures decided in October, listed within 10 wd: D1 only
        "1.2": (1, 5, _points(4, F(1, 5))),
        # 1.3: listings D1, D2, D6, D7; every one of the 11 parts: D1, D6
        "1.3": (2, 4, _points(2, F(2, 4))),
        # 1.4: synchronised / max(reported, synchronised)
        "1.4": (n, REPORTED, _points(6, F(n, REPORTED))),
        # II. 2.1: on time / received (late: ended after due, overdue at E, >1 supplement, unlawful pause,
        # waiting on one supplement requested after due)
        "2.1": (on_time, n, _points(20, F(on_time, n))),
        # III. 3.1: offered online / performed = 4/6, threshold 80%
        "3.1": (4, 6, _points(2, F(4, 6), F(8, 10))),
        # 3.2: online services with an online dossier in October / online services = 3/4
        "3.2": (3, 4, _points(4, F(3, 4))),
        # 3.3: received online / received, for procedures offered online; threshold 50%
        "3.3": (online, len(of_online), _points(6, F(online, len(of_online)), F(1, 2))),
        # 3.4: fee-bearing procedures with an online payment / fee-bearing procedures = 3/4
        "3.4": (3, 4, _points(2, F(3, 4))),
        # 3.5: integrated with DVCQG's payments / fee-bearing = 2/4, threshold 80%
        "3.5": (2, 4, _points(2, F(2, 4), F(8, 10))),
        # 3.6: fee-bearing dossiers paid online / fee-bearing dossiers (all-zero fee lists carry no fee)
        "3.6": (paid, len(with_fee), _points(6, F(paid, len(with_fee)))),
        # IV. 4.1: finished (by E) with an electronic result / finished
        "4.1": (e_result, len(finished), _points(6, F(e_result, len(finished)))),
        # 4.2: digitised / received, threshold 80%
        "4.2": (len(digitised), n, _points(4, F(len(digitised), n), F(8, 10))),
        # 4.3: reused digitised data / received
        "4.3": (reused, n, _points(2, F(reused, n))),
        # 4.4: no procedure of B01 certifies copies: N/A
        "4.4": None,
        # 4.5: digitised and linked to the applicant's data store / digitised
        "4.5": (linked, len(digitised), _points(4, F(linked, len(digitised)))),
        # 4.6: connected / eligible = 2/3
        "4.6": (2, 3, _points(2, F(2, 3))),
        # 4.7: used population data / dossiers of connected procedures
        "4.7": (population, len(of_connected), _points(2, F(population, len(of_connected)))),
        # V. 5.2: due in October Q1, Q2, Q3, Q5, Q6; resolved by the due time Q1, Q3, Q6
        "5.2": (3, 5, _points(6, F(3, 5))),
        # 5.3: October's rated petitions Q1 (satisfied), Q2, Q3, Q8 (satisfied)
        "5.3": (2, 4, _points(6, F(2, 4))),
        # 5.4: (received − dissatisfied, petitioned about or late) / received, threshold 90%
        "5.4": (n - bad, n, _points(6, F(n - bad, n), F(9, 10))),
    }


def _expected_portal(sent: list[Sent]) -> dict[str, tuple[int, int, F] | None]:
    """B01, October 2026, under "portal/2025" (PORTAL_RULES.md), the version in force for 2026."""
    october = [s for s in sent if s.timing.in_october]
    n = len(october)
    on_time = _count(october, lambda s: not s.timing.late_portal)
    sync_rate = F(n, max(REPORTED, n))  # 1.4's rate
    # 3.3: online dossiers; of procedures that require a result document only those with an e-result
    online = _count(october, lambda s: s.rec.channel == ONLINE
                    and (s.proc not in RESULT_DOCUMENT or s.rec.electronic_result))
    of_result_doc = [s for s in october if s.proc in RESULT_DOCUMENT]
    with_file = _count(of_result_doc, lambda s: s.rec.synced_with_result_file)
    digitised = _count(october, lambda s: s.rec.digitised
                       and (s.proc not in RESULT_DOCUMENT or s.rec.electronic_result))
    reused = _count(october, lambda s: s.rec.reused_digitised_data)
    store = _count(october, lambda s: s.rec.component_from_data_store or s.rec.result_to_data_store)

    def population(s: Sent) -> bool:  # 4.7: a verified e-ID, data from the data store, or population data
        return s.rec.used_population_data or s.rec.verified_eid or s.rec.component_from_data_store

    # 4.6: of the procedures for citizens (LLTP, CONG_CHUNG, QUOC_TICH), those with such a dossier
    assert {s.proc for s in october if population(s)} & {LLTP, CONG_CHUNG, QUOC_TICH} == {LLTP, QUOC_TICH}
    # 6.1: fee-bearing procedures with dossiers with fee data (a fee or an all-zero fee list) — LLTP,
    # LUAT_SU, QUOC_TICH — of the fee-bearing procedures LLTP, LUAT_SU, QUOC_TICH, TRONG_TAI.
    # 6.2 (PORTAL_RULES.md corrected 2026-12-05): fee-bearing procedures with a successful online payment,
    # whatever the fee data — LLTP, LUAT_SU, QUOC_TICH — of the same four (it was 3/3 against the
    # procedures that had fee dossiers).
    assert {s.proc for s in october if s.rec.fee_amount or s.rec.fee_all_zero} == {LLTP, LUAT_SU, QUOC_TICH}
    assert {s.proc for s in october if s.rec.paid_online} == {LLTP, LUAT_SU, QUOC_TICH}
    # 6.3: of the dossiers whose processing started in October with a (non-zero) fee, those paid online
    # through DVCQG or a ministry gateway
    started = [s for s in october if OCT_1 <= s.started < E and s.rec.fee_amount > 0]
    paid = _count(started, lambda s: s.rec.paid_online and s.rec.payment_channel in (DVCQG, GATEWAY))
    bad = _count(october, lambda s: s.timing.late_portal or s.rec.petitioned or s.rec.rating == pb.RATING_DISSATISFIED)
    used = _count(october, population)
    return {
        # 1 (all linear). 1.1: distinct procedures decided in October, on time if every October decision
        # was: LLTP (D1 on time, D3 late), LUAT_SU (late), QUOC_TICH, GIAM_DINH → 2/4
        "1.1": (2, 4, _points(6, F(2, 4))),
        # 1.2: listed in October or listing due in October: D1 (on time), D2 (late), D5 (not listed by its
        # due 15 Oct), D6 (listed 9 Oct, due 12 Oct: on time) → 2/4
        "1.2": (2, 4, _points(4, F(2, 4))),
        # 1.3: listings with the seven parts: D1, D2, D6 of D1, D2, D6, D7
        "1.3": (3, 4, _points(2, F(3, 4))),
        "1.4": (n, REPORTED, _points(6, sync_rate)),
        # 2.1: (finished on time + unfinished within due, or within the statutory limit when no due time)
        # / received
        "2.1": (on_time, n, _points(20, F(on_time, n))),
        # 3 (fitted split): 3.1 A = 4/6 at 80%; 3.2 B = 3/4; 3.3 C = online / received × 1.4's rate at 50%
        "3.1": (4, 6, _points(2, F(4, 6), F(8, 10))),
        "3.2": (3, 4, _points(4, F(3, 4))),
        "3.3": (online, n, _points(6, F(online, n) * sync_rate, F(1, 2))),
        # 4.1: synchronised with a result file / dossiers of procedures that issue a result document
        "4.1": (with_file, len(of_result_doc), _points(6, F(with_file, len(of_result_doc)))),
        # 4.2 (linear): digitised (with an e-result where one is required) / dossiers
        "4.2": (digitised, n, _points(4, F(digitised, n))),
        # 4.3: reused digitised data / received, threshold 80%
        "4.3": (reused, n, _points(2, F(reused, n), F(8, 10))),
        # 4.4: full points everywhere (B01 manages no communes: 0/0)
        "4.4": (0, 0, F(2)),
        # 4.5: a component from, or the result to, the data store / received
        "4.5": (store, n, _points(4, F(store, n))),
        "4.6": (2, 3, _points(2, F(2, 3))),
        "4.7": (used, n, _points(2, F(used, n))),
        # 5.2: handled in October or in process at E: Q1, Q2, Q3, Q6, Q8 handled, Q4, Q5, Q7 in process;
        # within every stage limit: Q1, Q3, Q6, Q4, Q7
        "5.2": (5, 8, _points(6, F(5, 8))),
        # 5.3: first received in October Q1–Q5, Q7, Q8 less Q2 (dislikes), Q5 (late, repeated), Q8 (late)
        "5.3": (4, 7, _points(6, F(4, 7))),
        "5.4": (n - bad, n, _points(6, F(n - bad, n), F(9, 10))),
        # 6: min(2, 2·X/0.8) + min(2, 2·Y/0.8) + 6·Z
        "6.1": (3, 4, _points(2, F(3, 4), F(8, 10))),
        "6.2": (3, 4, _points(2, F(3, 4), F(8, 10))),  # 2 × (3/4)/0.8 = 1.875
        "6.3": (paid, len(started), _points(6, F(paid, len(started)))),
    }


def _total(expected: dict) -> F:
    return sum((e[2] for e in expected.values() if e), F(0))


def _shown(total: F) -> str:
    """Rounded half-up to 2 decimals, as shown (SPEC §4.3)."""
    hundredths = floor(total * 100 + F(1, 2))
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def _band(shown: str) -> int:
    value = Decimal(shown)
    for floor_value, band in ((90, tpb.CLASSIFICATION_EXCELLENT), (80, tpb.CLASSIFICATION_GOOD),
                              (70, tpb.CLASSIFICATION_FAIR), (50, tpb.CLASSIFICATION_AVERAGE)):
        if value >= floor_value:
            return band
    return tpb.CLASSIFICATION_WEAK


def _exact(ratio) -> F:
    return F(int(ratio.numerator), int(ratio.denominator))


def _assert_card(card, expected: dict, rule_version: str) -> None:
    """Every scored indicator's counts and exact points, the N/A and analysis-only ones, the exact and
    shown total and the classification."""
    assert (card.unit.code, card.unit.name, card.rule_version) == (MINISTRY, "Bộ Tư pháp", rule_version)
    got = {i.id: i for i in card.indicators}
    assert set(got) == set(expected) | {"2.2", "5.1"}
    analysis = {i for i, r in got.items() if r.status == tpb.INDICATOR_STATUS_ANALYSIS_ONLY}
    assert analysis == {"2.2", "5.1"}  # processing times and petition categories: never points
    na = {i for i, r in got.items() if r.status == tpb.INDICATOR_STATUS_NOT_APPLICABLE}
    assert na == {i for i, e in expected.items() if e is None}
    assert {i: (got[i].numerator, got[i].denominator, _exact(got[i].points_exact)) for i in expected} == {
        i: e or (0, 0, F(0)) for i, e in expected.items()}
    total = _total(expected)  # the sum of the indicators' points; classified on the shown total
    assert (_exact(card.total_exact), card.total.value, card.classification) == (
        total, _shown(total), _band(_shown(total)))


def test_pushed_batches_become_the_expected_scorecards(db_url, tmp_path):
    db = Database(db_url)
    tokens = setup_tokens(db)
    log_path = tmp_path / "services.log"  # every process's warnings and errors, shown if the test fails
    log = log_path.open("ab")
    procs: list[subprocess.Popen] = []
    passed = False
    try:
        ingest_addr = _service(procs, "services.ingest.server", "CHISO_INGEST_", db_url, log)
        scoring_addr = _service(procs, "services.scoring.server", "CHISO_SCORING_", db_url, log)
        publish_addr = _service(procs, "services.publish.server", "CHISO_PUBLISH_", db_url, log,
                                SCORING_TARGET=scoring_addr, POLL_SECONDS="0.05", DELIVERY_POLL_SECONDS="0.05",
                                SIGNING_KEY_FILE=signing_key_file(tmp_path))
        # two reference portals, started side by side: Phú Thọ's and the Ministry of Justice's
        portal_port, ministry_port = free_port(), free_port()
        while ministry_port == portal_port:
            ministry_port = free_port()
        ministry_db = tmp_path / "portal-bo-tu-phap.db"
        for port, path in ((portal_port, tmp_path / "portal.db"), (ministry_port, ministry_db)):
            procs.append(spawn("services.publish.receiver", {}, log, args=[
                "serve", "--port", str(port), "--db", str(path), "--publish", publish_addr]))
        wait_healthy(f"127.0.0.1:{portal_port}", procs[-2])
        wait_healthy(f"127.0.0.1:{ministry_port}", procs[-1])
        publish = publish_pb2_grpc.PublishServiceStub(grpc.insecure_channel(publish_addr))
        publish.CreateSubscription(ppb.CreateSubscriptionRequest(request_id="e2e-sub", subscription=ppb.Subscription(
            subscription_id="portal-phu-tho", endpoint=f"127.0.0.1:{portal_port}", unit_codes=["H25"])),
            metadata=auth(tokens.operator), timeout=30)
        publish.CreateSubscription(ppb.CreateSubscriptionRequest(request_id="e2e-sub2", subscription=ppb.Subscription(
            subscription_id="portal-bo-tu-phap", endpoint=f"127.0.0.1:{ministry_port}", unit_codes=[MINISTRY])),
            metadata=auth(tokens.operator), timeout=30)
        ingest = ingest_pb2_grpc.IngestServiceStub(grpc.insecure_channel(ingest_addr))
        scoring = scoring_pb2_grpc.ScoringServiceStub(grpc.insecure_channel(scoring_addr))
        seed_units(ingest, tokens)
        rnd = random.Random(2026)
        late = digitised = reused = total = 0
        for b in range(10):
            records = []
            for i in range(200):
                received = hanoi(2026, 9, rnd.randint(1, 20), rnd.randint(7, 16))
                took = timedelta(hours=rnd.randint(1, 24 * 9))
                rec = dossier_record(f"E-{b}-{i}", rnd.choice(["H25.01", "H25.02", "H25.X1"]), "1.004227",
                                     received=received, due_days=5, t=NOW - timedelta(minutes=10))
                rec.end_time.CopyFrom(ts(received + took))
                rec.end_state = pb.END_STATE_COMPLETED
                rec.processing_state = pb.PROCESSING_STATE_UNSPECIFIED
                rec.digitised = rnd.random() < 0.7
                rec.reused_digitised_data = rnd.random() < 0.3
                records.append(rec)
                total += 1
                late += took > timedelta(days=5)
                digitised += rec.digitised
                reused += rec.reused_digitised_data
            r = ingest.SyncDossiers(pb.SyncDossiersRequest(request_id=f"e2e-{b}", records=records),
                                    metadata=auth(tokens.phu_tho), timeout=30)
            assert r.result.accepted_count == 200
        september = tpb.Period(kind=tpb.PERIOD_KIND_MONTH, year=2026, number=9)
        request = spb.GetScorecardRequest(unit_code="H25", period=september, rule_version="766/2022",
                                          scope=tpb.SCOPE_SUBTREE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            card = scoring.GetScorecard(request, timeout=30).scorecard
            got = {i.id: i for i in card.indicators}
            if got["2.1"].denominator == total:
                break
            time.sleep(0.1)
        assert got["2.1"].denominator == total
        # worked out from the records sent: 2.1 = 20 × on time / received; 4.2 = 4 × min(1, rate / 0.8);
        # 4.3 = 2 × rate
        assert (got["2.1"].numerator, got["2.1"].denominator) == (total - late, total)
        assert F(int(got["2.1"].points_exact.numerator), int(got["2.1"].points_exact.denominator)) == F(
            20 * (total - late), total)
        assert F(int(got["4.2"].points_exact.numerator), int(got["4.2"].points_exact.denominator)) == 4 * min(
            F(1), F(digitised, total) / F(4, 5))
        assert F(int(got["4.3"].points_exact.numerator), int(got["4.3"].points_exact.denominator)) == F(
            2 * reused, total)
        assert not card.provisional and card.unit.name == "UBND tỉnh Phú Thọ"

        # publish's national pull and the portal show the same scorecard (the rule version in force,
        # portal/2025 for 2026) once they have caught up
        card = scoring.GetScorecard(spb.GetScorecardRequest(unit_code="H25", period=september,
                                                            scope=tpb.SCOPE_SUBTREE), timeout=30).scorecard
        assert card.rule_version == "portal/2025"
        def live_from_publish():
            return publish.GetScorecard(ppb.GetScorecardRequest(
                unit_code="H25", period=september, scope=tpb.SCOPE_SUBTREE, feed=tpb.FEED_LIVE), timeout=30)

        def portal_total():
            held = {(r["unit_code"], r["scope"]): r["total"] for r in report(tmp_path / "portal.db")["live"]
                    if r["period"] == "2026-09"}
            return next((t for (u, scope), t in held.items() if u == "H25" and "SUBTREE" in scope.upper()), None)

        deadline = time.monotonic() + 60
        pulled = None
        while time.monotonic() < deadline:
            try:
                pulled = live_from_publish().scorecard.scorecard
            except grpc.RpcError:
                pulled = None
            if pulled is not None and {i.id: i for i in pulled.indicators}["2.1"].denominator == total \
                    and portal_total() == card.total.value:
                break
            time.sleep(0.1)
        assert pulled is not None
        assert ({i.id: i for i in pulled.indicators}["2.1"].numerator, pulled.total.value) == (
            total - late, card.total.value)
        assert portal_total() == card.total.value  # verified, stored by the portal
        feed = _whole_feed(publish)
        last_h25 = [c.scorecard.scorecard for c in feed if c.scorecard.scorecard.unit.code == "H25"
                    and c.scorecard.scorecard.scope == tpb.SCOPE_SUBTREE
                    and c.scorecard.scorecard.period.number == 9 and c.scorecard.scorecard.period.kind == 1]
        assert last_h25 and last_h25[-1].total.value == card.total.value

        # --- the ministry: B01's system pushes its catalogue and October (several batches, status changes,
        # a late older update, a record outside its grant); the scorecards must be the hand-worked ones
        sent = _push_ministry(ingest, tokens.national, _ministry_token(db))
        wait_scored(db, timeout=60)
        expected_766, expected_portal = _expected_766(sent), _expected_portal(sent)
        for scope in (tpb.SCOPE_UNIT, tpb.SCOPE_SUBTREE):
            for rule_version, expected in (("766/2022", expected_766), ("", expected_portal)):
                card = scoring.GetScorecard(spb.GetScorecardRequest(
                    unit_code=MINISTRY, period=OCTOBER, scope=scope, rule_version=rule_version), timeout=30).scorecard
                _assert_card(card, expected, rule_version or "portal/2025")  # empty: the version in force
                assert not card.provisional and card.as_of.seconds == int(E.timestamp())  # judged as of E
        shown = _shown(_total(expected_portal))

        # publish's national pull and B01's portal show the same, once they have caught up
        def ministry_live() -> ppb.PublishedScorecard | None:
            with sqlite3.connect(ministry_db) as conn:
                row = conn.execute("SELECT payload FROM live WHERE unit_code = ? AND period = '2026-10' AND scope = "
                                   "'SCOPE_SUBTREE'", (MINISTRY,)).fetchone()
            return json_format.Parse(row[0], ppb.PublishedScorecard(), ignore_unknown_fields=True) if row else None

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                pulled = publish.GetScorecard(ppb.GetScorecardRequest(
                    unit_code=MINISTRY, period=OCTOBER, scope=tpb.SCOPE_SUBTREE, feed=tpb.FEED_LIVE),
                    timeout=30).scorecard.scorecard
            except grpc.RpcError:
                pulled = None
            held = ministry_live()
            if pulled is not None and pulled.total.value == shown and held and held.scorecard.total.value == shown:
                break
            time.sleep(0.1)
        _assert_card(pulled, expected_portal, "portal/2025")
        _assert_card(held.scorecard, expected_portal, "portal/2025")  # verified and stored by B01's portal
        assert {r["unit_code"] for r in report(ministry_db)["live"]} == {MINISTRY}  # only its own subtree
        assert MINISTRY not in {r["unit_code"] for r in report(tmp_path / "portal.db")["live"]}
        feed = _whole_feed(publish)
        last_b01 = [c.scorecard.scorecard for c in feed if c.kind == ppb.CHANGE_KIND_LIVE_SCORECARD
                    and c.scorecard.scorecard.unit.code == MINISTRY and c.scorecard.scorecard.period == OCTOBER
                    and c.scorecard.scorecard.scope == tpb.SCOPE_SUBTREE]
        assert last_b01
        _assert_card(last_b01[-1], expected_portal, "portal/2025")

        # an official publication of October's ministries: the operator freezes it, B01's portal receives it
        publication = publish.CreatePublication(ppb.CreatePublicationRequest(
            request_id="e2e-ministries-2026-10", period=OCTOBER, unit_kind=tpb.UNIT_KIND_MINISTRY,
            scope=tpb.SCOPE_SUBTREE), metadata=auth(tokens.operator), timeout=60).publication
        assert publication.rule_version == "portal/2025"
        assert [c.unit.code for c in publication.scorecards] == [MINISTRY]
        _assert_card(publication.scorecards[0], expected_portal, "portal/2025")
        official = publish.GetScorecard(ppb.GetScorecardRequest(unit_code=MINISTRY, period=OCTOBER,
                                                                scope=tpb.SCOPE_SUBTREE, feed=tpb.FEED_OFFICIAL),
                                        timeout=30).scorecard
        assert official.publication_id == publication.publication_id
        _assert_card(official.scorecard, expected_portal, "portal/2025")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sqlite3.connect(ministry_db) as conn:
                row = conn.execute("SELECT payload FROM publications WHERE publication_id = ?",
                                   (publication.publication_id,)).fetchone()
            if row:
                break
            time.sleep(0.1)
        assert row, "B01's portal did not receive the publication"
        received = json_format.Parse(row[0], ppb.Publication(), ignore_unknown_fields=True)
        assert [c.unit.code for c in received.scorecards] == [MINISTRY]
        _assert_card(received.scorecards[0], expected_portal, "portal/2025")
        passed = True
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=30) for proc in procs]
        log.close()
        db.dispose()
        if not passed or any(codes):
            print(log_path.read_text(encoding="utf-8", errors="replace")[-20000:])
    assert codes == [0] * 5  # every process exits cleanly on SIGTERM
