"""Screens: the document list, the upload page, a document with its letters, corrections."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, send_file, url_for

from workflow import fields as letter_fields
from workflow import jobs, operations
from workflow.app import get_session, get_store
from workflow.errors import UploadRejected, WorkflowError
from workflow.models import JOB_FAILED, Letter
from workflow.web.auth import login_required
from workflow.web.textspans import text_segments

bp = Blueprint("documents", __name__)

PDF_MAGIC = b"%PDF-"


@bp.app_context_processor
def _inject_form_helpers():
    return {"form_values": letter_fields.form_values, "ITEM_INPUTS": letter_fields.ITEM_INPUTS,
            "is_circular": is_circular}


def is_circular(document) -> bool:
    """Return whether the document's first letter has a circular's number (ว before the serial)."""
    if not document.letters:
        return False
    number = next((f.value for f in document.letters[0].fields if f.name == "doc_number"), None)
    return isinstance(number, dict) and bool(number.get("circular"))


@bp.get("/")
def home():
    return redirect(url_for("documents.index"))


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def requested_page() -> int:
    """Return the `page` query argument, or 1 when it is missing or not a whole number."""
    return request.args.get("page", 1, type=int) or 1


@bp.get("/documents")
@login_required
def index():
    listing = operations.list_documents(get_session(), g.user, requested_page())
    return render_template("documents.html", listing=listing, documents=listing.documents)


def ingest_files(files) -> list[dict]:
    """Ingest each uploaded file and enqueue its parse job; return one outcome per file."""
    outcomes = []
    session = get_session()
    max_bytes = current_app.config["SARABAN_MAX_UPLOAD_BYTES"]
    for upload in files:
        filename = upload.filename or ""
        data = upload.read(max_bytes + 1)
        try:
            result = operations.ingest_upload(session, get_store(), data, filename, g.user, max_bytes)
        except UploadRejected as error:
            outcomes.append({"filename": filename, "error": error})
            continue
        if result.created:
            jobs.enqueue_parse(current_app._get_current_object(), result.job.id)
        outcomes.append({"filename": filename, "document": result.document, "created": result.created})
    return outcomes


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload():
    if request.method == "GET":
        return render_template("upload.html")
    files = [f for f in request.files.getlist("files") if f.filename]
    if not files:
        error = UploadRejected("no_file", "กรุณาเลือกไฟล์อย่างน้อยหนึ่งไฟล์", "upload form sent no file")
        return render_template("upload.html", form_error=error), 400
    outcomes = ingest_files(files)
    if len(outcomes) == 1 and "document" in outcomes[0]:
        return redirect(url_for("documents.show", document_id=outcomes[0]["document"].id))
    status = 400 if all("error" in outcome for outcome in outcomes) else 200
    return render_template("upload.html", outcomes=outcomes), status


@bp.get("/documents/<int:document_id>")
@login_required
def show(document_id: int):
    document = operations.get_visible_document(get_session(), g.user, document_id)
    return render_document(document)


def render_document(document, rejected_field_id: int | None = None, error: WorkflowError | None = None):
    """Render the document page; after a rejected correction, that field's form shows the error and what was typed."""
    job = document.latest_job
    page = render_template(
        "document.html",
        document=document,
        job=job,
        failed=job is not None and job.status == JOB_FAILED,
        segments_for=lambda letter: text_segments(letter.text, letter.spans),
        may_correct=_may_correct(document),
        rejected_field_id=rejected_field_id,
        saved_field_id=request.args.get("saved", type=int),
        field_error=error,
        typed_values=request.form if error is not None else None,
    )
    return page if error is None else (page, error.http_status)


def _may_correct(document) -> bool:
    user = g.user
    return user.role in operations.CORRECTING_ROLES and document.organization_id == user.organization_id


@bp.get("/documents/<int:document_id>/original")
@login_required
def original(document_id: int):
    document = operations.get_visible_document(get_session(), g.user, document_id)
    path = get_store().path_for(document.sha256)
    with open(path, "rb") as handle:
        head = handle.read(len(PDF_MAGIC))
    # Judge by content: a file that is not a PDF is offered as a download, never rendered.
    if head == PDF_MAGIC:
        response = send_file(path, mimetype="application/pdf", download_name=document.filename)
    else:
        response = send_file(
            path, mimetype="application/octet-stream", as_attachment=True, download_name=document.filename
        )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/fields/<int:field_id>/correct")
@login_required
def correct(field_id: int):
    session = get_session()
    letter_field = operations.get_letter_field(session, field_id)
    letter: Letter = letter_field.letter
    document = operations.get_visible_document(session, g.user, letter.document_id)
    try:
        value = letter_fields.value_from_form(letter_field.name, request.form, letter_field.value)
        operations.correct_field(session, g.user, field_id, value)
    except WorkflowError as error:
        # Show the page again, not a redirect, so that the form keeps what was typed.
        return render_document(document, rejected_field_id=field_id, error=error)
    flash(f"บันทึกการแก้ไขช่อง “{letter_fields.spec_for(letter_field.name).label}” แล้ว", "success")
    target = url_for("documents.show", document_id=letter.document_id, saved=field_id, _anchor=f"field-{field_id}")
    return redirect(target)
