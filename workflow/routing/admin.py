"""Administrative operations: staff, delegations, declared holidays, office settings and registers.

`actor=None` means the command line run by an operator on the server (`saraban demo`);
every request from a signed-in person passes that person as `actor`.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from datetime import date
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from parsers.codes import CODE_BY_PROVINCE
from workflow.directory import BANGKOK_CODE
from workflow.models import (
    ORG_DEPARTMENT,
    ORG_DISTRICT_OFFICE,
    ORG_PROVINCE_OFFICE,
    ROLE_CLERK,
    ROLE_OFFICER,
    ROLE_SUPERVISOR,
    Organization,
    User,
)
from workflow.routing.access import is_below, require_role
from workflow.routing.errors import InvalidValue, NotFound, PermissionDenied, StateConflict
from workflow.routing.models import (
    DELEGATION_CAPACITIES,
    REGISTERS,
    ROLE_ADMIN,
    DeclaredHoliday,
    Delegation,
    OfficeSettings,
    RegisterCounter,
    StaffPosition,
)
from workflow.routing.numbering import peek_number, write_transaction

log = logging.getLogger(__name__)

STAFF_ROLES = (ROLE_CLERK, ROLE_SUPERVISOR, ROLE_OFFICER, ROLE_ADMIN)
DEFAULT_INTERNAL_DUE_WORKING_DAYS = 2
MAX_INTERNAL_DUE_WORKING_DAYS = 30
DOC_PREFIX_RE = re.compile(r"^[ก-ฮ]{2} \d{2,6}(\.\d{1,3})*$")


def get_organization(session: Session, code: str) -> Organization:
    """Return the organization with directory code `code`, or raise NotFound."""
    organization = session.scalar(select(Organization).where(Organization.code == code))
    if organization is None:
        raise NotFound(
            "organization_not_found",
            f"ไม่พบหน่วยงานรหัส {code} ในทะเบียนหน่วยงาน",
            f"no organization with code {code!r}; load the directory first",
        )
    return organization


def _require_admin_over(actor: User | None, organization: Organization, action_th: str, action_en: str) -> None:
    """Let the command line, or an admin of `organization` or of an office above it, go on."""
    if actor is None:
        return
    require_role(actor, (ROLE_ADMIN,), action_th, action_en)
    if actor.organization_id != organization.id and not is_below(organization, actor.organization):
        raise PermissionDenied(
            "other_organization",
            f"ผู้ดูแลระบบ{action_th}ได้เฉพาะหน่วยงานของตนและหน่วยงานในสังกัด",
            f"admin {actor.username} may not {action_en} for org {organization.code}",
        )


def create_staff_user(
    session: Session,
    actor: User | None,
    username: str,
    display_name: str,
    password: str,
    organization_code: str,
    role: str,
    position_th: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Create a user with a role and, for signing roles, the position they sign with.

    `password_hash`, when given, is stored in place of hashing `password`; the demo accounts,
    which share one published password, use it to hash that password once. Raises InvalidValue for an unknown role, a missing name or password, a taken username
    or a supervisor without a position; NotFound for an unknown organization;
    PermissionDenied when `actor` is not an admin over that organization.
    """
    with write_transaction(session):
        organization = get_organization(session, organization_code)
        _require_admin_over(actor, organization, "เพิ่มผู้ใช้", "create users")
        if role not in STAFF_ROLES:
            raise InvalidValue("invalid_role", f"ไม่มีบทบาท “{role}” ในระบบ", f"unknown role {role!r}")
        if not username.strip() or not password or not display_name.strip():
            raise InvalidValue(
                "missing_credentials",
                "ต้องระบุชื่อผู้ใช้ ชื่อที่แสดง และรหัสผ่าน",
                "username, display name and password are required",
            )
        if role == ROLE_SUPERVISOR and not (position_th or "").strip():
            raise InvalidValue(
                "missing_position",
                "ผู้บังคับบัญชาต้องมีตำแหน่ง เช่น ท้องถิ่นอำเภอแม่สาย",
                "a supervisor needs the position they sign with",
            )
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise InvalidValue(
                "username_taken", f"ชื่อผู้ใช้ “{username}” มีอยู่แล้ว", f"username {username!r} already exists"
            )
        user = User(
            username=username,
            display_name=display_name.strip(),
            password_hash=password_hash or generate_password_hash(password),
            organization=organization,
            role=role,
        )
        session.add(user)
        session.flush()
        if position_th and position_th.strip():
            session.add(StaffPosition(user_id=user.id, position_th=position_th.strip()))
    log.info("created user %s (org %s, role %s)", username, organization_code, role)
    return user


def position_of(session: Session, user: User) -> str | None:
    return session.scalar(select(StaffPosition.position_th).where(StaffPosition.user_id == user.id))


def grant_delegation(
    session: Session,
    actor: User | None,
    delegate: User,
    capacity: str,
    principal_position_th: str,
    valid_from: date,
    valid_until: date,
    order_reference: str,
) -> Delegation:
    """Record an order that lets `delegate` act on behalf of, or for, a position of their organization.

    The actor is a supervisor or admin of the delegate's own organization. Raises
    InvalidValue for an unknown capacity, a missing position or order, or an empty range.
    """
    with write_transaction(session):
        if actor is not None:
            require_role(actor, (ROLE_SUPERVISOR, ROLE_ADMIN), "มอบอำนาจ", "grant delegations")
            if actor.organization_id != delegate.organization_id:
                raise PermissionDenied(
                    "other_organization",
                    "มอบอำนาจได้เฉพาะผู้ใช้ในหน่วยงานของท่านเอง",
                    f"user {actor.username} may not delegate to {delegate.username} of another org",
                )
        if capacity not in DELEGATION_CAPACITIES:
            raise InvalidValue(
                "invalid_capacity",
                "ประเภทการมอบอำนาจต้องเป็น ปฏิบัติราชการแทน หรือ รักษาราชการแทน",
                f"capacity must be one of {DELEGATION_CAPACITIES}, got {capacity!r}",
            )
        if not principal_position_th.strip() or not order_reference.strip():
            raise InvalidValue(
                "missing_delegation_details",
                "ต้องระบุตำแหน่งที่ปฏิบัติแทนและคำสั่งที่มอบอำนาจ",
                "the delegated position and the granting order are required",
            )
        if valid_until < valid_from:
            raise InvalidValue(
                "invalid_date_range",
                "วันสิ้นสุดการมอบอำนาจต้องไม่ก่อนวันเริ่มต้น",
                f"valid_until {valid_until} is before valid_from {valid_from}",
            )
        delegation = Delegation(
            organization_id=delegate.organization_id,
            delegate_id=delegate.id,
            capacity=capacity,
            principal_position_th=principal_position_th.strip(),
            valid_from=valid_from,
            valid_until=valid_until,
            order_reference=order_reference.strip(),
            granted_by_id=actor.id if actor is not None else delegate.id,
        )
        session.add(delegation)
    log.info("delegation %s: user %s %s from %s to %s", delegation.id, delegate.username, capacity, valid_from, valid_until)
    return delegation


def add_declared_holiday(session: Session, actor: User, day: date, name_th: str) -> DeclaredHoliday:
    """Add a day off the cabinet declared; only an admin may. Raises InvalidValue for a repeat or no name."""
    with write_transaction(session):
        require_role(actor, (ROLE_ADMIN,), "เพิ่มวันหยุด", "add holidays")
        if not name_th.strip():
            raise InvalidValue("missing_holiday_name", "ต้องระบุชื่อวันหยุด", "a holiday needs a name")
        if session.get(DeclaredHoliday, day) is not None:
            raise InvalidValue(
                "holiday_exists", f"วันที่ {day.isoformat()} เป็นวันหยุดในระบบอยู่แล้ว", f"{day} is already a declared holiday"
            )
        holiday = DeclaredHoliday(day=day, name_th=name_th.strip(), added_by_id=actor.id)
        session.add(holiday)
    log.info("declared holiday %s added by %s", day, actor.username)
    return holiday


def default_doc_prefix(organization: Organization) -> str:
    """Return a placeholder book code for an office without a configured one.

    NOTE: real codes are assigned per office (Mae Sai's district office is `ชร 0023.20`, not
    `ชร 0023.9`), so an admin should set each office's code with `set_office_settings`.
    """
    if organization.kind == ORG_DEPARTMENT:
        return "มท 0800"
    letters = _province_letters(organization.province_code)
    if organization.kind == ORG_PROVINCE_OFFICE:
        return f"{letters} 0023"
    if organization.kind == ORG_DISTRICT_OFFICE:
        return f"{letters} 0023.{int(organization.district_code[2:])}"
    return f"{letters} {organization.code}"


@functools.cache
def _province_names() -> dict[str, str]:
    """Map DOPA province codes to Thai names, from the directory's bundled data."""
    path = resources.files("workflow").joinpath("data", "geothai", "provinces.json")
    rows = json.loads(path.read_text(encoding="utf-8"))
    return {code: name_th for code, name_th, _name_en in rows if code != BANGKOK_CODE}


def _province_letters(province_code: str | None) -> str:
    """Return the two-letter code of a province (`ชร` for 57), or raise InvalidValue when it is unknown."""
    letters = CODE_BY_PROVINCE.get(_province_names().get(province_code or "", ""))
    if letters is None:
        raise InvalidValue(
            "missing_doc_prefix",
            "ไม่ทราบรหัสหนังสือของหน่วยงานนี้ กรุณาให้ผู้ดูแลระบบตั้งรหัสหนังสือก่อน",
            f"no two-letter code for province {province_code!r}; set the office's doc_prefix",
        )
    return letters


def office_settings(session: Session, organization: Organization) -> OfficeSettings:
    """Return the office's settings, or unsaved defaults when it has none."""
    settings = session.get(OfficeSettings, organization.id)
    if settings is None:
        settings = OfficeSettings(
            organization_id=organization.id,
            doc_prefix=None,
            internal_due_working_days=DEFAULT_INTERNAL_DUE_WORKING_DAYS,
            reminder_working_days=[2, 0],
        )
    return settings


def set_office_settings(
    session: Session,
    actor: User | None,
    organization_code: str,
    doc_prefix: str | None = None,
    internal_due_working_days: int | None = None,
    reminder_working_days: list[int] | None = None,
) -> OfficeSettings:
    """Set an office's book code, internal lead time and reminder days; arguments left None keep their value."""
    with write_transaction(session):
        organization = get_organization(session, organization_code)
        _require_admin_over(actor, organization, "ตั้งค่าหน่วยงาน", "change office settings")
        if doc_prefix is not None and not DOC_PREFIX_RE.match(doc_prefix):
            raise InvalidValue(
                "invalid_doc_prefix",
                f"รหัสหนังสือ “{doc_prefix}” ไม่ถูกรูปแบบ ต้องเป็นอักษรไทย 2 ตัว เว้นวรรค แล้วตามด้วยเลข เช่น ชร 0023.6",
                f"book code {doc_prefix!r} does not look like 'ชร 0023.6'",
            )
        if internal_due_working_days is not None and not 0 <= internal_due_working_days <= MAX_INTERNAL_DUE_WORKING_DAYS:
            raise InvalidValue(
                "invalid_lead_time",
                f"จำนวนวันทำการที่ขอให้ส่งก่อนต้องอยู่ระหว่าง 0 ถึง {MAX_INTERNAL_DUE_WORKING_DAYS} วัน",
                f"internal_due_working_days must be 0..{MAX_INTERNAL_DUE_WORKING_DAYS}",
            )
        if reminder_working_days is not None and any(
            not isinstance(day, int) or not 0 <= day <= MAX_INTERNAL_DUE_WORKING_DAYS for day in reminder_working_days
        ):
            raise InvalidValue(
                "invalid_reminder_days",
                f"วันแจ้งเตือนต้องเป็นจำนวนวันทำการ 0 ถึง {MAX_INTERNAL_DUE_WORKING_DAYS} วันก่อนกำหนด",
                f"reminder days must be integers 0..{MAX_INTERNAL_DUE_WORKING_DAYS}",
            )
        settings = session.get(OfficeSettings, organization.id)
        if settings is None:
            settings = office_settings(session, organization)
            session.add(settings)
        if doc_prefix is not None:
            settings.doc_prefix = doc_prefix
        if internal_due_working_days is not None:
            settings.internal_due_working_days = internal_due_working_days
        if reminder_working_days is not None:
            settings.reminder_working_days = sorted(set(reminder_working_days), reverse=True)
    log.info("office settings of %s changed", organization_code)
    return settings


def open_register(
    session: Session, actor: User | None, organization_code: str, register: str, year: int, next_number: int
) -> RegisterCounter:
    """Start an office's register for `year` at `next_number`, for an office that joins mid-year.

    Allowed only before the register has handed out any number that year, so a number is
    never reused. The actor is a supervisor or admin of that office.
    """
    with write_transaction(session):
        organization = get_organization(session, organization_code)
        if actor is not None:
            require_role(actor, (ROLE_SUPERVISOR, ROLE_ADMIN), "ตั้งเลขทะเบียน", "open registers")
            if actor.organization_id != organization.id:
                raise PermissionDenied(
                    "other_organization",
                    "ตั้งเลขทะเบียนได้เฉพาะหน่วยงานของท่านเอง",
                    f"user {actor.username} may not open registers of {organization_code}",
                )
        if register not in REGISTERS:
            raise InvalidValue("invalid_register", f"ไม่มีทะเบียน “{register}”", f"unknown register {register!r}")
        if next_number < 1:
            raise InvalidValue("invalid_number", "เลขเริ่มต้นต้องมากกว่า 0", f"next_number {next_number} < 1")
        if peek_number(session, organization.id, register, year) != 1:
            raise StateConflict(
                "register_in_use",
                f"ทะเบียนนี้ของปี พ.ศ. {year + 543} ออกเลขไปแล้ว ตั้งเลขเริ่มต้นใหม่ไม่ได้",
                f"register {register} {year} of {organization_code} has already handed out numbers",
            )
        counter = session.get(RegisterCounter, (organization.id, register, year))
        if counter is None:
            counter = RegisterCounter(organization_id=organization.id, register=register, year=year)
            session.add(counter)
        counter.next_number = next_number
    log.info("register %s %s of %s opened at %s", register, year, organization_code, next_number)
    return counter
