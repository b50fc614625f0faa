"""The `saraban ledger verify`, `saraban ledger balances` and `saraban ledger demo` commands."""

from __future__ import annotations

import json
import sys

from sqlalchemy import inspect

from workflow.config import config_from_env
from workflow.db import Database, upgrade_to_head
from workflow.errors import WorkflowError

EXIT_OK = 0
EXIT_FAILED = 1


def _with_session(run) -> int:
    database = Database(config_from_env()["DATABASE_URL"])
    try:
        if not inspect(database.engine).has_table("ledger_events"):
            sys.stderr.write("ฐานข้อมูลยังไม่มีตารางบัญชีคาร์บอนเครดิต กรุณารัน saraban init-db ก่อน"
                             " / the database has no ledger tables; run saraban init-db\n")
            return EXIT_FAILED
        session = database.session()
        try:
            return run(session)
        except WorkflowError as error:
            sys.stderr.write(f"{error.message_th} / {error.message_en} [{error.code}]\n")
            return EXIT_FAILED
        finally:
            session.close()
    finally:
        database.dispose()


def verify_command(as_json: bool) -> int:
    """Print the verification result; exit 1 when the ledger does not verify."""
    from workflow.ledger.verify import verify

    def run(session) -> int:
        result = verify(session)
        if as_json:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        elif result["ok"]:
            sys.stdout.write(f"บัญชีถูกต้อง: เหตุการณ์ {result['events']:,} รายการ บัญชี {result['accounts']:,} บัญชี\n")
        else:
            sys.stdout.write(f"บัญชีไม่ถูกต้อง พบปัญหา {len(result['problems'])} รายการ\n")
            for problem in result["problems"]:
                sys.stdout.write(f"  เหตุการณ์ {problem['event']} ตาราง {problem['table']} แถว {problem['row']}:"
                                 f" {problem['reason']}\n")
        return EXIT_OK if result["ok"] else EXIT_FAILED

    return _with_session(run)


def balances_command(as_json: bool, by: str | None) -> int:
    """Print the totals and account balances, or the LAO balances summed by `by` (lao, district, province)."""
    from workflow.ledger.reports import balances, balances_by_area

    def run(session) -> int:
        result = balances_by_area(session, by) if by else balances(session)
        if as_json:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            return EXIT_OK
        if by:
            for row in result:
                sys.stdout.write(f"{row['area']}: {row['accounts']} บัญชี คงเหลือ {row['balance']:,} tCO2e"
                                 f" รายได้ {row['income_satang'] / 100:,.2f} บาท\n")
            return EXIT_OK
        sys.stdout.write(f"ออกแล้ว {result['total_issued']:,} tCO2e ถือครอง {result['total_held']:,}"
                         f" ชดเชยแล้ว {result['total_retired']:,} ยกเลิก {result['total_cancelled']:,}\n")
        for row in result["accounts"]:
            sys.stdout.write(f"  {row['account']}  {row['owner']}  {row['balance']:,}\n")
        return EXIT_OK

    return _with_session(run)


def demo_command() -> int:
    """Load the routing demo, then the ledger demo: a round for Chiang Rai's LAOs, one sale, one retirement."""
    from workflow.ledger.demo import load
    from workflow.routing.demo import run_demo

    config = config_from_env()
    upgrade_to_head(config["DATABASE_URL"])
    database = Database(config["DATABASE_URL"])
    session = database.session()
    try:
        run_demo(session)
        summary = load(session)
    except WorkflowError as error:
        sys.stderr.write(f"{error.message_th} / {error.message_en} [{error.code}]\n")
        return EXIT_FAILED
    finally:
        session.close()
        database.dispose()
    sys.stdout.write(summary + "\n")
    return EXIT_OK


def statement_command(account_code: str, as_json: bool) -> int:
    """Print an account's entries with running balances, tonnes and satang apart."""
    from workflow.ledger.reports import BUCKET_NAMES_TH, KIND_NAMES_TH, statement

    def run(session) -> int:
        lines = statement(session, account_code)
        if as_json:
            sys.stdout.write(json.dumps(lines, ensure_ascii=False) + "\n")
            return EXIT_OK
        for line in lines:
            if line["unit"] == "satang":
                amount = f"{line['amount'] / 100:,.2f} บาท คงเหลือ {line['balance'] / 100:,.2f} บาท"
            else:
                amount = f"{line['amount']:,} tCO2e คงเหลือ {line['balance']:,} tCO2e"
            kind = KIND_NAMES_TH.get(line["kind"], line["kind"])
            bucket = BUCKET_NAMES_TH.get(line["bucket"], line["bucket"])
            sys.stdout.write(f"รายการ {line['transaction']} {kind} ({bucket}) {amount}"
                             f"  ตามหนังสือ {line['letter_reference']}\n")
        return EXIT_OK

    return _with_session(run)


def certificate_command(transaction_id: int, output: str) -> int:
    """Write the sale or retirement certificate of a transaction to `output` as PDF."""
    from pathlib import Path

    from workflow.ledger.certificates import certificate_pdf

    def run(session) -> int:
        Path(output).write_bytes(certificate_pdf(session, transaction_id))
        sys.stdout.write(f"บันทึกหนังสือรับรองไว้ที่ {output}\n")
        return EXIT_OK

    return _with_session(run)
