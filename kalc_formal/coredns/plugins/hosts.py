"""The hosts plugin's options and inline entries (plugin/hosts/setup.go)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from kalc_formal import golang
from kalc_formal.coredns.corefile.model import Directive
from kalc_formal.coredns.plugins.reader import (
    BlockContext,
    Fail,
    Option,
    fallthrough_zones,
    go_atoi,
    handler_for,
    lines_as_read,
    no_args,
    unknown_property,
)
from kalc_formal.source import Span

HOSTS_DEFAULT_TTL = 3600
"""The TTL of the hosts plugin's answers without ``ttl``."""


@dataclass(frozen=True, slots=True)
class HostsEntry:
    """One inline line of the hosts plugin: an address and its names."""

    address: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HostsConfig:
    """``hosts [FILE [ZONES...]] {...}`` (plugin/hosts/setup.go)."""

    name: ClassVar[str] = "hosts"
    file: str
    zones: tuple[str, ...]
    entries: tuple[HostsEntry, ...]
    ttl: int
    no_reverse: bool
    reload: float
    fallthrough: tuple[str, ...] | None
    span: Span = field(compare=False)


@dataclass
class _HostsState:
    ttl: int = HOSTS_DEFAULT_TTL
    reload: float = 5.0
    no_reverse: bool = False
    fallthrough: tuple[str, ...] | None = None
    seen: set[str] = field(default_factory=set)


def _hosts_fallthrough(state: _HostsState, option: Option) -> None:
    state.fallthrough = fallthrough_zones(option.args)


def _hosts_ttl(state: _HostsState, option: Option) -> None:
    if not option.args:
        raise Fail(option.name.span, "ttl needs a time in second")
    try:
        state.ttl = go_atoi(option.args[0])
    except Fail:
        raise Fail(option.args[0].span, "ttl needs a number of second") from None
    if not 0 < state.ttl <= 65535:
        raise Fail(option.args[0].span, "ttl provided is invalid")


def _hosts_reload(state: _HostsState, option: Option) -> None:
    if len(option.args) != 1:
        raise Fail(option.name.span, "reload needs a duration (zero seconds to disable)")
    text = option.args[0].text
    try:
        state.reload = golang.parse_duration(text)
    except ValueError:
        raise Fail(option.args[0].span, f"invalid duration for reload '{text}'") from None
    if state.reload < 0:
        raise Fail(option.args[0].span, f"invalid negative duration for reload '{text}'")


def _hosts_no_reverse(state: _HostsState, option: Option) -> None:
    state.no_reverse = True


_HOSTS_OPTIONS: Mapping[str, tuple[str, Callable[[_HostsState, Option], None]]] = {
    "fallthrough": ("1.0.0", _hosts_fallthrough),
    "no_reverse": ("1.4.0", _hosts_no_reverse),
    "ttl": ("1.4.0", _hosts_ttl),
    "reload": ("1.4.0", _hosts_reload),
    "fallthrough_unsupported": ("1.14.7", lambda state, option: no_args(option)),
}


def read_hosts(reader: BlockContext, directives: list[Directive]) -> list[HostsConfig]:
    directive = directives[0]
    args = directive.args
    state = _HostsState()
    entries: list[HostsEntry] = []
    for option in lines_as_read(directive, frozenset({"no_reverse"})):
        handler = handler_for(reader, option, _HOSTS_OPTIONS)
        if handler is None:
            if state.fallthrough:
                raise unknown_property(option)
            entry = _hosts_entry(option)
            if entry is not None:
                entries.append(entry)
            continue
        state.seen.add(option.name.text)
        handler(state, option)
    if "fallthrough_unsupported" in state.seen and not state.fallthrough:
        raise Fail(directive.span, "fallthrough_unsupported requires fallthrough")
    return [HostsConfig(
        args[0].text if args else "/etc/hosts", reader.zones(args[1:]), tuple(entries),
        state.ttl, state.no_reverse, state.reload, state.fallthrough, directive.span,
    )]


def _hosts_entry(option: Option) -> HostsEntry | None:
    """A hosts-file line; lines without a valid address are skipped, as CoreDNS does."""
    words = [option.name.text] + [token.text for token in option.args]
    address = golang.parse_ip(words[0].split("%")[0])
    if address is None or len(words) < 2:
        return None
    return HostsEntry(words[0], tuple(word.lower().rstrip(".") + "." for word in words[1:]))


