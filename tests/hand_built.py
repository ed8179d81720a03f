"""Small Analysis, Outcome and trace values built by hand, for the views' unit tests.

One pod class looks up one external name through CoreDNS: flow ``p0/ext``, one
CoreDNS group (10 replicas, a tenth of the lookups each), one key class ``k0`` in
pool ``pool0``, one upstream scope ``u0`` (limit 50 per step). The steps are not
simulated: the views only read them, so each test states the numbers it shows.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from kalc_formal.analysis.keyclasses import KeyInfo
from kalc_formal.analysis.result import Analysis, FlowInfo, GroupInfo, ScopeInfo
from kalc_formal.config.settings import Assumption
from kalc_formal.coredns.server import PluginRef
from kalc_formal.model.flowmodel import Flow, FlowModel, Group, KeyClass, Pool, Scope
from kalc_formal.model.simulator import Choices, StepResult
from kalc_formal.model.solve import Counterexample, Outcome, Verdict
from kalc_formal.source import Span

FLOW = "p0/ext"
KEY = "k0"
SCOPE = "u0"
GROUP = "coredns"
WORKLOAD_AT = Span("workloads.yaml", 1, 1)
CACHE_AT = Span("Corefile", 3, 5)
LIMIT_AT = Span("kalc.yaml", 9, 5)

ASSUMPTIONS = (
    Assumption("check.step", "1", "default", "seconds"),
    Assumption("coredns.replicas", "10", "manifests", "each replica has its own cache, D13"),
    Assumption("check.arrivals", "spread", "kalc.yaml", "an assumption", Span("kalc.yaml", 26, 13),
               narrows=True),
    Assumption("coredns.shard_balance", "even", "default", "an assumption", narrows=True),
)


def analysis(
    *, capacity: int = 10, walk: bool = False, window_steps: int = 1, step_seconds: int = 1,
    version: str = "1.11.1", libc: str = "glibc", names: int = 1, base: int = 100,
    assumptions: tuple[Assumption, ...] = ASSUMPTIONS, **fields: object,
) -> Analysis:
    """The analysis of the module docstring; ``capacity`` below 20 (the class's keys)
    makes the pool evict. ``fields`` replace Analysis fields."""
    model = FlowModel(
        flows=(Flow(FLOW, base, 3 * base, "pods -> api.example.com"),),
        groups=(Group(GROUP, Fraction(1, 10), Fraction(1, 10), label="the busiest CoreDNS replica",
                      replicas=10, serving=10),),
        key_classes=(KeyClass(KEY, GROUP, 20, 5, "pool0", ((FLOW, 2),), (), ((SCOPE, 2),),
                              label="api.example.com"),),
        scopes=(Scope(SCOPE, 50, ((GROUP, 1),), "the busiest node", window_steps=window_steps,
                      lookup_packets=()),),
        pools=(Pool("pool0", GROUP, capacity),),
    )
    flow = FlowInfo(
        FLOW, "pods of ns shop (Deployment/web)", 1, base, 3 * base, "api.example.com", names,
        1.0, 3.0, libc, "coredns", ("api.example.com. A", "api.example.com. AAAA"), 4,
        (WORKLOAD_AT,),
    )
    key = KeyInfo("api.example.com.", "api.example.com.", {"A", "AAAA"}, "pool0", 5, "cache",
                  per_namespace=False, spans=[CACHE_AT], upstream_targets={"169.254.169.253"},
                  walk=walk)
    built = Analysis(
        model=model, step_seconds=step_seconds, horizon=60, coredns_version=version,
        flows={FLOW: flow}, keys={KEY: key},
        groups={GROUP: GroupInfo(GROUP, "the busiest CoreDNS replica", 10)},
        scopes={SCOPE: ScopeInfo(SCOPE, "the busiest node", ("169.254.169.253",), 50, "node",
                                 LIMIT_AT)},
        assumptions=assumptions, plugins={"cache": PluginRef("cache", CACHE_AT)},
    )
    return replace(built, **fields)  # type: ignore[arg-type]


def step(
    t: int, *, lookups: int = 300, queries: int = 60, misses: int = 20, fills: int = 20,
    sent: int = 40, live: int = 0, failed: int = 0, restarted: frozenset[str] = frozenset(),
    out: frozenset[str] = frozenset(),
) -> StepResult:
    """One step of flow ``p0/ext`` and key class ``k0``; ``sent`` is also what the
    scope counts."""
    return StepResult(
        t=t, lookups={FLOW: lookups}, group_lookups={(GROUP, FLOW): lookups // 10},
        restarted=restarted, out=out, live={KEY: live}, expired={KEY: 0},
        queries={KEY: queries}, misses={KEY: misses}, fills={KEY: fills},
        failed={KEY: failed} if failed else {}, sent={KEY: sent}, upstream={SCOPE: sent},
        violated=(),
    )


def unsafe(*steps: StepResult, surge: int = 200, minimal: bool = True) -> Outcome:
    trace = Counterexample(Choices(), tuple(steps), surge, minimal)
    return Outcome(Verdict.UNSAFE, 60, counterexample=trace)
