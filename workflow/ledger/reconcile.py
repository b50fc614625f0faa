"""Reconcile the ledger's serial holdings with a CSV export of the national registry (TGO's T-VER registry).

The registry file is CSV in UTF-8 (a byte-order mark is allowed) with a header row. It has these
columns, in any order, and other columns are ignored:

    account_code   the holder's account code as this ledger names it: DLA, LAO-<7-digit DLA code>,
                   BUYER-<id>, DEPOSIT; for a retired or cancelled block it may be left empty
    serial_start   the first serial of the block, a whole number (commas and Thai digits allowed)
    serial_end     the last serial of the block, not less than serial_start
    status         active (held in an account), retired or cancelled

Blocks in the file must not overlap. The ledger's side is every open serial block: a block in
the retirement account counts as retired, one in the cancellation account as cancelled, and
every other block (available or reserved) as active in its account. The holder is compared
only for active blocks.
"""

from __future__ import annotations

import bisect
import csv
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.ledger.allocation import THAI_DIGITS
from workflow.ledger.errors import InvalidValue
from workflow.ledger.models import ACCOUNT_CANCELLATION, ACCOUNT_RETIREMENT, Account, SerialBlock

REQUIRED_COLUMNS = ("account_code", "serial_start", "serial_end", "status")
STATUS_ACTIVE = "active"
STATUS_RETIRED = "retired"
STATUS_CANCELLED = "cancelled"
STATUSES = (STATUS_ACTIVE, STATUS_RETIRED, STATUS_CANCELLED)
STATUS_NAMES_TH = {STATUS_ACTIVE: "คงอยู่ในบัญชี", STATUS_RETIRED: "ชดเชยแล้ว", STATUS_CANCELLED: "ยกเลิกแล้ว"}
MAX_ROWS = 200_000

# Kinds of difference.
MISSING_HERE = "missing_here"  # in the registry, not in this ledger
MISSING_THERE = "missing_there"  # in this ledger, not in the registry
STATUS_DIFFERS = "status"
HOLDER_DIFFERS = "holder"
DIFFERENCE_NAMES_TH = {
    MISSING_HERE: "มีในทะเบียนกลาง แต่ไม่มีในระบบนี้",
    MISSING_THERE: "มีในระบบนี้ แต่ไม่มีในทะเบียนกลาง",
    STATUS_DIFFERS: "สถานะไม่ตรงกัน",
    HOLDER_DIFFERS: "บัญชีผู้ถือไม่ตรงกัน",
}


@dataclass(frozen=True)
class Holding:
    """A block of serials with its status and, for an active block, its holder's account code."""

    serial_start: int
    serial_end: int
    status: str
    account_code: str


@dataclass(frozen=True)
class Difference:
    kind: str
    serial_start: int
    serial_end: int
    ledger: Holding | None
    registry: Holding | None

    @property
    def quantity(self) -> int:
        return self.serial_end - self.serial_start + 1


def _serial(raw: str | None, line: int, column: str) -> int:
    text = (raw or "").strip().replace(",", "").translate(THAI_DIGITS)
    if not (text.isascii() and text.isdigit()):
        raise InvalidValue("registry_csv_invalid_serial",
                           f"บรรทัด {line}: หมายเลข {column} “{text}” ต้องเป็นจำนวนเต็ม",
                           f"line {line}: {column} {text!r} is not a whole number")
    return int(text)


def _holding(row: dict[str, str | None], line: int) -> Holding:
    start = _serial(row["serial_start"], line, "serial_start")
    end = _serial(row["serial_end"], line, "serial_end")
    if end < start:
        raise InvalidValue("registry_csv_invalid_range",
                           f"บรรทัด {line}: serial_end {end:,} น้อยกว่า serial_start {start:,}",
                           f"line {line}: serial_end {end} is below serial_start {start}")
    status = (row["status"] or "").strip().lower()
    if status not in STATUSES:
        raise InvalidValue("registry_csv_invalid_status",
                           f"บรรทัด {line}: สถานะ “{status}” ต้องเป็น active, retired หรือ cancelled",
                           f"line {line}: status {status!r} is not one of {', '.join(STATUSES)}")
    code = (row["account_code"] or "").strip()
    if status == STATUS_ACTIVE and not code:
        raise InvalidValue("registry_csv_missing_account",
                           f"บรรทัด {line}: หน่วยที่คงอยู่ในบัญชีต้องระบุ account_code",
                           f"line {line}: an active block needs an account_code")
    return Holding(start, end, status, code if status == STATUS_ACTIVE else "")


def read_registry_csv(text: str) -> list[Holding]:
    """Parse the registry file described in the module docstring into holdings sorted by serial."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = fields
    missing = [name for name in REQUIRED_COLUMNS if name not in fields]
    if missing:
        raise InvalidValue("registry_csv_missing_columns", f"ไฟล์ทะเบียนกลางไม่มีคอลัมน์ {', '.join(missing)}",
                           f"the registry CSV lacks the columns {', '.join(missing)}")
    holdings: list[tuple[Holding, int]] = []
    try:
        for row in reader:
            # line_num counts physical lines, so blank lines and quoted line breaks keep it true to the file.
            line = reader.line_num
            if len(holdings) >= MAX_ROWS:
                raise InvalidValue("registry_csv_too_long", f"ไฟล์ทะเบียนกลางมีเกิน {MAX_ROWS:,} แถว กรุณาแบ่งไฟล์",
                                   f"the registry CSV has more than {MAX_ROWS} rows")
            holdings.append((_holding(row, line), line))
    except csv.Error as error:
        # The reader has not counted the line it failed on.
        line = reader.line_num + 1
        raise InvalidValue("registry_csv_unreadable", f"บรรทัด {line}: อ่านไฟล์ CSV ไม่ได้ ({error})",
                           f"line {line}: the registry CSV is malformed: {error}") from None
    if not holdings:
        raise InvalidValue("registry_csv_empty", "ไฟล์ทะเบียนกลางไม่มีข้อมูล", "the registry CSV has no rows")
    holdings.sort(key=lambda pair: pair[0].serial_start)
    for (before, _), (after, line) in zip(holdings, holdings[1:]):
        if after.serial_start <= before.serial_end:
            raise InvalidValue("registry_csv_overlap",
                               f"บรรทัด {line}: หมายเลข {after.serial_start:,}-{after.serial_end:,}"
                               f" ซ้อนกับช่วง {before.serial_start:,}-{before.serial_end:,}",
                               f"line {line}: block {after.serial_start}-{after.serial_end} overlaps"
                               f" {before.serial_start}-{before.serial_end}")
    return [holding for holding, _ in holdings]


def ledger_holdings(session: Session) -> list[Holding]:
    """Return every open serial block of the ledger as a holding, sorted by serial."""
    rows = session.execute(
        select(SerialBlock.serial_start, SerialBlock.serial_end, Account.kind, Account.code)
        .join(Account, Account.id == SerialBlock.account_id)
        .where(SerialBlock.closed_by_transaction_id.is_(None))
        .order_by(SerialBlock.serial_start)
    )
    holdings = []
    for start, end, kind, code in rows:
        if kind == ACCOUNT_RETIREMENT:
            holdings.append(Holding(start, end, STATUS_RETIRED, ""))
        elif kind == ACCOUNT_CANCELLATION:
            holdings.append(Holding(start, end, STATUS_CANCELLED, ""))
        else:
            holdings.append(Holding(start, end, STATUS_ACTIVE, code))
    return holdings


def _covering(holdings: list[Holding], starts: list[int], serial: int) -> Holding | None:
    index = bisect.bisect_right(starts, serial) - 1
    if index >= 0 and holdings[index].serial_end >= serial:
        return holdings[index]
    return None


def _classify(ours: Holding | None, theirs: Holding | None) -> str | None:
    if ours is None and theirs is None:
        return None
    if ours is None:
        return MISSING_HERE
    if theirs is None:
        return MISSING_THERE
    if ours.status != theirs.status:
        return STATUS_DIFFERS
    if ours.status == STATUS_ACTIVE and ours.account_code != theirs.account_code:
        return HOLDER_DIFFERS
    return None


def compare(ledger: list[Holding], registry: list[Holding]) -> list[Difference]:
    """List every serial range where the two sides differ, in serial order.

    Both lists must be sorted by serial and free of overlaps. The serial line is cut at every
    block boundary of either side; each piece is compared, and neighbouring pieces with the
    same difference and the same blocks on both sides are merged back into one range.
    """
    cuts = sorted({h.serial_start for h in ledger + registry} | {h.serial_end + 1 for h in ledger + registry})
    ledger_starts = [h.serial_start for h in ledger]
    registry_starts = [h.serial_start for h in registry]
    differences: list[Difference] = []
    for start, next_cut in zip(cuts, cuts[1:]):
        ours = _covering(ledger, ledger_starts, start)
        theirs = _covering(registry, registry_starts, start)
        kind = _classify(ours, theirs)
        if kind is None:
            continue
        last = differences[-1] if differences else None
        if last and last.kind == kind and last.serial_end + 1 == start and last.ledger == ours \
                and last.registry == theirs:
            differences[-1] = Difference(kind, last.serial_start, next_cut - 1, ours, theirs)
        else:
            differences.append(Difference(kind, start, next_cut - 1, ours, theirs))
    return differences


def reconcile(session: Session, registry_csv: str) -> list[Difference]:
    """Read the registry CSV and return its differences from the ledger's open serial blocks."""
    return compare(ledger_holdings(session), read_registry_csv(registry_csv))
