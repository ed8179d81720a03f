"""Reading: every input of one run (manifests, Corefiles, kalc.yaml), read together.

The CoreDNS version is decided here, because the Corefile's valid directives depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from kalc_formal.config.corefile_env import (
    corefile_environment,
    environment_warnings,
    explaining_unset,
    redacting,
)
from kalc_formal.config.envspec import EnvSpec, find_env_file, load_env
from kalc_formal.config.node_cache import (
    kube_dns_warnings,
    no_corefile_message,
    read_node_local,
)
from kalc_formal.config.settings import Origin
from kalc_formal.coredns.corefile import Corefile, load_corefile, parse_corefile
from kalc_formal.coredns.plugins import (
    DEFAULT_COREDNS_VERSION,
    CoreDNSVersion,
    CorefileConfig,
    KubernetesConfig,
    configure,
    valid_directives,
)
from kalc_formal.inputs.files import NOT_MANIFESTS, outside_folder
from kalc_formal.kubernetes.cluster import Cluster, Workload, read_cluster
from kalc_formal.kubernetes.manifests import MANIFEST_SUFFIXES
from kalc_formal.kubernetes.resources import Note

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
    env_warnings: tuple[str, ...] = ()
    """Corefile environment variables that read as empty, and why; kube-dns ConfigMap
    contents nothing reads (specs/kube-dns-configmap.md)."""
    secrets: tuple[str, ...] = ()
    """Values from Secrets in the Corefile's environment: never to be shown."""
    node_cache_notes: tuple[Note, ...] = ()
    """What node-cache took from the kube-dns ConfigMap into the NodeLocal Corefile, and where."""


def read_inputs(
    paths: list[str], *, env_path: str | None = None, version: str | None = None,
    stdin: TextIO | None = None, allow_outside_root: bool = False,
    corefile_required: bool = True, corefile_env: Mapping[str, str] | None = None,
) -> Inputs:
    """Read manifests, the Corefile(s) and kalc.yaml; ConfigError(s) on bad input.

    Without a Corefile: a ConfigError, or with ``corefile_required=False`` Inputs
    whose ``corefile`` and ``config`` are None. The Corefile's ``{$NAME}`` read the
    CoreDNS container's env, then ``corefile_env`` (never this process's environment).
    """
    manifests = [p for p in paths if not _is_corefile(p) and not _corefile_folder(p)]
    cluster = read_cluster(manifests, stdin=stdin, allow_outside_root=allow_outside_root) \
        if manifests else Cluster()
    env = _env(paths, env_path, allow_outside_root)
    chosen, origin = choose_version(version, env, cluster)
    environment = corefile_environment(cluster, corefile_env or {})
    with redacting(environment.secrets), explaining_unset(environment):
        corefile = _corefile(paths, cluster, chosen, allow_outside_root, environment.values)
        if corefile is None and corefile_required:
            raise no_corefile_message(cluster, NO_COREFILE)
        config = configure(corefile, version=chosen) if corefile is not None else None
    local = read_node_local(cluster, chosen, corefile_env or {})
    return Inputs(
        cluster, env, chosen, origin, corefile, config, local.config if local else None,
        local.corefile if local else None,
        environment_warnings(environment, corefile) + (local.warnings if local else ())
        + kube_dns_warnings(cluster),
        environment.secrets + (local.secrets if local else ()),
        local.notes if local else (),
    )


def choose_version(
    given: str | None, env: EnvSpec, cluster: Cluster
) -> tuple[CoreDNSVersion, Origin]:
    """The CoreDNS version: command line, kalc.yaml, the CoreDNS image, or the default."""
    images = [s.version for s in cluster.dns_servers if s.software == "coredns" and s.version]
    written = env.coredns.version
    candidates: list[tuple[Origin, str | None]] = [
        ("command line", given), ("kalc.yaml", written.value if written else None),
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
    paths: list[str], cluster: Cluster, version: CoreDNSVersion, allow_outside_root: bool,
    env: Mapping[str, str],
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
            files[0], valid_directives=directives, allow_outside_root=allow_outside_root, env=env
        )
    source = cluster.corefile_source
    if source is None:
        return None
    mounted = [(f.directory, f.name, f.source) for f in cluster.coredns_mounted_files]
    return parse_corefile(source, valid_directives=directives, mounted=mounted, env=env)


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
