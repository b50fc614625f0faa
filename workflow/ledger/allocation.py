"""Share a certification round among LAOs in proportion to their verified bins.

The bins file is CSV in UTF-8 (a byte-order mark is allowed) with a header row. It has these
columns, in any order, and other columns are ignored:

    lao_code        the LAO's 7-digit DLA code, e.g. 5570901
    verified_bins   the number of wet-waste bins verified for the round, a whole number > 0

Each LAO appears once. Thai digits and thousands separators in the count are accepted. Shares use the largest-remainder (Hamilton) method, so the whole
tonnes add up to the quantity exactly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from workflow.ledger.errors import InvalidValue

REQUIRED_COLUMNS = ("lao_code", "verified_bins")
# Thai digits (๐-๙) are read as 0-9.
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


@dataclass(frozen=True)
class Share:
    lao_code: str
    bins: int
    quantity: int


def largest_remainder(quantity: int, bins: dict[str, int]) -> list[Share]:
    """Split `quantity` whole tonnes in proportion to `bins`, returning one share per LAO code.

    Each LAO first gets the whole part of quantity * bins / total bins. The tonnes left over
    go one each to the largest fractional parts. Ties go to the LAO with more bins, then to
    the lower LAO code, so the result never depends on the order of the rows.
    """
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    total = sum(bins.values())
    if total <= 0:
        raise ValueError("there must be at least one verified bin")
    floors = {code: quantity * count // total for code, count in bins.items()}
    remainders = {code: quantity * count % total for code, count in bins.items()}
    left = quantity - sum(floors.values())
    order = sorted(bins, key=lambda code: (-remainders[code], -bins[code], code))
    for code in order[:left]:
        floors[code] += 1
    return [Share(code, bins[code], floors[code]) for code in sorted(bins)]


def read_bins_csv(text: str) -> dict[str, int]:
    """Parse the bins file described in the module docstring into {lao_code: verified_bins}."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as error:
        raise InvalidValue("bins_csv_unreadable", f"บรรทัด 1: อ่านแถวหัวตารางของไฟล์ CSV ไม่ได้ ({error})",
                           f"line 1: the bins CSV header is malformed: {error}") from None
    reader.fieldnames = header
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InvalidValue(
            "bins_csv_missing_columns",
            f"ไฟล์จำนวนถังขยะเปียกไม่มีคอลัมน์ {', '.join(missing)}",
            f"the bins CSV lacks the columns {', '.join(missing)}",
        )
    bins: dict[str, int] = {}
    try:
        for row in reader:
            # line_num counts physical lines, so blank lines and quoted line breaks keep it true to the file.
            _add_bins_row(bins, reader.line_num, row)
    except csv.Error as error:
        # The reader has not counted the line it failed on.
        line = reader.line_num + 1
        raise InvalidValue("bins_csv_unreadable", f"บรรทัด {line}: อ่านไฟล์ CSV ไม่ได้ ({error})",
                           f"line {line}: the bins CSV is malformed: {error}") from None
    if not bins:
        raise InvalidValue("bins_csv_empty", "ไฟล์จำนวนถังขยะเปียกไม่มีข้อมูล", "the bins CSV has no rows")
    return bins


def _add_bins_row(bins: dict[str, int], line: int, row: dict[str, str | None]) -> None:
    code = (row["lao_code"] or "").strip().translate(THAI_DIGITS)
    raw = (row["verified_bins"] or "").strip().replace(",", "").translate(THAI_DIGITS)
    if not (len(code) == 7 and code.isascii() and code.isdigit()):
        raise InvalidValue("bins_csv_invalid_code", f"บรรทัด {line}: รหัส อปท. “{code}” ไม่ใช่ตัวเลข 7 หลัก",
                           f"line {line}: LAO code {code!r} is not 7 digits")
    if not (raw.isascii() and raw.isdigit()) or int(raw) <= 0:
        raise InvalidValue("bins_csv_invalid_count", f"บรรทัด {line}: จำนวนถัง “{raw}” ต้องเป็นจำนวนเต็มบวก",
                           f"line {line}: bin count {raw!r} is not a positive whole number")
    if code in bins:
        raise InvalidValue("bins_csv_duplicate", f"บรรทัด {line}: รหัส อปท. {code} ซ้ำกับบรรทัดก่อนหน้า",
                           f"line {line}: LAO code {code} appears twice")
    bins[code] = int(raw)
