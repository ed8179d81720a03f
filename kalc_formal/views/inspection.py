"""``kalc-formal inspect``'s output: an Inspection as titled tables or JSON.

JSON shape (``as_json``), top-level keys: ``version`` (coredns, origin,
plugin_order), ``inputs`` (corefile, kalc_yaml, workloads, ignored_kinds),
``blocks``, ``pod_classes``, ``costs`` (null without a Corefile), ``coverage``
(directives, pod_fields), ``assumptions``, ``warnings`` (source, message, at).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tabulate import tabulate

from kalc_formal.analysis.inspection import NOT_MODELLED, Inspection
from kalc_formal.source import Span
from kalc_formal.views.schemas import SCHEMA_VERSION


def render_text(inspection: Inspection) -> str:
    """The inspection as titled tables."""
    parts = [_head(inspection)]
    if inspection.corefile_path is not None:
        parts.append(_blocks_text(inspection))
    parts.append(_classes_text(inspection))
    parts.append(_costs_text(inspection))
    if inspection.corefile_path is not None:
        parts.append("Coverage of Corefile directives:\n" + (tabulate(
            [[c.server, c.block, c.directive, str(c.span), c.status, c.reason]
             for c in inspection.directive_coverage],
            headers=["server", "block", "directive", "at", "status", "reason"],
        ) if inspection.directive_coverage else "  (no directives)"))
    if inspection.field_coverage:
        parts.append("Coverage of pod DNS fields (positions of each class's first workload):\n"
                     + tabulate(
                         [[f.pod_class, f.field, f.value, str(f.span) if f.span else "(assumed)",
                           f.status, f.reason] for f in inspection.field_coverage],
                         headers=["class", "field", "value", "at", "status", "reason"],
                     ))
    parts.append("Assumptions (* = default; set them in kalc.yaml):\n" + tabulate(
        [[a.key + ("*" if a.origin == "default" else ""), a.value,
          a.origin + (f" ({a.at})" if a.at else ""), a.note]
         for a in inspection.assumptions],
        headers=["setting", "value", "from", "note"],
    ))
    if inspection.notices:
        parts.append("Warnings and notes:\n" + "\n".join(
            f"  {n.source}: " + (f"{n.span}: " if n.span else "") + n.message
            for n in inspection.notices
        ))
    return "\n\n".join(parts) + "\n"


def _head(inspection: Inspection) -> str:
    order = f"; plugin order of {inspection.order_version}"
    ignored = ", ".join(f"{kind} {count}" for kind, count in inspection.ignored_kinds.items())
    lines = [
        f"CoreDNS {inspection.coredns_version} (from {inspection.version_origin}{order})",
        f"Corefile: {inspection.corefile_path or '(none found)'}",
        f"kalc.yaml: {inspection.env_path or '(none: defaults)'}",
        f"client workloads: {inspection.workload_count}",
        f"documents ignored (not relevant to DNS load): {ignored or 'none'}",
    ]
    return "\n".join(lines)


def _blocks_text(inspection: Inspection) -> str:
    parts = []
    numbers: dict[str, int] = {}
    for block in inspection.blocks:
        index = numbers[block.server] = numbers.get(block.server, 0) + 1
        keys = ", ".join(f"{k.text} ({k.transport}, zone {k.zone}, port {k.port})" for k in block.keys)
        at = str(block.keys[0].span) if block.keys else ""
        served = "" if block.serves_pods else "  [not on dns port 53: pods do not reach it]"
        rows = [[n, p.name, str(p.span), p.status] for n, p in enumerate(block.plugins, start=1)]
        table = tabulate(rows, headers=["#", "plugin", "at", "coverage"]) if rows else "  (no plugins)"
        applied = [
            f"  {p.name} (#{n}):\n" + "\n".join(f"    {k}: {v}" for k, v in p.applied)
            for n, p in enumerate(block.plugins, start=1) if p.applied
        ]
        details = ("\nAs CoreDNS applies them (defaults filled in):\n" + "\n".join(applied)) \
            if applied else ""
        parts.append(f"{block.server} block {index}: {keys} at {at}{served}\n{table}{details}")
    body = "\n\n".join(parts) if parts else "  (none: the Corefile has no server block)"
    return "Server blocks (plugins in execution order):\n\n" + body


def _classes_text(inspection: Inspection) -> str:
    if not inspection.pod_classes:
        return "Pod classes: none (no workload in the input is a DNS client)"
    rows = []
    for c in inspection.pod_classes:
        names = ", ".join(c.namespaces[:3]) + (f", +{len(c.namespaces) - 3}" if len(c.namespaces) > 3 else "")
        kinds = Counter(f"{w.kind}/{w.name}" for w in c.workloads)
        workloads = ", ".join(k + (f" x{n}" if n > 1 else "") for k, n in list(kinds.items())[:2])
        if len(kinds) > 2:
            workloads += f", +{len(kinds) - 2}"
        policy = c.dns_policy + ("*" if c.dns_policy_defaulted else "")
        rows.append([c.id, names, workloads, policy, "yes" if c.host_network else "no", c.libc,
                     f"{c.pods_base:,}..{c.pods_peak:,}"])
    table = tabulate(rows, headers=["class", "namespaces", "workloads", "dnsPolicy (* = not set)",
                                    "hostNetwork", "libc", "pods (base..peak)"])
    confs = []
    for c in inspection.pod_classes:
        others = " (the other namespaces differ only in their own name)" if len(c.namespaces) > 1 else ""
        body = "".join(f"    {line}\n" for line in c.resolv_conf.splitlines()) or "    (empty)\n"
        confs.append(f"  {c.id}: resolv.conf in ns {c.resolv_conf_namespace}{others}:\n{body}")
    title = "Pod classes" + (" (ASSUMED: no client workload in the input)" if any(c.assumed for c in inspection.pod_classes) else "")
    return f"{title}:\n{table}\n\n" + "\n".join(confs).rstrip("\n")


def _costs_text(inspection: Inspection) -> str:
    if inspection.costs is None:
        return "Lookup costs: need a CoreDNS Corefile (none in the input)"
    title = ("Lookup costs (one getaddrinfo, A and AAAA; upstream = packets to the upstream "
             "when every cache misses):")
    if not inspection.costs:
        return f"{title}\n  (no pod class)"
    partial = any(
        cost.namespaces != next(c.namespaces for c in inspection.pod_classes if c.id == cost.pod_class)
        for cost in inspection.costs
    )
    rows = []
    for cost in inspection.costs:
        kind = f"kalc.yaml {cost.name_id}" if cost.kind == "kalc.yaml" else cost.kind
        row = [cost.pod_class, kind, cost.name, cost.via, len(cost.queries), cost.upstream_cold]
        if partial:
            row.insert(1, ", ".join(cost.namespaces))
        rows.append(row)
    headers = ["class", "name kind", "name", "via", "queries/lookup", "upstream/lookup (cold)"]
    if partial:
        headers.insert(1, "namespaces")
    text = f"{title}\n{tabulate(rows, headers=headers)}"
    gaps = sum(1 for n in inspection.notices if n.source == "model" and n.message.startswith(NOT_MODELLED))
    if gaps:
        text += (f"\n\nnote: {gaps} place(s) in the query path are not modelled (see the warnings); "
                 "a query that meets one is counted as answered SERVFAIL there")
    return text


def render_json(inspection: Inspection) -> str:
    return json.dumps(as_json(inspection), indent=2) + "\n"


def _at(span: Span | None) -> str | None:
    return str(span) if span is not None else None


def as_json(inspection: Inspection) -> dict[str, Any]:
    """The inspection as plain data (shape in the module docstring)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "version": {
            "coredns": inspection.coredns_version, "origin": inspection.version_origin,
            "plugin_order": inspection.order_version,
        },
        "inputs": {
            "corefile": inspection.corefile_path, "kalc_yaml": inspection.env_path,
            "workloads": inspection.workload_count, "ignored_kinds": inspection.ignored_kinds,
        },
        "blocks": [
            {
                "server": b.server,
                "keys": [{"text": k.text, "transport": k.transport, "zone": k.zone, "port": k.port,
                          "at": _at(k.span)} for k in b.keys],
                "serves_pods": b.serves_pods,
                "plugins": [{"name": p.name, "at": _at(p.span), "status": p.status,
                             "reason": p.reason, "applied": dict(p.applied)}
                            for p in b.plugins],
            }
            for b in inspection.blocks
        ],
        "pod_classes": [
            {
                "id": c.id, "label": c.label, "namespaces": list(c.namespaces),
                "workloads": [{"kind": w.kind, "name": w.name, "namespace": w.namespace,
                               "at": None if c.assumed else _at(w.span)} for w in c.workloads],
                "dns_policy": c.dns_policy, "dns_policy_defaulted": c.dns_policy_defaulted,
                "host_network": c.host_network, "libc": c.libc, "pods_base": c.pods_base,
                "pods_peak": c.pods_peak, "resolv_conf": c.resolv_conf,
                "resolv_conf_namespace": c.resolv_conf_namespace,
                "kubelet_warnings": list(c.kubelet_warnings), "assumed": c.assumed,
            }
            for c in inspection.pod_classes
        ],
        "costs": None if inspection.costs is None else [
            {
                "pod_class": c.pod_class, "namespaces": list(c.namespaces), "kind": c.kind,
                "name": c.name, "name_id": c.name_id, "via": c.via,
                "queries_per_lookup": len(c.queries), "upstream_per_lookup_cold": c.upstream_cold,
                "queries": list(c.queries),
            }
            for c in inspection.costs
        ],
        "coverage": {
            "directives": [
                {"server": c.server, "block": c.block, "directive": c.directive, "at": _at(c.span),
                 "status": c.status, "reason": c.reason}
                for c in inspection.directive_coverage
            ],
            "pod_fields": [
                {"pod_class": f.pod_class, "field": f.field, "value": f.value, "at": _at(f.span),
                 "status": f.status, "reason": f.reason}
                for f in inspection.field_coverage
            ],
        },
        "assumptions": [
            {"key": a.key, "value": a.value, "origin": a.origin, "default": a.origin == "default",
             "note": a.note, "at": _at(a.at)}
            for a in inspection.assumptions
        ],
        "warnings": [
            {"source": n.source, "message": n.message, "at": _at(n.span)} for n in inspection.notices
        ],
    }
