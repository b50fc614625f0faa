"""Sale and retirement certificates as one-page Thai PDFs, with Buddhist-era dates, serial ranges and a QR code.

The QR code contains a public verification URL: SARABAN_PUBLIC_URL (default
http://127.0.0.1:5000) followed by `/ledger/verify/<transaction id>/<first 16 hex digits of
the posted event's hash>`, which `workflow.web.ledger` serves without sign-in.
"""

from __future__ import annotations

import io
import os

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.documents.fonts import register_fonts
from workflow.documents.pdf_letter import draw_qr, draw_text, measure
from workflow.documents.thaitext import break_lines
from workflow.ledger.errors import InvalidValue, NotFound
from workflow.ledger.models import (
    REQUEST_BUNDLE_SALE,
    REQUEST_RETIRE,
    REQUEST_TRANSFER,
    Account,
    CertificationRound,
    LedgerEvent,
    LedgerTransaction,
    SerialBlock,
    as_utc,
)
from workflow.routing.calendar import BANGKOK
from workflow.thaidate import format_be_date

CM = 72 / 2.54
TITLES = {
    REQUEST_TRANSFER: "หนังสือรับรองการโอนคาร์บอนเครดิตจากการขาย",
    REQUEST_BUNDLE_SALE: "หนังสือรับรองการโอนคาร์บอนเครดิตจากการขาย",
    REQUEST_RETIRE: "หนังสือรับรองการชดเชยการปล่อยก๊าซเรือนกระจก (ใช้คาร์บอนเครดิต)",
}


def verification_url(session: Session, transaction: LedgerTransaction, base_url: str | None = None) -> str:
    """Return the public page that verifies the transaction, which the certificate prints and encodes.

    SARABAN_PUBLIC_URL comes first. Then comes `base_url`, the address the request reached, for a
    certificate served by the web app. The command line falls back to the default local address.
    """
    event = session.scalar(select(LedgerEvent).where(LedgerEvent.transaction_id == transaction.id,
                                                     LedgerEvent.kind == "posted"))
    base = (os.environ.get("SARABAN_PUBLIC_URL") or base_url or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/ledger/verify/{transaction.id}/{event.hash[:16]}"


def certificate_lines(session: Session, transaction: LedgerTransaction) -> list[str]:
    """Return the certificate's text lines after the title: parties, quantity, serials, round and dates."""
    sources = list(session.scalars(
        select(Account).join(SerialBlock, SerialBlock.account_id == Account.id)
        .where(SerialBlock.closed_by_transaction_id == transaction.id).distinct()
    ))
    # The blocks the transaction opened outside its source accounts; the rest are remainders.
    moved = list(session.scalars(
        select(SerialBlock)
        .where(SerialBlock.opened_by_transaction_id == transaction.id,
               SerialBlock.account_id.not_in([account.id for account in sources]))
        .order_by(SerialBlock.round_id, SerialBlock.serial_start)
    ))
    receiver = session.get(Account, moved[0].account_id)
    quantity = sum(block.quantity for block in moved)
    posted_on = as_utc(transaction.posted_at).astimezone(BANGKOK).date()
    lines = [
        f"เลขที่รายการ {transaction.id}  ลงวันที่ {format_be_date(posted_on)}",
        f"จาก: {', '.join(account.name_th for account in sources)}",
    ]
    if transaction.kind == REQUEST_RETIRE:
        lines += [f"ผู้ใช้สิทธิชดเชย: {transaction.beneficiary}", f"วัตถุประสงค์: {transaction.purpose}"]
    else:
        lines.append(f"ผู้ซื้อ: {receiver.name_th}")
    lines.append(f"จำนวน {quantity:,} ตันคาร์บอนไดออกไซด์เทียบเท่า (tCO2e)")
    for block in moved:
        certification = session.get(CertificationRound, block.round_id)
        lines.append(f"หมายเลข {block.serial_start:,} ถึง {block.serial_end:,} ({block.quantity:,} หน่วย)")
        lines.append(f"    รอบการรับรองที่ {certification.round_number}"
                     f" เลขที่อ้างอิงทะเบียน {certification.registry_reference}")
    if transaction.price_satang:
        lines.append(f"ราคาตันละ {transaction.price_satang / 100:,.2f} บาท")
    if transaction.receipt_number:
        lines.append(f"ใบเสร็จรับเงินเลขที่ {transaction.receipt_number} ลงวันที่ {format_be_date(transaction.receipt_date)}")
    lines.append(f"ตามหนังสือ {transaction.letter_reference}")
    return lines


def certificate_pdf(session: Session, transaction_id: int, base_url: str | None = None) -> bytes:
    """Draw the sale or retirement certificate of a posted transaction; return the PDF bytes.

    `base_url` is the service's address for the verification link when SARABAN_PUBLIC_URL is unset.
    """
    transaction = session.get(LedgerTransaction, transaction_id)
    if transaction is None:
        raise NotFound("transaction_not_found", f"ไม่พบรายการเลขที่ {transaction_id}",
                       f"ledger transaction {transaction_id} not found")
    if transaction.kind not in TITLES:
        raise InvalidValue("no_certificate", "รายการประเภทนี้ไม่มีหนังสือรับรอง",
                           f"transaction {transaction_id} of kind {transaction.kind} has no certificate")
    regular, bold = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    width, height = A4
    draw_text(canvas, width / 2, height - 3 * CM, TITLES[transaction.kind], bold, 16, align="centre")
    draw_text(canvas, width / 2, height - 3.9 * CM, "กรมส่งเสริมการปกครองท้องถิ่น โครงการถังขยะเปียก ลดโลกร้อน",
              regular, 13, align="centre")
    y = height - 5.5 * CM
    text_width = width - 5 * CM
    for line in certificate_lines(session, transaction):
        for part in break_lines(line, text_width, lambda text: measure(text, 13, regular)):
            draw_text(canvas, 3 * CM, y, part, regular, 13)
            y -= 0.75 * CM
    url = verification_url(session, transaction, base_url)
    draw_qr(canvas, width - 5.5 * CM, 3 * CM, 3 * CM, url)
    draw_text(canvas, 3 * CM, 2.9 * CM, "ตรวจสอบความถูกต้องได้ที่", regular, 9)
    draw_text(canvas, 3 * CM, 2.4 * CM, url, regular, 8)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
