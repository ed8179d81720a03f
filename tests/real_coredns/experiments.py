"""The real-CoreDNS experiments: each one a Corefile, a world for the counting
upstream(s), and client queries with times and source addresses.

An experiment's ``rule`` says which rule of specs/model.md (sections 1 and 4) it
checks and ``facts`` the reference facts behind it. ``run`` performs one experiment
on one release and returns its observation (what tests/data/coredns_observations/
holds). Source 127.0.1.K is a pod in namespace nsK for the `kubernetes` stand-in;
127.0.0.1 is not a pod.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server import RELEASES, ClientQuery, CoreDNS, binary, free_port, run_clients
from upstream import CountingUpstream

NOT_A_POD = "127.0.0.1"


def pod(namespace: int) -> str:
    return f"127.0.1.{namespace}"


@dataclass(frozen=True)
class Experiment:
    id: str
    rule: str
    facts: tuple[str, ...]
    corefile: str
    world: tuple[dict[str, Any], ...]
    queries: tuple[ClientQuery, ...]
    upstreams: int = 1
    delay: float = 0.0
    wait: float = 3.0
    settle: float = 0.5
    releases: tuple[str, ...] = RELEASES
    live_releases: tuple[str, ...] = ()
    """The releases on which it is part of the fast subset re-run live in CI."""
    sequential: bool = True
    """Queries are far enough apart that each upstream packet belongs to the latest
    client query sent before it."""
    extra: dict[str, str] = field(default_factory=dict)
    sniff: bool = True
    """Count the IP packets to the upstream (where raw sockets are allowed)."""


def _block(body: str, zone: str = ".") -> str:
    lines = "\n".join(f"    {line}" if line else "" for line in body.strip("\n").split("\n"))
    return f"{zone}:{{PORT}} {{\n    bind 127.0.0.1\n{lines}\n}}\n"


def _spaced(start: float, gap: float, source: str, names: list[str], qtype: str = "A") -> list[ClientQuery]:
    return [ClientQuery(round(start + i * gap, 3), source, n, qtype) for i, n in enumerate(names)]


ANSWER_ALL = ({"name": "*", "kind": "ANSWER", "ttl": 30},)

AUTOPATH_K8S = _block("""
errors
autopath @kubernetes
kubernetes cluster.local {
    ttl 30
    autopath_search ec2.internal
}
cache 30
forward . {UP1}
""")

EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        "routing_longest_zone",
        "a query goes to the server block with the longest matching zone",
        ("A23",),
        _block("forward . {UP1}") + _block("forward . {UP2}", "example.org.")
        + _block("forward . {UP1}", "sub.example.org."),
        ANSWER_ALL,
        tuple(_spaced(0.0, 0.3, NOT_A_POD, ["a.example.com.", "b.example.org.", "c.sub.example.org.",
                                            "example.org.", "sub.example.org."])),
        upstreams=2, live_releases=RELEASES,
    ),
    Experiment(
        "autopath_chain_order",
        "autopath walk: candidates sent upstream, what is cached under which name; "
        "cache before autopath up to 1.14.6, autopath before cache from 1.14.7",
        ("B2", "B3", "C1", "C5", "C6", "C8", "C14", "D8"),
        AUTOPATH_K8S,
        ({"name": "*.ec2.internal.", "kind": "NXDOMAIN", "ttl": 30}, {"name": "*", "kind": "ANSWER", "ttl": 30}),
        (
            ClientQuery(0.0, pod(1), "foo.ns1.svc.cluster.local."),
            ClientQuery(0.4, pod(1), "foo.ns1.svc.cluster.local."),
            ClientQuery(0.8, pod(2), "foo.ns2.svc.cluster.local."),
            ClientQuery(1.2, pod(1), "foo.ec2.internal."),
            ClientQuery(1.6, pod(1), "foo."),
            ClientQuery(2.0, NOT_A_POD, "foo.ns3.svc.cluster.local."),
            ClientQuery(2.4, pod(3), "bar.ns3.svc.cluster.local.", "AAAA"),
            ClientQuery(2.8, pod(4), "bar.ns4.svc.cluster.local.", "AAAA"),
            ClientQuery(3.2, pod(5), "x.svc.cluster.local."),
        ),
        live_releases=RELEASES,
    ),
    Experiment(
        "hosts_and_forward_except",
        "hosts answers its inline names locally (NODATA for a missing type) and falls through "
        "for the rest; forward does not send names under `except`",
        ("E2", "A24"),
        _block("errors\nhosts {\n    192.0.2.10 known.example\n    fallthrough\n}\n"
               "forward . {UP1} {\n    except internal.example\n}"),
        ANSWER_ALL,
        (
            ClientQuery(0.0, NOT_A_POD, "known.example."),
            ClientQuery(0.3, NOT_A_POD, "known.example.", "AAAA"),
            ClientQuery(0.6, NOT_A_POD, "other.example."),
            ClientQuery(0.9, NOT_A_POD, "x.internal.example."),
            ClientQuery(1.2, NOT_A_POD, "internal.example."),
        ),
        live_releases=("1.14.7",),
    ),
    Experiment(
        "kubernetes_local",
        "names in the kubernetes zone are answered locally (NXDOMAIN + SOA min(ttl, 300)), "
        "other names forwarded; no autopath without the plugin",
        ("C10", "F1", "F2"),
        _block("errors\nkubernetes cluster.local {\n    ttl 30\n}\ncache 30\nforward . {UP1}"),
        ANSWER_ALL,
        tuple(_spaced(0.0, 0.3, pod(1), ["web.ns1.svc.cluster.local.", "web.ns1.svc.cluster.local.",
                                          "api.example.com.", "api.example.com."])),
        live_releases=RELEASES,
    ),
    Experiment(
        "cache_ttl_bounds",
        "cache pools and TTL bounds: kept min(max(TTL, min), max) seconds; denial pool for "
        "NXDOMAIN and NODATA; NXDOMAIN without SOA not kept; an upstream's SERVFAIL",
        ("D2", "D4", "D5", "D6", "D7"),
        _block("errors\ncache {\n    success 1000 8 3\n    denial 1000 4 2\n}\nforward . {UP1}"),
        (
            {"name": "long.example.", "kind": "ANSWER", "ttl": 60},
            {"name": "short.example.", "kind": "ANSWER", "ttl": 1},
            {"name": "nx.example.", "kind": "NXDOMAIN", "ttl": 60},
            {"name": "nosoa.example.", "kind": "NXDOMAIN_NOSOA", "ttl": 60},
            {"name": "nodata.example.", "kind": "NODATA", "ttl": 60},
            {"name": "sf.example.", "kind": "SERVFAIL", "ttl": 60},
        ),
        tuple(
            [ClientQuery(t, NOT_A_POD, "long.example.") for t in (0.0, 6.5, 9.5)]
            + [ClientQuery(t, NOT_A_POD, "short.example.") for t in (0.1, 1.6, 4.6)]
            + [ClientQuery(t, NOT_A_POD, "nx.example.") for t in (0.2, 2.7, 5.7)]
            + [ClientQuery(t, NOT_A_POD, "nosoa.example.") for t in (0.3, 1.3, 2.3)]
            + [ClientQuery(t, NOT_A_POD, "nodata.example.", "AAAA") for t in (0.4, 2.9, 5.9)]
            + [ClientQuery(t, NOT_A_POD, "sf.example.") for t in (0.5, 1.5, 3.5, 6.8)]
        ),
        settle=0.5,
    ),
    Experiment(
        "cache_default_maxima",
        "`cache` without options keeps positive answers at most 3600 s and denials at most 1800 s",
        ("D4",),
        _block("errors\ncache\nforward . {UP1}"),
        ({"name": "long.example.", "kind": "ANSWER", "ttl": 7200},
         {"name": "nx.example.", "kind": "NXDOMAIN", "ttl": 7200}),
        tuple(_spaced(0.0, 0.3, NOT_A_POD, ["long.example.", "long.example.", "nx.example.", "nx.example."])),
        live_releases=RELEASES,
    ),
    Experiment(
        "forward_silent_upstream",
        "forward to a silent upstream: sends per failed query and their times, when the "
        "client gets SERVFAIL, the upstream marked down, health probes, SERVFAIL not cached",
        ("E5", "E6", "E7", "E8", "D7", "A24"),
        _block("errors\ncache 30\nforward . {UP1}"),
        ({"name": "*", "kind": "SILENT", "ttl": 30},),
        tuple([ClientQuery(float(i), NOT_A_POD, f"q{i}.example.") for i in range(12)]
              + [ClientQuery(12.5, NOT_A_POD, "q0.example.")]),
        wait=8.0, settle=1.0, sequential=False, live_releases=("1.14.7",),
    ),
    Experiment(
        "forward_policy_random",
        "forward policy: each exchange goes to one upstream (random)",
        ("E4",),
        _block("errors\nforward . {UP1} {UP2} {\n    policy random\n}"),
        ANSWER_ALL,
        tuple(_spaced(0.0, 0.05, NOT_A_POD, [f"r{i}.example." for i in range(20)])),
        upstreams=2, live_releases=RELEASES,
    ),
    Experiment(
        "forward_policy_round_robin",
        "forward policy: each exchange goes to one upstream (round_robin)",
        ("E4",),
        _block("errors\nforward . {UP1} {UP2} {\n    policy round_robin\n}"),
        ANSWER_ALL,
        tuple(_spaced(0.0, 0.05, NOT_A_POD, [f"r{i}.example." for i in range(20)])),
        upstreams=2,
    ),
    Experiment(
        "forward_policy_sequential",
        "forward policy: each exchange goes to one upstream (sequential: the first)",
        ("E4",),
        _block("errors\nforward . {UP1} {UP2} {\n    policy sequential\n}"),
        ANSWER_ALL,
        tuple(_spaced(0.0, 0.05, NOT_A_POD, [f"r{i}.example." for i in range(20)])),
        upstreams=2,
    ),
    Experiment(
        "cache_prefetch",
        "prefetch: a popular entry is refreshed before it expires (the model: kept only "
        "until the prefetch point, then a miss)",
        ("D11",),
        _block("errors\ncache 30 {\n    prefetch 10 1m 10%\n}\nforward . {UP1}"),
        ({"name": "*", "kind": "ANSWER", "ttl": 10},),
        tuple([ClientQuery(round(0.1 * i, 2), NOT_A_POD, "pf.example.") for i in range(12)]
              + [ClientQuery(t, NOT_A_POD, "pf.example.") for t in (9.4, 9.7, 10.6, 12.0)]),
        settle=1.0,
    ),
    Experiment(
        "cache_serve_stale",
        "serve_stale: an expired entry is answered stale and refreshed; during an outage "
        "clients keep getting the stale answer",
        ("D12",),
        _block("errors\ncache 30 {\n    serve_stale\n}\nforward . {UP1}"),
        ({"name": "*", "kind": "ANSWER", "ttl": 5, "until": 7.0},
         {"name": "*", "kind": "SILENT", "ttl": 5, "from": 7.0}),
        tuple([ClientQuery(0.0, NOT_A_POD, "ss.example."), ClientQuery(6.5, NOT_A_POD, "ss.example.")]
              + [ClientQuery(round(8.0 + 0.5 * i, 2), NOT_A_POD, "ss.example.") for i in range(25)]),
        wait=8.0, settle=2.0, sequential=False,
    ),
    Experiment(
        "cache_capacity",
        "cache capacity: more keys than the pool holds -> misses again (arbitrary eviction); "
        "the pool is 256 shards of max(4, capacity // 256)",
        ("D3",),
        _block("errors\ncache 300 {\n    success 1\n}\nforward . {UP1}"),
        ANSWER_ALL,
        tuple(
            [ClientQuery(round(0.002 * i, 4), NOT_A_POD, f"k{i}.small.") for i in range(100)]
            + [ClientQuery(round(0.3 + 0.002 * i, 4), NOT_A_POD, f"k{i}.small.") for i in range(100)]
            + [ClientQuery(round(0.6 + 0.002 * i, 4), NOT_A_POD, f"k{i}.mid.") for i in range(600)]
            + [ClientQuery(round(2.0 + 0.002 * i, 4), NOT_A_POD, f"k{i}.mid.") for i in range(600)]
            + [ClientQuery(round(3.4 + 0.002 * i, 4), NOT_A_POD, f"k{i}.big.") for i in range(1200)]
            + [ClientQuery(round(6.0 + 0.002 * i, 4), NOT_A_POD, f"k{i}.big.") for i in range(1200)]
        ),
        wait=2.0, settle=0.5, sequential=False, sniff=False,
    ),
    Experiment(
        "coincident_misses",
        "identical misses at the same time (recorded only: issue 7 item 1, modelled by the lead)",
        ("D10",),
        AUTOPATH_K8S,
        ({"name": "*.ec2.internal.", "kind": "NXDOMAIN", "ttl": 30}, {"name": "*", "kind": "ANSWER", "ttl": 30}),
        tuple([ClientQuery(0.0, NOT_A_POD, "burst.example.") for _ in range(50)]
              + [ClientQuery(1.0, pod(1 + i), f"walk.ns{1 + i}.svc.cluster.local.") for i in range(50)]),
        delay=0.02, sequential=False,
    ),
)


def by_id(experiment_id: str) -> Experiment:
    return next(e for e in EXPERIMENTS if e.id == experiment_id)


def fill(corefile: str, port: int, upstreams: list[str], extra: dict[str, str]) -> str:
    text = corefile.replace("{PORT}", str(port))
    for index, address in enumerate(upstreams, start=1):
        text = text.replace(f"{{UP{index}}}", address)
    for key, value in extra.items():
        text = text.replace(f"{{{key}}}", value)
    return text


def run(experiment: Experiment, release: str, cache_dir: Path) -> dict[str, Any]:
    """Perform ``experiment`` on ``release`` once; its observation."""
    executable = binary(release, cache_dir)
    upstreams = [CountingUpstream(list(experiment.world), experiment.delay, experiment.sniff) for _ in range(experiment.upstreams)]
    port = free_port()
    corefile = fill(experiment.corefile, port, [u.address for u in upstreams], experiment.extra)
    with tempfile.TemporaryDirectory(prefix="kf-coredns-") as workdir:
        server = CoreDNS(executable, corefile, Path(workdir))
        try:
            server.start()
            t0 = time.monotonic() + 0.3
            for upstream in upstreams:
                upstream.start(t0)
            replies = run_clients(port, list(experiment.queries), t0, experiment.wait)
            end = t0 + max(q.time for q in experiment.queries) + experiment.settle
            time.sleep(max(0.0, end - time.monotonic()))
        finally:
            server.stop()
            for upstream in upstreams:
                upstream.stop()
    return {
        "replies": [
            None if r["reply"] is None else
            [r.get("sent"), r.get("received"), r["reply"]["rcode"], r["reply"]["answers"], r["reply"]["ttl"]]
            for r in replies
        ],
        "upstream": {
            f"UP{i}": {
                "queries": [[q["time"], q["transport"], q["qname"], q["qtype"], q["reply"]] for q in u.queries],
                "ip_packets": [[p["time"], p["protocol"], p["flags"]] for p in u.ip_packets]
                if u.counts_ip_packets and experiment.sniff else None,
            }
            for i, u in enumerate(upstreams, start=1)
        },
    }


def document(experiment: Experiment, runs: dict[str, Any]) -> dict[str, Any]:
    """The recorded file of ``experiment``: its definition and one run per release."""
    return {
        "experiment": experiment.id,
        "rule": experiment.rule,
        "facts": list(experiment.facts),
        "corefile": experiment.corefile,
        "world": list(experiment.world),
        "delay": experiment.delay,
        "sequential": experiment.sequential,
        "queries": [[q.time, q.source, q.qname, q.qtype] for q in experiment.queries],
        "runs": runs,
    }


def expand(document: dict[str, Any], release: str, run: dict[str, Any] | None = None) -> dict[str, Any]:
    """One run of a recorded document (or ``run``) as named fields."""
    run = run if run is not None else document["runs"][release]
    replies = []
    for row in run["replies"]:
        if row is None:
            replies.append({"reply": None})
        else:
            replies.append({"sent": row[0], "received": row[1],
                            "reply": {"rcode": row[2], "answers": row[3], "ttl": row[4]}})
    return {
        "experiment": document["experiment"], "release": release, "corefile": document["corefile"],
        "world": document["world"], "sequential": document["sequential"],
        "queries": [{"time": q[0], "source": q[1], "qname": q[2], "qtype": q[3]} for q in document["queries"]],
        "replies": replies,
        "upstream": {
            name: {
                "queries": [{"time": q[0], "transport": q[1], "qname": q[2], "qtype": q[3], "reply": q[4]}
                            for q in upstream["queries"]],
                "ip_packets": None if upstream["ip_packets"] is None else
                [{"time": p[0], "protocol": p[1], "flags": p[2]} for p in upstream["ip_packets"]],
            }
            for name, upstream in run["upstream"].items()
        },
    }
