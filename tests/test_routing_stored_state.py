"""The stored task states, overdue marks and counts always equal a replay of the task events.

Each routing operation updates them in its own transaction. `stored_state.find_differences`
compares them with the events; `stored_state.rebuild` rewrites them from the events.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text

from tests.test_routing_operations import (  # noqa: F401 (fixtures)
    OFFICER_VALUES,
    at,
    chain_to_lao,
    database,
    issue_dla,
    lao_receives,
    receive_and_order_forward,
    session,
    staff,
)
from workflow.models import ORG_LAO, ORG_PROVINCE_OFFICE, Organization
from workflow.routing import jobs, operations
from workflow.cli import main as cli_main
from workflow.routing.commands import rebuild_state_command
from workflow.routing.dashboard import DONE_STATES, dashboard
from workflow.routing.rollup import cascade_letter_ids
from workflow.routing.errors import InvalidValue
from workflow.routing.models import NO_DUE_DATE, OfficialLetter, RoutingTask, TaskStateCount
from workflow.routing.state import load_status
from workflow.routing.stored_state import find_differences, rebuild


def assert_stored_equals_replayed(session, step: str) -> None:
    session.expire_all()
    found = find_differences(session)
    assert found.state_examples == [], step
    assert found.mark_examples == [], step
    assert found.count_examples == [], step
    for task in session.scalars(select(RoutingTask)):
        status = load_status(session, task.id)
        assert (task.state, task.overdue_marked) == (status.state, status.overdue_marked), f"{step}: task {task.id}"
    session.rollback()


def reference_dashboard(session, issuer_org_id: int, as_of: date, kind: str) -> dict:
    """Count the tasks below the office's own letters by folding each task's events, one task at a time.

    The office's letters are the roots it issued and the letters it forwarded in other offices' cascades.
    """
    own = session.scalars(select(OfficialLetter).where(OfficialLetter.issuer_org_id == issuer_org_id)).all()
    root_ids = {letter.id for letter in own if letter.parent_letter_id is None}
    letter_ids: set[int] = set()
    for letter in own:
        if letter.parent_letter_id is None or letter.root_letter_id not in root_ids:
            letter_ids.update(cascade_letter_ids(session, letter.id))
    tasks = session.scalars(
        select(RoutingTask)
        .join(Organization, Organization.id == RoutingTask.recipient_org_id)
        .where(Organization.kind == kind, RoutingTask.letter_id.in_(sorted(letter_ids)))
    ).all()
    by_state: dict[str, dict[str, int]] = {}
    past_due = 0
    for task in tasks:
        state = load_status(session, task.id).state
        late = task.due_effective is not None and task.due_effective < as_of and state not in DONE_STATES
        entry = by_state.setdefault(state, {"tasks": 0, "past_due": 0})
        entry["tasks"] += 1
        entry["past_due"] += int(late)
        past_due += int(late)
    return {"tasks": len(tasks), "past_due": past_due, "by_state": dict(sorted(by_state.items()))}


def test_every_operation_keeps_stored_state(session, staff):
    steps = []

    def step(name, action):
        result = action()
        steps.append(name)
        assert_stored_equals_replayed(session, name)
        return result

    dla = step("issue", lambda: issue_dla(session, staff))
    step("province receives and endorses",
         lambda: receive_and_order_forward(session, staff.cr_clerk, staff.cr_head, dla, date(2025, 3, 31)))
    province = step("province forwards", lambda: operations.forward_circular(
        session, staff.cr_head, dla.id, issued_on=date(2025, 4, 2)).letter)
    step("district receives and endorses",
         lambda: receive_and_order_forward(session, staff.ms_clerk, staff.ms_head, province, date(2025, 4, 3)))
    district = step("district forwards", lambda: operations.forward_circular(
        session, staff.ms_head, province.id, issued_on=date(2025, 4, 4)).letter)
    task = session.scalar(select(RoutingTask).where(RoutingTask.letter_id == district.id,
                                                    RoutingTask.recipient_org_id == staff.lao_clerk.organization_id))
    receipt = step("LAO receives", lambda: lao_receives(session, staff, task))
    step("LAO endorses", lambda: operations.endorse(session, staff.lao_exec, receipt.id, ["ทราบ", "มอบ"],
                                                    assigned_unit="สำนักปลัด", on_date=date(2025, 4, 8)))
    step("LAO endorses again", lambda: operations.endorse(session, staff.lao_exec, receipt.id, ["ดำเนินการ"],
                                                          on_date=date(2025, 4, 8)))
    step("assign", lambda: operations.assign_task(session, staff.lao_exec, task.id, staff.lao_officer,
                                                  on_date=date(2025, 4, 8)))
    step("confirm", lambda: operations.confirm_assignment(
        session, staff.lao_officer, task.id, OFFICER_VALUES | {"position": "พนักงานจ้าง"}))
    step("reject", lambda: operations.reject_confirmation(session, staff.lao_exec, task.id,
                                                          "ผู้รับผิดชอบต้องเป็นข้าราชการ", on_date=date(2025, 4, 8)))
    with pytest.raises(InvalidValue):
        operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES | {"phone": "12"})
    assert_stored_equals_replayed(session, "refused confirmation")
    step("confirm again", lambda: operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES))
    step("approve", lambda: operations.approve_confirmation(session, staff.lao_exec, task.id,
                                                            on_date=date(2025, 4, 9)))
    district_task = session.scalar(select(RoutingTask).where(
        RoutingTask.letter_id == province.id, RoutingTask.recipient_org_id == staff.ms_head.organization_id))
    step("district reports", lambda: operations.report_to_sender(session, staff.ms_head, district_task.id,
                                                                 on_date=date(2025, 4, 10)))
    phuket_task = session.scalar(select(RoutingTask).where(
        RoutingTask.letter_id == dla.id, RoutingTask.recipient_org_id == staff.pk_head.organization_id))
    step("DLA closes Phuket's task", lambda: operations.close_task(session, staff.dla_head, phuket_task.id,
                                                                  "จังหวัดแจ้งทางโทรศัพท์แล้ว"))
    step("reminders", lambda: jobs.send_reminders(session, date(2025, 4, 7)))
    escalated = step("escalation", lambda: jobs.escalate_overdue(session, date(2025, 4, 21)))
    assert escalated > 0
    step("escalation again", lambda: jobs.escalate_overdue(session, date(2025, 4, 22)))

    relative = step("relative deadline", lambda: issue_dla(
        session, staff, due_nominal=None, relative_days=5, relative_working_days=True))
    step("receipt fixes the due date", lambda: operations.register_receipt(
        session, staff.cr_clerk, channel="system", letter_id=relative.id, received_at=at(date(2025, 3, 31))))

    # The dashboard sums the counts; it must agree with folding every task's events.
    offices = [staff.dla_head.organization_id, staff.cr_head.organization_id, staff.ms_head.organization_id]
    for office in offices:
        for as_of in (date(2025, 4, 1), date(2025, 4, 21)):
            for kind in (ORG_LAO, ORG_PROVINCE_OFFICE):
                board = dashboard(session, office, as_of, recipient_kind=kind)
                expected = reference_dashboard(session, office, as_of, kind)
                assert board.tasks == expected["tasks"], (office, as_of, kind)
                assert board.past_due == expected["past_due"], (office, as_of, kind)
                assert board.by_state == expected["by_state"], (office, as_of, kind)
    district_board = dashboard(session, staff.ms_head.organization_id, date(2025, 4, 21))
    assert district_board.circulars == 1
    assert district_board.tasks > 0


def test_relative_deadline_moves_count_to_its_due_date(session, staff):
    letter = issue_dla(session, staff, due_nominal=None, relative_days=5, relative_working_days=True)
    operations.register_receipt(session, staff.cr_clerk, channel="system", letter_id=letter.id,
                                received_at=at(date(2025, 3, 31)))
    rows = {
        (row.recipient_kind, row.state, row.due_on): row.tasks
        for row in session.scalars(select(TaskStateCount).where(TaskStateCount.root_letter_id == letter.id))
        if row.tasks
    }
    provinces = len(session.scalars(select(RoutingTask).where(RoutingTask.letter_id == letter.id)).all())
    # Received 31 March: 1-4 April and 8 April (7 April is Chakri Day in lieu).
    assert rows == {
        (ORG_PROVINCE_OFFICE, "delivered", NO_DUE_DATE): provinces - 1,
        (ORG_PROVINCE_OFFICE, "received", date(2025, 4, 8)): 1,
    }


def test_dashboard_counts_lao_states(session, staff):
    district, task = chain_to_lao(session, staff)
    receipt = lao_receives(session, staff, task)
    operations.endorse(session, staff.lao_exec, receipt.id, ["ทราบ", "มอบ"], assigned_unit="สำนักปลัด",
                       on_date=date(2025, 4, 8))
    operations.confirm_assignment(session, staff.lao_officer, task.id, OFFICER_VALUES)
    operations.approve_confirmation(session, staff.lao_exec, task.id, on_date=date(2025, 4, 9))
    lao_tasks = session.scalar(
        select(func.count()).select_from(RoutingTask)
        .join(Organization, Organization.id == RoutingTask.recipient_org_id)
        .where(RoutingTask.root_letter_id == district.root_letter_id, Organization.kind == ORG_LAO)
    )

    board = dashboard(session, staff.dla_head.organization_id, date(2025, 4, 9))
    late = dashboard(session, staff.dla_head.organization_id, date(2025, 4, 30))

    assert board.circulars == 1
    assert board.tasks == lao_tasks
    assert board.by_state["reported"] == {"tasks": 1, "past_due": 0}
    assert board.answered == 1
    # The LAOs' due dates (9 April from Mae Sai, 11 April from the province) have not passed on 9 April.
    assert board.past_due == 0
    assert late.past_due == lao_tasks - 1
    assert late.latest[0].doc_number == "มท 0821.2/ว 1446"
    assert late.latest[0].tasks == lao_tasks
    assert late.latest[0].answered == 1
    assert late.latest[0].past_due == lao_tasks - 1


def corrupt(session) -> tuple[int, int]:
    """Write wrong stored values behind the operations' back; return the two tasks changed."""
    first, second = session.scalars(select(RoutingTask.id).order_by(RoutingTask.id).limit(2)).all()
    session.execute(text("UPDATE routing_tasks SET state = 'reported' WHERE id = :id"), {"id": first})
    session.execute(text("UPDATE routing_tasks SET overdue_marked = NOT overdue_marked WHERE id = :id"), {"id": second})
    session.execute(text("UPDATE routing_state_counts SET tasks = tasks + 3 WHERE state = 'delivered'"))
    session.commit()
    return first, second


def test_rebuild_repairs_corrupted_state(session, staff):
    chain_to_lao(session, staff)
    jobs.escalate_overdue(session, date(2025, 4, 30))
    first, second = corrupt(session)

    found = find_differences(session)
    assert found.states == 1
    assert found.state_examples == [(first, "reported", "delivered")]
    assert found.marks == 1
    # The escalation marked every province that had not answered by 30 April, the second task among them.
    assert found.mark_examples == [(second, False, True)]
    assert found.counts >= 1

    result = rebuild(session)

    assert result.states == 1
    assert result.marks == 1
    assert result.count_rows >= 1
    assert find_differences(session).total == 0
    assert_stored_equals_replayed(session, "after rebuild")


def test_rebuild_command_checks_and_repairs(session, staff, database, monkeypatch, capsys):
    chain_to_lao(session, staff)
    corrupt(session)
    monkeypatch.setenv("DATABASE_URL", database.engine.url.render_as_string(hide_password=False))

    assert cli_main(["routing-state", "--check"]) == 1
    checked = capsys.readouterr().out
    assert "สถานะงานที่เก็บไว้ไม่ตรงกับประวัติ: สถานะ 1 งาน เครื่องหมายเกินกำหนด 1 งาน" in checked
    assert "เก็บไว้ reported ตามประวัติ delivered" in checked

    assert cli_main(["routing-state"]) == 0
    rebuilt = capsys.readouterr().out
    assert "สร้างสถานะงานใหม่จากประวัติแล้ว: แก้สถานะ 1 งาน" in rebuilt
    assert "สถานะงานที่เก็บไว้ตรงกับประวัติของงานทุกงาน" in rebuilt

    assert rebuild_state_command(check_only=True) == 0


def walk_down(session, letter_id: int) -> list[int]:
    """Return the letter and its descendants by following `parent_letter_id`, level by level."""
    found, frontier = [letter_id], [letter_id]
    while frontier:
        frontier = session.scalars(select(OfficialLetter.id).where(OfficialLetter.parent_letter_id.in_(frontier))).all()
        found.extend(frontier)
    return found


def test_cascade_of_root_matches_walk(session, staff):
    district, _task = chain_to_lao(session, staff)
    other = issue_dla(session, staff, recipient_codes=["PROV-83"])
    letters = [district.root_letter_id, district.parent_letter_id, district.id, other.id]

    for letter_id in letters:
        assert sorted(cascade_letter_ids(session, letter_id)) == sorted(walk_down(session, letter_id)), letter_id
    assert len(cascade_letter_ids(session, district.root_letter_id)) == 3
    assert cascade_letter_ids(session, other.id) == [other.id]
