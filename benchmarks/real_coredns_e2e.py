"""End to end against real CoreDNS (issue 7): does a proved bound hold on the server?

Run from the repository root:
    python -m benchmarks.real_coredns_e2e [--release 1.11.1] [--delay-ms 1 5 20] [--json PATH]

For a small synthetic cluster (benchmarks/synthetic.py) that ``kalc-formal check``
proves, the busiest replica's peak load is read from the check's JSON output
(``flows``: lookups per step and the client queries of one lookup; ``client_load``: the
client queries per second at the busiest replica) and driven into a real CoreDNS
(../shared/coredns-real, the `kubernetes` stand-in mapping 127.0.1.K to namespace nsK)
with adversarial timing: every key is filled at once at t = 0, so the keys of a name
class expire together, and a full peak second of lookups arrives within ``--burst``
seconds right after they expire; then the peak load goes on evenly. The counting
upstream answers after each ``--delay-ms``. Reported: the upstream's packets (IP
packets where raw sockets are allowed, else queries) in the busiest fixed second and
the busiest sliding one-second window, against the proof's bound (``worst_step``, the
most packets the model lets one step carry) and the limit.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "real_coredns"))

from server import ClientQuery, CoreDNS, binary, free_port, run_clients  # noqa: E402
from upstream import CountingUpstream  # noqa: E402

from benchmarks.synthetic import HOST_SEARCH, Case, write_case  # noqa: E402

SENTINEL_PREFIX = "kf-ns-"
MAX_NAMESPACES = 250
COREFILE = """\
.:{PORT} {
    bind 127.0.0.1
    errors
AUTOPATH    kubernetes cluster.local {
        ttl 30
        autopath_search HOST
    }
    cache 30
    forward . {UP}
}
"""


def small_case(release: str, autopath: bool = True, unsafe_limit: int | None = None) -> Case:
    if unsafe_limit is not None:
        return Case("e2e-unsafe", pods=100, namespaces=4, names=8, intent="unsafe", name_classes=2,
                    horizon=20, version=release, autopath=autopath, limit=unsafe_limit)
    return Case("e2e", pods=100, namespaces=4, names=8, intent="proved", name_classes=2,
                horizon=20, version=release, autopath=autopath)


def run_check(folder: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "kalc_formal", "check", str(folder), "--format", "json"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"check failed: {result.stderr}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _names(folder: Path) -> dict[str, dict[str, Any]]:
    import yaml

    env = yaml.safe_load((folder / "kalc.yaml").read_text())
    return {n["example"]: n for n in env["names"]}


def peak_second(report: dict[str, Any], lookups_of: dict[str, int] | None = None) -> list[tuple[str, str, str]]:
    """One peak second of client queries at the busiest replica (or ``lookups_of``:
    lookups per flow), as (source, qname, qtype), spread round-robin over each flow's
    names and namespaces."""
    flows = [f for f in report["flows"] if f["via"] == "coredns"]
    per_lookup = sum(f["pods_peak"] * f["surge_rate"] * f["names"] * len(f["client_queries"]) for f in flows)
    share = report["client_load"]["coredns"]["peak"] / per_lookup if per_lookup else 0.0
    queries: list[tuple[str, str, str]] = []
    first_namespace = 1
    for flow in flows:
        lookups = math.ceil(flow["pods_peak"] * flow["surge_rate"] * flow["names"] * share)
        if lookups_of is not None:
            lookups = lookups_of.get(flow["id"], 0)
        namespaces = min(flow["namespaces"], MAX_NAMESPACES - first_namespace)
        sentinel = next(
            label for q in flow["client_queries"] for label in q.split(".") if label.startswith(SENTINEL_PREFIX)
        ) if any(SENTINEL_PREFIX in q for q in flow["client_queries"]) else None
        for index in range(lookups):
            name = f"n{index % flow['names']}.{flow['name']}"
            namespace = first_namespace + (index // flow["names"]) % namespaces
            for text in flow["client_queries"]:
                qname, qtype = text.split()
                qname = qname.replace(flow["name"], name, 1)
                if sentinel:
                    qname = qname.replace(f".{sentinel}.", f".ns{namespace}.")
                queries.append((f"127.0.1.{namespace}", qname, qtype))
        first_namespace += namespaces
    return queries


def every_key(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """One query for every key of the peak second (fills them together)."""
    seen: dict[tuple[str, str, str], None] = {}
    for query in peak_second(report):
        seen.setdefault(query, None)
    return list(seen)


def schedule(report: dict[str, Any], names: dict[str, dict[str, Any]], burst: float,
             seconds: float) -> list[ClientQuery]:
    """Fill every key at t = 0; a peak second within ``burst`` right after the shortest
    TTL's entries expire (CoreDNS serves an entry until TTL whole seconds have passed);
    then the peak second spread evenly, until ``seconds``."""
    fill = every_key(report)
    peak = peak_second(report)
    ttl = min(int(n.get("ttl", 30)) for n in names.values())
    expiry = ttl + 1.05
    result = [ClientQuery(round(0.05 * i / max(1, len(fill)), 5), *q) for i, q in enumerate(fill)]
    start = expiry
    while start < seconds:
        spread = burst if start == expiry else 1.0
        result += [ClientQuery(round(start + spread * i / len(peak), 5), *q) for i, q in enumerate(peak)]
        start += 1.0
    return result


def world(names: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [{"name": f"*.{HOST_SEARCH}.", "kind": "NXDOMAIN", "ttl": 60}]
    for example, spec in names.items():
        rules.append({"name": f"*.{example}.", "kind": "ANSWER", "ttl": int(spec.get("ttl", 30))})
    return rules


def measure(release: str, delay: float, burst: float, seconds: float, cache_dir: Path,
            autopath: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kf-e2e-") as folder_text:
        folder = Path(folder_text) / "cluster"
        write_case(small_case(release, autopath), folder)
        report = run_check(folder)
        names = _names(folder)
    queries = schedule(report, names, burst, seconds)
    times, unit, answered = drive(release, autopath, names, queries, delay, seconds, cache_dir)
    fixed = max((sum(1 for t in times if s <= t < s + 1) for s in range(math.ceil(seconds) + 1)), default=0)
    sliding = max((sum(1 for t in times if s <= t < s + 1) for s in times), default=0)
    scope = report["scopes"][0]
    return {
        "release": release, "autopath": autopath, "upstream_delay_ms": round(delay * 1000, 1),
        "burst_seconds": burst, "verdict": report["verdict"],
        "proved_bound_per_window": report.get("worst_step", {}).get(scope["id"]),
        "limit_per_second": scope["limit_per_second"], "unit": unit,
        "client_queries": len(queries), "answered": answered, "keys": len(every_key(report)),
        "peak_fixed_second": fixed, "peak_sliding_second": sliding,
    }


def drive(release: str, corefile_autopath: bool, names: dict[str, dict[str, Any]],
          queries: list[ClientQuery], delay: float, seconds: float, cache_dir: Path) -> tuple[list[float], str, int]:
    """Send ``queries`` to a fresh CoreDNS; the upstream's packet times, their unit and
    how many client queries were answered."""
    upstream = CountingUpstream(world(names), delay)
    port = free_port()
    corefile = (COREFILE.replace("AUTOPATH", "    autopath @kubernetes\n" if corefile_autopath else "")
                .replace("HOST", HOST_SEARCH).replace("{PORT}", str(port)).replace("{UP}", upstream.address))
    with tempfile.TemporaryDirectory(prefix="kf-e2e-coredns-") as workdir:
        server = CoreDNS(binary(release, cache_dir), corefile, Path(workdir))
        try:
            server.start()
            t0 = time.monotonic() + 0.3
            upstream.start(t0)
            replies = run_clients(port, queries, t0, wait=3.0)
            time.sleep(max(0.0, t0 + seconds + 0.5 - time.monotonic()))
        finally:
            server.stop()
            upstream.stop()
    if upstream.counts_ip_packets:
        return [p["time"] for p in upstream.ip_packets], "IP packets", sum(1 for r in replies if r["reply"])
    return [q["time"] for q in upstream.queries], "upstream queries", sum(1 for r in replies if r["reply"])


def measure_unsafe(release: str, delay: float, cache_dir: Path, limit: int = 64) -> dict[str, Any]:
    """An ``unsafe`` verdict's trace, concretised: the violating step's lookups at the
    busiest replica, each on a key of its own, from a cold cache within 0.2 s."""
    with tempfile.TemporaryDirectory(prefix="kf-e2e-") as folder_text:
        folder = Path(folder_text) / "cluster"
        write_case(small_case(release, unsafe_limit=limit), folder)
        report = run_check(folder)
        names = _names(folder)
    if report["verdict"] != "unsafe":
        raise RuntimeError(f"the unsafe case got {report['verdict']}")
    step = report["trace"][-1]
    scope_id, over = next((s, u) for s, u in step["upstream"].items() if u["over"])
    peak = peak_second(report, step["lookups"])
    queries = [ClientQuery(round(0.2 * i / len(peak), 5), *q) for i, q in enumerate(peak)]
    times, unit, answered = drive(release, True, names, queries, delay, 1.5, cache_dir)
    fixed = max((sum(1 for t in times if s <= t < s + 1) for s in range(2)), default=0)
    return {
        "release": release, "upstream_delay_ms": round(delay * 1000, 1), "verdict": report["verdict"],
        "scope": scope_id, "trace_packets": over["packets"], "limit_per_step": over["limit"], "unit": unit,
        "client_queries": len(queries), "answered": answered, "peak_fixed_second": fixed,
    }


def broken(result: dict[str, Any]) -> bool:
    """True when a proved verdict's bound is exceeded on the real server."""
    if result["verdict"] != "proved":
        return False
    bound = result["proved_bound_per_window"] or result["limit_per_second"]
    return bool(max(result["peak_fixed_second"], result["peak_sliding_second"]) > bound)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", nargs="+", default=["1.11.1", "1.14.6", "1.14.7"])
    parser.add_argument("--delay-ms", nargs="+", type=float, default=[1.0, 5.0, 20.0])
    parser.add_argument("--burst", type=float, default=0.01, help="seconds the post-expiry peak arrives in")
    parser.add_argument("--seconds", type=float, default=9.0)
    parser.add_argument("--no-autopath", action="store_true")
    parser.add_argument("--unsafe", action="store_true",
                        help="drive an unsafe verdict's trace instead, and report whether it exceeds the limit")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    cache = Path(tempfile.gettempdir()) / "kalc-formal-coredns"
    cache.mkdir(exist_ok=True)
    results = []
    if args.unsafe:
        for release in args.release:
            for delay in args.delay_ms:
                result = measure_unsafe(release, delay / 1000, cache)
                results.append(result)
                print(json.dumps(result), flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n")
        return 0 if all(r["peak_fixed_second"] > r["limit_per_step"] for r in results) else 1
    for release in args.release:
        for delay in args.delay_ms:
            result = measure(release, delay / 1000, args.burst, args.seconds, cache, not args.no_autopath)
            results.append(result)
            print(json.dumps(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 1 if any(broken(r) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
