"""XLSX writer of export tables (``services.publish.domain.exports.Table``) over openpyxl.

Each table is a sheet: a bold, wrapped header row, frozen, with a filter; numbers as numbers
(whole numbers "0", the rest "0.00" — a spreadsheet in a Vietnamese locale shows "80,24"); instants
as dates "dd/mm/yyyy hh:mm" (Asia/Ho_Chi_Minh wall time: spreadsheets know no zones); every column
as wide as its longest value (headers wrap past 40 characters, values are cut at 60).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from services.publish.domain.exports import DECIMAL2, INSTANT, INTEGER, Table, shown

NUMBER_FORMATS = {DECIMAL2: "0.00", INTEGER: "0", INSTANT: "dd/mm/yyyy hh:mm"}
HEADER_WIDTH, VALUE_WIDTH = 40, 60


def workbook_bytes(tables: Sequence[Table]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(_title(table.title))
        sheet.append([c.header for c in table.columns])
        for row in table.rows:
            sheet.append([_cell(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for index, column in enumerate(table.columns, start=1):
            fmt = NUMBER_FORMATS.get(column.kind)
            if fmt:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = fmt
            longest = max((len(shown(row[index - 1], column.kind)) for row in table.rows), default=0)
            width = max(min(len(column.header), HEADER_WIDTH), min(longest, VALUE_WIDTH), 6)
            sheet.column_dimensions[get_column_letter(index)].width = width + 2
        sheet.freeze_panes = "A2"
        if table.columns:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{max(1, len(table.rows) + 1)}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value, kind: str):
    if isinstance(value, Decimal):
        return int(value) if kind == INTEGER else float(value)
    if kind == INSTANT and value is not None:
        return value.replace(tzinfo=None)
    return value


def _title(text: str) -> str:
    for bad in "[]:*?/\\":
        text = text.replace(bad, "-")
    return text[:31] or "Sheet"
