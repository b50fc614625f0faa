"""`/api/v1/ledger`: balances, statements, and preparing, approving, rejecting and confirming operations.

Each write calls the ledger operation the ledger screens call. A client sends its own
`idempotency_key` with each write, so a retried request replays the first result and
posts nothing more.
"""

from __future__ import annotations

from typing import Any

from flask import g

from workflow.app import get_session
from workflow.errors import NotFound, PermissionDenied
from workflow.ledger import operations, queries, reports
from workflow.ledger.accounts import DLA_CODE
from workflow.ledger.operations import STATUS_NAMES_TH
from workflow.web.api_v1 import bp, inputs
from workflow.web.api_v1.inputs import ID
from workflow.web.api_v1.values import moment

KEY = "idempotency_key"


def _request(item) -> dict[str, Any]:
    return {
        "request_id": item.id,
        "kind": item.kind,
        "status": item.status,
        "status_th": STATUS_NAMES_TH.get(item.status, item.status),
        "organization": item.organization.code if item.organization else None,
        "needs_dla_confirmation": item.needs_dla_confirmation,
        "letter_reference": item.letter_reference,
        "payload": item.payload,
        "prepared_at": moment(item.prepared_at),
        "expires_at": moment(item.expires_at),
        "approved_at": moment(item.approved_at),
        "confirmed_at": moment(item.confirmed_at),
        "voided_at": moment(item.voided_at),
        "void_reason": item.void_reason,
    }


def _is_dla() -> bool:
    return g.user.organization is not None and g.user.organization.code == DLA_CODE


def _own_account():
    account = queries.account_of_organization(get_session(), g.user.organization_id)
    if account is None:
        raise NotFound("account_not_found", "หน่วยงานของท่านยังไม่ได้เปิดบัญชีคาร์บอนเครดิต",
                       f"org {g.user.organization_id} has no LAO ledger account")
    return account


@bp.get("/ledger/balances")
def balances():
    """Return the ledger's totals and every holding account's balance, as the public page shows them."""
    return reports.balances(get_session())


@bp.get("/ledger/account")
def own_account():
    session = get_session()
    account = _own_account()
    return {
        "account": account.code,
        "name_th": account.name_th,
        "buckets": queries.bucket_totals(session, account),
        "income_satang": reports.money_balance(session, account.code),
        "reservations": [
            {"reservation_id": row["request"].id, "quantity": row["quantity"], "account": row["account"].code}
            for row in queries.open_reservations(session, account)
        ],
    }


@bp.get("/ledger/accounts/<code>/statement")
def statement(code: str):
    """Return an account's entries with running balances: the user's own LAO account, or any account for DLA staff."""
    account = queries.account_by_code(get_session(), inputs.account_code(code))
    if account is None:
        raise NotFound("account_not_found", f"ไม่พบบัญชี {code}", f"no ledger account {code!r}")
    if not _is_dla() and account.organization_id != g.user.organization_id:
        raise PermissionDenied("other_account", "ท่านดูรายการบัญชีได้เฉพาะบัญชีของหน่วยงานของท่าน",
                               f"user {g.user.username} may not read account {code}")
    return {"account": account.code, "entries": reports.statement(get_session(), account.code)}


@bp.get("/ledger/requests")
def requests_of_office():
    items = queries.requests_of_organization(get_session(), g.user.organization_id)
    return {"requests": [_request(item) for item in items]}


@bp.post("/ledger/reservations")
def reserve():
    body = inputs.json_body()
    item = operations.prepare_reservation(
        get_session(), g.user, idempotency_key=inputs.text(body, KEY, required=True, max_length=200),
        quantity=inputs.whole(body, "quantity"),
        letter_reference=inputs.text(body, "letter_reference", required=True, max_length=500),
        buyer_account=inputs.text(body, "buyer_account", max_length=40),
    )
    return {"request": _request(item)}, 201


@bp.post("/ledger/sales")
def sale():
    body = inputs.json_body()
    item = operations.prepare_transfer(
        get_session(), g.user, idempotency_key=inputs.text(body, KEY, required=True, max_length=200),
        buyer_account=inputs.text(body, "buyer_account", required=True, max_length=40),
        quantity=inputs.whole(body, "quantity"),
        receipt_number=inputs.text(body, "receipt_number", required=True, max_length=500),
        receipt_date=inputs.iso_date(body, "receipt_date", required=True),
        letter_reference=inputs.text(body, "letter_reference", required=True, max_length=500),
        reservation_id=inputs.whole(body, "reservation_id", required=False),
        price_baht=inputs.number(body, "price_baht"),
    )
    return {"request": _request(item)}, 201


@bp.post("/ledger/retirements")
def retire():
    body = inputs.json_body()
    account = _own_account()
    item = operations.prepare_retirement(
        get_session(), g.user, idempotency_key=inputs.text(body, KEY, required=True, max_length=200),
        account_code=account.code, quantity=inputs.whole(body, "quantity"),
        beneficiary=inputs.text(body, "beneficiary", required=True, max_length=500),
        purpose=inputs.text(body, "purpose", required=True, max_length=500),
        letter_reference=inputs.text(body, "letter_reference", required=True, max_length=500),
    )
    return {"request": _request(item)}, 201


@bp.post(f"/ledger/requests/<{ID}:request_id>/approve")
def approve_request(request_id: int):
    body = inputs.json_body()
    item = operations.approve(get_session(), g.user, request_id,
                              idempotency_key=inputs.text(body, KEY, required=True, max_length=200))
    return {"request": _request(item)}


@bp.post(f"/ledger/requests/<{ID}:request_id>/reject")
def reject_request(request_id: int):
    body = inputs.json_body()
    item = operations.reject(get_session(), g.user, request_id, inputs.text(body, "reason", max_length=500) or "",
                             idempotency_key=inputs.text(body, KEY, required=True, max_length=200))
    return {"request": _request(item)}


@bp.post(f"/ledger/requests/<{ID}:request_id>/confirm")
def confirm_request(request_id: int):
    body = inputs.json_body()
    item = operations.confirm(get_session(), g.user, request_id,
                              idempotency_key=inputs.text(body, KEY, required=True, max_length=200))
    transaction = queries.transaction_of_request(get_session(), item.id)
    return {"request": _request(item), "transaction_id": transaction.id if transaction else None}
