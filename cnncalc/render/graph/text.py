"""What every writer does to text from a spec before escaping it for its format."""

from __future__ import annotations

import unicodedata

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def visible(text: str) -> str:
    """The text with every control, format, surrogate, private-use or unassigned character (Unicode category C:
    a newline, a bidirectional override, a lone surrogate) replaced by U+FFFD, so that a name can neither break
    a line of the output nor reorder what is drawn after it; letters of every script are kept."""
    return "".join(REPLACEMENT if unicodedata.category(char).startswith("C") else char for char in text)
