"""The dashboard screen of an office's circulars, read from the per-circular counts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

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
from workflow.models import ORG_LAO, Organization, User
from workflow.routing import demo, operations
from workflow.routing.dashboard import dashboard
from workflow.routing.models import OfficialLetter, RoutingTask
from workflow.routing.rollup import cascade_letter_ids, find_circular, rollup
from workflow.thaidate import format_be_date


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


# --- the demo data, as a new user sees it after `make run` -------------------------------


def demo_user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def latest_row(page: str, letter_id: int) -> str:
    found = re.search(rf'<tr data-letter="{letter_id}">(.*?)</tr>', page, re.S)
    assert found is not None, letter_id
    return found.group(1)


def cells_of(row: str) -> list[str]:
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    texts = [re.sub(r"<[^>]+>", " ", cell) for cell in cells]
    return [re.sub(r"\s+", " ", text).strip() for text in texts]


def lao_tasks_below(session, letter_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(RoutingTask)
        .join(Organization, Organization.id == RoutingTask.recipient_org_id)
        .where(RoutingTask.letter_id.in_(cascade_letter_ids(session, letter_id)), Organization.kind == ORG_LAO)
    )


def forward_invitation_at_mae_sai(session) -> OfficialLetter:
    """Have Mae Sai register Chiang Rai's pending invitation, order แจ้งเวียน and forward it to its 10 LAOs."""
    clerk = demo_user(session, "demo.maesai.clerk")
    head = demo_user(session, "demo.maesai.head")
    invitation = session.scalar(select(OfficialLetter).where(OfficialLetter.subject == demo.INVITATION_SUBJECT))
    receipt = operations.register_receipt(session, clerk, channel="system", letter_id=invitation.id).receipt
    operations.endorse(session, head, receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้ง ทต. และ อบต. ในพื้นที่ดำเนินการ")
    return operations.forward_circular(session, head, invitation.id).letter


def test_district_sees_forwarded_circular(app, session, staff):
    demo.run_demo(session)
    forwarded = forward_invitation_at_mae_sai(session)

    page = text_of(client_for(app, demo_user(session, "demo.maesai.head")).get("/routing/dashboard"))

    assert forwarded.doc_number.startswith("ชร 0023.20/ว ")
    # The letter of 2568 and the one just forwarded, each to Mae Sai's 10 LAOs.
    assert count_of(page, "count-circulars") == 2
    assert count_of(page, "count-tasks") == 20
    assert count_of(page, "count-answered") == 10
    cells = cells_of(latest_row(page, forwarded.id))
    assert forwarded.doc_number in cells[0]
    assert "แจ้งเวียนต่อ" in cells[0]
    assert cells[3] == "10"
    assert cells[4] == "0"
    lao_due = session.scalar(select(func.min(RoutingTask.due_effective)).where(RoutingTask.letter_id == forwarded.id))
    assert lao_due is not None
    assert format_be_date(lao_due) in cells[2]


def test_province_sees_forwarded_cascade(app, session, staff):
    demo.run_demo(session)
    province_letter = find_circular(session, "ชร 0023.6/ว 3200")
    invitation = session.scalar(select(OfficialLetter).where(OfficialLetter.subject == demo.INVITATION_SUBJECT))
    head = demo_user(session, "demo.chiangrai.head")

    board = dashboard(session, head.organization_id, TODAY)
    page = text_of(client_for(app, head).get("/routing/dashboard"))

    # ว 3200 was forwarded, the invitation issued; both count.
    assert board.circulars == 2
    expected = lao_tasks_below(session, province_letter.id)
    assert expected > 10
    assert board.tasks == expected
    cells = cells_of(latest_row(page, province_letter.id))
    assert cells[3] == f"{expected:,}"
    assert cells[4] == "10"
    # The invitation's deadline runs from each district's receipt and nobody registered it yet.
    assert cells_of(latest_row(page, invitation.id))[2] == invitation.due_text
    assert invitation.due_text.startswith("ภายใน 7 วันทำการ")


def test_past_due_matches_rollup_overdue(app, session, staff):
    demo.run_demo(session)
    director = demo_user(session, "demo.dla.director")
    carbon = find_circular(session, demo.DLA_NUMBER)
    bins = session.scalar(select(OfficialLetter).where(OfficialLetter.subject == demo.BINS_SUBJECT))

    board = dashboard(session, director.organization_id, TODAY)
    page = text_of(client_for(app, director).get("/routing/dashboard"))

    overdue = rollup(session, carbon, TODAY)["overdue"] + rollup(session, bins, TODAY)["overdue"]
    assert overdue > 0
    assert board.past_due == overdue
    assert count_of(page, "count-past-due") == overdue
    # Mae Sai's 10 LAOs reported: none of them is past due in the state table.
    assert board.by_state["reported"] == {"tasks": 10, "past_due": 0}
    assert '<tr data-state="reported"><td>รายงานแล้ว</td>\n        <td class="num">10</td><td class="num">0</td>' in page
    assert rollup(session, carbon, TODAY)["by_district"]["5709"] == {"recipients": 10, "confirmed": 10, "overdue": 0}
    carbon_cells = cells_of(latest_row(page, carbon.id))
    assert carbon_cells[5] == f"{rollup(session, carbon, TODAY)['overdue']:,}"


def test_relative_deadline_shows_task_due_date(app, session, staff):
    demo.run_demo(session)
    director = demo_user(session, "demo.dla.director")
    bins = session.scalar(select(OfficialLetter).where(OfficialLetter.subject == demo.BINS_SUBJECT))
    # Chiang Rai registered the circular, so its task has a due date 30 days after receipt.
    province_due = session.scalar(select(RoutingTask.due_effective).where(RoutingTask.letter_id == bins.id))

    page = text_of(client_for(app, director).get("/routing/dashboard"))

    assert bins.due_effective is None
    assert province_due is not None
    cells = cells_of(latest_row(page, bins.id))
    assert cells[0] == bins.doc_number
    assert cells[2] == format_be_date(province_due)
