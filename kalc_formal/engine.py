"""Orchestration: read the inputs, analyse them, and decide — the pipeline in order.

configs -> parse (manifests, Corefile, kalc.yaml) -> static analysis -> solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from kalc_formal.analysis import Analysis
from kalc_formal.cluster import Cluster, Workload, read_cluster
from kalc_formal.corefile import Corefile, load_corefile, parse_corefile
from kalc_formal.dnsserver import ServerSetup
from kalc_formal.envspec import EnvSpec, find_env_file, load_env
from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.flows import Settings, analyse, decide_settings
from kalc_formal.inputs import NOT_MANIFESTS, outside_folder
from kalc_formal.manifests import MANIFEST_SUFFIXES
from kalc_formal.plans import setup_from_config
from kalc_formal.plugins import (
    DEFAULT_COREDNS_VERSION,
    CoreDNSVersion,
    CorefileConfig,
    KubernetesConfig,
    configure,
    valid_directives,
)
from kalc_formal.settings import Origin
from kalc_formal.solve import Outcome, Verdict, decide

COREFILE_NAMES = ("Corefile",)
COREFILE_SUFFIXES = (".Corefile", ".corefile")
NO_COREFILE = (
    "no CoreDNS Corefile found: give a ConfigMap with a `Corefile` key, or a file named Corefile"
)


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything read from the user's paths."""

    cluster: Cluster
    env: EnvSpec
    version: CoreDNSVersion
    version_origin: Origin
    corefile: Corefile | None
    """None only when read with ``corefile_required=False`` and no Corefile was found."""
    config: CorefileConfig | None
    nodelocal: CorefileConfig | None
    nodelocal_corefile: Corefile | None = None


def read_inputs(
    paths: list[str], *, env_path: str | None = None, version: str | None = None,
    stdin: TextIO | None = None, allow_outside_root: bool = False,
    corefile_required: bool = True,
) -> Inputs:
    """Read manifests, the Corefile(s) and kalc.yaml; ConfigError(s) on bad input.

    Without a Corefile: a ConfigError, or with ``corefile_required=False`` Inputs
    whose ``corefile`` and ``config`` are None.
    """
    manifests = [p for p in paths if not _is_corefile(p) and not _corefile_folder(p)]
    cluster = read_cluster(manifests, stdin=stdin, allow_outside_root=allow_outside_root) \
        if manifests else Cluster()
    env = _env(paths, env_path, allow_outside_root)
    chosen, origin = choose_version(version, env, cluster)
    corefile = _corefile(paths, cluster, chosen, allow_outside_root)
    if corefile is None and corefile_required:
        raise ConfigError(NO_COREFILE)
    config = configure(corefile, version=chosen) if corefile is not None else None
    nodelocal = nodelocal_file = None
    source = cluster.node_local_corefile_source
    if cluster.node_local_dns and source is not None:
        nodelocal_file = parse_corefile(source, valid_directives=valid_directives(chosen))
        nodelocal = configure(nodelocal_file, version=chosen)
    return Inputs(cluster, env, chosen, origin, corefile, config, nodelocal, nodelocal_file)


def choose_version(
    given: str | None, env: EnvSpec, cluster: Cluster
) -> tuple[CoreDNSVersion, Origin]:
    """The CoreDNS version: command line, kalc.yaml, the CoreDNS image, or the default."""
    images = [s.version for s in cluster.dns_servers if s.software == "coredns" and s.version]
    candidates: list[tuple[Origin, str | None]] = [
        ("command line", given), ("kalc.yaml", env.coredns.get("version")),
        ("manifests", images[0] if images else None),
    ]
    for origin, text in candidates:
        if text is not None:
            return CoreDNSVersion.parse(str(text)), origin
    return CoreDNSVersion.parse(DEFAULT_COREDNS_VERSION), "default"


def _corefile_folder(path: str) -> bool:
    """A folder with a Corefile and no manifest files (only kalc.yaml, say)."""
    folder = Path(path)
    if path == "-" or not folder.is_dir() or not any((folder / n).is_file() for n in COREFILE_NAMES):
        return False
    return not any(
        f.is_file() and f.suffix.lower() in MANIFEST_SUFFIXES and f.name not in NOT_MANIFESTS
        for f in folder.rglob("*")
    )


def _is_corefile(path: str) -> bool:
    name = Path(path).name
    return name in COREFILE_NAMES or name.endswith(COREFILE_SUFFIXES)


def _env(paths: list[str], env_path: str | None, allow_outside_root: bool) -> EnvSpec:
    if env_path is not None:
        return load_env(Path(env_path), display=env_path)
    found = find_env_file([Path(p) for p in paths if p != "-"])
    if found is None:
        return EnvSpec()
    if not allow_outside_root:
        _refuse_outside(found)
    return load_env(found, display=str(found))


def _refuse_outside(found: Path) -> None:
    """A file found beside the inputs (not named) must not lead outside their folder."""
    error = outside_folder(str(found), str(found.parent))
    if error is not None:
        raise error


def _corefile(
    paths: list[str], cluster: Cluster, version: CoreDNSVersion, allow_outside_root: bool
) -> Corefile | None:
    directives = valid_directives(version)
    files = [Path(p) for p in paths if _is_corefile(p)]
    for folder in (Path(p) for p in paths if p != "-" and Path(p).is_dir()):
        found = [folder / n for n in COREFILE_NAMES if (folder / n).is_file()]
        if not allow_outside_root:
            for path in found:
                _refuse_outside(path)
        files += found
    if files:
        return load_corefile(
            files[0], valid_directives=directives, allow_outside_root=allow_outside_root
        )
    source = cluster.corefile_source
    if source is None:
        return None
    mounted = [(f.directory, f.name, f.source) for f in cluster.coredns_mounted_files]
    return parse_corefile(source, valid_directives=directives, mounted=mounted)


def analyse_inputs(inputs: Inputs, *, horizon: int | None = None, env: EnvSpec | None = None) -> Analysis:
    """The static analysis of what was read; ``env`` replaces kalc.yaml's spec."""
    config = inputs.config
    if config is None:
        raise ConfigError(NO_COREFILE)

    def coredns_plan(settings: Settings) -> ServerSetup:
        return setup_from_config(
            config, node_nameservers=settings.node_nameservers,
            node_search=settings.node_search,
        )

    def nodelocal_plan(settings: Settings) -> ServerSetup:
        assert inputs.nodelocal is not None
        return setup_from_config(
            inputs.nodelocal, node_nameservers=settings.node_nameservers,
            node_search=settings.node_search,
        )

    return analyse(
        inputs.cluster, env or inputs.env, coredns_plan,
        nodelocal_plan if inputs.nodelocal is not None else None,
        version=str(inputs.version), version_origin=inputs.version_origin, horizon=horizon,
        kubernetes_zone=lambda: kubernetes_zone(config), excluded=dns_workloads(inputs.cluster),
    )


def input_settings(
    inputs: Inputs, *, horizon: int | None = None, env: EnvSpec | None = None
) -> Settings:
    """The settings ``analyse_inputs`` decides for the same arguments (a fresh Recorder)."""
    return decide_settings(
        inputs.cluster, env or inputs.env, version=str(inputs.version),
        version_origin=inputs.version_origin, horizon=horizon,
        kubernetes_zone=lambda: kubernetes_zone(inputs.config) if inputs.config else None,
    )


def dns_workloads(cluster: Cluster) -> list[Workload]:
    """The DNS servers' own workloads (CoreDNS, kube-dns, node-local caches): not clients."""
    return [s.workload for s in cluster.dns_servers] + [n.workload for n in cluster.node_local_dns]


def kubernetes_zone(config: CorefileConfig) -> str | None:
    """The first forward (non-reverse) zone of the kubernetes plugin (F1)."""
    for block in config.blocks:
        for plugin in block.plugins:
            if isinstance(plugin, KubernetesConfig):
                zones = plugin.zones or tuple(k.zone for k in block.keys)
                for zone in zones:
                    if not zone.endswith("arpa."):
                        return zone.rstrip(".")
    return None


NO_CLIENTS = (
    "no client pods to check: no workload in the input is selected by kalc.yaml's lookups "
    "(give the workloads' manifests, or fix the lookups' pod selectors)"
)


def check(analysis: Analysis, *, rlimit: int | None = None, budget: int | None = None) -> Outcome:
    """The verdict; unknown when a query of the model meets an unmodelled plugin.

    A cluster with no client traffic is bad input, not a proof.
    """
    if not analysis.model.flows:
        if analysis.idle_lookups:
            raise ConfigErrors(
                ConfigError(f"{NO_CLIENTS}: {text}", span) for text, span in analysis.idle_lookups
            )
        raise ConfigError(NO_CLIENTS)
    if analysis.nothing_checked:
        raise ConfigError(analysis.nothing_checked, analysis.nothing_checked_at)
    if analysis.unmodelled:
        first = analysis.unmodelled[0]
        where = f" ({first.span})" if first.span else ""
        return Outcome(
            Verdict.UNKNOWN, analysis.horizon,
            reason=f"{first.reason}{where}; {len(analysis.unmodelled)} such place(s) in all",
        )
    if rlimit is None:
        return decide(analysis.model, analysis.horizon, budget=budget)
    return decide(analysis.model, analysis.horizon, rlimit=rlimit, budget=budget)
