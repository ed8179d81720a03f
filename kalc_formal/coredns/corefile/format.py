"""Writing a Corefile model back as canonical Corefile text."""

from __future__ import annotations

import re

from kalc_formal.coredns.corefile.lexer import GO_SPACE, replace_env
from kalc_formal.coredns.corefile.model import BlockLine, Corefile
from kalc_formal.errors import InvalidArgument
from kalc_formal.source import Span


def format_corefile(corefile: Corefile) -> str:
    """Canonical text: keys as normalized zones, one directive per line, 4-space
    indentation, tokens quoted only when needed, a blank line between blocks.

    Raises InvalidArgument for a token that no Corefile text can express (for
    example a ``{`` that is not a brace, which only an environment variable can
    produce).
    """
    parts = []
    for block in corefile.blocks:
        lines = [" ".join(_written(key.text, key.span) for key in block.keys) + " {"]
        for directive in block.directives:
            head = [_written_first(directive.name, directive.span)]
            head += [_written(token.text, token.span) for token in directive.args]
            lines += _formatted_line(head, directive.block, 1)
        lines.append("}")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def quote_token(text: str) -> str:
    """``text`` as a Corefile token: bare when possible, else in quotes.

    Raises InvalidArgument when CoreDNS cannot read any spelling back as ``text``.
    """
    return _written(text, None)


# ---- formatting ----------------------------------------------------------------------


def _formatted_line(head: list[str], block: tuple[BlockLine, ...] | None, depth: int) -> list[str]:
    indent = "    " * depth
    if block is None:
        return [indent + " ".join(head)]
    lines = [indent + " ".join([*head, "{"])]
    for line in block:
        words = [_written(token.text, token.span) for token in line.tokens]
        if line.tokens:
            words[0] = _written_first(line.tokens[0].text, line.tokens[0].span)
        lines += _formatted_line(words, line.block, depth + 1)
    lines.append(indent + "}")
    return lines


def _written_first(text: str, span: Span | None) -> str:
    """A token that starts a line, where ``import`` would be expanded (A16)."""
    if text == "import":
        where = f" (at {span})" if span is not None else ""
        raise InvalidArgument(f"the token 'import'{where} would be read as an import at the start of a line")
    return _written(text, span)


_NEEDS_QUOTES = re.compile(f'[{re.escape(GO_SPACE)}#]|^["\ufeff]')


def _written(text: str, span: Span | None) -> str:
    where = f" (at {span})" if span is not None else ""
    if text in ("{", "}"):
        raise InvalidArgument(f"the token {text!r}{where} would be read as a brace")
    try:
        unchanged = replace_env(text, {}) == text
    except ValueError:
        unchanged = False
    if not unchanged:
        raise InvalidArgument(f"the token {text!r}{where} would be read as an environment reference")
    if text and not _NEEDS_QUOTES.search(text):
        return text
    out = ['"']
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            if index + 1 == len(text) or text[index + 1] == '"':
                raise InvalidArgument(f"the token {text!r}{where} has no quoted spelling")
            out.append(text[index : index + 2])
            index += 1
        else:
            out.append(char)
        index += 1
    out.append('"')
    return "".join(out)
