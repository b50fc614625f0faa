"""Export the answers collected for a circular as XLSX or CSV, to attach to the reply upward.

Headers are Thai, dates are Buddhist-era text (`13 เมษายน 2568`), and status codes are shown
with their Thai labels. CSV is UTF-8 with a byte-order mark, which Excel on Thai Windows needs
to read it as UTF-8 instead of the Windows-874 code page.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from workflow.errors import InvalidValue
from workflow.thaidate import format_be_date, format_be_datetime

FORMATS = ("xlsx", "csv")
# Flask's Response(mimetype=...) adds "; charset=utf-8" to text types itself.
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}
# Excel accepts at most 31 characters in a sheet name.
MAX_SHEET_TITLE = 31
# Automatic widths stop here, so that one long value does not push the other columns off screen.
MAX_COLUMN_WIDTH = 60
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class Column:
    """One exported column: the row key, the Thai header, and how to show the value.

    `labels` maps stored codes (e.g. a status `confirmed`) to the Thai words shown; a code
    missing from it is shown as stored. `width` is in Excel character units; None sizes the
    column to its longest value.
    """

    key: str
    header: str
    labels: Mapping[str, str] = field(default_factory=dict)
    width: float | None = None


ASSIGNMENT_STATUS_LABELS = {
    "pending": "รอการยืนยัน",
    "confirmed": "ยืนยันแล้ว",
    "overdue": "เกินกำหนด",
    "returned": "ส่งกลับแก้ไข",
}

# The columns of the carbon-credit circular's reply: each LAO's responsible officer.
CARBON_CREDIT_OFFICER_COLUMNS = (
    Column("province", "จังหวัด"),
    Column("district", "อำเภอ"),
    Column("lao_code", "รหัส อปท."),
    Column("lao_name", "ชื่อ อปท."),
    Column("officer_name", "ชื่อ-สกุลผู้รับผิดชอบ"),
    Column("officer_position", "ตำแหน่ง"),
    Column("phone", "หมายเลขโทรศัพท์"),
    Column("email", "ไปรษณีย์อิเล็กทรอนิกส์"),
    Column("confirmed_at", "วันที่ยืนยัน"),
    Column("status", "สถานะ", labels=ASSIGNMENT_STATUS_LABELS),
)


def export_answers(columns: Sequence[Column], rows: Iterable[Mapping[str, object]], fmt: str,
                   sheet_title: str = "คำตอบ") -> bytes:
    """Write the rows as a spreadsheet; return the file's bytes.

    `fmt` is `xlsx` or `csv`. Every row is a mapping from column key to value; a missing key
    or None gives an empty cell. Dates become `13 เมษายน 2568`, moments `13 เมษายน 2568 เวลา
    10:15 น.` in Thai time (naive datetimes are taken as UTC), and numbers stay numbers.
    Raises InvalidValue for an unknown format or an empty column list.
    """
    if fmt not in FORMATS:
        raise InvalidValue("invalid_export_format", f"ไม่รองรับรูปแบบไฟล์ {fmt}: เลือกได้เฉพาะ XLSX หรือ CSV",
                           f"export format must be one of {FORMATS}, got {fmt!r}")
    if not columns:
        raise InvalidValue("missing_export_columns", "ยังไม่ได้เลือกคอลัมน์ที่จะส่งออก", "columns is empty")
    table = [[display_value(column, row.get(column.key)) for column in columns] for row in rows]
    if fmt == "csv":
        return _write_csv(columns, table)
    return _write_xlsx(columns, table, sheet_title)


def display_value(column: Column, value: object) -> str | int | float:
    """Return the value as the export shows it: Thai labels, Buddhist-era dates, plain numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ใช่" if value else "ไม่ใช่"
    if isinstance(value, datetime):
        return format_be_datetime(value)
    if isinstance(value, date):
        return format_be_date(value)
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return column.labels.get(text, text)


def _write_csv(columns: Sequence[Column], table: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    for values in table:
        writer.writerow([_neutralize_formula(value) for value in values])
    return buffer.getvalue().encode("utf-8-sig")


def _neutralize_formula(value: str | int | float) -> str | int | float:
    # A leading apostrophe makes Excel keep the cell as text (OWASP's advice for CSV injection).
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _write_xlsx(columns: Sequence[Column], table: list[list], sheet_title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _safe_sheet_title(sheet_title)
    sheet.append([column.header for column in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for values in table:
        sheet.append(values)
    # Codes and phone numbers such as `0 5373 1234` stay text. A value that starts with `=`
    # stays text too, because openpyxl would otherwise write it as a formula.
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                cell.number_format = "@"
    for index, column in enumerate(columns, start=1):
        width = column.width or _fitting_width(column.header, (values[index - 1] for values in table))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(table) + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _safe_sheet_title(title: str) -> str:
    cleaned = "".join("-" if char in "[]:*?/\\" else char for char in title).strip() or "คำตอบ"
    return cleaned[:MAX_SHEET_TITLE]


def _fitting_width(header: str, values: Iterable[object]) -> float:
    longest = max([display_length(header), *(display_length(str(value)) for value in values)])
    return min(MAX_COLUMN_WIDTH, longest + 2)


def display_length(text: str) -> int:
    """Count the characters that take room on a line: Thai vowel and tone marks above or below do not."""
    return sum(1 for char in text if unicodedata.category(char) != "Mn")
