"""Static analysis: from served queries' cost trees to counted key classes.

Each client query's operations (``kalc_formal.coredns.server``) are walked: a cache
lookup is a key, named by a template in which the representative name becomes
``<name:ID>`` and the sentinel namespace label becomes ``<ns:ID>``. Keys with the same
template are one key class; its count is the number of names (times namespaces when
the template has ``<ns:...>``). A and AAAA keys that behave alike are merged into one
class.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from kalc_formal.analysis.ids import KeyKind, KeyRef, PoolKey
from kalc_formal.config.settings import Arrivals
from kalc_formal.coredns.server import (
    TCP_CLOSE_PACKETS,
    CacheLookup,
    Local,
    Operation,
    Unmodelled,
    UpstreamExchange,
    Walk,
)
from kalc_formal.model.flowmodel import KeyClass
from kalc_formal.source import Span


@dataclass(frozen=True, slots=True)
class NamePlaceholder:
    """How a name class appears in qnames: its representative text and count."""

    id: str
    text: str
    count: int


@dataclass(frozen=True, slots=True)
class NamespacePlaceholder:
    """A pod class's sentinel namespace label and how many namespaces it stands for."""

    label: str
    count: int
    pods_min_per_namespace: int = 1


@dataclass(slots=True)
class KeyInfo:
    """What the report needs to know about a key class. ``ref``: its id's parts (of the
    first class met, when A and AAAA merge); None only in a KeyInfo built by hand."""

    template: str
    display: str
    qtypes: set[str]
    pool: str | None
    duration: int
    cache: str
    per_namespace: bool
    spans: list[Span] = field(default_factory=list)
    upstream_targets: set[str] = field(default_factory=set)
    walk: bool = False
    ref: KeyRef | None = None


@dataclass(frozen=True, slots=True)
class _Template:
    """A qname with the representative name marked ``<name:ID>`` and the sentinel
    namespace label ``<ns:LABEL>`` (``text``, a key class's id part and label), as the
    report shows it (``display``), and whether it holds the namespace."""

    text: str
    display: str
    per_namespace: bool


@dataclass(slots=True)
class _Draft:
    key_id: str
    group: str
    keys: int
    ttl_steps: int
    pool: str | None
    demand: dict[str, int] = field(default_factory=dict)
    fed_by: dict[str, int] = field(default_factory=dict)
    upstream: dict[str, int] = field(default_factory=dict)
    failed_sends: dict[int, int] = field(default_factory=dict)
    followups: dict[tuple[str, int], int] = field(default_factory=dict)
    guaranteed: float = 0.0
    peak_per_name: int = 0
    peak_per_name_and_namespace: int = 0


@dataclass(frozen=True, slots=True)
class KeyPeak:
    """The most lookups of one name in one step: by all pods of a pod class, and by
    the pods of its busiest namespace."""

    per_name: int
    per_name_and_namespace: int


@dataclass(slots=True)
class KeyClassBuilder:
    """Accumulates key classes of one server group from client queries' operations.

    ``scope_of``: forward id -> the scopes its packets count in; ``schedules``: forward
    id -> the seconds at which it sends a query that gets no reply (E5, E6);
    ``closes``: forward id -> the seconds at which it gives each of those sends up
    (a TCP send's connection is closed then: ``TCP_CLOSE_PACKETS`` more packets);
    ``arrivals``: None when a step's queries may arrive at any moment.
    ``pools``: pool id -> the pool, for each pool met; ``refs``: key class id -> the key.
    """

    group: str
    step_seconds: int
    scope_of: dict[str, tuple[str, ...]]
    schedules: dict[str, tuple[float, ...]] = field(default_factory=dict)
    closes: dict[str, tuple[float, ...]] = field(default_factory=dict)
    arrivals: Arrivals | None = None
    drafts: dict[str, _Draft] = field(default_factory=dict)
    info: dict[str, KeyInfo] = field(default_factory=dict)
    unmodelled: list[Unmodelled] = field(default_factory=list)
    pools: dict[str, PoolKey] = field(default_factory=dict)
    refs: dict[str, KeyRef] = field(default_factory=dict)

    def add_query(
        self,
        flow: str,
        operations: Iterable[Operation],
        name: NamePlaceholder,
        namespace: NamespacePlaceholder,
        guaranteed_per_step: float,
        peak: KeyPeak,
    ) -> None:
        """One client query of one lookup of ``flow`` and what serving it takes.

        ``guaranteed_per_step``: this query's copies per step that reach one replica of
        the group at baseline, at the least, counted as if spread evenly over the keys
        (for ``every_key_every_step``). ``peak``: the most lookups that ask one key.
        """
        for operation in operations:
            key_id = self._operation(
                operation, name, namespace, ("flow", flow), guaranteed_per_step
            )
            if key_id is not None:
                draft = self.drafts[key_id]
                draft.peak_per_name += peak.per_name
                draft.peak_per_name_and_namespace += peak.per_name_and_namespace

    def register(
        self, operations: Iterable[Operation], name: NamePlaceholder,
        namespace: NamespacePlaceholder,
    ) -> list[str]:
        """The classes a query meets first, created if new, with no demand added."""
        found = []
        for operation in operations:
            key_id = self._operation(operation, name, namespace, None, 0.0)
            if key_id is not None:
                found.append(key_id)
        return found

    def add_followup(self, key_id: str, target: str, delay: int) -> None:
        """A failed miss of ``key_id`` makes a client ask ``target`` ``delay`` steps later."""
        followups = self.drafts[key_id].followups
        followups[(target, delay)] = followups.get((target, delay), 0) + 1

    def failing(
        self, operations: Iterable[Operation], name: NamePlaceholder,
        namespace: NamespacePlaceholder,
    ) -> list[str]:
        """The classes whose misses fail when the upstream is out, in these operations."""
        found: list[str] = []
        for operation in operations:
            if isinstance(operation, CacheLookup):
                key_id = self._cache_id(operation, name, namespace)
                if self.drafts[key_id].failed_sends:
                    found.append(key_id)
                else:
                    found += self.failing(_internal(operation.on_miss), name, namespace)
            elif isinstance(operation, Walk):
                found += self.failing(operation.internal, name, namespace)
            elif isinstance(operation, UpstreamExchange):
                found.append(self._upstream_id(operation, name, namespace))
        return found

    def _operation(
        self,
        operation: Operation,
        name: NamePlaceholder,
        namespace: NamespacePlaceholder,
        source: tuple[str, str] | None,
        guaranteed: float,
    ) -> str | None:
        if isinstance(operation, Unmodelled):
            self.unmodelled.append(operation)
            return None
        if isinstance(operation, CacheLookup):
            key_id, created = self._cache_class(operation, name, namespace)
            if created:
                for inner in operation.on_miss:
                    self._downstream(key_id, inner, name, namespace)
        elif isinstance(operation, Walk):
            key_id, created = self._walk_class(operation, name, namespace)
            if created:
                for inner in operation.internal:
                    self._operation(inner, name, namespace, ("key", key_id), guaranteed)
        elif isinstance(operation, UpstreamExchange):
            key_id, created = self._uncached_upstream(operation, name, namespace)
            if created:
                self._add_upstream(key_id, operation)
        else:
            return None
        self._source(key_id, source, guaranteed)
        return key_id

    def _downstream(
        self, key_id: str, operation: Operation, name: NamePlaceholder,
        namespace: NamespacePlaceholder,
    ) -> None:
        """What a miss of ``key_id`` costs: upstream packets, or lookups in other classes."""
        if isinstance(operation, UpstreamExchange):
            self._add_upstream(key_id, operation)
        elif isinstance(operation, Walk):
            self.info[key_id].walk = True
            self.info[key_id].spans += [s for s in (operation.span,) if s]
            for inner in operation.internal:
                self._downstream(key_id, inner, name, namespace)
        elif isinstance(operation, Unmodelled):
            self.unmodelled.append(operation)
        elif isinstance(operation, CacheLookup):
            self._operation(operation, name, namespace, ("key", key_id), 0.0)
        elif not isinstance(operation, Local):
            raise TypeError(operation)

    def _add_upstream(self, key_id: str, operation: UpstreamExchange) -> None:
        """One more upstream exchange per miss; the first one is the one that fails
        when the upstream is out (an autopath walk stops at a forward error, C6)."""
        draft = self.drafts[key_id]
        for scope in self.scope_of.get(operation.forward, ()):
            draft.upstream[scope] = draft.upstream.get(scope, 0) + operation.packets
        if not draft.failed_sends and self.scope_of.get(operation.forward):
            for at in self.schedules.get(operation.forward, (0.0,)):
                delay = math.floor(at / self.step_seconds)
                draft.failed_sends[delay] = draft.failed_sends.get(delay, 0) + operation.packets
            if operation.packets > 1:
                for at in self.closes.get(operation.forward, ()):
                    delay = math.floor(at / self.step_seconds)
                    draft.failed_sends[delay] = draft.failed_sends.get(delay, 0) + TCP_CLOSE_PACKETS
        self.info[key_id].upstream_targets.update(operation.targets)
        if operation.span:
            self.info[key_id].spans.append(operation.span)

    def _template(self, qname: str, name: NamePlaceholder, namespace: NamespacePlaceholder) -> _Template:
        text = name.text.rstrip(".")
        head, shown, rest = "", "", qname
        if qname == text + "." or qname.startswith(text + "."):
            head, shown, rest = f"<name:{name.id}>", text, qname[len(text) :]
        label = "." + namespace.label + "."
        return _Template(
            head + rest.replace(label, f".<ns:{namespace.label}>."),
            shown + rest.replace(label, ".<namespace>."),
            label in rest,
        )

    def _count(self, template: _Template, name: NamePlaceholder, namespace: NamespacePlaceholder) -> int:
        return name.count * (namespace.count if template.per_namespace else 1)

    def _class_id(self, kind: KeyKind, template: str, qtype: str, cache: str | None = None) -> str:
        ref = KeyRef(self.group, kind, template, qtype, cache)
        self.refs.setdefault(ref.id, ref)
        return ref.id

    def _cache_id(self, lookup: CacheLookup, name: NamePlaceholder, namespace: NamespacePlaceholder) -> str:
        template = self._template(lookup.query.qname, name, namespace)
        return self._class_id("cache", template.text, lookup.query.qtype, lookup.cache)

    def _upstream_id(self, upstream: UpstreamExchange, name: NamePlaceholder, namespace: NamespacePlaceholder) -> str:
        template = self._template(upstream.query.qname, name, namespace)
        return self._class_id("upstream", template.text, upstream.query.qtype)

    def _cache_class(
        self, lookup: CacheLookup, name: NamePlaceholder, namespace: NamespacePlaceholder,
    ) -> tuple[str, bool]:
        template = self._template(lookup.query.qname, name, namespace)
        pool = None
        if lookup.pool is not None:
            key = PoolKey(self.group, lookup.cache, lookup.pool)
            pool = key.id
            self.pools[pool] = key
        ttl_steps = lookup.duration // self.step_seconds if pool else 0
        key_id = self._cache_id(lookup, name, namespace)
        created = self._draft(key_id, ttl_steps, pool, self._count(template, name, namespace))
        self._note(key_id, template, lookup.query.qtype, lookup.pool, lookup.duration,
                   lookup.cache, lookup.span)
        return key_id, created

    def _walk_class(
        self, walk: Walk, name: NamePlaceholder, namespace: NamespacePlaceholder,
    ) -> tuple[str, bool]:
        template = self._template(walk.query.qname, name, namespace)
        key_id = self._class_id("walk", template.text, walk.query.qtype)
        created = self._draft(key_id, 0, None, self._count(template, name, namespace))
        self._note(key_id, template, walk.query.qtype, None, 0, "", walk.span)
        self.info[key_id].walk = True
        return key_id, created

    def _uncached_upstream(
        self, upstream: UpstreamExchange, name: NamePlaceholder, namespace: NamespacePlaceholder,
    ) -> tuple[str, bool]:
        template = self._template(upstream.query.qname, name, namespace)
        key_id = self._upstream_id(upstream, name, namespace)
        created = self._draft(key_id, 0, None, self._count(template, name, namespace))
        self._note(key_id, template, upstream.query.qtype, None, 0, "", None)
        return key_id, created

    def _draft(self, key_id: str, ttl_steps: int, pool: str | None, keys: int) -> bool:
        if key_id in self.drafts:
            return False
        self.drafts[key_id] = _Draft(key_id, self.group, keys, ttl_steps, pool)
        return True

    def _note(
        self, key_id: str, template: _Template, qtype: str, pool: str | None, duration: int,
        cache: str, span: Span | None,
    ) -> None:
        if key_id not in self.info:
            self.info[key_id] = KeyInfo(
                template.text, template.display, {qtype}, pool, duration, cache,
                template.per_namespace, ref=self.refs[key_id],
            )
        if span and span not in self.info[key_id].spans:
            self.info[key_id].spans.append(span)

    def _source(self, key_id: str, source: tuple[str, str] | None, guaranteed: float) -> None:
        if source is None:
            return
        draft = self.drafts[key_id]
        kind, source_id = source
        target = draft.demand if kind == "flow" else draft.fed_by
        target[source_id] = target.get(source_id, 0) + 1
        draft.guaranteed += guaranteed

    def key_classes(self) -> list[KeyClass]:
        """The key classes, A and AAAA merged where they behave alike, in feed order."""
        ordered = _feed_order(list(self.drafts.values()))
        most = self._key_queries(ordered)
        classes = [
            KeyClass(
                id=d.key_id, group=d.group, keys=d.keys, ttl_steps=d.ttl_steps, pool=d.pool,
                demand=tuple(sorted(d.demand.items())), fed_by=tuple(d.fed_by.items()),
                upstream=tuple(sorted(d.upstream.items())),
                every_key_every_step=d.ttl_steps > 0 and d.guaranteed / max(1, d.keys) >= 1,
                label=self.info[d.key_id].template,
                failed_sends=tuple(sorted(d.failed_sends.items())),
                followups=tuple((t, delay, n) for (t, delay), n in sorted(d.followups.items())),
                misses_per_fill=self._within_reply(most[d.key_id]),
                key_queries=most[d.key_id],
            )
            for d in ordered
        ]
        return merge_qtypes(classes, self.info, self.refs)

    def _key_queries(self, ordered: list[_Draft]) -> dict[str, int | None]:
        """Per class, the most queries one key can get in a step: the peak lookups of
        one name (and namespace, for per-namespace keys), directly or through the
        misses of the classes that feed it (every feeding query can miss, D10); a
        class that failures send follow-ups to is bounded by its queries only."""
        followed = {target for d in ordered for target, _ in d.followups}
        peaks: dict[str, KeyPeak | None] = {}
        for draft in ordered:
            peak: KeyPeak | None = KeyPeak(draft.peak_per_name, draft.peak_per_name_and_namespace)
            for source, per_miss in draft.fed_by.items():
                feeding = peaks[source]
                if feeding is None or peak is None:
                    peak = None
                    continue
                peak = KeyPeak(
                    peak.per_name + per_miss * feeding.per_name,
                    peak.per_name_and_namespace + per_miss * feeding.per_name_and_namespace,
                )
            peaks[draft.key_id] = None if draft.key_id in followed else peak
        most: dict[str, int | None] = {}
        for key_id, found in peaks.items():
            if found is None:
                most[key_id] = None
            elif self.info[key_id].per_namespace:
                most[key_id] = max(1, found.per_name_and_namespace)
            else:
                most[key_id] = max(1, found.per_name)
        return most

    def _within_reply(self, queries: int | None) -> int | None:
        """The most misses one key takes before its answer is cached (D10): all its
        queries, or with ``arrivals`` those within one reply time of the first."""
        if queries is None or self.arrivals is None:
            return queries
        reply_steps = self.arrivals.reply_seconds / self.step_seconds
        share = self.arrivals.burst * queries * reply_steps
        return min(queries, 1 + math.ceil(share))


def _feed_order(drafts: list[_Draft]) -> list[_Draft]:
    """Classes ordered so that each comes after the classes it is fed by, otherwise in
    the order they were met (internal lookups only ever follow a walk, so no cycle)."""
    placed: set[str] = set()
    ordered: list[_Draft] = []
    pending = list(drafts)
    while pending:
        ready = next(d for d in pending if all(source in placed for source in d.fed_by))
        pending.remove(ready)
        placed.add(ready.key_id)
        ordered.append(ready)
    return ordered


def merge_qtypes(
    classes: list[KeyClass], info: dict[str, KeyInfo], refs: dict[str, KeyRef],
) -> list[KeyClass]:
    """Merge classes that differ only in qtype (same template, behaviour and sources).

    Demand from flows doubles (each lookup asks both); internal lookups fed by merged
    sources keep their count per miss (each walk asks its own qtype, C9). A merged
    class's follow-ups are, per (target, delay), the larger of the two.
    """
    merged: dict[tuple[object, ...], KeyClass] = {}
    renames: dict[str, str] = {}
    for key in classes:
        head = refs[key.id].any_qtype
        fed_by = tuple(sorted((renames.get(k, k), n) for k, n in key.fed_by))
        signature = (head, key.ttl_steps, key.pool, key.keys, key.demand, fed_by,
                     key.upstream, key.every_key_every_step, key.failed_sends,
                     key.misses_per_fill, key.key_queries)
        if signature in merged:
            first = merged[signature]
            merged[signature] = replace(
                first, keys=first.keys + key.keys,
                demand=tuple((f, n * 2) for f, n in first.demand),
                followups=first.followups + key.followups,
            )
            info[first.id].qtypes |= info[key.id].qtypes
            renames[key.id] = first.id
        else:
            merged[signature] = replace(key, fed_by=fed_by)
    return [replace(k, followups=_renamed(k.followups, renames)) for k in merged.values()]


def _renamed(
    followups: tuple[tuple[str, int, int], ...], renames: dict[str, str]
) -> tuple[tuple[str, int, int], ...]:
    largest: dict[tuple[str, int], int] = {}
    for target, delay, count in followups:
        slot = (renames.get(target, target), delay)
        largest[slot] = max(largest.get(slot, 0), count)
    return tuple((t, d, n) for (t, d), n in sorted(largest.items()))


def _internal(operations: Iterable[Operation]) -> list[Operation]:
    """Operations with walks opened up (a walk inside a cache miss runs its lookups)."""
    result: list[Operation] = []
    for operation in operations:
        if isinstance(operation, Walk):
            result += _internal(operation.internal)
        else:
            result.append(operation)
    return result
