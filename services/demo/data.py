"""Deterministic national demo and benchmark data.

The catalogue is the country since 1 July 2025: the 34 provinces with their names and the number
of communes each has (3,321 in all: communes, wards and the 13 special zones), departments under
each province, the ministries and agencies, and a procedure catalogue with the government level
that performs each procedure, statutory time limits, fees, online levels and payment integration.
Records are generated from a seed and streamed (generators), so the same code makes a demo month or
a benchmark of millions of dossiers without holding them in memory: dossiers (channels, lateness,
supplements, payments, digitisation, ratings), petitions (categories, limits, ratings), procedure
publications (group I) and the totals units report to the national reporting system (1.4).

Codes: provinces ``H`` and their official two-digit code of Quyết định 19/2025/QĐ-TTg (in force
1 July 2025; ``H01`` Hà Nội, ``H25`` Phú Thọ … ``H96`` Cà Mau), departments ``H25.S01``, communes
``H25.X001``; ministries and agencies ``B01``…``B16``. These are the demo's short unit codes, not the
electronic agency codes (mã định danh điện tử) of the national standard. Commune names are generated
(the real names are not needed to exercise scoring) but each province has its real number of communes.

Lateness: every unit has its own propensity to finish late, drawn from the seed (most are late on
2–10 % of their dossiers, one in eight on 15–30 %). A late dossier ends some working days after its
due time; one not yet ended is overdue once its due time has passed. Dossiers with two supplement
requests (3 %) are late under Decision 766 whatever their times.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.types.v1 import types_pb2 as tpb
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")

# (code, name, communes since 2025-07-01), by code — the national total is 3,321. The codes are those of
# Quyết định 19/2025/QĐ-TTg (the list of administrative divisions, in force 1 July 2025) behind an H.
PROVINCES_COMMUNES = [
    ("H01", "Thành phố Hà Nội", 126), ("H04", "Tỉnh Cao Bằng", 56), ("H08", "Tỉnh Tuyên Quang", 124),
    ("H11", "Tỉnh Điện Biên", 45), ("H12", "Tỉnh Lai Châu", 38), ("H14", "Tỉnh Sơn La", 75),
    ("H15", "Tỉnh Lào Cai", 99), ("H19", "Tỉnh Thái Nguyên", 92), ("H20", "Tỉnh Lạng Sơn", 65),
    ("H22", "Tỉnh Quảng Ninh", 54), ("H24", "Tỉnh Bắc Ninh", 99), ("H25", "Tỉnh Phú Thọ", 148),
    ("H31", "Thành phố Hải Phòng", 114), ("H33", "Tỉnh Hưng Yên", 104), ("H37", "Tỉnh Ninh Bình", 129),
    ("H38", "Tỉnh Thanh Hóa", 166), ("H40", "Tỉnh Nghệ An", 130), ("H42", "Tỉnh Hà Tĩnh", 69),
    ("H44", "Tỉnh Quảng Trị", 78), ("H46", "Thành phố Huế", 40), ("H48", "Thành phố Đà Nẵng", 94),
    ("H51", "Tỉnh Quảng Ngãi", 96), ("H52", "Tỉnh Gia Lai", 135), ("H56", "Tỉnh Khánh Hòa", 65),
    ("H66", "Tỉnh Đắk Lắk", 102), ("H68", "Tỉnh Lâm Đồng", 124), ("H75", "Tỉnh Đồng Nai", 95),
    ("H79", "Thành phố Hồ Chí Minh", 168), ("H80", "Tỉnh Tây Ninh", 96), ("H82", "Tỉnh Đồng Tháp", 102),
    ("H86", "Tỉnh Vĩnh Long", 124), ("H91", "Tỉnh An Giang", 102), ("H92", "Thành phố Cần Thơ", 103),
    ("H96", "Tỉnh Cà Mau", 64),
]
PROVINCES = [(code, name) for code, name, _n in PROVINCES_COMMUNES]
COMMUNES_TOTAL = 3321
SPECIAL_ZONES = {  # đặc khu, counted among the province's communes
    "H22": ["Vân Đồn", "Cô Tô"], "H31": ["Cát Hải", "Bạch Long Vĩ"], "H44": ["Cồn Cỏ"], "H48": ["Hoàng Sa"],
    "H51": ["Lý Sơn"], "H56": ["Trường Sa"], "H68": ["Phú Quý"], "H79": ["Côn Đảo"],
    "H91": ["Phú Quốc", "Kiên Hải", "Thổ Châu"],
}
CITIES = {code for code, name in PROVINCES if name.startswith("Thành phố")}  # mostly wards
MINISTRIES = [
    ("B01", "Bộ Tư pháp", tpb.UNIT_KIND_MINISTRY),
    ("B02", "Bộ Tài chính", tpb.UNIT_KIND_MINISTRY),
    ("B03", "Bộ Công an", tpb.UNIT_KIND_MINISTRY),
    ("B04", "Ngân hàng Nhà nước Việt Nam", tpb.UNIT_KIND_MINISTERIAL_AGENCY),
    ("B05", "Bảo hiểm Xã hội Việt Nam", tpb.UNIT_KIND_SOCIAL_SECURITY),
    ("B06", "Bộ Xây dựng", tpb.UNIT_KIND_MINISTRY),
    ("B07", "Bộ Công Thương", tpb.UNIT_KIND_MINISTRY),
    ("B08", "Bộ Nông nghiệp và Môi trường", tpb.UNIT_KIND_MINISTRY),
    ("B09", "Bộ Y tế", tpb.UNIT_KIND_MINISTRY),
    ("B10", "Bộ Giáo dục và Đào tạo", tpb.UNIT_KIND_MINISTRY),
    ("B11", "Bộ Nội vụ", tpb.UNIT_KIND_MINISTRY),
    ("B12", "Bộ Ngoại giao", tpb.UNIT_KIND_MINISTRY),
    ("B13", "Bộ Khoa học và Công nghệ", tpb.UNIT_KIND_MINISTRY),
    ("B14", "Bộ Văn hóa, Thể thao và Du lịch", tpb.UNIT_KIND_MINISTRY),
    ("B15", "Bộ Quốc phòng", tpb.UNIT_KIND_MINISTRY),
    ("B16", "Bộ Dân tộc và Tôn giáo", tpb.UNIT_KIND_MINISTRY),
]
DEPARTMENTS = ["Sở Tư pháp", "Sở Xây dựng", "Sở Y tế", "Sở Tài chính", "Sở Nông nghiệp và Môi trường",
               "Sở Nội vụ", "Sở Giáo dục và Đào tạo", "Sở Công Thương"]
# (code, name, field, statutory days, carries a fee) — the first eight are those the benchmarks use.
PROCEDURES = [
    ("1.004227", "Đăng ký khai sinh", "Hộ tịch", 1, False),
    ("1.001193", "Đăng ký kết hôn", "Hộ tịch", 3, False),
    ("1.000894", "Chứng thực bản sao từ bản chính", "Chứng thực", 1, True),
    ("1.009972", "Cấp giấy phép xây dựng", "Hoạt động xây dựng", 20, True),
    ("2.001039", "Cấp phiếu lý lịch tư pháp", "Lý lịch tư pháp", 10, True),
    ("1.003596", "Đăng ký thành lập doanh nghiệp", "Thành lập và hoạt động doanh nghiệp", 3, False),
    ("1.010944", "Cấp giấy phép lái xe", "Đường bộ", 10, True),
    ("1.002804", "Cấp giấy chứng nhận quyền sử dụng đất", "Đất đai", 30, True),
    ("1.000656", "Đăng ký khai tử", "Hộ tịch", 1, False),
    ("1.004873", "Cấp giấy xác nhận tình trạng hôn nhân", "Hộ tịch", 3, False),
    ("1.001257", "Đăng ký thường trú", "Đăng ký, quản lý cư trú", 7, False),
    ("2.000908", "Cấp hộ chiếu phổ thông", "Xuất nhập cảnh", 8, True),
    ("1.005388", "Cấp giấy phép hoạt động khám bệnh, chữa bệnh", "Khám bệnh, chữa bệnh", 45, True),
    ("1.006391", "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm", "An toàn thực phẩm", 20, True),
    ("1.001612", "Giải quyết hưởng trợ cấp thất nghiệp", "Việc làm", 20, False),
    ("1.011454", "Cấp lại thẻ bảo hiểm y tế", "Bảo hiểm y tế", 3, False),
]
# The ministry or agency each procedure belongs to in the national procedure database (after the
# 2025 reorganisation: driving licences and residence with Bộ Công an, business registration with Bộ
# Tài chính, unemployment benefit with Bộ Nội vụ).
OWNERS = {
    "1.004227": "B01", "1.001193": "B01", "1.000894": "B01", "1.009972": "B06", "2.001039": "B01",
    "1.003596": "B02", "1.010944": "B03", "1.002804": "B08", "1.000656": "B01", "1.004873": "B01",
    "1.001257": "B03", "2.000908": "B03", "1.005388": "B09", "1.006391": "B09", "1.001612": "B11",
    "1.011454": "B05",
}  # fmt: skip
# Which kind of unit performs each procedure (anything not listed: departments); at the ministry
# level, only the ministry or agency it belongs to.
COMMUNE_PROCEDURES = {"1.004227", "1.001193", "1.000894", "1.000656", "1.004873", "1.001257"}
MINISTRY_PROCEDURES = {"2.001039", "2.000908", "1.011454", "1.003596"}
PETITION_LIMIT_DAYS = 15


def ts(dt: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(dt)
    return t


def gdate(d: date) -> date_pb2.Date:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


@dataclass(frozen=True)
class DemoSpec:
    seed: int = 766
    communes_per_province: int | None = None  # None: each province's real number (3,321 in all)
    departments_per_province: int = 3
    year: int = 2026
    month: int = 8


_PREFIX = ["Tân", "Hòa", "Phú", "An", "Đông", "Tây", "Nam", "Bắc", "Vĩnh", "Thanh", "Quang", "Minh",
           "Bình", "Hưng", "Phước", "Long", "Thái", "Mỹ", "Đức", "Hợp", "Kim", "Ngọc", "Xuân", "Trung"]
_SUFFIX = ["Lập", "Bình", "Thịnh", "Phú", "Hòa", "An", "Sơn", "Hà", "Lộc", "Thành", "Tiến", "Phong",
           "Xuân", "Hải", "Yên", "Lâm", "Trung", "Quý", "Tâm", "Khánh", "Nghĩa", "Điền", "Cường", "Mỹ"]


def commune_names(code: str, count: int, seed: int) -> list[str]:
    """``count`` distinct commune names for a province (wards in the cities, its special zones)."""
    rng = random.Random(f"{seed}-{code}")
    zones = [f"Đặc khu {z}" for z in SPECIAL_ZONES.get(code, [])][:count]
    wards = 0.45 if code in CITIES else 0.15
    pool = [f"{a} {b}" for a in _PREFIX for b in _SUFFIX if a != b]
    rng.shuffle(pool)
    return zones + [f"{'Phường' if rng.random() < wards else 'Xã'} {n}" for n in pool[: count - len(zones)]]


def unit_catalogue(spec: DemoSpec | None = None) -> list[tuple[str, str, int, str]]:
    """(code, name, kind, parent code) of every unit: ministries, provinces, their departments and communes."""
    spec = spec or DemoSpec()
    out = [(code, name, kind, "") for code, name, kind in MINISTRIES]
    for code, name, communes in PROVINCES_COMMUNES:
        out.append((code, f"UBND {name[0].lower()}{name[1:]}", tpb.UNIT_KIND_PROVINCE, ""))
        lower = f"{name[0].lower()}{name[1:]}"  # Sở Tư pháp tỉnh Phú Thọ, Sở Y tế thành phố Hà Nội
        for i, dep in enumerate(DEPARTMENTS[: spec.departments_per_province], start=1):
            out.append((f"{code}.S{i:02d}", f"{dep} {lower}", tpb.UNIT_KIND_DEPARTMENT, code))
        n = communes if spec.communes_per_province is None else min(communes, spec.communes_per_province)
        for i, cname in enumerate(commune_names(code, n, spec.seed), start=1):
            out.append((f"{code}.X{i:03d}", f"UBND {cname[0].lower()}{cname[1:]}", tpb.UNIT_KIND_COMMUNE, code))
    return out


def units(spec: DemoSpec, source_time: datetime) -> list[pb.UnitRecord]:
    st = ts(source_time)
    return [pb.UnitRecord(code=code, name=name, kind=kind, parent_code=parent, source_time=st)
            for code, name, kind, parent in unit_catalogue(spec)]


def procedures(source_time: datetime) -> list[pb.ProcedureRecord]:
    return [pb.ProcedureRecord(code=c, name=n, field=f, unit_code=OWNERS[c], statutory_days=d,
                               issues_result_document=doc, applicants_are_individuals=True,
                               source_time=ts(source_time)) for c, n, f, d, doc in PROCEDURES]


def performed_by(kind: int, unit_code: str = "") -> list[tuple]:
    """The procedures a unit of this kind performs (a ministry or agency: those of its own, if
    ``unit_code`` says which)."""
    if kind == tpb.UNIT_KIND_COMMUNE:
        return [p for p in PROCEDURES if p[0] in COMMUNE_PROCEDURES]
    if kind in (tpb.UNIT_KIND_MINISTRY, tpb.UNIT_KIND_MINISTERIAL_AGENCY, tpb.UNIT_KIND_SOCIAL_SECURITY):
        return [p for p in PROCEDURES if p[0] in MINISTRY_PROCEDURES and unit_code in ("", OWNERS[p[0]])]
    return [p for p in PROCEDURES if p[0] not in COMMUNE_PROCEDURES]


def unit_procedures(unit_records: Iterable[pb.UnitRecord], spec: DemoSpec, source_time: datetime):
    """Per unit, the procedures it performs: online level, fee, payment integration, population data."""
    rng = random.Random(spec.seed + 1)
    st = ts(source_time)
    for u in unit_records:
        for code, _n, _f, _d, fee in performed_by(u.kind, u.code):
            level = rng.choices([1, 2, 3], weights=[1, 3, 6])[0]
            eligible = rng.random() < 0.8
            yield pb.UnitProcedureRecord(
                unit_code=u.code, procedure_code=code, online_level=level, online_service_status=1,
                has_fee=fee, payment_integrated=fee and rng.random() < 0.85,
                population_data_eligible=eligible, population_data_connected=eligible and rng.random() < 0.9,
                certified_copy=code == "1.000894", source_time=st)


ALL_PARTS = list(range(1, 12))


def publications(unit_records: Iterable[pb.UnitRecord], spec: DemoSpec, source_time: datetime):
    """Group I: each province and ministry published the procedures performed in its tree, most of
    them listed on the national database within days of the decision, most with every required part."""
    rng = random.Random(spec.seed + 2)
    st = ts(source_time)
    month_start = date(spec.year, spec.month, 1)
    # decided on one of the month's first 20 days, but never after the day the records are sent
    # (ingest refuses decisions dated in the future): in the running month, up to today
    last = min(month_start + timedelta(days=19), source_time.astimezone(HANOI).date())
    days = max(1, (last - month_start).days + 1)
    for u in unit_records:
        if u.parent_code:
            continue
        kinds = ((tpb.UNIT_KIND_COMMUNE, tpb.UNIT_KIND_DEPARTMENT) if u.kind == tpb.UNIT_KIND_PROVINCE
                 else (u.kind,))
        codes = {p[0] for k in kinds for p in performed_by(k, u.code)}
        for code in sorted(codes):
            decided = month_start + timedelta(days=rng.randrange(0, days))
            effective = decided + timedelta(days=rng.randrange(-10, 30))
            listed = datetime.combine(decided, datetime.min.time(), HANOI) + timedelta(
                days=rng.choices([1, 3, 5, 12], weights=[50, 30, 12, 8])[0], hours=9)
            parts = ALL_PARTS if rng.random() < 0.93 else [p for p in ALL_PARTS if p != rng.choice(ALL_PARTS)]
            rec = pb.PublicationRecord(unit_code=u.code, procedure_code=code,
                                       decision_number=f"{rng.randrange(100, 3000)}/QĐ-UBND",
                                       decision_date=gdate(decided), legal_effective_date=gdate(effective),
                                       parts=parts, source_time=st)
            if listed < source_time and rng.random() < 0.95:
                rec.listed_time.CopyFrom(ts(listed))
            yield rec


_BUSY = {tpb.UNIT_KIND_MINISTRY: 20.0, tpb.UNIT_KIND_PROVINCE: 2.0, tpb.UNIT_KIND_DEPARTMENT: 8.0,
         tpb.UNIT_KIND_COMMUNE: 1.0}


def _weights(rng: random.Random, unit_codes: list[str]) -> list[float]:
    """Busier units: departments and ministries take many dossiers, communes few, by a Pareto draw."""
    return [_BUSY[_kind_of(code)] * min(rng.paretovariate(2.0), 6.0) for code in unit_codes]


def _kind_of(code: str) -> int:
    if code.startswith("B"):
        return tpb.UNIT_KIND_MINISTRY
    if "." not in code:
        return tpb.UNIT_KIND_PROVINCE
    return tpb.UNIT_KIND_COMMUNE if ".X" in code else tpb.UNIT_KIND_DEPARTMENT


# Lateness by unit: the share of a unit's dossiers that end (or stay open) past their due time. Most
# units are late on 2–10 % of their dossiers, one in eight on 15–30 % (LATE_POOR_SHARE of the units).
LATE_TYPICAL = (0.02, 0.10)
LATE_POOR = (0.15, 0.30)
LATE_POOR_SHARE = 0.125
# How many working days after its due time a late dossier ends (a working day is taken as 1.4
# calendar days, as the due time is): cumulative weights of 1, 2, 3, 5, 8 and 13 days; mean 3.33.
LATE_BY_DAYS = (1, 2, 3, 5, 8, 13)
_LATE_BY_CUM = (30, 55, 73, 87, 95, 100)
CALENDAR_PER_WORKING_DAY = 1.4
# Two supplement requests make a dossier late under Decision 766 whatever its times.
SUPPLEMENTS_CUM = (85, 97, 100)  # none, one, two: 85 %, 12 %, 3 %
_FEES = (0, 50_000, 100_000, 200_000)
_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000


def late_propensity(rng: random.Random) -> float:
    """One unit's share of late dossiers (see LATE_TYPICAL, LATE_POOR)."""
    low, high = LATE_POOR if rng.random() < LATE_POOR_SHARE else LATE_TYPICAL
    return rng.uniform(low, high)


def _put(t: Timestamp, us: int) -> None:
    t.seconds, t.nanos = us // 1_000_000, us % 1_000_000 * 1000


def dossiers(unit_codes: list[str], count: int, spec: DemoSpec, now: datetime,
             received_counts: Counter | None = None) -> Iterator[pb.DossierRecord]:
    """``count`` dossiers received in the spec's month (up to ``now``), spread over units by how busy
    they are, each for a procedure its unit performs. Each unit is late on its own share of dossiers
    (:func:`late_propensity`): those end some working days after their due time, or are still open
    and overdue at ``now``. ``received_counts`` (optional) is filled with the dossiers per unit, for
    :func:`reported_totals`. The same seed and ``now`` give the same records."""
    rng = random.Random(spec.seed)
    rnd = rng.random
    start = datetime(spec.year, spec.month, 1, tzinfo=HANOI)
    end = min(now, (start + timedelta(days=32)).replace(day=1))
    span_us = max(1.0, (end - start).total_seconds()) * 1e6
    start_us = int(start.timestamp()) * 1_000_000
    now_us = int(now.timestamp() * 1_000_000)
    working_day = CALENDAR_PER_WORKING_DAY * _DAY_US  # a working day, in calendar µs
    offered: dict[tuple[int, str], list] = {}  # (kind, ministry or "") → [(code, time limit in µs, fee)]
    profile = {}  # per unit: its procedures, their number, its quality, its late propensity
    for u in unit_codes:
        kind = _kind_of(u)
        key = (kind, u if kind == tpb.UNIT_KIND_MINISTRY else "")
        if key not in offered:
            offered[key] = [(code, days * working_day, fee) for code, _n, _f, days, fee in performed_by(*key)]
        procs = offered[key]
        own = random.Random(f"{spec.seed}/{u}")  # a unit's own draws: the same whichever units are asked for
        profile[u] = (procs, len(procs), own.uniform(0.75, 0.99), late_propensity(own))
    weights = [w if profile[u][1] else 0.0 for u, w in zip(unit_codes, _weights(rng, unit_codes), strict=True)]
    if not any(weights):
        raise ValueError("none of these units performs a procedure")
    picks = rng.choices(unit_codes, weights=weights, k=min(count, 500_000))
    n_picks = len(picks)
    month = f"{spec.year}{spec.month:02d}"
    waiting, processing = pb.PROCESSING_STATE_WAITING_SUPPLEMENT, pb.PROCESSING_STATE_PROCESSING
    national = pb.PAYMENT_CHANNEL_NATIONAL_PLATFORM
    none_asked, one_asked, _ = SUPPLEMENTS_CUM
    for i in range(count):
        unit = picks[i] if i < n_picks else picks[int(rnd() * n_picks)]
        procs, n_procs, q, late_p = profile[unit]
        code, limit_us, fee = procs[int(rnd() * n_procs)]
        received = start_us + int(rnd() * span_us)
        due = received + int(limit_us)
        x = rnd() * 13.0  # channel: online 10q, in person 10(1 − q) + 2, post 1
        rec = pb.DossierRecord(
            code=f"{unit}-{month}-{i:07d}", unit_code=unit, procedure_code=code,
            channel=1 if x < q * 10 else 2 if x < 12.0 else 3,
            fee_amount=_FEES[int(rnd() * 4)] if fee else 0,
            digitised=rnd() < q, reused_digitised_data=rnd() < q * 0.6,
            linked_to_data_store=rnd() < q * 0.7, used_population_data=rnd() < q * 0.8,
            verified_eid=rnd() < q * 0.7,
        )
        _put(rec.received_time, received)
        _put(rec.due_time, due)
        if fee and rec.fee_amount and rnd() < q:
            rec.paid_online = True
            rec.payment_channel = national
        if rnd() < late_p:  # ends some working days after its due time
            k = bisect_right(_LATE_BY_CUM, rnd() * 100)
            finished = due + int((LATE_BY_DAYS[k] - rnd()) * working_day)
        else:  # on time: better units take less of their time limit
            finished = received + int(limit_us * rng.uniform(0.15, 1.75 - q))
        x = rnd() * 100
        supplements = 0 if x < none_asked else 1 if x < one_asked else 2
        last = finished if finished < now_us else received
        if supplements:
            rec.supplement_count = supplements
            asked = received + int(min(rng.uniform(2, 48) * _HOUR_US, (min(now_us, finished) - received) / 2))
            _put(rec.last_supplement_time, asked)
            last = max(last, asked)
        if finished < now_us:
            _put(rec.end_time, finished)
            x = rnd() * 100
            rec.end_state = 2 if x < 85 else 1 if x < 93 else 3 if x < 98 else 5
            rec.electronic_result = rec.synced_with_result_file = rnd() < q
            x = rnd() * 100
            rec.rating = 0 if x < 40 else 1 if x < 90 else 2 if x < 97 else 3
        else:
            rec.processing_state = waiting if supplements == 1 and rnd() < 0.3 else processing
        _put(rec.source_time, last)
        if received_counts is not None:
            received_counts[unit] += 1
        yield rec


def petitions(unit_codes: list[str], count: int, spec: DemoSpec, now: datetime) -> Iterator[pb.PetitionRecord]:
    """``count`` petitions (PAKN) received in the spec's month: mostly about rules, some about staff;
    most resolved within the limit, some late, a few still open; ratings of those resolved."""
    rng = random.Random(spec.seed + 3)
    start = datetime(spec.year, spec.month, 1, tzinfo=HANOI)
    end = min(now, (start + timedelta(days=32)).replace(day=1))
    span = max(1.0, (end - start).total_seconds())
    busy = [u for u in unit_codes if _kind_of(u) != tpb.UNIT_KIND_COMMUNE] or unit_codes
    for i in range(count):
        unit = rng.choice(busy) if rng.random() < 0.6 else rng.choice(unit_codes)
        received = start + timedelta(seconds=rng.random() * span)
        rec = pb.PetitionRecord(
            code=f"PAKN-{unit}-{spec.year}{spec.month:02d}-{i:06d}", unit_code=unit,
            category=rng.choices([1, 2, 3], weights=[55, 15, 30])[0], received_time=ts(received),
            due_time=ts(received + timedelta(days=PETITION_LIMIT_DAYS)),
            likes=rng.randrange(0, 20), dislikes=rng.randrange(0, 4))
        resolved = received + timedelta(days=rng.expovariate(1 / 7.0))
        last = received
        if resolved < now and rng.random() < 0.97:
            rec.resolved_time.CopyFrom(ts(resolved))
            rec.rating = rng.choices([0, 1, 2, 3], weights=[50, 38, 8, 4])[0]
            rec.repeat_complaint = rng.random() < 0.03
            last = resolved
            published = resolved + timedelta(hours=rng.uniform(1, 72))
            if published < now:
                rec.ready_for_publication_time.CopyFrom(ts(resolved))
                rec.published_time.CopyFrom(ts(published))
                last = published
        rec.source_time.CopyFrom(ts(min(now, last)))
        yield rec


def reported_totals(received_counts: Counter, spec: DemoSpec, source_time: datetime):
    """What each unit reported to the national reporting system for the month: near what it synced,
    a few percent over for most (dossiers not synchronised), exactly for some."""
    rng = random.Random(spec.seed + 4)
    st = ts(source_time)
    for unit in sorted(received_counts):
        n = received_counts[unit]
        reported = n if rng.random() < 0.3 else round(n * rng.uniform(1.0, 1.08))
        yield pb.ReportedTotalRecord(unit_code=unit, year=spec.year, month=spec.month,
                                     dossiers_received=reported, source_time=st)
