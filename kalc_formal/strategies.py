"""Hypothesis strategies: resolv.confs, pod dnsConfigs, Corefiles, workloads and whole
clusters as objects in memory, each valid for kalc-formal's parsers and model.

Imported only by those who use it (``import kalc_formal`` does not import Hypothesis).
Every bound is keyword-only and checked when the strategy is made (a bad one raises
:class:`InvalidArgument`, which is both kalc-formal's and Hypothesis's); values shrink
towards small clusters: one namespace, one replica, the lowest rates, fewest plugins.

>>> from hypothesis import given, settings
>>> from kalc_formal.strategies import clusters
>>> @settings(max_examples=5, deadline=None, database=None)
... @given(clusters(max_namespaces=3))
... def test_loads(cluster):
...     assert 1 <= len(cluster.load().namespaces) <= 3
>>> test_loads()
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import hypothesis.errors
from hypothesis import strategies as st

from kalc_formal import errors

if TYPE_CHECKING:
    from kalc_formal.api import Cluster

VERSIONS = ("1.8.7", "1.9.4", "1.10.1", "1.11.1", "1.12.0", "1.13.1", "1.14.6", "1.14.7")
"""CoreDNS releases ``corefiles()`` and ``clusters()`` draw from by default."""
LIBCS = ("glibc", "musl", "go")
DNS_IP = "10.96.0.10"
"""The cluster DNS Service IP of generated clusters (kubelet clusterDNS)."""
UPSTREAM_IP = "10.0.0.2"
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A Kubernetes namespace name: an RFC 1123 label."""
_LABEL = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


class InvalidArgument(errors.InvalidArgument, hypothesis.errors.InvalidArgument):
    """A bad bound for a strategy (kalc-formal's InvalidArgument and Hypothesis's)."""


def _whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{name}={value!r}: a whole number from {low:,} to {high:,}")
    return value


def _number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidArgument(f"{name}={value!r}: a number from {low:g} to {high:g}")
    return float(value)


def _versions(versions: Sequence[str] | None) -> tuple[str, ...]:
    from kalc_formal.coredns.plugins import CoreDNSVersion

    chosen = tuple(VERSIONS if versions is None else versions)
    if isinstance(versions, str) or not chosen:
        raise InvalidArgument(f"versions={versions!r}: a non-empty list such as ['1.14.6']")
    for version in chosen:
        try:
            parsed = CoreDNSVersion.parse(str(version))
        except errors.KalcError as error:
            raise InvalidArgument(f"versions: {version!r}: {error}") from None
        if (parsed.major, parsed.minor) < (1, 5):
            raise InvalidArgument(f"versions: {version!r}: from 1.5.0 (the ready plugin)")
    return chosen


def _domains(max_labels: int = 3) -> st.SearchStrategy[str]:
    return st.lists(_LABEL, min_size=1, max_size=max_labels).map(".".join)


# ---------------------------------------------------------------------------- resolv.conf


def resolv_confs(
    *, max_nameservers: int = 3, max_searches: int = 6, max_ndots: int = 15,
) -> st.SearchStrategy[str]:
    """The text of a resolv.conf: nameservers, a search list and options (ndots,
    timeout, attempts, rotate, single-request), as glibc, musl and Go read them.
    """
    _whole("max_nameservers", max_nameservers, 1, 3)
    _whole("max_searches", max_searches, 0, 6)
    _whole("max_ndots", max_ndots, 0, 15)
    return st.builds(
        _resolv_conf_text,
        st.lists(_ips(), min_size=1, max_size=max_nameservers, unique=True),
        st.lists(_domains(), max_size=max_searches, unique=True),
        _options(max_ndots),
    )


def _ips() -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, 255), st.integers(1, 254)).map(lambda p: f"10.0.{p[0]}.{p[1]}")


def _options(max_ndots: int) -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.one_of(
            st.integers(0, max_ndots).map(lambda n: f"ndots:{n}"),
            st.integers(1, 5).map(lambda n: f"timeout:{n}"),
            st.integers(1, 3).map(lambda n: f"attempts:{n}"),
            st.sampled_from(["rotate", "single-request", "single-request-reopen", "edns0"]),
        ),
        max_size=4, unique_by=lambda option: option.split(":")[0],
    )


def _resolv_conf_text(nameservers: list[str], search: list[str], options: list[str]) -> str:
    lines = [f"search {' '.join(search)}"] if search else []
    lines += [f"nameserver {ip}" for ip in nameservers]
    lines += [f"options {' '.join(options)}"] if options else []
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------------------- dnsConfig


def dns_configs(*, max_nameservers: int = 2, max_searches: int = 4) -> st.SearchStrategy[dict[str, Any]]:
    """A pod ``spec.dnsConfig``: extra nameservers (the cluster DNS first, so that the
    pod's queries reach CoreDNS), searches and options, within the API server's limits.
    """
    _whole("max_nameservers", max_nameservers, 0, 3)
    _whole("max_searches", max_searches, 0, 32)
    return st.fixed_dictionaries({}, optional={
        "nameservers": st.lists(_ips(), max_size=max_nameservers, unique=True).map(
            lambda extra: [DNS_IP, *extra][:3]
        ),
        "searches": st.lists(_domains(), max_size=max_searches, unique=True),
        "options": st.lists(
            st.one_of(
                st.integers(0, 15).map(lambda n: {"name": "ndots", "value": str(n)}),
                st.integers(1, 3).map(lambda n: {"name": "attempts", "value": str(n)}),
                st.just({"name": "single-request-reopen"}),
            ),
            max_size=3, unique_by=lambda option: option["name"],
        ),
    })


# ---------------------------------------------------------------------------- Corefile


def corefiles(
    *, versions: Sequence[str] | None = None, autopath: bool | None = None,
    max_cache_capacity: int = 100_000,
) -> st.SearchStrategy[str]:
    """The text of a CoreDNS Corefile valid for one of ``versions`` (every value is
    valid for each of them): kubernetes (pods, ttl), forward (to /etc/resolv.conf or an
    IP, policy, max_concurrent), cache (TTL, success and denial capacity, prefetch),
    autopath (``None``: either), and plugins that do not change the traffic (errors,
    health, ready, prometheus, loop, reload, loadbalance, log).
    """
    _versions(versions)
    if autopath is not None and not isinstance(autopath, bool):
        raise InvalidArgument(f"autopath={autopath!r}: True, False or None (either)")
    _whole("max_cache_capacity", max_cache_capacity, 1_000, 1_000_000)
    return st.builds(
        _corefile_text,
        st.booleans() if autopath is None else st.just(autopath),
        st.integers(5, 60),
        st.integers(5, 3600),
        st.one_of(st.none(), st.integers(1_000, max_cache_capacity)),
        st.one_of(st.none(), st.integers(1_000, max_cache_capacity)),
        st.booleans(),
        st.sampled_from(["/etc/resolv.conf", UPSTREAM_IP]),
        st.sampled_from([None, "random", "round_robin", "sequential"]),
        st.lists(st.sampled_from(["errors", "health", "ready", "prometheus :9153", "loop",
                                  "reload", "loadbalance", "log"]), unique=True, max_size=8),
    )


def _corefile_text(
    autopath: bool, kubernetes_ttl: int, cache_ttl: int, success: int | None,
    denial: int | None, prefetch: bool, forward_to: str, policy: str | None,
    plugins: list[str],
) -> str:
    lines = [".:53 {", *(f"    {p}" for p in plugins)]
    lines += [
        "    kubernetes cluster.local in-addr.arpa ip6.arpa {",
        f"        pods {'verified' if autopath else 'insecure'}",
        "        fallthrough in-addr.arpa ip6.arpa",
        f"        ttl {kubernetes_ttl}",
        "    }",
    ]
    if autopath:
        lines.append("    autopath @kubernetes")
    forward_options = [f"policy {policy}"] if policy else []
    lines += _block(f"forward . {forward_to}", ["max_concurrent 1000", *forward_options])
    cache_options = [f"success {success}"] if success else []
    cache_options += [f"denial {denial}"] if denial else []
    cache_options += ["prefetch 10"] if prefetch else []
    lines += _block(f"cache {cache_ttl}", cache_options)
    return "\n".join([*lines, "}"]) + "\n"


def _block(head: str, options: list[str]) -> list[str]:
    if not options:
        return [f"    {head}"]
    return [f"    {head} {{", *(f"        {o}" for o in options), "    }"]


# ---------------------------------------------------------------------------- workloads


@dataclass(frozen=True, slots=True)
class Workload:
    """A client Deployment (and its HPA when ``max_replicas`` is set), and how often its
    pods look each name up (``rate`` at baseline, ``surge_rate`` at most)."""

    namespace: str
    name: str
    replicas: int
    max_replicas: int | None
    dns_policy: str
    dns_config: Mapping[str, Any] | None
    libc: str
    rate: float
    surge_rate: float

    def manifests(self) -> list[dict[str, Any]]:
        """The Deployment, and the HorizontalPodAutoscaler when there is one."""
        spec: dict[str, Any] = {"containers": [{"name": "app", "image": "example/app:1"}]}
        if self.dns_policy != "ClusterFirst":
            spec["dnsPolicy"] = self.dns_policy
        if self.dns_config is not None:
            spec["dnsConfig"] = dict(self.dns_config)
        labels = {"app": self.name}
        deployment = {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {"replicas": self.replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}},
        }
        if self.max_replicas is None:
            return [deployment]
        hpa = {
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": self.name},
                     "minReplicas": self.replicas, "maxReplicas": self.max_replicas},
        }
        return [deployment, hpa]

    def lookup(self, names: Sequence[str]) -> dict[str, Any]:
        """Its kalc.yaml ``lookups`` entry for the name ids ``names``."""
        return {
            "pods": {"namespaces": [self.namespace], "workload": f"Deployment/{self.name}"},
            "names": list(names), "rate": self.rate, "surge_rate": self.surge_rate,
            "libc": self.libc,
        }


def workloads(
    *, namespaces: Sequence[str] | None = None, max_replicas: int = 50,
    max_rate: float = 1.0, max_surge: float = 3.0, dns_configs: bool = True,
) -> st.SearchStrategy[Workload]:
    """A client :class:`Workload`: namespace (from ``namespaces`` when given), replicas
    up to ``max_replicas`` and maybe an HPA up to twice that, dnsPolicy (ClusterFirst,
    or None with a dnsConfig that names the cluster DNS), libc, a baseline rate up to
    ``max_rate`` lookups per second per pod per name, and a surge rate up to
    ``max_surge`` times it.
    """
    chosen = _namespace_names(namespaces)
    _whole("max_replicas", max_replicas, 1, 10_000)
    _number("max_rate", max_rate, 0.001, 100)
    _number("max_surge", max_surge, 1, 100)
    if not isinstance(dns_configs, bool):
        raise InvalidArgument(f"dns_configs={dns_configs!r}: True or False")
    namespace = st.sampled_from(chosen) if chosen else _LABEL.map(lambda n: f"ns-{n}")
    return st.builds(
        _workload,
        namespace,
        _LABEL,
        st.integers(1, max_replicas),
        st.one_of(st.none(), st.integers(0, max_replicas)),
        _dns(dns_configs),
        st.sampled_from(LIBCS),
        st.integers(1, 1000).map(lambda n: max_rate * n / 1000),
        st.integers(100, round(max_surge * 100)),
    )


def _namespace_names(namespaces: Sequence[str] | None) -> tuple[str, ...]:
    if namespaces is None:
        return ()
    if isinstance(namespaces, str) or not namespaces:
        raise InvalidArgument(f"namespaces={namespaces!r}: a non-empty list of names")
    bad = [n for n in namespaces if not isinstance(n, str) or not _NAMESPACE.fullmatch(n)]
    if bad:
        raise InvalidArgument(f"namespaces: {bad[0]!r} is not a namespace name (RFC 1123 label)")
    return tuple(namespaces)


def _dns(with_configs: bool) -> st.SearchStrategy[tuple[str, Mapping[str, Any] | None]]:
    plain = st.just(("ClusterFirst", None))
    if not with_configs:
        return plain
    configured = dns_configs().map(lambda c: ("ClusterFirst", c))
    own = dns_configs(max_nameservers=2).map(
        lambda c: ("None", {**c, "nameservers": c.get("nameservers") or [DNS_IP]})
    )
    return st.one_of(plain, configured, own)


def _workload(
    namespace: str, name: str, replicas: int, extra: int | None,
    dns: tuple[str, Mapping[str, Any] | None], libc: str, rate: float, surge_percent: int,
) -> Workload:
    return Workload(
        namespace, f"app-{name}", replicas, None if extra is None else replicas + extra,
        dns[0], dns[1], libc, rate, max(rate, rate * surge_percent / 100),
    )


# ---------------------------------------------------------------------------- clusters


@dataclass(frozen=True)
class ClusterObjects:
    """A generated cluster as objects in memory: manifests, the Corefile, kalc.yaml."""

    manifests: tuple[Mapping[str, Any], ...]
    corefile: str
    env: Mapping[str, Any]
    namespaces: int = field(default=0)
    """How many namespaces its workloads use."""

    def load(self) -> Cluster:
        """The :class:`kalc_formal.Cluster` (``kalc_formal.load_objects``)."""
        from kalc_formal.api import load_objects

        return load_objects(list(self.manifests), corefile=self.corefile, env=self.env)


def clusters(
    *, max_namespaces: int = 20, max_workloads: int = 10, max_names: int = 3,
    versions: Sequence[str] | None = None, max_replicas: int = 50, max_rate: float = 1.0,
    max_surge: float = 3.0, max_nodes: int = 100,
) -> st.SearchStrategy[ClusterObjects]:
    """A whole cluster as :class:`ClusterObjects`: up to ``max_workloads`` workloads in namespaces
    ``team-000`` up to ``max_namespaces`` of them, a Corefile valid for every one of
    ``versions``, and kalc.yaml (one of ``versions``, CoreDNS replicas, nodes, the
    upstream limit, external names with TTLs, one lookup per workload). Shrinks
    towards one namespace (``team-000``) with one small workload.
    """
    _whole("max_namespaces", max_namespaces, 1, 2_000)
    _whole("max_workloads", max_workloads, 1, 10_000)
    _whole("max_names", max_names, 1, 20)
    _whole("max_nodes", max_nodes, 1, 5_000)
    chosen = _versions(versions)
    workloads(max_replicas=max_replicas, max_rate=max_rate, max_surge=max_surge)
    placed = st.tuples(
        st.integers(0, max_namespaces - 1),
        workloads(namespaces=["team-000"], max_replicas=max_replicas, max_rate=max_rate,
                  max_surge=max_surge),
    ).map(lambda p: dataclasses.replace(p[1], namespace=f"team-{p[0]:03d}"))
    return st.builds(
        _assemble,
        st.lists(placed, min_size=1, max_size=max_workloads,
                 unique_by=lambda w: (w.namespace, w.name)),
        st.sampled_from(chosen),
        corefiles(versions=chosen),
        st.lists(_name_spec(), min_size=1, max_size=max_names, unique_by=lambda n: n["id"]),
        st.integers(1, 10),
        st.integers(1, max_nodes),
        st.sampled_from([256, 512, 1024, 2048]),
    )


def _name_spec() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda label, count, ttl, aaaa: {
            "id": f"ext-{label}", "example": f"api.{label}.example.com", "count": count,
            "ttl": ttl, "aaaa": aaaa,
        },
        _LABEL, st.integers(1, 20), st.integers(1, 300), st.booleans(),
    )


def _assemble(
    members: list[Workload], version: str, corefile: str, names: list[dict[str, Any]],
    replicas: int, nodes: int, limit: int,
) -> ClusterObjects:
    ids = [n["id"] for n in names]
    env = {
        "coredns": {"version": version, "replicas": replicas},
        "cluster": {"nodes": nodes, "dns_ip": DNS_IP, "node_search": ["ec2.internal"],
                    "node_nameservers": [UPSTREAM_IP]},
        "upstreams": [{"address": "node", "limit": limit, "scope": "node"}],
        "names": names,
        "lookups": [w.lookup(ids) for w in members],
    }
    manifests = tuple(m for w in members for m in w.manifests())
    return ClusterObjects(manifests, corefile, env, len({w.namespace for w in members}))


__all__ = [
    "LIBCS",
    "VERSIONS",
    "ClusterObjects",
    "InvalidArgument",
    "Workload",
    "clusters",
    "corefiles",
    "dns_configs",
    "resolv_confs",
    "workloads",
]
