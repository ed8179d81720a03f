"""A counting upstream DNS server on 127.0.0.1 (UDP and TCP) for the real-CoreDNS
experiments.

Every query it receives is recorded with its time (seconds since ``t0``), transport,
qname and qtype, and answered from a world of rules (the first matching rule wins):

    {"name": "x.example." | "*.example." | "*", "qtype": "A" | "*",
     "kind": "ANSWER" | "NODATA" | "NXDOMAIN" | "NXDOMAIN_NOSOA" | "SERVFAIL" | "SILENT",
     "ttl": seconds, "from": t, "until": t}

``from``/``until`` (optional) bound when the rule applies, so an outage can start and
end at chosen times. Replies wait ``delay`` seconds. Where the process may open raw
sockets (root), every IP packet sent to the upstream's port on the loopback interface
is also counted (what a per-packet rate limit counts), with its protocol and TCP flags.
"""

from __future__ import annotations

import heapq
import select
import socket
import struct
import threading
import time
from typing import Any

from dnswire import build_reply, parse_question

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
MAX_TCP_SECONDS = 30.0


def rule_matches(rule: dict[str, Any], qname: str, qtype: str, at: float) -> bool:
    name = rule.get("name", "*")
    if name.startswith("*.") and not qname.endswith(name[1:]):
        return False
    if name not in ("*",) and not name.startswith("*.") and name != qname:
        return False
    if rule.get("qtype", "*") not in ("*", qtype):
        return False
    return bool(rule.get("from", 0.0) <= at < rule.get("until", float("inf")))


def decide(world: list[dict[str, Any]], qname: str, qtype: str, at: float) -> tuple[str, int]:
    for rule in world:
        if rule_matches(rule, qname, qtype, at):
            return str(rule["kind"]), int(rule.get("ttl", 30))
    return "NXDOMAIN", 30


class CountingUpstream:
    def __init__(self, world: list[dict[str, Any]], delay: float = 0.0, sniff: bool = True) -> None:
        self.world = world
        self.delay = delay
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.queries: list[dict[str, Any]] = []
        self.ip_packets: list[dict[str, Any]] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(64)
        self.stopping = False
        self.threads = [threading.Thread(target=self._serve, daemon=True)]
        self.raw: socket.socket | None = None
        if sniff:
            try:
                self.raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                self.raw.bind(("lo", 0))
                self.threads.append(threading.Thread(target=self._sniff, daemon=True))
            except (OSError, AttributeError):
                self.raw = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def counts_ip_packets(self) -> bool:
        return self.raw is not None

    def now(self) -> float:
        return time.monotonic() - self.t0

    def start(self, t0: float) -> None:
        self.t0 = t0
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping = True
        for thread in self.threads:
            thread.join(timeout=3)
        for sock in (self.udp, self.tcp, self.raw):
            if sock is not None:
                sock.close()

    def _record(self, packet: bytes, transport: str) -> tuple[str, int] | None:
        at = self.now()
        try:
            _ident, _flags, qname, qtype, _end = parse_question(packet)
        except (ValueError, IndexError, struct.error):
            return None
        kind, ttl = decide(self.world, qname, qtype, at)
        with self.lock:
            self.queries.append({"time": round(at, 4), "transport": transport, "qname": qname,
                                 "qtype": qtype, "reply": kind})
        return kind, ttl

    def _serve(self) -> None:
        pending: list[tuple[float, int, bytes, Any]] = []
        serial = 0
        while not self.stopping:
            timeout = 0.05
            if pending:
                timeout = max(0.0, min(timeout, pending[0][0] - time.monotonic()))
            ready, _, _ = select.select([self.udp, self.tcp], [], [], timeout)
            for sock in ready:
                if sock is self.udp:
                    packet, source = self.udp.recvfrom(4096)
                    decided = self._record(packet, "udp")
                    if decided and decided[0] != "SILENT":
                        reply = build_reply(packet, decided[0], decided[1])
                        serial += 1
                        heapq.heappush(pending, (time.monotonic() + self.delay, serial, reply, source))
                else:
                    conn, _source = self.tcp.accept()
                    threading.Thread(target=self._serve_tcp, args=(conn,), daemon=True).start()
            while pending and pending[0][0] <= time.monotonic():
                _due, _serial, reply, source = heapq.heappop(pending)
                self.udp.sendto(reply, source)

    def _serve_tcp(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        started = time.monotonic()
        buffer = b""
        try:
            while not self.stopping and time.monotonic() - started < MAX_TCP_SECONDS:
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                buffer += chunk
                while len(buffer) >= 2 and len(buffer) >= 2 + struct.unpack("!H", buffer[:2])[0]:
                    length = struct.unpack("!H", buffer[:2])[0]
                    packet, buffer = buffer[2 : 2 + length], buffer[2 + length :]
                    decided = self._record(packet, "tcp")
                    if decided and decided[0] != "SILENT":
                        if self.delay:
                            time.sleep(self.delay)
                        reply = build_reply(packet, decided[0], decided[1])
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            conn.close()

    def _sniff(self) -> None:
        assert self.raw is not None
        self.raw.settimeout(0.05)
        while not self.stopping:
            try:
                frame, address = self.raw.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            if address[2] == PACKET_OUTGOING or len(frame) < 14 + 20:
                continue
            ip = frame[14:]
            if ip[0] >> 4 != 4:
                continue
            header = (ip[0] & 0xF) * 4
            protocol = ip[9]
            if protocol not in (6, 17) or len(ip) < header + 4:
                continue
            destination = struct.unpack("!H", ip[header + 2 : header + 4])[0]
            if destination != self.port:
                continue
            flags = ""
            if protocol == 6 and len(ip) >= header + 14:
                bits = ip[header + 13]
                flags = "".join(f for bit, f in ((2, "S"), (16, "A"), (8, "P"), (1, "F"), (4, "R")) if bits & bit)
            with self.lock:
                self.ip_packets.append({"time": round(self.now(), 4),
                                        "protocol": "tcp" if protocol == 6 else "udp", "flags": flags})
