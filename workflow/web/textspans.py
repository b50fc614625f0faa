"""Cut a letter's text into pieces at span boundaries, each with the names of the spans that cover it."""

from __future__ import annotations

from typing import Any


def text_segments(text: str, spans: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Return (piece of text, names of the spans covering it) in text order.

    Spans may overlap or nest; spans that fall outside the text or are not a
    [start, end] pair of integers are ignored.
    """
    valid = {}
    for name, span in (spans or {}).items():
        if (
            isinstance(span, (list, tuple))
            and len(span) == 2
            and all(isinstance(x, int) for x in span)
            and 0 <= span[0] < span[1] <= len(text)
        ):
            valid[name] = span
    cuts = sorted({0, len(text), *(s for span in valid.values() for s in span)})
    segments = []
    for start, end in zip(cuts, cuts[1:]):
        covering = [name for name, (s, e) in valid.items() if s <= start and end <= e]
        segments.append((text[start:end], covering))
    return segments
