"""QR codes for the confirmation link printed on a covering letter."""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M

# Level M recovers about 15 % of damaged modules: enough for a photocopied or stamped page.
ERROR_CORRECTION = ERROR_CORRECT_M
# The blank border the QR standard (ISO/IEC 18004) requires around the code, in modules.
QUIET_ZONE = 4


def qr_matrix(url: str) -> list[list[bool]]:
    """Return the QR code of `url` as rows of modules (True is dark), without the quiet zone."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=0)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_png(url: str, box_size: int = 10) -> bytes:
    """Return the QR code of `url` as a PNG with its quiet zone, `box_size` pixels per module."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE, box_size=box_size)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
