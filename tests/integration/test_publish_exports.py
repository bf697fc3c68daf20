"""Exports that open right, through the real servers on SQLite and PostgreSQL (the data of
``test_publish_history``: July and August 2026 for Phú Thọ, Hà Nội and Tuyên Quang).

Worked by hand for Tuyên Quang (H30, with its subtree) in August: 2.1 counts 1 dossier on time of 2
→ rate 50.00 %, threshold 100.00 %, 20 × 1/2 = 10.00 of 20.00 points. The August ranking is 1 H25,
2 H01, 2 H30 and July's was 1 H25, 2 H01, 3 H30: the rank changes are 0, 0 and +1.

XLSX files are read back with openpyxl cell by cell. LibreOffice (Debian's libreoffice-calc-nogui,
installed by ``make test``) opens them with its default headless conversion. Its default CSV import
ignores the byte-order mark and reads the file in a Western charset, so no CSV can open right that
way; the README says how to open one (Unicode (UTF-8), or ``--infilter=CSV:44,34,76,1``), and the
test holds that way to give back every name with its diacritics and every number as a number.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from decimal import Decimal

import grpc
import openpyxl
import pytest
from chiso.publish.v1 import publish_pb2 as pb
from chiso.types.v1 import types_pb2 as tpb

from tests.helpers import auth
from tests.integration import test_publish_history as history
from tests.integration.test_publish_history import AUG, PROVINCE, SUBTREE

world = history.world  # the same servers and data
ROMAN = ["I", "II", "III", "IV", "V", "VI"]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NAMES = {"H25": "UBND tỉnh Phú Thọ", "H01": "UBND thành phố Hà Nội", "H30": "UBND tỉnh Tuyên Quang"}
ENGLISH_BANDS = ("excellent", "good", "fair", "average", "weak")


def export(pub, fmt, **what):
    return pub.ExportResults(pb.ExportResultsRequest(format=fmt, **what))


def ranking_of(pub, period=AUG, feed=tpb.FEED_LIVE):
    return pb.GetRankingRequest(period=period, unit_kind=PROVINCE, feed=feed)


def workbook(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def cells(sheet):
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_ranking_as_xlsx_and_csv(world):
    pub = world["pub"]
    ranking = pub.GetRanking(ranking_of(pub)).ranking
    totals = {e.unit.code: e.total.value for e in ranking.entries}
    bands = {e.unit.code: e.classification for e in ranking.entries}
    vietnamese = {tpb.CLASSIFICATION_EXCELLENT: "Xuất sắc", tpb.CLASSIFICATION_GOOD: "Tốt",
                  tpb.CLASSIFICATION_FAIR: "Khá", tpb.CLASSIFICATION_AVERAGE: "Trung bình",
                  tpb.CLASSIFICATION_WEAK: "Yếu"}

    out = export(pub, pb.EXPORT_FORMAT_XLSX, ranking=ranking_of(pub))
    assert (out.content_type, out.filename) == (XLSX_TYPE, "ranking-2026-08-province-live.xlsx")
    book = workbook(out.content)
    (sheet,) = book.worksheets
    assert sheet.title == "Xếp hạng tháng 8-2026" and sheet.freeze_panes == "A2"
    header = ["Kỳ đánh giá", "Kết quả", "Phạm vi", "Hạng", "Hạng kỳ trước", "Thay đổi hạng", "Mã đơn vị",
              "Tên đơn vị", "Tổng điểm", "Xếp loại", "Bộ tiêu chí", "Tính đến"]
    rows = cells(sheet)
    assert rows[0] == header and all(c.font.bold for c in sheet[1])
    expected = [(1, 1, 0, "H25"), (2, 2, 0, "H01"), (2, 3, 1, "H30")]
    assert [r[:2] + r[3:11] for r in rows[1:]] == [
        ["tháng 8/2026", "Tạm tính", rank, before, change, code, NAMES[code], float(totals[code]),
         vietnamese[bands[code]], ranking.rule_version] for rank, before, change, code in expected]
    for row in sheet.iter_rows(min_row=2):
        assert [row[i].number_format for i in (3, 4, 5, 8, 11)] == ["0", "0", "0", "0.00", "dd/mm/yyyy hh:mm"]
        assert isinstance(row[8].value, (int, float)) and row[11].value.strftime("%d/%m/%Y %H:%M") == "01/09/2026 00:00"
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFGHIJKL"}
    assert widths["H"] >= len("UBND thành phố Hà Nội") and widths["A"] >= len("Kỳ đánh giá")

    as_csv = export(pub, pb.EXPORT_FORMAT_CSV, ranking=ranking_of(pub))
    assert as_csv.content.startswith(b"\xef\xbb\xbf") and as_csv.content_type == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert table[0] == header
    assert [r[3:10] for r in table[1:]] == [
        [str(rank), str(before), str(change), code, NAMES[code], f"{Decimal(totals[code]):.2f}",
         vietnamese[bands[code]]] for rank, before, change, code in expected]
    assert not any(word in as_csv.content.decode("utf-8-sig").lower().split(",") for word in ENGLISH_BANDS)


def test_scorecard_and_publication_as_xlsx_and_csv(world):
    pub, tokens = world["pub"], world["tokens"]
    card = pb.GetScorecardRequest(unit_code="H30", period=AUG, scope=SUBTREE)
    published = pub.GetScorecard(card).scorecard.scorecard
    out = export(pub, pb.EXPORT_FORMAT_XLSX, scorecard=card)
    assert out.filename == "scorecard-h30-2026-08-subtree-live.xlsx"
    book = workbook(out.content)
    assert book.sheetnames == ["Chỉ số", "Tổng hợp"]
    indicators, summary = book.worksheets
    rows = cells(indicators)
    assert rows[0] == ["Mã đơn vị", "Tên đơn vị", "Kỳ đánh giá", "Phạm vi", "Kết quả", "Nhóm", "Mã chỉ số",
                       "Tên chỉ số", "Tử số", "Mẫu số", "Tỷ lệ (%)", "Ngưỡng (%)", "Điểm tối đa", "Điểm", "Trạng thái",
                       "Ghi chú"]
    assert [r[6] for r in rows[1:]] == [i.id for i in published.indicators]  # every indicator, in order
    row_21 = next(r for r in rows[1:] if r[6] == "2.1")
    assert row_21[:5] == ["H30", NAMES["H30"], "tháng 8/2026", "Đơn vị và các đơn vị trực thuộc", "Tạm tính"]
    assert row_21[8:15] == [1, 2, 50.0, 100.0, 20.0, 10.0, "Tính điểm"]  # worked by hand
    line_21 = next(line for line in indicators.iter_rows(min_row=2) if line[6].value == "2.1")
    assert [c.number_format for c in line_21[8:14]] == ["0", "0", "0.00", "0.00", "0.00", "0.00"]
    assert indicators.freeze_panes == "A2" and summary.freeze_panes == "A2"
    last = cells(summary)[-1]
    assert last[5:] == ["Tổng điểm", 100.0, float(published.total.value), published.classification_label]
    assert [r[5] for r in cells(summary)[1:-1]] == [f"Nhóm {ROMAN[int(g.id) - 1]}. {g.name}"
                                                    for g in published.groups]

    as_csv = export(pub, pb.EXPORT_FORMAT_CSV, scorecard=card).content.decode("utf-8-sig")
    line = next(r for r in csv.reader(io.StringIO(as_csv)) if r[6] == "2.1")
    assert line[8:15] == ["1", "2", "50.00", "100.00", "20.00", "10.00", "Tính điểm"]

    # a publication: rows in rank order with each group's and indicator's points
    aug = pub.CreatePublication(pb.CreatePublicationRequest(request_id="aug-x", period=AUG, unit_kind=PROVINCE,
                                                            scope=SUBTREE), metadata=auth(tokens.operator)).publication
    out = export(pub, pb.EXPORT_FORMAT_XLSX, publication_id=aug.publication_id)
    assert out.filename == f"{aug.publication_id}-r1.xlsx"
    (sheet,) = workbook(out.content).worksheets
    rows = cells(sheet)
    cards = {s.unit.code: s for s in aug.scorecards}
    groups = [f"Nhóm {ROMAN[int(g.id) - 1]}. {g.name} ({Decimal(g.max_points.value):.2f}".removesuffix(".00")
              + " điểm)" for g in cards["H30"].groups]
    assert rows[0][:10] == ["Mã công bố", "Lần ban hành", "Kỳ đánh giá", "Bộ tiêu chí", "Hạng", "Mã đơn vị",
                            "Tên đơn vị", "Phạm vi", "Tổng điểm", "Xếp loại"]
    assert rows[0][10:10 + len(groups)] == groups
    assert [(r[4], r[5], r[6]) for r in rows[1:]] == [(1, "H25", NAMES["H25"]), (2, "H01", NAMES["H01"]),
                                                      (2, "H30", NAMES["H30"])]
    for r in rows[1:]:
        sc = cards[r[5]]
        assert r[8] == float(sc.total.value) and r[9] == sc.classification_label
        assert r[10:] == [float(g.points.value) for g in sc.groups] + [float(i.points.value) for i in sc.indicators]
    numbers = [sheet[2][8], *sheet[2][10:]]  # the total, the groups' and indicators' points
    assert {c.number_format for c in numbers if c.value is not None} == {"0.00"}

    with pytest.raises(grpc.RpcError) as err:
        export(pub, pb.EXPORT_FORMAT_XLSX, publication_id=aug.publication_id, scorecard=card)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        export(pub, pb.EXPORT_FORMAT_XLSX, scorecard=pb.GetScorecardRequest(unit_code="H99", period=AUG))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def _soffice():
    found = shutil.which("soffice")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("soffice is missing: `make test` installs libreoffice-calc-nogui")
        pytest.skip("soffice is missing (Debian libreoffice-calc-nogui; `make test` installs it)")
    return found


def _convert(soffice, tmp_path, source, *options):
    out = tmp_path / "out"
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", *options,
                           "--convert-to", "xlsx", "--outdir", str(out), str(source)],
                          capture_output=True, text=True, timeout=180)
    target = out / (source.stem + ".xlsx")
    assert done.returncode == 0 and target.exists(), done.stderr
    book = openpyxl.load_workbook(target)
    target.unlink()
    return book


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_libreoffice_opens_the_exports(world, tmp_path):
    soffice = _soffice()
    pub = world["pub"]
    xlsx = export(pub, pb.EXPORT_FORMAT_XLSX, ranking=ranking_of(pub))
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / xlsx.filename
    source.write_bytes(xlsx.content)
    sheet = _convert(soffice, tmp_path, source).active  # LibreOffice's default: the workbook as we wrote it
    mine = workbook(xlsx.content).active
    assert cells(sheet) == cells(mine)
    assert sheet["I2"].number_format == "0.00" and sheet["D2"].number_format == "0"
    assert [sheet.cell(r, 8).value for r in (2, 3, 4)] == [NAMES["H25"], NAMES["H01"], NAMES["H30"]]

    as_csv = export(pub, pb.EXPORT_FORMAT_CSV, ranking=ranking_of(pub))
    source = tmp_path / "in" / as_csv.filename
    source.write_bytes(as_csv.content)
    # the way the README gives: Unicode (UTF-8), comma-separated, double-quoted text
    sheet = _convert(soffice, tmp_path, source, "--infilter=CSV:44,34,76,1").active
    rows = cells(sheet)
    assert rows[0] == cells(mine)[0]  # the Vietnamese headers, byte-order mark dropped
    assert [r[6:10] for r in rows[1:]] == [r[6:10] for r in cells(mine)[1:]]  # names, totals as numbers, bands
    assert all(isinstance(r[8], (int, float)) for r in rows[1:])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_admin_command_writes_xlsx_and_csv(world, tmp_path, capsys):
    from services.publish import admin_cli

    target = world["handle"].address
    ranking = tmp_path / "ranking.xlsx"
    assert admin_cli.main(["--target", target, "export", "--period", "2026-08", "--kind", "province",
                           "--format", "xlsx", "--out", str(ranking)]) == 0
    rows = cells(workbook(ranking.read_bytes()).active)
    assert [(r[3], r[6], r[7]) for r in rows[1:]] == [(1, "H25", NAMES["H25"]), (2, "H01", NAMES["H01"]),
                                                     (2, "H30", NAMES["H30"])]
    card = tmp_path / "h30.csv"
    assert admin_cli.main(["--target", target, "export", "--period", "2026-08", "--unit", "H30", "--scope", "subtree",
                           "--format", "csv", "--out", str(card)]) == 0
    line = next(r for r in csv.reader(io.StringIO(card.read_bytes().decode("utf-8-sig"))) if r[6] == "2.1")
    assert line[:2] == ["H30", NAMES["H30"]] and line[8:14] == ["1", "2", "50.00", "100.00", "20.00", "10.00"]
    printed = capsys.readouterr().out
    assert XLSX_TYPE in printed and "text/csv" in printed
