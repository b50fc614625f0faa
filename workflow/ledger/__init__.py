"""The LAO carbon-credit ledger: accounts, certification rounds, approvals, postings and their audit log."""
