"""Report stage: a check as a SARIF 2.1.0 log, for code scanning in pull requests.

One result per limit a replayed counterexample drives over, located at the lines that
cause it: the autopath and cache directives on the path of the missing keys, a pod's
``ndots`` option, the HPA maximum a surge scales to. The event chain is the message; every
line an event names is a related location. A proof, a bounded run or an unknown verdict
gives a log with no results: the verdict is a notification of the tool's invocation
(a warning for unknown). Paths are relative to the working directory (a repository's root
in CI), as code scanning expects; a path outside it is an absolute ``file:`` URI.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from kalc_formal.analysis.changes import Comparison
from kalc_formal.analysis.result import Analysis, FlowInfo
from kalc_formal.config.reading import Inputs
from kalc_formal.inputs.files import STDIN_PATH
from kalc_formal.kubernetes.cluster import Workload
from kalc_formal.model.solve import Outcome, Verdict
from kalc_formal.source import Span
from kalc_formal.views import serverload
from kalc_formal.views.explain import Event, event_chain
from kalc_formal.views.report import PROPERTY, PROPERTY_TEXT, verdict_line

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "kalc-formal"
ROOT_ID = "%SRCROOT%"
MAX_HPA_LOCATIONS = 3
"""HPA maxima named per surging class (its first workloads, as the text report names them)."""

RULE = {
    "id": PROPERTY,
    "name": "UpstreamRateLimit",
    "shortDescription": {"text": PROPERTY_TEXT},
    "fullDescription": {
        "text": "CoreDNS's (or a node-local cache's) packets to an upstream resolver can exceed "
        "the upstream's rate limit (AWS's 1,024 packets/s per network interface, say): the "
        "upstream drops queries and external lookups fail. kalc-formal found a run the "
        "manifests, the Corefile and kalc.yaml allow, and replayed it in its simulator."
    },
    "help": {
        "text": "Read the event chain: which clients surge, which CoreDNS plugins turn their "
        "lookups into cache misses and upstream packets, and which limit is exceeded. "
        "Typical fixes: turn autopath off or use CoreDNS 1.14.7+, lower ndots or use FQDNs, "
        "size the cache's denial pool, lower the HPA maximum, add NodeLocal DNSCache."
    },
    "defaultConfiguration": {"level": "error"},
}
SERVER_LOAD_RULE = {
    "id": serverload.SERVER_LOAD,
    "name": "ServerCapacity",
    "shortDescription": {"text": serverload.SERVER_LOAD_TEXT},
    "fullDescription": {
        "text": "The client queries that reach the busiest CoreDNS replica (or a node-local "
        "cache) in one second can exceed the capacity kalc.yaml gives for it "
        "(coredns.capacity_qps, nodelocal.capacity_qps): queries wait or are dropped, clients "
        "time out and re-send. kalc-formal found a run the configuration allows and replayed it."
    },
    "help": {
        "text": "Client queries per lookup grow with ndots and the search list when autopath "
        "is off (up to 10 per lookup of an external name). Typical fixes: more CoreDNS "
        "replicas or NodeLocal DNSCache, a lower ndots via dnsConfig, FQDNs with a trailing dot."
    },
    "defaultConfiguration": {"level": "error"},
}


def render_sarif(
    analysis: Analysis, outcome: Outcome, inputs: Inputs | None = None, *,
    tool_version: str, base: Path | None = None, server_load: Outcome | None = None,
) -> str:
    """The SARIF log of one check, as JSON text."""
    log = as_sarif(analysis, outcome, inputs, tool_version=tool_version, base=base,
                   server_load=server_load)
    return json.dumps(log, indent=2) + "\n"


def as_sarif(
    analysis: Analysis, outcome: Outcome, inputs: Inputs | None = None, *,
    tool_version: str, base: Path | None = None, server_load: Outcome | None = None,
) -> dict[str, Any]:
    """The SARIF log of one check as plain data: a result per violated limit of
    upstream-limit, and one per overloaded server of server-load when it was decided."""
    paths = _Paths(base or Path.cwd())
    results: list[dict[str, Any]] = []
    if outcome.verdict is Verdict.UNSAFE and outcome.counterexample is not None:
        events = event_chain(analysis, outcome.counterexample)
        results = [_result(analysis, outcome, inputs, events, violation, paths)
                   for violation in events if violation.kind == "violation"]
    level = "warning" if outcome.verdict is Verdict.UNKNOWN else "note"
    notifications = [_notification(verdict_line(analysis, outcome), level, (), paths)]
    if server_load is not None:
        results += _server_load_results(analysis, server_load, inputs, paths)
        level = "warning" if server_load.verdict is Verdict.UNKNOWN else "note"
        notifications.append(_notification(
            f"{serverload.SERVER_LOAD}: {serverload.summary(analysis, server_load)}", level, (), paths,
        ))
    notifications += [_notification(w, "warning", (), paths) for w in analysis.warnings]
    if outcome.verdict is Verdict.UNKNOWN:
        notifications += [_notification(f"not modelled: {u.reason}", "warning",
                                         (u.span,) if u.span else (), paths)
                          for u in analysis.unmodelled]
    run: dict[str, Any] = {
        "tool": {"driver": _driver(tool_version)},
        "invocations": [{"executionSuccessful": True,
                         "toolExecutionNotifications": notifications}],
        "results": results,
        "properties": {"verdict": outcome.verdict.value, "property": PROPERTY},
    }
    if server_load is not None:
        run["properties"]["server_load_verdict"] = server_load.verdict.value
    run["originalUriBaseIds"] = {ROOT_ID: {"uri": paths.root_uri}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_diff_sarif(comparison: Comparison, *, tool_version: str, base: Path | None = None) -> str:
    """A diff as SARIF: the after side's log (its violations are the results, so a fix
    leaves none), with the movement and the before side's verdict as notifications."""
    after = comparison.after
    log = as_sarif(after.analysis, after.outcome, None, tool_version=tool_version, base=base)
    (run,) = log["runs"]
    run["properties"]["movement"] = comparison.movement.value
    before = comparison.before
    notifications = run["invocations"][0]["toolExecutionNotifications"]
    notifications.insert(0, _notification(
        f"diff: {comparison.movement.value}; before ({before.label}): "
        f"{verdict_line(before.analysis, before.outcome)}",
        "warning" if comparison.movement.value in ("regression", "unknown") else "note", (),
        _Paths(base or Path.cwd())))
    return json.dumps(log, indent=2) + "\n"


def error_log(errors: Sequence[dict[str, Any]], *, tool_version: str,
              base: Path | None = None, internal: bool = False) -> dict[str, Any]:
    """A SARIF log for a run that ended in an error (bad input, or a bug when
    ``internal``): no results, each error a notification at its position."""
    paths = _Paths(base or Path.cwd())
    notifications = []
    for error in errors:
        span = (Span(str(error["path"]), int(error["line"]), int(error["col"] or 1))
                if error.get("path") and error.get("line") else None)
        prefix = "internal error: " if internal else ""
        notifications.append(_notification(prefix + str(error["message"]), "error",
                                           (span,) if span else (), paths))
    run = {
        "tool": {"driver": _driver(tool_version)},
        "invocations": [{"executionSuccessful": False,
                         "toolExecutionNotifications": notifications}],
        "results": [],
        "properties": {"verdict": "internal-error" if internal else "error",
                       "property": PROPERTY},
        "originalUriBaseIds": {ROOT_ID: {"uri": paths.root_uri}},
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _driver(tool_version: str) -> dict[str, Any]:
    return {"name": TOOL_NAME, "version": tool_version, "semanticVersion": tool_version,
            "rules": [RULE, SERVER_LOAD_RULE]}


def _notification(text: str, level: str, spans: Iterable[Span], paths: _Paths) -> dict[str, Any]:
    notification: dict[str, Any] = {"level": level, "message": {"text": text}}
    locations = [loc for s in spans if (loc := paths.location(s)) is not None]
    if locations:
        notification["locations"] = locations
    return notification


# ---- one result ------------------------------------------------------------------------


def _result(
    analysis: Analysis, outcome: Outcome, inputs: Inputs | None, events: list[Event],
    violation: Event, paths: _Paths,
) -> dict[str, Any]:
    causes = _causes(analysis, inputs, events)
    locations = [loc for span, what in causes
                 if (loc := paths.location(span, what)) is not None]
    related: list[dict[str, Any]] = []
    seen: set[Span] = set()
    for event in events:
        for span in event.spans:
            if span in seen:
                continue
            seen.add(span)
            location = paths.location(span, f"{event.kind} (t={event.t * analysis.step_seconds} s): "
                                      f"{_cut(event.text)}")
            if location is not None:
                location["id"] = len(related) + 1
                related.append(location)
    if not locations:
        locations = [{k: v for k, v in loc.items() if k != "id"} for loc in related[:1]]
    result: dict[str, Any] = {
        "ruleId": PROPERTY,
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": _message(analysis, outcome, events, violation, causes)},
        "locations": locations,
        "relatedLocations": related,
    }
    if outcome.counterexample is not None:
        result["properties"] = {"steps": outcome.counterexample.length,
                                "surge": outcome.counterexample.surge}
    return result


def _server_load_results(
    analysis: Analysis, outcome: Outcome, inputs: Inputs | None, paths: _Paths
) -> list[dict[str, Any]]:
    """One result per server the replayed run drives over its capacity, located at the
    clients' ndots options and HPA maxima (what sets their queries), then their workloads;
    the capacity line of kalc.yaml is a related location."""
    trace = outcome.counterexample
    if outcome.verdict is not Verdict.UNSAFE or trace is None:
        return []
    last = trace.steps[-1]
    results = []
    for limit in analysis.model.server_limits:
        if limit.id not in last.overloaded:
            continue
        flows = [analysis.flows[f] for f in dict.fromkeys(f for f, _, _ in limit.client_queries)]
        causes = _ranked(_client_causes(inputs, flows))
        causes += [(s, f"pods of {f.pod_class}: {len(f.client_queries)} client queries per lookup "
                    f"of {f.name_class}") for f in flows for s in f.spans[:1]]
        locations = [loc for span, what in dict(causes).items()
                     if (loc := paths.location(span, what)) is not None]
        capacity = serverload.capacity_span(analysis, limit)
        location = paths.location(capacity, "the capacity in kalc.yaml") if capacity else None
        related = [{**location, "id": 1}] if location else []
        text = "\n".join([
            f"{limit.label} takes {last.server_load[limit.id]:,} client queries in "
            f"{analysis.step_seconds} s at t={last.t * analysis.step_seconds} s, over its "
            f"capacity of {limit.limit:,}",
            f"{serverload.SERVER_LOAD}: {serverload.summary(analysis, outcome)}",
        ])
        results.append({
            "ruleId": serverload.SERVER_LOAD, "ruleIndex": 1, "level": "error",
            "message": {"text": text}, "locations": locations[:5] or related[:1],
            "relatedLocations": related,
            "properties": {"steps": trace.length, "surge": trace.surge},
        })
    return results


def _message(analysis: Analysis, outcome: Outcome, events: list[Event], violation: Event,
             causes: list[tuple[Span, str]]) -> str:
    lines = [violation.text, verdict_line(analysis, outcome), "", "Event chain (replayed in the simulator):"]
    for event in events:
        head = "then:" if event.kind == "then" else f"t={event.t * analysis.step_seconds}s"
        facts = f" ({', '.join(event.facts)})" if event.facts else ""
        lines.append(f"{head} {event.text}{facts}")
    if causes:
        lines += ["", "Caused by:"]
        lines += [f"{span}: {what}" for span, what in causes]
    return "\n".join(lines)


def _causes(analysis: Analysis, inputs: Inputs | None,
            events: list[Event]) -> list[tuple[Span, str]]:
    """The lines behind the violation, most telling first: autopath, ndots, cache, the
    HPA maximum; then the other plugins on the miss path."""
    names = {ref.span: ref.name for ref in analysis.plugins.values() if ref.span}
    plugins = [s for e in events if e.kind == "misses" for s in e.spans if s in names]
    ranked: list[tuple[int, Span, str]] = []
    order = {"autopath": 0, "cache": 2}
    for span in dict.fromkeys(plugins):
        name = names[span]
        ranked.append((order.get(name, 4), span,
                       f"the {name} directive on the path of the queries that miss"))
    surging = [f for f in analysis.flows.values()
               if any(e.kind == "surge" and set(f.spans) <= set(e.spans) for e in events)]
    return _ranked(ranked + _client_causes(inputs, surging))


def _client_causes(inputs: Inputs | None, flows: Sequence[FlowInfo]) -> list[tuple[int, Span, str]]:
    """The ndots options of the flows' workloads, and the HPA maxima their surge scales
    to, ranked as ``_causes`` ranks them."""
    ranked: list[tuple[int, Span, str]] = []
    scaled = any(f.pods_peak > f.pods_base for f in flows)
    for workload in _workloads(inputs, [s for f in flows for s in f.spans]):
        config = workload.dns.config
        for option in config.options if config is not None else ():
            if option.name == "ndots":
                ranked.append((1, option.span, f"ndots:{option.value} of {_name(workload)}: "
                               "names with fewer dots walk the search list first"))
        for hpa in _autoscalers(inputs, workload) if scaled else ():
            ranked.append((3, hpa.max_span or hpa.span,
                           f"maxReplicas {hpa.max_replicas} of HorizontalPodAutoscaler "
                           f"{hpa.namespace}/{hpa.name}: the surge scales {_name(workload)} to it"))
    return ranked


def _ranked(ranked: list[tuple[int, Span, str]]) -> list[tuple[Span, str]]:
    """Each span once (its first reason), the most telling first."""
    unique: dict[Span, tuple[int, str]] = {}
    for rank, span, what in ranked:
        unique.setdefault(span, (rank, what))
    return [(span, what) for span, (_, what) in sorted(unique.items(), key=lambda i: i[1][0])]


def _workloads(inputs: Inputs | None, spans: Sequence[Span]) -> list[Workload]:
    if inputs is None:
        return []
    wanted = set(spans)
    return [w for w in inputs.cluster.workloads if w.span in wanted]


def _autoscalers(inputs: Inputs | None, workload: Workload) -> list[Any]:
    if inputs is None:
        return []
    return [h for h in inputs.cluster.horizontal_autoscalers
            if (h.namespace, h.target_kind, h.target_name)
            == (workload.namespace, workload.kind, workload.name)][:MAX_HPA_LOCATIONS]


def _name(workload: Workload) -> str:
    return f"{workload.kind} {workload.namespace}/{workload.name}"


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- paths -----------------------------------------------------------------------------


class _Paths:
    """Turns the input's paths (relative ones are to the working directory, as given)
    into SARIF artifact locations relative to ``base``."""

    def __init__(self, base: Path) -> None:
        self.base = Path(os.path.abspath(base))
        self.root_uri = self.base.as_uri().rstrip("/") + "/"

    def location(self, span: Span, text: str | None = None) -> dict[str, Any] | None:
        artifact = self.artifact(span.path)
        if artifact is None:
            return None
        region = {"startLine": max(1, span.line), "startColumn": max(1, span.column)}
        physical = {"artifactLocation": artifact, "region": region}
        location: dict[str, Any] = {"physicalLocation": physical}
        if text:
            location["message"] = {"text": text}
        return location

    def artifact(self, path: str) -> dict[str, Any] | None:
        """``uri`` relative to the base (with ``uriBaseId``), or an absolute file URI;
        None for input without a file (stdin)."""
        if not path or path in ("-", STDIN_PATH):
            return None
        absolute = Path(os.path.abspath(path))
        try:
            relative = absolute.relative_to(self.base)
        except ValueError:
            return {"uri": absolute.as_uri()}
        uri = quote(str(PurePosixPath(*relative.parts)), safe="/")
        return {"uri": uri, "uriBaseId": ROOT_ID}
