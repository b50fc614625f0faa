"""Split repaired text into letters and parse every part of each.

STUB: replaced by the full module.
"""


def parse_letters(text: str) -> list[dict]:
    """Return one LETTER dict (letter-json.md) per letter found in `text`.

    Pages in `text` are separated by form feeds; each letter's `pages` counts them.
    """
    return []
