"""The dashboard screen of an office's circulars, read from the per-circular counts."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.test_web_routing import (  # noqa: F401 (fixtures)
    OFFICER_FORM,
    TODAY,
    app,
    client_for,
    database,
    lao_task,
    session,
    staff,
    text_of,
)
from workflow.routing import operations


def count_of(page: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}">([\d,]+)<', page)
    assert found is not None, element_id
    return int(found.group(1).replace(",", ""))


def test_dashboard_counts_lao_tasks(app, session, staff):
    task = lao_task(session, staff)
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_FORM)
    operations.approve_confirmation(session, staff.lao_exec, task.id)
    late = operations.issue_circular(
        session, staff.dla_head, subject="ขอให้รายงานจำนวนถังขยะเปียกที่ผ่านการตรวจนับ",
        issued_on=TODAY - timedelta(days=40), due_nominal=TODAY - timedelta(days=10),
        recipient_codes=["5570901", "5570902"],
    ).letter

    page = text_of(client_for(app, staff.dla_head).get("/routing/dashboard"))

    assert "ภาพรวมหนังสือเวียนของกรมส่งเสริมการปกครองท้องถิ่น" in page
    assert count_of(page, "count-circulars") == 2
    assert count_of(page, "count-answered") == 1
    # Both LAOs of the late circular are past due; the cascade's LAO tasks are not due yet.
    assert count_of(page, "count-past-due") == 2
    assert '<tr data-state="reported"><td>รายงานแล้ว</td>' in page
    assert f'<tr data-letter="{late.id}">' in page
    assert late.doc_number in page


def test_dashboard_of_lao_is_empty(app, session, staff):
    lao_task(session, staff)
    page = text_of(client_for(app, staff.lao_clerk).get("/routing/dashboard"))
    assert count_of(page, "count-circulars") == 0
    assert count_of(page, "count-tasks") == 0
    assert "หน่วยงานของท่านยังไม่ได้ออกหรือแจ้งเวียนต่อหนังสือเวียนที่ส่งถึง อปท." in page


def test_inbox_links_to_dashboard(app, session, staff):
    lao_task(session, staff)
    page = text_of(client_for(app, staff.dla_head).get("/routing/"))
    assert 'id="dashboard-link" href="/routing/dashboard"' in page


def test_dashboard_needs_sign_in(app, session, staff):
    response = app.test_client().get("/routing/dashboard")
    assert response.status_code == 302
    assert "/login?next=/routing/dashboard" in response.headers["Location"]
