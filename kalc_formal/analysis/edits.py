"""Candidate fixes for an unsafe cluster, as edits of the exact lines that cause it.

Each candidate is a small set of line edits in the user's files (the Corefile in its
ConfigMap, the CoreDNS image, the clients' pod specs), found from the positions the
analysis kept. A candidate is only a guess: the suggest pipeline proves each one
before it is shown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kalc_formal.analysis.podclasses import selected_clients
from kalc_formal.analysis.result import Analysis
from kalc_formal.config.reading import Inputs
from kalc_formal.coredns.plugins import AutopathConfig, CacheConfig, CoreDNSVersion
from kalc_formal.coredns.plugins.cache import CACHE_SHARDS
from kalc_formal.kubernetes.cluster import Workload
from kalc_formal.model.solve import Outcome
from kalc_formal.source import Span

CHAIN_ORDER_FIX = "1.14.7"
"""The first CoreDNS release that runs cache before autopath (B3)."""

ReadText = Callable[[str], str | None]
"""The current text of an input file by the path its spans name (None: not readable)."""


@dataclass(frozen=True, slots=True)
class LineEdit:
    """Replace line ``line`` of ``path`` (which must read ``old``) by ``new`` (no lines:
    delete it)."""

    path: str
    line: int
    old: str
    new: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file the fix adds, beside the inputs (``path`` must not exist yet)."""

    path: str
    text: str


CONFIG = "config"
"""A change of the manifests or the Corefile: its patch is the fix."""
APPLICATION = "application"
"""A change of what the clients ask: kalc.yaml's lookups describe the application, so
the edit of kalc.yaml only proves it and no patch is offered."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One change a reviewer could make, with what it costs besides the edit itself."""

    id: str
    title: str
    edits: tuple[LineEdit, ...]
    pods_restarted: int
    """Pods that must restart, or start, for it to apply (a ConfigMap reloaded in place:
    none)."""
    note: str = ""
    new_files: tuple[NewFile, ...] = ()
    kind: str = CONFIG


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A proved set of candidates and what it costs."""

    candidates: tuple[Candidate, ...]
    analysis: Analysis
    outcome: Outcome
    patch: str
    client_queries_per_second: int
    busiest_replica_per_second: int
    pods_restarted: int

    @property
    def rank(self) -> tuple[int, int, int, int]:
        return (len(self.candidates), self.client_queries_per_second,
                self.busiest_replica_per_second, self.pods_restarted)


@dataclass(frozen=True, slots=True)
class Suggestions:
    baseline_client_queries_per_second: int
    baseline_busiest_replica_per_second: int
    proved: tuple[Suggestion, ...]
    not_proved: tuple[tuple[tuple[str, ...], str], ...]
    """(titles of the set, its verdict) for each set tried that was not proved."""
    checks: int
    limit_reached: bool
    properties: tuple[str, ...] = ("upstream-limit",)
    """The properties every suggestion is proved for."""


def candidates(inputs: Inputs, analysis: Analysis, read: ReadText) -> list[Candidate]:
    """Every candidate that can be written as line edits of these inputs."""
    found = [
        *_autopath_off(inputs, read),
        *_newer_coredns(inputs, read),
        *_sized_caches(inputs, analysis, read),
        *_ndots(inputs, analysis, read),
    ]
    return [c for c in found if c.edits or c.new_files]


def apply(text: str, edits: list[LineEdit]) -> str | None:
    """``text`` with the edits of one file made, bottom up; None when a line is not
    what the edit expects (the file changed since it was read)."""
    lines = text.split("\n")
    for edit in sorted(edits, key=lambda e: e.line, reverse=True):
        if not 1 <= edit.line <= len(lines) or lines[edit.line - 1] != edit.old:
            return None
        lines[edit.line - 1 : edit.line] = list(edit.new)
    return "\n".join(lines)


def merge_edits(edits: list[LineEdit]) -> list[LineEdit] | None:
    """The edits of several candidates as one per line: edits of one line merge when they
    are the same, or all keep its text (or all open the same block on it) and add lines
    that set different things; None when two cannot both be made."""
    by_line: dict[tuple[str, int], list[LineEdit]] = {}
    for edit in edits:
        by_line.setdefault((edit.path, edit.line), []).append(edit)
    merged: list[LineEdit] = []
    for same in by_line.values():
        unique = list(dict.fromkeys(same))
        if len(unique) == 1:
            merged.append(unique[0])
            continue
        first, last = unique[0].new[:1], unique[0].new[-1:]
        if any(e.old != unique[0].old or len(e.new) < 2 or e.new[:1] != first for e in unique):
            return None
        closes = all(e.new[-1:] == last and last[0].strip() == "}" for e in unique)
        if first != (unique[0].old,) and not closes:
            return None
        added = [line for e in unique for line in (e.new[1:-1] if closes else e.new[1:])]
        words = [line.split()[0] for line in added if line.split()]
        if len(words) != len(set(words)):
            return None
        merged.append(LineEdit(unique[0].path, unique[0].line, unique[0].old,
                               (*first, *added, *(last if closes else ()))))
    return merged


def _line(read: ReadText, span: Span) -> str | None:
    text = read(span.path)
    if text is None:
        return None
    lines = text.split("\n")
    return lines[span.line - 1] if 1 <= span.line <= len(lines) else None


def _autopath_off(inputs: Inputs, read: ReadText) -> Iterator[Candidate]:
    if inputs.config is None:
        return
    edits = []
    for block in inputs.config.blocks:
        for plugin in block.plugins:
            if isinstance(plugin, AutopathConfig):
                old = _line(read, plugin.span)
                if old is None or not old.strip().startswith("autopath") or "{" in old:
                    return
                edits.append(LineEdit(plugin.span.path, plugin.span.line, old, ()))
    yield Candidate("autopath-off", "turn autopath off (clients walk their own search list)",
                    tuple(edits), 0)


def _newer_coredns(inputs: Inputs, read: ReadText) -> Iterator[Candidate]:
    if inputs.version >= CoreDNSVersion.parse(CHAIN_ORDER_FIX) or inputs.version_origin != "manifests":
        return
    edits = []
    restarted = 0
    for server in inputs.cluster.dns_servers:
        if server.software != "coredns" or server.image is None:
            continue
        old = _line(read, server.image.span)
        if old is None:
            return
        new = re.sub(r"(coredns:v?)\d+\.\d+\.\d+", rf"\g<1>{CHAIN_ORDER_FIX}", old, count=1)
        if new == old:
            return
        edits.append(LineEdit(server.image.span.path, server.image.span.line, old, (new,)))
        restarted += server.workload.replicas or 1
    yield Candidate(
        "coredns-1.14.7", f"upgrade CoreDNS to {CHAIN_ORDER_FIX} (cache runs before autopath, B3)",
        tuple(edits), restarted,
    )


def _sized_caches(inputs: Inputs, analysis: Analysis, read: ReadText) -> Iterator[Candidate]:
    """A capacity for every cache pool that holds all its keys: per shard (D3) when the
    model lets keys meet in one shard (a pool with a shard capacity), and in all when
    they spread evenly."""
    model = analysis.model
    evicting = [p for p in model.pools if model.may_evict(p.id)]
    if not evicting or inputs.config is None:
        return
    keys = max(sum(k.keys for k in model.pool_classes(p.id)) for p in evicting)
    even = not any(p.shard_capacity for p in evicting)
    capacity = CACHE_SHARDS * (math.ceil(keys / CACHE_SHARDS) if even else keys)
    edits: list[LineEdit] = []
    for block in inputs.config.blocks:
        for plugin in block.plugins:
            if isinstance(plugin, CacheConfig):
                edit = cache_capacity_edits(read, plugin, capacity)
                if edit is None:
                    return
                edits += edit
    shards = "evenly spread keys" if even else "any keys, even all in one of its 256 shards"
    yield Candidate(
        f"cache-capacity-{capacity}", f"size every cache for {keys:,} keys: success and denial "
        f"{capacity:,} ({shards})", tuple(edits), 0,
        note=f"about {capacity * 2 * 500 / 1e9:.1f} GB of memory per replica at 500 bytes an entry",
    )


def cache_capacity_edits(read: ReadText, cache: CacheConfig, capacity: int) -> list[LineEdit] | None:
    if capacity <= max(cache.success_capacity, cache.denial_capacity):
        return []
    return cache_option_edits(read, cache, {"success": str(capacity), "denial": str(capacity)})


def cache_option_edits(read: ReadText, cache: CacheConfig,
                       options: dict[str, str]) -> list[LineEdit] | None:
    """The cache's block with each option of ``options`` (its name: its arguments) written
    once, in place of any line that sets it; a one-line ``cache`` becomes a block. None
    when the cache is not written as one line or a block opened at its end."""
    old = _line(read, cache.span)
    if old is None or not old.strip().startswith("cache"):
        return None
    indent = old[: len(old) - len(old.lstrip())]
    inner = indent + "    "
    written = tuple(f"{inner}{name} {args}".rstrip() for name, args in options.items())
    if "{" not in old and "}" not in old:
        return [LineEdit(cache.span.path, cache.span.line, old,
                         (old.rstrip() + " {", *written, f"{indent}}}"))]
    if not (old.rstrip().endswith("{") and old.count("{") == 1 and "}" not in old):
        return None
    lines = (read(cache.span.path) or "").split("\n")
    edits = [LineEdit(cache.span.path, cache.span.line, old, (old, *written))]
    for number in range(cache.span.line + 1, len(lines) + 1):
        line = lines[number - 1]
        if line.strip() == "}":
            return edits
        if "{" in line or "}" in line:
            return None
        words = line.split()
        if words and words[0] in options:
            edits.append(LineEdit(cache.span.path, number, line, ()))
    return None


def _ndots(inputs: Inputs, analysis: Analysis, read: ReadText) -> Iterator[Candidate]:
    """ndots low enough that the external names are tried as given first (G1, H4), on the
    client workloads that look them up, through dnsConfig."""
    names = _flow_names(analysis)
    externals = [_dots(name) for name, external in names.items() if external]
    internals = [_dots(name) for name, external in names.items() if not external]
    if not externals:
        return
    ndots = max([1, *(d + 1 for d in internals)])
    if ndots > min(externals):
        return
    edits: list[LineEdit] = []
    restarted = 0
    for workload in selected_clients(inputs):
        edit = _dns_config_edit(read, workload, ndots)
        if edit is None:
            return
        edits.append(edit)
        restarted += workload.replicas or 1
    yield Candidate(f"ndots-{ndots}", f"set ndots:{ndots} through dnsConfig on the "
                    f"{len(edits):,} client workload(s)", tuple(edits), restarted)


def _flow_names(analysis: Analysis) -> dict[str, bool]:
    """Whether each name the clients look up goes upstream on a cold cache (external)."""
    names: dict[str, bool] = {}
    for flow in analysis.flows.values():
        names[flow.name_class] = names.get(flow.name_class, False) or flow.upstream_cold > 0
    return names


def _dots(name: str) -> int:
    return name.rstrip(".").count(".")


def _dns_config_edit(read: ReadText, workload: Workload, ndots: int) -> LineEdit | None:
    """dnsConfig written just before the pod spec's first key; None when the pod spec is
    not a block mapping whose first key sits at the span, or dnsConfig is set."""
    if workload.dns.config is not None:
        return None
    span = workload.dns.policy.span
    old = _line(read, span)
    if old is None or not workload.dns.policy_defaulted:
        return None
    indent = " " * (span.column - 1)
    if not old.startswith(indent) or not re.match(r"[A-Za-z_-]+:", old[len(indent):].lstrip("- ")):
        return None
    if old[len(indent):].startswith("-"):
        return None
    return LineEdit(span.path, span.line, old, (
        f"{indent}dnsConfig:", f"{indent}  options:", f'{indent}  - {{name: ndots, value: "{ndots}"}}',
        old,
    ))
