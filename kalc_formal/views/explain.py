"""Trace stage: a replayed counterexample as an event chain in the user's terms.

Each event points at the configuration lines behind it (workloads, kalc.yaml, the
Corefile's plugins). What follows the violation is told from the rules (facts I1,
E5-E8, D7, G3-G15), not solved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kalc_formal.analysis.keyclasses import KeyInfo
from kalc_formal.analysis.result import Analysis, FlowInfo
from kalc_formal.model.flowmodel import KeyClass
from kalc_formal.model.simulator import StepResult
from kalc_formal.model.solve import Counterexample
from kalc_formal.source import Span


@dataclass(frozen=True, slots=True)
class Event:
    """One link of the chain: at step ``t``, what happened, and why (config lines, facts).

    ``keys``: the key classes it tells of; ``packets``: for a "misses" event, the
    upstream packets one replica of its group sends for them (to each key's first scope).
    """

    t: int
    kind: str
    text: str
    spans: tuple[Span, ...] = ()
    facts: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    packets: int = 0


def _n(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def event_chain(
    analysis: Analysis, trace: Counterexample, *, grouped: bool = False
) -> list[Event]:
    """The events of a replayed counterexample, step by step, then the consequences.

    One "misses" and one "failures" event per key class; ``grouped``: one per server
    group and name class, the qtypes (key classes) of one name together.
    """
    events: list[Event] = []
    previous: StepResult | None = None
    last = trace.steps[-1]
    window = trace.steps[-analysis.model.max_window_steps() :]
    for step in trace.steps:
        events += _restarts(analysis, step)
        events += _outages(analysis, step)
        events += _demand(analysis, step, previous)
        if step is not last:
            events += _failures(analysis, step, grouped)
        if step in window:
            events += _misses(analysis, step, grouped)
        previous = step
    events += _overload(analysis, window)
    events += consequences(analysis, last)
    return events


def _restarts(analysis: Analysis, step: StepResult) -> list[Event]:
    return [
        Event(step.t, "restart", f"{analysis.groups[g].label} restarts: its cache is empty",
              facts=("D13",))
        for g in sorted(step.restarted)
    ]


def _outages(analysis: Analysis, step: StepResult) -> list[Event]:
    events = []
    for scope_id in sorted(step.out):
        info = analysis.scopes[scope_id]
        text = (
            f"the upstream {', '.join(info.addresses)} answers nothing in this step "
            "(an outage the environment allows)"
        )
        events.append(Event(step.t, "outage", text, (info.span,) if info.span else ()))
    return events


def _together(
    analysis: Analysis, keys: Sequence[KeyClass], grouped: bool
) -> list[list[KeyClass]]:
    """``keys`` one by one, or (``grouped``) those of one server group, name class (qname
    template), kind and cache together, by qtype, in the order of the first of each."""
    if not grouped:
        return [[key] for key in keys]
    classes: dict[tuple[object, ...], list[KeyClass]] = {}
    for key in keys:
        info = analysis.keys[key.id]
        classes.setdefault((key.group, info.template, info.walk, info.cache), []).append(key)
    return [sorted(members, key=lambda k: _qtypes(analysis.keys[k.id]))
            for members in classes.values()]


def _qtypes(info: KeyInfo) -> str:
    return "/".join(sorted(info.qtypes))


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _each(values: Sequence[int], qtypes: Sequence[str], noun: str) -> tuple[str, bool]:
    """"257 queries each" when the qtypes' figures are equal, else "257 A and 250 AAAA
    queries"; and whether they are equal."""
    if len(set(values)) == 1:
        return f"{_n(values[0])} {noun} each", True
    return f"{_and([f'{_n(v)} {q}' for v, q in zip(values, qtypes, strict=True)])} {noun}", False


def _per_qtype(texts: Sequence[str], qtypes: Sequence[str]) -> str:
    """One text when the qtypes' are equal, else each with its qtype."""
    if len(set(texts)) == 1:
        return texts[0]
    return "; ".join(f"{q}: {text}" for q, text in zip(qtypes, texts, strict=True))


def _failures(analysis: Analysis, step: StepResult, grouped: bool) -> list[Event]:
    events = []
    failing = [k for k in analysis.model.key_classes if step.failed.get(k.id, 0)]
    for members in _together(analysis, failing, grouped):
        infos = [analysis.keys[key.id] for key in members]
        qtypes = [_qtypes(info) for info in infos]
        counts = [step.failed[key.id] for key in members]
        display = infos[0].display
        if len(members) == 1:
            what = f"{_n(counts[0])} exchanges for {display}"
        else:
            count, same = _each(counts, qtypes, "exchanges")
            what = f"{count} for {display}" + (f" {_and(qtypes)}" if same else "")
        then = _per_qtype([_after_failure(analysis, key) for key in members], qtypes)
        text = (
            f"{analysis.groups[members[0].group].label}: {what} fail and are not cached "
            f"(A24, D7); {then}"
        )
        spans = tuple(dict.fromkeys(span for info in infos for span in info.spans))
        events.append(Event(step.t, "failures", text, spans, ("E5", "E8", "D10"),
                            tuple(key.id for key in members)))
    return events


def _after_failure(analysis: Analysis, key: KeyClass) -> str:
    """What forward and the clients do after a failed exchange of ``key``."""
    resends = ", ".join(f"+{d * analysis.step_seconds} s" for d, _ in key.failed_sends if d)
    asks = sorted({d * analysis.step_seconds for _, d, _ in key.followups})
    return (
        f"forward re-sends them at {resends or 'no later time'} (E5, E6); clients ask again "
        f"after {', '.join(f'{a} s' for a in asks) or 'never'}"
    )


def _demand(analysis: Analysis, step: StepResult, previous: StepResult | None) -> list[Event]:
    events = []
    seconds = analysis.step_seconds
    for flow_id, lookups in step.lookups.items():
        flow = analysis.flows[flow_id]
        base = analysis.model.flow(flow_id).base
        before = previous.lookups[flow_id] if previous else base
        if lookups == before and (previous is not None or lookups == base):
            continue
        kind = "surge" if lookups > base else "demand"
        per_pod = lookups / max(1, flow.pods_peak * flow.names * seconds)
        text = (
            f"{kind}: {flow.pod_class} look up {_names(flow)}: {_n(lookups / seconds)} lookups/s "
            f"in the cluster (baseline {_n(base / seconds)}/s), e.g. {_n(flow.pods_peak)} pods "
            f"at {per_pod:.2g}/s per name; {flow.libc} sends {len(flow.client_queries)} "
            f"queries per lookup"
        )
        events.append(Event(step.t, kind, text, flow.spans))
    return events


def _names(flow: FlowInfo) -> str:
    if flow.names == 1:
        return flow.name_class
    return f"{_n(flow.names)} names like {flow.name_class}"


@dataclass(frozen=True, slots=True)
class _Misses:
    """The figures of one key class's misses in one step, as the chain tells them."""

    key: KeyClass
    qtypes: str
    queries: int
    missed: int
    why: str
    failed: int
    route: str
    packets: int
    resent: int


def _misses(analysis: Analysis, step: StepResult, grouped: bool) -> list[Event]:
    sending = [k for k in analysis.model.key_classes if step.sent.get(k.id, 0)]
    events = [
        _misses_event(analysis, step, [_key_misses(analysis, step, key) for key in members])
        for members in _together(analysis, sending, grouped)
    ]
    return sorted(events, key=lambda event: -event.packets)


def _key_misses(analysis: Analysis, step: StepResult, key: KeyClass) -> _Misses:
    missed = step.misses[key.id]
    packets = step.sent[key.id]
    info = analysis.keys[key.id]
    failed = step.failed.get(key.id, 0)
    resent = packets - sum(n for _, n in key.upstream) * (missed - failed) - failed * dict(
        key.failed_sends).get(0, 0)
    filled = step.fills.get(key.id)
    late = analysis.model.in_flight_steps
    coincident = (
        f"; {_n(missed - filled)} of them come while an answer for their key is still on "
        f"its way ({_n(filled)} new entries in this step; an answer may take up to "
        f"{late * analysis.step_seconds} s more): identical misses are not merged (D10)"
        if filled is not None and missed > filled and not failed else ""
    )
    why = f"{_cache_text(analysis, key, step.live.get(key.id))}{coincident}"
    return _Misses(key, _qtypes(info), step.queries[key.id], missed, why, failed,
                   _upstream_text(info, key.upstream), packets, resent)


def _failing(failed: str) -> str:
    return (f"; the upstream is out, so each query for an uncached key is its own exchange "
            f"(D10) and {failed} fail")


def _misses_event(analysis: Analysis, step: StepResult, members: list[_Misses]) -> Event:
    first = members[0]
    info = analysis.keys[first.key.id]
    group = analysis.groups[first.key.group].label
    total = sum(m.packets for m in members)
    resent = sum(m.resent for m in members)
    again = f", {_n(resent)} of them re-sends of earlier failures" if resent else ""
    if len(members) == 1:
        text = (
            f"{group}: {_n(first.queries)} queries for {_describe(info, first.key.keys)}; "
            f"{_n(first.missed)} miss{first.why}"
            f"{_failing(_n(first.failed)) if first.failed else ''} -> {first.route} -> "
            f"{_n(total)} upstream packets{again}"
        )
    else:
        text = f"{group}: {_grouped_misses(info, members)}"
        if resent and len({m.resent for m in members}) > 1:
            again += f" ({_and([f'{_n(m.resent)} {m.qtypes}' for m in members])})"
        text += again
    infos = [analysis.keys[m.key.id] for m in members]
    spans = tuple(dict.fromkeys(span for each in infos for span in each.spans))
    facts = ("C5", "C8", "D8", "K2") if info.walk else ("D2", "D4", "E2")
    return Event(step.t, "misses", text, spans, facts, tuple(m.key.id for m in members), total)


def _grouped_misses(info: KeyInfo, members: list[_Misses]) -> str:
    """The misses of one name class's qtypes at one server, figures that are equal once."""
    qtypes = [m.qtypes for m in members]
    queries, same = _each([m.queries for m in members], qtypes, "queries")
    keys, _ = _each([m.key.keys for m in members], qtypes, "keys")
    scope = "one per name and namespace" if info.per_namespace else "shared by all namespaces"
    named = f"{info.display} {_and(qtypes)}" if same else info.display
    failures = {m.failed for m in members}
    shared = len(failures) == 1
    failing = _failing(f"{_n(members[0].failed)} of each") if shared and members[0].failed else ""
    tails = [
        f"{_n(m.missed)} miss{m.why}{_failing(_n(m.failed)) if m.failed and not shared else ''}"
        for m in members
    ]
    routes = {m.route for m in members}
    if len(set(tails)) == 1 and len(routes) == 1:
        missing = (f"{_n(members[0].missed)} miss each{members[0].why}{failing} -> "
                   f"{members[0].route}")
    elif len(routes) == 1:
        missing = f"{_per_qtype(tails, qtypes)}{failing} -> {members[0].route}"
    else:
        missing = _per_qtype([f"{t} -> {m.route}" for t, m in zip(tails, members, strict=True)],
                             qtypes) + failing
    total = sum(m.packets for m in members)
    if len({m.packets for m in members}) == 1:
        packets = f"{_n(members[0].packets)} upstream packets each, {_n(total)} in all"
    else:
        packets = " + ".join(f"{_n(m.packets)} {m.qtypes}" for m in members)
        packets += f" = {_n(total)} upstream packets"
    return f"{queries} for {named} ({keys}, {scope}); {missing} -> {packets}"


def _describe(info: KeyInfo, keys: int) -> str:
    qtypes = "/".join(sorted(info.qtypes))
    scope = "one per name and namespace" if info.per_namespace else "shared by all namespaces"
    return f"{info.display} {qtypes} ({_n(keys)} keys, {scope})"


def _cache_text(analysis: Analysis, key: KeyClass, live: int | None) -> str:
    info = analysis.keys[key.id]
    model = analysis.model
    if not info.pool:
        return " (not cached" + (": autopath answers above the cache, D8)" if info.walk else ")")
    if not model.kept(key) and key.pool is not None:
        pool = model.pool(key.pool)
        keys = sum(k.keys for k in model.pool_classes(pool.id))
        why = (f"its pool's {_n(keys)} keys can crowd one of its 256 shards of "
               f"{_n(pool.shard_capacity)}") if model.shard_overflow(pool.id) else (
               f"its pool holds {_n(pool.capacity)} of {_n(keys)} keys")
        return (f" ({why}: any entry can be evicted at any insert, D3, and miss again, "
                "up to every query of each key, D10)")
    return f" ({_n(live or 0)} were cached; the cache keeps them {info.duration} s)"


def _upstream_text(info: KeyInfo, upstream: tuple[tuple[str, int], ...]) -> str:
    per_miss = max((n for _, n in upstream), default=0)
    if info.walk:
        return f"autopath walks the search path, {per_miss} forwarded per miss (cache skipped, C5)"
    return f"forward sends {per_miss} per miss"


def _overload(analysis: Analysis, steps: Sequence[StepResult]) -> list[Event]:
    """The limits over in the window that ends with the last of ``steps``."""
    events = []
    seconds = analysis.step_seconds
    last = steps[-1]
    for scope in analysis.model.scopes:
        window = steps[-scope.window_steps :]
        packets = sum(step.upstream[scope.id] for step in window)
        if packets <= scope.limit:
            continue
        info = analysis.scopes[scope.id]
        probes = (
            f", {_n(scope.probe_packets)} of them health checks of the silent upstream (E7)"
            if scope.id in last.out and scope.probe_packets else ""
        )
        when = f"in {seconds} s" if len(window) == 1 else (
            f"in steps t={window[0].t * seconds}..{last.t * seconds} s "
            f"({' + '.join(_n(step.upstream[scope.id]) for step in window)}; one sliding "
            "one-second window can hold them all)"
        )
        capped = (
            " (in a step where that is all the cluster's lookups cause: the replicas' "
            "lookups above are each one's bound, and together they serve each lookup once)"
            if scope.lookup_packets and any(
                step.upstream[scope.id] == sum(n * step.lookups[f] for f, n in scope.lookup_packets)
                for step in window
            ) else ""
        )
        text = (
            f"{info.label} sends {_n(packets)} packets to {', '.join(info.addresses)} "
            f"{when}{probes}{capped}: over the limit of {_n(info.limit_per_second)}/s "
            f"(scope {info.kind})"
        )
        spans = (info.span,) if info.span else ()
        events.append(Event(last.t, "violation", text, spans, ("I1", "I5")))
    return events


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split(".") if part.isdigit())


def consequences(analysis: Analysis, step: StepResult) -> list[Event]:
    """What follows a violation, by the rules (not solved)."""
    newer = _version(analysis.coredns_version) >= (1, 14, 7)
    sends = "2 sends" if newer else "about 3 sends"
    servfail = "4 s" if newer else "6 s"
    libcs = sorted({f.libc for f in analysis.flows.values()})
    client = {
        "glibc": "glibc re-sends after its timeout (attempts:2), then stops the search and tries the name as given (G3, G5, G7)",
        "musl": "musl re-sends, then fails the lookup without trying other search names (G10-G12)",
        "go": "Go re-sends and goes on with the search list (G14, G15)",
    }
    texts = [
        "the upstream drops the packets above its limit; clients see timeouts, not errors (I1)",
        f"forward re-sends a dropped query after its 2 s read timeout, {sends} within its 5 s deadline (E5, E6)",
        f"{servfail} after the first send CoreDNS answers SERVFAIL (after 2 s, with one send, once the upstream is marked down about 6.5 s after the first failure; measured), which is not cached, so the next query for that name misses again (E8, D7, A24, D10)",
        *[client[libc] for libc in libcs if libc in client],
    ]
    return [Event(step.t, "then", text) for text in texts]
