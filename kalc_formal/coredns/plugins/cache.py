"""The cache plugin's defaults and options (D1-D4, D7, D11, D12; plugin/cache/setup.go).

The defaults are defined here once; the server model's cache step uses them for a
``cache`` without options.
"""

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
    arg_error,
    block_options,
    go_atoi,
    go_duration,
    handler_for,
    no_args,
    normalized_name,
    option_last,
    some_args,
)
from kalc_formal.source import Span

CACHE_DEFAULT_CAPACITY = 10_000
"""D3: the configured capacity of each pool (success, denial) by default (``defaultCap``)."""
CACHE_SHARDS = 256
"""D3: each pool is split into this many shards (pkg/cache ``shardSize``); a full shard
evicts."""
CACHE_MAX_TTL = 3600
"""D4: the longest a success entry is kept, in seconds (``maxTTL``)."""
CACHE_MAX_NTTL = 1800
"""D4: the longest a denial entry is kept, in seconds (``maxNTTL``)."""
CACHE_MIN_TTL = 5
"""D4: the shortest an entry of either pool is kept, in seconds (``minTTL``, ``minNTTL``
= dnsutil.MinimalDefaultTTL); also servfail's default (D7)."""


def cache_effective_capacity(capacity: int) -> int:
    """pkg/cache New: 256 shards of ``max(capacity / 256, 4)`` entries (D3)."""
    per_shard = int(capacity / CACHE_SHARDS) if capacity >= 0 else -((-capacity) // CACHE_SHARDS)
    return CACHE_SHARDS * max(per_shard, 4)


CACHE_DEFAULT_EFFECTIVE_CAPACITY = cache_effective_capacity(CACHE_DEFAULT_CAPACITY)
"""D3: what a pool holds by default: 39 entries in each of 256 shards, 9,984."""


@dataclass(frozen=True, slots=True)
class CacheConfig:
    """``cache [TTL] [ZONES...] {...}`` (D1-D4, D7, D11, D12; plugin/cache/setup.go).

    Durations are in seconds. ``*_capacity`` is as configured; the effective
    capacity is ``256 * max(4, capacity // 256)`` (pkg/cache New: 256 shards of
    at least 4 entries, D3), and eviction happens per shard.
    """

    name: ClassVar[str] = "cache"
    zones: tuple[str, ...]
    success_capacity: int
    success_capacity_effective: int
    success_max_ttl: float
    success_min_ttl: float
    denial_capacity: int
    denial_capacity_effective: int
    denial_max_ttl: float
    denial_min_ttl: float
    prefetch_amount: int
    prefetch_duration: float
    prefetch_percentage: int
    serve_stale: float | None
    serve_stale_refresh: Literal["immediate", "verify"]
    servfail_ttl: float
    disable_success_zones: tuple[str, ...]
    disable_denial_zones: tuple[str, ...]
    keepttl: bool
    span: Span = field(compare=False)


@dataclass
class _CacheState:
    pcap: int = CACHE_DEFAULT_CAPACITY
    ncap: int = CACHE_DEFAULT_CAPACITY
    pttl: float = float(CACHE_MAX_TTL)
    nttl: float = float(CACHE_MAX_NTTL)
    minpttl: float = float(CACHE_MIN_TTL)
    minnttl: float = float(CACHE_MIN_TTL)
    failttl: float = float(CACHE_MIN_TTL)
    prefetch: int = 0
    duration: float = 60.0
    percentage: int = 10
    serve_stale: float | None = None
    refresh: Literal["immediate", "verify"] = "immediate"
    disable_success: tuple[str, ...] = ()
    disable_denial: tuple[str, ...] = ()
    keepttl: bool = False
    seen: set[str] = field(default_factory=set)


def _cache_capacity(state: _CacheState, option: Option) -> None:
    """``success|denial CAPACITY [TTL [MINTTL]]``."""
    args = option.args
    some_args(option)
    capacity = go_atoi(args[0])
    ttl = minimum = None
    if len(args) > 1:
        ttl = go_atoi(args[1])
        if ttl <= 0:
            raise Fail(args[1].span, f"cache TTL can not be zero or negative: {ttl}")
    if len(args) > 2:
        minimum = go_atoi(args[2])
        if minimum < 0:
            raise Fail(args[2].span, f"cache min TTL can not be negative: {minimum}")
    if option.name.text == "success":
        state.pcap = capacity
        state.pttl = float(ttl) if ttl is not None else state.pttl
        state.minpttl = float(minimum) if minimum is not None else state.minpttl
    else:
        state.ncap = capacity
        state.nttl = float(ttl) if ttl is not None else state.nttl
        state.minnttl = float(minimum) if minimum is not None else state.minnttl


def _cache_prefetch(state: _CacheState, option: Option) -> None:
    """``prefetch AMOUNT [DURATION [PERCENTAGE%]]`` (D11)."""
    args = option.args
    if not args or len(args) > 3:
        raise arg_error(option_last(option))
    state.prefetch = go_atoi(args[0])
    if state.prefetch < 0:
        raise Fail(args[0].span, f"prefetch amount should be positive: {state.prefetch}")
    if len(args) > 1:
        state.duration = go_duration(args[1])
    if len(args) > 2:
        text = args[2].text
        if not text.endswith("%"):
            raise Fail(args[2].span, f"last character of percentage should be `%`, but is: {text[-1:]!r}")
        state.percentage = go_atoi(Token(text[:-1], args[2].span))
        if not 10 <= state.percentage <= 90:
            raise Fail(args[2].span, f"percentage should fall in range [10, 90]: {state.percentage}")


def _cache_serve_stale(state: _CacheState, option: Option) -> None:
    """``serve_stale [DURATION [immediate|verify [...]]]`` (D12)."""
    args = option.args
    if len(args) > 5:
        raise arg_error(args[-1])
    state.serve_stale = 3600.0
    if args:
        state.serve_stale = go_duration(args[0])
        if state.serve_stale < 0:
            raise Fail(args[0].span, "invalid negative duration for serve_stale")
    if len(args) > 1:
        mode = args[1].text.lower()
        if mode not in ("immediate", "verify"):
            raise Fail(args[1].span, f"invalid value for serve_stale refresh mode: {mode}")
        state.refresh = "verify" if mode == "verify" else "immediate"
    if len(args) > 4 and state.refresh == "immediate":
        raise arg_error(args[-1])
    for token in args[2:]:
        if go_duration(token) < 0:
            raise Fail(token.span, "invalid negative duration for serve_stale")


def _cache_stale_policy(state: _CacheState, option: Option) -> None:
    arg_count(option, 1)
    if option.args[0].text.lower() != "prefer_positive":
        raise Fail(option.args[0].span, f"invalid serve_stale_policy: {option.args[0].text}")


def _cache_servfail(state: _CacheState, option: Option) -> None:
    """``servfail DURATION``: 0 disables, at most 5 minutes (D7)."""
    arg_count(option, 1)
    state.failttl = go_duration(option.args[0])
    if state.failttl < 0:
        raise Fail(option.args[0].span, "invalid negative ttl for servfail")
    if state.failttl > 300:
        raise Fail(option.args[0].span, "caching SERVFAIL responses over 5 minutes is not permitted")


def _cache_disable(state: _CacheState, option: Option) -> None:
    """``disable success|denial [ZONES...]`` (default: the root zone)."""
    some_args(option)
    kind = option.args[0].text
    zones = tuple(normalized_name(token) for token in option.args[1:]) or (".",)
    if kind == "success":
        state.disable_success = zones
    elif kind == "denial":
        state.disable_denial = zones
    else:
        raise Fail(option.args[0].span, 'cache type for disable must be "success" or "denial"')


def _cache_keepttl(state: _CacheState, option: Option) -> None:
    no_args(option)
    state.keepttl = True


_CACHE_OPTIONS: Mapping[str, tuple[str, Callable[[_CacheState, Option], None]]] = {
    "success": ("1.0.0", _cache_capacity),
    "denial": ("1.0.0", _cache_capacity),
    "prefetch": ("1.0.0", _cache_prefetch),
    "serve_stale": ("1.6.6", _cache_serve_stale),
    "disable": ("1.9.4", _cache_disable),
    "servfail": ("1.9.4", _cache_servfail),
    "keepttl": ("1.10.1", _cache_keepttl),
    "serve_stale_policy": ("1.14.7", _cache_stale_policy),
}


def read_cache(reader: BlockContext, directives: list[Directive]) -> list[CacheConfig]:
    directive = directives[0]
    state = _CacheState()
    args = list(directive.args)
    if args and re.fullmatch(r"[+-]?[0-9]+", args[0].text):
        ttl = go_atoi(args[0])
        if ttl <= 0:
            raise Fail(args[0].span, f"cache TTL can not be zero or negative: {ttl}")
        state.pttl = state.nttl = float(ttl)
        args = args[1:]
    for option in block_options(directive):
        handler = handler_for(reader, option, _CACHE_OPTIONS)
        if handler is None:
            raise arg_error(option.name)
        state.seen.add(option.name.text)
        handler(state, option)
    if "serve_stale_policy" in state.seen and "serve_stale" not in state.seen:
        raise Fail(directive.span, "serve_stale_policy requires serve_stale")
    return [CacheConfig(
        reader.zones(args), state.pcap, cache_effective_capacity(state.pcap), state.pttl,
        state.minpttl, state.ncap, cache_effective_capacity(state.ncap), state.nttl,
        state.minnttl, state.prefetch, state.duration, state.percentage, state.serve_stale,
        state.refresh, state.failttl, state.disable_success, state.disable_denial,
        state.keepttl, directive.span,
    )]


