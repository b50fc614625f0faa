"""Verify the ledger: recompute the hash chain, replay it, and compare the tables with it.

The event log is the record. `verify` checks, in order:

1. the chain: each event's `previous_hash` is the hash before it, its `hash` is SHA-256 of
   that and its body, sequence numbers run 1, 2, 3 ..., and the chain head matches the last event;
2. each transaction row, its entries and the serial blocks it opened and closed equal what
   its `posted` event recorded, and its entries balance per unit;
3. each request's status and payload, and each account, buyer and certification round, equal
   what their events recorded;
4. each account's balance recomputed from entries equals the units in its open blocks,
   no serial is in two open blocks, and issued equals held plus retired plus cancelled.

A problem names the table and row, and the event it contradicts where there is one.
`first_break` is the problem with the lowest event sequence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.ledger.chain import GENESIS_HASH, event_hash
from workflow.ledger.models import (
    SIDE_DEBIT,
    UNIT_TCO2E,
    Account,
    Buyer,
    CertificationRound,
    ChainHead,
    LedgerEntry,
    LedgerEvent,
    LedgerRequest,
    LedgerTransaction,
    SerialBlock,
)
from workflow.ledger.accounts import account_record
from workflow.ledger.handlers import ROUND_FIELDS
from workflow.ledger.posting import block_record, transaction_record
from workflow.ledger.reports import balances


def _normalize(value: Any) -> Any:
    """Round-trip through the canonical JSON so that dates and tuples compare as the event stored them."""
    from workflow.ledger.chain import canonical_json

    return json.loads(canonical_json(value))


class _Findings:
    def __init__(self) -> None:
        self.problems: list[dict[str, Any]] = []

    def add(self, reason: str, event: LedgerEvent | None, sequence: int | None, table: str | None = None,
            row: Any = None) -> None:
        self.problems.append({
            "event": event.id if event is not None else None,
            "sequence": sequence,
            "kind": event.kind if event is not None else None,
            "table": table,
            "row": row,
            "reason": reason,
        })


def _check_chain(session: Session, findings: _Findings) -> tuple[list[tuple[LedgerEvent, dict]], bool]:
    """Check hashes and sequence; return the events with their parsed bodies, and whether the chain is whole."""
    events = list(session.scalars(select(LedgerEvent).order_by(LedgerEvent.id)))
    previous = GENESIS_HASH
    parsed: list[tuple[LedgerEvent, dict]] = []
    for position, event in enumerate(events, start=1):
        if event.previous_hash != previous or event.hash != event_hash(previous, event.body):
            findings.add("hash chain broken: the event's hash does not match its body or the event before it",
                         event, position, "ledger_events", event.id)
            return parsed, False
        body = json.loads(event.body)
        if body.get("sequence") != position:
            findings.add(f"sequence {body.get('sequence')} where {position} was expected: an event is missing",
                         event, position, "ledger_events", event.id)
            return parsed, False
        columns = {"kind": event.kind, "request": event.request_id, "transaction": event.transaction_id,
                   "actor": event.actor_id}
        for name, value in columns.items():
            if body.get(name) != value:
                findings.add(f"column {name} is {value!r} but the event body records {body.get(name)!r}",
                             event, position, "ledger_events", event.id)
        parsed.append((event, body))
        previous = event.hash
    head = session.get(ChainHead, 1)
    if events and (head is None or head.last_hash != previous or head.last_event_id != len(events)):
        findings.add("the chain head does not point at the last event: events were removed from the end",
                     events[-1], len(events), "ledger_chain_head", 1)
        return parsed, False
    return parsed, True


def _transaction_rows(session: Session) -> dict[int, dict]:
    """Rebuild each transaction's event record from the tables."""
    accounts = {account.id: account.code for account in session.scalars(select(Account))}
    entries: dict[int, list] = defaultdict(list)
    for entry in session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)):
        entries[entry.transaction_id].append(
            [entry.id, accounts.get(entry.account_id), entry.unit, entry.bucket, entry.side, entry.amount])
    opened: dict[int, list] = defaultdict(list)
    closed: dict[int, list] = defaultdict(list)
    for block in session.scalars(select(SerialBlock).order_by(SerialBlock.id)):
        opened[block.opened_by_transaction_id].append(block_record(block, accounts.get(block.account_id)))
        if block.closed_by_transaction_id is not None:
            closed[block.closed_by_transaction_id].append(block.id)
    return {
        transaction.id: _normalize(transaction_record(transaction, entries[transaction.id], opened[transaction.id],
                                                      closed[transaction.id]))
        for transaction in session.scalars(select(LedgerTransaction))
    }


def _diff_table(recorded: dict, actual: dict) -> tuple[str, Any]:
    """Name the table and row where a rebuilt transaction differs from its recorded one."""
    for field_name, table in (("entries", "ledger_entries"), ("blocks_opened", "ledger_blocks"),
                              ("blocks_closed", "ledger_blocks")):
        left, right = recorded.get(field_name, []), actual.get(field_name, [])
        if left != right:
            for a, b in zip(left, right):
                if a != b:
                    return table, (b[0] if isinstance(b, list) else b)
            longer = right if len(right) > len(left) else left
            item = longer[min(len(left), len(right))]
            return table, (item[0] if isinstance(item, list) else item)
    return "ledger_transactions", actual.get("id")


def _check_transactions(parsed: list[tuple[LedgerEvent, dict]], rows: dict[int, dict], findings: _Findings) -> None:
    posted_ids = set()
    for sequence, (event, body) in enumerate(parsed, start=1):
        if event.kind != "posted":
            continue
        recorded = {key: value for key, value in body["data"].items() if key not in ("round", "receipts")}
        transaction_id = recorded["id"]
        posted_ids.add(transaction_id)
        actual = rows.get(transaction_id)
        if actual is None:
            findings.add("the posted transaction is missing from the table", event, sequence,
                         "ledger_transactions", transaction_id)
        elif actual != recorded:
            table, row = _diff_table(recorded, actual)
            findings.add("the table no longer matches what the posted event recorded", event, sequence, table, row)
    for transaction_id in sorted(set(rows) - posted_ids):
        findings.add("a transaction row has no posted event", None, None, "ledger_transactions", transaction_id)


def _check_balanced(session: Session, findings: _Findings) -> None:
    rows = session.execute(
        select(LedgerEntry.transaction_id, LedgerEntry.unit,
               func.sum(LedgerEntry.amount).filter(LedgerEntry.side == SIDE_DEBIT),
               func.sum(LedgerEntry.amount).filter(LedgerEntry.side != SIDE_DEBIT))
        .group_by(LedgerEntry.transaction_id, LedgerEntry.unit)
    )
    for transaction_id, unit, debits, credits in rows:
        if (debits or 0) != (credits or 0):
            findings.add(f"debits {debits or 0} and credits {credits or 0} in {unit} differ", None, None,
                         "ledger_transactions", transaction_id)


def _check_requests(session: Session, parsed: list[tuple[LedgerEvent, dict]], findings: _Findings) -> None:
    expected: dict[int, tuple[str, dict, LedgerEvent, int]] = {}
    for sequence, (event, body) in enumerate(parsed, start=1):
        if event.request_id is None:
            continue
        if event.kind == "prepared":
            expected[event.request_id] = ("pending", body["data"]["payload"], event, sequence)
        elif event.request_id in expected:
            status = {"approved": "approved", "confirmed": "approved", "posted": "posted", "account_opened": "posted",
                      "rejected": "rejected", "expired": "expired"}[event.kind]
            _, payload, _, _ = expected[event.request_id]
            expected[event.request_id] = (status, payload, event, sequence)
    for request in session.scalars(select(LedgerRequest).order_by(LedgerRequest.id)):
        if request.id not in expected:
            findings.add("a request row has no prepared event", None, None, "ledger_requests", request.id)
            continue
        status, payload, event, sequence = expected.pop(request.id)
        if request.status != status or _normalize(request.payload) != payload:
            findings.add(f"the request is {request.status} but its events make it {status}, or its payload changed",
                         event, sequence, "ledger_requests", request.id)
    for request_id, (_, _, event, sequence) in expected.items():
        findings.add("the request row is missing", event, sequence, "ledger_requests", request_id)


def _check_registers(session: Session, parsed: list[tuple[LedgerEvent, dict]], findings: _Findings) -> None:
    """Compare accounts, buyers and certification rounds with the events that created them."""
    accounts: dict[int, tuple[dict, LedgerEvent, int]] = {}
    rounds: dict[int, tuple[dict, LedgerEvent, int]] = {}
    for sequence, (event, body) in enumerate(parsed, start=1):
        if event.kind == "account_opened":
            accounts[body["data"]["id"]] = (body["data"], event, sequence)
        elif event.kind == "posted" and "round" in body["data"]:
            rounds[body["data"]["round"]["id"]] = (body["data"]["round"], event, sequence)
    for account in session.scalars(select(Account).order_by(Account.id)):
        recorded = accounts.pop(account.id, None)
        if recorded is None:
            findings.add("an account row has no account_opened event", None, None, "ledger_accounts", account.id)
            continue
        data, event, sequence = recorded
        if _normalize(account_record(account)) != {key: value for key, value in data.items() if key != "buyer_fields"}:
            findings.add("the account no longer matches its account_opened event", event, sequence,
                         "ledger_accounts", account.id)
        if "buyer_fields" in data:
            buyer = session.get(Buyer, account.buyer_id)
            actual = {key: getattr(buyer, key, None) for key in data["buyer_fields"]}
            if actual != data["buyer_fields"]:
                findings.add("the buyer no longer matches its registration event", event, sequence,
                             "ledger_buyers", account.buyer_id)
    for account_id, (_, event, sequence) in accounts.items():
        findings.add("the account row is missing", event, sequence, "ledger_accounts", account_id)
    for certification in session.scalars(select(CertificationRound)):
        recorded = rounds.pop(certification.id, None)
        actual = _normalize({"id": certification.id, **{key: getattr(certification, key) for key in ROUND_FIELDS}})
        if recorded is None or actual != recorded[0]:
            findings.add("the certification round no longer matches its issue event",
                         recorded[1] if recorded else None, recorded[2] if recorded else None,
                         "ledger_rounds", certification.id)
    for round_id, (_, event, sequence) in rounds.items():
        findings.add("the certification round row is missing", event, sequence, "ledger_rounds", round_id)


def _check_holdings(session: Session, findings: _Findings) -> None:
    entry_totals: dict[int, int] = defaultdict(int)
    for entry in session.scalars(select(LedgerEntry).where(LedgerEntry.unit == UNIT_TCO2E)):
        entry_totals[entry.account_id] += entry.amount if entry.side == SIDE_DEBIT else -entry.amount
    block_totals: dict[int, int] = defaultdict(int)
    by_round: dict[int, list[SerialBlock]] = defaultdict(list)
    for block in session.scalars(select(SerialBlock).where(SerialBlock.closed_by_transaction_id.is_(None))):
        block_totals[block.account_id] += block.quantity
        by_round[block.round_id].append(block)
    for account in session.scalars(select(Account).order_by(Account.id)):
        if account.kind == "issuance":
            continue
        if entry_totals[account.id] != block_totals[account.id]:
            findings.add(f"account {account.code}: entries give {entry_totals[account.id]} tCO2e but its open"
                         f" serial blocks hold {block_totals[account.id]}", None, None, "ledger_accounts", account.id)
    for round_id, blocks in by_round.items():
        blocks.sort(key=lambda block: block.serial_start)
        certification = session.get(CertificationRound, round_id)
        for before, after in zip(blocks, blocks[1:]):
            if after.serial_start <= before.serial_end:
                findings.add(f"serials {after.serial_start}-{before.serial_end} are in two open blocks", None, None,
                             "ledger_blocks", after.id)
        for block in blocks:
            if certification and not certification.serial_start <= block.serial_start <= block.serial_end <= certification.serial_end:
                findings.add("the block lies outside its round's serial block", None, None, "ledger_blocks", block.id)


def verify(session: Session) -> dict[str, Any]:
    """Return {"ok", "events", "accounts", "first_break", "problems"} for the whole ledger."""
    findings = _Findings()
    parsed, whole = _check_chain(session, findings)
    if whole:
        _check_transactions(parsed, _transaction_rows(session), findings)
        _check_requests(session, parsed, findings)
        _check_registers(session, parsed, findings)
    _check_balanced(session, findings)
    _check_holdings(session, findings)
    totals = balances(session)
    if totals["total_issued"] != totals["total_held"] + totals["total_retired"] + totals["total_cancelled"]:
        findings.add("issued does not equal held plus retired plus cancelled", None, None, None, None)
    ranked = sorted(findings.problems, key=lambda item: (item["sequence"] is None, item["sequence"] or 0))
    return {
        "ok": not findings.problems,
        "events": session.scalar(select(func.count()).select_from(LedgerEvent)),
        "accounts": session.scalar(select(func.count()).select_from(Account)),
        "first_break": ranked[0] if ranked else None,
        "problems": findings.problems,
    }
