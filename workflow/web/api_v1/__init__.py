"""The versioned JSON API `/api/v1`: documents, routing, the carbon-credit ledger and e-CMS exchange.

Each view reads a JSON body (or a file upload), calls the same operation as the screen
for that action, and returns JSON. Rules and permissions therefore stay those of the
operations. A refused call raises a `WorkflowError`, which the app's error handler turns
into `{"error": {"code", "message"}}` with the error's HTTP status, and the operation has
rolled back. Requests authenticate with an API token (`Authorization: Bearer ...`, see
`workflow.apitokens`) or with a signed-in session, which keeps its CSRF check. The routes
are described by the OpenAPI document in `openapi.py`, served at `/api/v1/openapi.json`.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

# Importing the modules registers their routes on `bp`.
from workflow.web.api_v1 import admin_page, auth, documents, ecms, ledger, routing, spec  # noqa: E402,F401
from workflow.web.api_v1.auth import is_token_request  # noqa: E402,F401
