"""Concurrent clerks registering letters at one office get gapless, unique receipt numbers.

Concurrent LAOs acting on one circular keep its stored task counts exact.
"""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
from sqlalchemy import select

from workflow.models import ORG_LAO, Organization, User
from workflow.routing import operations
from workflow.routing.calendar import BANGKOK
from workflow.routing.errors import InvalidValue
from workflow.routing.models import Receipt, TaskStateCount
from workflow.routing.stored_state import find_differences
from workflow.routing.testing import make_user, postgres_reachable, postgres_schema_url, prepare_database

CLERKS = 4
LETTERS_PER_CLERK = 12


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('concurrency') / 'routing.db'}")
        yield db
        db.dispose()
        return
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {reason}")
    with postgres_schema_url() as url:
        db = prepare_database(url)
        yield db
        db.dispose()


def letter(clerk: int, index: int) -> dict:
    return {
        "doc_number": f"ชร 0023.{clerk + 1}/ว {index + 1}",
        "date": "2025-04-02",
        "subject": f"ขอเชิญประชุมคณะทำงานคาร์บอนเครดิต ครั้งที่ {index + 1}",
        "issuer": "ศาลากลางจังหวัดเชียงราย",
    }


def test_concurrent_clerks_get_gapless_unique_numbers(database):
    setup = database.session()
    usernames = [make_user(setup, f"clerk{number}", "DIST-5709", "clerk").username for number in range(CLERKS)]
    setup.close()
    errors: list[BaseException] = []
    start = threading.Barrier(CLERKS)

    def work(clerk_index: int) -> None:
        session = database.session()
        try:
            clerk = session.scalar(select(User).where(User.username == usernames[clerk_index]))
            start.wait()
            for index in range(LETTERS_PER_CLERK):
                data = letter(clerk_index, index)
                if index % 5 == 4:
                    # A refused receipt in between must not burn a number.
                    with pytest.raises(InvalidValue):
                        operations.register_receipt(session, clerk, channel="paper", letter_data=data,
                                                    received_at=datetime(2025, 4, 3, 9, tzinfo=BANGKOK),
                                                    remarks="ก" * 5000)
                operations.register_receipt(session, clerk, channel="paper", letter_data=data,
                                            received_at=datetime(2025, 4, 3, 9, tzinfo=BANGKOK))
        except BaseException as error:  # reported to the main thread, which fails the test
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(CLERKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    session = database.session()
    numbers = sorted(session.scalars(select(Receipt.number).where(Receipt.year == date(2025, 1, 1).year)))
    session.close()
    assert numbers == list(range(1, CLERKS * LETTERS_PER_CLERK + 1))


def test_same_letter_at_once_is_one_record_and_receipt(database):
    setup = database.session()
    province = [make_user(setup, f"cr.clerk{number}", "PROV-57", "clerk").username for number in range(2)]
    district = [make_user(setup, f"ms.clerk{number}", "DIST-5708", "clerk").username for number in range(2)]
    setup.close()
    usernames = province + district
    channels = ["e_office", "paper", "ecms", "email"]
    data = {"doc_number": "มท 0821.2/ว 1447", "date": "2025-03-29", "issuer": "กรมส่งเสริมการปกครองท้องถิ่น",
            "subject": "การรายงานจำนวนถังขยะเปียกขององค์กรปกครองส่วนท้องถิ่น"}
    results, errors = [], []
    start = threading.Barrier(len(usernames))

    def work(index: int) -> None:
        session = database.session()
        try:
            clerk = session.scalar(select(User).where(User.username == usernames[index]))
            start.wait()
            result = operations.register_receipt(session, clerk, channel=channels[index], letter_data=dict(data),
                                                  received_at=datetime(2025, 3, 31, 9, tzinfo=BANGKOK))
            results.append((clerk.organization_id, result.letter.id, result.receipt.id, result.receipt.number))
        except BaseException as error:  # reported to the main thread, which fails the test
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(len(usernames))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len({letter_id for _org, letter_id, _receipt, _number in results}) == 1
    receipts_by_org = {}
    for org, _letter, receipt_id, number in results:
        receipts_by_org.setdefault(org, set()).add((receipt_id, number))
    assert [len(receipts) for receipts in receipts_by_org.values()] == [1, 1]
    numbers = sorted(number for receipts in receipts_by_org.values() for _receipt, number in receipts)
    assert numbers == [1, 1]


LAOS = 6


def test_concurrent_laos_keep_counts_exact(database):
    """LAOs receiving, confirming and approving one circular at once update shared count rows without a deadlock."""
    setup = database.session()
    director = make_user(setup, "dla.director.concurrent", "DLA", "supervisor",
                         "ผู้อำนวยการกองส่งเสริมและพัฒนาการจัดการสิ่งแวดล้อมท้องถิ่น")
    mae_sai = setup.scalar(select(Organization).where(Organization.code == "DIST-5709"))
    laos = setup.scalars(select(Organization).where(Organization.parent_id == mae_sai.id, Organization.kind == ORG_LAO)
                         .order_by(Organization.code).limit(LAOS)).all()
    staff = [
        (make_user(setup, f"clerk.{lao.code}", lao.code, "clerk").username,
         make_user(setup, f"head.{lao.code}", lao.code, "supervisor", f"นายก{lao.name_th}").username)
        for lao in laos
    ]
    letter = operations.issue_circular(
        setup, director, subject="ขอให้แจ้งชื่อเจ้าหน้าที่ผู้รับผิดชอบบัญชีคาร์บอนเครดิต",
        issued_on=date(2025, 3, 28), due_nominal=date(2025, 4, 18), recipient_codes=[lao.code for lao in laos],
        confirmation_form=operations.CARBON_CREDIT_CONFIRMATION_FORM,
    ).letter
    setup.close()
    errors: list[BaseException] = []
    start = threading.Barrier(len(staff))

    def work(clerk_name: str, head_name: str) -> None:
        session = database.session()
        try:
            clerk = session.scalar(select(User).where(User.username == clerk_name))
            head = session.scalar(select(User).where(User.username == head_name))
            start.wait()
            result = operations.register_receipt(session, clerk, channel="system", letter_id=letter.id,
                                                 received_at=datetime(2025, 3, 31, 10, tzinfo=BANGKOK))
            operations.confirm_assignment(session, clerk, result.task.id, {
                "officer_name": f"เจ้าหน้าที่ {clerk.organization.name_th}", "position": "นักวิชาการสิ่งแวดล้อม",
                "phone": "053-731-234", "email": "carbon@example.org",
            })
            operations.approve_confirmation(session, head, result.task.id, on_date=date(2025, 4, 1))
        except BaseException as error:  # reported to the main thread, which fails the test
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=work, args=names) for names in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    check = database.session()
    try:
        found = find_differences(check)
        assert found.total == 0
        counts = {
            row.state: row.tasks
            for row in check.scalars(select(TaskStateCount).where(TaskStateCount.root_letter_id == letter.id))
        }
        assert counts == {"delivered": 0, "received": 0, "confirmed": 0, "reported": len(laos)}
    finally:
        check.close()
