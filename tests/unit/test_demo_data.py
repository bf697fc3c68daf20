"""The demo and benchmark data generator: deterministic by seed, the country's real provinces, records
that fit the catalogue, lateness that varies by unit, streamed.

The late-share expectations follow from the distribution the generator defines, not from its output:
a unit is late by time on a share p of its dossiers, p ~ U(2 %, 10 %) for seven units in eight and
U(15 %, 30 %) for the eighth, so E[p] = 0.875 · 0.06 + 0.125 · 0.225 = 0.0806; independently 3 % of
dossiers have two supplement requests, late under Decision 766 whatever their times. Once every
dossier has ended, a unit's late share is p + 0.03 (1 − p): 0.108 on average, between 0.049 and 0.321
for any unit.
"""

from __future__ import annotations

import itertools
import random
import time
import types
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from chiso.types.v1 import types_pb2 as tpb

from services.demo import data

OFFICIAL = {  # Quyết định 19/2025/QĐ-TTg, in force 1 July 2025 (the demo puts an H before the code)
    "01": "Thành phố Hà Nội", "04": "Tỉnh Cao Bằng", "08": "Tỉnh Tuyên Quang", "11": "Tỉnh Điện Biên",
    "12": "Tỉnh Lai Châu", "14": "Tỉnh Sơn La", "15": "Tỉnh Lào Cai", "19": "Tỉnh Thái Nguyên",
    "20": "Tỉnh Lạng Sơn", "22": "Tỉnh Quảng Ninh", "24": "Tỉnh Bắc Ninh", "25": "Tỉnh Phú Thọ",
    "31": "Thành phố Hải Phòng", "33": "Tỉnh Hưng Yên", "37": "Tỉnh Ninh Bình", "38": "Tỉnh Thanh Hóa",
    "40": "Tỉnh Nghệ An", "42": "Tỉnh Hà Tĩnh", "44": "Tỉnh Quảng Trị", "46": "Thành phố Huế",
    "48": "Thành phố Đà Nẵng", "51": "Tỉnh Quảng Ngãi", "52": "Tỉnh Gia Lai", "56": "Tỉnh Khánh Hòa",
    "66": "Tỉnh Đắk Lắk", "68": "Tỉnh Lâm Đồng", "75": "Tỉnh Đồng Nai", "79": "Thành phố Hồ Chí Minh",
    "80": "Tỉnh Tây Ninh", "82": "Tỉnh Đồng Tháp", "86": "Tỉnh Vĩnh Long", "91": "Tỉnh An Giang",
    "92": "Thành phố Cần Thơ", "96": "Tỉnh Cà Mau",
}
SPEC = data.DemoSpec(year=2026, month=8)
RUNNING = datetime(2026, 8, 20, 10, 0, tzinfo=data.HANOI)  # the month is running
LONG_AFTER = datetime(2027, 3, 1, tzinfo=data.HANOI)  # every dossier of August has ended
DAY = 86_400
WORKING_DAY = 1.4 * DAY  # in calendar time, as the generator's due times are


def codes(spec: data.DemoSpec = SPEC) -> list[str]:
    return [code for code, *_ in data.unit_catalogue(spec)]


def sample(n: int, now: datetime, spec: data.DemoSpec = SPEC) -> list:
    return list(data.dossiers(codes(spec), n, spec, now))


def late(rec, now: datetime) -> bool:
    """Indicator 2.1's rule (SPEC §4.3)."""
    due = rec.due_time.seconds
    if rec.supplement_count > 1:
        return True
    if rec.HasField("end_time"):
        return rec.end_time.seconds > due
    if rec.processing_state == 2:  # waiting on its one supplement request: judged at the request
        return rec.last_supplement_time.seconds > due
    return due < now.timestamp()


def test_the_same_seed_gives_the_same_records_and_another_seed_others():
    first = [r.SerializeToString() for r in sample(3000, RUNNING)]
    assert first == [r.SerializeToString() for r in sample(3000, RUNNING)]
    other = data.DemoSpec(seed=SPEC.seed + 1, year=2026, month=8)
    second = [r.SerializeToString() for r in sample(3000, RUNNING, other)]
    assert len(second) == 3000 and len(set(first) & set(second)) == 0
    assert list(data.commune_names("H25", 148, 1)) == list(data.commune_names("H25", 148, 1))
    assert data.commune_names("H25", 148, 1) != data.commune_names("H25", 148, 2)


def test_the_34_provinces_have_their_official_codes_and_3321_communes():
    assert [(f"H{k}", name) for k, name in sorted(OFFICIAL.items())] == data.PROVINCES
    units = data.unit_catalogue()
    provinces = [(code, name) for code, name, kind, _p in units if kind == tpb.UNIT_KIND_PROVINCE]
    assert provinces == [(f"H{k}", f"UBND {name[0].lower()}{name[1:]}") for k, name in sorted(OFFICIAL.items())]
    communes = Counter(parent for _c, _n, kind, parent in units if kind == tpb.UNIT_KIND_COMMUNE)
    assert sum(communes.values()) == data.COMMUNES_TOTAL == 3321
    assert communes == {code: n for code, _name, n in data.PROVINCES_COMMUNES}
    assert (communes["H01"], communes["H25"], communes["H79"], communes["H46"]) == (126, 148, 168, 40)
    names = {code: name for code, name, _k, _p in units}
    assert names["H25"] == "UBND tỉnh Phú Thọ" and names["H25.S01"] == "Sở Tư pháp tỉnh Phú Thọ"
    assert "H25.X148" in names and "H25.X149" not in names and names["H15"] == "UBND tỉnh Lào Cai"
    # the 13 special zones, each the first communes of its province
    assert sum(len(z) for z in data.SPECIAL_ZONES.values()) == 13
    assert names["H91.X001"] == "UBND đặc khu Phú Quốc" and names["H22.X002"] == "UBND đặc khu Cô Tô"
    assert names["H79.X001"] == "UBND đặc khu Côn Đảo" and names["H56.X001"] == "UBND đặc khu Trường Sa"
    assert sum(1 for n in names.values() if n.startswith("UBND đặc khu")) == 13
    assert len(names) == len(units)  # codes are unique, and names within a province
    assert max(Counter((p, n) for _c, n, _k, p in units).values()) == 1


def test_every_dossier_names_a_unit_and_a_procedure_it_performs():
    units = {code: kind for code, _n, kind, _p in data.unit_catalogue(SPEC)}
    procedures = {p[0]: p for p in data.PROCEDURES}
    start = datetime(2026, 8, 1, tzinfo=data.HANOI).timestamp()
    counted = Counter()
    recs = list(data.dossiers(list(units), 20_000, SPEC, RUNNING, counted))
    assert sum(counted.values()) == 20_000 and len({r.code for r in recs}) == 20_000
    assert {tpb.UNIT_KIND_MINISTRY, tpb.UNIT_KIND_DEPARTMENT, tpb.UNIT_KIND_COMMUNE} <= {
        units[r.unit_code] for r in recs}
    for r in recs:
        assert r.procedure_code in {p[0] for p in data.performed_by(units[r.unit_code], r.unit_code)}
        days = procedures[r.procedure_code][3]
        assert start <= r.received_time.seconds <= RUNNING.timestamp()
        limit = r.due_time.ToMicroseconds() - r.received_time.ToMicroseconds()
        assert abs(limit - days * WORKING_DAY * 1e6) <= 1  # due: the time limit in working days after receipt
        assert r.HasField("end_time") == (r.end_state != 0) == (r.processing_state == 0)
        if r.HasField("end_time"):
            assert r.received_time.ToMicroseconds() <= r.end_time.ToMicroseconds() <= r.source_time.ToMicroseconds()
        if r.supplement_count:
            assert r.received_time.ToMicroseconds() <= r.last_supplement_time.ToMicroseconds()
        assert r.source_time.ToMicroseconds() <= RUNNING.timestamp() * 1e6


def test_late_propensity_most_units_2_to_10_percent_one_in_eight_15_to_30():
    rng = random.Random(5)
    draws = [data.late_propensity(rng) for _ in range(20_000)]
    assert all(0.02 <= p <= 0.10 or 0.15 <= p <= 0.30 for p in draws)
    poor = sum(p >= 0.15 for p in draws) / len(draws)
    assert 0.11 < poor < 0.14  # 0.125, sd 0.0023


def test_late_share_is_realistic_and_differs_across_units():
    recs = sample(120_000, LONG_AFTER)
    assert all(r.HasField("end_time") for r in recs)
    by_unit = defaultdict(lambda: [0, 0])
    for r in recs:
        by_unit[r.unit_code][0] += late(r, LONG_AFTER)
        by_unit[r.unit_code][1] += 1
    share = sum(v[0] for v in by_unit.values()) / len(recs)
    assert 0.08 < share < 0.14  # 0.108 expected (module docstring); the busiest units weigh the most
    busy = sorted(v[0] / v[1] for v in by_unit.values() if v[1] >= 200)
    assert len(busy) >= 30  # ministries and departments; none poor among 30: 0.875³⁰ ≈ 2 %
    # a unit's share lies in [0.049, 0.321] (± sampling noise); typical units well under the poor ones
    assert busy[0] < 0.08 and busy[-1] > 0.16
    assert 0.05 < busy[len(busy) // 2] < 0.13  # median p ≈ 0.066, so about 0.094
    assert busy[0] > 0.02 and busy[-1] < 0.40
    # late dossiers end some working days after their due time: 1 to 13, 3.3 on average
    after = [(r.end_time.seconds - r.due_time.seconds) / WORKING_DAY for r in recs
             if r.end_time.seconds > r.due_time.seconds]
    assert all(0 < d <= 13 for d in after)
    assert 2.6 < sum(after) / len(after) < 3.1  # 3.33 − 0.5 (the fraction of the last day)
    assert any(d > 8 for d in after)


def test_some_open_dossiers_are_already_overdue_in_a_running_month():
    recs = sample(40_000, RUNNING)
    now = RUNNING.timestamp()
    open_ = [r for r in recs if not r.HasField("end_time")]
    overdue = [r for r in open_ if r.processing_state != 2 and r.due_time.seconds < now]
    assert open_ and overdue and len(overdue) < len(open_) / 2
    assert 0.03 < sum(late(r, RUNNING) for r in recs) / len(recs) < 0.14


def test_dossiers_are_streamed():
    gen = data.dossiers(codes(), 10**9, SPEC, RUNNING)
    assert isinstance(gen, types.GeneratorType)
    t = time.perf_counter()
    first = list(itertools.islice(gen, 5))
    assert len(first) == 5 and time.perf_counter() - t < 30  # a billion are not made up front
    assert isinstance(data.petitions(codes(), 10, SPEC, RUNNING), types.GeneratorType)


def test_the_demo_catalogue_and_publications_pass_ingests_checks_early_in_a_running_month():
    """The units sit where ingest's hierarchy allows, and no publication decision is dated after the
    day the records are sent (ingest refuses those), even on the 5th of the running month."""
    from services.ingest.domain import SPECS, Directory, RecordKind, UnitEntry, judge
    from services.ingest.transport import decode

    def refused(kind, messages, directory, now):
        records, errors = decode(kind, messages)
        assert not errors
        verdicts = judge(SPECS[kind], records, directory=directory, grant_roots=frozenset({"*"}),
                         now_us=int(now.timestamp() * 1_000_000))
        return [(i, v.violations[0]) for i, v in enumerate(verdicts) if v is not None]

    for now in (datetime(2026, 8, 5, 9, 0, tzinfo=data.HANOI), RUNNING):
        sent = now - timedelta(minutes=5)  # as the demo sends them
        units = data.units(SPEC, sent)
        assert refused(RecordKind.UNIT, units, Directory({}, {}), now) == []
        directory = Directory({u.code: UnitEntry(u.parent_code or None, u.kind) for u in units}, {})
        procedures = data.procedures(sent)
        assert refused(RecordKind.PROCEDURE, procedures, directory, now) == []
        directory = Directory(directory.units, {p.code: p.unit_code for p in procedures})
        assert refused(RecordKind.UNIT_PROCEDURE, list(data.unit_procedures(units, SPEC, sent)), directory, now) == []
        publications = list(data.publications(units, SPEC, sent))
        assert publications and refused(RecordKind.PUBLICATION, publications, directory, now) == []
        assert max(p.decision_date.day for p in publications) == min(now.day, 20)
