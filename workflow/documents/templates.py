"""Render the letter templates under `templates/letters/` with Jinja, outside any Flask app."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

# The web app reads its templates from the same folder at the repository root.
# NOTE: the folder is not package data, so this works from a source checkout or an editable
# install only, as the web app does.
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"
TEXT_TEMPLATE = "letters/external_letter.txt.j2"


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATE_DIR), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)


def render_text(parts: list) -> str:
    """Return the plain-text form of a letter from its parts (see `letter_parts`)."""
    by_kind = {part.kind: part for part in parts}
    return _environment().get_template(TEXT_TEMPLATE).render(parts=parts, part=by_kind.get)
