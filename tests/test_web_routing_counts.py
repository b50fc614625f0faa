"""The inbox's counts of issued circulars and the roll-up page, read with grouped queries.

`reference_counts` is the earlier per-task count: it folds each task's events with
`load_status`. The grouped query must give the same numbers for every issued letter.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.test_web_routing import (  # noqa: F401 (fixtures)
    SUBJECT,
    TODAY,
    app,
    client_for,
    database,
    issue_dla,
    lao_task,
    session,
    staff,
    task_of,
    text_of,
)
from workflow.routing import jobs, operations
from workflow.routing.models import OfficialLetter, RoutingTask
from workflow.routing.state import load_status
from workflow.web.routing import DONE_STATES, _is_overdue, _issued_counts


def reference_counts(session, letter, today) -> dict[str, int]:
    counts = {"recipients": 0, "answered": 0, "overdue": 0}
    for task in session.scalars(select(RoutingTask).where(RoutingTask.letter_id == letter.id)):
        status = load_status(session, task.id)
        counts["recipients"] += 1
        counts["answered"] += int(status.state in DONE_STATES)
        counts["overdue"] += int(_is_overdue(task, status, today))
    return counts


def issue_late_and_settled(session, staff) -> list[OfficialLetter]:
    """Three DLA circulars: one whose deadline passed, one Chiang Rai forwarded and reported, one marked late early."""
    late = operations.issue_circular(
        session, staff.dla_head, subject="ขอให้รายงานจำนวนถังขยะเปียกที่ผ่านการตรวจนับ",
        issued_on=TODAY - timedelta(days=40), due_nominal=TODAY - timedelta(days=10),
        recipient_codes=["PROV-57", "PROV-83", "5570901"],
    ).letter
    current = issue_dla(session, staff)
    receipt = operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=current.id).receipt
    operations.endorse(session, staff.cr_head, receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้งอำเภอในสังกัด")
    operations.forward_circular(session, staff.cr_head, current.id)
    operations.report_to_sender(session, staff.cr_head, task_of(session, current, staff.cr_head).id,
                                note="แจ้งเวียนอำเภอครบแล้ว")
    operations.close_task(session, staff.dla_head, task_of(session, current, staff.pk_head).id,
                          "จังหวัดแจ้งทางโทรศัพท์แล้ว")
    # The daily job marks the overdue tasks of the late letter.
    jobs.escalate_overdue(session, TODAY)
    return [late, current]


def test_issued_counts_match_per_task_reading(session, staff):
    letters = issue_late_and_settled(session, staff)
    counts = _issued_counts(session, staff.dla_head.organization_id, TODAY)
    for letter in letters:
        assert counts[letter.id] == reference_counts(session, letter, TODAY), letter.doc_number
    later = TODAY + timedelta(days=60)
    counts_later = _issued_counts(session, staff.dla_head.organization_id, later)
    for letter in letters:
        assert counts_later[letter.id] == reference_counts(session, letter, later), letter.doc_number


def test_issued_counts_values(session, staff):
    late, current = issue_late_and_settled(session, staff)
    counts = _issued_counts(session, staff.dla_head.organization_id, TODAY)
    assert counts[late.id] == {"recipients": 3, "answered": 0, "overdue": 3}
    assert counts[current.id]["answered"] == 2
    assert counts[current.id]["overdue"] == 0


def test_issued_counts_only_own_office(session, staff):
    issue_late_and_settled(session, staff)
    assert _issued_counts(session, staff.pk_head.organization_id, TODAY) == {}
    province_letters = session.scalars(select(OfficialLetter.id).where(
        OfficialLetter.issuer_org_id == staff.cr_head.organization_id)).all()
    assert set(_issued_counts(session, staff.cr_head.organization_id, TODAY)) == set(province_letters)


def test_inbox_shows_issued_counts(app, session, staff):
    late, _current = issue_late_and_settled(session, staff)
    page = text_of(client_for(app, staff.dla_head).get("/routing/"))
    issued = page[page.index('id="issued"'):]
    row = issued[issued.index(late.doc_number):]
    row = row[:row.index("</tr>")]
    cells = re.findall(r'<td class="num">(.*?)</td>', row)
    assert cells[0] == "3"
    assert cells[1] == "0"
    assert ">3<" in cells[2]


def test_rollup_page_lists_only_pending(app, session, staff):
    task = lao_task(session, staff)
    operations.confirm_assignment(session, staff.lao_officer, task.id, {
        "officer_name": "นายอนุชา แสงทอง", "position": "นักวิชาการสิ่งแวดล้อม",
        "phone": "053-731-234", "email": "anucha@maesai.go.th",
    })
    operations.approve_confirmation(session, staff.lao_exec, task.id)
    page = text_of(client_for(app, staff.ms_head).get(f"/routing/letters/{task.letter_id}/rollup"))
    assert "อปท. ที่ยังไม่ยืนยัน (9 แห่ง)" in page
    assert 'data-org="5570901"' not in page
    assert 'data-org="5570902"' in page
    assert "อำเภอแม่สาย" in page
    assert SUBJECT in page
