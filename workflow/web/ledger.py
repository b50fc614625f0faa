"""Screens of the carbon-credit ledger: the LAO's account, DLA's desk, reconciliation and the public pages.

Each POST view parses the form, calls one ledger operation with the idempotency key that was
generated when the form was rendered, and redirects. A second submit of the same form
replays the first call's result, so it posts nothing more. An operation that rejects the call
raises a `WorkflowError` and rolls back. The view then shows the page again with the Thai
message and the error's HTTP status.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import date
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint, Response, current_app, flash, g, get_flashed_messages, redirect, render_template, request, url_for,
)
from sqlalchemy import select

from workflow.app import get_session, get_store
from workflow.errors import InvalidValue, NotFound, PermissionDenied, WorkflowError
from workflow.ledger import operations, queries, reconcile, reports
from workflow.ledger.accounts import DLA_CODE
from workflow.ledger.allocation import largest_remainder, read_bins_csv
from workflow.ledger.buyers import (
    BUYER_KIND_NAMES_TH,
    DOCUMENT_KIND_NAMES_TH,
    DOCUMENT_OTHER,
    DOCUMENT_POWER_OF_ATTORNEY,
    MAX_DOCUMENTS,
    REQUEST_REGISTER_BUYER,
    REQUIRED_DOCUMENT,
    UploadedDocument,
)
from workflow.ledger.certificates import TITLES as CERTIFICATE_TITLES
from workflow.ledger.certificates import certificate_pdf
from workflow.ledger.models import ACCOUNT_RETIREMENT, Account, SerialBlock
from workflow.ledger.operations import STATUS_NAMES_TH
from workflow.ledger.reports import BUCKET_NAMES_TH, KIND_NAMES_TH
from workflow.models import ORG_LAO, ROLE_OFFICER, ROLE_SUPERVISOR, Organization
from workflow.routing.calendar import today_in_thailand
from workflow.thaidate import format_be_date, parse_thai_date
from workflow.web.auth import login_required

log = logging.getLogger(__name__)

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

KEY_FIELD = "idempotency_key"
MAX_CSV_BYTES = 20 * 1024 * 1024
AREA_LEVELS = {"province": "จังหวัด", "district": "อำเภอ", "lao": "อปท."}
# Thai names of request kinds: the transaction kinds, and the account opening, which posts no transaction.
REQUEST_KIND_NAMES_TH = {**KIND_NAMES_TH, "open_account": "เปิดบัญชีคาร์บอนเครดิต",
                         REQUEST_REGISTER_BUYER: "ลงทะเบียนผู้ซื้อ"}


def new_idempotency_key() -> str:
    """Return a fresh idempotency key for one rendering of a form."""
    return "web-" + secrets.token_urlsafe(18)


# --- form parsing ------------------------------------------------------------------------


def _key() -> str:
    return request.form.get(KEY_FIELD, "")


def _whole(name: str, label_th: str, required: bool = True) -> int | None:
    raw = request.form.get(name, "").strip().replace(",", "")
    if not raw and not required:
        return None
    if not raw.isdigit():
        raise InvalidValue("invalid_number", f"{label_th} “{raw}” ต้องเป็นจำนวนเต็มบวก",
                           f"{name} {raw!r} is not a whole number")
    return int(raw)


def _baht(name: str) -> float | None:
    raw = request.form.get(name, "").strip().replace(",", "")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidValue("invalid_price", f"ราคาต่อตัน “{raw}” ต้องเป็นตัวเลข เช่น 260 หรือ 260.50",
                           f"{name} {raw!r} is not a number") from None


def _thai_date(name: str, label_th: str) -> date:
    raw = request.form.get(name, "").strip()
    if not raw:
        raise InvalidValue("missing_date", f"ต้องระบุ{label_th}", f"{name} is missing")
    try:
        return parse_thai_date(raw)
    except ValueError:
        raise InvalidValue("invalid_date", f"อ่าน{label_th} “{raw}” ไม่ได้ กรุณาพิมพ์ เช่น 1 กันยายน 2568 หรือ 1/9/2568",
                           f"cannot read {name} {raw!r}") from None


def _uploaded_text(name: str, label_th: str) -> str:
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        raise InvalidValue("missing_file", f"กรุณาเลือกไฟล์{label_th}", f"no file in field {name}")
    data = upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InvalidValue("file_too_large", f"ไฟล์{label_th}ใหญ่เกิน 20 MB", f"{name} is over {MAX_CSV_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidValue("invalid_encoding", f"ไฟล์{label_th}ต้องเป็น CSV แบบ UTF-8",
                           f"{name} is not UTF-8") from None


# --- access ------------------------------------------------------------------------------


def _is_dla() -> bool:
    return g.user.organization is not None and g.user.organization.code == DLA_CODE


def _require_dla() -> None:
    if not _is_dla():
        raise PermissionDenied("dla_only", "หน้านี้สำหรับเจ้าหน้าที่กรมส่งเสริมการปกครองท้องถิ่นเท่านั้น",
                               f"user {g.user.username} is not in DLA")


def _own_account():
    account = queries.account_of_organization(get_session(), g.user.organization_id)
    if account is None:
        raise NotFound("account_not_found", "หน่วยงานของท่านยังไม่ได้เปิดบัญชีคาร์บอนเครดิต",
                       f"org {g.user.organization_id} has no LAO ledger account")
    return account


def _refused(error: WorkflowError, render):
    log.info("user %s: ledger action rejected: %s", g.user.username, error.message_en)
    flash(error.message_th, "error")
    try:
        return render(error.http_status)
    except WorkflowError as page_error:
        # The form's page cannot be shown to this user (an office without a ledger account),
        # so the refusal itself is shown, with its own status, and the flashed copy is dropped.
        log.info("user %s: ledger page not shown after a refusal: %s", g.user.username, page_error.message_en)
        get_flashed_messages()
        return render_template("error.html", error=error), error.http_status


def _require_certificate_reader(session, transaction_id: int) -> None:
    """Allow DLA, and the offices whose accounts the certified units left and the offices above them."""
    if _is_dla():
        return
    sources = session.scalars(
        select(Account.organization_id).join(SerialBlock, SerialBlock.account_id == Account.id)
        .where(SerialBlock.closed_by_transaction_id == transaction_id).distinct()
    ).all()
    for organization_id in sources:
        organization = session.get(Organization, organization_id) if organization_id is not None else None
        while organization is not None:
            if organization.id == g.user.organization_id:
                return
            organization = organization.parent
    raise PermissionDenied(
        "certificate_other_office",
        "ท่านเปิดหนังสือรับรองได้เฉพาะรายการของ อปท. ในความรับผิดชอบของหน่วยงานท่าน "
        "ผู้อื่นตรวจสอบหนังสือรับรองได้จาก QR Code บนหนังสือ",
        f"user {g.user.username} may not read the certificate of transaction {transaction_id}",
    )


# --- entry ---------------------------------------------------------------------------------


@bp.get("/")
def index():
    if g.get("user") is None:
        return redirect(url_for("ledger.public_totals"))
    if _is_dla():
        return redirect(url_for("ledger.dla_desk"))
    organization = g.user.organization
    if organization is not None and organization.kind != ORG_LAO:
        # Province and district offices hold no account; they follow the totals by area.
        return redirect(url_for("ledger.public_totals"))
    return redirect(url_for("ledger.lao_account"))


# --- LAO ---------------------------------------------------------------------------------


def _render_lao(http_status: int = 200):
    session = get_session()
    account = _own_account()
    requests = queries.requests_of_organization(session, account.organization_id)
    return render_template(
        "ledger/lao.html", account=account, buckets=queries.bucket_totals(session, account),
        income_satang=reports.money_balance(session, account.code), blocks=reports.open_blocks(session, account.code),
        statement=reports.statement(session, account.code), requests=requests,
        pending=[item for item in requests if item.status == "pending"],
        buyers=queries.buyer_accounts(session), reservations=queries.open_reservations(session, account),
        price_baht=operations.reference_price_satang() / 100, today=today_in_thailand(),
        is_officer=g.user.role == ROLE_OFFICER, is_executive=g.user.role == ROLE_SUPERVISOR,
        form=request.form if request.endpoint == "ledger.sale" else {},
    ), http_status


@bp.get("/lao")
@login_required
def lao_account():
    return _render_lao()


def _prepared(item, what_th: str, anchor: str = "requests"):
    flash(f"จัดทำคำขอ{what_th} เลขที่ {item.id} แล้ว รอผู้บริหารอนุมัติ", "success")
    return redirect(url_for("ledger.lao_account", _anchor=anchor))


@bp.post("/lao/reserve")
@login_required
def reserve():
    try:
        item = operations.prepare_reservation(
            get_session(), g.user, idempotency_key=_key(), quantity=_whole("quantity", "จำนวน"),
            letter_reference=request.form.get("letter_reference", ""),
            buyer_account=request.form.get("buyer_account") or None,
        )
    except WorkflowError as error:
        return _refused(error, _render_lao)
    return _prepared(item, "กันหน่วยไว้ขาย")


@bp.post("/lao/sale")
@login_required
def sale():
    try:
        reservation = _whole("reservation_id", "เลขที่การกันหน่วย", required=False)
        item = operations.prepare_transfer(
            get_session(), g.user, idempotency_key=_key(), buyer_account=request.form.get("buyer_account", ""),
            quantity=_whole("quantity", "จำนวน"), receipt_number=request.form.get("receipt_number", ""),
            receipt_date=_thai_date("receipt_date", "วันที่ใบเสร็จรับเงิน"),
            letter_reference=request.form.get("letter_reference", ""), reservation_id=reservation,
            price_baht=_baht("price_baht"),
        )
    except WorkflowError as error:
        return _refused(error, _render_lao)
    return _prepared(item, "ขายคาร์บอนเครดิต")


@bp.post("/lao/retire")
@login_required
def retire():
    try:
        account = _own_account()
        item = operations.prepare_retirement(
            get_session(), g.user, idempotency_key=_key(), account_code=account.code,
            quantity=_whole("quantity", "จำนวน"), beneficiary=request.form.get("beneficiary", ""),
            purpose=request.form.get("purpose", ""), letter_reference=request.form.get("letter_reference", ""),
        )
    except WorkflowError as error:
        return _refused(error, _render_lao)
    return _prepared(item, "ชดเชยการปล่อยก๊าซเรือนกระจก")


@bp.post("/lao/release")
@login_required
def release():
    try:
        item = operations.prepare_release(
            get_session(), g.user, idempotency_key=_key(),
            reservation_id=_whole("reservation_id", "เลขที่การกันหน่วย"),
            letter_reference=request.form.get("letter_reference", ""),
        )
    except WorkflowError as error:
        return _refused(error, _render_lao)
    return _prepared(item, "ยกเลิกการกันหน่วย")


# --- approvals (LAO executive, DLA executive) ---------------------------------------------


def _back_to(page: str):
    if page == "dla":
        return _render_dla, "ledger.dla_desk"
    if page == "buyers":
        return _render_buyers, "ledger.buyers"
    return _render_lao, "ledger.lao_account"


@bp.post("/requests/<int:request_id>/approve")
@login_required
def approve(request_id: int):
    render, endpoint = _back_to(request.form.get("page", ""))
    try:
        item = operations.approve(get_session(), g.user, request_id, idempotency_key=_key())
    except WorkflowError as error:
        return _refused(error, render)
    flash(f"อนุมัติคำขอเลขที่ {item.id} แล้ว · {STATUS_NAMES_TH[item.status]}", "success")
    return redirect(url_for(endpoint, _anchor="requests"))


@bp.post("/requests/<int:request_id>/reject")
@login_required
def reject(request_id: int):
    render, endpoint = _back_to(request.form.get("page", ""))
    try:
        item = operations.reject(get_session(), g.user, request_id, request.form.get("reason", ""),
                                 idempotency_key=_key())
    except WorkflowError as error:
        return _refused(error, render)
    flash(f"ไม่อนุมัติคำขอเลขที่ {item.id} แล้ว", "success")
    return redirect(url_for(endpoint, _anchor="requests"))


@bp.post("/requests/<int:request_id>/confirm")
@login_required
def confirm(request_id: int):
    try:
        item = operations.confirm(get_session(), g.user, request_id, idempotency_key=_key())
    except WorkflowError as error:
        return _refused(error, _render_dla)
    transaction = queries.transaction_of_request(get_session(), item.id)
    flash(f"ยืนยันคำขอเลขที่ {item.id} แล้ว บันทึกบัญชีเป็นรายการเลขที่ {transaction.id}", "success")
    return redirect(url_for("ledger.dla_desk", _anchor="confirmations"))


@bp.get("/certificates/<int:transaction_id>.pdf")
@login_required
def certificate(transaction_id: int):
    session = get_session()
    _require_certificate_reader(session, transaction_id)
    pdf = certificate_pdf(session, transaction_id, base_url=request.host_url)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="certificate-{transaction_id}.pdf"'})


# --- DLA ---------------------------------------------------------------------------------


def _area_rows(level: str) -> list[dict[str, Any]]:
    session = get_session()
    rows = reports.balances_by_area(session, level)
    prefix = {"province": "PROV-", "district": "DIST-", "lao": ""}[level]
    names = queries.organization_names(session, [prefix + row["area"] for row in rows])
    for row in rows:
        name = names.get(prefix + row["area"], row["area"])
        row["name"] = name.removeprefix("สำนักงานส่งเสริมการปกครองท้องถิ่น")
    return rows


def _render_dla(http_status: int = 200, **extra: Any):
    _require_dla()
    session = get_session()
    dla = g.user.organization
    level = request.args.get("level", "province")
    if level not in AREA_LEVELS:
        level = "province"
    return render_template(
        "ledger/dla.html", rounds=queries.rounds(session), pending=queries.pending_requests(session, dla.id),
        confirmations=queries.awaiting_dla_confirmation(session), totals=reports.balances(session),
        area_rows=_area_rows(level), level=level, is_officer=g.user.role == ROLE_OFFICER,
        is_executive=g.user.role == ROLE_SUPERVISOR, buyers=queries.buyer_accounts(session),
        reservations=queries.open_reservations(session), bundles=queries.bundles_awaiting_split(session),
        reversible=queries.reversal_candidates(session), price_baht=operations.reference_price_satang() / 100,
        today=today_in_thailand(), form=request.form if request.endpoint == "ledger.record_round" else {},
        posted=request.form, posted_to=request.endpoint,
        **extra,
    ), http_status


@bp.get("/dla")
@login_required
def dla_desk():
    return _render_dla()


@bp.post("/dla/rounds")
@login_required
def record_round():
    try:
        _require_dla()
        quantity = _whole("quantity", "จำนวนหน่วย")
        serial_start = _whole("serial_start", "หมายเลขเริ่มต้น")
        item = operations.prepare_issue(
            get_session(), g.user, idempotency_key=_key(), round_number=_whole("round_number", "รอบการรับรอง"),
            monitoring_start=_thai_date("monitoring_start", "วันเริ่มติดตามผล"),
            monitoring_end=_thai_date("monitoring_end", "วันสิ้นสุดการติดตามผล"),
            certified_on=_thai_date("certified_on", "วันที่รับรอง"), quantity=quantity,
            registry_reference=request.form.get("registry_reference", ""), serial_start=serial_start,
            serial_end=serial_start + quantity - 1, letter_reference=request.form.get("letter_reference", ""),
        )
    except WorkflowError as error:
        return _refused(error, _render_dla)
    flash(f"จัดทำคำขอบันทึกรอบการรับรอง เลขที่ {item.id} แล้ว รอผู้บริหารอนุมัติ", "success")
    return redirect(url_for("ledger.dla_desk", _anchor="requests"))


@bp.post("/dla/allocation/preview")
@login_required
def allocation_preview():
    session = get_session()
    try:
        _require_dla()
        round_number = _whole("round_number", "รอบการรับรอง")
        certification = next((item for item in queries.rounds(session) if item.round_number == round_number), None)
        if certification is None:
            raise NotFound("round_not_found", f"ไม่พบรอบการรับรองที่ {round_number}", f"round {round_number} not found")
        bins = read_bins_csv(_uploaded_text("bins_csv", "จำนวนถังขยะเปียก"))
        held = queries.units_held_by_dla(session, certification.id)
        if held == 0:
            raise InvalidValue("round_fully_allocated",
                               f"กรมไม่มีหน่วยของรอบการรับรองที่ {round_number} เหลือให้จัดสรร",
                               f"DLA holds no units of round {round_number}")
        quantity = _whole("quantity", "จำนวนที่จัดสรร", required=False) or held
        if quantity <= 0 or quantity > held:
            raise InvalidValue("invalid_quantity",
                               f"จำนวนที่จัดสรร {quantity:,} tCO2e ต้องมากกว่าศูนย์และไม่เกินที่กรมถืออยู่ {held:,} tCO2e",
                               f"allocation quantity {quantity} is outside 1..{held}")
    except WorkflowError as error:
        return _refused(error, _render_dla)
    shares = largest_remainder(quantity, bins)
    names = queries.organization_names(session, [share.lao_code for share in shares])
    return render_template(
        "ledger/allocation_preview.html", certification=certification, quantity=quantity, held=held,
        shares=shares, names=names, total_bins=sum(bins.values()), bins_json=json.dumps(bins),
        letter_reference=request.form.get("letter_reference", ""),
    )


@bp.post("/dla/allocation")
@login_required
def allocate():
    try:
        _require_dla()
        try:
            bins = {str(code): int(count) for code, count in json.loads(request.form.get("bins_json", "")).items()}
        except (ValueError, AttributeError):
            raise InvalidValue("invalid_bins", "ข้อมูลจำนวนถังในแบบฟอร์มไม่ถูกต้อง กรุณาอัปโหลดไฟล์ใหม่",
                               "bins_json is not an object of counts") from None
        item = operations.prepare_allocation(
            get_session(), g.user, idempotency_key=_key(), round_number=_whole("round_number", "รอบการรับรอง"),
            bins=bins, quantity=_whole("quantity", "จำนวนที่จัดสรร"),
            letter_reference=request.form.get("letter_reference", ""),
        )
    except WorkflowError as error:
        return _refused(error, _render_dla)
    flash(f"จัดทำคำขอจัดสรรเลขที่ {item.id} แล้ว รอผู้บริหารอนุมัติ", "success")
    return redirect(url_for("ledger.dla_desk", _anchor="requests"))


def _prepared_at_dla(item, what_th: str, endpoint: str = "ledger.dla_desk"):
    flash(f"จัดทำคำขอ{what_th} เลขที่ {item.id} แล้ว รอผู้บริหารอนุมัติ", "success")
    return redirect(url_for(endpoint, _anchor="requests"))


@bp.post("/dla/bundle")
@login_required
def bundle_sale():
    try:
        _require_dla()
        reservation_ids = []
        for raw in request.form.getlist("reservation_id"):
            if not raw.isdigit():
                raise InvalidValue("invalid_number", f"เลขที่การกันหน่วย “{raw}” ต้องเป็นจำนวนเต็มบวก",
                                   f"reservation_id {raw!r} is not a whole number")
            reservation_ids.append(int(raw))
        item = operations.prepare_bundle_sale(
            get_session(), g.user, idempotency_key=_key(), buyer_account=request.form.get("buyer_account", ""),
            reservation_ids=reservation_ids, letter_reference=request.form.get("letter_reference", ""),
            price_baht=_baht("price_baht"),
        )
    except WorkflowError as error:
        return _refused(error, _render_dla)
    return _prepared_at_dla(item, "ขายรวมหลาย อปท.")


@bp.post("/dla/bundle/<int:bundle_id>/split")
@login_required
def split_deposit(bundle_id: int):
    try:
        _require_dla()
        bundle = queries.request_by_id(get_session(), bundle_id)
        parts = bundle.payload.get("parts", []) if bundle is not None else []
        receipts = {}
        for index, part in enumerate(parts):
            name_th = _account_name(part["account"])
            receipts[part["account"]] = (request.form.get(f"receipt_number_{index}", ""),
                                         _thai_date(f"receipt_date_{index}", f"วันที่ใบเสร็จรับเงินของ{name_th}"))
        item = operations.prepare_deposit_split(
            get_session(), g.user, idempotency_key=_key(), bundle_request_id=bundle_id, receipts=receipts,
            letter_reference=request.form.get("letter_reference", ""),
        )
    except WorkflowError as error:
        return _refused(error, _render_dla)
    return _prepared_at_dla(item, "แบ่งเงินรับฝากเป็นรายได้ อปท.")


@bp.post("/dla/cancel")
@login_required
def cancel():
    try:
        _require_dla()
        item = operations.prepare_cancellation(
            get_session(), g.user, idempotency_key=_key(),
            account_code=request.form.get("account_code", "").strip().upper(),
            quantity=_whole("quantity", "จำนวน"), reason=request.form.get("reason", ""),
            order_reference=request.form.get("order_reference", ""),
            letter_reference=request.form.get("letter_reference", ""),
        )
    except WorkflowError as error:
        return _refused(error, _render_dla)
    return _prepared_at_dla(item, "ยกเลิกหน่วย")


@bp.post("/dla/reverse")
@login_required
def reverse():
    try:
        _require_dla()
        item = operations.prepare_reversal(
            get_session(), g.user, idempotency_key=_key(),
            transaction_id=_whole("transaction_id", "เลขที่รายการ"), reason=request.form.get("reason", ""),
            letter_reference=request.form.get("letter_reference", ""),
        )
    except WorkflowError as error:
        return _refused(error, _render_dla)
    return _prepared_at_dla(item, "กลับรายการ")


# --- buyers (DLA) ------------------------------------------------------------------------


def _render_buyers(http_status: int = 200):
    _require_dla()
    session = get_session()
    dla = g.user.organization
    registrations = [item for item in queries.pending_requests(session, dla.id) if item.kind == REQUEST_REGISTER_BUYER]
    return render_template(
        "ledger/buyers.html", buyers=queries.registered_buyers(session), registrations=registrations,
        is_officer=g.user.role == ROLE_OFFICER, is_executive=g.user.role == ROLE_SUPERVISOR,
        buyer_kinds=BUYER_KIND_NAMES_TH, document_kinds=DOCUMENT_KIND_NAMES_TH, required_document=REQUIRED_DOCUMENT,
        max_documents=MAX_DOCUMENTS, form=request.form if request.endpoint == "ledger.register_buyer" else {},
    ), http_status


@bp.get("/dla/buyers")
@login_required
def buyers():
    return _render_buyers()


def _read_upload(upload) -> bytes:
    limit = current_app.config["SARABAN_MAX_UPLOAD_BYTES"]
    return upload.read(limit + 1)


def _uploaded_documents(buyer_kind: str) -> list[UploadedDocument]:
    """Collect the registration form's files: the identity document, a power of attorney and others."""
    documents = []
    identity = request.files.get("identity_document")
    if identity is not None and identity.filename:
        documents.append(UploadedDocument(REQUIRED_DOCUMENT.get(buyer_kind, DOCUMENT_OTHER), identity.filename,
                                          _read_upload(identity)))
    attorney = request.files.get("power_of_attorney")
    if attorney is not None and attorney.filename:
        documents.append(UploadedDocument(DOCUMENT_POWER_OF_ATTORNEY, attorney.filename, _read_upload(attorney)))
    for upload in request.files.getlist("other_documents"):
        if upload.filename:
            documents.append(UploadedDocument(DOCUMENT_OTHER, upload.filename, _read_upload(upload)))
    return documents


@bp.post("/dla/buyers")
@login_required
def register_buyer():
    try:
        _require_dla()
        kind = request.form.get("kind", "")
        item = operations.prepare_buyer_registration(
            get_session(), g.user, get_store(), idempotency_key=_key(), kind=kind,
            name_th=request.form.get("name_th", ""), tax_id=request.form.get("tax_id", ""),
            address_th=request.form.get("address_th", ""), contact_name=request.form.get("contact_name"),
            contact_email=request.form.get("contact_email"), documents=_uploaded_documents(kind),
            letter_reference=request.form.get("letter_reference", ""),
            max_document_bytes=current_app.config["SARABAN_MAX_UPLOAD_BYTES"],
        )
    except WorkflowError as error:
        return _refused(error, _render_buyers)
    return _prepared_at_dla(item, "ลงทะเบียนผู้ซื้อ", "ledger.buyers")


@bp.get("/requests/<int:request_id>/documents/<int:index>")
@login_required
def buyer_document(request_id: int, index: int):
    """Send one identity document of a buyer's registration request, as it was uploaded (DLA staff only)."""
    _require_dla()
    item = queries.request_by_id(get_session(), request_id)
    documents = item.payload.get("documents", []) if item is not None and item.kind == REQUEST_REGISTER_BUYER else []
    if not 0 <= index < len(documents):
        raise NotFound("document_not_found", "ไม่พบเอกสารนี้", f"request {request_id} has no document {index}")
    document = documents[index]
    data = get_store().read(document["sha256"])
    return Response(data, mimetype=document["content_type"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document['filename'])}",
        "X-Content-Type-Options": "nosniff",
    })


@bp.route("/dla/reconcile", methods=["GET", "POST"])
@login_required
def reconcile_page():
    _require_dla()
    differences = None
    http_status = 200
    if request.method == "POST":
        try:
            differences = reconcile.reconcile(get_session(), _uploaded_text("registry_csv", "ทะเบียนกลาง"))
        except WorkflowError as error:
            flash(error.message_th, "error")
            http_status = error.http_status
    counts: dict[str, int] = {}
    for difference in differences or []:
        counts[difference.kind] = counts.get(difference.kind, 0) + difference.quantity
    return render_template("ledger/reconcile.html", differences=differences, counts=counts,
                           columns=reconcile.REQUIRED_COLUMNS), http_status


# --- public ------------------------------------------------------------------------------


@bp.get("/public")
def public_totals():
    session = get_session()
    serial_raw = request.args.get("serial", "").strip().replace(",", "")
    lookup = None
    if serial_raw:
        lookup = {"serial": serial_raw, "valid": serial_raw.isdigit()}
        if lookup["valid"]:
            lookup["holder"] = queries.find_serial(session, int(serial_raw))
    return render_template("ledger/public.html", provinces=queries.province_totals(session),
                           totals=reports.balances(session), lookup=lookup, today=today_in_thailand(),
                           retirement_kind=ACCOUNT_RETIREMENT)


@bp.get("/verify/<int:transaction_id>/<hash_prefix>")
def verify_certificate(transaction_id: int, hash_prefix: str):
    found = queries.verified_certificate(get_session(), transaction_id, hash_prefix)
    return render_template("ledger/verify.html", found=found), 200 if found else 404


def _account_name(code: str | None) -> str:
    """Return the Thai name of the account `code`, or the code itself when there is no such account."""
    if not code:
        return ""
    account = queries.account_by_code(get_session(), code)
    return account.name_th if account is not None else code


def _certificate_url(item) -> str | None:
    """Return the certificate PDF's URL of a posted sale or retirement request, else None."""
    if item.status != "posted" or item.kind not in CERTIFICATE_TITLES:
        return None
    transaction = queries.transaction_of_request(get_session(), item.id)
    return url_for("ledger.certificate", transaction_id=transaction.id) if transaction else None


@bp.app_context_processor
def _ledger_helpers():
    return {
        "idempotency_key": new_idempotency_key,
        "ledger_status_th": STATUS_NAMES_TH,
        "ledger_kind_th": REQUEST_KIND_NAMES_TH,
        "ledger_account_name": _account_name,
        "ledger_certificate_url": _certificate_url,
        "ledger_bucket_th": BUCKET_NAMES_TH,
        "ledger_buyer_kind_th": BUYER_KIND_NAMES_TH,
        "ledger_document_kind_th": DOCUMENT_KIND_NAMES_TH,
        "difference_th": reconcile.DIFFERENCE_NAMES_TH,
        "registry_status_th": reconcile.STATUS_NAMES_TH,
        "be": format_be_date,
    }
