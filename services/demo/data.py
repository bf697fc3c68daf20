"""Deterministic demo data: the 34 provinces (since 2025-07-01) and some ministries with their
departments and communes, a procedure catalogue, and dossiers with realistic mixes of channels,
lateness, supplements, payments and digitisation.

Everything is generated from a seed and streamed (generators), so the same code makes a demo month
or a benchmark of millions of dossiers without holding them in memory.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.types.v1 import types_pb2 as tpb
from google.protobuf.timestamp_pb2 import Timestamp

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")

PROVINCES = [
    ("H01", "Thành phố Hà Nội"), ("H02", "Thành phố Huế"), ("H03", "Tỉnh Lai Châu"), ("H04", "Tỉnh Điện Biên"),
    ("H05", "Tỉnh Sơn La"), ("H06", "Tỉnh Lạng Sơn"), ("H07", "Tỉnh Quảng Ninh"), ("H08", "Tỉnh Thanh Hóa"),
    ("H09", "Tỉnh Nghệ An"), ("H10", "Tỉnh Hà Tĩnh"), ("H11", "Tỉnh Cao Bằng"), ("H12", "Tỉnh Tuyên Quang"),
    ("H13", "Tỉnh Lào Cai"), ("H14", "Tỉnh Thái Nguyên"), ("H15", "Tỉnh Phú Thọ"), ("H16", "Tỉnh Bắc Ninh"),
    ("H17", "Tỉnh Hưng Yên"), ("H18", "Thành phố Hải Phòng"), ("H19", "Tỉnh Ninh Bình"), ("H20", "Tỉnh Quảng Trị"),
    ("H21", "Thành phố Đà Nẵng"), ("H22", "Tỉnh Quảng Ngãi"), ("H23", "Tỉnh Gia Lai"), ("H24", "Tỉnh Khánh Hòa"),
    ("H25", "Tỉnh Lâm Đồng"), ("H26", "Tỉnh Đắk Lắk"), ("H27", "Thành phố Hồ Chí Minh"), ("H28", "Tỉnh Đồng Nai"),
    ("H29", "Tỉnh Tây Ninh"), ("H30", "Thành phố Cần Thơ"), ("H31", "Tỉnh Vĩnh Long"), ("H32", "Tỉnh Đồng Tháp"),
    ("H33", "Tỉnh Cà Mau"), ("H34", "Tỉnh An Giang"),
]
MINISTRIES = [
    ("B01", "Bộ Tư pháp", tpb.UNIT_KIND_MINISTRY),
    ("B02", "Bộ Tài chính", tpb.UNIT_KIND_MINISTRY),
    ("B03", "Bộ Công an", tpb.UNIT_KIND_MINISTRY),
    ("B04", "Ngân hàng Nhà nước Việt Nam", tpb.UNIT_KIND_MINISTERIAL_AGENCY),
    ("B05", "Bảo hiểm Xã hội Việt Nam", tpb.UNIT_KIND_SOCIAL_SECURITY),
]
DEPARTMENTS = ["Sở Tư pháp", "Sở Xây dựng", "Sở Y tế", "Sở Tài chính", "Sở Nông nghiệp và Môi trường",
               "Sở Nội vụ", "Sở Giáo dục và Đào tạo", "Sở Công Thương"]
PROCEDURES = [
    ("1.004227", "Đăng ký khai sinh", "Hộ tịch", 1, False),
    ("1.001193", "Đăng ký kết hôn", "Hộ tịch", 3, False),
    ("1.000894", "Chứng thực bản sao từ bản chính", "Chứng thực", 1, True),
    ("1.009972", "Cấp giấy phép xây dựng", "Hoạt động xây dựng", 20, True),
    ("2.001039", "Cấp phiếu lý lịch tư pháp", "Lý lịch tư pháp", 10, True),
    ("1.003596", "Đăng ký thành lập doanh nghiệp", "Thành lập và hoạt động doanh nghiệp", 3, False),
    ("1.010944", "Cấp giấy phép lái xe", "Đường bộ", 10, True),
    ("1.002804", "Cấp giấy chứng nhận quyền sử dụng đất", "Đất đai", 30, True),
]


def ts(dt: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(dt)
    return t


@dataclass(frozen=True)
class DemoSpec:
    seed: int = 766
    communes_per_province: int = 4
    year: int = 2026
    month: int = 8


def units(spec: DemoSpec, source_time: datetime) -> list[pb.UnitRecord]:
    st = ts(source_time)
    out = []
    for code, name, kind in MINISTRIES:
        out.append(pb.UnitRecord(code=code, name=name, kind=kind, source_time=st))
    for code, name in PROVINCES:
        out.append(pb.UnitRecord(code=code, name=f"UBND {name[0].lower()}{name[1:]}",
                                 kind=tpb.UNIT_KIND_PROVINCE, source_time=st))
        short = name.split(" ", 1)[1] if name.startswith("Tỉnh") else name
        for i, dep in enumerate(DEPARTMENTS[:3], start=1):
            out.append(pb.UnitRecord(code=f"{code}.S{i:02d}", name=f"{dep} {short}", kind=tpb.UNIT_KIND_DEPARTMENT,
                                     parent_code=code, source_time=st))
        for i in range(1, spec.communes_per_province + 1):
            out.append(pb.UnitRecord(code=f"{code}.X{i:03d}", name=f"UBND xã số {i} ({short})",
                                     kind=tpb.UNIT_KIND_COMMUNE, parent_code=code, source_time=st))
    return out


def procedures(source_time: datetime) -> list[pb.ProcedureRecord]:
    return [pb.ProcedureRecord(code=c, name=n, field=f, unit_code="B01", statutory_days=d,
                               issues_result_document=doc, applicants_are_individuals=True,
                               source_time=ts(source_time)) for c, n, f, d, doc in PROCEDURES]


def unit_procedures(unit_records: list[pb.UnitRecord], spec: DemoSpec, source_time: datetime):
    rng = random.Random(spec.seed + 1)
    st = ts(source_time)
    for u in unit_records:
        for code, _n, _f, _d, fee in PROCEDURES:
            level = rng.choices([1, 2, 3], weights=[1, 3, 6])[0]
            eligible = rng.random() < 0.8
            yield pb.UnitProcedureRecord(
                unit_code=u.code, procedure_code=code, online_level=level, online_service_status=1,
                has_fee=fee, payment_integrated=fee and rng.random() < 0.85,
                population_data_eligible=eligible, population_data_connected=eligible and rng.random() < 0.9,
                certified_copy=code == "1.000894", active=True, source_time=st)


def dossiers(unit_codes: list[str], count: int, spec: DemoSpec, now: datetime) -> Iterator[pb.DossierRecord]:
    """``count`` dossiers received in the spec's month (up to ``now``), spread over units."""
    rng = random.Random(spec.seed)
    start = datetime(spec.year, spec.month, 1, tzinfo=HANOI)
    end = min(now, (start + timedelta(days=32)).replace(day=1))
    span = max(1.0, (end - start).total_seconds())
    quality = {u: rng.uniform(0.75, 0.99) for u in unit_codes}
    for i in range(count):
        unit = unit_codes[rng.randrange(len(unit_codes))]
        code, _n, _f, days, fee = PROCEDURES[rng.randrange(len(PROCEDURES))]
        received = start + timedelta(seconds=rng.random() * span)
        due = received + timedelta(days=days * 1.4)
        q = quality[unit]
        rec = pb.DossierRecord(
            code=f"{unit}-{spec.year}{spec.month:02d}-{i:07d}", unit_code=unit, procedure_code=code,
            channel=rng.choices([1, 2, 3], weights=[q * 10, (1 - q) * 10 + 2, 1])[0],
            received_time=ts(received), due_time=ts(due),
            fee_amount=rng.choice([0, 50_000, 100_000, 200_000]) if fee else 0,
            digitised=rng.random() < q, reused_digitised_data=rng.random() < q * 0.6,
            linked_to_data_store=rng.random() < q * 0.7, used_population_data=rng.random() < q * 0.8,
            verified_eid=rng.random() < q * 0.7,
        )
        rec.paid_online = fee and rec.fee_amount > 0 and rng.random() < q
        if rec.paid_online:
            rec.payment_channel = pb.PAYMENT_CHANNEL_NATIONAL_PLATFORM
        supplements = rng.choices([0, 1, 2], weights=[85, 12, 3])[0]
        rec.supplement_count = supplements
        if supplements:
            asked = min(received + timedelta(hours=rng.uniform(2, 48)), received + (now - received) / 2)
            rec.last_supplement_time.CopyFrom(ts(asked))
        finish_after = timedelta(days=days * rng.uniform(0.2, 1.0 / q))
        finished = received + finish_after
        if finished < now:
            rec.end_time.CopyFrom(ts(finished))
            rec.end_state = rng.choices([2, 1, 3, 5], weights=[85, 8, 5, 2])[0]
            rec.electronic_result = rng.random() < q
            rec.synced_with_result_file = rec.electronic_result
            rec.rating = rng.choices([0, 1, 2, 3], weights=[40, 50, 7, 3])[0]
        else:
            rec.processing_state = (pb.PROCESSING_STATE_WAITING_SUPPLEMENT if supplements == 1 and rng.random() < 0.3
                                    else pb.PROCESSING_STATE_PROCESSING)
        rec.source_time.CopyFrom(ts(min(now, max(received, finished if finished < now else received))))
        yield rec
