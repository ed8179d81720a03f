"""The kubernetes plugin's options (F1-F6; plugin/kubernetes/setup.go ParseStanza)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from kalc_formal.coredns.corefile.model import Directive, Token
from kalc_formal.coredns.plugins.reader import (
    BlockContext,
    Fail,
    Option,
    arg_count,
    block_options,
    fallthrough_zones,
    go_atoi,
    go_duration,
    handler_for,
    no_args,
    some_args,
    unknown_property,
)
from kalc_formal.source import Span

KUBERNETES_DEFAULT_TTL = 5
"""F3: the TTL of the plugin's answers without ``ttl`` (``defaultTTL``)."""


@dataclass(frozen=True, slots=True)
class KubernetesConfig:
    """``kubernetes [ZONES...] {...}`` (F1-F6; plugin/kubernetes/setup.go ParseStanza)."""

    name: ClassVar[str] = "kubernetes"
    zones: tuple[str, ...]
    pods: Literal["disabled", "insecure", "verified"]
    ttl: int
    fallthrough: tuple[str, ...] | None
    namespaces: tuple[str, ...]
    endpoint_pod_names: bool
    noendpoints: bool
    options: Mapping[str, tuple[str, ...]]
    span: Span = field(compare=False)


@dataclass
class _KubernetesState:
    pods: Literal["disabled", "insecure", "verified"] = "disabled"
    ttl: int = KUBERNETES_DEFAULT_TTL
    fallthrough: tuple[str, ...] | None = None
    namespaces: tuple[str, ...] = ()
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _k8s_pods(state: _KubernetesState, option: Option) -> None:
    arg_count(option, 1)
    value = option.args[0].text
    if value == "disabled":
        state.pods = "disabled"
    elif value == "insecure":
        state.pods = "insecure"
    elif value == "verified":
        state.pods = "verified"
    else:
        raise Fail(option.args[0].span, f"wrong value for pods: {value},  must be one of: disabled, verified, insecure")


def _k8s_namespaces(state: _KubernetesState, option: Option) -> None:
    some_args(option)
    state.namespaces += tuple(token.text for token in option.args)


def _k8s_ttl(state: _KubernetesState, option: Option) -> None:
    some_args(option)
    state.ttl = go_atoi(option.args[0])
    if not 0 <= state.ttl <= 3600:
        raise Fail(option.args[0].span, f"ttl must be in range [0, 3600]: {state.ttl}")


def _k8s_fallthrough(state: _KubernetesState, option: Option) -> None:
    state.fallthrough = fallthrough_zones(option.args)


def _k8s_ignore(state: _KubernetesState, option: Option) -> None:
    if option.args and option.args[0].text != "empty_service":
        raise Fail(option.args[0].span, f"unable to parse ignore value: '{option.args[0].text}'")


def _k8s_duration(state: _KubernetesState, option: Option) -> None:
    some_args(option)
    go_duration(option.args[0])


def _k8s_api_number(state: _KubernetesState, option: Option) -> None:
    arg_count(option, 1)
    _non_negative_number(option.args[0], option.name.text, allow_float=option.name.text == "apiserver_qps")


_KUBERNETES_OPTIONS: Mapping[str, tuple[str, Callable[[_KubernetesState, Option], None]]] = {
    "endpoint_pod_names": ("1.0.0", lambda state, option: no_args(option)),
    "pods": ("1.0.0", _k8s_pods),
    "namespaces": ("1.0.0", _k8s_namespaces),
    "endpoint": ("1.0.0", lambda state, option: some_args(option)),
    "tls": ("1.0.0", lambda state, option: arg_count(option, 3)),
    "labels": ("1.0.0", lambda state, option: some_args(option)),
    "fallthrough": ("1.0.0", _k8s_fallthrough),
    "ttl": ("1.0.0", _k8s_ttl),
    "upstream": ("1.0.0-1.6.9", lambda state, option: None),
    "resyncperiod": ("1.0.0-1.6.9", _k8s_duration),
    "noendpoints": ("1.0.6", lambda state, option: no_args(option)),
    "transfer": ("1.0.6-1.7.1", lambda state, option: None),
    "ignore": ("1.1.3", _k8s_ignore),
    "kubeconfig": ("1.2.3", lambda state, option: arg_count(option, 1, 2)),
    "namespace_labels": ("1.5.0", lambda state, option: some_args(option)),
    "multicluster": ("1.12.2", lambda state, option: None),
    "startup_timeout": ("1.12.3", _k8s_duration),
    "apiserver_qps": ("1.14.0", _k8s_api_number),
    "apiserver_burst": ("1.14.0", _k8s_api_number),
    "apiserver_max_inflight": ("1.14.0", _k8s_api_number),
    "zonal": ("1.14.7", lambda state, option: no_args(option)),
}


def read_kubernetes(reader: BlockContext, directives: list[Directive]) -> list[KubernetesConfig]:
    directive = directives[0]
    zones = reader.zones(directive.args)
    if not any(not _is_reverse(zone) for zone in zones):
        raise Fail(directive.span, "non-reverse zone name must be used")
    state = _KubernetesState()
    for option in block_options(directive):
        handler = handler_for(reader, option, _KUBERNETES_OPTIONS)
        if handler is None:
            raise unknown_property(option)
        state.options[option.name.text] = tuple(token.text for token in option.args)
        handler(state, option)
    options = state.options
    if "namespaces" in options and "namespace_labels" in options:
        raise Fail(directive.span, "namespaces and namespace_labels cannot both be set")
    if "zonal" in options and "noendpoints" in options:
        raise Fail(directive.span, "zonal requires the endpoint cache; remove noendpoints")
    return [KubernetesConfig(
        zones, state.pods, state.ttl, state.fallthrough, state.namespaces,
        "endpoint_pod_names" in options, "noendpoints" in options, options, directive.span,
    )]


def _non_negative_number(token: Token, name: str, *, allow_float: bool) -> None:
    pattern = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?" if allow_float else r"[+-]?[0-9]+"
    if not re.fullmatch(pattern, token.text):
        raise Fail(token.span, f"invalid {name} {token.text!r}")
    if float(token.text) < 0:
        raise Fail(token.span, f"{name} must be >= 0")


def _is_reverse(zone: str) -> bool:
    return zone.endswith(("in-addr.arpa.", "ip6.arpa."))


