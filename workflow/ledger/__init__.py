"""The LAO carbon-credit ledger: accounts, certification rounds, approvals, postings and their audit log."""

# Importing the ledger registers the buyer documents table with the metadata, so that create_all,
# reset and autogenerate see it even where only the ledger models were imported.
import workflow.ledger.buyers  # noqa: E402,F401
