"""A scripted DNS server for the real-resolver probes (stdlib only, UDP and TCP).

Each nameserver address gets its own UDP and TCP socket on port 53. Every query
received is logged with the time it arrived, and answered as the case's rules
say for (qname, qtype, nameserver):

    ANSWER    NOERROR with one A (192.0.2.1) or AAAA (2001:db8::1) record
    NODATA    NOERROR, no answer, an SOA in the authority section
    NXDOMAIN  name error, an SOA in the authority section
    SERVFAIL  server failure, no records
    REFUSED   refused, no records
    TIMEOUT   no reply at all

Replies carry AA=1 and RA=1, as CoreDNS's authoritative answers do. The first
rule that matches wins; a rule's qname, qtype and nameserver may be "*".
"""

from __future__ import annotations

import json
import select
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass

QTYPE_NAMES = {1: "A", 28: "AAAA", 6: "SOA", 5: "CNAME", 2: "NS", 12: "PTR", 33: "SRV"}
RCODES = {"ANSWER": 0, "NODATA": 0, "NXDOMAIN": 3, "SERVFAIL": 2, "REFUSED": 5}


@dataclass(frozen=True)
class Rule:
    qname: str
    qtype: str
    nameserver: str
    reply: str

    def matches(self, qname: str, qtype: str, nameserver: str) -> bool:
        return (
            self.qname in ("*", qname.lower())
            and self.qtype in ("*", qtype)
            and self.nameserver in ("*", nameserver)
        )


def reply_kind(rules: list[Rule], default: str, qname: str, qtype: str, ns: str) -> str:
    for rule in rules:
        if rule.matches(qname, qtype, ns):
            return rule.reply
    return default


def parse_question(packet: bytes) -> tuple[int, int, str, int, int]:
    """(id, flags, qname with trailing dot, qtype, end offset of the question)."""
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount < 1:
        raise ValueError("no question")
    offset = 12
    labels = []
    while True:
        length = packet[offset]
        offset += 1
        if length == 0:
            break
        if length >= 0xC0:
            raise ValueError("compressed qname")
        labels.append(packet[offset : offset + length].decode("ascii", "replace"))
        offset += length
    qtype, _qclass = struct.unpack("!HH", packet[offset : offset + 4])
    return ident, flags, ".".join(labels) + ".", qtype, offset + 4


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\x00"


def soa_record() -> bytes:
    rdata = encode_name("ns.probe.") + encode_name("host.probe.") + struct.pack("!IIIII", 1, 60, 60, 60, 5)
    return encode_name("probe.") + struct.pack("!HHIH", 6, 1, 5, len(rdata)) + rdata


def build_reply(packet: bytes, kind: str) -> bytes:
    ident, flags, _qname, qtype, qend = parse_question(packet)
    rd = flags & 0x0100
    header_flags = 0x8000 | 0x0400 | 0x0080 | rd | RCODES[kind]
    question = packet[12:qend]
    answers = b""
    ancount = nscount = 0
    if kind == "ANSWER" and qtype in (1, 28):
        rdata = socket.inet_pton(socket.AF_INET if qtype == 1 else socket.AF_INET6,
                                 "192.0.2.1" if qtype == 1 else "2001:db8::1")
        answers = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 30, len(rdata)) + rdata
        ancount = 1
    elif kind in ("NODATA", "NXDOMAIN", "ANSWER"):
        answers = soa_record()
        nscount = 1
    header = struct.pack("!HHHHHH", ident, header_flags, 1, ancount, nscount, 0)
    return header + question + answers


class Server:
    """Serves every configured nameserver address until stop() is called."""

    def __init__(self, nameservers: list[str], rules: list[Rule], default: str, log_path: str):
        self.rules = rules
        self.default = default
        self.log_path = log_path
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.log: list[dict[str, object]] = []
        self.udp: dict[socket.socket, str] = {}
        self.tcp: dict[socket.socket, str] = {}
        for ns in nameservers:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((ns, 53))
            self.udp[u] = ns
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((ns, 53))
            t.listen(16)
            self.tcp[t] = ns
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.thread.start()

    def stop(self) -> None:
        self.stopping = True
        self.thread.join(timeout=2)
        with open(self.log_path, "w") as f:
            json.dump(self.log, f)

    def record(self, ns: str, packet: bytes, transport: str, src: object) -> str | None:
        try:
            ident, _flags, qname, qtype, _end = parse_question(packet)
        except (ValueError, IndexError, struct.error, UnicodeDecodeError):
            with self.lock:
                self.log.append({
                    "time": round(time.monotonic() - self.t0, 4), "nameserver": ns,
                    "qname": "<malformed>", "qtype": "?", "id": None,
                    "transport": transport, "source": str(src), "reply": "TIMEOUT",
                })
            return None
        qtype_name = QTYPE_NAMES.get(qtype, str(qtype))
        kind = reply_kind(self.rules, self.default, qname, qtype_name, ns)
        with self.lock:
            self.log.append({
                "time": round(time.monotonic() - self.t0, 4),
                "nameserver": ns,
                "qname": qname,
                "qtype": qtype_name,
                "id": ident,
                "transport": transport,
                "source": str(src),
                "reply": kind,
            })
        return kind

    def serve(self) -> None:
        sockets = list(self.udp) + list(self.tcp)
        while not self.stopping:
            ready, _, _ = select.select(sockets, [], [], 0.05)
            for sock in ready:
                if sock in self.udp:
                    packet, src = sock.recvfrom(4096)
                    kind = self.record(self.udp[sock], packet, "udp", src)
                    if kind is not None and kind != "TIMEOUT":
                        sock.sendto(build_reply(packet, kind), src)
                else:
                    conn, src = sock.accept()
                    threading.Thread(target=self.serve_tcp, args=(conn, self.tcp[sock], src), daemon=True).start()

    def serve_tcp(self, conn: socket.socket, ns: str, src: object) -> None:
        conn.settimeout(10)
        try:
            while True:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                (length,) = struct.unpack("!H", head)
                packet = b""
                while len(packet) < length:
                    chunk = conn.recv(length - len(packet))
                    if not chunk:
                        return
                    packet += chunk
                kind = self.record(ns, packet, "tcp", src)
                if kind is not None and kind != "TIMEOUT":
                    reply = build_reply(packet, kind)
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            conn.close()


def rules_from_json(items: list[dict[str, str]]) -> list[Rule]:
    return [
        Rule(
            qname=item.get("qname", "*").lower(),
            qtype=item.get("qtype", "*"),
            nameserver=item.get("nameserver", "*"),
            reply=item["reply"],
        )
        for item in items
    ]


if __name__ == "__main__":
    sys.exit("import this module; runner.py drives it")
