"""``kalc-formal lookup``'s output: one simulated client lookup as a packet table or JSON."""

from __future__ import annotations

import json
from typing import Any

from tabulate import tabulate

from kalc_formal.clients.resolvconf import Libc, ResolvConf
from kalc_formal.clients.resolver import LookupTrace
from kalc_formal.views.schemas import SCHEMA_VERSION


def render_json(trace: LookupTrace, ignored: tuple[str, ...] = ()) -> str:
    return json.dumps(trace_json(trace, ignored), indent=2)


def trace_json(trace: LookupTrace, ignored: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "name": trace.name,
        "libc": trace.libc.value,
        "queries": [
            {"qname": p.qname, "qtype": p.qtype, "nameserver": p.nameserver, "attempt": p.attempt,
             "time": p.time, "reply": p.reply.value}
            for p in trace.packets
        ],
        "result": trace.result,
        "duration": trace.duration,
        "candidates": [{"qname": c.qname, "outcome": c.outcome, "then": c.then} for c in trace.candidates],
        "notes": list(trace.notes),
        "ignored": list(ignored),
    }


def trace_text(trace: LookupTrace, conf: ResolvConf, libc: Libc) -> str:
    settings = conf.settings(libc)
    flags = [name for name, on in (("rotate", settings.rotate), ("single-request", settings.single_request),
                                   ("single-request-reopen", settings.single_request_reopen),
                                   ("no-tld-query", settings.no_tld_query), ("no-aaaa", settings.no_aaaa),
                                   ("use-vc", settings.use_vc)) if on]
    head = (f"{libc.value} reads {conf.path}: nameservers {' '.join(settings.nameservers)}; "
            f"search {' '.join(settings.search) or '(none)'}; ndots {settings.ndots}, "
            f"timeout {settings.timeout} s, attempts {settings.attempts}"
            + (f"; {' '.join(flags)}" if flags else ""))
    rows = [(i, f"{p.time:g}", p.nameserver, p.qname, p.qtype, p.reply.value)
            for i, p in enumerate(trace.packets, start=1)]
    table = tabulate(rows, headers=("#", "time", "nameserver", "qname", "qtype", "reply"))
    lines = [head, *(f"note: {text}" for text in settings.ignored + trace.notes), "", table if rows else "(no packets)", ""]
    lines.append(f"result: {trace.result} after {trace.duration:g} s, {len(trace.packets)} packets")
    return "\n".join(lines)
