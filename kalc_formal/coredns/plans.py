"""Static analysis: a configured Corefile as server plans for the static server model.

Each server block that listens for plain DNS on port 53 becomes a ``BlockPlan``: its
zones and, in execution order (B1-B6), one step per plugin that can change which
queries reach the upstream. Plugins the coverage table calls ignored are left out;
plugins it calls not modelled become opaque steps over their zones, so a query that
meets one makes the verdict unknown.
"""

from __future__ import annotations

from collections.abc import Sequence

from kalc_formal.coredns.corefile.keys import DNS_PORT
from kalc_formal.coredns.plugins.autopath import AutopathConfig
from kalc_formal.coredns.plugins.cache import CacheConfig
from kalc_formal.coredns.plugins.chain import BlockConfig, CorefileConfig, PluginConfig
from kalc_formal.coredns.plugins.forward import ForwardConfig
from kalc_formal.coredns.plugins.hosts import HostsConfig
from kalc_formal.coredns.plugins.kubernetes import KubernetesConfig
from kalc_formal.coredns.server import (
    AutopathStep,
    BlockPlan,
    CacheStep,
    ForwardStep,
    HostsStep,
    KubernetesStep,
    OpaqueStep,
    PlanStep,
    PluginRef,
    Query,
    ServerSetup,
    Unmodelled,
)

RESOLV_CONF = "/etc/resolv.conf"
HOSTS_FILE = "/etc/hosts"
CONTAINER_HOSTS = frozenset({"localhost.", "ip6-localhost.", "ip6-loopback."})
"""What a container's /etc/hosts names: the loopback names (the pod's own name aside)."""


def setup_from_config(
    config: CorefileConfig, *, node_nameservers: Sequence[str], node_search: Sequence[str],
    port: int = DNS_PORT,
) -> ServerSetup:
    """The server plan of a configured Corefile, for a server whose pod reads the node's
    resolv.conf (``dnsPolicy: Default``, E3, C3)."""
    builder = _PlanBuilder(tuple(node_nameservers), tuple(node_search))
    blocks = tuple(
        builder.block(block) for block in config.blocks if _serves(block, port)
    )
    return ServerSetup(blocks, builder.plugins, builder.capacity, tuple(builder.unmodelled))


def _serves(block: BlockConfig, port: int) -> bool:
    return any(key.transport == "dns" and key.port == port for key in block.keys)


class _PlanBuilder:
    def __init__(self, nameservers: tuple[str, ...], search: tuple[str, ...]) -> None:
        self.nameservers = nameservers
        self.search = tuple(f"{s.rstrip('.')}." for s in search)
        self.plugins: dict[str, PluginRef] = {}
        self.capacity: dict[str, tuple[int, int]] = {}
        self.unmodelled: list[Unmodelled] = []

    def block(self, block: BlockConfig) -> BlockPlan:
        zones = tuple(k.zone for k in block.keys if k.transport == "dns")
        coverage = {(c.directive_name, c.span): c for c in block.directives_coverage}
        steps: list[PlanStep] = []
        for plugin in block.plugins:
            status = coverage.get((plugin.name, plugin.span))
            step = self.step(plugin, zones, status.reason if status else "")
            if step is not None:
                steps.append(step)
            elif status is not None and status.status == "not-modelled":
                steps.append(OpaqueStep(plugin.name, status.reason, _zones(plugin, zones), plugin.span))
        return BlockPlan(zones, tuple(steps), block.keys[0].span if block.keys else None)

    def step(self, plugin: PluginConfig, zones: tuple[str, ...], reason: str) -> PlanStep | None:
        line = plugin.span.line
        if isinstance(plugin, CacheConfig):
            return self.cache(plugin, f"cache@{plugin.span.path}:{line}", zones)
        if isinstance(plugin, AutopathConfig):
            return self.autopath(plugin, zones)
        if isinstance(plugin, KubernetesConfig):
            self.plugins["kubernetes"] = PluginRef("kubernetes", plugin.span)
            return KubernetesStep(
                plugin.zones or zones, plugin.pods == "verified", plugin.ttl,
                plugin.fallthrough, plugin.span,
            )
        if isinstance(plugin, ForwardConfig):
            return self.forward(plugin, f"forward@{plugin.span.path}:{line}")
        if isinstance(plugin, HostsConfig):
            return self.hosts(plugin, zones)
        return None

    def cache(self, plugin: CacheConfig, cache_id: str, zones: tuple[str, ...]) -> CacheStep:
        self.plugins[cache_id] = PluginRef("cache", plugin.span)
        self.capacity[cache_id] = (
            plugin.success_capacity_effective, plugin.denial_capacity_effective,
        )
        prefetch = plugin.prefetch_percentage if plugin.prefetch_amount > 0 else None
        return CacheStep(
            cache_id, plugin.zones or zones,
            success_max=int(plugin.success_max_ttl), success_min=int(plugin.success_min_ttl),
            denial_max=int(plugin.denial_max_ttl), denial_min=int(plugin.denial_min_ttl),
            success_capacity=plugin.success_capacity_effective,
            denial_capacity=plugin.denial_capacity_effective,
            prefetch_percentage=prefetch,
            disabled_success=plugin.disable_success_zones or None,
            disabled_denial=plugin.disable_denial_zones or None,
            keepttl=plugin.keepttl, span=plugin.span, serve_stale=plugin.serve_stale is not None,
        )

    def autopath(self, plugin: AutopathConfig, zones: tuple[str, ...]) -> PlanStep:
        self.plugins["autopath"] = PluginRef("autopath", plugin.span)
        if plugin.source_plugin == "kubernetes":
            return AutopathStep(plugin.zones or zones, True, (), plugin.span)
        if plugin.resolv_file == RESOLV_CONF:
            return AutopathStep(plugin.zones or zones, False, self.search, plugin.span)
        reason = f"its search path comes from {plugin.source}, which is not read"
        return OpaqueStep("autopath", reason, plugin.zones or zones, plugin.span)

    def forward(self, plugin: ForwardConfig, forward_id: str) -> PlanStep:
        self.plugins[forward_id] = PluginRef("forward", plugin.span)
        targets: list[str] = []
        for upstream in plugin.to:
            if upstream.kind == "address":
                targets.append(upstream.host)
            elif upstream.kind == "file" and upstream.host == RESOLV_CONF:
                targets += self.nameservers
            else:
                reason = f"forward to {upstream.text}: its addresses are not known"
                self.unmodelled.append(
                    Unmodelled("forward", Query(plugin.from_zone, "A"), reason, upstream.span)
                )
                return OpaqueStep("forward", reason, (plugin.from_zone,), plugin.span)
        return ForwardStep(
            forward_id, plugin.from_zone, plugin.except_zones, tuple(targets), plugin.span,
            read_timeout=plugin.read_timeout, max_connect_attempts=plugin.max_connect_attempts,
            health_check=plugin.health_check,
        )

    def hosts(self, plugin: HostsConfig, zones: tuple[str, ...]) -> HostsStep:
        self.plugins["hosts"] = PluginRef("hosts", plugin.span)
        names = {f"{n.rstrip('.').lower()}." for entry in plugin.entries for n in entry.names}
        known = plugin.file == HOSTS_FILE
        if known:
            names |= CONTAINER_HOSTS
        return HostsStep(
            plugin.zones or zones, frozenset(names), plugin.ttl, plugin.fallthrough,
            file_unknown=not known, span=plugin.span,
        )


def _zones(plugin: PluginConfig, zones: tuple[str, ...]) -> tuple[str, ...]:
    own = getattr(plugin, "zones", None)
    if isinstance(own, tuple) and own and all(isinstance(z, str) for z in own):
        return own
    return zones
