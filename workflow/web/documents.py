"""Screens: the document list, the upload page, a document with its letters, corrections."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, send_file, url_for

from workflow import crops, jobs, operations
from workflow import fields as letter_fields
from workflow.app import get_session, get_store
from workflow.errors import NotFound, UploadRejected, WorkflowError
from workflow.models import JOB_FAILED, Letter
from workflow.web.auth import login_required
from workflow.web.textspans import text_segments

log = logging.getLogger(__name__)
bp = Blueprint("documents", __name__)

PDF_MAGIC = b"%PDF-"
# Served files are data, never a page: a browser that opens one anyway runs no script,
# loads nothing and treats it as a sandboxed document of a unique origin.
FILE_CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"


@bp.app_context_processor
def _inject_form_helpers():
    return {"form_values": letter_fields.form_values, "ITEM_INPUTS": letter_fields.ITEM_INPUTS,
            "is_circular": is_circular, "crop_warnings": crop_warnings}


def is_crop_warning(warning) -> bool:
    """Return whether a warning names a page box that a crop of the original can show."""
    try:
        crops.crop_geometry(warning)
    except crops.CropUnavailable:
        return False
    return True


def crop_warnings(warnings: list) -> dict[str, list[int]]:
    """Map each top-level field name to the indexes of its warnings that have a crop.

    A warning about `references[0].date` belongs to the field `references`.
    """
    by_field: dict[str, list[int]] = {}
    for index, warning in enumerate(warnings or []):
        if is_crop_warning(warning) and isinstance(warning.get("field"), str):
            name = re.split(r"[.\[]", warning["field"], maxsplit=1)[0]
            by_field.setdefault(name, []).append(index)
    return by_field


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
        may_retry=operations.may_retry_parse(g.user, document),
        is_crop_warning=is_crop_warning,
        crop_url=crop_url,
        rejected_field_id=rejected_field_id,
        saved_field_id=request.args.get("saved", type=int),
        field_error=error,
        typed_values=request.form if error is not None else None,
    )
    return page if error is None else (page, error.http_status)


def crop_url(source: tuple[str, int], index: int) -> str:
    """Return the URL of the crop of warning `index` of a letter (`("letter", id)`) or a document."""
    kind, owner_id = source
    if kind == "letter":
        return url_for("documents.letter_warning_crop", letter_id=owner_id, index=index)
    return url_for("documents.document_warning_crop", document_id=owner_id, index=index)


def _may_correct(document) -> bool:
    user = g.user
    return user.role in operations.CORRECTING_ROLES and document.organization_id == user.organization_id


def protect_file_response(response: Response) -> Response:
    """Add the headers every served upload or crop carries, so that no browser runs or sniffs it."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def stored_original_path(document):
    """Return the path of the document's stored original; raises NotFound when the file is gone."""
    path = get_store().path_for(document.sha256)
    if not path.is_file():
        log.error("document %d: stored original %s is missing from %s", document.id, document.sha256, path)
        raise NotFound(
            "original_missing",
            "ไม่พบไฟล์ต้นฉบับของเอกสารนี้ในที่เก็บไฟล์ กรุณาแจ้งผู้ดูแลระบบให้กู้คืนจากสำเนาสำรอง",
            f"document {document.id}: no stored original at {path}",
        )
    return path


@bp.get("/documents/<int:document_id>/original")
@login_required
def original(document_id: int):
    """Send the stored original as a download, never shown in the browser's window."""
    document = operations.get_visible_document(get_session(), g.user, document_id)
    path = stored_original_path(document)
    with open(path, "rb") as handle:
        head = handle.read(len(PDF_MAGIC))
    # The type comes from the content, not the name: only a real PDF is labelled as one.
    mimetype = "application/pdf" if head == PDF_MAGIC else "application/octet-stream"
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=document.filename)
    return protect_file_response(response)


@bp.post("/documents/<int:document_id>/retry")
@login_required
def retry(document_id: int):
    """Queue the parse of a document whose job failed again; the original is read anew."""
    job = operations.retry_parse(get_session(), g.user, document_id)
    jobs.enqueue_parse(current_app._get_current_object(), job.id)
    flash("ส่งเอกสารเข้าคิวอ่านอีกครั้งแล้ว", "success")
    return redirect(url_for("documents.show", document_id=document_id))


def _crop_response(document, warnings: list, index: int) -> Response:
    if not 0 <= index < len(warnings or []):
        raise NotFound("warning_not_found", "ไม่พบข้อสังเกตนี้", f"document {document.id} has no warning {index}")
    data = stored_original_path(document).read_bytes()
    png = crops.render_crop(data, warnings[index])
    response = protect_file_response(Response(png, mimetype="image/png"))
    # A letter's warnings and its original never change after the parse, so the browser may
    # keep the crop; it stays in that user's own cache only.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/letters/<int:letter_id>/warnings/<int:index>/crop.png")
@login_required
def letter_warning_crop(letter_id: int, index: int):
    """Send the image of a letter's low-confidence value, cut from its original."""
    session = get_session()
    letter = session.get(Letter, letter_id)
    if letter is None:
        raise NotFound("letter_not_found", "ไม่พบหนังสือนี้", f"no letter {letter_id}")
    document = operations.get_visible_document(session, g.user, letter.document_id)
    return _crop_response(document, letter.warnings, index)


@bp.get("/documents/<int:document_id>/warnings/<int:index>/crop.png")
@login_required
def document_warning_crop(document_id: int, index: int):
    """Send the image of a file-level low-confidence value (on a page no letter covers)."""
    document = operations.get_visible_document(get_session(), g.user, document_id)
    return _crop_response(document, document.warnings, index)


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
