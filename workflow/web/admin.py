"""Screens for administrators: declared holidays, delegations, staff and office settings.

Each POST view parses the form, calls one operation of `workflow.routing.admin` and
redirects with a Thai message. When the operation rejects the request, the view shows the
page again with the operation's Thai message and the error's HTTP status. Nothing has
changed, because the operation rolled back. Every page is for the admin role only.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any, Callable

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from workflow.app import get_session
from workflow.errors import InvalidValue, NotFound, WorkflowError
from workflow.models import ORG_LAO, Organization, User
from workflow.routing import admin
from workflow.routing.access import ROLE_NAMES_TH, require_role
from workflow.routing.calendar import WorkingCalendar, load_calendar, today_in_thailand
from workflow.routing.models import (
    CAPACITY_ACTING,
    CAPACITY_ON_BEHALF,
    REGISTER_CIRCULAR,
    REGISTER_RECEIPT,
    ROLE_ADMIN,
    DeclaredHoliday,
    Delegation,
    RegisterCounter,
    StaffPosition,
)
from workflow.routing.numbering import peek_number
from workflow.thaidate import BE_OFFSET, format_be_date, parse_thai_date, to_arabic_digits
from workflow.web.auth import login_required

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

CAPACITY_NAMES_TH = {CAPACITY_ON_BEHALF: "ปฏิบัติราชการแทน", CAPACITY_ACTING: "รักษาราชการแทน"}
REGISTER_NAMES_TH = {REGISTER_RECEIPT: "ทะเบียนหนังสือรับ", REGISTER_CIRCULAR: "ทะเบียนหนังสือเวียน"}
# Years the holiday page offers in its menu, counted from this year.
YEARS_SHOWN_BEFORE = 1
YEARS_SHOWN_AFTER = 2
# Years (CE) a `?year=` link may ask for. A year outside them shows the current year.
MIN_YEAR = 2000
MAX_YEAR = 2100


@bp.before_request
@login_required
def _require_admin():
    """Let only admins reach these pages. Anyone else gets the Thai 403 page."""
    require_role(g.user, (ROLE_ADMIN,), "เข้าหน้าผู้ดูแลระบบ", "open the admin pages")


@bp.app_context_processor
def _inject_names():
    return {"admin_capacity_th": CAPACITY_NAMES_TH, "admin_role_th": ROLE_NAMES_TH}


def _today() -> date:
    return today_in_thailand()


def _done(endpoint: str, message_th: str, **values: Any):
    flash(message_th, "success")
    return redirect(url_for(endpoint, **values))


def _refused(render: Callable[..., Any], error: WorkflowError):
    """Show the page again with the operation's Thai message and the error's HTTP status."""
    log.info("user %s: admin request %s rejected: %s", g.user.username, request.path, error.message_en)
    flash(error.message_th, "error")
    return render(form=request.form.to_dict()), error.http_status


def _form_date(name: str, label_th: str) -> date:
    raw = request.form.get(name, "").strip()
    if not raw:
        raise InvalidValue("missing_date", f"กรุณาระบุ{label_th} เช่น 13 เมษายน 2569", f"{name} is empty")
    try:
        return parse_thai_date(raw)
    except ValueError:
        raise InvalidValue(
            "invalid_date",
            f"อ่าน{label_th} “{raw}” ไม่ได้ หรือไม่มีวันนี้ในปฏิทิน กรุณาพิมพ์ เช่น 13 เมษายน 2569 หรือ 13/4/2569",
            f"cannot read {name} {raw!r}",
        ) from None


def _form_int(name: str, label_th: str) -> int | None:
    raw = to_arabic_digits(request.form.get(name, "")).strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidValue("invalid_number", f"{label_th}ต้องเป็นตัวเลข ได้รับ “{raw}”", f"{name} {raw!r} is not a number")
    return int(raw)


def _form_day_list(name: str, label_th: str) -> list[int] | None:
    """Read `2, 0` into [2, 0], or return None when the field is empty."""
    raw = to_arabic_digits(request.form.get(name, "")).replace(" ", "")
    if not raw:
        return None
    parts = raw.split(",")
    if not all(part.isdigit() for part in parts):
        raise InvalidValue(
            "invalid_reminder_days",
            f"{label_th}ต้องเป็นตัวเลขคั่นด้วยจุลภาค เช่น 2, 0 ได้รับ “{raw}”",
            f"{name} {raw!r} is not a comma-separated list of numbers",
        )
    return [int(part) for part in parts]


def _managed_organizations() -> list[Organization]:
    """Return the admin's office and the offices directly under it, which the operations let them manage."""
    session = get_session()
    own = g.user.organization
    children = session.scalars(
        select(Organization).where(Organization.parent_id == own.id).order_by(Organization.code)
    ).all()
    return [own, *children]


# --- holidays ---------------------------------------------------------------------------


def _holiday_rows(calendar: WorkingCalendar, year: int, lead: int) -> list[dict[str, Any]]:
    """List each holiday of `year` with the internal due date an office gets when the parent's falls after it.

    The sample parent due date is the first working day after the holiday, so the holiday
    lies inside the `lead` working days counted back from it.
    """
    rows = []
    day = date(year, 1, 1)
    while day.year == year:
        name = calendar.holiday_name(day)
        if name is not None:
            parent_due = calendar.next_working_day(day + timedelta(days=1))
            row = {
                "day": day,
                "name": name,
                "declared": day in calendar.declared,
                "weekend": day.weekday() >= 5,
                "parent_due": parent_due,
                "internal_due": calendar.add_working_days(parent_due, -lead),
                "without": None,
            }
            if row["declared"]:
                others = {other: text for other, text in calendar.declared.items() if other != day}
                row["without"] = WorkingCalendar(declared=others).add_working_days(parent_due, -lead)
            rows.append(row)
        day += timedelta(days=1)
    return rows


def _render_holidays(form: dict | None = None):
    session = get_session()
    today = _today()
    raw_year = request.args.get("year", "")
    year = int(raw_year) - BE_OFFSET if raw_year.isdigit() and len(raw_year) == 4 else today.year
    if not MIN_YEAR <= year <= MAX_YEAR:
        year = today.year
    lead = admin.office_settings(session, g.user.organization).internal_due_working_days
    calendar = load_calendar(session)
    declared = session.scalars(
        select(DeclaredHoliday).where(DeclaredHoliday.day >= date(year, 1, 1), DeclaredHoliday.day <= date(year, 12, 31))
        .order_by(DeclaredHoliday.day)
    ).all()
    adders = {user.id: user for user in session.scalars(select(User).where(User.id.in_({h.added_by_id for h in declared})))}
    return render_template(
        "admin/holidays.html",
        year=year,
        years=sorted({*range(today.year - YEARS_SHOWN_BEFORE, today.year + YEARS_SHOWN_AFTER + 1), year}),
        rows=_holiday_rows(calendar, year, lead),
        declared=declared,
        adders=adders,
        lead=lead,
        today=today,
        form=form or {},
    )


@bp.get("/")
@bp.get("/holidays")
def holidays_page():
    return _render_holidays()


@bp.post("/holidays")
def add_holiday():
    try:
        day = _form_date("day", "วันที่หยุด")
        holiday = admin.add_declared_holiday(get_session(), g.user, day, request.form.get("name_th", ""))
    except WorkflowError as error:
        return _refused(_render_holidays, error)
    message = f"เพิ่มวันหยุด “{holiday.name_th}” วันที่ {format_be_date(day)} แล้ว"
    return _done("admin.holidays_page", message, year=day.year + BE_OFFSET)


# --- delegations ------------------------------------------------------------------------


def _delegation_status(delegation: Delegation, today: date) -> str:
    if delegation.valid_until < today:
        return "ended"
    if delegation.valid_from > today:
        return "pending"
    return "active"


def _render_delegations(form: dict | None = None):
    session = get_session()
    today = _today()
    organization = g.user.organization
    delegations = session.scalars(
        select(Delegation).where(Delegation.organization_id == organization.id)
        .order_by(Delegation.valid_until.desc(), Delegation.id.desc())
    ).all()
    staff = session.scalars(
        select(User).where(User.organization_id == organization.id).order_by(User.display_name)
    ).all()
    return render_template(
        "admin/delegations.html",
        rows=[{"delegation": item, "status": _delegation_status(item, today)} for item in delegations],
        staff=staff,
        positions=_positions_of([user.id for user in staff]),
        today=today,
        form=form or {},
    )


@bp.get("/delegations")
def delegations_page():
    return _render_delegations()


@bp.post("/delegations")
def grant_delegation():
    session = get_session()
    try:
        raw = request.form.get("delegate_id", "")
        delegate = session.get(User, int(raw)) if raw.isdigit() else None
        if delegate is None:
            raise NotFound("delegate_not_found", "กรุณาเลือกผู้ได้รับมอบอำนาจ", f"no user {raw!r}")
        delegation = admin.grant_delegation(
            session, g.user, delegate,
            capacity=request.form.get("capacity", ""),
            principal_position_th=request.form.get("principal_position_th", ""),
            valid_from=_form_date("valid_from", "วันเริ่มต้น"),
            valid_until=_form_date("valid_until", "วันสิ้นสุด"),
            order_reference=request.form.get("order_reference", ""),
        )
    except WorkflowError as error:
        return _refused(_render_delegations, error)
    message = (
        f"บันทึกการมอบอำนาจให้ {delegate.display_name} {CAPACITY_NAMES_TH[delegation.capacity]}"
        f"{delegation.principal_position_th} ตั้งแต่ {format_be_date(delegation.valid_from)}"
        f" ถึง {format_be_date(delegation.valid_until)} แล้ว"
    )
    return _done("admin.delegations_page", message)


# --- staff ------------------------------------------------------------------------------


def _positions_of(user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = get_session().execute(
        select(StaffPosition.user_id, StaffPosition.position_th).where(StaffPosition.user_id.in_(user_ids))
    )
    return {user_id: position for user_id, position in rows}


def _render_staff(form: dict | None = None):
    session = get_session()
    organizations = _managed_organizations()
    users = session.scalars(
        select(User).where(User.organization_id.in_([org.id for org in organizations]))
        .order_by(User.organization_id, User.role, User.username)
    ).all()
    groups = [(org, [user for user in users if user.organization_id == org.id]) for org in organizations]
    return render_template(
        "admin/staff.html",
        groups=[(org, members) for org, members in groups if members or org.id == g.user.organization_id],
        organizations=organizations,
        positions=_positions_of([user.id for user in users]),
        roles=admin.STAFF_ROLES,
        form=form or {},
    )


@bp.get("/staff")
def staff_page():
    return _render_staff()


@bp.post("/staff")
def create_staff():
    form = request.form
    try:
        user = admin.create_staff_user(
            get_session(), g.user,
            username=form.get("username", "").strip(),
            display_name=form.get("display_name", ""),
            password=form.get("password", ""),
            organization_code=form.get("organization_code", ""),
            role=form.get("role", ""),
            position_th=form.get("position_th") or None,
        )
    except WorkflowError as error:
        return _refused(_render_staff, error)
    return _done("admin.staff_page", f"เพิ่มผู้ใช้ {user.username} ({user.display_name}) แล้ว")


# --- office settings and registers --------------------------------------------------------


def _settings_organization() -> Organization:
    """Return the office named by `?org=` (or the form), limited to the offices the admin manages."""
    code = request.values.get("org") or request.values.get("organization_code") or g.user.organization.code
    for organization in _managed_organizations():
        if organization.code == code:
            return organization
    raise NotFound("organization_not_found", f"ไม่พบหน่วยงานรหัส {code} ในหน่วยงานที่ท่านดูแล", f"org {code!r} not managed")


def _render_settings(form: dict | None = None):
    session = get_session()
    organization = _settings_organization()
    settings = admin.office_settings(session, organization)
    try:
        placeholder = admin.default_doc_prefix(organization)
    except WorkflowError:
        placeholder = None
    year = _today().year
    registers = [
        {"register": register, "name_th": REGISTER_NAMES_TH[register],
         "next_number": peek_number(session, organization.id, register, year),
         "opened": session.get(RegisterCounter, (organization.id, register, year)) is not None}
        for register in REGISTER_NAMES_TH
    ]
    return render_template(
        "admin/settings.html",
        organization=organization,
        organizations=[org for org in _managed_organizations() if org.kind != ORG_LAO],
        settings=settings,
        placeholder=placeholder,
        registers=registers,
        year=year,
        form=form or {},
    )


@bp.get("/settings")
def settings_page():
    return _render_settings()


@bp.post("/settings")
def save_settings():
    organization = _settings_organization()
    try:
        prefix = request.form.get("doc_prefix", "").strip()
        admin.set_office_settings(
            get_session(), g.user, organization.code,
            doc_prefix=prefix or None,
            internal_due_working_days=_form_int("internal_due_working_days", "จำนวนวันทำการที่ขอให้ส่งก่อน"),
            reminder_working_days=_form_day_list("reminder_working_days", "วันแจ้งเตือน"),
        )
    except WorkflowError as error:
        return _refused(_render_settings, error)
    return _done("admin.settings_page", f"บันทึกการตั้งค่าของ{organization.name_th}แล้ว", org=organization.code)


@bp.post("/settings/register")
def open_register():
    organization = _settings_organization()
    year = _today().year
    try:
        next_number = _form_int("next_number", "เลขเริ่มต้น")
        if next_number is None:
            raise InvalidValue("missing_number", "กรุณาระบุเลขเริ่มต้นของทะเบียน", "next_number is empty")
        register = request.form.get("register", "")
        admin.open_register(get_session(), g.user, organization.code, register, year, next_number)
    except WorkflowError as error:
        return _refused(_render_settings, error)
    message = (
        f"ตั้ง{REGISTER_NAMES_TH[register]}ปี พ.ศ. {year + BE_OFFSET} ให้เริ่มที่เลข {next_number} แล้ว"
    )
    return _done("admin.settings_page", message, org=organization.code)
