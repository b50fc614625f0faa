"""`/api/v1/ecms`: import a TH e-GIF GovernmentDocument message, export a stored letter as one."""

from __future__ import annotations

from flask import Response, current_app, g, request

from workflow import operations
from workflow.app import get_session, get_store
from workflow.errors import InvalidValue, NotFound
from workflow.integration.ecms_codes import load_code_table
from workflow.integration.ecms_exchange import export_letter, import_message
from workflow.models import Letter
from workflow.routing.access import require_role
from workflow.routing.operations import RECEIVING_ROLES
from workflow.web.api_v1 import bp
from workflow.web.api_v1.inputs import ID

XML_TYPES = ("application/xml", "text/xml")


@bp.post("/ecms/messages")
def import_ecms():
    """Store, parse and register the letter of an e-CMS message sent as the XML body.

    The letter goes into the token user's office's receipt register, so the answer carries
    the AcceptLetterNotifier with the receipt number.
    """
    # Checked first: the import stores the files before it registers the receipt.
    # NOTE: a receipt rejected for another reason after that still leaves the stored and parsed
    # document, as `saraban ecms import --user` does; the receipt register is unchanged.
    require_role(g.user, RECEIVING_ROLES, "ลงรับหนังสือจาก e-CMS", "import e-CMS letters")
    if request.mimetype not in XML_TYPES:
        raise InvalidValue(
            "unsupported_media_type", "กรุณาส่งข้อความ e-CMS เป็น XML พร้อมส่วนหัว Content-Type: application/xml",
            f"request body of type {request.mimetype!r}, expected application/xml",
        )
    max_bytes = current_app.config["SARABAN_MAX_UPLOAD_BYTES"]
    imported = import_message(get_session(), get_store(), request.get_data(), load_code_table(), max_bytes,
                              user=g.user)
    return {
        "result": imported.result,
        "letter": imported.letter,
        "created": imported.created,
        "receipt_number": imported.receipt_number,
        "notifier": imported.notifier.decode("utf-8"),
    }, 201 if imported.created else 200


@bp.get(f"/ecms/letters/<{ID}:letter_id>")
def export_ecms(letter_id: int):
    """Return a parsed letter the user may see as an e-CMS GovernmentDocument message (XML)."""
    session = get_session()
    letter = session.get(Letter, letter_id)
    if letter is None:
        raise NotFound("letter_not_found", f"ไม่พบหนังสือเลขที่ {letter_id}", f"no letter {letter_id}")
    operations.require_document_access(g.user, letter.document)
    data = export_letter(session, get_store(), letter_id, load_code_table())
    return Response(data, mimetype="application/xml")
