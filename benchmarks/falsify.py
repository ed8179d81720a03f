"""The long falsification campaign (issue 6): generated clusters checked by `kalc-formal check`
and attacked in the independent reference simulator (tests/oracle).

Run from the repository root:  python -m benchmarks.falsify [--clusters N] [--random K]
[--seed S] [--markdown PATH] [--server-load]

For every cluster: the checker's verdict (in-process CLI, --format json); then, for a
`proved` or `safe-bounded`, every greedy schedule and K random ones, and for an `unsafe`,
the concretised trace first, then the same schedules until one exceeds the limit. Each
false proof gets a diagnosis: the same cluster re-run with arrivals spread at random and
answers that come back at once (no in-flight misses, D10), with the pods packed on one
node and with a random placement. The issue 6 regression clusters run too.
With --server-load the campaign is server-load's (tests/oracle/loadcampaign.py): per
cluster a tight proof (capacity = the checker's busiest step) attacked per lookup step, per
fixed second and per sliding second, and the overload one query below it concretised.
Results and method: specs/falsification.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from tests.oracle.campaign import Case, falsify
from tests.oracle.fixtures import crowded_node, denial_pool_overflow
from tests.oracle.gen import random_spec
from tests.oracle.loadcampaign import LoadCase, falsify_load
from tests.oracle.schedules import GREEDY, Strategy, run
from tests.oracle.spec import ClusterSpec

SPREAD = Strategy("diagnosis-spread-0ms", timing="uniform", reply_time=0.0, victims="random")
SPREAD_EVEN_PLACEMENT = Strategy("diagnosis-spread-0ms-even-placement", timing="uniform",
                                 reply_time=0.0, victims="random", placement="even")


def diagnose(case: Case) -> str:
    """Why a proof failed: which simplest schedule still exceeds the limit."""
    spec, limit = case.spec, case.limit
    assert case.best is not None
    spread = run(spec, SPREAD)
    if spread.peak.fixed > limit:
        even = run(spec, SPREAD_EVEN_PLACEMENT)
        causes = []
        if even.peak.fixed <= limit:
            causes.append(f"placement: {spread.peak.fixed}/s packed as the hard rules allow, "
                          f"{even.peak.fixed}/s spread evenly")
        if spread.evictions:
            causes.append(f"eviction ({spread.evictions} evictions, D3)")
        return "; ".join(causes) or f"exceeds with spread arrivals too ({spread.peak.fixed}/s)"
    if case.best.peak.fixed > limit:
        even = run(spec, replace(case.best.schedule, placement="even"))
        placement = (f"; placement too: {even.peak.fixed}/s with an even spread"
                     if even.peak.fixed <= limit else "")
        return (f"in-flight misses and bunched arrivals (D10): spread arrivals give "
                f"{spread.peak.fixed}/s; found by {case.best.strategy}{placement}")
    return (f"sliding window only: {case.best.peak.fixed}/s per fixed second, "
            f"{case.best.peak.sliding} in a sliding second")


def specs(count: int, seed: int) -> list[ClusterSpec]:
    fixtures = [denial_pool_overflow(), crowded_node(True), crowded_node(False)]
    return fixtures + [random_spec(random.Random(seed + i), seed + i) for i in range(count)]


def fixture_strategies(spec: ClusterSpec) -> tuple[Strategy, ...]:
    if spec.name.startswith("crowded-node"):
        return (*GREEDY, Strategy("18-per-node", pods_per_node=18, timing="uniform",
                                  reply_time=0.0, prephase=1))
    if spec.name == "denial-pool-overflow":
        return (Strategy("greedy-expiry-3s-history", prephase=3),
                Strategy("uniform-0ms-random-victims", timing="uniform", reply_time=0.0,
                         victims="random", prephase=3),
                Strategy("uniform-5ms-random-victims", timing="uniform", reply_time=0.005,
                         victims="random", prephase=3, seed=1))
    return GREEDY


def is_fixture(spec: ClusterSpec) -> bool:
    return not spec.name.startswith("gen")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clusters", type=int, default=60)
    parser.add_argument("--random", type=int, default=4, help="random schedules per cluster")
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--markdown", type=Path, help="write the table of cases here")
    parser.add_argument("--server-load", action="store_true",
                        help="the server-load campaign instead of upstream-limit's")
    parser.add_argument("--no-fixtures", action="store_true",
                        help="generated clusters only (not the issue 6 regression clusters)")
    args = parser.parse_args(argv)
    if args.server_load:
        return server_load_campaign(args.clusters, args.random, args.seed, args.markdown,
                                    fixtures=not args.no_fixtures)
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="kf-falsify-"))
    cases: list[Case] = []
    diagnoses: dict[str, str] = {}
    for spec in specs(args.clusters, args.seed):
        case = falsify(spec, folder / spec.name, random_count=0 if is_fixture(spec) else args.random,
                       seed=args.seed,
                       greedy=fixture_strategies(spec))
        if case.outcome.startswith("false-proof"):
            diagnoses[spec.name] = diagnose(case)
        cases.append(case)
        print(case.line(), f"| check {case.checker_seconds:.1f}s, simulator {case.sim_seconds:.1f}s"
              + (f" | why: {diagnoses[spec.name]}" if spec.name in diagnoses else ""), flush=True)
    elapsed = time.perf_counter() - started
    verdicts = Counter(c.verdict for c in cases)
    outcomes = Counter(c.outcome for c in cases)
    schedules = sum(c.schedules for c in cases)
    proofs = verdicts["proved"] + verdicts["safe-bounded"]
    summary = [
        f"clusters: {len(cases)} ({args.clusters} generated, seed {args.seed}, + 3 regression clusters); "
        f"verdicts: {dict(verdicts)}",
        f"schedules simulated: {schedules}",
        f"proofs: {proofs}; false proofs: {outcomes['false-proof']} per fixed second, "
        f"{outcomes['false-proof-sliding']} more over a sliding second only; held: {outcomes['held']}",
        f"unsafe: {verdicts['unsafe']}; confirmed in the simulator: {outcomes['confirmed']}; "
        f"false alarms (no schedule found): {outcomes['false-alarm']}",
        f"checker time {sum(c.checker_seconds for c in cases):.0f} s, simulator time "
        f"{sum(c.sim_seconds for c in cases):.0f} s, wall {elapsed:.0f} s",
    ]
    print("\n".join(summary))
    if args.markdown:
        rows = ["| cluster | verdict | limit | simulator max (fixed / sliding) | schedule | outcome | why |",
                "|---|---|---|---|---|---|---|"]
        for c in cases:
            peak = c.best.peak if c.best else None
            rows.append(
                f"| {c.spec.name} | {c.verdict} | {c.limit}/s {c.spec.scope} | "
                f"{f'{peak.fixed} / {peak.sliding}' if peak else '-'} | "
                f"{c.best.strategy if c.best else '-'} | {c.outcome} | {diagnoses.get(c.spec.name, c.note)} |")
        args.markdown.write_text("\n".join(summary) + "\n\n" + "\n".join(rows) + "\n")
    return 0


def server_load_campaign(clusters: int, random_count: int, seed: int, markdown: Path | None, *,
                         fixtures: bool = True) -> int:
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="kf-falsify-load-"))
    cases: list[LoadCase] = []
    clusters_run = [s for s in specs(clusters, seed) if fixtures or not is_fixture(s)]
    for spec in clusters_run:
        for case in falsify_load(spec, folder / spec.name, random_count=random_count, seed=seed):
            cases.append(case)
            print(case.line(), f"| {case.schedules} schedules, check {case.checker_seconds:.1f}s, "
                  f"simulator {case.sim_seconds:.1f}s", flush=True)
    elapsed = time.perf_counter() - started
    verdicts = Counter(c.verdict for c in cases)
    outcomes = Counter(c.outcome for c in cases)
    tested = {c.spec.name for c in cases if c.outcome != "skipped"}
    summary = [
        f"clusters: {len(clusters_run)} ({clusters} generated, seed {seed}"
        f"{', + 3 regression clusters' if fixtures else ''}), {len(tested)} with a server-load "
        f"limit; verdicts: {dict(verdicts)}",
        f"schedules simulated: {sum(c.schedules for c in cases)}",
        f"proofs: {verdicts['proved']}; broken per lookup step: {outcomes['false-proof-step']}, "
        f"per fixed second: {outcomes['false-proof']}, over a sliding second only: "
        f"{outcomes['false-proof-sliding']}; held: {outcomes['held']}",
        f"proofs exceeded per lookup step when pods may bunch the lookups they did not make "
        f"(outside the model's 'pods of a class send alike'): "
        f"{sum(1 for c in cases if c.bunched_step_load is not None and c.bunched_step_load > c.capacity)}",
        f"unsafe: {verdicts['unsafe']}; reached in the simulator: {outcomes['confirmed']}; "
        f"not reached: {outcomes['false-alarm']}",
        f"wall {elapsed:.0f} s",
    ]
    print("\n".join(summary))
    if markdown:
        rows = ["| cluster | server | verdict | capacity | simulator per step / fixed / sliding | "
                "schedule | outcome | per step, bunched pods |", "|---|---|---|---|---|---|---|---|"]
        for c in cases:
            peak = c.peak
            rows.append(
                f"| {c.spec.name} | {c.server} | {c.verdict} | {c.capacity}/s | "
                f"{f'{c.step_load} / {peak.fixed} / {peak.sliding}' if peak else '-'} | "
                f"{c.best.strategy if c.best else '-'} | {c.outcome} | "
                f"{c.bunched_step_load if c.bunched_step_load is not None else '-'} |")
        markdown.write_text("\n".join(summary) + "\n\n" + "\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
