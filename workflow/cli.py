"""The `saraban` command line.

`saraban parse` needs only the parsers. The other commands work on the configured
database (`DATABASE_URL`, SQLite under `var/` by default) and import the service
lazily so that parsing stays quick to start.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_UNREADABLE = 2


def _error_line(path: str, code: str, message_th: str, message_en: str) -> dict:
    sys.stderr.write(f"{path}: {message_th} / {message_en} [{code}]\n")
    return {"file": path, "error": {"code": code, "message": message_th, "message_en": message_en}}


def _parse_one(path: str, max_bytes: int) -> tuple[dict, bool]:
    """Return the parse result or error object for `path`, and whether it was read."""
    from parsers.errors import InputError
    from parsers.pipeline import parse_document

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return _error_line(path, "file_not_found", "ไม่พบไฟล์นี้", "no such file"), False
    except IsADirectoryError:
        return _error_line(path, "not_a_file", "ชื่อนี้เป็นโฟลเดอร์ ไม่ใช่ไฟล์", "is a directory"), False
    except OSError as exc:
        return _error_line(path, "file_unreadable", "เปิดไฟล์นี้ไม่ได้", str(exc)), False
    try:
        return parse_document(data, os.path.basename(path), max_bytes=max_bytes), True
    except InputError as exc:
        return _error_line(path, exc.code, exc.message_th, exc.message_en), False


def _summary_lines(result: dict) -> list[str]:
    """Thai lines for a person reading the terminal, with Buddhist-era dates."""
    from workflow.thaidate import format_be_date

    lines = [f"{result['file']}: {result['pages']} หน้า, {len(result['letters'])} ฉบับ"]
    for number, letter in enumerate(result["letters"], start=1):
        doc = (letter.get("doc_number") or {}).get("text") or "(ไม่มีเลขที่)"
        lines.append(f"  ฉบับที่ {number}: {doc}  {format_be_date(letter.get('date'))}  {letter.get('subject') or ''}")
        for warning in letter.get("warnings", []):
            lines.append(f"    ! {warning['message']}")
    for warning in result.get("warnings", []):
        lines.append(f"  ! {warning['message']}")
    return lines


def cmd_parse(args: argparse.Namespace) -> int:
    status = EXIT_OK
    max_bytes = int(float(os.environ.get("SARABAN_MAX_UPLOAD_MB", "50")) * 1024 * 1024)
    for path in args.files:
        result, read = _parse_one(path, max_bytes)
        if not read:
            status = EXIT_UNREADABLE
        if args.json:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        elif read:
            sys.stdout.write("\n".join(_summary_lines(result)) + "\n")
        sys.stdout.flush()
    return status


def cmd_setup(args: argparse.Namespace) -> int:
    from workflow import commands

    commands.init_db()
    commands.load_directory()
    commands.seed_demo_users()
    if args.samples:
        commands.ingest_paths([args.samples], username=commands.DEMO_UPLOADER)
    return EXIT_OK


def cmd_init_db(args: argparse.Namespace) -> int:
    from workflow import commands

    commands.init_db()
    return EXIT_OK


def cmd_load_directory(args: argparse.Namespace) -> int:
    from workflow import commands

    commands.load_directory()
    return EXIT_OK


def cmd_ingest(args: argparse.Namespace) -> int:
    from workflow import commands

    results = commands.ingest_paths(args.paths, username=args.user)
    for result in results:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from workflow import commands

    commands.serve(args.host, args.port)
    return EXIT_OK


def cmd_requeue(args: argparse.Namespace) -> int:
    from workflow import commands

    job_ids = commands.requeue_jobs()
    sys.stdout.write(f"ส่งงานอ่านเอกสารเข้าคิวใหม่ {len(job_ids)} งาน\n")
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    from workflow import commands

    commands.run_worker()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from workflow.routing.commands import demo_command

    return demo_command()


def cmd_rollup(args: argparse.Namespace) -> int:
    from datetime import date

    from workflow.routing.commands import rollup_command

    as_of = date.fromisoformat(args.as_of) if args.as_of else None
    return rollup_command(args.doc_number, args.json, as_of)


def cmd_routing_state(args: argparse.Namespace) -> int:
    from workflow.routing.commands import rebuild_state_command

    return rebuild_state_command(check_only=args.check)


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from workflow.ledger.commands import verify_command

    return verify_command(args.json)


def cmd_ledger_balances(args: argparse.Namespace) -> int:
    from workflow.ledger.commands import balances_command

    return balances_command(args.json, args.by)


def cmd_ledger_statement(args: argparse.Namespace) -> int:
    from workflow.ledger.commands import statement_command

    return statement_command(args.account, args.json)


def cmd_ledger_certificate(args: argparse.Namespace) -> int:
    from workflow.ledger.commands import certificate_command

    return certificate_command(args.transaction, args.output)


def cmd_ledger_demo(args: argparse.Namespace) -> int:
    from workflow.ledger.commands import demo_command

    return demo_command()


def cmd_ecms_import(args: argparse.Namespace) -> int:
    from workflow.integration.commands import ecms_import_command

    return ecms_import_command(args.file, args.json, args.user, args.notifier)


def cmd_ecms_export(args: argparse.Namespace) -> int:
    from workflow.integration.commands import ecms_export_command

    return ecms_export_command(args.letter_id, args.output)


def cmd_watch(args: argparse.Namespace) -> int:
    from workflow.integration.commands import watch_command

    return watch_command(args.folder, args.interval, args.once)


def cmd_mail_fetch(args: argparse.Namespace) -> int:
    from workflow.integration.commands import mail_fetch_command

    return mail_fetch_command()


def cmd_mail_send_notices(args: argparse.Namespace) -> int:
    from workflow.integration.commands import mail_send_notices_command

    return mail_send_notices_command()


def add_integration_commands(sub) -> None:
    """Register `ecms`, `watch` and `mail`: letters in from e-CMS, a scanner's folder and IMAP, notices out by SMTP."""
    ecms = sub.add_parser("ecms", help="import or export letters as e-CMS GovernmentDocument messages").add_subparsers(
        dest="ecms_command", required=True)
    p = ecms.add_parser("import", help="store, parse and register the letter of an e-CMS message; exit 2 if unreadable")
    p.add_argument("file", metavar="FILE.xml")
    p.add_argument("--json", action="store_true", help="print the parse result as one JSON object")
    p.add_argument("--user", metavar="USERNAME", help="register the letter in this clerk's office's receipt register")
    p.add_argument("--notifier", metavar="FILE", help="write the answer (Receive or AcceptLetterNotifier) to FILE")
    p.set_defaults(func=cmd_ecms_import)
    p = ecms.add_parser("export", help="write a stored letter as an e-CMS message")
    p.add_argument("letter_id", type=int, metavar="LETTER_ID", help="the id of the parsed letter")
    p.add_argument("-o", "--output", metavar="FILE", help="the XML file to write (default: standard output)")
    p.set_defaults(func=cmd_ecms_export)

    p = sub.add_parser("watch", help="ingest each file dropped in a folder once its size is stable")
    p.add_argument("folder", nargs="?", metavar="FOLDER", help="the folder to watch (default: SARABAN_WATCH_DIR)")
    p.add_argument("--interval", type=float, default=5.0, metavar="SECONDS", help="seconds between scans (default 5)")
    p.add_argument("--once", action="store_true", help="stop when no file is left waiting")
    p.set_defaults(func=cmd_watch)

    mail = sub.add_parser("mail", help="letters in from IMAP, notices out by SMTP").add_subparsers(
        dest="mail_command", required=True)
    mail.add_parser("fetch", help="ingest the letters attached to unseen messages (SARABAN_IMAP_*)").set_defaults(
        func=cmd_mail_fetch)
    mail.add_parser("send-notices", help="e-mail new reminders, escalations and assignments (SARABAN_SMTP_*)"
                    ).set_defaults(func=cmd_mail_send_notices)


def cmd_backup(args: argparse.Namespace) -> int:
    from workflow.backup import backup_command

    return backup_command(args.dest, args.database_format)


def cmd_restore(args: argparse.Namespace) -> int:
    from workflow.backup import restore_command

    return restore_command(args.source)


def add_backup_commands(sub) -> None:
    """Register `backup` and `restore` of the database and the stored originals."""
    p = sub.add_parser("backup", help="copy the database and the stored originals, with SHA-256 sums, to DEST")
    p.add_argument("dest", metavar="DEST", help="a new or empty folder, or an archive name ending .tar.gz or .tar")
    p.add_argument("--database-format", choices=("auto", "json"), default="auto",
                   help="auto: SQLite's backup API or pg_dump; json: a portable table-by-table dump")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore a backup into an empty database and an empty storage folder")
    p.add_argument("source", metavar="SRC", help="the backup folder or archive")
    p.set_defaults(func=cmd_restore)


def cmd_api_token(args: argparse.Namespace) -> int:
    from workflow.apitokens import token_command

    return token_command(args.token_command, username=getattr(args, "user", None), name=getattr(args, "name", None),
                         organization_code=getattr(args, "organization", None),
                         token_id=getattr(args, "token_id", None), as_json=getattr(args, "json", False))


def add_api_token_commands(sub) -> None:
    """Register `api-token create|list|revoke`: the bearer tokens of the JSON API `/api/v1`."""
    tokens = sub.add_parser("api-token", help="create, list or revoke the bearer tokens of the JSON API /api/v1"
                            ).add_subparsers(dest="token_command", required=True)
    p = tokens.add_parser("create", help="create a token acting as USERNAME for that user's organization; "
                                         "prints the token once")
    p.add_argument("--user", required=True, metavar="USERNAME", help="the user (and so the organization and role) "
                                                                      "that requests with this token act as")
    p.add_argument("--name", required=True, metavar="NAME", help="a label for the listing, e.g. the client system")
    p.add_argument("--json", action="store_true", help="print one JSON object, with the token")
    p.set_defaults(func=cmd_api_token)
    p = tokens.add_parser("list", help="list the tokens (never the tokens themselves, only their first characters)")
    p.add_argument("--organization", metavar="CODE", help="only this organization's tokens, e.g. DIST-5709")
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.set_defaults(func=cmd_api_token)
    p = tokens.add_parser("revoke", help="revoke a token, so that requests with it are rejected from then on")
    p.add_argument("token_id", type=int, metavar="ID", help="the token's id from `saraban api-token list`")
    p.set_defaults(func=cmd_api_token)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saraban", description="Saraban: Thai official letters in, workflow out.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="parse letters (PDF or text) and print the result")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print one JSON object per file, one line each")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("setup", help="create the database, load the organization directory and demo users")
    p.add_argument("--samples", metavar="DIR", help="also ingest the files in DIR")
    p.set_defaults(func=cmd_setup)

    sub.add_parser("init-db", help="create or upgrade the database schema").set_defaults(func=cmd_init_db)
    sub.add_parser("load-directory", help="load the organization directory").set_defaults(func=cmd_load_directory)

    p = sub.add_parser("ingest", help="store and parse files or folders of letters")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--user", metavar="USERNAME",
                   help="upload as this user, so their organization owns and sees the documents")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("serve", help="serve the web app (jobs in-process unless REDIS_URL is set)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(func=cmd_serve)

    sub.add_parser("worker", help="run an rq worker on REDIS_URL").set_defaults(func=cmd_worker)
    sub.add_parser(
        "requeue", help="queue again the parse jobs the database lists as unfinished (after a Redis restart)"
    ).set_defaults(func=cmd_requeue)

    sub.add_parser(
        "demo", help="load the directory and the carbon-credit circular chain from DLA down to Mae Sai's LAOs"
    ).set_defaults(func=cmd_demo)

    p = sub.add_parser("rollup", help="count the LAOs below a circular that confirmed or are overdue")
    p.add_argument("doc_number", metavar="DOCNUM", help='the circular\'s number as written, e.g. "มท 0821.2/ว 1446"')
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="count overdue as of this date (CE); default today in Thailand")
    p.set_defaults(func=cmd_rollup)

    p = sub.add_parser("routing-state", help="rebuild each task's stored state and the counts from the task events")
    p.add_argument("--check", action="store_true", help="only list the differences; exit 1 if there are any")
    p.set_defaults(func=cmd_routing_state)

    ledger = sub.add_parser("ledger", help="check and report the carbon-credit ledger").add_subparsers(
        dest="ledger_command", required=True)
    from workflow.ledger.commands import add_import_bins_parser

    add_import_bins_parser(ledger)
    p = ledger.add_parser("verify", help="recompute every balance and the event hash chain; exit 1 on a problem")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_ledger_verify)
    p = ledger.add_parser("balances", help="print issued, held, retired and cancelled tCO2e and each account's balance")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--by", choices=("lao", "district", "province"), help="sum LAO balances and income by area instead")
    p.set_defaults(func=cmd_ledger_balances)
    p = ledger.add_parser("statement", help="print one account's entries with running balances")
    p.add_argument("account", metavar="ACCOUNT", help="the account code, e.g. LAO-5570901 or BUYER-1")
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.set_defaults(func=cmd_ledger_statement)
    p = ledger.add_parser("certificate", help="write the sale or retirement certificate of a transaction as PDF")
    p.add_argument("transaction", type=int, metavar="TRANSACTION", help="the posted transaction's id")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the PDF file to write")
    p.set_defaults(func=cmd_ledger_certificate)
    ledger.add_parser(
        "demo", help="run saraban demo, then add a certification round for Chiang Rai's LAOs, a sale and a retirement"
    ).set_defaults(func=cmd_ledger_demo)
    add_integration_commands(sub)
    add_backup_commands(sub)
    add_api_token_commands(sub)
    return parser


# Commands that run the service log at INFO with the job id on every line; the others
# print results on standard output and log only warnings.
SERVICE_COMMANDS = {"serve", "worker", "setup", "ingest", "demo", "requeue"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = os.environ.get("SARABAN_LOG_LEVEL")
    if args.command in SERVICE_COMMANDS:
        from workflow.commands import configure_logging

        configure_logging(level or logging.INFO)
    else:
        logging.basicConfig(level=level or logging.WARNING,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
