"""Reading the NodeLocal DNSCache Corefile as node-cache runs it, and what the legacy
kube-dns ConfigMap means for a run (specs/kube-dns-configmap.md).

- NodeLocal DNSCache present: its Corefile is the template node-cache fills in, with a
  server block per stub domain of the kube-dns ConfigMap it mounts and that ConfigMap's
  ``upstreamNameservers`` in place of its upstream placeholder
  (:mod:`kalc_formal.kubernetes.nodecache`); ``{$NAME}`` read the node-cache container's
  env, then ``--corefile-env``.
- CoreDNS never reads the kube-dns ConfigMap (its kubernetes plugin watches Services,
  Pods, EndpointSlices and Namespaces only: coredns ``plugin/kubernetes/controller.go``):
  a kube-dns ConfigMap nobody in the input reads gives a warning.
- No Corefile at all: the message names the kube-dns ConfigMap and says that CoreDNS
  needs it written into a Corefile (as kubeadm's kube-dns -> CoreDNS upgrade did).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kalc_formal.config.corefile_env import (
    environment_warnings,
    explaining_unset,
    node_cache_environment,
    redacting,
)
from kalc_formal.coredns.corefile import Corefile, ServerBlock, parse_corefile
from kalc_formal.coredns.plugins import (
    CoreDNSVersion,
    CorefileConfig,
    configure,
    valid_directives,
)
from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.kubernetes.cluster import Cluster
from kalc_formal.kubernetes.nodecache import node_cache_corefile
from kalc_formal.kubernetes.resources import Note

__all__ = ["NodeLocalRead", "kube_dns_warnings", "no_corefile_message", "read_node_local"]

CONTROLLER = "coredns plugin/kubernetes/controller.go"


@dataclass(frozen=True)
class NodeLocalRead:
    """The NodeLocal DNSCache Corefile as node-cache runs it, and what it took from where."""

    corefile: Corefile
    config: CorefileConfig
    notes: tuple[Note, ...]
    warnings: tuple[str, ...]
    secrets: tuple[str, ...]


def read_node_local(
    cluster: Cluster, version: CoreDNSVersion, given_env: Mapping[str, str],
) -> NodeLocalRead | None:
    """The node-local cache's Corefile and configuration; None without NodeLocal DNSCache
    or its Corefile. ConfigError(s) on bad input, Secret values never shown."""
    environment = node_cache_environment(cluster, given_env)
    with redacting(environment.secrets), explaining_unset(environment):
        generated = node_cache_corefile(cluster)
        if generated is None:
            return None
        directives = valid_directives(version)
        corefile = parse_corefile(generated.template, valid_directives=directives,
                                  env=environment.values)
        if generated.stub_blocks is not None:
            stubs = parse_corefile(generated.stub_blocks, valid_directives=directives,
                                   env=environment.values)
            _no_zone_twice(corefile, stubs)
            corefile = Corefile(
                corefile.blocks + stubs.blocks, corefile.source_path,
                corefile.warnings + stubs.warnings, corefile.sources + stubs.sources,
            )
        config = configure(corefile, version=version)
    warnings = generated.warnings + environment_warnings(environment, corefile)
    return NodeLocalRead(corefile, config, generated.notes, warnings, environment.secrets)


def _no_zone_twice(template: Corefile, stubs: Corefile) -> None:
    """A stub domain whose zone and port the template already serves on one of the same
    addresses (or on all): CoreDNS refuses to start (A22: "cannot serve ... - it is
    already defined"; blocks bound to different addresses may share a zone)."""
    served = [((k.transport, k.zone, k.port), _binds(b), k.span) for b in template.blocks for k in b.keys]
    errors = []
    for block in stubs.blocks:
        binds = _binds(block)
        for key in block.keys:
            first = next((span for zone, other, span in served
                          if zone == (key.transport, key.zone, key.port)
                          and (not binds or not other or binds & other)), None)
            if first is not None:
                errors.append(stubs.error(
                    key.span, f"cannot serve {key.transport}://{key.zone}:{key.port} - it is "
                    f"already defined (the NodeLocal DNSCache Corefile serves it at {first}; "
                    "node-cache appends a block for this stub domain, and CoreDNS refuses both)",
                ))
    if errors:
        raise ConfigErrors(errors) if len(errors) > 1 else errors[0]


def _binds(block: ServerBlock) -> set[str]:
    """The addresses a block's ``bind`` lists (none: every address)."""
    return {t.text for d in block.directives if d.name == "bind" for t in d.args}


def kube_dns_warnings(cluster: Cluster) -> tuple[str, ...]:
    """Without NodeLocal DNSCache, a warning for each kube-dns ConfigMap: nothing in the
    input reads it (with it, node-cache's own notes and warnings say what it reads)."""
    if cluster.node_local_dns:
        return ()
    return tuple(
        f"{m.span}: ConfigMap {m.namespace}/{m.name} (kube-dns's stubDomains and "
        "upstreamNameservers) is not read by CoreDNS, which watches only Services, Pods, "
        f"EndpointSlices and Namespaces ({CONTROLLER}), nor by anything else in the input: "
        "it changes nothing here. Write its stub domains and upstreams into the Corefile as "
        "forward blocks (kubeadm's kube-dns -> CoreDNS upgrade did: "
        "translateStubDomainOfKubeDNSToForwardCoreDNS), or run NodeLocal DNSCache, whose "
        "node-cache reads it"
        for m in cluster.kube_dns_configmaps
    )


def no_corefile_message(cluster: Cluster, message: str) -> ConfigError:
    """The no-Corefile error, naming a kube-dns ConfigMap the input has instead."""
    if not cluster.kube_dns_configmaps:
        return ConfigError(message)
    first = cluster.kube_dns_configmaps[0]
    return ConfigError(
        f"{message}. The input has the legacy kube-dns ConfigMap {first.namespace}/"
        f"{first.name} instead, which CoreDNS does not read ({CONTROLLER}): kubeadm's "
        "kube-dns -> CoreDNS upgrade wrote its stubDomains as forward blocks and its "
        "upstreamNameservers as the `.` block's forward (translateStubDomainOfKubeDNSTo"
        "ForwardCoreDNS, translateUpstreamNameServerOfKubeDNSToUpstreamForwardCoreDNS); give "
        "the Corefile that resulted", first.span, first.file.line_text(first.span.line),
    )
