"""Input stage: read a CoreDNS Corefile into a typed model, and write one back.

The reader follows CoreDNS's parser (the coredns/caddy fork of the Caddy v1
caddyfile package) in three steps:

1. lex the text into tokens with the terminals of ``grammars/corefile.lark``
   (facts A1-A6);
2. expand environment variables, snippets and imports on the token stream the
   way ``caddyfile/parse.go`` does (A14-A16), and mark the new lines its parser
   sees;
3. parse the expanded stream with the LALR grammar of the same file into server
   blocks, keys, directives and nested blocks (A7-A10), then read the keys into
   zones and ports (A19-A22).

Modules: ``lexer`` (step 1), ``expand`` (step 2), ``parse`` and ``keys`` (step 3),
``model`` (the result), ``format`` (writing one back), ``limits`` (bounds on a parse).

>>> from kalc_formal.source import Source
>>> corefile = parse_corefile(Source("Corefile", ".:53 {\\n    forward . 8.8.8.8\\n}\\n"))
>>> corefile.blocks[0].keys[0].zone, corefile.blocks[0].directives[0].name
('.', 'forward')
>>> print(format_corefile(corefile), end="")
.:53 {
    forward . 8.8.8.8
}
"""

from kalc_formal.coredns.corefile.format import format_corefile, quote_token
from kalc_formal.coredns.corefile.keys import (
    DEFAULT_PORTS,
    DNS_PORT,
    TRANSPORT_SCHEMES,
    parse_server_key,
    reverse_zones,
)
from kalc_formal.coredns.corefile.lexer import replace_env
from kalc_formal.coredns.corefile.model import (
    BlockLine,
    Corefile,
    Directive,
    ServerBlock,
    ServerKey,
    Token,
)
from kalc_formal.coredns.corefile.parse import load_corefile, parse_corefile

__all__ = [
    "DEFAULT_PORTS",
    "DNS_PORT",
    "TRANSPORT_SCHEMES",
    "BlockLine",
    "Corefile",
    "Directive",
    "ServerBlock",
    "ServerKey",
    "Token",
    "format_corefile",
    "load_corefile",
    "parse_corefile",
    "parse_server_key",
    "quote_token",
    "replace_env",
    "reverse_zones",
]
