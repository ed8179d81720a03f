"""Synthetic clusters for the scale benchmark: manifests and a kalc.yaml in a folder.

A ``Case`` says how big the cluster is (pods, namespaces, names, CoreDNS replicas),
what CoreDNS runs (version, autopath on or off), the horizon, and the verdict the
case is built for. ``write_case`` writes the folder; ``plan_case`` chooses the
lookup rates (and, where the cache's key count caps the load, the upstream limit)
so that the busiest CoreDNS replica's worst step lies well below the limit
(``proved``) or well above it (``unsafe``).

The generator bounds the busiest window with its own arithmetic, from specs/model.md
section 4 and the query path of each Corefile (specs/model.md section 1 and the
autopath rows there): from above, every query a key class gets may miss (identical
misses are not merged, and arbitrary arrival times and evictions allow it, D10, D3),
in each of the two steps a sliding one-second window can span; from below, one step
in which every key misses once (misses = min(queries, keys), live = 0):

- autopath on, CoreDNS <= 1.14.6 (cache before autopath, B2, C5): each client query
  (A and AAAA, one each per lookup) meets a per-namespace key (``names x namespaces``
  keys); a miss walks the search path and forwards 2 packets (``name.<host
  domain>`` and ``name.``), the cluster-zone candidates being answered locally.
- autopath off, or on from 1.14.7 (autopath before cache, B3): the upstream sees the
  shared keys ``name.<host domain>`` and ``name.``, A and AAAA, ``names`` keys each,
  1 packet per miss; every pod class that looks the name up queries the same keys.

In-cluster Service names are answered by the kubernetes plugin: no upstream packets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Literal

from benchmarks.manifest_text import (
    coredns_deployment,
    corefile_configmap,
    dns_service,
    hpa,
    service,
)
from benchmarks.manifest_text import namespace as namespace_text
from benchmarks.manifest_text import workload as workload_text
from kalc_formal.analysis.podclasses import lookups_per_step

Intent = Literal["proved", "unsafe"]

TTLS = (30, 5, 60, 300, 15, 120, 10, 600)
"""TTLs (seconds) of the external name classes, in turn."""
TIERS = ("web", "worker")
HOST_SEARCH = "ec2.internal"
NODE_NAMESERVER = "169.254.169.253"
AWS_LIMIT = 1024
SKEW = Fraction(1, 10)
BURST = 3
"""Surge rate over baseline rate, as in the incident example."""
LOOKUPS_PER_POD = 0.4
"""Baseline lookups per second per pod over all its names, where the intent allows."""
PROVED_LOAD = Fraction(1, 2)
UNSAFE_LOAD = 2
"""The worst step a case is built for, as a fraction of the upstream limit."""

COREFILE = """\
.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods PODS
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
AUTOPATH    prometheus :9153
    forward . /etc/resolv.conf {
        max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""

CONTAINER = """\
        ports:
        - containerPort: 8080
        resources:
          requests: {cpu: 100m, memory: 128Mi}
"""
"""What each workload's container says besides its name and image."""


@dataclass(frozen=True, slots=True)
class Case:
    """One synthetic cluster; ``None`` fields take the defaults described per field."""

    label: str
    pods: int
    namespaces: int
    names: int
    intent: Intent
    name_classes: int = 4
    services: int | None = None  # in-cluster Service names; default names // 10
    coredns_replicas: int = 2
    horizon: int = 60
    autopath: bool = True
    version: str = "1.11.1"
    workloads_per_namespace: int | None = None  # default: about 20 pods per workload
    tiers: int = 2  # pod classes: tier "web" looks up every name, "worker" external ones
    nodes: int | None = None  # default pods // 25
    limit: int = AWS_LIMIT
    calm_baseline: bool = True  # unsafe: the baseline alone stays under half the limit
    rates: tuple[str, str] | None = None  # (rate, surge_rate) as given, instead of planned

    def service_names(self) -> int:
        if self.services is not None:
            return self.services
        return self.names // 10

    def external_names(self) -> int:
        return self.names - self.service_names()

    def per_namespace(self) -> int:
        if self.workloads_per_namespace is not None:
            return self.workloads_per_namespace
        return max(1, round(self.pods / self.namespaces / 20))

    def node_count(self) -> int:
        return self.nodes if self.nodes is not None else max(1, self.pods // 25)

    def per_namespace_keys(self) -> bool:
        """True when autopath's per-namespace cache keys carry the upstream traffic."""
        return self.autopath and _version(self.version) <= (1, 14, 6)


@dataclass(frozen=True, slots=True)
class NameClass:
    id: str
    count: int
    ttl: int = 0
    service: bool = False

    def text(self) -> str:
        return f"svc-{self.id}" if self.service else f"api.{self.id}.partner.example.com"


@dataclass(frozen=True, slots=True)
class Workload:
    namespace: str
    name: str
    tier: str
    replicas: int
    max_replicas: int | None  # an HPA's maxReplicas, if it has one


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``write_case`` writes: rates, limit and the worst step they give."""

    case: Case
    rate: str
    surge_rate: str
    limit: int
    worst_step: int
    baseline_worst_step: int
    least_step: int
    workloads: tuple[Workload, ...] = field(repr=False)
    name_classes: tuple[NameClass, ...] = field(repr=False)

    @property
    def expected(self) -> Intent | None:
        """The verdict the bounds decide: unsafe when one step surely exceeds the limit,
        proved when no window can; None in between."""
        if self.least_step > self.limit:
            return "unsafe"
        return "proved" if self.worst_step <= self.limit else None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def name_classes(case: Case) -> tuple[NameClass, ...]:
    """External name classes with TTLs in turn, then one class of Service names."""
    external = case.external_names()
    count = max(1, min(case.name_classes, external))
    classes = [
        NameClass(f"ext{i}", external // count + (1 if i < external % count else 0), TTLS[i % len(TTLS)])
        for i in range(count)
    ]
    if case.service_names():
        classes.append(NameClass("svc", case.service_names(), service=True))
    return tuple(classes)


def workloads(case: Case) -> tuple[Workload, ...]:
    """Deployments spread over the namespaces and tiers; every other one has an HPA (max 2x)."""
    per_namespace = case.per_namespace()
    total = case.namespaces * per_namespace
    if case.pods < total:
        raise ValueError(f"{case.label}: {case.pods} pods cannot fill {total} workloads")
    result = []
    for index in range(total):
        ns, slot = divmod(index, per_namespace)
        replicas = case.pods // total + (1 if index < case.pods % total else 0)
        has_hpa = index % 2 == 0
        result.append(Workload(
            f"team-{ns:03d}", f"app-{slot}", TIERS[(ns + slot) % case.tiers], replicas,
            2 * replicas if has_hpa else None,
        ))
    return tuple(result)


def share_max(case: Case) -> Fraction:
    """The busiest replica's share of client queries (K7): (1 + skew) / replicas."""
    return min(Fraction(1), (1 + SKEW) / case.coredns_replicas)


def looked_up(tier: str, classes: Iterable[NameClass]) -> list[NameClass]:
    return [c for c in classes if tier == "web" or not c.service]


def worst_step(
    case: Case, rate: float, workloads_: tuple[Workload, ...], classes: tuple[NameClass, ...],
    *, peak: bool = True, least: bool = False,
) -> int:
    """Upstream packets of the busiest node in its busiest limit window, from any cache
    state: at most (every query misses, in both steps of a sliding window), or with
    ``least`` at least (one step in which every key misses once).

    ``peak``: every workload at its HPA maxReplicas, ``rate`` the surge rate; else the
    baseline replicas at the baseline ``rate``.
    """
    share = share_max(case)
    hot: dict[tuple[str, str], int] = {}  # (tier, name class) -> lookups at the hot replica
    namespaces: dict[str, set[str]] = {}
    for tier in TIERS[: case.tiers]:
        members = [w for w in workloads_ if w.tier == tier]
        namespaces[tier] = {w.namespace for w in members}
        pods = sum((w.max_replicas or w.replicas) if peak else w.replicas for w in members)
        for name in looked_up(tier, classes):
            lookups = lookups_per_step(pods, rate, name.count, 1, up=peak)
            hot[(tier, name.id)] = max(
                math.floor(share * lookups), -(-lookups // case.coredns_replicas)
            )

    def misses(queries: int, keys: int) -> int:
        return min(queries, keys) if least else queries

    packets = 0
    for name in classes:
        if name.service:
            continue
        tiers = [t for t in TIERS[: case.tiers] if (t, name.id) in hot and namespaces[t]]
        if case.per_namespace_keys():
            for tier in tiers:
                keys = name.count * len(namespaces[tier])
                packets += 2 * 2 * misses(hot[(tier, name.id)], keys)  # A, AAAA x 2 forwarded
        else:
            queries = sum(hot[(t, name.id)] for t in tiers)
            packets += 2 * 2 * misses(queries, name.count)  # A, AAAA x 2 shared keys
    return packets if least else 2 * packets


def plan_case(case: Case) -> Plan:
    """Rates (and the limit, if need be) that give the case its intended verdict.

    proved: the worst step at the surge is at most half the limit. unsafe: the worst
    step at the surge is at least twice the limit and (``calm_baseline``) at baseline at
    most half of it; where
    the cache's key count caps the worst step below twice the limit, the limit is
    lowered to a quarter of that cap.
    """
    loads = workloads(case)
    classes = name_classes(case)
    names_per_pod = max(1, sum(c.count for c in looked_up("web", classes)))
    usual = LOOKUPS_PER_POD * BURST / names_per_pod

    def at_peak(rate: float) -> int:
        return worst_step(case, float(_rate_text(rate)), loads, classes)

    def least_at_peak(rate: float) -> int:
        return worst_step(case, float(_rate_text(rate)), loads, classes, least=True)

    def at_baseline(rate: float) -> int:
        return worst_step(case, float(_rate_text(rate)), loads, classes, peak=False)

    limit = case.limit
    if case.intent == "proved":
        surge = usual if at_peak(usual) <= PROVED_LOAD * limit else _search(
            at_peak, PROVED_LOAD * limit, below=True)
        rate = surge / BURST
    else:
        ceiling = least_at_peak(1e6)
        if ceiling < UNSAFE_LOAD * limit:
            limit = max(1, ceiling // (UNSAFE_LOAD * 2))
        surge = usual if least_at_peak(usual) >= UNSAFE_LOAD * limit else _search(
            least_at_peak, UNSAFE_LOAD * limit, below=False)
        rate = surge / BURST
        if case.calm_baseline and at_baseline(rate) > PROVED_LOAD * limit:
            rate = _search(at_baseline, PROVED_LOAD * limit, below=True)
    surge_text, rate_text = _rate_text(surge), _rate_text(rate)
    if case.rates is not None:
        rate_text, surge_text = case.rates
    return Plan(
        case, rate_text, surge_text, limit,
        at_peak(float(surge_text)), at_baseline(float(rate_text)),
        least_at_peak(float(surge_text)), loads, classes,
    )


def _search(load: Callable[[float], int], target: Fraction | int, *, below: bool) -> float:
    """The largest rate with load <= target (below) or the smallest with load >= target."""
    low, high = 0.0, 1.0
    for _ in range(64):
        if load(high) >= target:
            break
        high *= 2
    else:
        raise ValueError(f"no lookup rate gives a worst step of {target} packets")
    for _ in range(60):
        middle = (low + high) / 2
        fits = load(middle) <= target if below else load(middle) < target
        if fits:
            low = middle
        else:
            high = middle
    return low if below else high


def _rate_text(rate: float) -> str:
    """A rate as YAML reads it back exactly the same (a float with a decimal point)."""
    text = f"{rate:.6e}"
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent):+03d}"


def write_case(case: Case, folder: Path) -> Plan:
    """Write the cluster's manifests and kalc.yaml into ``folder``; the plan used."""
    plan = plan_case(case)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "coredns.yaml").write_text(_coredns(case))
    workload_folder = folder / "namespaces"
    workload_folder.mkdir(exist_ok=True)
    by_namespace: dict[str, list[Workload]] = {}
    for workload in plan.workloads:
        by_namespace.setdefault(workload.namespace, []).append(workload)
    for namespace, members in by_namespace.items():
        documents = [namespace_text(namespace)] + [_workload(w) for w in members]
        (workload_folder / f"{namespace}.yaml").write_text("---\n".join(documents))
    (folder / "kalc.yaml").write_text(_env(plan))
    return plan


def _coredns(case: Case) -> str:
    corefile = COREFILE.replace("PODS", "verified" if case.autopath else "insecure").replace(
        "AUTOPATH", "    autopath @kubernetes\n" if case.autopath else ""
    )
    return "---\n".join([
        corefile_configmap(corefile),
        coredns_deployment(case.version, case.coredns_replicas),
        dns_service(),
    ])


def _workload(workload: Workload) -> str:
    ns, name = workload.namespace, workload.name
    documents = [
        workload_text(
            name, ns, workload.replicas, image=f"registry.example.com/{name}:1.0.0",
            labels=f"tier: {workload.tier}", container=CONTAINER,
        ),
        service(name, ns, port=80, target_port=8080),
    ]
    if workload.max_replicas is not None:
        documents.append(hpa(name, ns, workload.replicas, workload.max_replicas))
    return "---\n".join(documents)


def _env(plan: Plan) -> str:
    case = plan.case
    names = []
    for name in plan.name_classes:
        if name.service:
            names.append(f"  - id: {name.id}\n    service: {name.text()}\n    count: {name.count}\n")
        else:
            names.append(
                f"  - id: {name.id}\n    example: {name.text()}\n    count: {name.count}\n"
                f"    ttl: {name.ttl}\n    negative_ttl: 60\n"
            )
    lookups = []
    for tier in TIERS[: case.tiers]:
        ids = ", ".join(n.id for n in looked_up(tier, plan.name_classes))
        lookups.append(
            f"  - pods: {{labels: {{tier: {tier}}}}}\n    names: [{ids}]\n"
            f"    rate: {plan.rate}\n    surge_rate: {plan.surge_rate}\n"
        )
    return f"""\
# Synthetic benchmark case {case.label} (benchmarks/synthetic.py), built to be {case.intent}.
coredns:
  skew: {float(SKEW)}
cluster:
  nodes: {case.node_count()}
  node_search: [{HOST_SEARCH}]
  node_nameservers: [{NODE_NAMESERVER}]
upstreams:
  - address: node
    limit: {plan.limit}
    scope: node
names:
{"".join(names)}lookups:
{"".join(lookups)}check:
  horizon: {case.horizon}
"""


def scaled(case: Case, **changes: object) -> Case:
    """A copy of ``case`` with some fields changed (``dataclasses.replace``)."""
    return replace(case, **changes)  # type: ignore[arg-type]
