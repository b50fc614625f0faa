"""The inbox page sends as many SQL statements for 200 tasks as for 10, and lists them a page at a time."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event

from tests.test_web_routing import (  # noqa: F401 (fixtures)
    TODAY,
    app,
    client_for,
    database,
    session,
    staff,
    text_of,
)
from workflow.routing import admin, operations
from workflow.routing.operations import TASKS_PER_PAGE
from workflow.web.routing import ISSUED_PER_PAGE

SUBJECTS = (
    "การคัดแยกขยะมูลฝอยในครัวเรือน",
    "การป้องกันและควบคุมโรคไข้เลือดออก",
    "การเตรียมความพร้อมรับมือสาธารณภัยช่วงฤดูฝน",
    "การจัดเก็บภาษีที่ดินและสิ่งปลูกสร้าง",
)


def issue_to_lao(session, staff, count: int, start: int) -> None:
    """Issue `count` DLA circulars straight to เทศบาลตำบลแม่สาย; every third one is past due, every fifth received."""
    for number in range(start, start + count):
        due = TODAY - timedelta(days=3) if number % 3 == 0 else TODAY + timedelta(days=14)
        letter = operations.issue_circular(
            session, staff.dla_head, subject=f"{SUBJECTS[number % len(SUBJECTS)]} (ฉบับที่ {number + 1})",
            issued_on=TODAY - timedelta(days=20), due_nominal=due, recipient_codes=["5570901"],
        ).letter
        if number % 5 == 0:
            operations.register_receipt(session, staff.lao_clerk, channel="system", letter_id=letter.id)


def statements_for(app, client, url: str) -> tuple[int, str]:
    """Return how many SQL statements the app's engine ran to serve `url`, and the page."""
    engine = app.extensions["saraban.db"].engine
    statements = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements), text_of(response)


def task_rows(page: str) -> int:
    return len(re.findall(r'<tr class="task-row', page))


def issued_rows(page: str) -> int:
    table = page.split('id="issued"', 1)[1].split("</table>", 1)[0]
    return table.count("<tr>") - 1


def test_inbox_statements_do_not_grow_with_tasks(app, session, staff):
    admin.set_office_settings(session, None, "DLA", doc_prefix="มท 0821.2")
    lao = client_for(app, staff.lao_clerk)
    dla = client_for(app, staff.dla_head)
    issue_to_lao(session, staff, 10, 0)
    # The first request of a client also loads the signed-in user; count from the second.
    statements_for(app, lao, "/routing/")
    statements_for(app, dla, "/routing/")

    lao_few, lao_page_few = statements_for(app, lao, "/routing/")
    dla_few, dla_page_few = statements_for(app, dla, "/routing/")
    issue_to_lao(session, staff, 190, 10)
    lao_many, lao_page_many = statements_for(app, lao, "/routing/")
    dla_many, dla_page_many = statements_for(app, dla, "/routing/")
    lao_last, lao_page_last = statements_for(app, lao, "/routing/?page=4")

    assert task_rows(lao_page_few) == 10
    assert issued_rows(dla_page_few) == 10
    assert task_rows(lao_page_many) == TASKS_PER_PAGE
    assert issued_rows(dla_page_many) == ISSUED_PER_PAGE
    assert "ทั้งหมด 200 เรื่อง · หน้า 1 จาก 4" in lao_page_many
    assert "ทั้งหมด 200 ฉบับ · หน้า 1 จาก 4" in dla_page_many
    assert lao_many == lao_few
    assert dla_many == dla_few
    assert lao_last == lao_few
    assert task_rows(lao_page_last) == TASKS_PER_PAGE
    # The oldest circular, ฉบับที่ 1, is the last row of the last page.
    assert "(ฉบับที่ 1)" in lao_page_last
    assert "(ฉบับที่ 1)" not in lao_page_many


def test_inbox_page_shows_stored_states(app, session, staff):
    admin.set_office_settings(session, None, "DLA", doc_prefix="มท 0821.2")
    issue_to_lao(session, staff, 6, 0)
    page = text_of(client_for(app, staff.lao_clerk).get("/routing/"))
    states = re.findall(r'<tr class="task-row( overdue)?" data-task="\d+" data-state="(\w+)"', page)
    # Newest first: numbers 5 down to 0. Numbers 0 and 5 were received; numbers 0 and 3 are past due and open.
    assert [state for _overdue, state in states] == ["received", "delivered", "delivered", "delivered", "delivered",
                                                     "received"]
    assert [bool(overdue) for overdue, _state in states] == [False, False, True, False, False, True]


def test_inbox_page_past_the_end_shows_last_page(app, session, staff):
    admin.set_office_settings(session, None, "DLA", doc_prefix="มท 0821.2")
    issue_to_lao(session, staff, 3, 0)
    page = text_of(client_for(app, staff.lao_clerk).get("/routing/?page=9&issued_page=abc"))
    assert task_rows(page) == 3
    assert "ทั้งหมด 3 เรื่อง" in page
    assert 'id="inbox-pager"' not in page
