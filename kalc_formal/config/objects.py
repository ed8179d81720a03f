"""Reading: every input of one run from objects in memory (manifest dicts or YAML texts,
Corefile text, kalc.yaml mapping), through the same parsers as files, no file written.

Each object is named in positions: ``<manifest 3>:12:5`` is line 12 of the third
manifest as YAML (a dict is written out as YAML first, keys in their order, multi-line
strings as literal blocks), ``<Corefile>:4:5``, ``<kalc.yaml>:2:3``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from kalc_formal.config.envspec import EnvSpec, parse_env
from kalc_formal.config.node_cache import (
    kube_dns_warnings,
    no_corefile_message,
    read_node_local,
)
from kalc_formal.config.reading import NO_COREFILE, Inputs, choose_version
from kalc_formal.coredns.corefile import parse_corefile
from kalc_formal.coredns.plugins import configure, valid_directives
from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument
from kalc_formal.kubernetes.cluster import Cluster, build_cluster
from kalc_formal.kubernetes.manifests import Document, load_text
from kalc_formal.source import Source

COREFILE_NAME = "<Corefile>"
ENV_NAME = "<kalc.yaml>"

Manifest = Mapping[str, Any] | str
"""A Kubernetes object as a mapping, or YAML text (one or more documents)."""


_FAST_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _BlockDumper(_FAST_DUMPER):  # type: ignore[misc]
    """Safe YAML with multi-line strings as literal blocks, so that a Corefile inside a
    ConfigMap keeps its own line numbers."""


def _represent_str(dumper: Any, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    node: yaml.ScalarNode = dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)
    return node


_BlockDumper.add_representer(str, _represent_str)


def manifest_name(index: int) -> str:
    """The name positions in the ``index``-th manifest object (1-based) carry."""
    return f"<manifest {index}>"


def as_yaml(value: Mapping[str, Any], what: str) -> str:
    """``value`` written as YAML text; InvalidArgument when it holds something YAML
    cannot write safely (an object, a set)."""
    try:
        return yaml.dump(
            _plain(value), Dumper=_BlockDumper, sort_keys=False, allow_unicode=True,
            default_flow_style=False, width=1 << 16,
        )
    except yaml.representer.RepresenterError as error:
        raise InvalidArgument(f"{what}: cannot be written as YAML ({error})") from None


def _plain(value: Any) -> Any:
    """Mappings and sequences turned into dicts and lists (tuples included)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def manifest_text(manifest: Manifest, index: int) -> str:
    """The YAML text of the ``index``-th manifest object (1-based)."""
    if isinstance(manifest, str):
        return manifest
    if isinstance(manifest, Mapping):
        return as_yaml(manifest, manifest_name(index))
    raise InvalidArgument(
        f"{manifest_name(index)}: a manifest is a mapping or YAML text, not "
        f"{type(manifest).__name__}"
    )


def read_manifest_objects(manifests: Sequence[Manifest]) -> Cluster:
    """The cluster model of the objects, each loaded as its own YAML text."""
    documents: list[Document] = []
    errors: list[ConfigError] = []
    for index, manifest in enumerate(manifests, start=1):
        loaded = load_text(manifest_text(manifest, index), manifest_name(index))
        documents += loaded.documents
        errors += loaded.errors
    built = build_cluster(documents)
    errors += built.errors
    if errors:
        raise ConfigErrors(errors)
    return built.cluster


def read_env_object(env: Mapping[str, Any] | None, name: str = ENV_NAME) -> EnvSpec:
    """kalc.yaml's contents given as a mapping, checked like the file."""
    if env is None:
        return EnvSpec()
    if not isinstance(env, Mapping):
        raise InvalidArgument(f"{name}: kalc.yaml's contents are a mapping, not {type(env).__name__}")
    return parse_env(Source(name, as_yaml(env, name)))


def read_objects(
    manifests: Sequence[Manifest] = (), *, corefile: str | None = None,
    env: Mapping[str, Any] | None = None, version: str | None = None,
) -> Inputs:
    """Everything one run reads, from objects: the Corefile from ``corefile`` when
    given, else from the CoreDNS ConfigMap among the manifests."""
    if isinstance(manifests, str | Mapping):
        raise InvalidArgument("manifests: a list of mappings or YAML texts (wrap one in a list)")
    cluster = read_manifest_objects(manifests)
    spec = read_env_object(env)
    chosen, origin = choose_version(version, spec, cluster)
    directives = valid_directives(chosen)
    if corefile is not None:
        if not isinstance(corefile, str):
            raise InvalidArgument(f"corefile: the Corefile's text, not {type(corefile).__name__}")
        parsed = parse_corefile(Source(COREFILE_NAME, corefile), valid_directives=directives)
    else:
        source = cluster.corefile_source
        if source is None:
            raise no_corefile_message(cluster, NO_COREFILE + " (or pass corefile=TEXT)")
        mounted = [(f.directory, f.name, f.source) for f in cluster.coredns_mounted_files]
        parsed = parse_corefile(source, valid_directives=directives, mounted=mounted)
    config = configure(parsed, version=chosen)
    local = read_node_local(cluster, chosen, {})
    return Inputs(
        cluster, spec, chosen, origin, parsed, config, local.config if local else None,
        local.corefile if local else None,
        (local.warnings if local else ()) + kube_dns_warnings(cluster),
        local.secrets if local else (), local.notes if local else (),
    )
