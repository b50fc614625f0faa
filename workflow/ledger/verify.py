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

Memory stays bounded however long the log is: events, transactions, entries, blocks and
requests are read in key order through server-side cursors in batches, and only the
accounts and certification rounds (a few thousand rows) are held whole. Posted events arrive
in commit order, which can differ slightly from transaction id order, so a posted event and
its transaction row are paired through two small waiting maps (`_Pairing`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from workflow.ledger.accounts import account_record
from workflow.ledger.chain import GENESIS_HASH, HEAD_ROW_ID, canonical_json, event_hash
from workflow.ledger.handlers import ROUND_FIELDS
from workflow.ledger.models import (
    ACCOUNT_CANCELLATION,
    ACCOUNT_ISSUANCE,
    ACCOUNT_RETIREMENT,
    HOLDING_KINDS,
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
    as_utc,
)

# Rows fetched per round trip from each server-side cursor.
BATCH_ROWS = 5000
# The request status that each kind of event leaves behind.
STATUS_AFTER = {"prepared": "pending", "approved": "approved", "confirmed": "approved", "posted": "posted",
                "account_opened": "posted", "rejected": "rejected", "expired": "expired"}


def _normalize(value: Any) -> Any:
    """Round-trip through the canonical JSON so that dates and tuples compare as the event stored them."""
    return json.loads(canonical_json(value))


class _Findings:
    def __init__(self) -> None:
        self.problems: list[dict[str, Any]] = []

    def add(self, reason: str, event_id: int | None, kind: str | None, sequence: int | None,
            table: str | None = None, row: Any = None) -> None:
        self.problems.append({
            "event": event_id,
            "sequence": sequence,
            "kind": kind,
            "table": table,
            "row": row,
            "reason": reason,
        })


def _stream(session: Session, statement) -> Iterator[Any]:
    """Yield the rows of `statement` in batches from a server-side cursor (PostgreSQL) or a lazy cursor (SQLite).

    The statement runs on the session's connection as Core, without the ORM's row processing.
    """
    yield from session.connection().execute(statement.execution_options(yield_per=BATCH_ROWS))


@contextmanager
def _snapshot(session: Session) -> Iterator[None]:
    """Read everything from one snapshot, so that writes committed meanwhile do not show as problems.

    On PostgreSQL the transaction is REPEATABLE READ; on SQLite a deferred BEGIN holds one read
    snapshot of the WAL file. A session already in a transaction keeps its own.
    """
    if session.in_transaction():
        yield
        return
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        driver_connection = session.connection().connection.driver_connection
        if not driver_connection.in_transaction:
            driver_connection.execute("BEGIN")
    try:
        yield
    finally:
        session.rollback()


class _Pairing:
    """Pair table rows, read in ascending id, with recorded items that arrive in nearly ascending id.

    `record` reads rows up to the recorded id, so rows wait only while their event is late.
    """

    def __init__(self, rows: Iterator[tuple[int, Any]]):
        self.rows = rows
        self.upcoming: tuple[int, Any] | None = next(rows, None)
        self.waiting_rows: dict[int, Any] = {}
        self.waiting_recorded: dict[int, Any] = {}

    def record(self, key: int, item: Any) -> tuple[Any, bool]:
        """Return the row with id `key` and True, or (None, False) when no such row exists up to `key`."""
        while self.upcoming is not None and self.upcoming[0] <= key:
            self.waiting_rows[self.upcoming[0]] = self.upcoming[1]
            self.upcoming = next(self.rows, None)
        if key in self.waiting_rows:
            return self.waiting_rows.pop(key), True
        self.waiting_recorded[key] = item
        return None, False

    def unmatched_rows(self) -> Iterator[tuple[int, Any]]:
        """Yield the rows that no recorded item named, in id order, after all items are recorded."""
        yield from sorted(self.waiting_rows.items())
        while self.upcoming is not None:
            yield self.upcoming
            self.upcoming = next(self.rows, None)


# --- transactions rebuilt from the tables ---------------------------------------------------


def _grouped(rows: Iterator[Any]) -> Iterator[tuple[int, list[Any]]]:
    """Group rows whose first column is the key, as they come in key order, sorting each group by its second column."""
    key, group = None, []
    for row in rows:
        if row[0] != key:
            if group:
                yield key, sorted(group, key=lambda item: item[1])
            key, group = row[0], []
        group.append(row)
    if group:
        yield key, sorted(group, key=lambda item: item[1])


class _Lookahead:
    """Hand out the groups of a keyed stream in ascending key order, for keys asked in ascending order."""

    def __init__(self, groups: Iterator[tuple[int, list[Any]]]):
        self.groups = groups
        self.upcoming = next(groups, None)

    def take(self, key: int) -> list[Any]:
        while self.upcoming is not None and self.upcoming[0] < key:
            self.upcoming = next(self.groups, None)
        if self.upcoming is not None and self.upcoming[0] == key:
            group = self.upcoming[1]
            self.upcoming = next(self.groups, None)
            return group
        return []


def _transaction_records(session: Session, codes: dict[int, str]) -> Iterator[tuple[int, dict]]:
    """Yield (id, record) for each transaction in id order, as `transaction_record` would build it, normalized."""
    entries = _Lookahead(_grouped(_stream(session, select(
        LedgerEntry.transaction_id, LedgerEntry.id, LedgerEntry.account_id, LedgerEntry.unit, LedgerEntry.bucket,
        LedgerEntry.side, LedgerEntry.amount,
    ).order_by(LedgerEntry.transaction_id))))
    opened = _Lookahead(_grouped(_stream(session, select(
        SerialBlock.opened_by_transaction_id, SerialBlock.id, SerialBlock.account_id, SerialBlock.round_id,
        SerialBlock.bucket, SerialBlock.serial_start, SerialBlock.serial_end, SerialBlock.reservation_request_id,
    ).order_by(SerialBlock.opened_by_transaction_id))))
    closed = _Lookahead(_grouped(_stream(session, select(
        SerialBlock.closed_by_transaction_id, SerialBlock.id,
    ).where(SerialBlock.closed_by_transaction_id.is_not(None)).order_by(SerialBlock.closed_by_transaction_id))))
    transactions = _stream(session, select(
        LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.request_id,
        LedgerTransaction.letter_reference, LedgerTransaction.posted_at, LedgerTransaction.reverses_id,
        LedgerTransaction.price_satang, LedgerTransaction.receipt_number, LedgerTransaction.receipt_date,
        LedgerTransaction.beneficiary, LedgerTransaction.purpose, LedgerTransaction.order_reference,
    ).order_by(LedgerTransaction.id))
    for row in transactions:
        transaction_id = row.id
        yield transaction_id, {
            "id": transaction_id,
            "kind": row.kind,
            "request": row.request_id,
            "letter_reference": row.letter_reference,
            "posted_at": as_utc(row.posted_at).isoformat(),
            "reverses": row.reverses_id,
            "price_satang": row.price_satang,
            "receipt_number": row.receipt_number,
            "receipt_date": row.receipt_date.isoformat() if row.receipt_date is not None else None,
            "beneficiary": row.beneficiary,
            "purpose": row.purpose,
            "order_reference": row.order_reference,
            "entries": [[entry[1], codes.get(entry[2]), entry[3], entry[4], entry[5], entry[6]]
                        for entry in entries.take(transaction_id)],
            "blocks_opened": [[block[1], codes.get(block[2]), block[3], block[4], block[5], block[6], block[7]]
                              for block in opened.take(transaction_id)],
            "blocks_closed": [block[1] for block in closed.take(transaction_id)],
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


# --- the chain ------------------------------------------------------------------------------

# Events whose data the checks read; the others are checked against their columns by text alone.
KINDS_WITH_DATA = ("posted", "prepared", "account_opened")


class _Replay:
    """What the chain pass collects besides the chain's own problems.

    `accounts` and `rounds` hold what the chain recorded of each account and certification
    round (a few thousand rows); `transactions` and `requests` pair the posted and prepared
    events with their rows; `findings` are kept only when the whole chain verifies.
    """

    def __init__(self, transactions: _Pairing, requests: _Pairing) -> None:
        self.transactions = transactions
        self.requests = requests
        self.accounts: dict[int, tuple[dict, int, str, int]] = {}
        self.rounds: dict[int, tuple[dict, int, str, int]] = {}
        self.findings = _Findings()
        # (reason, event id, event kind, request id) of requests whose status or payload differs.
        self.changed_requests: list[tuple[str, int, str, int]] = []


def _json_scalar(value: int | None) -> str:
    return "null" if value is None else str(value)


def _columns_match_text(body: str, position: int, kind: str, request_id: int | None, transaction_id: int | None,
                        actor_id: int | None) -> bool:
    """Check the sequence and columns against a canonical body without parsing it.

    In canonical JSON the top-level keys are sorted, so a body starts with "actor" and "at"
    and ends with "kind", "request", "sequence" and "transaction", after "data". Quotes inside
    strings are escaped, so the text can match only the top-level keys.
    """
    tail = (f',"kind":{canonical_json(kind)},"request":{_json_scalar(request_id)},"sequence":{position},'
            f'"transaction":{_json_scalar(transaction_id)}}}')
    return body.startswith(f'{{"actor":{_json_scalar(actor_id)},"at":') and body.endswith(tail)


def _check_chain(session: Session, findings: _Findings, replay: _Replay) -> tuple[int, bool]:
    """Check hashes, sequence and columns in one pass, and pair posted and prepared events with their rows.

    Returns the number of events read and whether the chain is whole.
    """
    previous = GENESIS_HASH
    position = 0
    events = _stream(session, select(
        LedgerEvent.id, LedgerEvent.kind, LedgerEvent.request_id, LedgerEvent.transaction_id, LedgerEvent.actor_id,
        LedgerEvent.body, LedgerEvent.previous_hash, LedgerEvent.hash,
    ).order_by(LedgerEvent.id))
    for event_id, kind, request_id, transaction_id, actor_id, body_text, previous_hash, stored_hash in events:
        position += 1
        if previous_hash != previous or stored_hash != event_hash(previous, body_text):
            findings.add("hash chain broken: the event's hash does not match its body or the event before it",
                         event_id, kind, position, "ledger_events", event_id)
            return position, False
        previous = stored_hash
        if kind not in KINDS_WITH_DATA and _columns_match_text(body_text, position, kind, request_id, transaction_id,
                                                                actor_id):
            continue
        body = json.loads(body_text)
        if body.get("sequence") != position:
            findings.add(f"sequence {body.get('sequence')} where {position} was expected: an event is missing",
                         event_id, kind, position, "ledger_events", event_id)
            return position, False
        columns = (("kind", kind), ("request", request_id), ("transaction", transaction_id), ("actor", actor_id))
        for name, value in columns:
            if body.get(name) != value:
                findings.add(f"column {name} is {value!r} but the event body records {body.get(name)!r}",
                             event_id, kind, position, "ledger_events", event_id)
        data = body.get("data") or {}
        if kind == "posted":
            if "round" in data:
                replay.rounds[data["round"]["id"]] = (data["round"], event_id, kind, position)
            _pair_posted(replay, data, event_id, kind, position)
        elif kind == "prepared":
            _pair_prepared(replay, request_id, data.get("payload"), event_id, kind, position)
        elif kind == "account_opened":
            replay.accounts[data["id"]] = (data, event_id, kind, position)
    head = session.get(ChainHead, HEAD_ROW_ID)
    if position and (head is None or head.last_hash != previous or head.last_event_id != position):
        last_id = session.scalar(select(func.max(LedgerEvent.id)))
        findings.add("the chain head does not point at the last event: events were removed from the end",
                     last_id, None, position, "ledger_chain_head", HEAD_ROW_ID)
        return position, False
    return position, True


def _pair_posted(replay: _Replay, data: dict, event_id: int, kind: str, sequence: int) -> None:
    recorded = {key: value for key, value in data.items() if key not in ("round", "receipts")}
    actual, found = replay.transactions.record(recorded["id"], (event_id, kind, sequence))
    if found and actual != recorded:
        table, row = _diff_table(recorded, actual)
        replay.findings.add("the table no longer matches what the posted event recorded", event_id, kind, sequence,
                            table, row)


def _pair_prepared(replay: _Replay, request_id: int | None, payload: Any, event_id: int, kind: str,
                   sequence: int) -> None:
    if request_id is None:
        return
    row, found = replay.requests.record(request_id, (event_id, kind, sequence))
    if not found:
        return
    status, stored_payload, last_id, last_kind = row
    expected = STATUS_AFTER.get(last_kind, last_kind)
    if status != expected or stored_payload != payload:
        replay.changed_requests.append(
            (f"the request is {status} but its events make it {expected}, or its payload changed",
             last_id, last_kind, request_id))


def _request_rows(session: Session) -> Iterator[tuple[int, tuple]]:
    """Yield (id, (status, payload, last event id, last event kind)) for each request in id order.

    A request's status is the one its last event leaves it in. The chain pass checks that
    each event's columns equal its body, so the columns can be used here. The last event is
    read per request from the index on (request_id, id DESC).
    """
    last = LedgerEvent.__table__.alias("last_event")

    def last_column(column):
        return (select(column).where(last.c.request_id == LedgerRequest.id).order_by(last.c.id.desc()).limit(1)
                .correlate(LedgerRequest).scalar_subquery())

    rows = _stream(session, select(
        LedgerRequest.id, LedgerRequest.status, LedgerRequest.payload, last_column(last.c.id),
        last_column(last.c.kind),
    ).order_by(LedgerRequest.id))
    for request_id, status, payload, last_id, last_kind in rows:
        yield request_id, (status, payload, last_id, last_kind)


def _finish_replay(session: Session, replay: _Replay, findings: _Findings) -> None:
    """Name the rows and events left unpaired, and the requests that differ from their events."""
    for transaction_id, (event_id, kind, sequence) in sorted(replay.transactions.waiting_recorded.items()):
        replay.findings.add("the posted transaction is missing from the table", event_id, kind, sequence,
                            "ledger_transactions", transaction_id)
    for transaction_id, _record in replay.transactions.unmatched_rows():
        replay.findings.add("a transaction row has no posted event", None, None, None, "ledger_transactions",
                            transaction_id)
    for request_id, (event_id, kind, sequence) in sorted(replay.requests.waiting_recorded.items()):
        replay.findings.add("the request row is missing", event_id, kind, sequence, "ledger_requests", request_id)
    for request_id, _row in replay.requests.unmatched_rows():
        replay.findings.add("a request row has no prepared event", None, None, None, "ledger_requests", request_id)
    sequences = _sequence_of(session, {event_id for _, event_id, _, _ in replay.changed_requests if event_id})
    for reason, event_id, kind, request_id in replay.changed_requests:
        replay.findings.add(reason, event_id, kind, sequences.get(event_id), "ledger_requests", request_id)
    findings.problems.extend(replay.findings.problems)


def _sequence_of(session: Session, event_ids: set[int]) -> dict[int, int]:
    """Read the sequence numbers of the named events from their bodies."""
    found: dict[int, int] = {}
    ordered = sorted(event_ids)
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start:start + 1000]
        for event_id, body in session.execute(select(LedgerEvent.id, LedgerEvent.body).where(LedgerEvent.id.in_(chunk))):
            found[event_id] = json.loads(body).get("sequence")
    return found


# --- registers ------------------------------------------------------------------------------


def _check_registers(session: Session, replay: _Replay, findings: _Findings) -> None:
    """Compare accounts, buyers and certification rounds with the events that created them."""
    accounts = dict(replay.accounts)
    for account in session.scalars(select(Account).order_by(Account.id)):
        recorded = accounts.pop(account.id, None)
        if recorded is None:
            findings.add("an account row has no account_opened event", None, None, None, "ledger_accounts", account.id)
            continue
        data, event_id, kind, sequence = recorded
        if _normalize(account_record(account)) != {key: value for key, value in data.items() if key != "buyer_fields"}:
            findings.add("the account no longer matches its account_opened event", event_id, kind, sequence,
                         "ledger_accounts", account.id)
        if "buyer_fields" in data:
            buyer = session.get(Buyer, account.buyer_id)
            actual = {key: getattr(buyer, key, None) for key in data["buyer_fields"]}
            if actual != data["buyer_fields"]:
                findings.add("the buyer no longer matches its registration event", event_id, kind, sequence,
                             "ledger_buyers", account.buyer_id)
    for account_id, (_, event_id, kind, sequence) in accounts.items():
        findings.add("the account row is missing", event_id, kind, sequence, "ledger_accounts", account_id)
    rounds = dict(replay.rounds)
    for certification in session.scalars(select(CertificationRound).order_by(CertificationRound.id)):
        recorded = rounds.pop(certification.id, None)
        actual = _normalize({"id": certification.id, **{key: getattr(certification, key) for key in ROUND_FIELDS}})
        if recorded is None or actual != recorded[0]:
            findings.add("the certification round no longer matches its issue event",
                         recorded[1] if recorded else None, recorded[2] if recorded else None,
                         recorded[3] if recorded else None, "ledger_rounds", certification.id)
    for round_id, (_, event_id, kind, sequence) in rounds.items():
        findings.add("the certification round row is missing", event_id, kind, sequence, "ledger_rounds", round_id)


# --- sums -----------------------------------------------------------------------------------


def _check_balanced(session: Session, findings: _Findings) -> None:
    """Name each transaction whose debits and credits differ in a unit; the database returns only those."""
    debits = func.coalesce(func.sum(LedgerEntry.amount).filter(LedgerEntry.side == SIDE_DEBIT), 0)
    credits = func.coalesce(func.sum(LedgerEntry.amount).filter(LedgerEntry.side != SIDE_DEBIT), 0)
    rows = session.execute(
        select(LedgerEntry.transaction_id, LedgerEntry.unit, debits, credits)
        .group_by(LedgerEntry.transaction_id, LedgerEntry.unit).having(debits != credits)
        .order_by(LedgerEntry.transaction_id)
    )
    for transaction_id, unit, debit_total, credit_total in rows:
        findings.add(f"debits {debit_total} and credits {credit_total} in {unit} differ", None, None, None,
                     "ledger_transactions", transaction_id)


def _check_holdings(session: Session, accounts: list[tuple[int, str, str]], findings: _Findings) -> dict[int, int]:
    """Compare each account's tCO2e from entries with its open blocks and check serial overlaps.

    Returns the balance of every account from its entries.
    """
    signed = case((LedgerEntry.side == SIDE_DEBIT, LedgerEntry.amount), else_=-LedgerEntry.amount)
    entry_totals: dict[int, int] = defaultdict(int)
    entry_totals.update(session.execute(
        select(LedgerEntry.account_id, func.sum(signed)).where(LedgerEntry.unit == UNIT_TCO2E)
        .group_by(LedgerEntry.account_id)
    ).all())
    block_totals: dict[int, int] = defaultdict(int)
    block_totals.update(session.execute(
        select(SerialBlock.account_id, func.sum(SerialBlock.serial_end - SerialBlock.serial_start + 1))
        .where(SerialBlock.closed_by_transaction_id.is_(None)).group_by(SerialBlock.account_id)
    ).all())
    for account_id, code, kind in accounts:
        if kind == ACCOUNT_ISSUANCE:
            continue
        if entry_totals[account_id] != block_totals[account_id]:
            findings.add(f"account {code}: entries give {entry_totals[account_id]} tCO2e but its open"
                         f" serial blocks hold {block_totals[account_id]}", None, None, None, "ledger_accounts",
                         account_id)
    _check_serials(session, findings)
    return entry_totals


def _check_serials(session: Session, findings: _Findings) -> None:
    """Read the open blocks by round and first serial, and name overlaps and blocks outside their round."""
    rounds = {row.id: (row.serial_start, row.serial_end) for row in session.execute(
        select(CertificationRound.id, CertificationRound.serial_start, CertificationRound.serial_end))}
    blocks = _stream(session, select(SerialBlock.round_id, SerialBlock.serial_start, SerialBlock.serial_end,
                                     SerialBlock.id)
                     .where(SerialBlock.closed_by_transaction_id.is_(None))
                     .order_by(SerialBlock.round_id, SerialBlock.serial_start))
    current_round, last_end = None, None
    for round_id, serial_start, serial_end, block_id in blocks:
        if round_id != current_round:
            current_round, last_end = round_id, None
        if last_end is not None and serial_start <= last_end:
            findings.add(f"serials {serial_start}-{last_end} are in two open blocks", None, None, None,
                         "ledger_blocks", block_id)
        last_end = serial_end if last_end is None else max(last_end, serial_end)
        bounds = rounds.get(round_id)
        if bounds and not bounds[0] <= serial_start <= serial_end <= bounds[1]:
            findings.add("the block lies outside its round's serial block", None, None, None, "ledger_blocks", block_id)


def _check_totals(accounts: list[tuple[int, str, str]], entry_totals: dict[int, int], findings: _Findings) -> None:
    by_kind: dict[str, int] = defaultdict(int)
    for account_id, _code, kind in accounts:
        by_kind[kind] += entry_totals.get(account_id, 0)
    issued = -by_kind[ACCOUNT_ISSUANCE]
    held = sum(by_kind[kind] for kind in HOLDING_KINDS)
    if issued != held + by_kind[ACCOUNT_RETIREMENT] + by_kind[ACCOUNT_CANCELLATION]:
        findings.add("issued does not equal held plus retired plus cancelled", None, None, None, None, None)


def verify(session: Session) -> dict[str, Any]:
    """Return {"ok", "events", "accounts", "first_break", "problems"} for the whole ledger."""
    findings = _Findings()
    with _snapshot(session):
        accounts = [tuple(row) for row in session.execute(select(Account.id, Account.code, Account.kind))]
        codes = {account_id: code for account_id, code, _kind in accounts}
        replay = _Replay(_Pairing(_transaction_records(session, codes)), _Pairing(_request_rows(session)))
        events, whole = _check_chain(session, findings, replay)
        if whole:
            _finish_replay(session, replay, findings)
            _check_registers(session, replay, findings)
        _check_balanced(session, findings)
        entry_totals = _check_holdings(session, accounts, findings)
        _check_totals(accounts, entry_totals, findings)
        if not whole:
            # The chain stopped early; count every event for the report.
            events = session.scalar(select(func.count()).select_from(LedgerEvent))
    ranked = sorted(findings.problems, key=lambda item: (item["sequence"] is None, item["sequence"] or 0))
    return {
        "ok": not findings.problems,
        "events": events,
        "accounts": len(accounts),
        "first_break": ranked[0] if ranked else None,
        "problems": findings.problems,
    }
