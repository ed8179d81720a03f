"""Compare an observation of a real resolver with kalc_formal.clients.resolver's simulation.

Where the real library was deterministic the packet sequence must match exactly
(qname, qtype, nameserver, in order) and each packet's time within TIME_SLACK.
Where it was not, only the stable part is compared, for the reason given in
NONDETERMINISM. The outcome (success or failure) and the lookup's duration must
match in every case.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from kalc_formal.clients.resolvconf import Libc, ResolvConf
from kalc_formal.clients.resolver import (
    ClientReply,
    LookupTrace,
    ReplyFunction,
    simulate_lookup,
)

TIME_SLACK = 0.12
"""Seconds a packet's recorded time may differ from the model's (scheduling)."""
DURATION_SLACK = 0.2

NONDETERMINISM = {
    "go": "Go sends A and AAAA from two goroutines: their order varies per run, so each "
          "candidate name's packets are compared as a multiset, candidates in order",
    "musl-servers": "musl sends to every nameserver at once; the probe server reads its "
                    "sockets in turn, so only each nameserver's own sequence is ordered",
    ("rotate", "glibc"): "glibc starts `rotate` at a random nameserver per process; the "
                         "sequence must match the model's up to which server comes first",
    ("rotate", "go"): "Go gives A and AAAA successive rotation offsets in whichever order its "
                      "goroutines run; per candidate, one query goes to each nameserver",
    ("first_ns_servfail", "musl"): "musl re-sends a SERVFAIL at once unless the other "
                                   "server's reply came first, which is timing-dependent: "
                                   "the second server's packets match exactly, the first's "
                                   "re-sends number at most the model's",
}


def reply_function(case: dict[str, Any]) -> ReplyFunction:
    """The probe server's rules as a reply function: first matching rule wins."""
    rules = case["rules"]
    default = ClientReply(case["default"])

    def reply(qname: str, qtype: str, nameserver: str) -> ClientReply:
        for rule in rules:
            if (rule["qname"] in ("*", qname.lower()) and rule["qtype"] in ("*", qtype)
                    and rule["nameserver"] in ("*", nameserver)):
                return ClientReply(rule["reply"])
        return default

    return reply


FAMILY_QTYPES = {"unspec": ("A", "AAAA"), "inet": ("A",)}


def model_trace(case: dict[str, Any], libc: str) -> LookupTrace:
    return simulate_lookup(case["name"], ResolvConf(text=case["resolv_conf"]), Libc(libc), reply_function(case),
                           qtypes=FAMILY_QTYPES[case.get("family", "unspec")])


Packet = tuple[str, str, str, float]


def _observed(run: dict[str, Any]) -> list[Packet]:
    return [(p["qname"], p["qtype"], p["nameserver"], float(p["time"])) for p in run["packets"]]


def _modelled(trace: LookupTrace) -> list[Packet]:
    """The model's packets as the probe server logs them: a name no server can
    parse is logged as <malformed>."""
    out = []
    for p in trace.packets:
        malformed = p.qname.endswith("..")
        out.append(("<malformed>" if malformed else p.qname, "?" if malformed else p.qtype, p.nameserver, p.time))
    return out


def comparison_mode(case: dict[str, Any], libc: str) -> str:
    """Which part of the sequence is stable for this case and library."""
    if (case["id"], libc) in NONDETERMINISM:
        return f"{case['id']}/{libc}"
    servers = {line.split()[1] for line in case["resolv_conf"].splitlines() if line.startswith("nameserver ")}
    if libc == "go":
        return "go"
    if libc == "musl" and len(servers) > 1:
        return "musl-servers"
    return "exact"


def compare(case: dict[str, Any], libc: str, run: dict[str, Any]) -> list[str]:
    """Every difference between the recorded run and the model; empty when they agree."""
    trace = model_trace(case, libc)
    problems = []
    if run["result"] != trace.result:
        problems.append(f"result: real {run['result']}, model {trace.result}")
    if abs(float(run["elapsed"]) - trace.duration) > DURATION_SLACK:
        problems.append(f"duration: real {run['elapsed']} s, model {trace.duration} s")
    observed, modelled = _observed(run), _modelled(trace)
    mode = comparison_mode(case, libc)
    checker = {
        "exact": _exact,
        "go": _per_candidate,
        "musl-servers": _per_nameserver,
        "rotate/glibc": _rotated,
        "rotate/go": _rotate_go,
        "first_ns_servfail/musl": _servfail_race,
    }[mode]
    problems.extend(checker(observed, modelled))
    return problems


def _describe(packets: list[Packet]) -> str:
    return ", ".join(f"{q}/{t}@{ns}" for q, t, ns, _ in packets)


def _exact(observed: list[Packet], modelled: list[Packet]) -> list[str]:
    if [p[:3] for p in observed] != [p[:3] for p in modelled]:
        return [f"sequence differs:\n  real:  {_describe(observed)}\n  model: {_describe(modelled)}"]
    return _times(observed, modelled)


def _times(observed: list[Packet], modelled: list[Packet]) -> list[str]:
    late = [(o, m) for o, m in zip(observed, modelled, strict=True) if abs(o[3] - m[3]) > TIME_SLACK]
    return [f"time of {o[0]}/{o[1]}@{o[2]}: real {o[3]}, model {m[3]}" for o, m in late]


def _candidates(packets: list[Packet]) -> list[tuple[str, list[Packet]]]:
    groups: dict[str, list[Packet]] = {}
    for packet in packets:
        groups.setdefault(packet[0], []).append(packet)
    return list(groups.items())


def _per_candidate(observed: list[Packet], modelled: list[Packet]) -> list[str]:
    real, model = _candidates(observed), _candidates(modelled)
    if [name for name, _ in real] != [name for name, _ in model]:
        return [f"candidate order differs: real {[n for n, _ in real]}, model {[n for n, _ in model]}"]
    problems = []
    for (name, got), (_, want) in zip(real, model, strict=True):
        if Counter(p[1:3] for p in got) != Counter(p[1:3] for p in want):
            problems.append(f"{name}: real {_describe(got)}; model {_describe(want)}")
        elif sorted(p[3] for p in got) and any(
                abs(a - b) > TIME_SLACK for a, b in zip(sorted(p[3] for p in got), sorted(p[3] for p in want),
                                                       strict=True)):
            problems.append(f"{name}: times differ: real {[p[3] for p in got]}, model {[p[3] for p in want]}")
    return problems


def _per_nameserver(observed: list[Packet], modelled: list[Packet]) -> list[str]:
    problems = []
    for server in sorted({p[2] for p in observed} | {p[2] for p in modelled}):
        got = [p for p in observed if p[2] == server]
        want = [p for p in modelled if p[2] == server]
        problems.extend(f"nameserver {server}: {problem}" for problem in _exact(got, want))
    return problems


def _rotated(observed: list[Packet], modelled: list[Packet]) -> list[str]:
    servers = sorted({p[2] for p in modelled})
    for shift in range(len(servers)):
        mapping = {s: servers[(i + shift) % len(servers)] for i, s in enumerate(servers)}
        shifted = [(q, t, mapping[ns], at) for q, t, ns, at in modelled]
        if not _exact(observed, shifted):
            return []
    return [f"no choice of first server explains it:\n  real:  {_describe(observed)}\n  model: {_describe(modelled)}"]


def _rotate_go(observed: list[Packet], modelled: list[Packet]) -> list[str]:
    real, model = _candidates(observed), _candidates(modelled)
    if [name for name, _ in real] != [name for name, _ in model]:
        return ["candidate order differs"]
    problems = []
    for (name, got), (_, want) in zip(real, model, strict=True):
        if Counter(p[1] for p in got) != Counter(p[1] for p in want) or \
                Counter(p[2] for p in got) != Counter(p[2] for p in want):
            problems.append(f"{name}: real {_describe(got)}; model {_describe(want)}")
    return problems


def _servfail_race(observed: list[Packet], modelled: list[Packet]) -> list[str]:
    servers = sorted({p[2] for p in modelled})
    first, rest = servers[0], servers[1:]
    problems = []
    for server in rest:
        got = [p for p in observed if p[2] == server]
        want = [p for p in modelled if p[2] == server]
        problems.extend(f"nameserver {server}: {problem}" for problem in _exact(got, want))
    got_first = Counter(p[:2] for p in observed if p[2] == first)
    want_first = Counter(p[:2] for p in modelled if p[2] == first)
    for key, count in got_first.items():
        if not 1 <= count <= want_first[key]:
            problems.append(f"nameserver {first}: {key} sent {count} times, model {want_first[key]}")
    if set(got_first) != set(want_first):
        problems.append(f"nameserver {first}: queries differ: real {sorted(got_first)}, model {sorted(want_first)}")
    return problems
