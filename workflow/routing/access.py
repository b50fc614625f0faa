"""Access checks: roles, organizations, and the delegations valid on a given day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import (
    ORG_DEPARTMENT,
    ORG_DISTRICT_OFFICE,
    ORG_LAO,
    ORG_PROVINCE_OFFICE,
    ROLE_CLERK,
    ROLE_OFFICER,
    ROLE_SUPERVISOR,
    Organization,
    User,
)
from workflow.routing.errors import PermissionDenied
from workflow.routing.models import CAPACITY_SELF, ROLE_ADMIN, Delegation

ROLE_NAMES_TH = {
    ROLE_CLERK: "เจ้าหน้าที่สารบรรณ",
    ROLE_SUPERVISOR: "ผู้บังคับบัญชา",
    ROLE_OFFICER: "เจ้าหน้าที่ผู้ปฏิบัติ",
    ROLE_ADMIN: "ผู้ดูแลระบบ",
}


@dataclass(frozen=True)
class Authority:
    """The capacity a user signs or approves in on one day."""

    capacity: str
    delegation: Delegation | None


def require_role(user: User, roles: tuple[str, ...] | frozenset[str], action_th: str, action_en: str) -> None:
    """Raise PermissionDenied unless `user.role` is one of `roles`."""
    if user.role in roles:
        return
    allowed_th = ", ".join(ROLE_NAMES_TH.get(role, role) for role in roles)
    raise PermissionDenied(
        "role_not_allowed",
        f"บทบาทของท่านไม่มีสิทธิ์{action_th} (ต้องเป็น {allowed_th})",
        f"user {user.username} with role {user.role!r} may not {action_en}; allowed roles: {', '.join(roles)}",
    )


def require_own_organization(user: User, organization_id: int, action_th: str, action_en: str) -> None:
    """Raise PermissionDenied unless the user belongs to the organization the record belongs to."""
    if user.organization_id == organization_id:
        return
    raise PermissionDenied(
        "other_organization",
        f"ท่าน{action_th}ได้เฉพาะรายการของหน่วยงานของท่านเอง",
        f"user {user.username} (org {user.organization_id}) may not {action_en} for org {organization_id}",
    )


def is_below(organization: Organization, ancestor: Organization) -> bool:
    """Tell whether `organization` sits under `ancestor` in the directory (not counting itself)."""
    if organization.id == ancestor.id:
        return False
    if ancestor.kind == ORG_DEPARTMENT:
        return organization.kind != ORG_DEPARTMENT
    if ancestor.kind == ORG_PROVINCE_OFFICE:
        return organization.province_code == ancestor.province_code and organization.kind in (
            ORG_DISTRICT_OFFICE,
            ORG_LAO,
        )
    if ancestor.kind == ORG_DISTRICT_OFFICE:
        return organization.parent_id == ancestor.id
    return False


def require_sees(user: User, organization: Organization) -> None:
    """Raise PermissionDenied unless the user's office is `organization` or sits above it."""
    if organization.id == user.organization_id or is_below(organization, user.organization):
        return
    raise PermissionDenied(
        "organization_not_visible",
        f"ท่านดูสถานะได้เฉพาะหน่วยงานของท่านและหน่วยงานในสังกัด ไม่รวม{organization.name_th}",
        f"user {user.username} (org {user.organization_id}) may not read org {organization.code}",
    )


def valid_delegations(session: Session, user: User, on_date: date) -> list[Delegation]:
    """Return the user's delegations in their own organization valid on `on_date`."""
    query = (
        select(Delegation)
        .where(
            Delegation.delegate_id == user.id,
            Delegation.organization_id == user.organization_id,
            Delegation.valid_from <= on_date,
            Delegation.valid_until >= on_date,
        )
        .order_by(Delegation.id)
    )
    return list(session.scalars(query))


def signing_authority(
    session: Session, user: User, on_date: date, delegation_id: int | None, action_th: str, action_en: str
) -> Authority:
    """Return the capacity `user` acts in on `on_date`, or raise PermissionDenied.

    A supervisor acts in their own capacity unless `delegation_id` names a delegation. Anyone
    else needs a delegation of their own organization that is valid that day; with no
    `delegation_id`, the first valid one is used.
    """
    delegations = valid_delegations(session, user, on_date)
    if delegation_id is not None:
        chosen = next((item for item in delegations if item.id == delegation_id), None)
        if chosen is None:
            raise PermissionDenied(
                "delegation_not_valid",
                f"คำสั่งมอบอำนาจที่อ้างไม่ใช่ของท่าน หรือไม่มีผลในวันที่{action_th}",
                f"delegation {delegation_id} is not {user.username}'s or not valid on {on_date}",
            )
        return Authority(chosen.capacity, chosen)
    if user.role == ROLE_SUPERVISOR:
        return Authority(CAPACITY_SELF, None)
    if delegations:
        return Authority(delegations[0].capacity, delegations[0])
    raise PermissionDenied(
        "no_signing_authority",
        f"ท่านไม่มีอำนาจ{action_th} ต้องเป็นผู้บังคับบัญชาหรือได้รับมอบอำนาจที่มีผลในวันนั้น",
        f"user {user.username} (role {user.role}) may not {action_en} on {on_date}: not a supervisor, no valid delegation",
    )
