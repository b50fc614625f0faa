"""`GET /api/v1/openapi.json`: the OpenAPI 3 description of every `/api/v1` route."""

from __future__ import annotations

from workflow.web.api_v1 import bp
from workflow.web.api_v1.openapi import OPENAPI


@bp.get("/openapi.json")
def openapi_document():
    return OPENAPI
