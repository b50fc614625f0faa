"""JSON endpoints: the parse result object of the contract, job progress and uploads."""

from __future__ import annotations

from flask import Blueprint, g, request

from workflow import operations
from workflow.app import get_session
from workflow.errors import NotFound
from workflow.models import ParseJob
from workflow.web.auth import login_required
from workflow.web.documents import ingest_files, requested_page

bp = Blueprint("api", __name__, url_prefix="/api")


def job_status(job: ParseJob) -> dict:
    status = {
        "job_id": job.id,
        "document_id": job.document_id,
        "status": job.status,
        "pages_done": job.pages_done,
        "pages_total": job.pages_total,
    }
    if job.error_code:
        status["error"] = {"code": job.error_code, "message": job.error_message_th}
    return status


@bp.get("/documents")
@login_required
def list_documents():
    """Return one page (`?page=N`, 50 a page) of the documents the signed-in user may see."""
    listing = operations.list_documents(get_session(), g.user, requested_page())
    return {
        "page": listing.page,
        "pages": listing.pages,
        "total": listing.total,
        "documents": [
            {
                "document_id": document.id,
                "file": document.filename,
                "sha256": document.sha256,
                "status": document.latest_job.status if document.latest_job else None,
                "uploaded_at": document.uploaded_at.isoformat(),
            }
            for document in listing.documents
        ]
    }


@bp.post("/documents")
@login_required
def upload_documents():
    """Accept files in the multipart field `files`; return one object per file, in order."""
    outcomes = ingest_files([f for f in request.files.getlist("files") if f.filename])
    results = []
    for outcome in outcomes:
        if "error" in outcome:
            error = outcome["error"]
            results.append({"file": outcome["filename"], "error": {"code": error.code, "message": error.message_th}})
        else:
            document = outcome["document"]
            results.append({"file": outcome["filename"], "document_id": document.id, "created": outcome["created"],
                            "sha256": document.sha256, "job": job_status(document.latest_job)})
    status = 400 if not results or all("error" in r for r in results) else 202
    return {"results": results}, status


@bp.get("/documents/<int:document_id>")
@login_required
def document_result(document_id: int):
    return operations.document_result(operations.get_visible_document(get_session(), g.user, document_id))


@bp.get("/jobs/<job_id>")
@login_required
def job(job_id: str):
    found = get_session().get(ParseJob, job_id)
    if found is None:
        raise NotFound("job_not_found", "ไม่พบงานอ่านเอกสารนี้", f"no parse job {job_id}")
    operations.require_document_access(g.user, found.document)
    return job_status(found)
