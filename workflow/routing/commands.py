"""The `saraban demo` and `saraban rollup` commands, on the database named by DATABASE_URL."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import inspect

from workflow.config import config_from_env
from workflow.db import Database, upgrade_to_head
from workflow.errors import WorkflowError
from workflow.thaidate import format_be_date

EXIT_OK = 0
EXIT_FAILED = 1


def demo_command() -> int:
    """Upgrade the schema, load the directory, the carbon-credit chain and the ledger demo; print what was done.

    The ledger demo (a certification round allocated to Chiang Rai's LAOs, one sale, one
    retirement) follows the chain because LAO accounts open on the approval of each LAO's
    responsible officer.
    """
    from workflow.ledger.demo import load as load_ledger_demo
    from workflow.routing.demo import run_demo

    config = config_from_env()
    upgrade_to_head(config["DATABASE_URL"])
    database = Database(config["DATABASE_URL"])
    session = database.session()
    try:
        summary = run_demo(session, Path(config["SARABAN_STORAGE"]))
        ledger_summary = load_ledger_demo(session)
    except WorkflowError as exc:
        sys.stderr.write(f"{exc.message_th} / {exc.message_en} [{exc.code}]\n")
        return EXIT_FAILED
    finally:
        session.close()
        database.dispose()
    sys.stdout.write(f"หนังสือเวียน: {', '.join(summary.letters)}\n")
    sys.stdout.write(f"หนังสือเวียนที่รอดำเนินการ: {', '.join(summary.pending_letters)}\n")
    sys.stdout.write(f"ผู้ใช้ที่เพิ่มใหม่: {summary.users_created} คน\n")
    sys.stdout.write(f"อนุมัติการยืนยันผู้รับผิดชอบ: {summary.confirmations_approved} แห่ง\n")
    sys.stdout.write(f"{summary.covering_letters}\n")
    sys.stdout.write(f"{ledger_summary}\n")
    return EXIT_OK


def _counts_line(label: str, counts: dict) -> str:
    return f"{label}: ผู้รับ {counts['recipients']} แห่ง ยืนยันแล้ว {counts['confirmed']} เกินกำหนด {counts['overdue']}"


def rollup_command(doc_number: str, as_json: bool, as_of: date | None) -> int:
    """Print the roll-up of the circular numbered `doc_number`, as JSON or as Thai lines.

    The Thai lines also name, under each district, the LAOs that have not confirmed yet.
    """
    from workflow.routing.calendar import today_in_thailand
    from workflow.routing.rollup import find_circular, recipient_statuses, rollup

    database = Database(config_from_env()["DATABASE_URL"])
    try:
        if not inspect(database.engine).has_table("routing_tasks"):
            sys.stderr.write(
                "ฐานข้อมูลยังไม่มีตารางงานแจ้งเวียน กรุณารัน saraban demo หรือ saraban init-db ก่อน"
                " / the database has no routing tables; run saraban demo or saraban init-db\n"
            )
            return EXIT_FAILED
        session = database.session()
        try:
            letter = find_circular(session, doc_number)
            result = rollup(session, letter, as_of)
            # The per-LAO list is only for the Thai lines; JSON carries the counts alone.
            pending = [] if as_json else recipient_statuses(
                session, letter, as_of or today_in_thailand(), pending_only=True
            )
        except WorkflowError as exc:
            sys.stderr.write(f"{exc.message_th} / {exc.message_en} [{exc.code}]\n")
            return EXIT_FAILED
        finally:
            session.close()
    finally:
        database.dispose()
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return EXIT_OK
    lines = [_counts_line(f"หนังสือที่ {result['doc_number']}", result)]
    if as_of:
        lines.append(f"ณ วันที่ {format_be_date(as_of)}")
    lines += [_counts_line(f"  จังหวัดรหัส {code}", counts) for code, counts in result["by_province"].items()]
    for code, counts in result["by_district"].items():
        lines.append(_counts_line(f"    อำเภอรหัส {code}", counts))
        for item in (item for item in pending if item.district_code == code):
            late = " (เกินกำหนด)" if item.overdue else ""
            lines.append(f"      ยังไม่ยืนยัน: {item.name_th} รหัส {item.code}{late}")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def rebuild_state_command(check_only: bool = False) -> int:
    """Rebuild the stored task states and counts from the task events, or with `check_only` compare them.

    Prints Thai lines. With `check_only`, exits with EXIT_FAILED when anything differs.
    """
    from workflow.routing.stored_state import find_differences, rebuild

    database = Database(config_from_env()["DATABASE_URL"])
    session = database.session()
    try:
        if not inspect(database.engine).has_table("routing_state_counts"):
            sys.stderr.write(
                "ฐานข้อมูลยังไม่มีตารางสถานะงาน กรุณารัน saraban init-db ก่อน"
                " / the database has no routing_state_counts table; run saraban init-db\n"
            )
            return EXIT_FAILED
        if not check_only:
            result = rebuild(session)
            sys.stdout.write(
                f"สร้างสถานะงานใหม่จากประวัติแล้ว: แก้สถานะ {result.states:,} งาน"
                f" เครื่องหมายเกินกำหนด {result.marks:,} งาน ตารางนับ {result.count_rows:,} แถว\n"
            )
        found = find_differences(session)
    finally:
        session.close()
        database.dispose()
    if found.total == 0:
        sys.stdout.write("สถานะงานที่เก็บไว้ตรงกับประวัติของงานทุกงาน\n")
        return EXIT_OK
    sys.stdout.write(
        f"สถานะงานที่เก็บไว้ไม่ตรงกับประวัติ: สถานะ {found.states:,} งาน"
        f" เครื่องหมายเกินกำหนด {found.marks:,} งาน ตารางนับ {found.counts:,} แถว\n"
    )
    for task_id, stored, replayed in found.state_examples:
        sys.stdout.write(f"  งานเลขที่ {task_id}: เก็บไว้ {stored} ตามประวัติ {replayed}\n")
    for task_id, stored, replayed in found.mark_examples:
        sys.stdout.write(f"  งานเลขที่ {task_id}: เครื่องหมายเกินกำหนด เก็บไว้ {stored} ตามประวัติ {replayed}\n")
    for key, stored, counted in found.count_examples:
        sys.stdout.write(f"  นับ {key}: เก็บไว้ {stored} นับจากงาน {counted}\n")
    sys.stdout.write("รัน python -m workflow.routing.stored_state (ไม่ใส่ --check) เพื่อสร้างใหม่จากประวัติ\n")
    return EXIT_FAILED
