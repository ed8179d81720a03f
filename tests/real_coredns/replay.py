"""What the kalc_formal model predicts for a recorded real-CoreDNS experiment.

The model's static server (``kalc_formal.coredns.server``, from the experiment's Corefile
through ``plugins.configure`` and ``plans.setup_from_config``) answers each client
query with a tree of operations: cache lookups with their kept time, autopath walks,
upstream exchanges. ``predict`` runs the client queries of an experiment in time
order through that tree with an exact per-key cache (a key is kept exactly the
model's duration), and returns, per query, the upstream exchanges the model says it
makes and the reply it gives. The Corefile is read as the model reads a cluster's:
the stand-in's ``autopath_search`` becomes the node's search path, and the stand-in's
mapping of 127.0.1.K to namespace nsK is ``pods verified``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from kalc_formal.analysis.keyclasses import (
    KeyClassBuilder,
    KeyPeak,
    NamePlaceholder,
    NamespacePlaceholder,
)
from kalc_formal.coredns.corefile import parse_corefile
from kalc_formal.coredns.plans import setup_from_config
from kalc_formal.coredns.plugins import CoreDNSVersion, configure
from kalc_formal.coredns.server import (
    CacheLookup,
    Client,
    ForwardStep,
    Operation,
    Query,
    Server,
    ServerReply,
    UpstreamExchange,
    Walk,
)
from kalc_formal.source import Source

MODEL_UPSTREAMS = {"UP1": "10.0.0.1", "UP2": "10.0.0.2"}
UPSTREAM_NAMES = {address: name for name, address in MODEL_UPSTREAMS.items()}


def model_corefile(template: str) -> tuple[str, tuple[str, ...]]:
    """The experiment's Corefile as the model reads it, and the node search path."""
    search = tuple(re.findall(r"^\s*autopath_search\s+(.+?)\s*$", template, flags=re.M))
    text = re.sub(r"^\s*autopath_search\s+.*\n", "", template, flags=re.M)
    text = re.sub(r"(kubernetes [^{\n]*\{\n)", r"\1        pods verified\n", text)
    text = text.replace("{PORT}", "53")
    for name, address in MODEL_UPSTREAMS.items():
        text = text.replace(f"{{{name}}}", address)
    return text, tuple(s for line in search for s in line.split())


def model_forwards(template: str, release: str) -> list[ForwardStep]:
    setup, _search = _setup(template, release)
    return [step for block in setup.blocks for step in block.steps if isinstance(step, ForwardStep)]


def _setup(template: str, release: str) -> Any:
    text, search = model_corefile(template)
    config = configure(parse_corefile(Source("Corefile", text)), version=CoreDNSVersion.parse(release))
    setup = setup_from_config(config, node_nameservers=("10.0.0.1",), node_search=search)
    return setup, search


def model_failed_sends(observation: dict[str, Any], index: int) -> tuple[tuple[int, int], ...]:
    """The model's ``failed_sends`` (delay in 1 s steps, packets) of the key class that
    the ``index``-th client query of ``observation`` meets first, as ``flows`` builds it."""
    setup, search = _setup(observation["corefile"], observation["release"])
    rules = observation["world"]
    server = Server(setup.blocks, lambda q, t: world_reply(rules, q, t), lambda q, t: None,
                    own_search=tuple(f"{s.rstrip('.')}." for s in search))
    query = observation["queries"][index]
    served = server.serve(Query(query["qname"], query["qtype"]), client_for(query["source"]))
    forwards = [step for block in setup.blocks for step in block.steps if isinstance(step, ForwardStep)]
    builder = KeyClassBuilder(
        "replica", 1, {f.id: ("upstream",) for f in forwards},
        {f.id: f.send_times() for f in forwards}, {f.id: f.servfail_times() for f in forwards},
    )
    name = NamePlaceholder("name", query["qname"], 1)
    namespace = NamespacePlaceholder("kf-ns-p0", 1)
    builder.add_query("flow", served.operations, name, namespace, 0.0, KeyPeak(1, 1))
    (first,) = builder.register(served.operations, name, namespace)
    return next(k.failed_sends for k in builder.key_classes() if k.id == first)


def world_reply(rules: list[dict[str, Any]], qname: str, qtype: str) -> ServerReply:
    """The counting upstream's answer (at time 0) as the model's World gives it."""
    for rule in rules:
        name = rule.get("name", "*")
        if rule.get("from", 0.0) > 0.0:
            continue
        if name != "*" and not (name.startswith("*.") and qname.endswith(name[1:])) and name != qname:
            continue
        if rule.get("qtype", "*") not in ("*", qtype):
            continue
        kind, ttl = rule["kind"], int(rule.get("ttl", 30))
        if kind == "ANSWER":
            return ServerReply("NOERROR", answer=qtype in ("A", "AAAA"), ttl=ttl)
        if kind == "NODATA":
            return ServerReply("NOERROR", ttl=ttl)
        if kind == "NXDOMAIN":
            return ServerReply("NXDOMAIN", ttl=ttl)
        if kind == "NXDOMAIN_NOSOA":
            return ServerReply("NXDOMAIN", soa=False)
        return ServerReply("SERVFAIL")
    return ServerReply("NXDOMAIN", ttl=30)


def client_for(source: str) -> Client:
    if source.startswith("127.0.1."):
        return Client(f"ns{source.rsplit('.', 1)[1]}")
    return Client("not-a-pod", autopath_visible=False)


@dataclass(frozen=True)
class Exchange:
    qname: str
    qtype: str
    upstreams: tuple[str, ...]
    packets: int
    failed: bool = False


@dataclass(frozen=True)
class Prediction:
    exchanges: tuple[Exchange, ...]
    rcode: str
    hit_ttl: int | None
    """When the client's query was answered from a cache: the model's kept seconds."""


def predict(observation: dict[str, Any], outage_from: float = math.inf) -> list[Prediction]:
    """Per client query of ``observation`` (in its recorded order), what the model does;
    from ``outage_from`` seconds on every exchange fails and is not cached (A24, D7)."""
    setup, search = _setup(observation["corefile"], observation["release"])
    rules = observation["world"]
    server = Server(setup.blocks, lambda q, t: world_reply(rules, q, t), lambda q, t: None,
                    own_search=tuple(f"{s.rstrip('.')}." for s in search))
    queries = observation["queries"]
    replies = observation["replies"]
    order = sorted(range(len(queries)), key=lambda i: replies[i].get("sent", queries[i]["time"]))
    kept: dict[tuple[str, str, str], float] = {}
    result: dict[int, Prediction] = {}
    for index in order:
        query = queries[index]
        at = replies[index].get("sent", query["time"])
        served = server.serve(Query(query["qname"], query["qtype"]), client_for(query["source"]))
        exchanges: list[Exchange] = []
        hits: list[int] = []
        _run(served.operations, at, kept, exchanges, hits, at >= outage_from)
        result[index] = Prediction(tuple(exchanges), served.reply.rcode, hits[0] if hits else None)
    return [result[i] for i in range(len(queries))]


def _run(operations: tuple[Operation, ...], at: float, kept: dict[tuple[str, str, str], float],
         exchanges: list[Exchange], hits: list[int], failing: bool) -> bool:
    """Run ``operations`` at ``at``; True when an exchange among them failed."""
    for operation in operations:
        if isinstance(operation, CacheLookup):
            key = (operation.cache, operation.query.qname, operation.query.qtype)
            if key in kept and at < kept[key]:
                hits.append(operation.duration)
                continue
            if _run(operation.on_miss, at, kept, exchanges, hits, failing):
                return True
            if operation.pool is not None and operation.duration > 0:
                kept[key] = at + operation.duration
        elif isinstance(operation, Walk):
            if _run(operation.internal, at, kept, exchanges, hits, failing):
                return True
        elif isinstance(operation, UpstreamExchange):
            names = tuple(UPSTREAM_NAMES.get(t, t) for t in operation.targets)
            exchanges.append(Exchange(operation.query.qname, operation.query.qtype, names,
                                      operation.packets, failing))
            if failing:
                return True
    return False


def observed_per_query(observation: dict[str, Any]) -> list[list[tuple[str, str, str, str]]]:
    """Per client query, the upstream queries (upstream, qname, qtype, transport) that
    arrived after its scheduled time and before the next client query's (health probes,
    qname '.', left out)."""
    replies = observation["replies"]
    sent = sorted((q["time"], i) for i, q in enumerate(observation["queries"]))
    result: list[list[tuple[str, str, str, str]]] = [[] for _ in replies]
    for name, upstream in observation["upstream"].items():
        for packet in upstream["queries"]:
            if packet["qname"] == ".":
                continue
            owner = None
            for at, index in sent:
                if at <= packet["time"]:
                    owner = index
            if owner is not None:
                result[owner].append((name, packet["qname"], packet["qtype"], packet["transport"]))
    return result


def forward_figures(observation: dict[str, Any]) -> dict[str, Any]:
    """Per client query, the offsets of its sends; per reply, seconds until it came;
    the health probes' times."""
    upstream = observation["upstream"]["UP1"]["queries"]
    sends: dict[int, list[float]] = {}
    for index, query in enumerate(observation["queries"]):
        later = [q["time"] for q in observation["queries"][index + 1:] if q["qname"] == query["qname"]]
        until = later[0] if later else math.inf
        sends[index] = [p["time"] - query["time"] for p in upstream
                        if p["qname"] == query["qname"] and query["time"] <= p["time"] < until]
    servfail = [r["received"] - r["sent"] if r["reply"] else None for r in observation["replies"]]
    probes = sorted(p["time"] for p in upstream if p["qname"] == ".")
    return {"sends": sends, "servfail": servfail, "probes": probes}
