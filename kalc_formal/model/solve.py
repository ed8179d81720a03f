"""Solve stage: bounded search, k-induction, and the smallest surge, with honest verdicts.

Every solver comes from ``make_solver`` (fixed seed, a resource budget instead of a
wall-clock timeout, so the same input gives the same answer). ``unknown`` from Z3 is
never read as sat or unsat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import z3

from kalc_formal.model.encode import Unrolling, current_context, fresh_context
from kalc_formal.model.flowmodel import FlowModel
from kalc_formal.model.simulator import Choices, ReplayError, StepResult, simulate

DEFAULT_RLIMIT = 50_000_000
DEFAULT_BUDGET = 300_000_000
"""Z3 resource units one check may spend over all its queries (``--budget``)."""
SEED = 0


class Verdict(StrEnum):
    PROVED = "proved"
    SAFE_BOUNDED = "safe-bounded"
    UNSAFE = "unsafe"
    UNKNOWN = "unknown"


VERDICT_ORDER = (Verdict.UNSAFE, Verdict.UNKNOWN, Verdict.SAFE_BOUNDED, Verdict.PROVED)
"""Verdicts from worst to best: a check's verdict is the worst of its properties'."""


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst of ``verdicts`` (at least one)."""
    return min(verdicts, key=VERDICT_ORDER.index)


class SolverGaveUp(Exception):
    """Z3 answered unknown (resource budget spent or incomplete theory)."""


class BudgetSpent(SolverGaveUp):
    """The total budget of the check is spent (no query may run any more)."""


@dataclass(slots=True)
class Budget:
    """The Z3 resource units one check may spend over all its queries, what it has
    spent, and how far it got: the phase and the depth (step or k) it was working on."""

    total: int
    spent: int = 0
    phase: str = "not started"
    depth: int | None = None
    reached: dict[str, int] = field(default_factory=dict)
    too_large: str = ""

    def at(self, phase: str, depth: int | None = None) -> None:
        self.phase, self.depth = phase, depth
        if depth is not None:
            self.reached[phase] = max(depth, self.reached.get(phase, -1))

    def progress(self) -> str:
        where = self.phase + (f" at depth {self.depth}" if self.depth is not None else "")
        done = ", ".join(f"{phase} reached depth {depth}" for phase, depth in self.reached.items())
        return where + (f"; {done}" if done else "")


_BUDGET: ContextVar[Budget | None] = ContextVar("kalc_budget", default=None)


@contextmanager
def spending(budget: Budget | None) -> Iterator[None]:
    """Charge every ``check`` inside the block to ``budget``."""
    token = _BUDGET.set(budget)
    try:
        yield
    finally:
        _BUDGET.reset(token)


ProgressCallback = Callable[[str, int | None], None]
_PROGRESS: ContextVar[ProgressCallback | None] = ContextVar("kalc_progress", default=None)


def _at(phase: str, depth: int | None = None) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.at(phase, depth)
    progress = _PROGRESS.get()
    if progress is not None:
        progress(phase, depth)


ENCODING_UNITS = 20_000
"""Budget units charged for encoding one key class or flow for one step: the Python
work of building its constraints (about 1 ms on this 2-core machine, as much as Z3
spends on some 20,000 units), so that the total budget also bounds models too large to
encode, not only the solver's work."""


def _extend(unrolling: Unrolling) -> list[Any]:
    """The next step's constraints, charged to the total budget before they are built."""
    budget = _BUDGET.get()
    if budget is not None:
        model = unrolling.model
        cost = ENCODING_UNITS * (len(model.key_classes) + len(model.flows))
        if budget.spent + cost > budget.total:
            budget.too_large = (
                f"encoding one step of {len(model.key_classes):,} key classes and "
                f"{len(model.flows):,} flows costs {cost:,} units, more than the "
                f"{budget.total - budget.spent:,} left: give names that behave alike one "
                "kalc.yaml entry with `count`"
            )
            raise BudgetSpent(budget.progress())
        budget.spent += cost
    return unrolling.extend()


class Encoded:
    """An unrolling whose steps are encoded once and handed to every query that needs
    them: ``step(t)`` extends it (charging the budget) only the first time."""

    def __init__(self, model: FlowModel, max_steps: int, *, free_start: bool = False):
        self.unrolling = Unrolling(model, max_steps, free_start=free_start)
        self.facts: list[list[Any]] = []

    @property
    def initial(self) -> list[Any]:
        return self.unrolling.initial

    def step(self, t: int) -> list[Any]:
        while len(self.facts) <= t:
            self.facts.append(_extend(self.unrolling))
        return self.facts[t]


@dataclass(slots=True)
class _Shared:
    """The two unrollings of one check (from INIT, and from any state), each sized for
    the deepest query the check may make."""

    model: FlowModel
    sizes: dict[bool, int]
    encoded: dict[bool, Encoded] = field(default_factory=dict)


_SHARED: ContextVar[_Shared | None] = ContextVar("kalc_shared_unrollings", default=None)


@contextmanager
def sharing(model: FlowModel, *, from_init: int, from_any_state: int) -> Iterator[None]:
    """Inside the block, queries on ``model`` share one unrolling from INIT of up to
    ``from_init`` steps and one from any state of up to ``from_any_state`` steps."""
    token = _SHARED.set(_Shared(model, {False: from_init, True: from_any_state}))
    try:
        yield
    finally:
        _SHARED.reset(token)


def encoded(model: FlowModel, steps: int, *, free_start: bool = False) -> Encoded:
    """An unrolling of ``model`` for ``steps`` steps: the check's shared one when
    ``decide`` holds one that is large enough, else a new one.

    A longer unrolling answers a shorter query the same way: the steps after it are not
    asserted, and a start schedule with more slots than the query spans projects onto
    one with fewer (the entries due later lie in the slots beyond).
    """
    shared = _SHARED.get()
    if shared is None or shared.model is not model or steps > shared.sizes.get(free_start, 0):
        return Encoded(model, steps, free_start=free_start)
    if free_start not in shared.encoded:
        shared.encoded[free_start] = Encoded(model, shared.sizes[free_start], free_start=free_start)
    return shared.encoded[free_start]


def _rlimit_count(solver: z3.Solver) -> int:
    try:
        return int(solver.statistics().get_key_value("rlimit count"))
    except z3.Z3Exception:
        return 0


def set_query_rlimit(solver: z3.Solver, rlimit: int) -> None:
    """The most one query of ``solver`` may spend (the total budget may cut it shorter)."""
    solver.set("rlimit", rlimit)
    setattr(solver, _QUERY_RLIMIT, rlimit)


_QUERY_RLIMIT = "kalc_query_rlimit"


@dataclass(frozen=True, slots=True)
class Counterexample:
    """A replayed violating run: the choices and the simulator's steps."""

    choices: Choices
    steps: tuple[StepResult, ...]
    surge: int
    surge_minimal: bool = True

    @property
    def length(self) -> int:
        return len(self.steps)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The verdict and what supports it.

    ``worst_step``: for a proof at depth 0, the most upstream packets any one step can
    carry, per scope (from any state): the headroom below each limit.
    """

    verdict: Verdict
    horizon: int
    counterexample: Counterexample | None = None
    induction_depth: int | None = None
    reason: str = ""
    checks: tuple[str, ...] = field(default=())
    worst_step: dict[str, int] = field(default_factory=dict)
    units: int | None = field(default=None, compare=False)
    """Z3 resource units (and encoding units) the check spent, when it had a budget."""


def make_solver(rlimit: int = DEFAULT_RLIMIT, *, logic: str | None = None) -> z3.Solver:
    """A solver with a fixed seed and a deterministic resource budget (for ``logic``,
    Z3's configuration for that logic)."""
    context = current_context()
    solver = z3.Solver(ctx=context) if logic is None else z3.SolverFor(logic, ctx=context)
    solver.set("random_seed", SEED)
    set_query_rlimit(solver, rlimit)
    return solver


def satisfiable(solver: z3.Solver, *assumptions: object) -> bool:
    """True for sat, False for unsat; SolverGaveUp for unknown, BudgetSpent when the
    total budget is spent (before or during this query)."""
    budget = _BUDGET.get()
    if budget is None:
        result = solver.check(*assumptions)
    else:
        remaining = budget.total - budget.spent
        if remaining <= 0:
            raise BudgetSpent(budget.progress())
        per_query: int = getattr(solver, _QUERY_RLIMIT, DEFAULT_RLIMIT)
        solver.set("rlimit", min(per_query, remaining))
        before = _rlimit_count(solver)
        try:
            result = solver.check(*assumptions)
        finally:
            budget.spent += max(0, _rlimit_count(solver) - before)
            solver.set("rlimit", per_query)
        if result == z3.unknown and budget.spent >= budget.total:
            raise BudgetSpent(budget.progress())
    if result == z3.unknown:
        raise SolverGaveUp(solver.reason_unknown())
    return bool(result == z3.sat)


def find_shortest_violation(
    model: FlowModel, steps: int, *, rlimit: int = DEFAULT_RLIMIT
) -> tuple[Unrolling, z3.Solver, int] | None:
    """Deepen one step at a time; the unrolling and solver at the first violating step."""
    encoding = encoded(model, steps)
    unrolling = encoding.unrolling
    solver = make_solver(rlimit)
    solver.add(*encoding.initial)
    for t in range(steps):
        _at("search for the shortest violation", t)
        solver.add(*encoding.step(t))
        probe = z3.Bool(f"probe_violation@{t}", unrolling.ctx)
        solver.add(z3.Implies(probe, unrolling.violation(t)))
        if satisfiable(solver, probe):
            solver.add(probe)
            return unrolling, solver, t
        solver.add(z3.Not(unrolling.violation(t)))
    return None


def any_violation_within(model: FlowModel, steps: int, *, rlimit: int = DEFAULT_RLIMIT) -> int | None:
    """One monolithic query: the step of some violation within ``steps`` steps, if any."""
    _at("one query over the horizon", steps)
    encoding = encoded(model, steps)
    unrolling = encoding.unrolling
    solver = make_solver(rlimit)
    solver.add(*encoding.initial)
    for t in range(steps):
        solver.add(*encoding.step(t))
    solver.add(z3.Or([unrolling.violation(t) for t in range(steps)]))
    if not satisfiable(solver):
        return None
    found = solver.model()
    return next(
        t for t in range(steps)
        if z3.is_true(found.eval(unrolling.violation(t), model_completion=True))
    )


SURGE_PROBE_SHARE = 10
"""Each probe of the headroom search gets this fraction of the budget: near the
optimum, integer rounding makes probes hard, and the search does not decide the
verdict."""


def smallest_surge(
    unrolling: Unrolling, solver: z3.Solver, steps: int | None = None, *,
    rlimit: int = DEFAULT_RLIMIT,
) -> tuple[z3.ModelRef, bool]:
    """A model of the violating run of ``solver`` (over the first ``steps`` steps of
    ``unrolling``, default all) with the least lookups above baseline, and whether it is
    confirmed least (False when Z3 gave up part way: the best one found so far).

    Binary search over ``solver``'s assertions in a new solver for integer arithmetic
    (QF_LIA), with the unrolling's envelope cuts (implied: they remove no run); the
    probes together spend at most ``rlimit`` units.
    """
    steps = len(unrolling.steps) if steps is None else steps
    surge = unrolling.surge(steps)
    _at("smallest surge")
    satisfiable(solver)
    best = solver.model()
    high = best.eval(surge, model_completion=True).as_long()
    search = make_solver(rlimit, logic="QF_LIA")
    search.add(*solver.assertions())
    for t in range(steps):
        search.add(*unrolling.envelope_cuts(t))
    low, spent = 0, 0
    while low < high:
        if spent >= rlimit:
            return best, False
        set_query_rlimit(search, rlimit - spent)
        middle = (low + high) // 2
        before = _rlimit_count(search)
        try:
            found = satisfiable(search, surge <= middle)
        except SolverGaveUp:
            return best, False
        finally:
            spent += max(0, _rlimit_count(search) - before)
        if found:
            best = search.model()
            high = best.eval(surge, model_completion=True).as_long()
        else:
            low = middle + 1
    return best, True


def replay(model: FlowModel, choices: Choices, steps: int) -> list[StepResult]:
    """Run the decoded choices in the simulator; ReplayError if they do not fit."""
    return simulate(model, choices, steps)


def prove_by_induction(
    model: FlowModel, max_depth: int, *, rlimit: int = DEFAULT_RLIMIT
) -> int | None:
    """The least k <= max_depth for which the property is k-inductive, else None.

    k is at least ``first_depth(model)``: the step checked must hold a whole window.
    """
    encoding = encoded(model, max_depth + 1, free_start=True)
    unrolling = encoding.unrolling
    solver = make_solver(rlimit)
    solver.add(*encoding.initial)
    for k in range(max_depth + 1):
        _at("k-induction", k)
        solver.add(*encoding.step(k))
        if k >= first_depth(model) and not satisfiable(solver, unrolling.violation(k)):
            return k
        solver.add(z3.Not(unrolling.violation(k)))
    return None


def first_depth(model: FlowModel) -> int:
    """The least induction depth: from an arbitrary state, the first step whose limit
    window lies wholly inside the unrolling (a window can span several steps)."""
    return model.max_window_steps() - 1


def induction_holds_afresh(model: FlowModel, depth: int, *, rlimit: int = DEFAULT_RLIMIT) -> bool:
    """Re-check the k-induction step in one monolithic query of a new solver."""
    _at("re-check of the induction step", depth)
    encoding = encoded(model, depth + 1, free_start=True)
    unrolling = encoding.unrolling
    solver = make_solver(rlimit)
    solver.add(*encoding.initial)
    for k in range(depth + 1):
        solver.add(*encoding.step(k))
    solver.add(*[z3.Not(unrolling.violation(k)) for k in range(depth)])
    solver.add(unrolling.violation(depth))
    return not satisfiable(solver)


def base_holds_afresh(model: FlowModel, depth: int, *, rlimit: int = DEFAULT_RLIMIT) -> bool:
    """Re-check that no violation is reachable within ``depth + 1`` steps, monolithically."""
    _at("re-check of the base case", depth)
    encoding = encoded(model, depth + 1)
    unrolling = encoding.unrolling
    solver = make_solver(rlimit)
    solver.add(*encoding.initial)
    for t in range(depth + 1):
        solver.add(*encoding.step(t))
    solver.add(z3.Or([unrolling.violation(k) for k in range(depth + 1)]))
    return not satisfiable(solver)


def decide(
    model: FlowModel, horizon: int, *, max_induction: int | None = None,
    rlimit: int = DEFAULT_RLIMIT, budget: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Outcome:
    """The verdict for ``model.property`` on ``model``; with ``budget``, all
    its queries together spend at most that many Z3 resource units, else unknown.
    ``on_progress`` is told each phase and depth (step or k) as the search reaches it."""
    spent = Budget(budget) if budget is not None else None
    token = _PROGRESS.set(on_progress)
    try:
        with spending(spent), fresh_context():
            outcome = _decide(model, horizon, max_induction, rlimit)
        return replace(outcome, units=spent.spent) if spent is not None else outcome
    except BudgetSpent:
        assert spent is not None
        why = f"; {spent.too_large}" if spent.too_large else ""
        return Outcome(
            Verdict.UNKNOWN, horizon,
            reason=f"the total budget of {spent.total:,} resource units is spent "
            f"({spent.spent:,} used) in {spent.progress()}{why}; a larger --budget or a "
            "shorter --horizon may decide it",
        )
    except SolverGaveUp as gave_up:
        return Outcome(
            Verdict.UNKNOWN, horizon,
            reason=f"Z3 gave up ({gave_up}) within its resource budget of {rlimit:,} per query; "
            "a larger --rlimit or a shorter --horizon may decide it",
        )
    finally:
        _PROGRESS.reset(token)


QUICK_STEPS = 5
MAX_INDUCTION = 64


def _decide(model: FlowModel, horizon: int, max_induction: int | None, rlimit: int) -> Outcome:
    first = first_depth(model)
    limit = max(first, min(horizon - 1, model.max_ttl_steps() + first + 1, MAX_INDUCTION))
    if max_induction is not None:
        limit = max(first, min(horizon - 1, max_induction))
    with sharing(model, from_init=horizon, from_any_state=limit + 1):
        return _search(model, horizon, first, limit, rlimit)


NO_SERVER_LOAD_WITH_OUTAGES = (
    "server-load is not decided with upstream outages in the model: the client re-sends "
    "that failures bring are not all counted as server load"
)


def _search(model: FlowModel, horizon: int, first: int, limit: int, rlimit: int) -> Outcome:
    if model.property == "server-load" and model.may_fail():
        return Outcome(Verdict.UNKNOWN, horizon, reason=NO_SERVER_LOAD_WITH_OUTAGES)
    if model.may_fail():
        return _bounded_search(model, horizon, rlimit)
    searched = min(first + 1, horizon)
    found = find_shortest_violation(model, searched, rlimit=rlimit)
    if found is not None:
        return _unsafe(model, horizon, *found, rlimit)
    if _induction_or_none(model, first, rlimit) == first:
        return _proved_or_unsafe(model, horizon, first, rlimit, searched)
    searched = max(searched, min(QUICK_STEPS, horizon))
    quick = find_shortest_violation(model, searched, rlimit=rlimit)
    if quick is not None:
        return _unsafe(model, horizon, *quick, rlimit)
    depth = _induction_or_none(model, limit, rlimit)
    if depth is not None:
        return _proved_or_unsafe(model, horizon, depth, rlimit, searched)
    try:
        last = any_violation_within(model, horizon, rlimit=rlimit)
    except SolverGaveUp:
        return _bounded_search(model, horizon, rlimit, f"k-induction failed up to k={limit}")
    if last is None:
        return Outcome(
            Verdict.SAFE_BOUNDED, horizon,
            reason=f"no violation within {horizon} steps; k-induction failed up to k={limit}",
        )
    found = find_shortest_violation(model, last + 1, rlimit=rlimit)
    if found is None:
        return Outcome(Verdict.UNKNOWN, horizon, reason="a violation was found once and not again")
    return _unsafe(model, horizon, *found, rlimit)


def _induction_or_none(model: FlowModel, max_depth: int, rlimit: int) -> int | None:
    """``prove_by_induction``, or None when Z3 gives up on it: the search for a
    violation goes on, and no proof is claimed."""
    try:
        return prove_by_induction(model, max_depth, rlimit=rlimit)
    except BudgetSpent:
        raise
    except SolverGaveUp:
        return None


NO_PROOF_WITH_OUTAGES = (
    "with upstream outages in the model, proofs for every horizon are not attempted "
    "(failures before step 0 would be unbounded in an arbitrary state)"
)


def _bounded_search(
    model: FlowModel, horizon: int, rlimit: int, why: str = NO_PROOF_WITH_OUTAGES
) -> Outcome:
    """Deepen step by step to the horizon: each query is small, where one query over the
    whole horizon can outgrow the budget."""
    found = find_shortest_violation(model, horizon, rlimit=rlimit)
    if found is not None:
        return _unsafe(model, horizon, *found, rlimit)
    return Outcome(
        Verdict.SAFE_BOUNDED, horizon, reason=f"no violation within {horizon} steps; {why}",
    )


def _proved_or_unsafe(
    model: FlowModel, horizon: int, depth: int, rlimit: int, searched: int
) -> Outcome:
    """Proved at ``depth`` unless a violation lies within its first ``depth + 1`` steps
    (the first ``searched`` steps are known to hold none)."""
    steps = min(depth + 1, horizon)
    found = find_shortest_violation(model, steps, rlimit=rlimit) if steps > searched else None
    if found is not None:
        return _unsafe(model, horizon, *found, rlimit)
    return _proved(model, horizon, depth, rlimit)


def worst_step(model: FlowModel, *, rlimit: int = DEFAULT_RLIMIT) -> dict[str, int]:
    """The most one window of each limit can carry from any state: upstream packets
    per scope, or client queries per server limit (server-load).

    Found by binary search over incremental checks; a limit where Z3 gives up is left
    out (the headroom is information, not part of the verdict).
    """
    result = {}
    _at("headroom")
    last = first_depth(model)
    encoding = encoded(model, last + 1, free_start=True)
    unrolling = encoding.unrolling
    solver = make_solver(max(1, rlimit // SURGE_PROBE_SHARE))
    solver.add(*encoding.initial)
    for t in range(last + 1):
        solver.add(*encoding.step(t))
    for item, measure in unrolling.measures(last).items():
        try:
            result[item] = _maximum(solver, measure, item)
        except SolverGaveUp:
            continue
    return result


def _maximum(solver: z3.Solver, value: Any, label: str) -> int:
    """The largest value of ``value`` the solver allows (it must be bounded)."""
    satisfiable(solver)
    low = int(solver.model().eval(value, model_completion=True).as_long())
    step = max(1, low)
    while True:
        probe = z3.Bool(f"probe_above[{label}]_{low + step}", solver.ctx)
        solver.add(z3.Implies(probe, value >= low + step))
        if not satisfiable(solver, probe):
            break
        low = int(solver.model().eval(value, model_completion=True).as_long())
        step *= 2
    high = low + step - 1
    while low < high:
        middle = (low + high + 1) // 2
        probe = z3.Bool(f"probe_above[{label}]_{middle}", solver.ctx)
        solver.add(z3.Implies(probe, value >= middle))
        if satisfiable(solver, probe):
            low = int(solver.model().eval(value, model_completion=True).as_long())
        else:
            high = middle - 1
    return low


def _proved(model: FlowModel, horizon: int, depth: int, rlimit: int) -> Outcome:
    checks = (
        f"k-induction step at k={depth} re-checked in a fresh solver",
        f"no violation in the first {depth + 1} steps, re-checked in a fresh solver",
    )
    if induction_holds_afresh(model, depth, rlimit=rlimit) and base_holds_afresh(
        model, depth, rlimit=rlimit
    ):
        worst = worst_step(model, rlimit=rlimit) if depth == first_depth(model) else {}
        return Outcome(Verdict.PROVED, horizon, induction_depth=depth, checks=checks,
                       worst_step=worst)
    return Outcome(
        Verdict.UNKNOWN, horizon,
        reason=f"the k-induction proof at k={depth} did not re-check in a fresh solver",
    )


def _unsafe(
    model: FlowModel, horizon: int, unrolling: Unrolling, solver: z3.Solver, t: int,
    rlimit: int = DEFAULT_RLIMIT,
) -> Outcome:
    best, minimal = smallest_surge(unrolling, solver, t + 1, rlimit=rlimit)
    choices = unrolling.decode(best, t + 1)
    surge = best.eval(unrolling.surge(t + 1), model_completion=True).as_long()
    try:
        steps = replay(model, choices, t + 1)
    except ReplayError as error:
        return Outcome(Verdict.UNKNOWN, horizon, reason=f"counterexample did not replay: {error}")
    if not steps[-1].fails(model):
        return Outcome(
            Verdict.UNKNOWN, horizon,
            reason=f"counterexample replayed without violating {model.property} at step {t}",
        )
    return Outcome(
        Verdict.UNSAFE, horizon,
        counterexample=Counterexample(choices, tuple(steps), surge, minimal),
    )
