"""Exports of the responsible officers the 10 LAOs of อำเภอแม่สาย named for the carbon-credit circular."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import openpyxl
import pytest

from workflow.documents.exports import (
    CARBON_CREDIT_OFFICER_COLUMNS,
    Column,
    display_length,
    export_answers,
)
from workflow.errors import InvalidValue

HEADERS = [
    "จังหวัด", "อำเภอ", "รหัส อปท.", "ชื่อ อปท.", "ชื่อ-สกุลผู้รับผิดชอบ", "ตำแหน่ง",
    "หมายเลขโทรศัพท์", "ไปรษณีย์อิเล็กทรอนิกส์", "วันที่ยืนยัน", "สถานะ",
]


def officer_rows() -> list[dict]:
    laos = [
        ("5570901", "เทศบาลตำบลแม่สาย"), ("5570902", "เทศบาลตำบลห้วยไคร้"),
        ("5570903", "เทศบาลตำบลเวียงพางคำ"), ("5570904", "เทศบาลตำบลแม่สายมิตรภาพ"),
        ("6570905", "องค์การบริหารส่วนตำบลเกาะช้าง"), ("6570906", "องค์การบริหารส่วนตำบลโป่งงาม"),
        ("6570907", "องค์การบริหารส่วนตำบลโป่งผา"), ("6570908", "องค์การบริหารส่วนตำบลศรีเมืองชุม"),
        ("6570909", "องค์การบริหารส่วนตำบลบ้านด้าย"), ("6570910", "องค์การบริหารส่วนตำบลห้วยไคร้"),
    ]
    rows = []
    for index, (code, name) in enumerate(laos):
        confirmed = index < 7
        rows.append({
            "province": "เชียงราย",
            "district": "แม่สาย",
            "lao_code": code,
            "lao_name": name,
            "officer_name": f"นางสาวกนกวรรณ ใจคำ{index}" if confirmed else None,
            "officer_position": "นักวิชาการสิ่งแวดล้อมชำนาญการ" if confirmed else None,
            "phone": f"0 5373 12{index:02d}" if confirmed else None,
            "email": f"lao{code}@example.go.th" if confirmed else None,
            "confirmed_at": datetime(2025, 4, 8, 3, 15, tzinfo=timezone.utc) if confirmed else None,
            "status": "confirmed" if confirmed else "pending",
        })
    return rows


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_starts_with_bom():
    data = export_answers(CARBON_CREDIT_OFFICER_COLUMNS, officer_rows(), "csv")
    assert data.startswith(b"\xef\xbb\xbf")


def test_csv_has_thai_headers_and_all_rows():
    rows = read_csv(export_answers(CARBON_CREDIT_OFFICER_COLUMNS, officer_rows(), "csv"))
    assert rows[0] == HEADERS
    assert len(rows) == 11


def test_csv_values_as_shown():
    rows = read_csv(export_answers(CARBON_CREDIT_OFFICER_COLUMNS, officer_rows(), "csv"))
    first = dict(zip(HEADERS, rows[1]))
    assert first["รหัส อปท."] == "5570901"
    assert first["หมายเลขโทรศัพท์"] == "0 5373 1200"
    assert first["วันที่ยืนยัน"] == "8 เมษายน 2568 เวลา 10:15 น."
    assert first["สถานะ"] == "ยืนยันแล้ว"
    last = dict(zip(HEADERS, rows[10]))
    assert last["ชื่อ อปท."] == "องค์การบริหารส่วนตำบลห้วยไคร้"
    assert last["ชื่อ-สกุลผู้รับผิดชอบ"] == ""
    assert last["สถานะ"] == "รอการยืนยัน"


def test_csv_keeps_formula_text_inert():
    columns = [Column("officer_name", "ชื่อ-สกุลผู้รับผิดชอบ")]
    rows = read_csv(export_answers(columns, [{"officer_name": "=HYPERLINK(\"x\")"}], "csv"))
    assert rows[1] == ["'=HYPERLINK(\"x\")"]


def test_xlsx_header_bold_and_frozen():
    data = export_answers(CARBON_CREDIT_OFFICER_COLUMNS, officer_rows(), "xlsx", sheet_title="ผู้รับผิดชอบ อ.แม่สาย")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.title == "ผู้รับผิดชอบ อ.แม่สาย"
    assert [cell.value for cell in sheet[1]] == HEADERS
    for cell in sheet[1]:
        assert cell.font.bold
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 11


def test_xlsx_column_widths_fit_thai_names():
    data = export_answers(CARBON_CREDIT_OFFICER_COLUMNS, officer_rows(), "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    name_width = sheet.column_dimensions["D"].width
    assert name_width >= display_length("องค์การบริหารส่วนตำบลศรีเมืองชุม")
    assert sheet.column_dimensions["A"].width >= display_length("จังหวัด")


def test_xlsx_values_are_text_dates_and_codes():
    data = export_answers(CARBON_CREDIT_OFFICER_COLUMNS, officer_rows(), "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    row = [cell.value for cell in sheet[2]]
    assert row[2] == "5570901"
    assert row[6] == "0 5373 1200"
    assert row[8] == "8 เมษายน 2568 เวลา 10:15 น."
    assert row[9] == "ยืนยันแล้ว"


def test_xlsx_formula_text_stays_text():
    columns = [Column("officer_name", "ชื่อ-สกุลผู้รับผิดชอบ")]
    data = export_answers(columns, [{"officer_name": "=1+1"}], "xlsx")
    cell = openpyxl.load_workbook(io.BytesIO(data)).active["A2"]
    assert cell.value == "=1+1"
    assert cell.data_type == "s"


def test_dates_and_numbers():
    columns = [Column("due", "กำหนดส่ง"), Column("bins", "จำนวนถังขยะเปียก")]
    rows = [{"due": date(2025, 4, 9), "bins": 412}]
    csv_rows = read_csv(export_answers(columns, rows, "csv"))
    assert csv_rows[1] == ["9 เมษายน 2568", "412"]
    sheet = openpyxl.load_workbook(io.BytesIO(export_answers(columns, rows, "xlsx"))).active
    assert sheet["A2"].value == "9 เมษายน 2568"
    assert sheet["B2"].value == 412


def test_empty_rows_give_header_only():
    rows = read_csv(export_answers(CARBON_CREDIT_OFFICER_COLUMNS, [], "csv"))
    assert rows == [HEADERS]


@pytest.mark.parametrize("fmt", ["pdf", "XLSX", ""])
def test_unknown_format_rejected(fmt):
    with pytest.raises(InvalidValue) as raised:
        export_answers(CARBON_CREDIT_OFFICER_COLUMNS, officer_rows(), fmt)
    assert raised.value.code == "invalid_export_format"


def test_no_columns_rejected():
    with pytest.raises(InvalidValue) as raised:
        export_answers([], officer_rows(), "csv")
    assert raised.value.code == "missing_export_columns"
