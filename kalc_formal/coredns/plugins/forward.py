"""The forward plugin's options and upstreams (E1-E10; plugin/forward/setup.go)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from kalc_formal import golang
from kalc_formal.coredns.corefile.keys import DEFAULT_PORTS, TRANSPORT_SCHEMES
from kalc_formal.coredns.corefile.model import Directive, Token
from kalc_formal.coredns.plugins.reader import (
    BlockContext,
    Fail,
    Option,
    arg_error,
    block_options,
    go_atoi,
    go_duration,
    go_parse_uint32,
    handler_for,
    no_args,
    normalize_exact,
    normalized_name,
    rcode,
    some_args,
    unknown_property,
)
from kalc_formal.source import Span

FORWARD_MAX_UPSTREAMS = 15
"""The most ``TO`` addresses one forward takes (``max``, setup.go)."""
DEFAULT_READ_TIMEOUT = 2.0
"""E5: forward's read timeout: it re-sends a query that got no reply after it."""
DEFAULT_HEALTH_CHECK = 0.5
"""E7: seconds between health probes of an unhealthy upstream, without ``health_check``."""


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """One ``TO`` of forward: an address, a resolv.conf-style file, or a host name.

    A file is kept as a reference: CoreDNS reads it inside its container at start
    (E3). ``port`` is None for a file.
    """

    text: str
    kind: Literal["address", "file", "hostname"]
    transport: str
    host: str
    port: int | None
    tls_server_name: str | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ForwardConfig:
    """One ``forward FROM TO... {...}`` (E1-E10; plugin/forward/setup.go).

    Durations are in seconds. ``max_connect_attempts`` is the effective cap per
    query, None for no cap (E5: 2 x upstreams by default from 1.14.7, no cap
    before); ``read_timeout`` is 2 s where the version has no option for it.
    """

    name: ClassVar[str] = "forward"
    from_zone: str
    to: tuple[UpstreamConfig, ...]
    except_zones: tuple[str, ...]
    policy: Literal["random", "round_robin", "sequential"]
    max_concurrent: int | None
    max_fails: int
    health_check: float
    health_check_recursion_desired: bool
    health_check_domain: str
    force_tcp: bool
    prefer_udp: bool
    expire: float
    max_connect_attempts: int | None
    max_connect_attempts_configured: int | None
    read_timeout: float
    failover_rcodes: tuple[str, ...]
    next_rcodes: tuple[str, ...]
    next_on_nodata: bool
    failfast_all_unhealthy_upstreams: bool
    options: Mapping[str, tuple[str, ...]]
    span: Span = field(compare=False)


@dataclass
class _ForwardState:
    policy: Literal["random", "round_robin", "sequential"] = "random"
    max_fails: int = 2
    health_check: float = DEFAULT_HEALTH_CHECK
    health_check_rd: bool = True
    health_check_domain: str = "."
    expire: float = 10.0
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_concurrent: int | None = None
    max_connect_attempts: int | None = None
    except_zones: tuple[str, ...] = ()
    failover: tuple[str, ...] = ()
    next: tuple[str, ...] = ()
    flags: set[str] = field(default_factory=set)


def _forward_flag(state: _ForwardState, option: Option) -> None:
    no_args(option)
    state.flags.add(option.name.text)


def _forward_except(state: _ForwardState, option: Option) -> None:
    some_args(option)
    state.except_zones += tuple(zone for token in option.args for zone in normalize_exact(token.text))


def _forward_uint(state: _ForwardState, option: Option) -> None:
    some_args(option)
    value = go_parse_uint32(option.args[0])
    if option.name.text == "max_fails":
        state.max_fails = value
    else:
        state.max_connect_attempts = value


def _forward_duration(state: _ForwardState, option: Option) -> None:
    some_args(option)
    name, value = option.name.text, go_duration(option.args[0])
    if name == "read_timeout" and value <= 0:
        raise Fail(option.args[0].span, f"read_timeout must be positive: {option.args[0].text}")
    if value < 0:
        raise Fail(option.args[0].span, f"{name} can't be negative: {option.args[0].text}")
    if name == "expire":
        state.expire = value
    elif name == "read_timeout":
        state.read_timeout = value


def _forward_int(state: _ForwardState, option: Option) -> None:
    some_args(option)
    value = go_atoi(option.args[0])
    if value < 0:
        raise Fail(option.args[0].span, f"{option.name.text} can't be negative: {value}")
    if option.name.text == "max_concurrent":
        state.max_concurrent = value


def _forward_policy(state: _ForwardState, option: Option) -> None:
    some_args(option)
    value = option.args[0].text
    if value == "random":
        state.policy = "random"
    elif value == "round_robin":
        state.policy = "round_robin"
    elif value == "sequential":
        state.policy = "sequential"
    else:
        raise Fail(option.args[0].span, f"unknown policy '{value}'")


def _forward_rcodes(state: _ForwardState, option: Option) -> None:
    some_args(option)
    rcodes = tuple(rcode(token) for token in option.args)
    if option.name.text == "next":
        state.next += rcodes
        return
    if "NOERROR" in rcodes:
        raise Fail(option.args[rcodes.index("NOERROR")].span, "NoError cannot be used in failover")
    state.failover += rcodes


def _forward_health_check(state: _ForwardState, option: Option, *, extras: bool = True) -> None:
    """``health_check DURATION [no_rec] [domain FQDN]`` (E7)."""
    args = option.args
    some_args(option)
    state.health_check = go_duration(args[0])
    if state.health_check < 0:
        raise Fail(args[0].span, f"health_check can't be negative: {args[0].text}")
    state.health_check_domain = "."
    words = iter(args[1:])
    for word in words:
        if word.text == "no_rec" and extras:
            state.health_check_rd = False
        elif word.text == "domain" and extras:
            domain = next(words, None)
            if domain is None:
                raise arg_error(word)
            if not golang.is_domain_name(domain.text):
                raise Fail(domain.span, f"health_check: invalid domain name {domain.text}")
            state.health_check_domain = normalized_name(domain)
        else:
            raise Fail(word.span, f"health_check: unknown option {word.text}")


def _forward_tls(state: _ForwardState, option: Option) -> None:
    if len(option.args) > 3:
        raise arg_error(option.args[-1])


def _forward_doh_method(state: _ForwardState, option: Option) -> None:
    some_args(option)
    if option.args[0].text not in ("GET", "POST"):
        raise Fail(option.args[0].span, "doh_method must be either POST or GET")


def _forward_source_address(state: _ForwardState, option: Option) -> None:
    some_args(option)
    if golang.parse_ip(option.args[0].text) is None:
        raise Fail(option.args[0].span, f"invalid IP address: {option.args[0].text}")


def _forward_resolver(state: _ForwardState, option: Option) -> None:
    some_args(option)
    for token in option.args:
        host = token.text
        with contextlib.suppress(ValueError):
            host = golang.split_host_port(host)[0]
        if golang.parse_ip(host) is None:
            raise Fail(token.span, f'resolver must be an IP address or IP:port: "{token.text}"')


_ForwardHandler = Callable[[_ForwardState, Option], None]
_FORWARD_OPTIONS: Mapping[str, tuple[str, _ForwardHandler]] = {
    "except": ("1.0.6", _forward_except),
    "max_fails": ("1.0.6", _forward_uint),
    "health_check": ("1.0.6", _forward_health_check),
    "force_tcp": ("1.0.6", _forward_flag),
    "tls": ("1.0.6", _forward_tls),
    "tls_servername": ("1.0.6", lambda state, option: some_args(option)),
    "expire": ("1.0.6", _forward_duration),
    "policy": ("1.0.6", _forward_policy),
    "prefer_udp": ("1.2.0", _forward_flag),
    "max_concurrent": ("1.6.8", _forward_int),
    "next": ("1.11.4", _forward_rcodes),
    "failfast_all_unhealthy_upstreams": ("1.12.1", _forward_flag),
    "failover": ("1.13.0", _forward_rcodes),
    "max_connect_attempts": ("1.13.2", _forward_uint),
    "max_idle_conns": ("1.14.1", _forward_int),
    "max_age": ("1.14.3", _forward_duration),
    "next_on_nodata": ("1.14.4", _forward_flag),
    "resolver": ("1.14.4", _forward_resolver),
    "doh_method": ("1.14.5", _forward_doh_method),
    "read_timeout": ("1.14.5", _forward_duration),
    "source_address": ("1.14.6", _forward_source_address),
}


def read_forward(reader: BlockContext, directives: list[Directive]) -> list[ForwardConfig]:
    return [_forward_stanza(reader, directive) for directive in directives]


def _forward_stanza(reader: BlockContext, directive: Directive) -> ForwardConfig:
    if not directive.args:
        raise arg_error(directive)
    zones = normalize_exact(directive.args[0].text)
    if not zones:
        raise Fail(directive.args[0].span, f"unable to normalize '{directive.args[0].text}'")
    if len(directive.args) < 2:
        raise arg_error(directive.args[0])
    state = _ForwardState()
    options: dict[str, tuple[str, ...]] = {}
    for option in block_options(directive):
        handler = handler_for(reader, option, _FORWARD_OPTIONS)
        if handler is None:
            raise unknown_property(option)
        if option.name.text == "policy" and option.args and option.args[0].text == "sequential" and not reader.at_least("1.1.2"):
            raise Fail(option.args[0].span, "unknown policy 'sequential'")
        options[option.name.text] = tuple(token.text for token in option.args)
        if option.name.text == "health_check":
            _forward_health_check(state, option, extras=reader.at_least("1.6.8"))
        else:
            handler(state, option)
    upstreams = tuple(_upstream_config(reader, token) for token in directive.args[1:])
    if len(upstreams) > FORWARD_MAX_UPSTREAMS:
        raise Fail(directive.span, f"more than {FORWARD_MAX_UPSTREAMS} TOs configured: {len(upstreams)}")
    configured = state.max_connect_attempts
    effective: int | None
    if configured is not None:
        effective = configured or None
    else:
        effective = 2 * len(upstreams) if reader.at_least("1.14.7") else None
    return ForwardConfig(
        zones[0], upstreams, state.except_zones, state.policy, state.max_concurrent,
        state.max_fails, state.health_check, state.health_check_rd, state.health_check_domain,
        "force_tcp" in state.flags, "prefer_udp" in state.flags, state.expire, effective,
        configured, state.read_timeout, state.failover, state.next,
        "next_on_nodata" in state.flags, "failfast_all_unhealthy_upstreams" in state.flags,
        options, directive.span,
    )


def _upstream_config(reader: BlockContext, token: Token) -> UpstreamConfig:
    """parse.HostPortOrFile, then forward's hostname and transport checks (E1, E3)."""
    text = token.text
    transport, rest = "dns", text
    for scheme in TRANSPORT_SCHEMES:
        if text.startswith(scheme + "://"):
            transport, rest = scheme, text[len(scheme) + 3 :]
            break
    server_name = None
    if "%" in rest and transport == "tls":
        rest, server_name = _split_tls_server_name(rest)
    if not rest:
        raise Fail(token.span, f'invalid address: "{text}"')
    allowed = {"dns", "tls"} | ({"https"} if reader.at_least("1.14.5") else set())
    if transport not in allowed:
        raise Fail(token.span, f"'{transport}' is not supported as a destination protocol in forward: {text}")
    if transport == "https" and "/" in rest:
        raise Fail(token.span, f"paths are not allowed in HTTPS upstream addresses (the /dns-query path is used by default): {text}")
    host, port = rest.strip("[]"), DEFAULT_PORTS[transport]
    try:
        host, port_text = golang.split_host_port(rest)
        if not re.fullmatch(r"[0-9]+", port_text) or int(port_text) > 65535:
            raise Fail(token.span, f"invalid port in {text}")
        port = int(port_text)
    except ValueError:
        pass
    if golang.parse_ip(host.split("%")[0]) is not None:
        return UpstreamConfig(text, "address", transport, host, port, server_name, token.span)
    if "/" in rest or not reader.at_least("1.14.4") or not golang.is_domain_name(host):
        return UpstreamConfig(text, "file", transport, rest, None, server_name, token.span)
    return UpstreamConfig(text, "hostname", transport, host, port, server_name, token.span)


def _split_tls_server_name(rest: str) -> tuple[str, str]:
    """forward splitZone: ``9.9.9.9%dns.quad9.net[:port]``."""
    index = rest.rfind("%")
    host, zone = rest[:index], rest[index + 1 :]
    if ":" in zone:
        colon = zone.rfind(":")
        host += zone[colon:]
        zone = zone[:colon].removesuffix("]")
    return host, zone


