"""Print the measured figures of the recorded real-CoreDNS observations (the numbers
quoted in specs/coredns-observations.md): ``python tests/real_coredns/figures.py``."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from experiments import EXPERIMENTS, expand
from replay import forward_figures, observed_per_query
from server import REPO

OUT = REPO / "tests" / "data" / "coredns_observations"


def _max_per_second(times: list[float]) -> int:
    return max(Counter(math.floor(t) for t in times).values(), default=0)


def figures(experiment_id: str, observation: dict[str, Any]) -> str:
    upstream = observation["upstream"]
    queries = observation["queries"]
    if experiment_id == "forward_silent_upstream":
        f = forward_figures(observation)
        sends = [len(f["sends"][i]) for i in range(len(queries))]
        waits = [round(w, 2) if w is not None else None for w in f["servfail"]]
        gaps = [round(b - a, 2) for a, b in zip(f["probes"], f["probes"][1:], strict=False)]
        return f"sends per query {sends}; SERVFAIL after {waits} s; probes {len(f['probes'])}, apart {sorted(set(gaps))} s"
    if experiment_id == "cache_serve_stale":
        up = upstream["UP1"]
        refresh = [q["time"] for q in up["queries"] if q["qname"] == "ss.example." and q["time"] > 1]
        transports = sorted({q["transport"] for q in up["queries"] if q["time"] > 1 and q["qname"] != "."})
        rcodes = Counter((r["reply"] or {}).get("rcode") for r in observation["replies"])
        ip = up["ip_packets"] or []
        outage = [p["time"] for p in ip if p["time"] >= 7]
        return (f"client replies {dict(rcodes)}; refresh sends {len(refresh)} over {transports}, during the "
                f"outage (8-20.5 s, 2 client queries/s) {sum(1 for t in refresh if t >= 8)}; IP packets at most "
                f"{_max_per_second(outage)} in a second")
    if experiment_id == "cache_prefetch":
        up = upstream["UP1"]
        sends = [(round(q["time"], 2), q["transport"]) for q in up["queries"]]
        ip = Counter(p["protocol"] for p in up["ip_packets"] or [])
        return f"upstream queries {sends}; IP packets {dict(ip)}"
    if experiment_id == "cache_capacity":
        result = []
        for zone in ("small.", "mid.", "big."):
            times = sorted(q["time"] for q in queries if q["qname"].endswith("." + zone))
            keys = len(times) // 2
            again = sum(1 for p in upstream["UP1"]["queries"]
                        if p["qname"].endswith("." + zone) and p["time"] >= times[keys])
            result.append(f"{keys} keys: {again} miss again")
        return "; ".join(result)
    if experiment_id == "coincident_misses":
        counts = Counter(q["qname"] if "burst" in q["qname"] else q["qname"].split(".", 1)[1] or "."
                         for q in upstream["UP1"]["queries"])
        return (f"50 queries for one cold key (upstream 20 ms): {counts['burst.example.']} upstream; "
                f"50 namespaces' walks: {counts['ec2.internal.']} x <name>.ec2.internal., {counts['.']} x <name>.")
    if experiment_id.startswith("forward_policy"):
        return ", ".join(f"{name} {len(u['queries'])}" for name, u in upstream.items())
    per_query = [len(x) for x in observed_per_query(observation)]
    ttls = [(r["reply"] or {}).get("ttl") for r in observation["replies"]]
    return f"upstream queries per client query {per_query}; reply TTLs {ttls}"


def main() -> int:
    for experiment in EXPERIMENTS:
        document = json.loads((OUT / f"{experiment.id}.json").read_text())
        print(f"## {experiment.id}")
        for release in experiment.releases:
            print(f"- {release}: {figures(experiment.id, expand(document, release))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
