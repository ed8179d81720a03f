"""Shell: `kalc-formal lookup`, every packet one client lookup sends."""

from __future__ import annotations

import argparse

from kalc_formal.clients.resolvconf import (
    MAX_RESOLV_CONF_BYTES,
    Libc,
    ResolvConf,
    parse_resolv_conf,
    require_libc,
)
from kalc_formal.clients.resolver import (
    QTYPE_CHOICES,
    ClientReply,
    ReplyFunction,
    simulate_lookup,
)
from kalc_formal.errors import InvalidArgument
from kalc_formal.inputs.files import InputFile, read_input_file
from kalc_formal.source import Source, shown_lines
from kalc_formal.views.lookup import render_json, trace_text

REPLY_OPTIONS = (
    ("exists", "answer A and AAAA", (ClientReply.ANSWER, ClientReply.ANSWER)),
    ("a_only", "answer A, NODATA for AAAA", (ClientReply.ANSWER, ClientReply.NODATA)),
    ("nodata", "NODATA for A and AAAA", (ClientReply.NODATA, ClientReply.NODATA)),
    ("servfail", "SERVFAIL", (ClientReply.SERVFAIL, ClientReply.SERVFAIL)),
    ("timeout", "never answer", (ClientReply.TIMEOUT, ClientReply.TIMEOUT)),
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lookup",
        help="every packet one client lookup (getaddrinfo A+AAAA) sends",
        description="Simulate one lookup of NAME by glibc 2.36, musl 1.2.3 or Go 1.19's "
        "resolver under a resolv.conf: every packet sent to every nameserver, in order, "
        "retransmissions included, and the outcome. Names not listed below get NXDOMAIN; "
        "names are matched as FQDNs, a trailing dot optional.",
    )
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--resolv-conf", required=True, metavar="FILE")
    parser.add_argument("--libc", default="glibc", choices=[libc.value for libc in Libc])
    for dest, help_text, _replies in REPLY_OPTIONS:
        parser.add_argument(f"--{dest.replace('_', '-')}", dest=dest, action="append", default=[],
                            metavar="N", help=f"{help_text} for name N")
    parser.add_argument("--family", default="unspec", choices=["unspec", "inet", "inet6"],
                        help="address family asked for: A and AAAA (unspec, default), A only, AAAA only")
    parser.add_argument("--format", default="text", choices=["text", "json"])
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    conf = read_resolv_conf(args.resolv_conf)
    libc = require_libc(args.libc)
    qtypes = next(q for q, family in QTYPE_CHOICES.items() if family == args.family)
    trace = simulate_lookup(args.name, conf, libc, reply_table(args), qtypes=qtypes)
    settings = conf.settings(libc)
    if args.format == "json":
        print(render_json(trace, settings.ignored))
    else:
        print(shown_lines(trace_text(trace, conf, libc)))
    return 0


def read_resolv_conf(path: str) -> ResolvConf:
    """Read and check a resolv.conf file (bounded in size, UTF-8 or UTF-16 text)."""
    text, error = read_input_file(InputFile(path, path), max_bytes=MAX_RESOLV_CONF_BYTES)
    if error is not None:
        raise error
    assert text is not None
    return parse_resolv_conf(Source(path, text))


def reply_table(args: argparse.Namespace) -> ReplyFunction:
    """The replies the options ask for, by FQDN; everything else NXDOMAIN."""
    table: dict[str, tuple[ClientReply, ClientReply]] = {}
    for dest, _help, replies in REPLY_OPTIONS:
        for name in getattr(args, dest):
            key = _fqdn_key(name)
            if key in table and table[key] != replies:
                raise InvalidArgument(f"{name!r} is given two different replies")
            table[key] = replies

    def reply(qname: str, qtype: str, nameserver: str) -> ClientReply:
        pair = table.get(qname.lower())
        if pair is None:
            return ClientReply.NXDOMAIN
        return pair[0] if qtype == "A" else pair[1]

    return reply


def _fqdn_key(name: str) -> str:
    if not name or name == "." or any(c.isspace() for c in name):
        raise InvalidArgument(f"not a host name: {name!r}")
    return (name if name.endswith(".") else name + ".").lower()
