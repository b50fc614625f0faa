"""The `saraban ledger` commands: verify, balances, statement, certificate, demo and import-bins."""

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


def _add_document_problems(result: dict, problems: list[dict]) -> None:
    """Fold problems of buyers' identity documents into a `verify` result, in its problem format."""
    for problem in problems:
        result["problems"].append({"event": None, "sequence": None, "kind": None, "table": "ledger_buyer_documents",
                                   "row": problem["row"], "reason": problem["reason"]})
    if problems:
        result["ok"] = False
        if result["first_break"] is None:
            result["first_break"] = result["problems"][-len(problems)]


def verify_command(as_json: bool) -> int:
    """Print the verification result, buyers' identity documents included.

    Returns 1 when the ledger does not verify, else 0.
    """
    from workflow.ledger.buyers import check_buyer_documents
    from workflow.ledger.verify import verify
    from workflow.storage import OriginalStore

    store = OriginalStore(config_from_env()["SARABAN_STORAGE"])

    def run(session) -> int:
        result = verify(session)
        _add_document_problems(result, check_buyer_documents(session, store))
        if as_json:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        elif result["ok"]:
            sys.stdout.write(f"บัญชีถูกต้อง: เหตุการณ์ {result['events']:,} รายการ บัญชี {result['accounts']:,} บัญชี\n")
        else:
            sys.stdout.write(f"บัญชีไม่ถูกต้อง พบปัญหา {len(result['problems'])} รายการ\n")
            for problem in result["problems"]:
                event = f"เหตุการณ์ {problem['event']} " if problem["event"] is not None else ""
                sys.stdout.write(f"  {event}ตาราง {problem['table']} แถว {problem['row']}: {problem['reason']}\n")
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


def import_bins_command(path: str, round_number: int, username: str, letter_reference: str,
                        quantity: int | None = None, dry_run: bool = False, as_json: bool = False) -> int:
    """Read a verified-bins CSV and prepare the allocation of a round as the DLA officer `username`.

    The file goes through the parser of the DLA allocation page, so a bad row stops the import
    with its line number and error code and nothing is prepared. With `dry_run`, only the
    shares are printed. The idempotency key is derived from the file's bytes, the round and
    the quantity, so running the same import again returns the request it prepared the first time.
    """
    import hashlib
    from pathlib import Path

    from sqlalchemy import select

    from workflow.ledger import operations, queries
    from workflow.ledger.allocation import largest_remainder, read_bins_csv
    from workflow.ledger.errors import InvalidValue, NotFound
    from workflow.models import User

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        sys.stderr.write(f"อ่านไฟล์ {path} ไม่ได้ / cannot read {path}: {error.strerror} [file_unreadable]\n")
        return EXIT_FAILED

    def run(session) -> int:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidValue("invalid_encoding", f"ไฟล์ {path} ต้องเป็น CSV แบบ UTF-8 (ไบต์ที่ {error.start + 1})",
                               f"{path} is not UTF-8 at byte {error.start + 1}") from None
        bins = read_bins_csv(text)
        certification = next((item for item in queries.rounds(session) if item.round_number == round_number), None)
        if certification is None:
            raise NotFound("round_not_found", f"ไม่พบรอบการรับรองที่ {round_number}", f"round {round_number} not found")
        in_dla_account = queries.units_held_by_dla(session, certification.id)
        if in_dla_account == 0:
            raise InvalidValue("round_fully_allocated",
                               f"กรมไม่มีหน่วยของรอบการรับรองที่ {round_number} เหลือให้จัดสรร",
                               f"DLA holds no units of round {round_number}")
        tonnes = in_dla_account if quantity is None else quantity
        if tonnes <= 0 or tonnes > in_dla_account:
            raise InvalidValue("invalid_quantity",
                               f"จำนวนที่จัดสรร {tonnes:,} tCO2e ต้องมากกว่าศูนย์"
                               f"และไม่เกินที่กรมถืออยู่ {in_dla_account:,} tCO2e",
                               f"allocation quantity {tonnes} is outside 1..{in_dla_account}")
        shares = largest_remainder(tonnes, bins)
        request_id = None
        if not dry_run:
            officer = session.scalar(select(User).where(User.username == username))
            if officer is None:
                raise NotFound("user_not_found", f"ไม่พบผู้ใช้ {username}", f"user {username!r} not found")
            digest = hashlib.sha256(data + f"|{round_number}|{tonnes}".encode()).hexdigest()
            request = operations.prepare_allocation(
                session, officer, idempotency_key=f"cli-bins-{digest[:48]}", round_number=round_number,
                bins=bins, quantity=tonnes, letter_reference=letter_reference,
            )
            request_id = request.id
        result = {"round": round_number, "quantity": tonnes, "laos": len(shares), "bins": sum(bins.values()),
                  "request": request_id,
                  "shares": [{"lao_code": share.lao_code, "bins": share.bins, "quantity": share.quantity}
                             for share in shares]}
        if as_json:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            return EXIT_OK
        for share in shares:
            sys.stdout.write(f"{share.lao_code}  ถัง {share.bins:,}  ได้รับ {share.quantity:,} tCO2e\n")
        if request_id is None:
            sys.stdout.write(f"ตรวจไฟล์แล้ว: อปท. {len(shares):,} แห่ง ถัง {result['bins']:,} ถัง"
                             f" จัดสรร {tonnes:,} tCO2e (ยังไม่ได้จัดทำคำขอ)\n")
        else:
            sys.stdout.write(f"จัดทำคำขอจัดสรรเลขที่ {request_id} แล้ว: อปท. {len(shares):,} แห่ง"
                             f" {tonnes:,} tCO2e รอผู้บริหารของกรมอนุมัติ\n")
        return EXIT_OK

    return _with_session(run)


def add_import_bins_parser(ledger_commands) -> None:
    """Add `import-bins` to the `saraban ledger` subcommands (an argparse subparsers object)."""
    parser = ledger_commands.add_parser(
        "import-bins", help="read a verified-bins CSV and prepare the allocation of a round by bins per LAO")
    parser.add_argument("path", metavar="FILE.csv", help="UTF-8 CSV with the columns lao_code and verified_bins")
    parser.add_argument("--round", type=int, required=True, dest="round_number", metavar="NUMBER",
                        help="the certification round number")
    parser.add_argument("--user", required=True, metavar="USERNAME", help="the DLA officer who prepares the request")
    parser.add_argument("--letter", required=True, metavar="REFERENCE",
                        help="the letter the allocation follows, as written")
    parser.add_argument("--quantity", type=int, metavar="TONNES",
                        help="tCO2e to allocate (default: every unit of the round still in DLA's account)")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the file and print the shares without preparing a request")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=lambda args: import_bins_command(
        args.path, args.round_number, args.user, args.letter, args.quantity, args.dry_run, args.json))
