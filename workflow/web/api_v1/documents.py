"""`/api/v1` documents: list, upload, parse result, retry of a failed parse, job status, field correction."""

from __future__ import annotations

from flask import current_app, g, request

from workflow import fields as letter_fields
from workflow import jobs, operations
from workflow.app import get_session
from workflow.errors import InvalidValue, NotFound, UploadRejected
from workflow.models import ParseJob
from workflow.web.api import job_status
from workflow.web.api_v1 import bp, inputs
from workflow.web.api_v1.inputs import ID
from workflow.web.api_v1.values import moment
from workflow.web.documents import ingest_files

UPLOAD_FIELD = "files"


def _document_row(document) -> dict:
    job = document.latest_job
    return {
        "document_id": document.id,
        "file": document.filename,
        "sha256": document.sha256,
        "status": job.status if job else None,
        "uploaded_at": moment(document.uploaded_at),
    }


@bp.get("/documents")
def list_documents():
    listing = operations.list_documents(get_session(), g.user, inputs.page_argument())
    return {
        "page": listing.page,
        "pages": listing.pages,
        "total": listing.total,
        "documents": [_document_row(document) for document in listing.documents],
    }


@bp.post("/documents")
def upload_documents():
    """Store and queue for parsing each file of the multipart field `files`; 202 when any file was taken."""
    files = [upload for upload in request.files.getlist(UPLOAD_FIELD) if upload.filename]
    if not files:
        raise UploadRejected("no_file", "กรุณาแนบไฟล์อย่างน้อยหนึ่งไฟล์ในช่อง files แบบ multipart/form-data",
                             "the request carries no file in the multipart field 'files'")
    results = []
    for outcome in ingest_files(files):
        if "error" in outcome:
            error = outcome["error"]
            results.append({"file": outcome["filename"], "error": {"code": error.code, "message": error.message_th}})
            continue
        document = outcome["document"]
        results.append({
            "file": outcome["filename"],
            "document_id": document.id,
            "created": outcome["created"],
            "sha256": document.sha256,
            "job": job_status(document.latest_job),
        })
    if any("error" not in result for result in results):
        return {"results": results}, 202
    # Every file was rejected: the answer is an error, with each file's reason beside it.
    if len(results) == 1:
        error = results[0]["error"]
    else:
        error = {"code": "all_files_rejected",
                 "message": f"ไม่รับไฟล์ใดเลยจาก {len(results)} ไฟล์ ดูเหตุผลของแต่ละไฟล์ใน results"}
    return {"error": error, "results": results}, 400


@bp.get(f"/documents/<{ID}:document_id>")
def document_result(document_id: int):
    """Return the parse result with the ids other calls take.

    Each letter gets its `letter_id` (for `source_letter_id` in `/routing/receipts`) and
    `field_ids`, the id of each field by name (for `/fields/<id>/correction`).
    """
    document = operations.get_visible_document(get_session(), g.user, document_id)
    result = operations.document_result(document)
    # `document_result` lists the letters in the order of `document.letters`.
    for letter, row in zip(document.letters, result.get("letters") or []):
        row["letter_id"] = letter.id
        row["field_ids"] = {letter_field.name: letter_field.id for letter_field in letter.fields}
    return result


@bp.post(f"/documents/<{ID}:document_id>/retry")
def retry_parse(document_id: int):
    """Queue the parse of a document whose latest job failed or timed out again, like the document page's button."""
    job = operations.retry_parse(get_session(), g.user, document_id)
    # Read before enqueueing, so the worker cannot have moved the job past `queued` yet.
    status = job_status(job)
    jobs.enqueue_parse(current_app._get_current_object(), job.id)
    return {"document_id": document_id, "job": status}, 202


@bp.get("/jobs/<job_id>")
def job(job_id: str):
    found = get_session().get(ParseJob, inputs.job_id(job_id))
    if found is None:
        raise NotFound("job_not_found", "ไม่พบงานอ่านเอกสารนี้", f"no parse job {job_id}")
    operations.require_document_access(g.user, found.document)
    return job_status(found)


@bp.post(f"/fields/<{ID}:field_id>/correction")
def correct_field(field_id: int):
    """Record a correction of one field: body `{"value": ...}` in the field's type of the parse contract."""
    body = inputs.json_body()
    if "value" not in body:
        raise InvalidValue("missing_value", "ต้องระบุช่อง “value” คือค่าที่ถูกต้องของช่องข้อมูลนี้",
                           "field 'value' is missing")
    session = get_session()
    letter_field = operations.get_letter_field(session, field_id)
    operations.get_visible_document(session, g.user, letter_field.letter.document_id)
    value = body["value"]
    # NOTE: `fields.validate_value` tests a choice with `value in choices`, which raises
    # TypeError for an object or array, so such a value is rejected here first.
    spec = letter_fields.spec_for(letter_field.name)
    if spec.kind == letter_fields.KIND_CHOICE and value is not None and not isinstance(value, str):
        raise InvalidValue("invalid_value", f"ช่อง “{spec.label}” ต้องเป็นค่าใดค่าหนึ่งจากรายการที่กำหนด",
                           f"field {letter_field.name!r} takes one of its choices, got {type(value).__name__}")
    correction = operations.correct_field(session, g.user, field_id, value)
    return {
        "field_id": field_id,
        "name": letter_field.name,
        "value": correction.new_value,
        "previous_value": correction.previous_value,
        "parsed_value": correction.parsed_value,
        "corrected_by": g.user.username,
        "corrected_at": moment(correction.corrected_at),
    }
