"""Every route of the web application, for every role, on its own office's record and another office's.

The table below states the expected outcome of each (route, role, record) case:

- ``ok``: the request is served (2xx, or a redirect that is not to the sign-in page);
- ``login``: a redirect to ``/login``;
- ``401``, ``403``, ``404``, ``409``: that status (``409``: access was granted, but the record's
  state does not allow the action).

`test_table_covers_every_route` enumerates ``app.url_map``, so a new route without a row
fails. Every refused POST must leave every table as it was: row counts and a hash of every
row, organizations counted only. Cases where the application does not do what the table
expects are listed in KNOWN_GAPS and run as strict xfail tests, so fixing one fails the
test until its row is moved back into the table.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests import permission_scenario as ps
from tests.conftest import PROVINCE_LETTER_TEXT, province_letter
from tests.pdfmaker import thai_pdf
from tests.permission_scenario import (
    CONFIRMATION,
    CONFIRMED,
    DELIVERED,
    DISTRICT,
    DLA,
    FORWARDED,
    LAO,
    OTHER_DISTRICT,
    OTHER_LAO,
    OTHER_OFFICE,
    OTHER_PROVINCE,
    PROVINCE,
    ROLE_OFFICE,
    ROLES,
    WORKING,
    Scenario,
)
from workflow import jobs
from workflow.app import create_app
from workflow.ledger import models as _ledger_models  # noqa: F401  (registers the ledger tables)
from workflow.models import Base, Organization
from workflow.routing.calendar import today_in_thailand
from workflow.routing.operations import CARBON_CREDIT_CONFIRMATION_FORM
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset
from workflow.storage import OriginalStore

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ROLE_KEYS = ("anonymous", *(key for key, _office, _role in ROLES))
SCOPES = ("own", "other")
TODAY = today_in_thailand()
REDIRECTS = (301, 302, 303, 307, 308)
_serial = itertools.count(1)

try:
    import fontpkg_sarabun  # noqa: F401

    FONT_OUTCOME = "ok"
except ImportError:
    FONT_OUTCOME = "404"


def be_date(day) -> str:
    return f"{day.day}/{day.month}/{day.year + 543}"


# --- which record a role's case uses --------------------------------------------------------


def office_of(role: str) -> str:
    """Return the role's office. Anonymous requests use the LAO's records."""
    return ROLE_OFFICE.get(role, LAO)


def target_office(role: str, scope: str) -> str:
    office = office_of(role)
    return office if scope == "own" else OTHER_OFFICE[office]


def task_id(sc: Scenario, state: str, role: str, scope: str) -> int:
    """Return the id of a task of the role's office in `state`.

    DLA receives no circular, so its staff use the province's task of DLA's own letter. An
    office without a task in `state` (an LAO never forwards) gets its task in the working state.
    """
    office = office_of(role)
    if office == DLA:
        target = PROVINCE if scope == "own" else OTHER_LAO
    else:
        target = target_office(role, scope)
    return sc.tasks[state].get(target) or sc.tasks[WORKING][target]


# The circular "of" each office. An LAO's is the one its district sent it, and DLA's "other" is Phuket's.
ISSUED_LETTER = {LAO: (DISTRICT, OTHER_DISTRICT), DISTRICT: (DISTRICT, OTHER_DISTRICT),
                 PROVINCE: (PROVINCE, OTHER_PROVINCE), DLA: (DLA, OTHER_PROVINCE)}
# The circular addressed to each office. The "other" one is Phuket's, addressed to none of the table's offices.
ADDRESSED_LETTER = {LAO: DISTRICT, DISTRICT: PROVINCE, PROVINCE: DLA, DLA: DLA}


def issued_letter(sc: Scenario, role: str, scope: str) -> int:
    own, other = ISSUED_LETTER[office_of(role)]
    return sc.letters[own if scope == "own" else other]


def addressed_letter(sc: Scenario, role: str, scope: str) -> int:
    return sc.letters[ADDRESSED_LETTER[office_of(role)] if scope == "own" else OTHER_PROVINCE]


def ledger_office(role: str, scope: str, dla_own: bool = False) -> str:
    """Return the LAO whose ledger records a case uses, or DLA for DLA staff's own case when `dla_own`."""
    if dla_own and office_of(role) == DLA and scope == "own":
        return DLA
    return LAO if scope == "own" else OTHER_LAO


def admin_office(role: str, scope: str) -> str:
    """Return the admin's office, or a district two levels under DLA, which a DLA admin does not manage."""
    return office_of(role) if scope == "own" else OTHER_DISTRICT


def helper_officer(sc: Scenario, task_office: str):
    if task_office == LAO:
        return sc.users["lao_officer"]
    return sc.helpers[task_office, "officer"]


def office_of_task(sc: Scenario, task: int) -> str:
    for tasks in sc.tasks.values():
        for office, known in tasks.items():
            if known == task:
                return office
    raise KeyError(task)


# --- forms ------------------------------------------------------------------------------


LETTER_UPLOAD = PROVINCE_LETTER_TEXT.encode("utf-8")
ECMS_MESSAGE = PROJECT_ROOT / "tests" / "fixtures" / "ecms" / "government_document_thegif.xml"
# A 13-digit juristic person number with a valid check digit, for a new buyer.
COMPANY_ID = "0105556176239"


def upload_form(_sc, _role, _scope):
    return {"files": (io.BytesIO(LETTER_UPLOAD + f"\n{next(_serial)}".encode()), "หนังสือเวียน.txt")}


def key_form(**fields):
    return lambda _sc, _role, _scope: {"idempotency_key": f"perm-web-{next(_serial)}", **fields}


def assign_form(sc, role, scope):
    task = task_id(sc, WORKING, role, scope)
    return {"assignee_id": str(helper_officer(sc, office_of_task(sc, task))), "note": "ดำเนินการตามหนังสือ"}


# Subordinates that have not yet had the working letters forwarded to them.
FORWARD_TO = {PROVINCE: "DIST-5702", OTHER_PROVINCE: "DIST-8302", DISTRICT: "5570904", OTHER_DISTRICT: "5570702",
              LAO: "5570903", OTHER_LAO: "5570903"}


def forward_form(sc, role, scope):
    office = office_of_task(sc, task_id(sc, WORKING, role, scope))
    return {"recipients": [FORWARD_TO[office]], "due": "",
            "form_fields": [field["name"] for field in CARBON_CREDIT_CONFIRMATION_FORM]}


def staff_form(_sc, _role, _scope):
    return {"username": f"dla.clerk{next(_serial)}", "display_name": "นางสาวพิมพ์ใจ ศรีสุข",
            "password": "รหัสผ่านใหม่-2568", "organization_code": "DLA", "role": "clerk",
            "position_th": "เจ้าพนักงานธุรการ"}


def delegation_form(sc, _role, _scope):
    return {"delegate_id": str(sc.users["dla_officer"]), "capacity": "on_behalf",
            "principal_position_th": "อธิบดีกรมส่งเสริมการปกครองท้องถิ่น", "valid_from": be_date(TODAY),
            "valid_until": be_date(TODAY + timedelta(days=30)), "order_reference": "คำสั่งกรม ที่ 123/2568"}


def holiday_form(_sc, _role, _scope):
    # A new day each time: a day declared twice is rejected.
    return {"day": be_date(TODAY + timedelta(days=20 + next(_serial))), "name_th": "วันหยุดราชการเป็นกรณีพิเศษ"}


def correction_form(_sc, _role, _scope):
    # A new value each time: a correction that changes nothing is rejected.
    return {"value": f"การใช้งานระบบบัญชีคาร์บอนเครดิตขององค์กรปกครองส่วนท้องถิ่น ครั้งที่ {next(_serial)}"}


def decision_form(**fields):
    """Build the approve and reject forms. DLA's desk sends `page=dla`, and the LAO page sends no page."""
    def build(_sc, role, _scope):
        page = {"page": "dla"} if office_of(role) == DLA else {}
        return {"idempotency_key": f"perm-web-{next(_serial)}", **page, **fields}
    return build


def ecms_message(_sc, _role, _scope) -> bytes:
    pdf = thai_pdf([["ที่ ชร ๐๐๒๓.๖/ว ๓๒๐๐", "เรื่อง การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"]])
    message = ECMS_MESSAGE.read_text(encoding="utf-8")
    message = message.replace("@@MAIN_LETTER_BASE64@@", base64.b64encode(pdf).decode("ascii"))
    message = message.replace("@@ATTACHMENT_BASE64@@", base64.b64encode("สิ่งที่ส่งมาด้วย".encode()).decode("ascii"))
    return message.encode("utf-8")


def buyer_registration_form(_sc, _role, _scope):
    return {"idempotency_key": f"perm-web-{next(_serial)}", "kind": "company",
            "name_th": "บริษัท เชียงรายกรีนเอนเนอร์ยี จำกัด", "tax_id": COMPANY_ID,
            "address_th": "99 หมู่ 3 ตำบลเวียงพางคำ อำเภอแม่สาย จังหวัดเชียงราย 57130",
            "contact_name": "นายสมชาย ใจดี", "contact_email": "esg@chiangraigreen.example",
            "letter_reference": "บริษัท ที่ CRG 7/2568",
            "identity_document": (io.BytesIO(thai_pdf([["หนังสือรับรองบริษัท"]])), "หนังสือรับรอง.pdf")}


def split_form(_sc, _role, _scope):
    return {"idempotency_key": f"perm-web-{next(_serial)}", "letter_reference": "มท 0821.2/ว 3003",
            "receipt_number_0": "รบ 21/2568", "receipt_date_0": "3 มิถุนายน 2568",
            "receipt_number_1": "รบ 22/2568", "receipt_date_1": "3 มิถุนายน 2568"}


def api_key(**fields):
    return lambda _sc, _role, _scope: {"idempotency_key": f"perm-api-{next(_serial)}", **fields}


def api_assign_body(sc, role, scope):
    return {"assignee_id": int(assign_form(sc, role, scope)["assignee_id"]), "note": "ดำเนินการตามหนังสือ"}


def api_forward_body(sc, role, scope):
    return {"recipient_codes": forward_form(sc, role, scope)["recipients"]}


def account_code(role: str, scope: str) -> str:
    return f"LAO-{ledger_office(role, scope)}"


def fixed(**fields):
    return lambda _sc, _role, _scope: dict(fields)


# --- the table ----------------------------------------------------------------------------


def expect(anonymous: str, default: str, **roles: str) -> dict[str, tuple[str, str]]:
    """Build a row: "ok/403" is the outcome on the own office's record, then on the other's."""
    row = {}
    for role in ROLE_KEYS:
        value = anonymous if role == "anonymous" else roles.get(role, default)
        own, _, other = value.partition("/")
        row[role] = (own, other or own)
    return row


@dataclass(frozen=True)
class Route:
    url: Callable[[Scenario, str, str], str]
    outcomes: dict[str, tuple[str, str]]
    form: Callable[[Scenario, str, str], dict | bytes] | None = None
    # How the body is sent: "form" (with the csrf_token field), "json" or "xml" (with the X-CSRF-Token header).
    body: str = "form"
    # The action changes the state of the record in its URL, so a second allowed case on that record needs a fresh scenario.
    consumes: bool = False
    # The form names the own or the other office's record, though the URL is fixed.
    scoped: bool = False

    def scopes(self) -> tuple[str, ...]:
        return SCOPES if self.scoped or not getattr(self.url, "fixed", False) else ("own",)


def path(text: str) -> Callable[[Scenario, str, str], str]:
    """A URL without a record in it: the route has one case per role unless its form is `scoped`."""
    def url(_sc, _role, _scope):
        return text
    url.fixed = True
    return url


SIGNED_IN = expect("login", "ok")
PUBLIC = expect("ok", "ok")
DOCUMENT = expect("login", "ok/403")
API_DOCUMENT = expect("401", "ok/403")
ADMIN_ONLY = expect("login", "403", admin="ok")
ADMIN_OWN_ONLY = expect("login", "403", admin="ok/404")
ADMIN_OWN_ONLY_403 = expect("login", "403", admin="ok/403")
DLA_STAFF = expect("login", "403", dla_officer="ok", dla_director="ok", admin="ok")
DLA_OFFICER = expect("login", "403", dla_officer="ok")
# Offices without a ledger account get the Thai "no account" page (404), and an LAO's other roles get 403.
LAO_OFFICER = expect("login", "404", lao_clerk="403", lao_officer="ok", lao_exec="403")
# Offices see the tasks of their own office and of the offices below them.
TASK_VIEW = expect("login", "ok/403", dla_officer="ok", dla_director="ok", admin="ok")
TASK_SUPERVISOR = expect("login", "403", lao_exec="ok/403", district_head="ok/403", province_head="ok/403")

TABLE: dict[str, Route] = {
    # --- public pages and sign-in
    "documents.home GET": Route(path("/"), PUBLIC),
    "documents.favicon GET": Route(path("/favicon.ico"), PUBLIC),
    "static GET": Route(path("/static/favicon.svg"), PUBLIC),
    "fonts.font GET": Route(path("/fonts/Sarabun-Regular.ttf"), expect(FONT_OUTCOME, FONT_OUTCOME)),
    "auth.login GET": Route(path("/login"), PUBLIC),
    # A wrong password: refused for everyone, and nothing is written.
    "auth.login POST": Route(path("/login"), expect("401", "401"),
                             fixed(username="p.lao_clerk", password="รหัสผิด-2568", next="")),
    "auth.logout POST": Route(path("/logout"), expect("login", "login"), fixed()),
    # --- documents
    "documents.index GET": Route(path("/documents"), SIGNED_IN),
    "documents.upload GET": Route(path("/upload"), SIGNED_IN),
    "documents.upload POST": Route(path("/upload"), SIGNED_IN, upload_form),
    "documents.show GET": Route(lambda sc, r, s: f"/documents/{sc.documents[target_office(r, s)]}", DOCUMENT),
    "documents.original GET": Route(lambda sc, r, s: f"/documents/{sc.documents[target_office(r, s)]}/original",
                                    DOCUMENT),
    # Clerks and supervisors correct their own office's letters. Officers and admins do not.
    "documents.correct POST": Route(
        lambda sc, r, s: f"/fields/{sc.fields[target_office(r, s)]}/correct",
        expect("login", "ok/403", lao_officer="403", dla_officer="403", admin="403"),
        correction_form,
    ),
    "api.list_documents GET": Route(path("/api/documents"), expect("401", "ok")),
    "api.upload_documents POST": Route(path("/api/documents"), expect("401", "ok"), upload_form),
    "api.document_result GET": Route(lambda sc, r, s: f"/api/documents/{sc.documents[target_office(r, s)]}",
                                     API_DOCUMENT),
    "api.job GET": Route(lambda sc, r, s: f"/api/jobs/{sc.jobs[target_office(r, s)]}", API_DOCUMENT),
    # --- routing: inbox and tasks
    "routing.inbox GET": Route(path("/routing/"), SIGNED_IN),
    "routing.task_page GET": Route(lambda sc, r, s: f"/routing/tasks/{task_id(sc, WORKING, r, s)}", TASK_VIEW),
    # Clerks and supervisors register receipts for their own office only.
    "routing.receive POST": Route(
        lambda sc, r, s: f"/routing/tasks/{task_id(sc, DELIVERED, r, s)}/receive",
        expect("login", "403", lao_clerk="ok/403", lao_exec="ok/403", district_clerk="ok/403",
               district_head="ok/403", province_clerk="ok/403", province_head="ok/403"),
        fixed(channel="system", received_on="", received_time=""), consumes=True,
    ),
    "routing.endorse POST": Route(lambda sc, r, s: f"/routing/tasks/{task_id(sc, WORKING, r, s)}/endorse",
                                  TASK_SUPERVISOR, fixed(decisions=["ทราบ"], note="ทราบ"), consumes=True),
    "routing.assign POST": Route(lambda sc, r, s: f"/routing/tasks/{task_id(sc, WORKING, r, s)}/assign",
                                 TASK_SUPERVISOR, assign_form, consumes=True),
    # An LAO has no office below it to forward to: its executive is refused too.
    "routing.forward POST": Route(
        lambda sc, r, s: f"/routing/tasks/{task_id(sc, WORKING, r, s)}/forward",
        expect("login", "403", district_head="ok/403", province_head="ok/403"),
        forward_form, consumes=True,
    ),
    "routing.confirm GET": Route(lambda sc, r, s: f"/routing/tasks/{task_id(sc, WORKING, r, s)}/confirm", SIGNED_IN),
    # Officers and clerks fill in their own office's confirmation form.
    "routing.confirm POST": Route(
        lambda sc, r, s: f"/routing/tasks/{task_id(sc, WORKING, r, s)}/confirm",
        expect("login", "403", lao_clerk="ok/403", lao_officer="ok/403", district_clerk="ok/403",
               province_clerk="ok/403"),
        fixed(**CONFIRMATION), consumes=True,
    ),
    "routing.approve POST": Route(lambda sc, r, s: f"/routing/tasks/{task_id(sc, CONFIRMED, r, s)}/approve",
                                  TASK_SUPERVISOR, fixed(note="อนุมัติ"), consumes=True),
    "routing.reject POST": Route(lambda sc, r, s: f"/routing/tasks/{task_id(sc, CONFIRMED, r, s)}/reject",
                                 TASK_SUPERVISOR, fixed(reason="เบอร์โทรศัพท์ไม่ครบ กรุณาแก้ไข"), consumes=True),
    # Offices report after forwarding. An LAO's task is not forwarded, so its executive gets 409.
    "routing.report POST": Route(
        lambda sc, r, s: f"/routing/tasks/{task_id(sc, FORWARDED, r, s)}/report",
        expect("login", "403", lao_exec="409/403", district_head="ok/403", province_head="ok/403"),
        fixed(note="รายงานผล"), consumes=True,
    ),
    # --- routing: letters
    # The letter page lists every recipient's progress: for the issuing office and offices above it.
    "routing.letter_page GET": Route(
        lambda sc, r, s: f"/routing/letters/{issued_letter(sc, r, s)}",
        expect("login", "ok/403", lao_clerk="403", lao_officer="403", lao_exec="403", dla_officer="ok",
               dla_director="ok", admin="ok"),
    ),
    # The roll-up counts: for every office in the letter's cascade and above it.
    "routing.rollup_page GET": Route(
        lambda sc, r, s: f"/routing/letters/{issued_letter(sc, r, s)}/rollup",
        expect("login", "ok/403", dla_officer="ok", dla_director="ok", admin="ok"),
    ),
    # The answers export holds the name, phone and e-mail of every recipient's officer:
    # for the issuing office and offices above it, not for one recipient LAO.
    "routing.answers GET": Route(
        lambda sc, r, s: f"/routing/letters/{issued_letter(sc, r, s)}/answers.csv",
        expect("login", "ok/403", lao_clerk="403", lao_officer="403", lao_exec="403", dla_officer="ok",
               dla_director="ok", admin="ok"),
    ),
    "routing.covering_file GET": Route(
        lambda sc, r, s: f"/routing/letters/{issued_letter(sc, r, s)}/covering.pdf",
        expect("login", "ok/403", dla_officer="ok", dla_director="ok", admin="ok"),
    ),
    # The QR code's link: it opens the task of the signed-in user's office, if the letter was sent to it.
    "routing.confirm_letter GET": Route(
        lambda sc, r, s: f"/routing/letters/{addressed_letter(sc, r, s)}/confirm",
        expect("login", "ok/403", dla_officer="403", dla_director="403", admin="403"),
    ),
    # --- ledger
    "ledger.index GET": Route(path("/ledger/"), PUBLIC),
    "ledger.public_totals GET": Route(path("/ledger/public?serial=3"), PUBLIC),
    "ledger.verify_certificate GET": Route(
        lambda sc, r, s: f"/ledger/verify/{sc.transactions[LAO]}/{sc.certificate_hash}", PUBLIC),
    # Only an office holding an account has an LAO page. The others get the Thai "no account" page.
    "ledger.lao_account GET": Route(path("/ledger/lao"),
                                    expect("login", "404", lao_clerk="ok", lao_officer="ok", lao_exec="ok")),
    "ledger.reserve POST": Route(path("/ledger/lao/reserve"), LAO_OFFICER,
                                 key_form(quantity="2", letter_reference="บันทึกข้อความ ที่ 9/2568")),
    "ledger.sale POST": Route(path("/ledger/lao/sale"), LAO_OFFICER, lambda sc, r, s: key_form(
        buyer_account=sc.bank_account, quantity="2", price_baht="", receipt_number="รบ 16/2568",
        receipt_date="2 มิถุนายน 2568", letter_reference="ธนาคารกรุงไทย ที่ ESG 13/2568")(sc, r, s)),
    "ledger.retire POST": Route(path("/ledger/lao/retire"), LAO_OFFICER, key_form(
        quantity="1", beneficiary="เทศบาลตำบลแม่สาย", purpose="ชดเชยการปล่อยก๊าซเรือนกระจกจากงานประเพณี",
        letter_reference="บันทึกข้อความ ที่ 10/2568")),
    # An executive decides their own office's pending requests. DLA's director decides DLA's.
    "ledger.approve POST": Route(
        lambda sc, r, s: f"/ledger/requests/{sc.pending_requests[ledger_office(r, s, dla_own=True)]}/approve",
        expect("login", "403", lao_exec="ok/403", dla_director="ok/403"), decision_form(), consumes=True,
    ),
    "ledger.reject POST": Route(
        lambda sc, r, s: f"/ledger/requests/{sc.pending_requests[ledger_office(r, s, dla_own=True)]}/reject",
        expect("login", "403", lao_exec="ok/403", dla_director="ok/403"),
        decision_form(reason="จำนวนไม่ตรงกับบันทึกข้อความ"), consumes=True,
    ),
    # DLA's executive confirms any LAO's approved sale.
    "ledger.confirm POST": Route(
        lambda sc, r, s: f"/ledger/requests/{sc.approved_requests[ledger_office(r, s)]}/confirm",
        expect("login", "403", dla_director="ok"), decision_form(), consumes=True,
    ),
    # A sale certificate names the buyer and the price: for the seller's office, offices above it, and DLA.
    "ledger.certificate GET": Route(
        lambda sc, r, s: f"/ledger/certificates/{sc.transactions[ledger_office(r, s)]}.pdf",
        expect("login", "ok", lao_clerk="ok/403", lao_officer="ok/403", lao_exec="ok/403"),
    ),
    "ledger.dla_desk GET": Route(path("/ledger/dla"), DLA_STAFF),
    "ledger.record_round POST": Route(path("/ledger/dla/rounds"), DLA_OFFICER, key_form(
        round_number="5", monitoring_start="1 เมษายน 2567", monitoring_end="30 กันยายน 2567",
        certified_on="15 มีนาคม 2568", quantity="20", serial_start="151", registry_reference="T-VER-P-0001-R5",
        letter_reference="อบก. ที่ 0003/2568")),
    "ledger.allocation_preview POST": Route(path("/ledger/dla/allocation/preview"), DLA_STAFF, lambda sc, r, s: {
        "round_number": "3", "quantity": "10", "letter_reference": "มท 0821.2/ว 2002",
        "bins_csv": (io.BytesIO(b"lao_code,verified_bins\n5570901,2\n5570902,1\n"), "bins.csv")}),
    "ledger.allocate POST": Route(path("/ledger/dla/allocation"), DLA_OFFICER, key_form(
        round_number="3", quantity="10", bins_json='{"5570901": 2, "5570902": 1}',
        letter_reference="มท 0821.2/ว 2002")),
    "ledger.reconcile_page GET": Route(path("/ledger/dla/reconcile"), DLA_STAFF),
    "ledger.reconcile_page POST": Route(path("/ledger/dla/reconcile"), DLA_STAFF, lambda sc, r, s: {
        "registry_csv": (io.BytesIO(b"account_code,serial_start,serial_end,status\nLAO-5570901,1,30,active\n"),
                         "registry.csv")}),
    # --- administration
    "admin.holidays_page GET": Route(path("/admin/holidays"), ADMIN_ONLY),
    "admin.add_holiday POST": Route(path("/admin/holidays"), ADMIN_ONLY, holiday_form),
    "admin.delegations_page GET": Route(path("/admin/delegations"), ADMIN_ONLY),
    "admin.grant_delegation POST": Route(path("/admin/delegations"), ADMIN_ONLY, delegation_form),
    "admin.staff_page GET": Route(path("/admin/staff"), ADMIN_ONLY),
    "admin.create_staff POST": Route(path("/admin/staff"), ADMIN_ONLY, staff_form),
    "admin.settings_page GET": Route(lambda sc, r, s: f"/admin/settings?org={admin_office(r, s)}", ADMIN_OWN_ONLY),
    "admin.save_settings POST": Route(path("/admin/settings"), ADMIN_OWN_ONLY, lambda sc, r, s: {
        "org": admin_office(r, s), "doc_prefix": "มท 0821.2", "internal_due_working_days": "2",
        "reminder_working_days": "2, 0"}, scoped=True),
    "admin.open_register POST": Route(path("/admin/settings/register"), ADMIN_OWN_ONLY, lambda sc, r, s: {
        "org": admin_office(r, s), "register": "receipt", "next_number": "100"}, scoped=True),
    # --- documents: retry, OCR crops
    # The office's clerks and supervisors (or the uploader) queue a failed parse again.
    "documents.retry POST": Route(
        lambda sc, r, s: f"/documents/{sc.failed_documents[target_office(r, s)]}/retry",
        expect("login", "ok/403", lao_officer="403", dla_officer="403", admin="403"), fixed(), consumes=True,
    ),
    "documents.letter_warning_crop GET": Route(
        lambda sc, r, s: f"/letters/{sc.parsed_letters[target_office(r, s)]}/warnings/0/crop.png", DOCUMENT),
    "documents.document_warning_crop GET": Route(
        lambda sc, r, s: f"/documents/{sc.documents[target_office(r, s)]}/warnings/0/crop.png", DOCUMENT),
    # --- ledger: release, DLA's bundle sales, cancellations, reversals and buyers
    # An officer releases only the own LAO's reservation. Another LAO's is not found in the own account (400).
    "ledger.release POST": Route(path("/ledger/lao/release"),
                                 expect("login", "404", lao_clerk="403/400", lao_officer="ok/400", lao_exec="403/400"),
                                 lambda sc, r, s: key_form(reservation_id=str(sc.reservations[ledger_office(r, s)]),
                                                           letter_reference="บันทึกข้อความ ที่ 12/2568")(sc, r, s),
                                 scoped=True),
    "ledger.bundle_sale POST": Route(path("/ledger/dla/bundle"), DLA_OFFICER, lambda sc, r, s: key_form(
        reservation_id=[str(sc.bundle_reservations[LAO]), str(sc.bundle_reservations[OTHER_LAO])],
        buyer_account=sc.bank_account, price_baht="", letter_reference="ธนาคารกรุงไทย ที่ ESG 15/2568")(sc, r, s)),
    "ledger.split_deposit POST": Route(lambda sc, r, s: f"/ledger/dla/bundle/{sc.bundle_sale}/split", DLA_OFFICER,
                                       split_form, consumes=True),
    "ledger.cancel POST": Route(path("/ledger/dla/cancel"), DLA_OFFICER, key_form(
        account_code="LAO-5570901", quantity="1", reason="หน่วยซ้ำกับทะเบียนกลาง",
        order_reference="คำสั่งกรม ที่ 55/2568", letter_reference="มท 0821.2/ว 3001")),
    "ledger.reverse POST": Route(path("/ledger/dla/reverse"), DLA_OFFICER, lambda sc, r, s: key_form(
        transaction_id=str(sc.transactions[LAO]), reason="บันทึกผิดบัญชี",
        letter_reference="มท 0821.2/ว 3002")(sc, r, s), consumes=True),
    "ledger.buyers GET": Route(path("/ledger/dla/buyers"), DLA_STAFF),
    "ledger.register_buyer POST": Route(path("/ledger/dla/buyers"), DLA_OFFICER, buyer_registration_form),
    # A buyer's identity document: DLA staff only.
    "ledger.buyer_document GET": Route(lambda sc, r, s: f"/ledger/requests/{sc.buyer_registration}/documents/0",
                                       DLA_STAFF),
    # --- /api/v1 through a signed-in session: the same operations as the screens, and 401 without a session
    "api_v1.openapi_document GET": Route(path("/api/v1/openapi.json"), PUBLIC),
    "api_v1.list_documents GET": Route(path("/api/v1/documents"), expect("401", "ok")),
    "api_v1.upload_documents POST": Route(path("/api/v1/documents"), expect("401", "ok"), upload_form),
    "api_v1.document_result GET": Route(lambda sc, r, s: f"/api/v1/documents/{sc.documents[target_office(r, s)]}",
                                        API_DOCUMENT),
    "api_v1.job GET": Route(lambda sc, r, s: f"/api/v1/jobs/{sc.jobs[target_office(r, s)]}", API_DOCUMENT),
    "api_v1.correct_field POST": Route(
        lambda sc, r, s: f"/api/v1/fields/{sc.fields[target_office(r, s)]}/correction",
        expect("401", "ok/403", lao_officer="403", dla_officer="403", admin="403"), correction_form, body="json",
    ),
    "api_v1.export_ecms GET": Route(lambda sc, r, s: f"/api/v1/ecms/letters/{sc.parsed_letters[target_office(r, s)]}",
                                    API_DOCUMENT),
    # Clerks and supervisors register an e-CMS letter in their own office's register.
    "api_v1.import_ecms POST": Route(
        path("/api/v1/ecms/messages"),
        expect("401", "ok", lao_officer="403", dla_officer="403", admin="403"), ecms_message, body="xml",
    ),
    "api_v1.inbox GET": Route(path("/api/v1/routing/inbox"), expect("401", "ok")),
    "api_v1.task GET": Route(lambda sc, r, s: f"/api/v1/routing/tasks/{task_id(sc, WORKING, r, s)}",
                             {**TASK_VIEW, "anonymous": ("401", "401")}),
    "api_v1.receive POST": Route(
        lambda sc, r, s: f"/api/v1/routing/tasks/{task_id(sc, DELIVERED, r, s)}/receive",
        expect("401", "403", lao_clerk="ok/403", lao_exec="ok/403", district_clerk="ok/403",
               district_head="ok/403", province_clerk="ok/403", province_head="ok/403"),
        fixed(channel="system"), body="json", consumes=True,
    ),
    "api_v1.register_external POST": Route(
        path("/api/v1/routing/receipts"), expect("401", "ok", lao_officer="403", dla_officer="403", admin="403"),
        lambda sc, r, s: {"channel": "paper", "letter": province_letter()}, body="json",
    ),
    "api_v1.endorse POST": Route(lambda sc, r, s: f"/api/v1/routing/tasks/{task_id(sc, WORKING, r, s)}/endorse",
                                 {**TASK_SUPERVISOR, "anonymous": ("401", "401")},
                                 fixed(decisions=["ทราบ"], note="ทราบ"), body="json", consumes=True),
    "api_v1.assign POST": Route(lambda sc, r, s: f"/api/v1/routing/tasks/{task_id(sc, WORKING, r, s)}/assign",
                                {**TASK_SUPERVISOR, "anonymous": ("401", "401")}, api_assign_body, body="json",
                                consumes=True),
    "api_v1.forward POST": Route(
        lambda sc, r, s: f"/api/v1/routing/tasks/{task_id(sc, WORKING, r, s)}/forward",
        expect("401", "403", district_head="ok/403", province_head="ok/403"), api_forward_body, body="json",
        consumes=True,
    ),
    "api_v1.confirm POST": Route(
        lambda sc, r, s: f"/api/v1/routing/tasks/{task_id(sc, WORKING, r, s)}/confirm",
        expect("401", "403", lao_clerk="ok/403", lao_officer="ok/403", district_clerk="ok/403",
               province_clerk="ok/403"),
        lambda sc, r, s: {"values": dict(CONFIRMATION)}, body="json", consumes=True,
    ),
    "api_v1.approve POST": Route(lambda sc, r, s: f"/api/v1/routing/tasks/{task_id(sc, CONFIRMED, r, s)}/approve",
                                 {**TASK_SUPERVISOR, "anonymous": ("401", "401")}, fixed(note="อนุมัติ"),
                                 body="json", consumes=True),
    "api_v1.reject POST": Route(lambda sc, r, s: f"/api/v1/routing/tasks/{task_id(sc, CONFIRMED, r, s)}/reject",
                                {**TASK_SUPERVISOR, "anonymous": ("401", "401")},
                                fixed(reason="เบอร์โทรศัพท์ไม่ครบ กรุณาแก้ไข"), body="json", consumes=True),
    "api_v1.report POST": Route(
        lambda sc, r, s: f"/api/v1/routing/tasks/{task_id(sc, FORWARDED, r, s)}/report",
        expect("401", "403", lao_exec="409/403", district_head="ok/403", province_head="ok/403"),
        fixed(note="รายงานผล"), body="json", consumes=True,
    ),
    "api_v1.letter_rollup GET": Route(lambda sc, r, s: f"/api/v1/routing/letters/{issued_letter(sc, r, s)}/rollup",
                                      expect("401", "ok/403", dla_officer="ok", dla_director="ok", admin="ok")),
    "api_v1.balances GET": Route(path("/api/v1/ledger/balances"), expect("401", "ok")),
    "api_v1.own_account GET": Route(path("/api/v1/ledger/account"),
                                    expect("401", "404", lao_clerk="ok", lao_officer="ok", lao_exec="ok")),
    # An office reads its own account's statement. DLA staff read any.
    "api_v1.statement GET": Route(lambda sc, r, s: f"/api/v1/ledger/accounts/{account_code(r, s)}/statement",
                                  expect("401", "403", lao_clerk="ok/403", lao_officer="ok/403", lao_exec="ok/403",
                                         dla_officer="ok", dla_director="ok", admin="ok")),
    "api_v1.requests_of_office GET": Route(path("/api/v1/ledger/requests"), expect("401", "ok")),
    "api_v1.reserve POST": Route(path("/api/v1/ledger/reservations"), {**LAO_OFFICER, "anonymous": ("401", "401")},
                                 api_key(quantity=2, letter_reference="บันทึกข้อความ ที่ 9/2568"), body="json"),
    "api_v1.sale POST": Route(path("/api/v1/ledger/sales"), {**LAO_OFFICER, "anonymous": ("401", "401")},
                              lambda sc, r, s: api_key(buyer_account=sc.bank_account, quantity=2,
                                                       receipt_number="รบ 17/2568", receipt_date="2025-06-02",
                                                       letter_reference="ธนาคารกรุงไทย ที่ ESG 16/2568")(sc, r, s),
                              body="json"),
    "api_v1.retire POST": Route(path("/api/v1/ledger/retirements"), {**LAO_OFFICER, "anonymous": ("401", "401")},
                                api_key(quantity=1, beneficiary="เทศบาลตำบลแม่สาย",
                                        purpose="ชดเชยการปล่อยก๊าซเรือนกระจกจากงานประเพณี",
                                        letter_reference="บันทึกข้อความ ที่ 10/2568"), body="json"),
    "api_v1.approve_request POST": Route(
        lambda sc, r, s: f"/api/v1/ledger/requests/{sc.pending_requests[ledger_office(r, s, dla_own=True)]}/approve",
        expect("401", "403", lao_exec="ok/403", dla_director="ok/403"), api_key(), body="json", consumes=True,
    ),
    "api_v1.reject_request POST": Route(
        lambda sc, r, s: f"/api/v1/ledger/requests/{sc.pending_requests[ledger_office(r, s, dla_own=True)]}/reject",
        expect("401", "403", lao_exec="ok/403", dla_director="ok/403"),
        api_key(reason="จำนวนไม่ตรงกับบันทึกข้อความ"), body="json", consumes=True,
    ),
    "api_v1.confirm_request POST": Route(
        lambda sc, r, s: f"/api/v1/ledger/requests/{sc.approved_requests[ledger_office(r, s)]}/confirm",
        expect("401", "403", dla_director="ok"), api_key(), body="json", consumes=True,
    ),
    # --- routing: the dashboard, and registering a letter read from an uploaded file
    "routing.dashboard_page GET": Route(path("/routing/dashboard"), SIGNED_IN),
    # Only a letter of the own office's uploads can be picked.
    "routing.register_page GET": Route(
        lambda sc, r, s: f"/routing/receive?letter={sc.parsed_letters[target_office(r, s)]}", DOCUMENT),
    "routing.register_uploaded POST": Route(
        path("/routing/receive"),
        expect("login", "ok/403", lao_officer="403", dla_officer="403", admin="403"),
        lambda sc, r, s: {"letter": str(sc.parsed_letters[target_office(r, s)]), "channel": "paper",
                          "received_on": "", "received_time": "", "sender_text": "ศาลากลางจังหวัดเชียงราย"},
        scoped=True,
    ),
    "api_v1.retry_parse POST": Route(
        lambda sc, r, s: f"/api/v1/documents/{sc.failed_documents[target_office(r, s)]}/retry",
        expect("401", "ok/403", lao_officer="403", dla_officer="403", admin="403"), fixed(), body="json",
        consumes=True,
    ),
    # --- API tokens: an admin manages the tokens of the own office and the offices directly under it
    "api_tokens.tokens_page GET": Route(path("/admin/api-tokens/"), ADMIN_ONLY),
    "api_tokens.create_token POST": Route(
        path("/admin/api-tokens/"), ADMIN_OWN_ONLY_403,
        lambda sc, r, s: {"username": "h.DLA.officer" if s == "own" else f"h.{OTHER_DISTRICT}.clerk",
                          "name": f"ระบบ e-office ของกอง {next(_serial)}"},
        scoped=True,
    ),
    "api_tokens.revoke_token POST": Route(lambda sc, r, s: f"/admin/api-tokens/{sc.api_tokens[s]}/revoke",
                                          ADMIN_OWN_ONLY_403, fixed()),
}

# Cases where the application differs from the table: (route, role, scope) -> what happens instead.
KNOWN_GAPS: dict[tuple[str, str, str], str] = {}


# --- running a case -----------------------------------------------------------------------


def route_keys(app) -> set[str]:
    keys = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            keys.add(f"{rule.endpoint} {method}")
    return keys


def outcome_of(response) -> str:
    if response.status_code in REDIRECTS:
        return "login" if urlsplit(response.headers.get("Location", "")).path == "/login" else "ok"
    if 200 <= response.status_code < 300:
        return "ok"
    return str(response.status_code)


def database_fingerprint(database) -> dict[str, tuple[int, str]]:
    """Return the row count and a SHA-256 of the rows, in primary-key order, of every table."""
    fingerprint = {}
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            count = connection.scalar(select(func.count()).select_from(table))
            if table.name == Organization.__tablename__:
                fingerprint[table.name] = (count, "")
                continue
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode("utf-8")).hexdigest()
            fingerprint[table.name] = (count, digest)
    return fingerprint


def client_for(app, sc: Scenario, role: str):
    client = app.test_client()
    token = f"token-{role}"
    with client.session_transaction() as web_session:
        web_session["csrf_token"] = token
        if role != "anonymous":
            web_session["user_id"] = sc.users[role]
    client.csrf = token
    return client


def send(app, sc: Scenario, route_key: str, role: str, scope: str, bearer: bool = False):
    """Send one case with the role's session and CSRF token, or with `bearer`, its API token and no cookie.

    An anonymous bearer case sends a token that was never issued.
    """
    route = TABLE[route_key]
    method = route_key.rsplit(" ", 1)[1]
    url = route.url(sc, role, scope)
    if bearer:
        client = app.test_client()
        client.csrf = ""
        headers = {"Authorization": f"Bearer {sc.role_tokens.get(role, 'srb_never-issued-token')}"}
    else:
        client = client_for(app, sc, role)
        headers = {"X-CSRF-Token": client.csrf}
    if method == "GET":
        return url, client.get(url, headers=headers)
    payload = route.form(sc, role, scope) if route.form else {}
    if route.body == "json":
        response = client.post(url, json=payload, headers=headers)
    elif route.body == "xml":
        response = client.post(url, data=payload, content_type="application/xml", headers=headers)
    elif bearer:
        response = client.post(url, data=payload, headers=headers)
    else:
        response = client.post(url, data={"csrf_token": client.csrf, **payload})
    # An upload or a retry queues a parse on the in-process worker: let it finish before the next case.
    worker = app.extensions.get(jobs.WORKER_EXTENSION)
    if worker is not None:
        worker.wait_until_idle()
    return url, response


class Environment:
    """A database, an app on it and the scenario, rebuilt on request."""

    def __init__(self, database, tmp_path):
        self.database = database
        self.storage = tmp_path / "storage"
        self.app = create_app({
            "TESTING": True,
            "DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
            "SARABAN_STORAGE": str(self.storage),
            "SARABAN_MAX_UPLOAD_BYTES": 2 * 1024 * 1024,
            "REDIS_URL": None,
            "SECRET_KEY": "permissions-table",
            # An exception in a view becomes a 500 response, an outcome the table can compare.
            "PROPAGATE_EXCEPTIONS": False,
        })
        self.scenario: Scenario | None = None
        # True once an allowed action changed the state of a record since the last rebuild. Other
        # allowed POSTs only add rows (a document, a pending request, a user) that no later case reads.
        self.dirty = True

    def rebuild(self) -> Scenario:
        reset(self.database)
        session = self.database.session()
        try:
            self.scenario = ps.build(session, OriginalStore(self.storage), self.storage)
        finally:
            session.close()
        self.dirty = False
        return self.scenario

    def close(self) -> None:
        self.app.extensions["saraban.db"].dispose()


def cases_of(route_key: str) -> list[tuple[str, str]]:
    """Return the route's (role, scope) cases, refusals first, so that allowed actions rarely need a rebuild."""
    outcomes = TABLE[route_key].outcomes
    cases = [(role, scope) for role in ROLE_KEYS for scope in TABLE[route_key].scopes()
             if (route_key, role, scope) not in KNOWN_GAPS]
    return sorted(cases, key=lambda case: outcomes[case[0]][SCOPES.index(case[1])] == "ok")


def check_case(env: Environment, route_key: str, role: str, scope: str, bearer: bool = False) -> str | None:
    """Send one case. Return a description of what differs from the table, or None."""
    expected = TABLE[route_key].outcomes[role][SCOPES.index(scope)]
    refused_post = route_key.endswith(" POST") and expected != "ok"
    before = database_fingerprint(env.database) if refused_post else None
    url, response = send(env.app, env.scenario, route_key, role, scope, bearer)
    actual = outcome_of(response)
    if actual != expected:
        return f"{role} on {scope} record: {response.status_code} {url} -> {actual}, expected {expected}"
    if refused_post:
        after = database_fingerprint(env.database)
        changed = sorted(name for name in after if after[name] != before[name])
        if changed:
            return f"{role} on {scope} record: refused {url} changed {', '.join(changed)}"
    return None


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('permissions') / 'permissions.db'}")
        yield db
        db.dispose()
        return
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {reason}")
    with postgres_schema_url() as url:
        db = prepare_database(url)
        yield db
        db.dispose()


@pytest.fixture(scope="module")
def environment(database, tmp_path_factory):
    built = Environment(database, tmp_path_factory.mktemp("permissions_storage"))
    yield built
    built.close()


@pytest.fixture
def env(environment):
    """The module's environment, rebuilt when an earlier test's allowed POST changed its records."""
    if environment.dirty:
        environment.rebuild()
    return environment


# --- tests --------------------------------------------------------------------------------


def test_table_covers_every_route(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'routes.db'}", "SARABAN_STORAGE": str(tmp_path),
                      "REDIS_URL": None, "SECRET_KEY": "routes"})
    keys = route_keys(app)
    app.extensions["saraban.db"].dispose()
    assert sorted(keys - set(TABLE)) == [], "routes without a row in TABLE"
    assert sorted(set(TABLE) - keys) == [], "rows in TABLE for routes that no longer exist"


def test_table_rows_name_every_role():
    for route_key, route in TABLE.items():
        assert set(route.outcomes) == set(ROLE_KEYS), route_key


def run_route(env: Environment, route_key: str, bearer: bool = False) -> list[str]:
    """Run every case of the route; return what differs from the table."""
    mismatches = []
    consumed: set[str] = set()
    for role, scope in cases_of(route_key):
        url = TABLE[route_key].url(env.scenario, role, scope)
        if url in consumed:
            env.rebuild()
            consumed.clear()
        problem = check_case(env, route_key, role, scope, bearer)
        if problem:
            mismatches.append(problem)
        allowed = TABLE[route_key].outcomes[role][SCOPES.index(scope)] == "ok"
        if TABLE[route_key].consumes and allowed:
            consumed.add(url)
            env.dirty = True
    return mismatches


@pytest.mark.parametrize("route_key", sorted(TABLE))
def test_route_permissions(env, route_key):
    mismatches = run_route(env, route_key)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("route_key", sorted(key for key in TABLE if key.startswith("api_v1.")))
def test_api_token_permissions(env, route_key):
    """The same /api/v1 cases with each role's API token in place of its session: the same outcomes."""
    mismatches = run_route(env, route_key, bearer=True)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("case", [
    pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=reason), id="-".join(case))
    for case, reason in sorted(KNOWN_GAPS.items())
])
def test_known_gap(env, case):
    route_key, role, scope = case
    # A gap that is fixed may let the request through and change the records.
    env.dirty = TABLE[route_key].consumes
    assert check_case(env, route_key, role, scope) is None
