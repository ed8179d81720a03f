"""Report stage: how the text reports wrap their long lines."""

from __future__ import annotations

import textwrap

WIDTH = 100
"""The width the text reports wrap their sentences to."""


def wrap(text: str, first: str, rest: str) -> list[str]:
    """``text`` wrapped to ``WIDTH``: the first line indented by ``first``, the others by
    ``rest``; words (and hyphenated names, paths) are never broken."""
    return textwrap.wrap(
        text, width=WIDTH, initial_indent=first, subsequent_indent=rest,
        break_on_hyphens=False, break_long_words=False,
    )
