"""Load the carbon-credit circular chain of 2568 into a database, for trying the routing and roll-up.

DLA issues `มท 0821.2/ว 1446` of 28 March 2568 to every provincial office. Chiang Rai
receives it, endorses it and re-issues it as `ชร 0023.6/ว 3200` of 2 April 2568 to its 18
districts and the LAOs it deals with directly. Mae Sai district re-issues it to its 10
LAOs. Each of them names a responsible officer, and its executive approves. Mae Sai then
reports to Chiang Rai.

Dates follow the letters of that chain where they are known: DLA's letter of 28 March, the
province's of 2 April due 11 April, the district's deadline of 9 April. DLA's own deadline
is not known, so the demo sets 18 April 2568. Songkran runs 13-16 April 2568, so two
working days before 18 April is 11 April, and two before that is 9 April. That is what the
default lead time derives. The district letter in the real chain is dated 13 April, after
its own deadline, so the demo dates it 4 April instead. People's names here are made up.

A second chain is left pending, dated from the day the demo runs so that its deadlines are
still ahead. DLA's circular on reporting the number of verified wet-waste bins for the
next certification round, due within 30 days of each recipient's receipt, was issued four
working days earlier. Chiang Rai registered it two working days earlier and its head ordered
แจ้งเวียน, but the circular has not been forwarded. Chiang Rai also issued its own circular
asking its 18 districts to name the officer who records the bin counts (within 7 working days
of receipt), and Mae Sai has not registered it yet. The pending letters are dated no earlier
than 1 January of the current year. Both chains use the password `saraban-demo`. What a
person can do at `/routing/`:

- `demo.chiangrai.head` (supervisor) opens DLA's bin-count circular and forwards it to
  Chiang Rai's districts and LAOs. `demo.chiangrai.clerk` can do the same under the demo's
  delegation, valid for the fiscal year that contains the demo's day and granted by
  `DELEGATION_ORDER`. The forward form offers that delegation.
- `demo.maesai.clerk` (or `saraban` of `saraban setup`) registers the receipt of Chiang Rai's
  circular, then `demo.maesai.head` (or `maesai.supervisor`) endorses it with แจ้งเวียน and
  forwards it to Mae Sai's 10 LAOs. There `demo.lao<code>.clerk` registers it,
  `demo.lao<code>.officer` fills in the form and `demo.lao<code>.executive` approves.
- `demo.dla.director` sees both DLA circulars under the issued letters, with their roll-ups.

Running it again leaves the database as it is: each step first looks for what it would create.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from workflow.directory import load_directory
from workflow.models import ORG_DISTRICT_OFFICE, ROLE_CLERK, ROLE_OFFICER, ROLE_SUPERVISOR, Organization, User
from workflow.routing import admin, covering, operations
from workflow.routing.access import valid_delegations
from workflow.routing.calendar import BANGKOK, load_calendar, today_in_thailand
from workflow.routing.models import CAPACITY_ON_BEHALF, REGISTER_CIRCULAR, OfficialLetter, Receipt, RoutingTask
from workflow.routing.numbering import peek_number
from workflow.routing.state import load_status

log = logging.getLogger(__name__)

# The same password as the other demo accounts of `saraban setup`.
DEMO_PASSWORD = "saraban-demo"
SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
DLA_NUMBER = "มท 0821.2/ว 1446"
DLA_DATE = date(2025, 3, 28)
DLA_DUE = date(2025, 4, 18)
PROVINCE_CODE, DISTRICT_CODE = "PROV-57", "DIST-5709"
FISCAL_YEAR_2568 = (date(2024, 10, 1), date(2025, 9, 30))

# Book codes and the next circular number of each office in 2568 (the district's ว 1060 of
# 17 March 2568 is the last one its letters cite).
OFFICES = {
    "DLA": ("มท 0821.2", 1446),
    PROVINCE_CODE: ("ชร 0023.6", 3200),
    DISTRICT_CODE: ("ชร 0023.20", 1061),
}

# username, display name, organization code, role, position
OFFICE_STAFF = (
    ("demo.dla.clerk", "นางสาวกมลวรรณ ศรีสุข", "DLA", ROLE_CLERK, None),
    ("demo.dla.director", "นายวีระพงษ์ มั่นคง", "DLA", ROLE_SUPERVISOR,
     "ผู้อำนวยการกองส่งเสริมและพัฒนาการจัดการสิ่งแวดล้อมท้องถิ่น"),
    ("demo.chiangrai.clerk", "นางสาวพรทิพย์ คำแก้ว", PROVINCE_CODE, ROLE_CLERK, None),
    ("demo.chiangrai.head", "นายเกียรติศักดิ์ บุญมา", PROVINCE_CODE, ROLE_SUPERVISOR,
     "ท้องถิ่นจังหวัดเชียงราย"),
    ("demo.chiangrai.deputy", "นายชัยวัฒน์ อินทร์แก้ว", PROVINCE_CODE, ROLE_SUPERVISOR,
     "รองผู้ว่าราชการจังหวัดเชียงราย"),
    ("demo.maesai.clerk", "นางสาวอรอุมา จันทร์เพ็ญ", DISTRICT_CODE, ROLE_CLERK, None),
    ("demo.maesai.head", "นายสุรชัย ปัญญาดี", DISTRICT_CODE, ROLE_SUPERVISOR, "ท้องถิ่นอำเภอแม่สาย"),
)
# The pending chain of the current year.
BINS_SUBJECT = "การรายงานจำนวนถังขยะเปียกที่ผ่านการตรวจสอบ เพื่อขอรับรองคาร์บอนเครดิตรอบถัดไป"
BINS_RELATIVE_DAYS = 30
BINS_CONFIRMATION_FORM = [
    {"name": "verified_bins", "label_th": "จำนวนถังขยะเปียกที่ผ่านการตรวจสอบ (ถัง)", "kind": "text", "required": True},
    {"name": "households", "label_th": "จำนวนครัวเรือนที่ใช้ถังขยะเปียก", "kind": "text", "required": True},
    {"name": "reporter_name", "label_th": "ชื่อ-สกุล ผู้รายงาน", "kind": "text", "required": True},
    {"name": "phone", "label_th": "หมายเลขโทรศัพท์", "kind": "phone", "required": True},
]
INVITATION_SUBJECT = "ขอให้แจ้งรายชื่อเจ้าหน้าที่ผู้บันทึกข้อมูลจำนวนถังขยะเปียก"
INVITATION_RELATIVE_WORKING_DAYS = 7
INVITATION_FORM = [
    {"name": "officer_name", "label_th": "ชื่อ-สกุล เจ้าหน้าที่ผู้บันทึกข้อมูล", "kind": "text", "required": True},
    {"name": "position", "label_th": "ตำแหน่ง", "kind": "text", "required": True},
    {"name": "phone", "label_th": "หมายเลขโทรศัพท์", "kind": "phone", "required": True},
    {"name": "email", "label_th": "อีเมล", "kind": "email", "required": True},
]
# Next circular number of each office in the current year, so the pending letters read like real ones.
CURRENT_YEAR_NUMBERS = {"DLA": 2905, PROVINCE_CODE: 4120, DISTRICT_CODE: 1480}
DELEGATION_ORDER = (
    "คำสั่งสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดเชียงราย ที่ {number}/{year_be} "
    "เรื่อง มอบหมายให้ลงนามหนังสือแจ้งเวียนแทนท้องถิ่นจังหวัด (ตัวอย่าง)"
)
EXECUTIVE_TITLES = {
    "subdistrict_municipality": "นายกเทศมนตรีตำบล",
    "subdistrict_admin_org": "นายกองค์การบริหารส่วนตำบล",
}


@dataclass
class DemoSummary:
    """Summary of one demo run: the chain's letter numbers and what this run added (zero when all was in place)."""

    users_created: int = 0
    letters: list[str] = field(default_factory=list)
    # Letter numbers of the pending chain: DLA's bin-count circular and Chiang Rai's invitation.
    pending_letters: list[str] = field(default_factory=list)
    confirmations_approved: int = 0
    covering_letters: str = ""


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BANGKOK)


def _user(session: Session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


@functools.cache
def _demo_password_hash() -> str:
    return generate_password_hash(DEMO_PASSWORD)


def _ensure_user(session: Session, summary: DemoSummary, username: str, name: str, org_code: str,
                 role: str, position: str | None) -> User:
    user = _user(session, username)
    if user is None:
        user = admin.create_staff_user(session, None, username, name, DEMO_PASSWORD, org_code, role, position,
                                       password_hash=_demo_password_hash())
        summary.users_created += 1
    return user


def _ensure_offices(session: Session) -> None:
    for code, (prefix, next_number) in OFFICES.items():
        admin.set_office_settings(session, None, code, doc_prefix=prefix)
        organization = admin.get_organization(session, code)
        if peek_number(session, organization.id, REGISTER_CIRCULAR, DLA_DATE.year) == 1:
            admin.open_register(session, None, code, REGISTER_CIRCULAR, DLA_DATE.year, next_number)


def _ensure_deputy_delegation(session: Session, deputy: User) -> int:
    existing = [item for item in valid_delegations(session, deputy, DLA_DATE) if item.capacity == CAPACITY_ON_BEHALF]
    if existing:
        return existing[0].id
    delegation = admin.grant_delegation(
        session, None, deputy, CAPACITY_ON_BEHALF, "ผู้ว่าราชการจังหวัดเชียงราย", *FISCAL_YEAR_2568,
        "คำสั่งจังหวัดเชียงราย เรื่อง การมอบอำนาจให้รองผู้ว่าราชการจังหวัดปฏิบัติราชการแทน (ตัวอย่าง)",
    )
    return delegation.id


def _circular_from(session: Session, issuer_code: str, parent_id: int | None,
                   subject: str = SUBJECT) -> OfficialLetter | None:
    organization = admin.get_organization(session, issuer_code)
    query = select(OfficialLetter).where(OfficialLetter.issuer_org_id == organization.id)
    query = query.where(
        OfficialLetter.parent_letter_id == parent_id if parent_id else OfficialLetter.parent_letter_id.is_(None)
    )
    return session.scalar(query.where(OfficialLetter.subject == subject).order_by(OfficialLetter.id).limit(1))


def _receive_and_endorse(session: Session, letter: OfficialLetter, clerk: User, head: User, day: date,
                         decisions: list[str], note: str, assigned_unit: str | None = None) -> Receipt:
    # register_receipt rejects a stamp in the future, which today's 09:30 is before 09:30.
    stamp = min(_at(day, 9, 30), datetime.now(BANGKOK))
    result = operations.register_receipt(
        session, clerk, channel="system", letter_id=letter.id, received_at=stamp
    )
    if result.created:
        operations.endorse(session, head, result.receipt.id, decisions, note, assigned_unit, on_date=day)
    return result.receipt


def _run_office_chain(session: Session, summary: DemoSummary) -> OfficialLetter:
    users = {row[0]: _ensure_user(session, summary, *row) for row in OFFICE_STAFF}
    _ensure_offices(session)
    delegation_id = _ensure_deputy_delegation(session, users["demo.chiangrai.deputy"])

    dla_letter = _circular_from(session, "DLA", None)
    if dla_letter is None:
        dla_letter = operations.issue_circular(
            session, users["demo.dla.director"], subject=SUBJECT, issued_on=DLA_DATE, due_nominal=DLA_DUE,
            due_text="ภายในวันที่ 18 เมษายน 2568",
            confirmation_form=operations.CARBON_CREDIT_CONFIRMATION_FORM,
        ).letter
    province_letter = _circular_from(session, PROVINCE_CODE, dla_letter.id)
    if province_letter is None:
        _receive_and_endorse(session, dla_letter, users["demo.chiangrai.clerk"], users["demo.chiangrai.head"],
                             date(2025, 3, 31), ["ทราบ", "แจ้งเวียน"],
                             "แจ้งอำเภอและองค์กรปกครองส่วนท้องถิ่นในสังกัดดำเนินการ")
        province_letter = operations.forward_circular(
            session, users["demo.chiangrai.deputy"], dla_letter.id, issued_on=date(2025, 4, 2),
            urgency="most_urgent", delegation_id=delegation_id,
        ).letter
    district_letter = _circular_from(session, DISTRICT_CODE, province_letter.id)
    if district_letter is None:
        _receive_and_endorse(session, province_letter, users["demo.maesai.clerk"], users["demo.maesai.head"],
                             date(2025, 4, 3), ["ทราบ", "แจ้งเวียน"], "แจ้ง ทต. และ อบต. ในพื้นที่ดำเนินการ")
        district_letter = operations.forward_circular(
            session, users["demo.maesai.head"], province_letter.id, issued_on=date(2025, 4, 4)
        ).letter
    summary.letters = [dla_letter.doc_number, province_letter.doc_number, district_letter.doc_number]
    return district_letter


def _run_lao(session: Session, summary: DemoSummary, task: RoutingTask) -> None:
    lao = task.recipient
    title = EXECUTIVE_TITLES.get(lao.lao_type, "นายก")
    base = f"demo.lao{lao.code}"
    clerk = _ensure_user(session, summary, f"{base}.clerk", f"เจ้าหน้าที่สารบรรณ {lao.name_th}", lao.code,
                         ROLE_CLERK, None)
    officer = _ensure_user(session, summary, f"{base}.officer", f"นักวิชาการสิ่งแวดล้อม {lao.name_th}",
                           lao.code, ROLE_OFFICER, "นักวิชาการสิ่งแวดล้อม")
    executive = _ensure_user(session, summary, f"{base}.executive", f"ผู้บริหาร {lao.name_th}", lao.code,
                             ROLE_SUPERVISOR, title + lao.name_th.removeprefix("เทศบาลตำบล").removeprefix(
                                 "องค์การบริหารส่วนตำบล"))
    if load_status(session, task.id).answered:
        return
    day = date(2025, 4, 8)
    _receive_and_endorse(session, task.letter, clerk, executive, day, ["ทราบ", "มอบ"],
                         "มอบสำนักปลัดแต่งตั้งเจ้าหน้าที่ผู้รับผิดชอบ", assigned_unit="สำนักปลัด")
    operations.assign_task(session, executive, task.id, officer, "ดำเนินการและรายงานภายในกำหนด", on_date=day)
    operations.confirm_assignment(session, officer, task.id, {
        "officer_name": officer.display_name,
        "position": "นักวิชาการสิ่งแวดล้อม",
        "phone": f"053-73{lao.code[-4:]}",
        "email": f"carbon{lao.code}@example.org",
    })
    operations.approve_confirmation(session, executive, task.id, on_date=date(2025, 4, 9))
    summary.confirmations_approved += 1


def _report_district(session: Session, district_letter: OfficialLetter) -> None:
    """Have Mae Sai report its LAOs' confirmations to Chiang Rai on 10 April 2568, once."""
    head = _user(session, "demo.maesai.head")
    office_task = session.scalar(select(RoutingTask).where(
        RoutingTask.letter_id == district_letter.parent_letter_id,
        RoutingTask.recipient_org_id == head.organization_id,
    ))
    if load_status(session, office_task.id).state == "forwarded":
        operations.report_to_sender(session, head, office_task.id, on_date=date(2025, 4, 10),
                                    note="รวบรวมรายชื่อเจ้าหน้าที่ผู้รับผิดชอบของ อปท. ในพื้นที่ครบทุกแห่งแล้ว")


# --- the pending chain of the current year ---------------------------------------------


@dataclass
class PendingDays:
    """Days of the pending chain, counted back in working days from `today` and kept in its calendar year."""

    today: date
    dla_issued: date
    province_received: date
    invitation_issued: date


def pending_days(session: Session, today: date) -> PendingDays:
    """Return the pending chain's days: DLA four working days before `today`, Chiang Rai's receipt two."""
    calendar = load_calendar(session)
    year_start = date(today.year, 1, 1)
    dla_issued = max(calendar.add_working_days(today, -4), year_start)
    province_received = max(calendar.add_working_days(today, -2), dla_issued)
    invitation_issued = max(calendar.add_working_days(today, -1), province_received)
    return PendingDays(today, dla_issued, province_received, invitation_issued)


def fiscal_year_of(day: date) -> tuple[date, date]:
    """Return the first and last day of the Thai fiscal year (1 October to 30 September) that contains `day`."""
    start_year = day.year if day.month >= 10 else day.year - 1
    return date(start_year, 10, 1), date(start_year + 1, 9, 30)


def _ensure_current_registers(session: Session, year: int) -> None:
    for code, next_number in CURRENT_YEAR_NUMBERS.items():
        organization = admin.get_organization(session, code)
        if peek_number(session, organization.id, REGISTER_CIRCULAR, year) == 1:
            admin.open_register(session, None, code, REGISTER_CIRCULAR, year, next_number)


def _ensure_clerk_delegation(session: Session, head: User, clerk: User, today: date) -> None:
    """Let the province clerk sign circulars on behalf of the head for the fiscal year that contains `today`."""
    if any(item.capacity == CAPACITY_ON_BEHALF for item in valid_delegations(session, clerk, today)):
        return
    valid_from, valid_until = fiscal_year_of(today)
    order = DELEGATION_ORDER.format(number=58, year_be=valid_from.year + 543)
    admin.grant_delegation(session, head, clerk, CAPACITY_ON_BEHALF, "ท้องถิ่นจังหวัดเชียงราย",
                           valid_from, valid_until, order)


def _run_pending_chain(session: Session, summary: DemoSummary, today: date) -> None:
    """Leave DLA's bin-count circular endorsed at Chiang Rai and Chiang Rai's invitation unregistered at Mae Sai."""
    users = {row[0]: _user(session, row[0]) for row in OFFICE_STAFF}
    _ensure_clerk_delegation(session, users["demo.chiangrai.head"], users["demo.chiangrai.clerk"], today)

    bins_letter = _circular_from(session, "DLA", None, BINS_SUBJECT)
    invitation = _circular_from(session, PROVINCE_CODE, None, INVITATION_SUBJECT)
    if bins_letter is None or invitation is None:
        days = pending_days(session, today)
        _ensure_current_registers(session, days.dla_issued.year)
    if bins_letter is None:
        bins_letter = operations.issue_circular(
            session, users["demo.dla.director"], subject=BINS_SUBJECT, issued_on=days.dla_issued,
            relative_days=BINS_RELATIVE_DAYS, urgency="very_urgent",
            recipient_codes=[PROVINCE_CODE], confirmation_form=BINS_CONFIRMATION_FORM,
        ).letter
        _receive_and_endorse(session, bins_letter, users["demo.chiangrai.clerk"], users["demo.chiangrai.head"],
                             days.province_received, ["ทราบ", "แจ้งเวียน"],
                             "แจ้งอำเภอและองค์กรปกครองส่วนท้องถิ่นในสังกัดรายงานจำนวนถังขยะเปียกภายในกำหนด")
    if invitation is None:
        districts = session.scalars(
            select(Organization.code)
            .where(Organization.parent_id == admin.get_organization(session, PROVINCE_CODE).id,
                   Organization.kind == ORG_DISTRICT_OFFICE)
            .order_by(Organization.code)
        ).all()
        invitation = operations.issue_circular(
            session, users["demo.chiangrai.head"], subject=INVITATION_SUBJECT, issued_on=days.invitation_issued,
            relative_days=INVITATION_RELATIVE_WORKING_DAYS, relative_working_days=True,
            recipient_codes=list(districts), confirmation_form=INVITATION_FORM,
        ).letter
    summary.pending_letters = [bins_letter.doc_number, invitation.doc_number]


def _write_covering_letters(session: Session, storage: Path | None, summary: DemoSummary) -> None:
    if storage is None:
        summary.covering_letters = "ไม่ได้สร้างไฟล์หนังสือนำส่ง"
        return
    written = 0
    for doc_number in summary.letters:
        letter = session.scalar(select(OfficialLetter).where(OfficialLetter.doc_number == doc_number))
        if letter.covering_files:
            continue
        try:
            covering.write_covering_files(session, letter.id, storage)
        except ImportError as exc:
            log.warning("covering letters not rendered: %s", exc)
            summary.covering_letters = f"ยังสร้างไฟล์หนังสือนำส่งไม่ได้ ({exc})"
            return
        written += 1
    summary.covering_letters = f"สร้างไฟล์หนังสือนำส่ง {written} ฉบับ"


def run_demo(session: Session, storage: Path | None = None, today: date | None = None) -> DemoSummary:
    """Load the directory, the finished chain of 2568 and the pending chain dated from `today`.

    `today` defaults to today in Thailand. With `storage`, also write the covering letters
    of the finished chain.
    """
    load_directory(session)
    summary = DemoSummary()
    district_letter = _run_office_chain(session, summary)
    tasks = session.scalars(
        select(RoutingTask)
        .join(Organization, Organization.id == RoutingTask.recipient_org_id)
        .where(RoutingTask.letter_id == district_letter.id)
        .order_by(Organization.code)
    ).all()
    for task in tasks:
        _run_lao(session, summary, task)
    _report_district(session, district_letter)
    _run_pending_chain(session, summary, today or today_in_thailand())
    _write_covering_letters(session, storage, summary)
    log.info("demo loaded: %s", summary)
    return summary
