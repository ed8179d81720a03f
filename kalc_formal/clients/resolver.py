"""Resolver model: the packets one getaddrinfo(NAME) sends, per client library.

`simulate_lookup` replays one lookup of a name (A and AAAA) as glibc 2.36, musl
1.2.3 or Go 1.19's pure-Go resolver does it, against nameservers whose reply to
each (qname, qtype, nameserver) a function gives. Replies arrive at once; a
TIMEOUT never arrives and costs the library's wait. Each rule follows the
library's source (facts G1-G17 in the shared reference) and the recorded probes
of the real libraries (tests/data/resolver_observations, checked by
tests/test_resolver_observations.py).

Where the real libraries are not deterministic the model picks one behaviour:
- Go sends A and AAAA from two goroutines; their order varies per run. The model
  sends A first. With `rotate` Go gives A and AAAA successive server offsets in
  whichever order the goroutines run; the model gives A the first.
- glibc's `rotate` starts at a random server per process; the model starts at
  the first nameserver, then moves one server per candidate name, as glibc does.
- musl re-sends at once on SERVFAIL (at most 2 x queries per round); how many of
  those go out before another server's good reply arrives depends on timing. The
  model processes replies in the order the queries were sent.
- musl's retry rounds are timer-driven (every timeout/attempts ms until timeout);
  a round due within a few ms of the deadline may not happen. The model counts a
  round k if k x (interval + 0.5 ms) < timeout, which matches every measurement.

>>> from kalc_formal.clients.resolvconf import ResolvConf, ResolvOption
>>> conf = ResolvConf(("10.96.0.10",), ("ns.svc.cluster.local", "svc.cluster.local",
...     "cluster.local", "ec2.internal"), (ResolvOption("ndots", "5"),))
>>> trace = simulate_lookup("api.example.com", conf, Libc.GLIBC,
...     lambda qname, qtype, ns: ClientReply.ANSWER if qname == "api.example.com." else ClientReply.NXDOMAIN)
>>> len(trace.packets), trace.result
(10, 'success')
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from kalc_formal.clients.resolvconf import Libc, ResolvConf, ResolverSettings
from kalc_formal.errors import InvalidArgument
from kalc_formal.source import shown

__all__ = [
    "QTYPE_CHOICES",
    "CandidateOutcome",
    "ClientReply",
    "Libc",
    "LookupTrace",
    "Packet",
    "Query",
    "ReplyFunction",
    "queries_per_lookup",
    "simulate_lookup",
]

_T = TypeVar("_T")

MUSL_ROUND_LATENESS_MS = 0.5
"""How late each musl retry round runs, measured (see the module docstring)."""


class ClientReply(Enum):
    """What a nameserver does with one query."""

    ANSWER = "ANSWER"
    """NOERROR with a record of the asked type."""
    NODATA = "NODATA"
    """NOERROR, no record of that type (the name exists)."""
    NXDOMAIN = "NXDOMAIN"
    SERVFAIL = "SERVFAIL"
    REFUSED = "REFUSED"
    TIMEOUT = "TIMEOUT"
    """No reply at all."""


ReplyFunction = Callable[[str, str, str], ClientReply]
"""reply(qname, qtype, nameserver): qname is fully qualified, with its trailing dot."""


@dataclass(frozen=True, slots=True)
class Query:
    """One DNS question sent to one nameserver."""

    qname: str
    qtype: str
    nameserver: str


@dataclass(frozen=True, slots=True)
class Packet:
    """One query packet as sent: `attempt` counts the sends of this (qname, qtype)
    to this nameserver within the lookup, from 1; `time` is seconds from the start;
    `reply` is what the nameserver did with it."""

    qname: str
    qtype: str
    nameserver: str
    attempt: int
    time: float
    reply: ClientReply

    @property
    def query(self) -> Query:
        return Query(self.qname, self.qtype, self.nameserver)


@dataclass(frozen=True, slots=True)
class CandidateOutcome:
    """What became of one name the library tried.

    `outcome`: answer, nodata, nxdomain, servfail, refused, timeout, or invalid
    (no packet could be built). `then`: done (the lookup succeeded), next (the
    next candidate is tried), as-is (glibc drops the rest of the search list but
    still tries the name as given), stop (the lookup fails).
    """

    qname: str
    outcome: str
    then: str


@dataclass(frozen=True, slots=True)
class LookupTrace:
    """Every packet one lookup sends, in order, and how it ended."""

    name: str
    libc: Libc
    packets: tuple[Packet, ...]
    result: str
    """"success" or "failure"."""
    candidates: tuple[CandidateOutcome, ...]
    duration: float
    """Seconds until the library returns."""
    notes: tuple[str, ...] = ()

    def queries(self) -> tuple[Query, ...]:
        """The packets without their times and attempt numbers."""
        return tuple(p.query for p in self.packets)


QTYPE_CHOICES = {("A", "AAAA"): "unspec", ("A",): "inet", ("AAAA",): "inet6"}
"""The query types of one lookup, by address family asked for."""


def simulate_lookup(
    name: str, resolv_conf: ResolvConf, libc: Libc, reply: ReplyFunction, *, qtypes: tuple[str, ...] = ("A", "AAAA")
) -> LookupTrace:
    """One getaddrinfo(`name`) as `libc` does it under `resolv_conf`.

    `qtypes` is ("A", "AAAA") for AF_UNSPEC (Go: LookupIPAddr), ("A",) for
    AF_INET hints (Go: LookupIP "ip4"), ("AAAA",) for AF_INET6. Whether a
    program's lookup is IPv4-only also depends on AI_ADDRCONFIG and the pod's
    addresses (fact G4): glibc drops AAAA under AI_ADDRCONFIG only when the pod
    has no non-loopback IPv6 address, link-local included; musl tests the
    loopback routes, so it keeps AAAA while IPv6 is enabled. That is the
    caller's to decide; this function takes the result.
    """
    _check_name(name)
    if tuple(qtypes) not in QTYPE_CHOICES:
        raise InvalidArgument(f"qtypes must be one of {sorted(QTYPE_CHOICES)}, not {qtypes!r}")
    settings = resolv_conf.settings(libc)
    wire = _Wire(reply)
    if libc is Libc.GLIBC:
        _Glibc(settings, wire, tuple(qtypes)).lookup(name)
    elif libc is Libc.MUSL:
        _Musl(settings, wire, tuple(qtypes)).lookup(name)
    else:
        _Go(settings, wire, tuple(qtypes)).lookup(name)
    candidates = list(wire.candidates)
    if candidates and candidates[-1].then != "done":
        candidates[-1] = CandidateOutcome(candidates[-1].qname, candidates[-1].outcome, "stop")
    success = bool(candidates) and candidates[-1].then == "done"
    return LookupTrace(name, libc, tuple(wire.packets), "success" if success else "failure",
                       tuple(candidates), round(wire.now, 6), tuple(wire.notes))


def queries_per_lookup(
    name: str, resolv_conf: ResolvConf, libc: Libc, reply: ReplyFunction, *, qtypes: tuple[str, ...] = ("A", "AAAA")
) -> tuple[Query, ...]:
    """The queries one lookup sends, in order, retransmissions included."""
    return simulate_lookup(name, resolv_conf, libc, reply, qtypes=qtypes).queries()


def _check_name(name: str) -> None:
    if not name or name == "." or any(c.isspace() for c in name) or len(name.rstrip(".")) > 253:
        raise InvalidArgument(f"not a host name: {name!r}")


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _wire_ok(fqdn: str) -> bool:
    """Whether a query for this name can be built: labels of 1-63, 253 in all."""
    name = fqdn[:-1] if fqdn.endswith(".") else fqdn
    return 0 < len(name) <= 253 and all(0 < len(label) <= 63 for label in name.split("."))


MAX_LOOKUP_PACKETS = 10_000
"""The most packets one simulated lookup may send (ours: glibc sends at most 5 x 3 per
query and candidate; Go's attempts are not capped)."""


def _too_many_packets(qname: str) -> InvalidArgument:
    return InvalidArgument(
        f"one lookup of {shown(qname)} would send more than {MAX_LOOKUP_PACKETS:,} "
        "packets (attempts x nameservers x search candidates; Go does not cap "
        "options attempts): not simulated; lower the resolv.conf or dnsConfig attempts"
    )


@dataclass
class _Wire:
    """The clock, the packets sent so far, the candidates' outcomes, and the
    nameservers' replies."""

    reply: ReplyFunction
    now: float = 0.0
    packets: list[Packet] = field(default_factory=list)
    candidates: list[CandidateOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sends: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def record(self, qname: str, qtype: str, nameserver: str, at: float, reply: ClientReply) -> None:
        if len(self.packets) >= MAX_LOOKUP_PACKETS:
            raise _too_many_packets(qname)
        key = (qname, qtype, nameserver)
        self.sends[key] = self.sends.get(key, 0) + 1
        self.packets.append(Packet(qname, qtype, nameserver, self.sends[key], round(at, 6), reply))

    def ask(self, qname: str, qtype: str, nameserver: str) -> ClientReply:
        """The reply to a query; a query no server can parse gets none."""
        return self.reply(qname, qtype, nameserver) if _wire_ok(qname) else ClientReply.TIMEOUT

    def send(self, qname: str, qtype: str, nameserver: str, at: float | None = None) -> ClientReply:
        kind = self.ask(qname, qtype, nameserver)
        self.record(qname, qtype, nameserver, self.now if at is None else at, kind)
        return kind

    def outcome(self, qname: str, outcome: str, then: str) -> None:
        self.candidates.append(CandidateOutcome(qname, outcome, then))


GOOD = (ClientReply.ANSWER, ClientReply.NODATA, ClientReply.NXDOMAIN)
ERRORS = (ClientReply.SERVFAIL, ClientReply.REFUSED)


# --- glibc ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RoundEnd:
    """How one glibc send_dg round ended: `replies` (judged, first buffer first)
    when glibc returns an answer; `next_server` when it gives up on this server at
    once; otherwise the wait ran out, `held` telling whether a good reply sat in
    the first buffer."""

    replies: tuple[ClientReply, ...] = ()
    next_server: bool = False
    held: ClientReply | None = None


class _Glibc:
    """glibc 2.36 as Debian 12 ships it (with the release/2.36 resolver fixes,
    bugs 30081 and 31476): resolv/res_query.c __res_context_search and
    __res_context_query (G2, G3), resolv/res_send.c __res_context_send and
    send_dg (G4-G7), nss_dns _nss_dns_gethostbyname4_r."""

    def __init__(self, settings: ResolverSettings, wire: _Wire, qtypes: tuple[str, ...]) -> None:
        self.s = settings
        self.wire = wire
        self.qtypes = tuple(q for q in qtypes if q != "AAAA") if settings.no_aaaa else qtypes
        self.single = settings.single_request
        self.reopen = settings.single_request_reopen
        self.rotation = 0
        self.buffer1: ClientReply | None = None

    def lookup(self, name: str) -> None:
        """__res_context_search: the name as given first when it has ndots dots
        or a trailing dot (a trailing dot ends there), then the search list, then
        the name as given if not tried yet (not with no-tld-query for a dotless
        name, nor when '.' is on the list); NXDOMAIN, NODATA and a SERVFAIL reply
        go on to the next domain, anything else (a timeout, REFUSED) drops the
        rest of the search list."""
        dots, trailing = name.count("."), name.endswith(".")
        if self.s.attempts <= 0:
            self.wire.notes.append("attempts:0: glibc sends nothing and fails at once (ECONNREFUSED)")
            self.wire.outcome(_fqdn(name), "unsent", "stop")
            return
        tried_as_is = root_on_list = searched = False
        if dots >= self.s.ndots or trailing:
            if self.candidate(_fqdn(name)) == "answer" or trailing:
                return
            tried_as_is = True
        for domain in () if trailing else self.s.search:
            domain = domain[1:] if domain.startswith(".") else domain
            root_on_list = root_on_list or domain == ""
            searched = True
            outcome = self.candidate(_fqdn(f"{name}.{domain}") if domain else _fqdn(name))
            if outcome == "answer":
                return
            if outcome not in ("nxdomain", "nodata", "servfail"):
                self.wire.candidates[-1] = CandidateOutcome(self.wire.candidates[-1].qname, outcome, "as-is")
                break
        if (dots or not searched or not self.s.no_tld_query) and not (tried_as_is or root_on_list):
            self.candidate(_fqdn(name))

    def candidate(self, fqdn: str) -> str:
        """Query one name and judge it as __res_context_query does. With
        no-aaaa, an AAAA-only query is answered NODATA without a packet."""
        if not _wire_ok(fqdn):
            self.wire.outcome(fqdn, "invalid", "next")
            return "invalid"
        if not self.qtypes:
            self.wire.outcome(fqdn, "nodata", "next")
            return "nodata"
        replies = self.send(fqdn)
        outcome = _glibc_judge(replies, self.buffer1)
        self.wire.outcome(fqdn, outcome, "done" if outcome == "answer" else "next")
        return outcome

    def send(self, fqdn: str) -> tuple[ClientReply, ...] | None:
        """__res_context_send: for each try, each nameserver (from the rotation
        offset), send_dg; None when every try failed."""
        count = len(self.s.nameservers)
        offset = 0
        if self.s.rotate and count > 1:
            offset = self.rotation % count
            self.rotation += 1
        self.buffer1 = None
        for _try in range(1 if self.s.use_vc else self.s.attempts):
            for shift in range(count):
                replies = self.send_dg(fqdn, (shift + offset) % count)
                if replies is not None:
                    return replies
        return None

    def send_dg(self, fqdn: str, ns_index: int) -> tuple[ClientReply, ...] | None:
        """One nameserver, waiting timeout << index (divided by the number of
        servers after the first). If only one of the pair is answered before the
        wait ends, glibc switches to single-request for the rest of the process,
        re-sends, then to single-request-reopen, re-sends, then takes the one
        reply (measured: three rounds)."""
        seconds = self.s.timeout << ns_index
        if ns_index > 0:
            seconds //= len(self.s.nameservers)
        seconds = max(seconds, 1)
        while True:
            end = self.round(fqdn, self.s.nameservers[ns_index])
            if end.replies:
                return end.replies
            if end.next_server:
                return None
            self.wire.now += seconds
            if end.held is None:
                return None
            if not self.single:
                self.single = True
            elif not self.reopen:
                self.reopen = True
            else:
                return (end.held,)

    def round(self, fqdn: str, ns: str) -> _RoundEnd:
        """Send (both at once, or the second after the first's reply in
        single-request mode) and take replies in order. A SERVFAIL or REFUSED as
        the first reply of a parallel pair is kept (no data) while the other is
        awaited; otherwise it ends this server."""
        later = list(self.qtypes[1:]) if self.single else []
        arrivals = [(q, self.wire.send(fqdn, q, ns)) for q in (self.qtypes[:1] if self.single else self.qtypes)]
        good: list[ClientReply] = []
        error_first = False
        for _qtype, kind in _growing(arrivals):
            if kind is ClientReply.TIMEOUT:
                continue
            received = bool(good) or error_first
            if kind in ERRORS:
                if received:
                    return _RoundEnd(replies=tuple(good[:1])) if good and not error_first else _RoundEnd(next_server=True)
                self.buffer1 = kind
                if len(self.qtypes) > 1 and not self.single:
                    error_first = True
                    continue
                return _RoundEnd(next_server=True)
            if not received:
                self.buffer1 = kind
            good.append(kind)
            if len(good) + error_first == len(self.qtypes):
                return _RoundEnd(replies=tuple(good))
            if later:
                qtype = later.pop(0)
                arrivals.append((qtype, self.wire.send(fqdn, qtype, ns)))
        return _RoundEnd(held=good[0] if good and not error_first else None)


def _growing(items: list[_T]) -> Iterator[_T]:
    """Iterate a list that may grow while it is iterated."""
    index = 0
    while index < len(items):
        yield items[index]
        index += 1


def _glibc_judge(replies: tuple[ClientReply, ...] | None, buffer1: ClientReply | None) -> str:
    """__res_context_query's verdict: an address in either reply succeeds; else
    the first reply's rcode, or the second's when the first is NOERROR. When every
    try failed, the rcode left in the first answer buffer tells a SERVFAIL (the
    search goes on) from a timeout or REFUSED (it stops)."""
    if replies is None:
        if buffer1 is ClientReply.SERVFAIL:
            return "servfail"
        return "refused" if buffer1 is ClientReply.REFUSED else "timeout"
    if ClientReply.ANSWER in replies:
        return "answer"
    first = replies[0]
    rcode = replies[-1] if first is ClientReply.NODATA else first
    return "nxdomain" if rcode is ClientReply.NXDOMAIN else "nodata"


# --- musl ----------------------------------------------------------------------------


class _Musl:
    """musl 1.2.3: src/network/lookup_name.c name_from_dns_search and
    name_from_dns (G8-G10), src/network/res_msend.c __res_msend_rc (G11),
    src/network/res_mkquery.c."""

    def __init__(self, settings: ResolverSettings, wire: _Wire, qtypes: tuple[str, ...]) -> None:
        self.s = settings
        self.wire = wire
        self.qtypes = qtypes

    def lookup(self, name: str) -> None:
        """Search domains only when the name has fewer than ndots dots and no
        trailing dot, the name as given last; only NXDOMAIN goes on."""
        trailing = name.endswith(".")
        base = name[:-1] if trailing else name
        if not base or base.endswith("."):
            self.wire.outcome(name, "invalid", "stop")
            return
        search = () if name.count(".") >= self.s.ndots or trailing else self.s.search
        for domain in search:
            if len(domain) < 256 - len(base) - 1 and not self.candidate(f"{base}.{domain}"):
                return
        self.candidate(base)

    def candidate(self, text: str) -> bool:
        """One name_from_dns; True when the search goes on. res_mkquery drops
        one trailing dot; a name that still ends in a dot (a search domain of
        '.') gives a malformed query that no server answers."""
        name = text[:-1] if text.endswith(".") else text
        malformed = name.endswith(".")
        labels = name.split(".")[:-1] if malformed else name.split(".")
        fqdn = text + "." if malformed else _fqdn(text)
        if not name or len(name) > 253 or any(not 0 < len(label) <= 63 for label in labels):
            self.wire.outcome(fqdn, "invalid", "stop")
            return False
        if malformed:
            self.wire.notes.append(f"musl sends a malformed query for {fqdn!r}; no server can answer it")
        if self.s.attempts == 0:
            self.wire.notes.append("attempts:0: musl 1.2.3 divides by zero (SIGFPE); the process dies")
            self.wire.outcome(fqdn, "unsent", "stop")
            return False
        taken, errors = self.exchange(fqdn)
        outcome, goes_on = _musl_judge(self.qtypes, taken, errors)
        self.wire.outcome(fqdn, outcome, "done" if outcome == "answer" else ("next" if goes_on else "stop"))
        return goes_on

    def exchange(self, fqdn: str) -> tuple[dict[str, ClientReply], dict[str, ClientReply]]:
        """__res_msend_rc: each round (every timeout/attempts ms, until timeout)
        sends every unanswered query to every nameserver; only NOERROR and
        NXDOMAIN replies are taken; a SERVFAIL is re-sent at once to the server
        that sent it, at most 2 x queries times per round; REFUSED is ignored."""
        timeout_ms = self.s.timeout * 1000
        interval = timeout_ms // self.s.attempts
        taken: dict[str, ClientReply] = {}
        errors: dict[str, ClientReply] = {}
        start = self.wire.now
        rounds = 0
        while rounds * (interval + MUSL_ROUND_LATENESS_MS) < timeout_ms:
            at = start + rounds * interval / 1000
            rounds += 1
            if self.round(fqdn, taken, errors, at):
                self.wire.now = at
                return taken, errors
        self.wire.now = start + max(rounds * interval, timeout_ms) / 1000
        return taken, errors

    def round(self, fqdn: str, taken: dict[str, ClientReply], errors: dict[str, ClientReply], at: float) -> bool:
        """One round, the replies taken in the order the queries went out; True
        when every query has its reply."""
        queue = [(q, ns, self.wire.send(fqdn, q, ns, at))
                 for q in self.qtypes if q not in taken for ns in self.s.nameservers]
        budget = 2 * len(self.qtypes)
        for qtype, ns, kind in _growing(queue):
            if qtype in taken:
                continue
            if kind in GOOD:
                taken[qtype] = kind
                if len(taken) == len(self.qtypes):
                    return True
            elif kind in ERRORS:
                errors[qtype] = kind
                if kind is ClientReply.SERVFAIL and budget:
                    budget -= 1
                    queue.append((qtype, ns, self.wire.send(fqdn, qtype, ns, at)))
        return False


def _musl_judge(qtypes: tuple[str, ...], taken: dict[str, ClientReply], errors: dict[str, ClientReply]) -> tuple[str, bool]:
    """name_from_dns: A first, then AAAA; a missing reply fails the lookup
    (EAI_AGAIN), an NXDOMAIN goes on; then an address succeeds, else the lookup
    fails (EAI_NONAME)."""
    for qtype in qtypes:
        kind = taken.get(qtype)
        if kind is None:
            error = errors.get(qtype)
            return ("timeout" if error is None else error.name.lower()), False
        if kind is ClientReply.NXDOMAIN:
            return "nxdomain", True
    return ("answer" if ClientReply.ANSWER in taken.values() else "nodata"), False


# --- Go --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tried:
    """One tryOneName: its result, when it returned, and its sends (time, server)."""

    reply: ClientReply
    end: float
    sends: tuple[tuple[float, str, ClientReply], ...]


class _Go:
    """Go 1.19 pure-Go resolver: src/net/dnsclient_unix.go nameList,
    goLookupIPCNAMEOrder, tryOneName (G13-G15)."""

    def __init__(self, settings: ResolverSettings, wire: _Wire, qtypes: tuple[str, ...]) -> None:
        self.s = settings
        self.wire = wire
        self.qtypes = qtypes
        self.rotation = 0

    def lookup(self, name: str) -> None:
        """Every name of nameList in turn until one gives an address; errors
        (SERVFAIL, REFUSED, timeouts) do not stop the search."""
        for fqdn in self.name_list(name):
            outcome = self.candidate(fqdn)
            self.wire.outcome(fqdn, outcome, "done" if outcome == "answer" else "next")
            if outcome == "answer":
                return

    def name_list(self, name: str) -> list[str]:
        """A rooted name alone; else the name as given first when it has ndots
        dots, then each search suffix that keeps it within 254 characters, then
        the name as given if not tried first. .onion names are never looked up."""
        if name.rstrip(".").lower().endswith(".onion"):
            return []
        rooted = name.endswith(".")
        if len(name) > 254 or (len(name) == 254 and rooted):
            return []
        if rooted:
            return [name]
        has_ndots = name.count(".") >= self.s.ndots
        name += "."
        suffixed = [name + suffix for suffix in self.s.search if len(name) + len(suffix) <= 254]
        return [name, *suffixed] if has_ndots else [*suffixed, name]

    def candidate(self, fqdn: str) -> str:
        """A and AAAA from two goroutines at once (one after the other with
        single-request); the packets are merged by time, A first."""
        if not _wire_ok(fqdn):
            return "invalid"
        start = self.wire.now
        tried: list[tuple[str, _Tried]] = []
        for qtype in self.qtypes:
            tried.append((qtype, self.try_one_name(fqdn, qtype, tried[-1][1].end if tried and self.s.single_request
                                                   else start)))
        sends = [(at, index, qtype, ns, kind) for qtype, run in tried for index, (at, ns, kind) in enumerate(run.sends)]
        if not self.s.single_request:
            sends.sort(key=lambda send: (send[0], send[1], self.qtypes.index(send[2])))
        for at, _index, qtype, ns, kind in sends:
            self.wire.record(fqdn, qtype, ns, at, kind)
        self.wire.now = max(run.end for _, run in tried)
        return _go_outcome(tuple(run.reply for _, run in tried))

    def try_one_name(self, fqdn: str, qtype: str, start: float) -> _Tried:
        """For each attempt, each server from the rotation offset: a timeout
        waits `timeout` and moves on, SERVFAIL and REFUSED move on at once,
        NXDOMAIN and NODATA end it, an address ends it."""
        offset = 0
        if self.s.rotate:
            offset = self.rotation
            self.rotation += 1
        servers = self.s.nameservers
        now, last = start, ClientReply.TIMEOUT
        sends: list[tuple[float, str, ClientReply]] = []
        for _attempt in range(self.s.attempts):
            for j in range(len(servers)):
                ns = servers[(offset + j) % len(servers)]
                last = self.wire.ask(fqdn, qtype, ns)
                sends.append((now, ns, last))
                if len(sends) + len(self.wire.packets) > MAX_LOOKUP_PACKETS:
                    raise _too_many_packets(fqdn)
                if last is ClientReply.TIMEOUT:
                    now += self.s.timeout
                elif last not in ERRORS:
                    return _Tried(last, now, tuple(sends))
        return _Tried(last, now, tuple(sends))


def _go_outcome(replies: tuple[ClientReply, ...]) -> str:
    if ClientReply.ANSWER in replies:
        return "answer"
    for kind in (ClientReply.TIMEOUT, ClientReply.SERVFAIL, ClientReply.REFUSED, ClientReply.NODATA):
        if kind in replies:
            return kind.name.lower()
    return "nxdomain"
