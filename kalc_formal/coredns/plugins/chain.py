"""A server block's plugin chain: each directive read as the chosen CoreDNS version's
setup reads it (A10, A12), in that version's execution order (B1-B6), with coverage.

>>> from kalc_formal.coredns.corefile import parse_corefile
>>> from kalc_formal.source import Source
>>> text = ".:53 {\\n    forward . 10.0.0.2\\n    autopath @kubernetes\\n    cache 30\\n"
>>> text += "    kubernetes cluster.local {\\n        pods verified\\n    }\\n}\\n"
>>> config = configure(parse_corefile(Source("Corefile", text)),
...                    version=CoreDNSVersion.parse("1.14.6"))
>>> [plugin.name for plugin in config.blocks[0].plugins]
['cache', 'autopath', 'kubernetes', 'forward']
>>> config.blocks[0].plugins[0].success_max_ttl
30.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kalc_formal.coredns.corefile.model import (
    BlockLine,
    Corefile,
    Directive,
    ServerBlock,
    ServerKey,
    Token,
)
from kalc_formal.coredns.plugins.autopath import (
    AutopathConfig,
    autopath_effect,
    read_autopath,
)
from kalc_formal.coredns.plugins.cache import CacheConfig, read_cache
from kalc_formal.coredns.plugins.coverage import COVERAGE, Coverage
from kalc_formal.coredns.plugins.forward import ForwardConfig, read_forward
from kalc_formal.coredns.plugins.hosts import HostsConfig, read_hosts
from kalc_formal.coredns.plugins.kubernetes import KubernetesConfig, read_kubernetes
from kalc_formal.coredns.plugins.misc import (
    AclConfig,
    AnyConfig,
    ErrorsConfig,
    FileConfig,
    HealthConfig,
    K8sExternalConfig,
    LoadbalanceConfig,
    LocalConfig,
    LogConfig,
    LoopConfig,
    MinimalConfig,
    PrometheusConfig,
    ReadyConfig,
    ReloadConfig,
    RewriteConfig,
    TemplateConfig,
    ViewConfig,
    read_acl,
    read_any,
    read_errors,
    read_file,
    read_health,
    read_k8s_external,
    read_loadbalance,
    read_local,
    read_log,
    read_loop,
    read_minimal,
    read_prometheus,
    read_ready,
    read_reload,
    read_rewrite,
    read_template,
    read_view,
)
from kalc_formal.coredns.plugins.reader import BlockContext, Fail
from kalc_formal.coredns.plugins.versions import (
    ERR_ONCE_MESSAGE,
    ERR_ONCE_SINCE,
    CoreDNSVersion,
    order_version,
    plugin_order,
)
from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument
from kalc_formal.source import Span


@dataclass(frozen=True, slots=True)
class GenericPlugin:
    """A directive kalc-formal keeps without reading its options."""

    name: str
    args: tuple[Token, ...]
    block: tuple[BlockLine, ...] | None
    span: Span = field(compare=False)


PluginConfig = (
    KubernetesConfig | AutopathConfig | CacheConfig | ForwardConfig | HostsConfig
    | RewriteConfig | TemplateConfig | FileConfig | LoopConfig | ErrorsConfig | LogConfig
    | HealthConfig | ReadyConfig | PrometheusConfig | ReloadConfig | LoadbalanceConfig
    | K8sExternalConfig | LocalConfig | ViewConfig | AclConfig | AnyConfig | MinimalConfig
    | GenericPlugin
)


@dataclass(frozen=True, slots=True)
class BlockConfig:
    """One server block: its keys, its plugins in execution order, and coverage."""

    keys: tuple[ServerKey, ...]
    plugins: tuple[PluginConfig, ...]
    directives_coverage: tuple[Coverage, ...]


@dataclass(frozen=True, slots=True)
class CorefileConfig:
    """Every server block configured for one CoreDNS version."""

    version: CoreDNSVersion
    order_version: str
    blocks: tuple[BlockConfig, ...]


# ---- configure ----------------------------------------------------------------------------


def configure(corefile: Corefile, *, version: CoreDNSVersion) -> CorefileConfig:
    """Read every directive's options as ``version`` of CoreDNS does, and order them.

    Raises ConfigErrors (or a single ConfigError) for unknown directives, repeats
    that the plugin rejects (A12), and bad options; errors of independent
    directives are all reported.
    """
    if not isinstance(version, CoreDNSVersion):
        raise InvalidArgument(f"version must be a CoreDNSVersion, not {type(version).__name__}")
    order = plugin_order(version)
    blocks = []
    errors: list[ConfigError] = []
    for block in corefile.blocks:
        reader = _BlockReader(corefile, block, version, order, errors)
        blocks.append(reader.read())
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    return CorefileConfig(version, order_version(version), tuple(blocks))


_Reader = Callable[[BlockContext, list[Directive]], Sequence[PluginConfig]]
_READERS: Mapping[str, _Reader] = {
    "kubernetes": read_kubernetes, "autopath": read_autopath, "cache": read_cache,
    "forward": read_forward, "hosts": read_hosts, "rewrite": read_rewrite,
    "template": read_template, "file": read_file, "loop": read_loop, "errors": read_errors,
    "log": read_log, "health": read_health, "ready": read_ready,
    "prometheus": read_prometheus, "reload": read_reload, "loadbalance": read_loadbalance,
    "k8s_external": read_k8s_external, "local": read_local, "view": read_view,
    "acl": read_acl, "any": read_any, "minimal": read_minimal,
}
"""The plugins whose options are read; any other directive is kept as a GenericPlugin."""


class _BlockReader(BlockContext):
    """Reads one server block's directives into plugin configs, in execution order."""

    def __init__(
        self,
        corefile: Corefile,
        block: ServerBlock,
        version: CoreDNSVersion,
        order: tuple[str, ...],
        errors: list[ConfigError],
    ) -> None:
        super().__init__(version, tuple(key.zone for key in block.keys))
        self.corefile = corefile
        self.block = block
        self.order = order
        self.errors = errors

    def read(self) -> BlockConfig:
        coverage = []
        by_name: dict[str, list[Directive]] = {}
        for directive in self.block.directives:
            if directive.name not in self.order:
                self.errors.append(self.corefile.error(directive.span, f"Unknown directive '{directive.name}'"))
                continue
            by_name.setdefault(directive.name, []).append(directive)
            status, reason = COVERAGE.get(directive.name, ("not-modelled", "kalc-formal does not know this plugin"))
            coverage.append(Coverage(directive.name, directive.span, status, reason))
        plugins: list[PluginConfig] = []
        for name in sorted(by_name, key=self.order.index):
            try:
                plugins += self._configs(name, by_name[name])
            except Fail as failure:
                self.errors.append(self.corefile.error(failure.span, f"plugin/{name}: {failure.message}"))
        coverage = [self._adjusted(item, by_name) for item in coverage]
        try:
            plugins = [_with_autopath_effect(plugin, plugins) for plugin in plugins]
        except Fail as failure:
            self.errors.append(self.corefile.error(failure.span, f"plugin/autopath: {failure.message}"))
        return BlockConfig(self.block.keys, tuple(plugins), tuple(coverage))

    def _adjusted(self, item: Coverage, by_name: Mapping[str, list[Directive]]) -> Coverage:
        occurrences = by_name.get(item.directive_name, [])
        if item.directive_name == "autopath" and occurrences and occurrences[-1].span != item.span:
            last = occurrences[-1].span
            return Coverage(item.directive_name, item.span, "ignored", f"overridden by the autopath at line {last.line}: the last one wins (A12)")
        return item

    def _configs(self, name: str, directives: list[Directive]) -> Sequence[PluginConfig]:
        since = ERR_ONCE_SINCE.get(name)
        once = since is not None and self.at_least(since)
        if name == "forward" and self.at_least("1.1.0") and not self.at_least("1.9.4"):
            once = True
        if len(directives) > 1 and not self.at_least("1.1.0") and (since is not None or name == "forward"):
            raise Fail(directives[1].span, f"a repeated {name} before CoreDNS 1.1.0 is not modelled")
        if once and len(directives) > 1:
            raise Fail(directives[1].span, ERR_ONCE_MESSAGE)
        reader = _READERS.get(name)
        if reader is None:
            return [GenericPlugin(d.name, d.args, d.block, d.span) for d in directives]
        return reader(self, directives)


def _with_autopath_effect(plugin: PluginConfig, chain: Sequence[PluginConfig]) -> PluginConfig:
    if not isinstance(plugin, AutopathConfig) or plugin.source_plugin is None:
        return plugin
    named = [p for p in chain if p.name == plugin.source_plugin]
    return autopath_effect(plugin, named[0] if named else None)
