"""User accounts: create_user and authenticate, their rules and rejections, and the demo accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_PASSWORD, add_offices
from workflow import commands, operations
from workflow.errors import AuthenticationFailed, InvalidValue, NotFound
from workflow.models import User


def user_count(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


@pytest.fixture
def offices(session):
    add_offices(session)
    return session


def test_created_user_signs_in(offices):
    operations.create_user(offices, "somsri", "นางสาวสมศรี ใจดี", TEST_PASSWORD, "DIST-5709", "clerk")
    user = operations.authenticate(offices, "somsri", TEST_PASSWORD)
    assert user.display_name == "นางสาวสมศรี ใจดี"
    assert user.organization.code == "DIST-5709"
    assert user.password_hash != TEST_PASSWORD


def test_wrong_password_rejected(offices):
    operations.create_user(offices, "somsri", "นางสาวสมศรี ใจดี", TEST_PASSWORD, "DIST-5709", "clerk")
    with pytest.raises(AuthenticationFailed):
        operations.authenticate(offices, "somsri", "รหัสผิด")


def test_unknown_username_rejected(offices):
    with pytest.raises(AuthenticationFailed):
        operations.authenticate(offices, "nobody", TEST_PASSWORD)


@pytest.mark.parametrize(
    ("username", "org_code", "role", "error", "code"),
    [
        ("somsri", "DIST-5709", "clerk", InvalidValue, "username_taken"),
        ("wichai", "DIST-9999", "clerk", NotFound, "organization_not_found"),
        ("wichai", "DIST-5709", "mayor", InvalidValue, "invalid_role"),
        ("  ", "DIST-5709", "clerk", InvalidValue, "missing_credentials"),
    ],
    ids=["taken", "unknown-office", "unknown-role", "blank-username"],
)
def test_invalid_user_rejected(offices, username, org_code, role, error, code):
    operations.create_user(offices, "somsri", "นางสาวสมศรี ใจดี", TEST_PASSWORD, "DIST-5709", "clerk")
    with pytest.raises(error) as raised:
        operations.create_user(offices, username, "นายวิชัย ทองดี", TEST_PASSWORD, org_code, role)
    assert raised.value.code == code
    assert user_count(offices) == 1


def test_demo_clerk_belongs_to_mae_sai_office(app, session):
    commands.seed_demo_users(app)
    clerk = operations.authenticate(session, "saraban", commands.DEMO_PASSWORD)
    assert clerk.role == "clerk"
    assert clerk.organization.name_th == "สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย"
    assert commands.seed_demo_users(app) == []
    assert user_count(session) == len(commands.DEMO_USERS)
