"""The probe cases: a resolv.conf, a name to look up, and how the servers reply.

Replies are given as rules over (qname, qtype, nameserver), first match wins,
anything unmatched gets the case's default (NXDOMAIN unless said otherwise).
The same cases drive the live probes (runner.py) and the replay test
(tests/test_resolver_observations.py), which feeds the recorded rules to
kalc_formal.resolver.simulate_lookup.
"""

from __future__ import annotations

from typing import Any

K8S_SEARCH = "default.svc.cluster.local svc.cluster.local cluster.local ec2.internal"
NS1 = "127.0.0.1"
NS2 = "127.0.0.2"
NS3 = "127.0.0.3"


def conf(*, search: str | None = K8S_SEARCH, nameservers: tuple[str, ...] = (NS1,),
         options: str = "ndots:5 timeout:1 attempts:2", extra: str = "") -> str:
    lines = []
    if search is not None:
        lines.append(f"search {search}")
    lines.extend(f"nameserver {ns}" for ns in nameservers)
    if options:
        lines.append(f"options {options}")
    return "\n".join(lines) + "\n" + extra


def rule(qname: str, reply: str, qtype: str = "*", nameserver: str = "*") -> dict[str, str]:
    return {"qname": qname, "qtype": qtype, "nameserver": nameserver, "reply": reply}


def case(case_id: str, description: str, name: str, resolv_conf: str, rules: list[dict[str, str]] | None = None,
         *, default: str = "NXDOMAIN", repeat: int = 2, libcs: tuple[str, ...] = ("glibc", "musl", "go"),
         live: bool = False, family: str = "unspec") -> dict[str, Any]:
    """`live` marks the representative subset the real_resolver test re-runs;
    `family` "inet" asks for IPv4 only (AF_INET hints; Go's LookupIP "ip4")."""
    item = {"id": case_id, "description": description, "name": name, "resolv_conf": resolv_conf,
            "rules": rules or [], "default": default, "repeat": repeat, "libcs": list(libcs), "live": live}
    if family != "unspec":
        item["family"] = family
    return item


EXTERNAL = "api.example.com"
EXTERNAL_FQDN = "api.example.com."
LONG_DOMAINS = " ".join(f"{c * 60}.example" for c in "abcd")  # 4 x 68 chars + 3 spaces: a 282-character line

CASES: list[dict[str, Any]] = [
    case("short_all_nxdomain", "short name, ndots:5, every candidate NXDOMAIN", "web", conf(), live=True),
    case("short_found_first", "short name answered under the first search domain", "web", conf(),
         [rule("web.default.svc.cluster.local.", "ANSWER")]),
    case("dotted_external", "two-dot name answered only as given (the external-name cost)", EXTERNAL, conf(),
         [rule(EXTERNAL_FQDN, "ANSWER")], live=True),
    case("dotted_all_nxdomain", "two-dot name, every candidate NXDOMAIN", EXTERNAL, conf()),
    case("ndots_reached_all_nxdomain", "five-dot name under ndots:5, every candidate NXDOMAIN",
         "a.b.c.d.e.f", conf()),
    case("ndots_reached_found_as_is", "five-dot name under ndots:5, answered as given",
         "a.b.c.d.e.f", conf(), [rule("a.b.c.d.e.f.", "ANSWER")]),
    case("trailing_dot_nxdomain", "trailing dot, NXDOMAIN", EXTERNAL_FQDN, conf()),
    case("trailing_dot_answer", "trailing dot, answered", EXTERNAL_FQDN, conf(), [rule(EXTERNAL_FQDN, "ANSWER")]),
    case("search_line_282", "search line of 282 characters (4 domains of 68)", "web",
         conf(search=LONG_DOMAINS), live=True),
    case("search_line_254", "search line of exactly 254 characters", "web",
         conf(search="a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".example " + "d" * 47)),
    case("search_line_255", "search line of exactly 255 characters", "web",
         conf(search="a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".example " + "d" * 48)),
    case("nodata_aaaa_only", "first candidate: A answered, AAAA NODATA", EXTERNAL, conf(),
         [rule("api.example.com.default.svc.cluster.local.", "ANSWER", "A"),
          rule("api.example.com.default.svc.cluster.local.", "NODATA", "AAAA")]),
    case("nodata_both", "first candidate NODATA for A and AAAA; the name as given answered", EXTERNAL, conf(),
         [rule("api.example.com.default.svc.cluster.local.", "NODATA"), rule(EXTERNAL_FQDN, "ANSWER")],
         live=True),
    case("servfail_candidate", "second candidate SERVFAIL; the name as given answered", EXTERNAL, conf(),
         [rule("api.example.com.svc.cluster.local.", "SERVFAIL"), rule(EXTERNAL_FQDN, "ANSWER")], live=True),
    case("refused_candidate", "second candidate REFUSED; the name as given answered", EXTERNAL, conf(),
         [rule("api.example.com.svc.cluster.local.", "REFUSED"), rule(EXTERNAL_FQDN, "ANSWER")]),
    case("timeout_candidate", "second candidate never answered; the name as given answered", EXTERNAL, conf(),
         [rule("api.example.com.svc.cluster.local.", "TIMEOUT"), rule(EXTERNAL_FQDN, "ANSWER")], live=True),
    case("aaaa_timeout_only", "first candidate: A answered, AAAA never answered", EXTERNAL, conf(),
         [rule("api.example.com.default.svc.cluster.local.", "ANSWER", "A"),
          rule("api.example.com.default.svc.cluster.local.", "TIMEOUT", "AAAA")], live=True),
    case("a_timeout_only", "first candidate: AAAA answered, A never answered", EXTERNAL, conf(),
         [rule("api.example.com.default.svc.cluster.local.", "TIMEOUT", "A"),
          rule("api.example.com.default.svc.cluster.local.", "ANSWER", "AAAA")]),
    case("aaaa_nxdomain_a_answer", "first candidate: A answered, AAAA NXDOMAIN", EXTERNAL, conf(),
         [rule("api.example.com.default.svc.cluster.local.", "ANSWER", "A")]),
    case("a_servfail_aaaa_nxdomain", "first candidate: A SERVFAIL, AAAA NXDOMAIN; name as given answered",
         EXTERNAL, conf(), [rule("api.example.com.default.svc.cluster.local.", "SERVFAIL", "A"),
                            rule(EXTERNAL_FQDN, "ANSWER")]),
    case("aaaa_servfail_a_nxdomain", "first candidate: A NXDOMAIN, AAAA SERVFAIL; name as given answered",
         EXTERNAL, conf(), [rule("api.example.com.default.svc.cluster.local.", "SERVFAIL", "AAAA"),
                            rule(EXTERNAL_FQDN, "ANSWER")]),
    case("ndots_reached_as_is_timeout", "five-dot name under ndots:5: as given never answered, first search answered",
         "a.b.c.d.e.f", conf(), [rule("a.b.c.d.e.f.", "TIMEOUT"),
                                 rule("a.b.c.d.e.f.default.svc.cluster.local.", "ANSWER")]),
    case("attempts1_timeout", "attempts:1 timeout:1, never answered", EXTERNAL_FQDN,
         conf(options="ndots:5 timeout:1 attempts:1"), default="TIMEOUT"),
    case("attempts2_timeout", "attempts:2 timeout:1, never answered", EXTERNAL_FQDN,
         conf(options="ndots:5 timeout:1 attempts:2"), default="TIMEOUT", live=True),
    case("attempts3_timeout", "attempts:3 timeout:1, never answered", EXTERNAL_FQDN,
         conf(options="ndots:5 timeout:1 attempts:3"), default="TIMEOUT"),
    case("attempts7_timeout", "attempts:7 timeout:1 (glibc caps at 5), never answered", EXTERNAL_FQDN,
         conf(options="ndots:5 timeout:1 attempts:7"), default="TIMEOUT"),
    case("attempts0_timeout", "attempts:0 timeout:1, never answered", EXTERNAL_FQDN,
         conf(options="ndots:5 timeout:1 attempts:0"), default="TIMEOUT", repeat=1),
    case("timeout0_timeout", "timeout:0 attempts:1, never answered", EXTERNAL_FQDN,
         conf(options="ndots:5 timeout:0 attempts:1"), default="TIMEOUT", repeat=1),
    case("ndots20_cap", "ndots:20 and a 15-dot name (a cap of 15 tries it as given first)",
         "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", conf(options="ndots:20 timeout:1 attempts:2"),
         [rule("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.", "ANSWER")]),
    case("single_request", "single-request, all NXDOMAIN but the name as given", EXTERNAL,
         conf(options="ndots:5 timeout:1 attempts:2 single-request"), [rule(EXTERNAL_FQDN, "ANSWER")]),
    case("single_request_a_timeout", "single-request; first candidate: A never answered, AAAA answered",
         EXTERNAL, conf(options="ndots:5 timeout:1 attempts:2 single-request"),
         [rule("api.example.com.default.svc.cluster.local.", "TIMEOUT", "A"),
          rule("api.example.com.default.svc.cluster.local.", "ANSWER", "AAAA")]),
    case("single_request_servfail", "single-request; first candidate SERVFAIL; name as given answered",
         EXTERNAL, conf(options="ndots:5 timeout:1 attempts:2 single-request"),
         [rule("api.example.com.default.svc.cluster.local.", "SERVFAIL"), rule(EXTERNAL_FQDN, "ANSWER")]),
    case("single_request_reopen", "single-request-reopen, all NXDOMAIN but the name as given", EXTERNAL,
         conf(options="ndots:5 timeout:1 attempts:2 single-request-reopen"), [rule(EXTERNAL_FQDN, "ANSWER")]),
    case("two_nameservers", "two nameservers, all NXDOMAIN but the name as given", EXTERNAL,
         conf(nameservers=(NS1, NS2)), [rule(EXTERNAL_FQDN, "ANSWER")], live=True),
    case("rotate", "two nameservers with rotate, all NXDOMAIN but the name as given", EXTERNAL,
         conf(nameservers=(NS1, NS2), options="ndots:5 timeout:1 attempts:2 rotate"),
         [rule(EXTERNAL_FQDN, "ANSWER")], repeat=4),
    case("first_ns_silent", "first nameserver never answers; second answers the name as given", EXTERNAL,
         conf(nameservers=(NS1, NS2)), [rule("*", "TIMEOUT", nameserver=NS1), rule(EXTERNAL_FQDN, "ANSWER")],
         live=True),
    case("first_ns_servfail", "first nameserver SERVFAILs everything; second answers the name as given",
         EXTERNAL, conf(nameservers=(NS1, NS2)),
         [rule("*", "SERVFAIL", nameserver=NS1), rule(EXTERNAL_FQDN, "ANSWER")]),
    case("first_ns_servfail_second_silent", "first nameserver SERVFAILs, second never answers; trailing dot",
         EXTERNAL_FQDN, conf(nameservers=(NS1, NS2)), [rule("*", "SERVFAIL", nameserver=NS1)],
         default="TIMEOUT"),
    case("servfail_then_silent_candidate", "first candidate: first nameserver SERVFAIL, second silent",
         EXTERNAL, conf(nameservers=(NS1, NS2)),
         [rule("api.example.com.default.svc.cluster.local.", "SERVFAIL", nameserver=NS1),
          rule("api.example.com.default.svc.cluster.local.", "TIMEOUT", nameserver=NS2),
          rule(EXTERNAL_FQDN, "ANSWER")]),
    case("three_ns_silent", "three silent nameservers, timeout:2 attempts:1, trailing dot", EXTERNAL_FQDN,
         conf(nameservers=(NS1, NS2, NS3), options="ndots:5 timeout:2 attempts:1"), default="TIMEOUT"),
    case("inet_dotted_external", "IPv4 only: two-dot name answered only as given", EXTERNAL, conf(),
         [rule(EXTERNAL_FQDN, "ANSWER")], family="inet"),
    case("inet_servfail_candidate", "IPv4 only: second candidate SERVFAIL; name as given answered", EXTERNAL,
         conf(), [rule("api.example.com.svc.cluster.local.", "SERVFAIL"), rule(EXTERNAL_FQDN, "ANSWER")],
         family="inet", live=True),
    case("inet_timeout_candidate", "IPv4 only: second candidate never answered; name as given answered",
         EXTERNAL, conf(), [rule("api.example.com.svc.cluster.local.", "TIMEOUT"), rule(EXTERNAL_FQDN, "ANSWER")],
         family="inet"),
    case("no_tld_query", "no-tld-query, dotless name, all NXDOMAIN", "web",
         conf(options="ndots:5 timeout:1 attempts:2 no-tld-query")),
    case("search_root_dot", "search list holding only '.', dotless name answered as given", "web",
         conf(search="."), [rule("web.", "ANSWER")]),
    case("domain_line", "a domain line instead of search", "web",
         conf(search=None, extra="domain corp.example\n")),
    case("two_search_lines", "two search lines: the last one counts", "web",
         conf(search="first.example", extra="search second.example third.example\n")),
]


def case_by_id(case_id: str) -> dict[str, Any]:
    for item in CASES:
        if item["id"] == case_id:
            return item
    raise KeyError(case_id)


def listening_addresses(item: dict[str, Any]) -> list[str]:
    """Every nameserver address the case's resolv.conf names (loopback only)."""
    found = []
    for line in item["resolv_conf"].splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver" and fields[1].startswith("127."):
            found.append(fields[1])
    return found or [NS1]
