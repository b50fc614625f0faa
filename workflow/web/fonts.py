"""Serve the Sarabun font from the `fontpkg-sarabun` package when it is installed.

Without it the style sheet falls back to the Thai fonts of the reader's system.
"""

from __future__ import annotations

from flask import Blueprint, abort, send_from_directory

bp = Blueprint("fonts", __name__, url_prefix="/fonts")

SERVED_FILES = frozenset({"Sarabun-Regular.ttf", "Sarabun-Bold.ttf", "Sarabun-SemiBold.ttf"})


@bp.get("/<name>")
def font(name: str):
    if name not in SERVED_FILES:
        abort(404)
    try:
        import fontpkg_sarabun
    except ImportError:
        abort(404)
    return send_from_directory(fontpkg_sarabun.ROOT / "files", name, max_age=86400)
