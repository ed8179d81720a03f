"""Reading plugin options as CoreDNS's setup functions do: the option lines of a
directive (caddy's Dispenser), argument checks with CoreDNS's messages, and Go's
value parsers raising ``Fail`` at the offending token.

Each plugin module reads its directives with a ``BlockContext``: the CoreDNS
version and the zones of the server block.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from kalc_formal import golang
from kalc_formal.coredns.corefile.keys import parse_server_key
from kalc_formal.coredns.corefile.model import Directive, Token
from kalc_formal.coredns.plugins.versions import CoreDNSVersion
from kalc_formal.source import Span


class Fail(Exception):
    """A plugin rejects its options: CoreDNS's message, at the offending token."""

    def __init__(self, span: Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message


class BlockContext:
    """What a plugin's setup sees of its server block: the CoreDNS version and the
    block's zones."""

    def __init__(self, version: CoreDNSVersion, key_zones: tuple[str, ...]) -> None:
        self.version = version
        self.key_zones = key_zones

    def zones(self, args: Sequence[Token]) -> tuple[str, ...]:
        """plugin.OriginsFromArgsOrServerBlock: the args' zones, else the block's."""
        if not args:
            return self.key_zones
        zones: list[str] = []
        for token in args:
            zones += normalize_exact(token.text)
        return tuple(zones)

    def at_least(self, version: str) -> bool:
        return self.version >= CoreDNSVersion.parse(version)


def normalize_exact(text: str) -> list[str]:
    """plugin.Host(text).NormalizeExact(): zones of a host, [] when it is invalid."""
    try:
        return [key.zone for key in parse_server_key(text, Span("", 0, 0))]
    except ValueError:
        return []


def fallthrough_zones(args: Sequence[Token]) -> tuple[str, ...]:
    """fall.SetZonesFromArgs: the zones given, or the root zone."""
    if not args:
        return (".",)
    zones: list[str] = []
    for token in args:
        zones += normalize_exact(token.text)
    return tuple(zones)


@dataclass(frozen=True, slots=True)
class Option:
    """One line of a plugin block: ``name`` then ``args``."""

    name: Token
    args: tuple[Token, ...]
    span: Span


def block_options(directive: Directive) -> Iterator[Option]:
    """The lines of a one-level plugin block, as Dispenser.NextBlock gives them.

    A nested block inside is read by such plugins as the property ``{``.
    """
    for line in directive.block or ():
        if line.block is not None or not line.tokens:
            raise Fail(line.span, "unknown property '{' (this plugin takes no nested block)")
        yield Option(line.tokens[0], line.tokens[1:], line.span)


def unread_rest(option: Option) -> Iterator[Option]:
    """The option, then its arguments as the next option, for properties whose setup
    case reads no arguments: Dispenser.NextBlock hands the next token over as the
    next property."""
    yield Option(option.name, (), option.span)
    if option.args:
        yield Option(option.args[0], option.args[1:], option.args[0].span)


def lines_as_read(directive: Directive, flags: frozenset[str]) -> Iterator[Option]:
    """``block_options``, with the arguments of the properties in ``flags`` read as the next
    property."""
    for option in block_options(directive):
        if option.name.text in flags:
            yield from unread_rest(option)
        else:
            yield option


def no_block(directive: Directive) -> None:
    """For plugins whose setup reads the next argument after the name: a block's ``{``
    is that argument, and Dispenser.ArgErr reports it."""
    if directive.block is not None:
        raise Fail(directive.span, "Unexpected token '{', expecting argument")


def arg_error(token: Token | Directive) -> Fail:
    text = token.name if isinstance(token, Directive) else token.text
    return Fail(token.span, f"Wrong argument count or unexpected line ending after '{text}'")


def last_arg(directive: Directive) -> Token | Directive:
    return directive.args[-1] if directive.args else directive


def option_last(option: Option) -> Token:
    return option.args[-1] if option.args else option.name


def unknown_property(option: Option) -> Fail:
    return Fail(option.name.span, f"unknown property '{option.name.text}'")


def in_releases(reader: BlockContext, releases: str) -> bool:
    """Whether the reader's version is in ``releases``: "1.4.0" (since) or "1.0.0-1.6.9"."""
    low, _, high = releases.partition("-")
    return reader.at_least(low) and (not high or reader.version <= CoreDNSVersion.parse(high))


H = TypeVar("H")


def handler_for(reader: BlockContext, option: Option, table: Mapping[str, tuple[str, H]]) -> H | None:
    """The handler of ``option`` if the reader's version has that option."""
    entry = table.get(option.name.text)
    if entry is None or not in_releases(reader, entry[0]):
        return None
    return entry[1]


# ---- values, read with Go's parsers (kalc_formal.golang) ---------------------------------


def go_atoi(token: Token) -> int:
    """strconv.Atoi."""
    try:
        return golang.atoi(token.text)
    except ValueError as error:
        raise Fail(token.span, str(error)) from None


def go_parse_uint32(token: Token) -> int:
    """strconv.ParseUint(text, 10, 32)."""
    try:
        return golang.parse_uint(token.text, 32)
    except ValueError as error:
        raise Fail(token.span, str(error)) from None


def go_duration(token: Token) -> float:
    """time.ParseDuration, in seconds."""
    try:
        return golang.parse_duration(token.text)
    except ValueError as error:
        raise Fail(token.span, str(error)) from None


RCODES = (
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI", "BADSIG", "BADKEY", "BADTIME", "BADMODE",
    "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
)
"""miekg/dns StringToRcode keys (v1.1.72)."""
QTYPES = frozenset(
    ["A", "AAAA", "AFSDB", "AMTRELAY", "ANY", "APL", "ATMA", "AVC", "AXFR", "CAA", "CDNSKEY", "CDS", "CERT", "CNAME", "CSYNC", "DHCID", "DLV", "DNAME", "DNSKEY", "DS", "EID", "EUI48", "EUI64", "GID", "GPOS", "HINFO", "HIP", "HTTPS", "IPSECKEY", "ISDN", "IXFR", "KEY", "KX", "L32", "L64", "LOC", "LP", "MAILA", "MAILB", "MB", "MD", "MF", "MG", "MINFO", "MR", "MX", "NAPTR", "NID", "NIMLOC", "NINFO", "NS", "NSEC", "NSEC3", "NSEC3PARAM", "NULL", "NXNAME", "NXT", "OPENPGPKEY", "OPT", "PTR", "PX", "RESINFO", "RKEY", "RP", "RRSIG", "RT", "SIG", "SMIMEA", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TA", "TALINK", "TKEY", "TLSA", "TSIG", "TXT", "UID", "UINFO", "UNSPEC", "URI", "X25", "ZONEMD", "NSAP-PTR", "None", "Reserved"]
)
"""miekg/dns StringToType keys (v1.1.72)."""
QCLASSES = frozenset({"IN", "CS", "CH", "HS", "NONE", "ANY"})


def rcode(token: Token) -> str:
    upper = token.text.upper()
    if upper not in RCODES:
        raise Fail(token.span, f"{token.text} is not a valid rcode")
    return upper


def host_port_address(token: Token) -> str:
    """A listen address: host:port as net.SplitHostPort reads it."""
    try:
        golang.split_host_port(token.text)
    except ValueError as error:
        raise Fail(token.span, str(error)) from None
    return token.text


def no_args(option: Option) -> None:
    if option.args:
        raise arg_error(option.args[-1])


def some_args(option: Option) -> None:
    if not option.args:
        raise arg_error(option.name)


def arg_count(option: Option, *counts: int) -> None:
    if len(option.args) not in counts:
        raise arg_error(option_last(option))


def normalized_name(token: Token) -> str:
    """plugin.Name(text).Normalize(): lower case, fully qualified."""
    name = token.text
    return (name if name.endswith(".") else name + ".").lower()


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False) if "/" in text else None
    except ValueError:
        return None


