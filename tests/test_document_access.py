"""Who may see an uploaded document once routing sends its letter down the chain.

The Mae Sai district office uploads the Chiang Rai provincial circular, registers it from
the parsed letter, and forwards it to its LAOs. Those LAOs' staff may then open the
district's file; offices the letter never reached may not.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from tests.conftest import PROVINCE_LETTER_TEXT, province_letter
from workflow import operations
from workflow.errors import PermissionDenied
from workflow.models import JOB_DONE, Document, FieldCorrection, Organization
from workflow.routing import operations as routing
from workflow.routing.calendar import BANGKOK
from workflow.routing.models import RoutingTask
from workflow.routing.testing import make_staff, postgres_reachable, postgres_schema_url, prepare_database, reset

MAX_BYTES = 1024 * 1024


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('access') / 'access.db'}")
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


@pytest.fixture
def session(database):
    reset(database)
    session = database.session()
    yield session
    session.close()


@pytest.fixture
def staff(session):
    return make_staff(session)


@pytest.fixture
def store(tmp_path):
    from workflow.storage import OriginalStore

    return OriginalStore(str(tmp_path / "originals"))


def upload_province_letter(session, store, clerk, **changes) -> Document:
    """Store the Chiang Rai circular as the district clerk's parsed upload."""
    letter = province_letter()
    letter.update(changes)
    ingested = operations.ingest_upload(
        session, store, PROVINCE_LETTER_TEXT.encode("utf-8"), "ชร-ว3200.txt", clerk, MAX_BYTES
    )
    operations.add_letters(ingested.document, {"letters": [letter]})
    ingested.job.status = JOB_DONE
    session.commit()
    return ingested.document


def register_and_forward(session, staff, document: Document):
    """Register the uploaded letter at Mae Sai, order it forwarded and forward it to Mae Sai's LAOs."""
    parsed = operations.letter_result(document.letters[0])
    parsed["source_letter_id"] = document.letters[0].id
    received_at = datetime(2025, 4, 3, 9, 30, tzinfo=BANGKOK)
    receipt = routing.register_receipt(
        session, staff.ms_clerk, channel="paper", letter_data=parsed, received_at=received_at
    ).receipt
    routing.endorse(session, staff.ms_head, receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้งเวียน อปท. ในสังกัด",
                    on_date=date(2025, 4, 3))
    return routing.forward_circular(session, staff.ms_head, receipt.letter_id, issued_on=date(2025, 4, 4))


def org_id(session, code: str) -> int:
    return session.scalar(select(Organization.id).where(Organization.code == code))


def test_lao_sees_file_once_forwarded(session, store, staff):
    document = upload_province_letter(session, store, staff.ms_clerk)
    assert not operations.may_see_document(staff.lao_clerk, document)

    forwarded = register_and_forward(session, staff, document)
    recipients = set(session.scalars(select(RoutingTask.recipient_org_id).where(
        RoutingTask.letter_id == forwarded.letter.id)))
    assert staff.lao_clerk.organization_id in recipients
    assert operations.routed_organization_ids(session, document) == recipients

    for user in (staff.lao_clerk, staff.lao_officer, staff.lao_exec, staff.other_lao_officer):
        assert operations.may_see_document(user, document), user.username
        assert operations.get_visible_document(session, user, document.id) is document


def test_offices_letter_never_reached_denied(session, store, staff):
    document = upload_province_letter(session, store, staff.ms_clerk)
    register_and_forward(session, staff, document)
    # The province above, Phuket and DLA's administrator got no task on this letter.
    for user in (staff.cr_head, staff.cr_officer, staff.pk_clerk, staff.admin, staff.dla_head):
        assert not operations.may_see_document(user, document), user.username
        with pytest.raises(PermissionDenied) as raised:
            operations.get_visible_document(session, user, document.id)
        assert raised.value.code == "document_access_denied"


def test_forwarded_file_in_lao_list(session, store, staff):
    document = upload_province_letter(session, store, staff.ms_clerk)
    assert operations.list_documents(session, staff.lao_officer).total == 0
    register_and_forward(session, staff, document)

    listing = operations.list_documents(session, staff.lao_officer)
    assert [d.id for d in listing.documents] == [document.id]
    assert operations.routed_document_ids(session, staff.lao_officer.organization_id) == {document.id}
    assert operations.list_documents(session, staff.pk_clerk).total == 0


def test_forwarded_secret_file_only_for_lao_clerks(session, store, staff):
    document = upload_province_letter(session, store, staff.ms_clerk, secrecy="confidential")
    register_and_forward(session, staff, document)
    assert operations.may_see_document(staff.lao_clerk, document)
    assert operations.may_see_document(staff.lao_exec, document)
    assert not operations.may_see_document(staff.lao_officer, document)
    assert operations.list_documents(session, staff.lao_officer).total == 0
    assert operations.list_documents(session, staff.lao_clerk).total == 1


def test_lao_cannot_correct_or_retry_forwarded_file(session, store, staff):
    document = upload_province_letter(session, store, staff.ms_clerk)
    register_and_forward(session, staff, document)
    subject_id = next(f.id for f in document.letters[0].fields if f.name == "subject")

    with pytest.raises(PermissionDenied) as raised:
        operations.correct_field(session, staff.lao_clerk, subject_id, "เรื่องที่ อปท. แก้เอง")
    assert raised.value.code == "other_organization"
    assert session.scalar(select(func.count()).select_from(FieldCorrection)) == 0
    assert not operations.may_retry_parse(staff.lao_clerk, document)


def test_enclosed_parent_reaches_lao_of_province_upload(session, store, staff):
    """A file the province uploaded reaches the LAO through the district's forward of it."""
    document = upload_province_letter(session, store, staff.cr_clerk)
    parsed = operations.letter_result(document.letters[0])
    parsed["source_letter_id"] = document.letters[0].id
    receipt = routing.register_receipt(
        session, staff.cr_clerk, channel="paper", letter_data=parsed,
        received_at=datetime(2025, 4, 2, 10, 0, tzinfo=BANGKOK),
    ).receipt
    routing.endorse(session, staff.cr_head, receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้งเวียนอำเภอ", on_date=date(2025, 4, 2))
    province = routing.forward_circular(session, staff.cr_head, receipt.letter_id, issued_on=date(2025, 4, 2)).letter
    assert not operations.may_see_document(staff.lao_clerk, document)

    district_receipt = routing.register_receipt(
        session, staff.ms_clerk, channel="system", letter_id=province.id,
        received_at=datetime(2025, 4, 3, 9, 30, tzinfo=BANGKOK),
    ).receipt
    routing.endorse(session, staff.ms_head, district_receipt.id, ["ทราบ", "แจ้งเวียน"], "แจ้งเวียน อปท.",
                    on_date=date(2025, 4, 3))
    routing.forward_circular(session, staff.ms_head, province.id, issued_on=date(2025, 4, 4))

    assert operations.may_see_document(staff.ms_clerk, document)
    assert operations.may_see_document(staff.lao_clerk, document)
    assert not operations.may_see_document(staff.pk_clerk, document)
    assert org_id(session, "PROV-57") not in operations.routed_organization_ids(session, document)
