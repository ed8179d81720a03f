"""Symbolic model: the Z3 encoding of the transition system in specs/model.md.

An ``Unrolling`` adds one step at a time, so a solver can deepen incrementally. It
starts either from INIT (``free_start=False``) or from any state that satisfies the
state invariants (``free_start=True``, for k-induction). Variables are named
``name[position]@t``; ``decode`` turns a Z3 model back into the simulator's ``Choices``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from typing import Any

import z3

from kalc_formal.model.flowmodel import FlowModel, Group, KeyClass, before_start
from kalc_formal.model.simulator import Choices, StartCache

Expr = Any  # z3.ArithRef | z3.BoolRef; the z3 package has no type hints


def _min(a: Expr, b: Expr) -> Expr:
    return z3.If(a <= b, a, b)


def _times(factor: int, term: Expr) -> Expr:
    return term if factor == 1 else factor * term


_CONTEXT: ContextVar[z3.Context | None] = ContextVar("kalc_z3_context", default=None)


def current_context() -> z3.Context:
    """The Z3 context terms and solvers are made in: the one ``fresh_context`` opened, else
    Z3's global one."""
    return _CONTEXT.get() or z3.main_ctx()


@contextmanager
def fresh_context() -> Iterator[z3.Context]:
    """A new Z3 context for the block: a check's terms then get the same ids whatever ran
    before it in the process, so Z3's search, and the model it returns, are the same."""
    context = z3.Context()
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


@dataclass(slots=True)
class _Start:
    live: Expr
    in_flight: Expr
    schedule: list[Expr]
    restarts_used: dict[str, Expr]
    surge_used: Expr


@dataclass(slots=True)
class _Step:
    lookups: dict[str, Expr] = field(default_factory=dict)
    group_lookups: dict[tuple[str, str], Expr] = field(default_factory=dict)
    restart: dict[str, Expr] = field(default_factory=dict)
    queries: dict[str, Expr] = field(default_factory=dict)
    live: dict[str, Expr] = field(default_factory=dict)
    misses: dict[str, Expr] = field(default_factory=dict)
    fills: dict[str, Expr] = field(default_factory=dict)
    end: dict[str, Expr] = field(default_factory=dict)
    upstream: dict[str, Expr] = field(default_factory=dict)
    out: dict[str, Expr] = field(default_factory=dict)
    failing: dict[str, Expr] = field(default_factory=dict)
    failed: dict[str, Expr] = field(default_factory=dict)
    first_failures: dict[str, Expr] = field(default_factory=dict)
    surging: Expr = False


@dataclass(frozen=True, slots=True)
class _Share:
    """A group's share rule for one flow, and the representative's range over the
    flow's lookups (at base and at peak); ``fixed`` when the flow has one value."""

    low: Fraction
    high: Fraction
    replicas: int
    serving: int
    least: int
    most: int
    fixed: bool

    @staticmethod
    def of(model: FlowModel, group_id: str, flow_id: str) -> _Share:
        group, flow = model.group(group_id), model.flow(flow_id)
        low, high = group.shares(flow_id)
        return _Share(
            low, high, group.split_replicas(flow_id), group.split_serving(flow_id),
            group.lookup_bounds(flow_id, flow.base)[0], group.lookup_bounds(flow_id, flow.peak)[1],
            flow.base == flow.peak,
        )


class Unrolling:
    """The transition system unrolled step by step as Z3 constraints."""

    def __init__(self, model: FlowModel, max_steps: int, *, free_start: bool = False):
        self.model = model
        self.max_steps = max_steps
        self.free_start = free_start
        self.ctx = current_context()
        self.zero = z3.IntVal(0, self.ctx)
        self.false = z3.BoolVal(False, self.ctx)
        self.n = _positional_names(model)
        self.steps: list[_Step] = []
        self.starts: dict[str, _Start] = {}
        self.restart_counts: dict[str, list[Expr]] = {g.id: [] for g in model.groups}
        self.outage_counts: dict[str, list[Expr]] = {s.id: [] for s in model.scopes}
        self.surge_count: list[Expr] = []
        self.initial: list[Expr] = []
        self._envelopes: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._shares: dict[tuple[str, str], _Share] = {}
        failing_scopes = {s.id for s in model.scopes if s.outage_steps}
        self._may_fail = {k.id for k in model.key_classes if failing_scopes & set(k.scopes)}
        self._start_budgets()
        for key in model.key_classes:
            if model.kept(key):
                self.initial += self._start_cache(key)

    def _sum(self, terms: list[Expr]) -> Expr:
        return _sum(terms, self.zero)

    def _n(self, kind: str, item: str) -> str:
        return self.n[f"{kind}:{item}"]

    def _start_budgets(self) -> None:
        self.restarts_used: dict[str, Expr] = {}
        for group in self.model.groups:
            if self.free_start and group.restarts:
                used = z3.Int(f"restarts_used[{self._n('g', group.id)}]", self.ctx)
                self.initial += [used >= 0, used <= group.restarts]
            else:
                used = self.zero
            self.restarts_used[group.id] = used
        limit = self.model.surge_steps
        if self.free_start and limit is not None:
            self.surge_used: Expr = z3.Int("surge_used", self.ctx)
            self.initial += [self.surge_used >= 0, self.surge_used <= limit]
        else:
            self.surge_used = self.zero

    def _start_cache(self, key: KeyClass) -> list[Expr]:
        live = z3.Int(f"start_live[{self._n('k', key.id)}]", self.ctx)
        slots = min(key.ttl_steps - 1, self.max_steps)
        name = self._n("k", key.id)
        schedule = [z3.Int(f"start_expiry[{name}][{e}]", self.ctx) for e in range(1, slots + 1)]
        in_flight: Expr = self.zero
        facts = [live >= 0, live <= key.keys] + [n >= 0 for n in schedule]
        if self.model.in_flight_steps:
            in_flight = z3.Int(f"start_in_flight[{name}]", self.ctx)
            facts += [in_flight >= 0, in_flight <= live]
        self.starts[key.id] = _Start(live, in_flight, schedule, {}, self.surge_used)
        scheduled = z3.Sum(schedule) if schedule else self.zero
        if slots == key.ttl_steps - 1:
            facts.append(scheduled == live)
        else:
            facts.append(scheduled <= live)
        if not self.free_start:
            if self.model.initial_cache == "cold":
                facts.append(live == 0)
            elif key.every_key_every_step and key.ttl_steps > 1:
                facts.append(live == key.keys)
        return facts

    def extend(self) -> list[Expr]:
        """Add the next step; return its constraints."""
        t = len(self.steps)
        if t >= self.max_steps:
            raise ValueError(f"unrolling was sized for {self.max_steps} steps")
        step = _Step()
        self.steps.append(step)
        facts = self._restarts(t, step)
        facts += self._outages(t, step)
        facts += self._lookups(t, step)
        for key in self.model.key_classes:
            facts += self._key_step(t, step, key)
        for key in self.model.key_classes:
            if self.model.kept(key):
                step.end[key.id] = step.fills[key.id] + step.live[key.id]
        self._upstream(t, step)
        return facts

    def _outages(self, t: int, step: _Step) -> list[Expr]:
        facts: list[Expr] = []
        for scope in self.model.scopes:
            counts = self.outage_counts[scope.id]
            name = f"outage[{self._n('s', scope.id)}]@{t}"
            step.out[scope.id] = _budgeted(name, counts, self.zero, scope.outage_steps, facts)
        return facts

    def _restarts(self, t: int, step: _Step) -> list[Expr]:
        facts: list[Expr] = []
        for group in self.model.groups:
            counts = self.restart_counts[group.id]
            used = self.restarts_used[group.id]
            name = f"restart[{self._n('g', group.id)}]@{t}"
            step.restart[group.id] = _budgeted(name, counts, used, group.restarts, facts)
        return facts

    def _lookups(self, t: int, step: _Step) -> list[Expr]:
        facts: list[Expr] = []
        above = []
        for flow in self.model.flows:
            if flow.base == flow.peak:
                amount: Expr = z3.IntVal(flow.base, self.ctx)
            else:
                amount = z3.Int(f"lookups[{self._n('f', flow.id)}]@{t}", self.ctx)
                facts += [amount >= flow.base, amount <= flow.peak]
                above.append(amount > flow.base)
            step.lookups[flow.id] = amount
        step.surging = z3.Or(above) if above else self.false
        limit = self.model.surge_steps
        previous = self.surge_count[-1] if self.surge_count else self.surge_used
        count = previous + z3.If(step.surging, 1, 0)
        self.surge_count.append(count)
        if limit is not None:
            facts.append(count <= limit)
        for group in self.model.groups:
            for flow in self.model.flows:
                facts += self._group_lookup(t, step, group.id, flow.id)
        return facts

    def _group_lookup(self, t: int, step: _Step, group_id: str, flow_id: str) -> list[Expr]:
        total = step.lookups[flow_id]
        amount = z3.Int(f"group_lookups[{self._n('g', group_id)},{self._n('f', flow_id)}]@{t}", self.ctx)
        step.group_lookups[(group_id, flow_id)] = amount
        share = self._shares.get((group_id, flow_id))
        if share is None:
            share = self._shares[(group_id, flow_id)] = _Share.of(self.model, group_id, flow_id)
        # Implied (both bounds grow with L): the range at base and at peak, which spares
        # the solver branching on each flow's rounding near an optimum; with base = peak
        # it is the whole rule.
        facts = [amount >= share.least, amount <= share.most]
        if share.fixed:
            return facts
        low, high, replicas, serving = share.low, share.high, share.replicas, share.serving
        if low * replicas <= 1:
            # ceil(min x L) if R x ceil(min x L) <= L, else floor(min x L): that is
            # min(ceil(min x L), floor(L / R)) when min x R <= 1, without division.
            at_least = z3.Or(
                low.denominator * amount >= low.numerator * total,
                replicas * amount >= total - replicas + 1,
            )
        else:
            at_least = low.denominator * amount >= low.numerator * total - low.denominator + 1
        at_most = z3.Or(
            high.denominator * amount <= high.numerator * total,
            serving * amount <= total + serving - 1,
        )
        return [at_least, at_most, *facts]

    def envelope_cuts(self, t: int) -> list[Expr]:
        """Implied cuts for step ``t``: each representative's lookups lie under the
        concave envelope of their upper bound over the flow's range (``envelope``).

        They remove no integer solution; they give the solver's linear relaxation the
        shape of the rounding, which an optimum over many flows otherwise has to find by
        branching on each flow.
        """
        step = self.steps[t]
        facts: list[Expr] = []
        for (group_id, flow_id), amount in step.group_lookups.items():
            key = (group_id, flow_id)
            if key not in self._envelopes:
                flow = self.model.flow(flow_id)
                self._envelopes[key] = envelope(self.model.group(group_id), flow_id, flow.base, flow.peak)
            total = step.lookups[flow_id]
            vertices = self._envelopes[key]
            for (x1, y1), (x2, y2) in pairwise(vertices):
                facts.append((x2 - x1) * amount <= (x2 - x1) * y1 + (y2 - y1) * (total - x1))
        return facts

    def _key_step(self, t: int, step: _Step, key: KeyClass) -> list[Expr]:
        original = self._sum(
            [_times(n, step.group_lookups[(key.group, f)]) for f, n in key.demand]
            + [_times(n, step.misses[source]) for source, n in key.fed_by]
        )
        queries = self._sum([original, *self._followups(t, key.id)])
        step.queries[key.id] = queries
        may_fail = key.id in self._may_fail
        failing = z3.Or([step.out[s] for s in key.scopes]) if may_fail else self.false
        step.failing[key.id] = failing
        if not self.model.kept(key):
            cap = self.model.miss_cap(key)
            misses = queries if cap is None else _min(queries, z3.IntVal(cap, self.ctx))
            step.misses[key.id] = misses
            step.failed[key.id] = z3.If(failing, misses, 0) if may_fail else self.zero
            step.first_failures[key.id] = (
                z3.If(failing, _min(misses, original), 0) if may_fail else self.zero
            )
            return []
        facts = self._live(t, step, key)
        live = step.live[key.id]
        miss = z3.Int(f"misses[{self._n('k', key.id)}]@{t}", self.ctx)
        fill = z3.Int(f"fills[{self._n('k', key.id)}]@{t}", self.ctx)
        step.misses[key.id] = miss
        step.fills[key.id] = fill
        step.failed[key.id] = z3.If(failing, miss, 0) if may_fail else self.zero
        step.first_failures[key.id] = (
            z3.If(failing, _min(miss, original), 0) if may_fail else self.zero
        )
        required = key.keys if key.every_key_every_step else 0
        low = _min(z3.IntVal(required, self.ctx), queries) - live
        answered = [fill == 0, miss >= low, z3.Or(miss == 0, live < key.keys)]
        answering = [fill >= low, fill <= key.keys - live, miss >= fill]
        missing = fill + self._in_flight(t, key)
        if key.misses_per_fill is None:
            answering.append(z3.Implies(missing == 0, miss == 0))
        else:
            answering.append(miss <= key.misses_per_fill * missing)
        facts += [miss >= 0, fill >= 0, miss <= queries]
        if may_fail:
            facts.append(z3.If(failing, z3.And(answered), z3.And(answering)))
        else:
            facts += answering
        return facts

    def _in_flight(self, t: int, key: KeyClass) -> Expr:
        """Keys filled in the last ``in_flight_steps`` steps, whose answers may still be
        on their way in step ``t`` (before step 0: the start's, at most its live keys)."""
        steps = self.model.in_flight_steps
        recent = [self.steps[t - d].fills[key.id] for d in range(1, min(steps, t) + 1)]
        if t < steps:
            recent.append(self.starts[key.id].in_flight)
        return z3.Sum(recent) if recent else self.zero

    def _followups(self, t: int, key_id: str) -> list[Expr]:
        """Queries clients send to ``key_id`` at ``t`` after earlier failed misses."""
        return [
            _times(n, self.steps[t - d].first_failures[source])
            for source, d, n in self.model.followups_into.get(key_id, ())
            if t - d >= 0 and source in self._may_fail
        ]

    def _live(self, t: int, step: _Step, key: KeyClass) -> list[Expr]:
        restart = step.restart[key.group]
        live = z3.Int(f"live[{self._n('k', key.id)}]@{t}", self.ctx)
        step.live[key.id] = live
        if t == 0:
            return [live == z3.If(restart, 0, self.starts[key.id].live)]
        previous_end = self.steps[t - 1].end[key.id]
        expired = _min(self._scheduled(t, key), previous_end)
        return [live == z3.If(restart, 0, previous_end - expired)]

    def _scheduled(self, t: int, key: KeyClass) -> Expr:
        """Entries of ``key`` due to expire at step ``t``: the fills of ``t - tau``."""
        counts = self.restart_counts[key.group]
        cohort = t - key.ttl_steps
        if cohort >= 0:
            restarted = counts[t] - counts[cohort] > 0
            due = self.steps[cohort].fills[key.id]
        else:
            restarted = counts[t] - self.restarts_used[key.group] > 0
            schedule = self.starts[key.id].schedule
            due = schedule[t - 1] if t - 1 < len(schedule) else self.zero
        return z3.If(restarted, 0, due)

    def _upstream(self, t: int, step: _Step) -> None:
        for scope in self.model.scopes:
            terms = []
            for group_id, replicas in scope.members:
                for key in self.model.key_classes:
                    if key.group == group_id and scope.id in key.scopes and replicas:
                        terms.append(_times(replicas, self._sends(t, step, key, scope.id)))
            if scope.probe_packets:
                terms.append(z3.If(step.out[scope.id], scope.probe_packets, 0))
            sent = z3.Sum(terms) if terms else self.zero
            if scope.lookup_packets:
                sent = _min(sent, z3.Sum([n * step.lookups[f] for f, n in scope.lookup_packets]))
            step.upstream[scope.id] = sent

    def _sends(self, t: int, step: _Step, key: KeyClass, scope_id: str) -> Expr:
        """Packets one replica sends for ``key`` to ``scope_id`` in step ``t``."""
        packets = dict(key.upstream)[scope_id]
        if key.id not in self._may_fail:
            return _times(packets, step.misses[key.id])
        terms = [packets * (step.misses[key.id] - step.failed[key.id])]
        for delay, per_failure in key.failed_sends:
            if t - delay >= 0:
                terms.append(per_failure * self.steps[t - delay].failed[key.id])
        return z3.Sum(terms)

    def window(self, scope_id: str, t: int) -> Expr:
        """Packets of ``scope_id`` in the window of its limit that ends with step ``t``."""
        first = max(0, t - self.model.scope(scope_id).window_steps + 1)
        return z3.Sum([self.steps[i].upstream[scope_id] for i in range(first, t + 1)])

    def server_load(self, limit_id: str, t: int) -> Expr:
        """Client queries one replica of the limit's group may take in step ``t``: each
        query of a lookup of step ``t - d`` that may arrive ``d`` steps late. Before step
        0 the replica's lookups are ``before_start`` of each flow."""
        limit = self.model.server_limit(limit_id)
        terms: list[Expr] = []
        for flow_id, delay, count in limit.client_queries:
            for earlier in range(t - delay, t + 1):
                lookups = (
                    self.steps[earlier].group_lookups[(limit.group, flow_id)] if earlier >= 0
                    else z3.IntVal(before_start(self.model, limit.group, flow_id, self.free_start),
                                   self.ctx)
                )
                terms.append(_times(count, lookups))
        return self._sum(terms)

    def measures(self, t: int) -> dict[str, Expr]:
        """What the model's property bounds at step ``t``, by scope or server limit id:
        upstream packets in the window that ends there, or a server's client queries."""
        if self.model.property == "server-load":
            return {limit.id: self.server_load(limit.id, t) for limit in self.model.server_limits}
        return {scope.id: self.window(scope.id, t) for scope in self.model.scopes}

    def violation(self, t: int) -> Expr:
        """The model's property fails at step ``t``: some scope is over its limit in the
        window that ends there (upstream-limit), or some server over its capacity
        (server-load)."""
        if self.model.property == "server-load":
            limits = [(limit.id, limit.limit) for limit in self.model.server_limits]
        else:
            limits = [(scope.id, scope.limit) for scope in self.model.scopes]
        measures = self.measures(t)
        return z3.Or([measures[item] > limit for item, limit in limits] + [self.false])

    def surge(self, steps: int | None = None) -> Expr:
        """Lookups above baseline, summed over the first ``steps`` steps (default: the
        steps unrolled so far)."""
        terms = [
            step.lookups[f.id] - f.base
            for step in self.steps[:steps]
            for f in self.model.flows
            if f.base != f.peak
        ]
        return z3.Sum(terms) if terms else self.zero

    def pin(self, choices: Choices) -> list[Expr]:
        """Constraints fixing every choice variable to the values in ``choices``."""
        facts = [self.restarts_used[g] == n for g, n in choices.restarts_used.items()]
        if choices.surge_used is not None:
            facts.append(self.surge_used == choices.surge_used)
        for key_id, start in self.starts.items():
            given = choices.start[key_id]
            facts.append(start.live == given.live)
            facts.append(start.in_flight == given.in_flight)
            facts += [v == n for v, n in zip(start.schedule, given.expiry, strict=False)]
        for t, step in enumerate(self.steps):
            facts += [v == choices.lookups[t][f] for f, v in step.lookups.items()]
            facts += [v == choices.group_lookups[t][k] for k, v in step.group_lookups.items()]
            facts += [flag == (g in choices.restarts[t]) for g, flag in step.restart.items()]
            facts += [flag == (s in choices.outages[t]) for s, flag in step.out.items()]
            facts += [step.misses[k] == n for k, n in choices.misses[t].items()]
            facts += [step.fills[k] == n for k, n in choices.fills[t].items()]
        return facts

    def decode(self, model: z3.ModelRef, steps: int | None = None) -> Choices:
        """The environment's choices in a Z3 model over the first ``steps`` steps (default:
        the steps unrolled so far), for the simulator."""

        def value(expr: Expr) -> int:
            return int(model.eval(expr, model_completion=True).as_long())

        choices = Choices(
            restarts_used={g: value(v) for g, v in self.restarts_used.items()},
            surge_used=value(self.surge_used),
        )
        for key_id, start in self.starts.items():
            schedule = tuple(value(n) for n in start.schedule)
            choices.start[key_id] = StartCache(value(start.live), schedule, value(start.in_flight))
        for step in self.steps[:steps]:
            choices.lookups.append({f: value(v) for f, v in step.lookups.items()})
            choices.group_lookups.append({k: value(v) for k, v in step.group_lookups.items()})
            choices.restarts.append(
                frozenset(g for g, flag in step.restart.items() if z3.is_true(model.eval(flag, model_completion=True)))
            )
            choices.outages.append(
                frozenset(s for s, flag in step.out.items() if z3.is_true(model.eval(flag, model_completion=True)))
            )
            choices.misses.append({k: value(v) for k, v in step.misses.items() if k in step.fills})
            choices.fills.append({k: value(v) for k, v in step.fills.items()})
        return choices


ENVELOPE_POINTS = 20_000
"""The widest lookup range whose envelope is computed (one bound per lookup count)."""


def envelope(group: Group, flow_id: str, base: int, peak: int) -> list[tuple[int, int]]:
    """The vertices (L, G) of the least concave function over ``base <= L <= peak`` that
    is at least ``group.lookup_bounds(flow_id, L)[1]`` at every integer L; [] when the
    range is a single value or wider than ``ENVELOPE_POINTS``."""
    if peak <= base or peak - base > ENVELOPE_POINTS:
        return []
    share = group.shares(flow_id)[1]
    serving = group.split_serving(flow_id)
    hull: list[tuple[int, int]] = []
    for lookups in range(base, peak + 1):
        most = max(share.numerator * lookups // share.denominator, -(-lookups // serving))
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (y2 - y1) * (lookups - x1) > (most - y1) * (x2 - x1):
                break
            hull.pop()
        hull.append((lookups, most))
    return hull


def _sum(terms: list[Expr], zero: Expr) -> Expr:
    if not terms:
        return zero
    return terms[0] if len(terms) == 1 else z3.Sum(terms)


def _positional_names(model: FlowModel) -> dict[str, str]:
    """Short variable names by position (f0, g1, k12, s0), so that Z3's search does not
    depend on ids that hold file paths: the same model gives the same answer anywhere."""
    names: dict[str, str] = {}
    for prefix, ids in (
        ("f", [f.id for f in model.flows]), ("g", [g.id for g in model.groups]),
        ("k", [k.id for k in model.key_classes]), ("s", [s.id for s in model.scopes]),
    ):
        names.update((f"{prefix}:{item}", f"{prefix}{index}") for index, item in enumerate(ids))
    return names


def _budgeted(name: str, counts: list[Expr], used: Expr, budget: int, facts: list[Expr]) -> Expr:
    """A per-step event flag whose running count (kept in ``counts``) stays in budget;
    its terms are in the context of ``used``."""
    context = used.ctx
    if not budget:
        counts.append(z3.IntVal(0, context))
        return z3.BoolVal(False, context)
    flag = z3.Bool(name, context)
    counts.append((counts[-1] if counts else used) + z3.If(flag, 1, 0))
    facts.append(counts[-1] <= budget)
    return flag


@dataclass(frozen=True, slots=True)
class FormulaSize:
    """How big a list of Z3 assertions is: free variables by sort, assertions, DAG nodes."""

    int_variables: int
    bool_variables: int
    assertions: int
    nodes: int


def formula_size(assertions: list[Expr]) -> FormulaSize:
    """Count the distinct uninterpreted constants and subterms of ``assertions``.

    Read-only; walks the terms through Z3's C API (no Python wrapper per subterm).
    """
    if not assertions:
        return FormulaSize(0, 0, 0, 0)
    context = assertions[0].ctx_ref()
    seen: set[int] = set()
    ints = bools = 0
    pending = [a.as_ast() for a in assertions]
    while pending:
        term = pending.pop()
        term_id = z3.Z3_get_ast_id(context, term)
        if term_id in seen:
            continue
        seen.add(term_id)
        if z3.Z3_get_ast_kind(context, term) != z3.Z3_APP_AST:
            continue
        app = z3.Z3_to_app(context, term)
        arity = z3.Z3_get_app_num_args(context, app)
        declaration = z3.Z3_get_app_decl(context, app)
        if arity == 0 and z3.Z3_get_decl_kind(context, declaration) == z3.Z3_OP_UNINTERPRETED:
            sort = z3.Z3_get_sort_kind(context, z3.Z3_get_sort(context, term))
            ints += sort == z3.Z3_INT_SORT
            bools += sort == z3.Z3_BOOL_SORT
        pending.extend(z3.Z3_get_app_arg(context, app, i) for i in range(arity))
    return FormulaSize(ints, bools, len(assertions), len(seen))
