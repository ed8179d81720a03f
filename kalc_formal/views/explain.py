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
    """One link of the chain: at step ``t``, what happened, and why (config lines, facts)."""

    t: int
    kind: str
    text: str
    spans: tuple[Span, ...] = ()
    facts: tuple[str, ...] = ()


def _n(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def event_chain(analysis: Analysis, trace: Counterexample) -> list[Event]:
    """The events of a replayed counterexample, step by step, then the consequences."""
    events: list[Event] = []
    previous: StepResult | None = None
    last = trace.steps[-1]
    window = trace.steps[-analysis.model.max_window_steps() :]
    for step in trace.steps:
        events += _restarts(analysis, step)
        events += _outages(analysis, step)
        events += _demand(analysis, step, previous)
        if step is not last:
            events += _failures(analysis, step)
        if step in window:
            events += _misses(analysis, step)
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


def _failures(analysis: Analysis, step: StepResult) -> list[Event]:
    events = []
    for key in analysis.model.key_classes:
        failed = step.failed.get(key.id, 0)
        if not failed:
            continue
        info = analysis.keys[key.id]
        resends = ", ".join(f"+{d * analysis.step_seconds} s" for d, _ in key.failed_sends if d)
        asks = sorted({d * analysis.step_seconds for _, d, _ in key.followups})
        text = (
            f"{analysis.groups[key.group].label}: {_n(failed)} exchanges for {info.display} fail "
            f"and are not cached (A24, D7); forward re-sends them at {resends or 'no later time'} "
            f"(E5, E6); clients ask again after {', '.join(f'{a} s' for a in asks) or 'never'}"
        )
        events.append(Event(step.t, "failures", text, tuple(info.spans), ("E5", "E8", "D10")))
    return events


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


def _misses(analysis: Analysis, step: StepResult) -> list[Event]:
    events = []
    model = analysis.model
    ranked = sorted(
        model.key_classes,
        key=lambda k: -step.sent.get(k.id, 0),
    )
    for key in ranked:
        missed = step.misses[key.id]
        packets = step.sent.get(key.id, 0)
        if not packets:
            continue
        info = analysis.keys[key.id]
        group = analysis.groups[key.group].label
        failed = step.failed.get(key.id, 0)
        failing = (
            f"; the upstream is out, so each query for an uncached key is its own exchange "
            f"(D10) and {_n(failed)} fail" if failed else ""
        )
        resent = packets - sum(n for _, n in key.upstream) * (missed - failed) - failed * dict(
            key.failed_sends).get(0, 0)
        again = f", {_n(resent)} of them re-sends of earlier failures" if resent else ""
        filled = step.fills.get(key.id)
        late = analysis.model.in_flight_steps
        coincident = (
            f"; {_n(missed - filled)} of them come while an answer for their key is still on "
            f"its way ({_n(filled)} new entries in this step; an answer may take up to "
            f"{late * analysis.step_seconds} s more): identical misses are not merged (D10)"
            if filled is not None and missed > filled and not failed else ""
        )
        text = (
            f"{group}: {_n(step.queries[key.id])} queries for {_describe(info, key.keys)}; "
            f"{_n(missed)} miss{_cache_text(analysis, key, step.live.get(key.id))}{coincident}"
            f"{failing} -> "
            f"{_upstream_text(info, key.upstream)} -> {_n(packets)} upstream packets{again}"
        )
        facts = ("C5", "C8", "D8", "K2") if info.walk else ("D2", "D4", "E2")
        events.append(Event(step.t, "misses", text, tuple(info.spans), facts))
    return events


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
