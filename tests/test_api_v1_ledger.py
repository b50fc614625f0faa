"""The carbon-credit ledger through `/api/v1` with API tokens: a retirement prepared, replayed, refused to
another LAO, approved and confirmed by DLA, with statements limited to their owners."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflow import apitokens
from workflow.app import create_app
# Imported for its table, which `reset` must empty along with the requests it references.
from workflow.ledger import buyers as _buyers  # noqa: F401
from workflow.ledger.models import LedgerEvent, LedgerRequest
from workflow.ledger.testing import issue_and_allocate, make_ledger_staff, open_lao_accounts, register_bank
from workflow.routing.testing import postgres_reachable, postgres_schema_url, prepare_database, reset

RETIREMENT = {
    "quantity": 10,
    "beneficiary": "บริษัท ตัวอย่างพลังงานสะอาด จำกัด",
    "purpose": "ชดเชยการปล่อยก๊าซเรือนกระจกของงานประชุมประจำปี 2568",
    "letter_reference": "ทต.เวียงพางคำ ที่ ชร 72503/ว 118",
}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        db = prepare_database(f"sqlite:///{tmp_path_factory.mktemp('api_ledger') / 'ledger.db'}")
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
def app(database, session, tmp_path):
    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
        "SARABAN_STORAGE": str(tmp_path / "storage"),
        "REDIS_URL": None,
        "SECRET_KEY": "api-ledger-test",
    })
    yield application
    application.extensions["saraban.db"].dispose()


@pytest.fixture
def staff(session):
    staff = make_ledger_staff(session)
    open_lao_accounts(session, staff)
    issue_and_allocate(session, staff)
    register_bank(session, staff)
    return staff


def token_headers(session, user) -> dict[str, str]:
    token = apitokens.create_token(session, user.username, "ระบบบัญชีของหน่วยงาน", "test").token
    return {"Authorization": f"Bearer {token}"}


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_retirement_through_api(app, session, staff):
    client = app.test_client()
    officer = token_headers(session, staff.officers["5570901"])
    executive = token_headers(session, staff.executives["5570901"])
    dla_head = token_headers(session, staff.dla_head)

    account = client.get("/api/v1/ledger/account", headers=officer)
    assert account.status_code == 200, account.json
    assert account.json["account"] == "LAO-5570901"
    available_before = account.json["buckets"]["available"]
    assert available_before >= RETIREMENT["quantity"]

    prepared = client.post("/api/v1/ledger/retirements", headers=officer,
                           json={**RETIREMENT, "idempotency_key": "api-retire-1"})
    assert prepared.status_code == 201, prepared.json
    request_id = prepared.json["request"]["request_id"]
    assert prepared.json["request"]["status"] == "pending"
    replayed = client.post("/api/v1/ledger/retirements", headers=officer,
                           json={**RETIREMENT, "idempotency_key": "api-retire-1"})
    assert replayed.status_code == 201
    assert replayed.json["request"]["request_id"] == request_id
    own_requests = client.get("/api/v1/ledger/requests", headers=officer).json["requests"]
    assert [item["request_id"] for item in own_requests].count(request_id) == 1

    approved = client.post(f"/api/v1/ledger/requests/{request_id}/approve", headers=executive,
                           json={"idempotency_key": "api-approve-1"})
    assert approved.status_code == 200, approved.json
    assert approved.json["request"]["needs_dla_confirmation"] is True
    confirmed = client.post(f"/api/v1/ledger/requests/{request_id}/confirm", headers=dla_head,
                            json={"idempotency_key": "api-confirm-1"})
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["request"]["status"] == "posted"
    assert confirmed.json["transaction_id"] is not None

    after = client.get("/api/v1/ledger/account", headers=officer).json
    assert after["buckets"]["available"] == available_before - RETIREMENT["quantity"]
    balances = client.get("/api/v1/ledger/balances", headers=officer).json
    assert balances["total_retired"] == RETIREMENT["quantity"]
    statement = client.get("/api/v1/ledger/accounts/LAO-5570901/statement", headers=officer)
    assert statement.status_code == 200
    assert statement.json["entries"][-1]["transaction"] == confirmed.json["transaction_id"]


def test_other_lao_cannot_approve_or_read(app, session, staff):
    client = app.test_client()
    officer = token_headers(session, staff.officers["5570901"])
    other_executive = token_headers(session, staff.executives["5570902"])
    prepared = client.post("/api/v1/ledger/retirements", headers=officer,
                           json={**RETIREMENT, "idempotency_key": "api-retire-2"})
    request_id = prepared.json["request"]["request_id"]
    events_before = count(session, LedgerEvent)

    refused = client.post(f"/api/v1/ledger/requests/{request_id}/approve", headers=other_executive,
                          json={"idempotency_key": "api-approve-2"})
    assert refused.status_code in (403, 404)
    assert refused.json["error"]["message"]
    rejected = client.post(f"/api/v1/ledger/requests/{request_id}/reject", headers=other_executive,
                           json={"idempotency_key": "api-reject-2", "reason": "ไม่ใช่ของหน่วยงานเรา"})
    assert rejected.status_code in (403, 404)
    statement = client.get("/api/v1/ledger/accounts/LAO-5570901/statement", headers=other_executive)
    assert statement.status_code == 403
    assert statement.json["error"]["code"] == "other_account"
    session.expire_all()
    assert session.get(LedgerRequest, request_id).status == "pending"
    assert count(session, LedgerEvent) == events_before


def test_bad_ledger_input_is_400(app, session, staff):
    client = app.test_client()
    officer = token_headers(session, staff.officers["5570901"])
    requests_before = count(session, LedgerRequest)
    cases = [
        ({**RETIREMENT, "quantity": "สิบ", "idempotency_key": "bad-1"}, "invalid_value"),
        ({**RETIREMENT, "quantity": True, "idempotency_key": "bad-2"}, "invalid_value"),
        ({**RETIREMENT, "quantity": 2**40, "idempotency_key": "bad-3"}, "invalid_value"),
        ({**RETIREMENT}, "missing_value"),
    ]
    for body, code in cases:
        response = client.post("/api/v1/ledger/retirements", headers=officer, json=body)
        assert response.status_code == 400, body
        assert response.json["error"]["code"] == code
    assert count(session, LedgerRequest) == requests_before
