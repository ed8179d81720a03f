"""Input stage: recognise template placeholders in manifest and Corefile text.

A placeholder is text that a template engine or an install script replaces
before the file means anything: Helm/Go ``{{ }}``, Jinja ``{% %}``/``{# #}``,
NodeLocal DNSCache ``__PILLAR__X__``, other ``__X__`` tokens, k3s ``%{X}%``,
envsubst ``$X``/``${X}``, ``<x>`` and sed-style ``CLUSTER_DNS_IP`` names.
Which styles count depends on where the text is (the *context*): a shell
``$HOME`` in a container command is not a placeholder, a ``$X`` in a
nameserver list is.

>>> [p.text for p in find_placeholders("kubernetes %{CLUSTER_DOMAIN}% {$ENV}", COREFILE)]
['%{CLUSTER_DOMAIN}%']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ANY",
    "COREFILE",
    "RAW",
    "STRICT",
    "TYPED",
    "UNAMBIGUOUS",
    "Placeholder",
    "find_placeholders",
    "might_hold_placeholders",
    "template_message",
]

_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("go", re.compile(r"\{\{(?:[^\n]*?\}\})?")),
    (
        "jinja",
        re.compile(
            r"\{%(?![A-Za-z_][A-Za-z0-9_]*%\})(?:[^\n]*?%\})?|\{#(?:[^\n]*?#\})?"
        ),
    ),
    ("pillar", re.compile(r"__PILLAR__[A-Z0-9]+(?:_{1,2}[A-Z0-9]+)*__")),
    (
        "dunder",
        re.compile(
            r"(?<![A-Za-z0-9_])__[A-Z][A-Z0-9]*(?:_{1,2}[A-Z0-9]+)*__(?![A-Za-z0-9_])"
        ),
    ),
    ("k3s", re.compile(r"%\{[A-Za-z_][A-Za-z0-9_]*\}%")),
    (
        "shell",
        re.compile(
            r"(?<![{$\\\w])\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)"
        ),
    ),
    ("angle", re.compile(r"<[A-Za-z_][A-Za-z0-9_.-]*>")),
    (
        "sed",
        re.compile(
            r"(?<![A-Za-z0-9_$%{.-])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![A-Za-z0-9_}%.-])"
        ),
    ),
)

UNAMBIGUOUS = frozenset({"pillar", "dunder", "k3s"})
"""Styles that are placeholders wherever they appear."""
ANY = UNAMBIGUOUS | {"go", "jinja"}
"""Styles that are placeholders in any field kalc-formal reads."""
RAW = frozenset(ANY | {"raw"})
"""Styles looked for in text that is not valid YAML (whole-line comments skipped)."""
TYPED = ANY | {"shell", "angle"}
"""Styles that are placeholders in fields with a fixed format (images, options)."""
STRICT = TYPED | {"sed"}
"""Styles that are placeholders in names, IP addresses and search domains."""
COREFILE = frozenset(STRICT | {"corefile"})
"""STRICT, in Corefile text: quoted tokens, comments and ``{$ENV}`` are skipped."""

_WHAT = {
    "go": "a Go/Helm (or Jinja) template expression",
    "jinja": "a Jinja template expression",
    "pillar": "an unfilled NodeLocal DNSCache __PILLAR__ placeholder",
    "dunder": "an unfilled __NAME__ placeholder",
    "k3s": "an unfilled k3s %{NAME}% placeholder",
    "shell": "an unfilled $NAME placeholder",
    "angle": "an unfilled <name> placeholder",
    "sed": "an unfilled placeholder name",
}
_HOW = {
    "go": "render it first, e.g. with `helm template` (or the step of its installer that renders it)",
    "jinja": "render it first with its Jinja/Ansible templates",
    "pillar": "substitute the cluster domain, the kube-dns ClusterIP and the local IP first, as the NodeLocal DNSCache install steps do (sed)",
    "dunder": "substitute the placeholders first, as the file's install script does",
    "k3s": "k3s fills these in when it deploys the file: use the deployed manifest",
    "shell": "substitute the variables first, e.g. with `envsubst`",
    "angle": "fill in the placeholders first",
    "sed": "substitute the placeholders first, as the file's install script does (sed)",
}
_COMMENT_LINE = re.compile(r"^[ \t]*#[^\n]*", re.M)
_ANY_STYLE = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern in _STYLES))


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A placeholder found in a file: its text, style and 1-based position."""

    text: str
    style: str
    line: int
    column: int


def find_placeholders(
    text: str, context: frozenset[str], *, line: int = 1, column: int = 1
) -> list[Placeholder]:
    """The placeholders in ``text`` that count in ``context``, in text order.

    ``line``/``column`` give the file position of the text's first character.
    """
    if "corefile" in context:
        text = _mask_corefile(text)
    elif "raw" in context:
        text = _COMMENT_LINE.sub(lambda m: " " * len(m.group()), text)
    matches: list[tuple[int, int, int, str, str]] = []
    for priority, (style, pattern) in enumerate(_STYLES):
        if style in context:
            matches.extend(
                (m.start(), priority, m.end(), style, m.group())
                for m in pattern.finditer(text)
            )
    found: list[Placeholder] = []
    end = -1
    for start, _, stop, style, matched in sorted(matches):
        if start < end:
            continue
        end = stop
        at_line, at_column = _position(text, start, line, column)
        found.append(Placeholder(_short(matched), style, at_line, at_column))
    return found


_MARKERS = re.compile(r"\{\{|\{%|\{#|%\{|_|\$|<")
"""Text every placeholder style holds at least one of: go, jinja, k3s, the names with
an underscore (pillar, dunder, sed), shell, angle (one search, much cheaper than
:data:`_ANY_STYLE`'s)."""


def might_hold_placeholders(text: str) -> bool:
    """A quick test: False means ``text`` has no placeholder in any context."""
    return _MARKERS.search(text) is not None and _ANY_STYLE.search(text) is not None


def template_message(placeholders: Sequence[Placeholder]) -> str:
    """The message for a file whose first placeholder is ``placeholders[0]``.

    ``{{ }}`` is shared by Go/Helm and Jinja templates; a file with Jinja tags
    as well is described as Jinja.
    """
    first = placeholders[0]
    style = first.style
    if style == "go" and any(p.style == "jinja" for p in placeholders):
        style = "jinja"
    if style in ("go", "jinja"):
        count = len(placeholders)
        listing = f"{count} template expression{'s' if count > 1 else ''} found"
    else:
        names = list(dict.fromkeys(p.text for p in placeholders))
        listing = (
            "placeholders: "
            + ", ".join(names[:8])
            + (f" (+{len(names) - 8} more)" if len(names) > 8 else "")
        )
    return (
        f"this file is a template, not a rendered manifest: {_WHAT[style]} "
        f"`{first.text}`; {_HOW[style]} ({listing})"
    )


def _position(text: str, offset: int, line: int, column: int) -> tuple[int, int]:
    breaks = text.count("\n", 0, offset)
    if breaks == 0:
        return line, column + offset
    return line + breaks, offset - text.rfind("\n", 0, offset)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _mask_corefile(text: str) -> str:
    """``text`` with quoted tokens, comments and ``{$X}``/``{%X%}`` blanked.

    Follows the Corefile lexer (A2, A3, A14): a token that starts with ``"``
    runs to the next unescaped ``"`` (across lines); an unquoted ``#`` starts
    a comment to the end of the line.
    """
    out = list(text)
    quoted = False
    comment = False
    previous = "\n"
    for index, char in enumerate(text):
        if char == "\n":
            comment = False
        elif quoted:
            out[index] = " "
            if char == '"' and previous != "\\":
                quoted = False
        elif comment or char == "#":
            comment = True
            out[index] = " "
        elif char == '"' and previous in " \t\n":
            quoted = True
            out[index] = " "
        previous = char
    masked = "".join(out)
    return re.sub(
        r"\{\$[A-Za-z_][A-Za-z0-9_]*\}|\{%[A-Za-z_][A-Za-z0-9_]*%\}",
        lambda m: " " * len(m.group()),
        masked,
    )
