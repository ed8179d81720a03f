"""DNS messages for the real-CoreDNS experiments (stdlib only): queries, replies with
TTLs, and the few fields of a reply the experiments read."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

QTYPES = {"A": 1, "NS": 2, "SOA": 6, "AAAA": 28}
QTYPE_NAMES = {number: name for name, number in QTYPES.items()}
RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\x00"


def build_query(ident: int, qname: str, qtype: str) -> bytes:
    header = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    return header + encode_name(qname) + struct.pack("!HH", QTYPES[qtype], 1)


def _read_name(packet: bytes, offset: int) -> tuple[str, int]:
    labels: list[str] = []
    end = -1
    for _ in range(128):
        length = packet[offset]
        if length >= 0xC0:
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | packet[offset + 1]
            continue
        offset += 1
        if length == 0:
            break
        labels.append(packet[offset : offset + length].decode("ascii", "replace"))
        offset += length
    return ".".join(labels).lower() + ".", (end if end >= 0 else offset)


def parse_question(packet: bytes) -> tuple[int, int, str, str, int]:
    """(id, flags, qname with a trailing dot, qtype name, end of the question)."""
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount < 1:
        raise ValueError("no question")
    qname, offset = _read_name(packet, 12)
    qtype, _qclass = struct.unpack("!HH", packet[offset : offset + 4])
    return ident, flags, qname, QTYPE_NAMES.get(qtype, str(qtype)), offset + 4


@dataclass(frozen=True)
class ParsedReply:
    ident: int
    rcode: str
    answers: int
    ttl: int | None
    """The first answer's TTL, else the first authority record's (the SOA)."""


def parse_reply(packet: bytes) -> ParsedReply:
    ident, flags, qdcount, ancount, nscount, _ar = struct.unpack("!HHHHHH", packet[:12])
    offset = 12
    for _ in range(qdcount):
        _name, offset = _read_name(packet, offset)
        offset += 4
    ttl = None
    for _ in range(ancount + nscount):
        _name, offset = _read_name(packet, offset)
        _type, _class, record_ttl, length = struct.unpack("!HHIH", packet[offset : offset + 10])
        if ttl is None:
            ttl = record_ttl
        offset += 10 + length
    return ParsedReply(ident, RCODES.get(flags & 0xF, str(flags & 0xF)), ancount, ttl)


def soa_record(zone: str, ttl: int) -> bytes:
    rdata = encode_name(f"ns.{zone}") + encode_name(f"host.{zone}") + struct.pack(
        "!IIIII", 1, 60, 60, 60, ttl
    )
    return encode_name(zone) + struct.pack("!HHIH", 6, 1, ttl, len(rdata)) + rdata


def build_reply(query: bytes, kind: str, ttl: int) -> bytes:
    """A reply of ``kind``: ANSWER (one A or AAAA record), NODATA, NXDOMAIN (both with an
    SOA of TTL ``ttl`` in the authority section), NXDOMAIN_NOSOA, SERVFAIL."""
    ident, flags, qname, qtype, qend = parse_question(query)
    rcode = {"ANSWER": 0, "NODATA": 0, "NXDOMAIN": 3, "NXDOMAIN_NOSOA": 3, "SERVFAIL": 2}[kind]
    header_flags = 0x8000 | 0x0080 | (flags & 0x0100) | rcode
    answers = b""
    ancount = nscount = 0
    if kind == "ANSWER" and qtype in ("A", "AAAA"):
        family = socket.AF_INET if qtype == "A" else socket.AF_INET6
        rdata = socket.inet_pton(family, "192.0.2.1" if qtype == "A" else "2001:db8::1")
        answers = b"\xc0\x0c" + struct.pack("!HHIH", QTYPES[qtype], 1, ttl, len(rdata)) + rdata
        ancount = 1
    elif kind in ("NODATA", "NXDOMAIN") or (kind == "ANSWER" and qtype == "NS"):
        answers = soa_record(qname.split(".", 1)[1] or ".", ttl) if qname != "." else soa_record(".", ttl)
        nscount = 1
    header = struct.pack("!HHHHHH", ident, header_flags, 1, ancount, nscount, 0)
    return header + query[12:qend] + answers
