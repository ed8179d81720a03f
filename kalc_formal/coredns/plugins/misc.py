"""The options of the plugins whose effect is ignored or not modelled: read as their
version of CoreDNS reads them, so that a Corefile CoreDNS rejects is rejected here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from kalc_formal.coredns.corefile.model import Directive, Token
from kalc_formal.coredns.plugins.reader import (
    QCLASSES,
    QTYPES,
    RCODES,
    BlockContext,
    Fail,
    Option,
    arg_count,
    arg_error,
    block_options,
    fallthrough_zones,
    go_atoi,
    go_duration,
    host_port_address,
    in_releases,
    last_arg,
    lines_as_read,
    no_block,
    option_last,
    parse_network,
    some_args,
    unknown_property,
)
from kalc_formal.source import Span


@dataclass(frozen=True, slots=True)
class RewriteRule:
    """One rewrite rule: ``[continue|stop] TYPE [MATCH] ARGS...``."""

    mode: Literal["stop", "continue"]
    rule_type: str
    match: str | None
    args: tuple[str, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class RewriteConfig:
    """Every ``rewrite`` rule of the block, in Corefile order (A12)."""

    name: ClassVar[str] = "rewrite"
    rules: tuple[RewriteRule, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class TemplateRule:
    """One ``template CLASS TYPE [ZONE...] {...}``."""

    qclass: str
    qtype: str
    zones: tuple[str, ...]
    match: tuple[str, ...]
    answer: tuple[str, ...]
    additional: tuple[str, ...]
    authority: tuple[str, ...]
    rcode: str
    fallthrough: tuple[str, ...] | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class TemplateConfig:
    """Every ``template`` of the block, in Corefile order (A12)."""

    name: ClassVar[str] = "template"
    templates: tuple[TemplateRule, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class FileConfig:
    """``file DBFILE [ZONES...] {...}``; repeats add zones."""

    name: ClassVar[str] = "file"
    files: Mapping[str, str]
    reload: float
    fallthrough: tuple[str, ...] | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class LoopConfig:
    name: ClassVar[str] = "loop"
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ErrorsConfig:
    name: ClassVar[str] = "errors"
    stacktrace: bool
    consolidate: tuple[tuple[str, ...], ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class LogRule:
    name_scope: str
    format: str | None
    classes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LogConfig:
    name: ClassVar[str] = "log"
    rules: tuple[LogRule, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class HealthConfig:
    name: ClassVar[str] = "health"
    address: str
    lameduck: float
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ReadyConfig:
    name: ClassVar[str] = "ready"
    address: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class PrometheusConfig:
    name: ClassVar[str] = "prometheus"
    address: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ReloadConfig:
    name: ClassVar[str] = "reload"
    interval: float
    jitter: float
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class LoadbalanceConfig:
    name: ClassVar[str] = "loadbalance"
    policy: str
    args: tuple[str, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class K8sExternalConfig:
    name: ClassVar[str] = "k8s_external"
    zones: tuple[str, ...]
    ttl: int
    apex: str
    headless: bool
    fallthrough: tuple[str, ...] | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class LocalConfig:
    name: ClassVar[str] = "local"
    localhost_prefix: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ViewConfig:
    name: ClassVar[str] = "view"
    view_name: str
    expressions: tuple[str, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class AclPolicy:
    action: Literal["allow", "block", "filter", "drop"]
    qtypes: tuple[str, ...]
    networks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AclConfig:
    name: ClassVar[str] = "acl"
    rules: tuple[tuple[tuple[str, ...], tuple[AclPolicy, ...]], ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class AnyConfig:
    name: ClassVar[str] = "any"
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class MinimalConfig:
    name: ClassVar[str] = "minimal"
    span: Span = field(compare=False)


_REWRITE_TYPES = ("name", "class", "type", "edns0", "ttl", "cname", "rcode")
_NAME_MATCHES = ("exact", "prefix", "suffix", "substring", "regex")


def read_rewrite(reader: BlockContext, directives: list[Directive]) -> list[RewriteConfig]:
    del reader
    rules = []
    for directive in directives:
        words = list(directive.args)
        if len(words) < 2:
            words += [token for line in directive.block or () for token in line.tokens]
        if not words:
            raise Fail(directive.span, "no rule type specified for rewrite")
        rules.append(_rewrite_rule(words, directive.span))
    return [RewriteConfig(tuple(rules), directives[0].span)]


def _rewrite_rule(words: list[Token], span: Span) -> RewriteRule:
    """rewrite.go newRule: ``[continue|stop] TYPE ARGS...`` (types checked, not all args)."""
    mode: Literal["stop", "continue"] = "stop"
    first = words[0].text.lower()
    if first in ("stop", "continue"):
        if len(words) < 2:
            raise Fail(words[0].span, f"{first} rule must begin with a rule type")
        mode = "continue" if first == "continue" else "stop"
        words = words[1:]
    rule_type, args = words[0].text.lower(), words[1:]
    if rule_type == "answer":
        raise Fail(words[0].span, "response rewrites must begin with a name rule")
    if rule_type not in _REWRITE_TYPES:
        raise Fail(words[0].span, f'invalid rule type "{words[0].text}"')
    if rule_type in ("class", "type") and len(args) != 2:
        raise Fail(words[0].span, f"{rule_type} rules must have exactly two arguments")
    match = None
    if rule_type == "name":
        if len(args) < 2:
            raise Fail(words[0].span, "too few arguments for a name rule")
        match = "exact" if len(args) == 2 else args[0].text.lower()
        if match not in _NAME_MATCHES:
            raise Fail(args[0].span, f"name rule supports only exact, prefix, suffix, substring, and regex name matching, received: {match}")
    return RewriteRule(mode, rule_type, match, tuple(token.text for token in args), span)


def read_template(reader: BlockContext, directives: list[Directive]) -> list[TemplateConfig]:
    templates = []
    for directive in directives:
        args = directive.args
        if not args:
            raise arg_error(directive)
        if args[0].text not in QCLASSES:
            raise Fail(args[0].span, f"invalid query class {args[0].text}")
        if len(args) < 2:
            raise arg_error(args[0])
        if args[1].text not in QTYPES:
            raise Fail(args[1].span, f"invalid RR class {args[1].text}")
        state = _TemplateState()
        for option in block_options(directive):
            _template_option(reader, state, option)
        templates.append(TemplateRule(
            args[0].text, args[1].text, reader.zones(args[2:]), state.parts["match"],
            state.parts["answer"], state.parts["additional"], state.parts["authority"],
            state.rcode, state.fallthrough, directive.span,
        ))
    return [TemplateConfig(tuple(templates), directives[0].span)]


@dataclass
class _TemplateState:
    parts: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"match": (), "answer": (), "additional": (), "authority": ()}
    )
    rcode: str = "NOERROR"
    fallthrough: tuple[str, ...] | None = None


def _template_option(reader: BlockContext, state: _TemplateState, option: Option) -> None:
    name, args = option.name.text, option.args
    if name in state.parts:
        some_args(option)
        state.parts[name] += tuple(token.text for token in args)
    elif name == "rcode":
        some_args(option)
        if args[0].text not in RCODES:
            raise Fail(args[0].span, f"unknown rcode {args[0].text}")
        state.rcode = args[0].text
    elif name == "ederror" and reader.at_least("1.10.1"):
        arg_count(option, 1, 2)
        if not re.fullmatch(r"[0-9]+", args[0].text) or int(args[0].text) > 65535:
            raise Fail(args[0].span, f"error parsing extended DNS error code {args[0].text}")
    elif name == "fallthrough":
        state.fallthrough = fallthrough_zones(args)
    elif name != "upstream":
        raise arg_error(option.name)


_FILE_OPTIONS: Mapping[str, tuple[str, None]] = {
    "fallthrough": ("1.12.2", None), "reload": ("1.2.3", None), "reload_by_mtime": ("1.14.4", None),
    "upstream": ("1.0.0", None), "transfer": ("1.0.0-1.7.1", None), "no_reload": ("1.0.0-1.4.0", None),
}


def read_file(reader: BlockContext, directives: list[Directive]) -> list[FileConfig]:
    files: dict[str, str] = {}
    reload_interval = 60.0
    fallthrough: tuple[str, ...] | None = None
    for directive in directives:
        if not directive.args:
            raise arg_error(directive)
        for zone in reader.zones(directive.args[1:]):
            files[zone] = directive.args[0].text
        for option in lines_as_read(directive, frozenset({"reload_by_mtime"})):
            if option.name.text not in _FILE_OPTIONS or not in_releases(reader, _FILE_OPTIONS[option.name.text][0]):
                raise unknown_property(option)
            if option.name.text == "fallthrough":
                fallthrough = fallthrough_zones(option.args)
            elif option.name.text == "reload":
                if not option.args:
                    raise Fail(option.name.span, "reload duration value is expected")
                reload_interval = go_duration(option.args[0])
    return [FileConfig(files, reload_interval, fallthrough, directives[0].span)]


def read_loop(reader: BlockContext, directives: list[Directive]) -> list[LoopConfig]:
    del reader
    directive = directives[0]
    if directive.args:
        raise arg_error(directive.args[0])
    no_block(directive)
    return [LoopConfig(directive.span)]


def read_errors(reader: BlockContext, directives: list[Directive]) -> list[ErrorsConfig]:
    directive = directives[0]
    if len(directive.args) > 1:
        raise arg_error(directive.args[-1])
    if directive.args and directive.args[0].text != "stdout":
        raise Fail(directive.args[0].span, f"invalid log file: {directive.args[0].text}")
    stacktrace = False
    consolidate: list[tuple[str, ...]] = []
    for option in lines_as_read(directive, frozenset({"stacktrace"})):
        name = option.name.text
        if name == "stacktrace" and reader.at_least("1.9.3"):
            stacktrace = True
        elif name == "consolidate" and reader.at_least("1.9.3"):
            if not 2 <= len(option.args) <= 4:
                raise arg_error(option_last(option))
            go_duration(option.args[0])
            consolidate.append(tuple(token.text for token in option.args))
        else:
            raise Fail(option.name.span, f"Syntax error: Unexpected token '{name}', expecting 'Unknown field {name}'")
    return [ErrorsConfig(stacktrace, tuple(consolidate), directive.span)]


_LOG_CLASSES = ("all", "success", "denial", "error")


def read_log(reader: BlockContext, directives: list[Directive]) -> list[LogConfig]:
    del reader
    rules: list[LogRule] = []
    for directive in directives:
        names = [token.text for token in directive.args]
        log_format = None
        if len(names) > 1 and "{" in names[-1]:
            log_format = names.pop()
        classes: list[str] = []
        for option in block_options(directive):
            if option.name.text != "class":
                raise unknown_property(option)
            if not option.args:
                raise arg_error(option.name)
            for token in option.args:
                if token.text not in _LOG_CLASSES:
                    raise Fail(token.span, f"invalid class: {token.text}")
                classes.append(token.text)
        for scope in names or ["."]:
            rules.append(LogRule(scope if scope.endswith(".") else scope + ".", log_format, tuple(classes) or ("all",)))
    return [LogConfig(tuple(rules), directives[0].span)]


def read_health(reader: BlockContext, directives: list[Directive]) -> list[HealthConfig]:
    address, lameduck = "", 0.0
    for directive in directives:
        if len(directive.args) > 1:
            raise arg_error(directive.args[-1])
        if directive.args:
            address = host_port_address(directive.args[0])
        for option in block_options(directive):
            if option.name.text != "lameduck" or not reader.at_least("1.0.5"):
                raise unknown_property(option)
            if len(option.args) != 1:
                raise arg_error(option_last(option))
            lameduck = go_duration(option.args[0])
    return [HealthConfig(address or ":8080", lameduck, directives[-1].span)]


def read_ready(reader: BlockContext, directives: list[Directive]) -> list[ReadyConfig]:
    directive = directives[0]
    if len(directive.args) > 1:
        raise arg_error(directive.args[-1])
    address = host_port_address(directive.args[0]) if directive.args else ":8181"
    for option in block_options(directive):
        if option.name.text != "monitor" or not reader.at_least("1.12.2"):
            raise unknown_property(option)
        if len(option.args) != 1:
            raise arg_error(option_last(option))
        if option.args[0].text not in ("until-ready", "continuously"):
            raise Fail(option.args[0].span, f"invalid monitor type: {option.args[0].text}")
    return [ReadyConfig(address, directive.span)]


def read_prometheus(reader: BlockContext, directives: list[Directive]) -> list[PrometheusConfig]:
    directive = directives[0]
    if len(directive.args) > 1:
        raise arg_error(directive.args[-1])
    address = host_port_address(directive.args[0]) if directive.args else "localhost:9153"
    for option in block_options(directive):
        if option.name.text not in ("runtime_metrics", "tls") or not reader.at_least("1.14.3"):
            raise unknown_property(option)
    return [PrometheusConfig(address, directive.span)]


def read_reload(reader: BlockContext, directives: list[Directive]) -> list[ReloadConfig]:
    del reader
    directive = directives[0]  # setup reads only the first occurrence
    args = directive.args
    if len(args) > 2:
        raise arg_error(args[-1])
    interval = go_duration(args[0]) if args else 30.0
    if interval < 2:
        raise Fail(args[0].span, "interval value must be greater or equal to 2s")
    jitter = go_duration(args[1]) if len(args) > 1 else 15.0
    if jitter != 0 and jitter < 1:
        raise Fail(args[1].span, "jitter value must be 0 or greater or equal to 1s")
    return [ReloadConfig(interval, min(jitter, interval / 2), directive.span)]


def read_loadbalance(reader: BlockContext, directives: list[Directive]) -> list[LoadbalanceConfig]:
    directive = directives[-1]
    args = directive.args
    policy = args[0].text if args else "round_robin"
    if policy == "round_robin" and len(args) > 1:
        raise Fail(args[1].span, f"unknown property for {policy}")
    if policy == "weighted" and reader.at_least("1.10.1"):
        if len(args) != 2:
            raise Fail((args[2] if len(args) > 2 else args[0]).span, "missing weight file argument" if len(args) < 2 else "unexpected argument(s)")
    elif policy != "round_robin":
        raise Fail(args[0].span, f"unknown policy: {policy}")
    for option in block_options(directive):
        if option.name.text == "prefer" and policy != "weighted" and reader.at_least("1.12.4"):
            for token in option.args:
                if parse_network(token.text) is None:
                    raise Fail(token.span, f'invalid CIDR "{token.text}"')
        elif option.name.text == "reload" and policy == "weighted":
            if len(option.args) != 1:
                raise arg_error(option_last(option))
            go_duration(option.args[0])
        else:
            raise unknown_property(option)
    return [LoadbalanceConfig(policy, tuple(token.text for token in args[1:]), directive.span)]


def read_k8s_external(reader: BlockContext, directives: list[Directive]) -> list[K8sExternalConfig]:
    directive = directives[-1]
    for earlier in directives[:-1]:
        _k8s_external_options(reader, earlier)
    ttl, apex, headless, fallthrough = _k8s_external_options(reader, directive)
    return [K8sExternalConfig(reader.zones(directive.args), ttl, apex, headless, fallthrough, directive.span)]


def _k8s_external_options(reader: BlockContext, directive: Directive) -> tuple[int, str, bool, tuple[str, ...] | None]:
    ttl, apex, headless = 5, "dns", False
    fallthrough: tuple[str, ...] | None = None
    for option in lines_as_read(directive, frozenset({"headless"})):
        name = option.name.text
        if name == "ttl":
            if not option.args:
                raise arg_error(option.name)
            ttl = go_atoi(option.args[0])
            if not 0 <= ttl <= 3600:
                raise Fail(option.args[0].span, f"ttl must be in range [0, 3600]: {ttl}")
        elif name == "apex":
            if not option.args:
                raise arg_error(option.name)
            apex = option.args[0].text
        elif name == "headless" and reader.at_least("1.9.4"):
            headless = True
        elif name == "fallthrough" and reader.at_least("1.11.0"):
            fallthrough = fallthrough_zones(option.args)
        else:
            raise unknown_property(option)
    return ttl, apex, headless, fallthrough


def read_local(reader: BlockContext, directives: list[Directive]) -> list[LocalConfig]:
    prefix = True
    for directive in directives:
        if directive.args:
            raise arg_error(directive.args[0])
        for option in block_options(directive):
            if option.name.text != "localhost_prefix" or not reader.at_least("1.14.5"):
                raise unknown_property(option)
            if len(option.args) != 1:
                raise arg_error(option_last(option))
            if option.args[0].text not in ("on", "off"):
                raise Fail(option.args[0].span, f"localhost_prefix expects 'on' or 'off', got \"{option.args[0].text}\"")
            prefix = option.args[0].text == "on"
    return [LocalConfig(prefix, directives[0].span)]


def read_view(reader: BlockContext, directives: list[Directive]) -> list[ViewConfig]:
    del reader
    directive = directives[0]
    if len(directive.args) != 1:
        raise arg_error(last_arg(directive))
    expressions = []
    for option in block_options(directive):
        if option.name.text != "expr":
            raise unknown_property(option)
        expressions.append(" ".join(token.text for token in option.args))
    return [ViewConfig(directive.args[0].text, tuple(expressions), directive.span)]


def read_acl(reader: BlockContext, directives: list[Directive]) -> list[AclConfig]:
    rules = []
    for directive in directives:
        policies = []
        for option in block_options(directive):
            action = option.name.text.lower()
            if action not in ("allow", "block", "filter", "drop"):
                raise Fail(option.name.span, f"unexpected token \"{option.name.text}\"; expect 'allow', 'block', 'filter' or 'drop'")
            policies.append(_acl_policy(action, option))  # type: ignore[arg-type]
        rules.append((reader.zones(directive.args), tuple(policies)))
    return [AclConfig(tuple(rules), directives[0].span)]


def _acl_policy(action: Literal["allow", "block", "filter", "drop"], option: Option) -> AclPolicy:
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for token in option.args:
        word = token.text.lower()
        if word in ("type", "net"):
            if current is not None and not sections[current]:
                raise Fail(token.span, f'no token specified in "{current}" section')
            current = word
            sections[current] = []
            continue
        if current is None:
            raise Fail(token.span, f"unexpected token \"{token.text}\"; expect 'type | net'")
        if current == "type" and token.text != "*" and token.text not in QTYPES:
            raise Fail(token.span, f'unexpected token "{token.text}"; expect legal QTYPE')
        if current == "net" and token.text != "*" and parse_network(token.text if "/" in token.text else _host_network(token.text)) is None:
            raise Fail(token.span, f'illegal CIDR notation "{token.text}"')
        sections[current].append(token.text)
    if current is not None and not sections[current]:
        raise Fail(option.span, f'no token specified in "{current}" section')
    return AclPolicy(action, tuple(sections.get("type", ["*"])), tuple(sections.get("net", ["*"])))


def _host_network(text: str) -> str:
    return text + ("/128" if ":" in text else "/32")


def read_any(reader: BlockContext, directives: list[Directive]) -> list[AnyConfig]:
    del reader
    directive = directives[0]
    if directive.args:
        raise arg_error(directive.args[0])
    no_block(directive)
    return [AnyConfig(directive.span)]


def read_minimal(reader: BlockContext, directives: list[Directive]) -> list[MinimalConfig]:
    del reader
    directive = directives[0]
    if directive.args:
        raise arg_error(directive.args[0])
    no_block(directive)
    return [MinimalConfig(directive.span)]
