"""The config facts a proof may rest on, each with the edit that takes its guarantee away.

A fact is an element of the user's files that the analysis read (a cache, a capacity
option, a pod's ndots, the CoreDNS replicas and their anti-affinity, the CoreDNS
release, a NodeLocal DNSCache DaemonSet) and a relaxation: line edits after which the
files say less (the element removed, or set back to what CoreDNS or the kubelet does
by default). kalc.yaml is not among them: its values are assumptions the user states.
The reliance pipeline finds which facts a proof needs by relaxing them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from kalc_formal.analysis.edits import LineEdit
from kalc_formal.analysis.podclasses import selected_clients
from kalc_formal.config.reading import Inputs
from kalc_formal.coredns.plugins import AutopathConfig, CacheConfig, CoreDNSVersion
from kalc_formal.coredns.plugins.cache import CACHE_DEFAULT_CAPACITY, CACHE_SHARDS
from kalc_formal.coredns.plugins.chain import CorefileConfig
from kalc_formal.kubernetes.cluster import Workload
from kalc_formal.source import Span

ReadText = Callable[[str], str | None]
"""The current text of an input file by the path its spans name (None: not readable)."""

KUBELET_NDOTS = 5
"""The ndots the kubelet writes into a ClusterFirst pod's resolv.conf (H2)."""
CACHE_BEFORE_AUTOPATH = "1.14.7"
"""The first CoreDNS release that runs cache before autopath (B3)."""
AUTOPATH_BELOW_CACHE = "1.14.6"
"""The last CoreDNS release that runs autopath before cache (B2, B3)."""
MAX_BLOCK_LINES = 10_000
"""The most lines one relaxation deletes (a block whose end is not found sooner is left alone)."""


@dataclass(frozen=True, slots=True)
class Bound:
    """A numeric fact's written value and the values it may take, weakest first (the
    written one last); ``edit`` writes one of them in place of the written one."""

    name: str
    written: int
    values: Sequence[int]
    edit: Callable[[int], tuple[LineEdit, ...]] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Fact:
    """A config element a proof may rely on, and the edit that relaxes it.

    ``edits`` is empty when the element cannot be relaxed by editing lines (then
    ``why_not`` says why). ``within``: the id of a fact whose relaxation removes this
    one's lines too (a capacity option inside a cache)."""

    id: str
    kind: str
    text: str
    spans: tuple[Span, ...]
    relaxation: str
    edits: tuple[LineEdit, ...]
    within: str | None = None
    why_not: str = ""
    bound: Bound | None = None

    @property
    def order(self) -> tuple[str, int, int, str]:
        first = self.spans[0]
        return (first.path, first.line, first.column, self.id)


def facts(inputs: Inputs, read: ReadText) -> list[Fact]:
    """Every fact of these inputs, in file and line order."""
    found = [
        *_caches(inputs.config, "CoreDNS", read),
        *_caches(inputs.nodelocal, "node-local", read),
        *_ndots(inputs, read),
        *_coredns_servers(inputs, read),
        *_nodelocal_daemonsets(inputs, read),
    ]
    return sorted(found, key=lambda f: f.order)


def _line(read: ReadText, path: str, number: int) -> str | None:
    text = read(path)
    if text is None:
        return None
    lines = text.split("\n")
    return lines[number - 1] if 1 <= number <= len(lines) else None


def _lines(read: ReadText, path: str) -> list[str]:
    text = read(path)
    return text.split("\n") if text is not None else []


def _deletions(read: ReadText, path: str, first: int, last: int) -> tuple[LineEdit, ...]:
    lines = _lines(read, path)
    return tuple(LineEdit(path, n, lines[n - 1], ()) for n in range(first, last + 1))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


# ---- the Corefile --------------------------------------------------------------------------


def _caches(config: CorefileConfig | None, server: str, read: ReadText) -> Iterator[Fact]:
    if config is None:
        return
    for block in config.blocks:
        zones = " ".join(k.text for k in block.keys)
        for plugin in block.plugins:
            if isinstance(plugin, CacheConfig):
                yield from _cache(plugin, f"{server}'s {zones} block", read)


def _cache(cache: CacheConfig, where: str, read: ReadText) -> Iterator[Fact]:
    span = cache.span
    fact_id = f"cache:{span}"
    line = _line(read, span.path, span.line)
    shown = line.strip() if line is not None else "cache"
    end = _block_end(read, span) if line is not None and line.strip().startswith("cache") else None
    edits = _deletions(read, span.path, span.line, end) if end is not None else ()
    yield Fact(fact_id, "cache", f"the cache of {where} ({shown.rstrip(' {')})", (span,),
               "cache removed", edits,
               why_not="" if edits else "its lines could not be found in the file",
               bound=_ttl_bound(cache, line) if edits and line is not None else None)
    if end is None:
        return
    lines = _lines(read, span.path)
    for number in range(span.line + 1, end):
        words = lines[number - 1].split()
        if len(words) < 2 or words[0] not in ("success", "denial"):
            continue
        capacity = cache.success_capacity if words[0] == "success" else cache.denial_capacity
        if capacity <= CACHE_DEFAULT_CAPACITY:
            continue
        old = lines[number - 1]
        new = re.sub(rf"({words[0]}\s+)\d+", rf"\g<1>{CACHE_DEFAULT_CAPACITY}", old, count=1)
        option_span = Span(span.path, number, _indent(old) + 1)
        yield Fact(
            f"cache-{words[0]}:{option_span}", "cache-capacity",
            f"cache {words[0]} capacity {capacity:,} in {where}", (option_span,),
            f"{words[0]} capacity back to CoreDNS's default {CACHE_DEFAULT_CAPACITY:,}",
            (LineEdit(span.path, number, old, (new,)),) if new != old else (), within=fact_id,
            why_not="" if new != old else "the capacity could not be found on its line",
            bound=_capacity_bound(words[0], capacity, span.path, number, old) if new != old else None,
        )


def _replacing(path: str, number: int, old: str, pattern: str) -> Callable[[int], tuple[LineEdit, ...]]:
    """Edits that put a value in the first group ``pattern`` matches on one line."""
    def edit(value: int) -> tuple[LineEdit, ...]:
        new = re.sub(pattern, rf"\g<1>{value}", old, count=1)
        return (LineEdit(path, number, old, (new,)),)
    return edit


def _ttl_bound(cache: CacheConfig, line: str) -> Bound | None:
    """The TTL written on the cache's own line (``cache [TTL] ...``), when no option
    sets one pool's TTL apart from the other's."""
    if cache.success_max_ttl != cache.denial_max_ttl or not cache.success_max_ttl.is_integer():
        return None
    written = int(cache.success_max_ttl)
    match = re.match(r"(\s*cache)(?:[ \t]+\d+)?(.*)$", line)
    if match is None or written < 1:
        return None
    head, rest = match.groups()

    def edit(value: int) -> tuple[LineEdit, ...]:
        return (LineEdit(cache.span.path, cache.span.line, line, (f"{head} {value}{rest}",)),)
    return Bound("cache TTL", written, range(1, written + 1), edit)


def _capacity_bound(pool: str, capacity: int, path: str, number: int, old: str) -> Bound:
    first = CACHE_SHARDS * (CACHE_DEFAULT_CAPACITY // CACHE_SHARDS + 1)
    values = (CACHE_DEFAULT_CAPACITY, *range(first, capacity, CACHE_SHARDS), capacity)
    return Bound(f"{pool} capacity", capacity, values,
                 _replacing(path, number, old, rf"({pool}\s+)\d+"))


def _block_end(read: ReadText, span: Span) -> int | None:
    """The last line of the directive at ``span``: its own line, or the line that closes
    the block it opens (braces counted line by line)."""
    lines = _lines(read, span.path)
    depth = 0
    for number in range(span.line, min(len(lines), span.line + MAX_BLOCK_LINES) + 1):
        code = lines[number - 1].split("#", 1)[0]
        depth += code.count("{") - code.count("}")
        if depth <= 0:
            return number if depth == 0 else None
    return None


# ---- pod specs -----------------------------------------------------------------------------


def _list_item(read: ReadText, span: Span) -> tuple[LineEdit, ...]:
    """Deletions of the block sequence item whose content starts at ``span`` (``- `` just
    before it); none when the item is not written that way."""
    lines = _lines(read, span.path)
    if not 1 <= span.line <= len(lines):
        return ()
    line = lines[span.line - 1]
    dash = span.column - 3
    if dash < 0 or line[dash : span.column - 1] != "- " or line[:dash].strip():
        return ()
    last = span.line
    for number in range(span.line + 1, min(len(lines), span.line + MAX_BLOCK_LINES) + 1):
        text = lines[number - 1]
        if text.strip() and _indent(text) <= dash:
            break
        if text.strip():
            last = number
    return _deletions(read, span.path, span.line, last)


def _ndots(inputs: Inputs, read: ReadText) -> Iterator[Fact]:
    """One fact per ndots value below the kubelet's, over the client workloads that set it."""
    by_value: dict[int, list[tuple[Workload, Span]]] = {}
    for workload in selected_clients(inputs):
        config = workload.dns.config
        for option in config.options if config else ():
            if option.name == "ndots" and option.value is not None and option.value.isdigit():
                value = int(option.value)
                if value < KUBELET_NDOTS:
                    by_value.setdefault(value, []).append((workload, option.span))
    for value, settings in sorted(by_value.items()):
        edits = [_list_item(read, span) for _, span in settings]
        names = ", ".join(f"{w.kind}/{w.name}" for w, _ in settings[:3])
        more = f" and {len(settings) - 3:,} more" if len(settings) > 3 else ""
        spans = tuple(span for _, span in settings)
        items = tuple(e for item in edits for e in item)
        yield Fact(
            f"ndots-{value}:{spans[0]}", "ndots",
            f"ndots:{value} on {len(settings):,} client workload(s) ({names}{more})", spans,
            f"the ndots option removed (the kubelet's ndots:{KUBELET_NDOTS} applies)",
            items if all(edits) else (),
            why_not="" if all(edits) else "an ndots option is not a block list item",
            bound=_ndots_bound(value, items) if all(edits) else None,
        )


def _ndots_bound(written: int, items: tuple[LineEdit, ...]) -> Bound | None:
    """ndots from the kubelet's less one down to the written value, on every option."""
    pattern = r"""(value:\s*["']?)\d+"""
    lines = [e for e in items if re.search(pattern, e.old)]
    if len(lines) != len({(e.path, e.line) for e in items if e.old.lstrip().startswith("-")}):
        return None

    def edit(value: int) -> tuple[LineEdit, ...]:
        return tuple(LineEdit(e.path, e.line, e.old, (re.sub(pattern, rf"\g<1>{value}", e.old, count=1),))
                     for e in lines)
    return Bound("ndots", written, range(KUBELET_NDOTS - 1, written - 1, -1), edit)


def _coredns_servers(inputs: Inputs, read: ReadText) -> Iterator[Fact]:
    autoscaled = {(h.namespace, h.target_name) for h in inputs.cluster.horizontal_autoscalers}
    autoscaled |= {(p.namespace, t.name) for p in inputs.cluster.proportional_autoscalers
                   for t in p.targets}
    has_autopath = inputs.config is not None and any(
        isinstance(p, AutopathConfig) for b in inputs.config.blocks for p in b.plugins)
    for server in inputs.cluster.dns_servers:
        if server.software != "coredns":
            continue
        workload = server.workload
        name = f"{workload.kind}/{workload.name}"
        replicas = workload.replicas or 1
        if (replicas > 1 and not workload.replicas_defaulted
                and (workload.namespace, workload.name) not in autoscaled):
            yield _replicas_fact(read, workload, name, replicas)
        if workload.placement.anti_affinity is not None:
            span = workload.placement.anti_affinity
            yield _item_fact(read, span, "anti-affinity",
                             f"at most 1 replica of {name} per node (required podAntiAffinity on "
                             "kubernetes.io/hostname)", "the anti-affinity term removed")
        for skew, span in workload.placement.spread:
            yield _item_fact(read, span, "spread",
                             f"{name} spread over nodes with maxSkew {skew} (DoNotSchedule "
                             "on kubernetes.io/hostname)", "the spread constraint removed")
        if (has_autopath and server.image is not None and inputs.version_origin == "manifests"
                and inputs.version >= CoreDNSVersion.parse(CACHE_BEFORE_AUTOPATH)):
            yield _version_fact(read, server.image.span, inputs.version)


def _replicas_fact(read: ReadText, workload: Workload, name: str, replicas: int) -> Fact:
    span = workload.replicas_span
    old = _line(read, span.path, span.line) or ""
    new = re.sub(r"(replicas:\s*)\d+", r"\g<1>1", old, count=1)
    edits = (LineEdit(span.path, span.line, old, (new,)),) if new != old else ()
    return Fact(f"replicas:{span}", "replicas", f"{replicas:,} replicas of {name}", (span,),
                "replicas: 1", edits,
                why_not="" if edits else "replicas is not written as `replicas: N` on its line",
                bound=Bound("replicas", replicas, range(1, replicas + 1),
                            _replacing(span.path, span.line, old, r"(replicas:\s*)\d+"))
                if edits else None)


def _item_fact(read: ReadText, span: Span, kind: str, text: str, relaxation: str) -> Fact:
    edits = _list_item(read, span)
    return Fact(f"{kind}:{span}", kind, text, (span,), relaxation, edits,
                why_not="" if edits else "it is not a block list item")


def _version_fact(read: ReadText, span: Span, version: CoreDNSVersion) -> Fact:
    old = _line(read, span.path, span.line) or ""
    new = re.sub(r"(coredns:v?)\d+\.\d+\.\d+", rf"\g<1>{AUTOPATH_BELOW_CACHE}", old, count=1)
    edits = (LineEdit(span.path, span.line, old, (new,)),) if new != old else ()
    return Fact(f"version:{span}", "version",
                f"CoreDNS {version} runs cache before autopath (B3)", (span,),
                f"image {AUTOPATH_BELOW_CACHE} (autopath before cache)", edits,
                why_not="" if edits else "the image tag is not a coredns:X.Y.Z version")


def _nodelocal_daemonsets(inputs: Inputs, read: ReadText) -> Iterator[Fact]:
    for nodelocal in inputs.cluster.node_local_dns:
        workload = nodelocal.workload
        span = workload.span
        last = _document_end(read, span)
        edits = _deletions(read, span.path, span.line, last) if last is not None else ()
        yield Fact(f"nodelocal:{span}", "nodelocal",
                   f"NodeLocal DNSCache {workload.kind}/{workload.name} on every node", (span,),
                   "the DaemonSet removed (pods query CoreDNS's Service)", edits,
                   why_not="" if edits else "its document could not be delimited")


def _document_end(read: ReadText, span: Span) -> int | None:
    """The last line of the YAML document that starts at ``span`` (before ``---`` or the end)."""
    lines = _lines(read, span.path)
    if not 1 <= span.line <= len(lines):
        return None
    last = span.line
    for number in range(span.line + 1, len(lines) + 1):
        if lines[number - 1].startswith("---") or lines[number - 1].startswith("..."):
            break
        if lines[number - 1].strip():
            last = number
    return last


@dataclass(frozen=True, slots=True)
class Trial:
    """What relaxing one fact showed. ``status``: relied-on (relaxed, the property is not
    proved: ``verdict`` says what it is), relaxed (still proved, or its lines went with a
    relaxed fact), undecided (the check ended unknown, or the edited files were not
    valid), untested (no line edit relaxes it, or the proof budget was spent)."""

    fact: Fact
    status: str
    verdict: str = ""
    note: str = ""
    weakest: int | None = None
    """For a relied-on numeric fact: the weakest value found with which it is still proved."""
    weakest_note: str = ""


@dataclass(frozen=True, slots=True)
class Reliance:
    """The facts a proof relies on: a minimal set, found by relaxing facts one by one."""

    trials: tuple[Trial, ...]
    proofs: int
    budget: int
    property: str = "upstream-limit"
    """The property whose proof is explained."""

    def having(self, status: str) -> tuple[Trial, ...]:
        return tuple(t for t in self.trials if t.status == status)
