"""Input stage: typed plugin options, the plugin chain per CoreDNS version, coverage.

``configure`` reads each server block of a parsed Corefile the way the plugins'
``setup.go`` functions of the chosen CoreDNS version do, and orders the plugins
as that version's ``core/dnsserver/zdirectives.go`` does (B1-B6): the order in
the Corefile does not matter (A13).

One module per concern: ``versions`` (releases, plugin orders, repeat rules),
``coverage`` (what the model covers), ``reader`` (option lines and Go-valued
arguments as CoreDNS's setup reads them), one module per modelled plugin
(``kubernetes``, ``autopath``, ``cache``, ``forward``, ``hosts``), ``misc`` (the
plugins read only to reject what CoreDNS rejects), and ``chain`` (a block's plugins in
execution order). The names below are the package's public ones.
"""

from kalc_formal.coredns.plugins.autopath import AutopathConfig
from kalc_formal.coredns.plugins.cache import (
    CACHE_DEFAULT_CAPACITY,
    CACHE_DEFAULT_EFFECTIVE_CAPACITY,
    CACHE_MAX_NTTL,
    CACHE_MAX_TTL,
    CACHE_MIN_TTL,
    CACHE_SHARDS,
    CacheConfig,
    cache_effective_capacity,
)
from kalc_formal.coredns.plugins.chain import (
    BlockConfig,
    CorefileConfig,
    GenericPlugin,
    PluginConfig,
    configure,
)
from kalc_formal.coredns.plugins.coverage import COVERAGE, Coverage, CoverageStatus
from kalc_formal.coredns.plugins.forward import (
    FORWARD_MAX_UPSTREAMS,
    ForwardConfig,
    UpstreamConfig,
)
from kalc_formal.coredns.plugins.hosts import HostsConfig, HostsEntry
from kalc_formal.coredns.plugins.kubernetes import KubernetesConfig
from kalc_formal.coredns.plugins.misc import (
    AclConfig,
    AclPolicy,
    AnyConfig,
    ErrorsConfig,
    FileConfig,
    HealthConfig,
    K8sExternalConfig,
    LoadbalanceConfig,
    LocalConfig,
    LogConfig,
    LogRule,
    LoopConfig,
    MinimalConfig,
    PrometheusConfig,
    ReadyConfig,
    ReloadConfig,
    RewriteConfig,
    RewriteRule,
    TemplateConfig,
    TemplateRule,
    ViewConfig,
)
from kalc_formal.coredns.plugins.versions import (
    DEFAULT_COREDNS_VERSION,
    ERR_ONCE_MESSAGE,
    ERR_ONCE_SINCE,
    PLUGIN_ORDERS,
    CoreDNSVersion,
    order_version,
    plugin_order,
    valid_directives,
)

__all__ = [
    "CACHE_DEFAULT_CAPACITY",
    "CACHE_DEFAULT_EFFECTIVE_CAPACITY",
    "CACHE_MAX_NTTL",
    "CACHE_MAX_TTL",
    "CACHE_MIN_TTL",
    "CACHE_SHARDS",
    "COVERAGE",
    "DEFAULT_COREDNS_VERSION",
    "ERR_ONCE_MESSAGE",
    "ERR_ONCE_SINCE",
    "FORWARD_MAX_UPSTREAMS",
    "PLUGIN_ORDERS",
    "AclConfig",
    "AclPolicy",
    "AnyConfig",
    "AutopathConfig",
    "BlockConfig",
    "CacheConfig",
    "CoreDNSVersion",
    "CorefileConfig",
    "Coverage",
    "CoverageStatus",
    "ErrorsConfig",
    "FileConfig",
    "ForwardConfig",
    "GenericPlugin",
    "HealthConfig",
    "HostsConfig",
    "HostsEntry",
    "K8sExternalConfig",
    "KubernetesConfig",
    "LoadbalanceConfig",
    "LocalConfig",
    "LogConfig",
    "LogRule",
    "LoopConfig",
    "MinimalConfig",
    "PluginConfig",
    "PrometheusConfig",
    "ReadyConfig",
    "ReloadConfig",
    "RewriteConfig",
    "RewriteRule",
    "TemplateConfig",
    "TemplateRule",
    "UpstreamConfig",
    "ViewConfig",
    "cache_effective_capacity",
    "configure",
    "order_version",
    "plugin_order",
    "valid_directives",
]
