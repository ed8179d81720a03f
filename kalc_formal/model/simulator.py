"""Trace stage: a plain-Python simulator of the transition system in specs/model.md.

Given the environment's choices (``Choices``), it computes the states step by step
and checks each choice against its bounds. It is the oracle that counterexamples
are replayed in and that the Z3 encoding is tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kalc_formal.model.flowmodel import FlowModel, KeyClass, ServerLimit, before_start


class ReplayError(Exception):
    """A choice lies outside the bounds of the transition relation."""


@dataclass(frozen=True, slots=True)
class StartCache:
    """A key class's cache content at step 0: live entries and their expiry steps.

    ``expiry[e - 1]`` entries expire at the start of step ``e`` (``e >= 1``);
    ``in_flight`` of the live entries were missed so recently that their answers may
    still be on their way.
    """

    live: int
    expiry: tuple[int, ...] = ()
    in_flight: int = 0


@dataclass(slots=True)
class Choices:
    """The environment's choices; the lists are indexed by step."""

    start: dict[str, StartCache] = field(default_factory=dict)
    lookups: list[dict[str, int]] = field(default_factory=list)
    group_lookups: list[dict[tuple[str, str], int]] = field(default_factory=list)
    restarts: list[frozenset[str]] = field(default_factory=list)
    misses: list[dict[str, int]] = field(default_factory=list)
    fills: list[dict[str, int]] = field(default_factory=list)
    outages: list[frozenset[str]] = field(default_factory=list)
    restarts_used: dict[str, int] = field(default_factory=dict)
    surge_used: int | None = None


@dataclass(frozen=True, slots=True)
class StepResult:
    """What happened in one step."""

    t: int
    lookups: dict[str, int]
    group_lookups: dict[tuple[str, str], int]
    restarted: frozenset[str]
    out: frozenset[str]
    live: dict[str, int]
    expired: dict[str, int]
    queries: dict[str, int]
    misses: dict[str, int]
    fills: dict[str, int]
    failed: dict[str, int]
    sent: dict[str, int]
    upstream: dict[str, int]
    violated: tuple[str, ...]
    server_load: dict[str, int] = field(default_factory=dict)
    """Client queries one replica of each server limit's group takes."""
    overloaded: tuple[str, ...] = ()
    """The server limits whose load is over their capacity."""

    def fails(self, model: FlowModel) -> bool:
        """The model's property fails in this step."""
        return bool(self.overloaded if model.property == "server-load" else self.violated)


Chooser = Callable[[str, int, int], int]
"""Picks a value in ``[low, high]`` for a choice that ``Choices`` leaves open."""


def highest(_name: str, _low: int, high: int) -> int:
    return high


@dataclass(slots=True)
class _ClassState:
    live: int
    end: int
    start_expiry: tuple[int, ...]
    start_in_flight: int
    fills: dict[int, int] = field(default_factory=dict)
    start_valid: bool = True
    last_restart: int | None = None


class Simulator:
    """Runs the transition system one step at a time.

    A choice missing from ``choices`` is taken from ``chooser`` (by default the highest
    value allowed); every value used is recorded in ``taken``. ``free_start`` allows any
    start state within the state invariants (used for k-induction traces).
    """

    def __init__(
        self,
        model: FlowModel,
        choices: Choices | None = None,
        *,
        free_start: bool = False,
        chooser: Chooser = highest,
    ) -> None:
        self.model = model
        self.choices = choices or Choices()
        self.free_start = free_start
        self.chooser = chooser
        self.taken = Choices()
        self.restarts_used: dict[str, int] = {}
        self.surge_used = 0
        self.outages_used = {s.id: 0 for s in model.scopes}
        self.failed: dict[str, dict[int, int]] = {k.id: {} for k in model.key_classes}
        self.first_failures: dict[str, dict[int, int]] = {k.id: {} for k in model.key_classes}
        self.states: dict[str, _ClassState] = {}
        self.upstream_history: list[dict[str, int]] = []
        self.group_lookup_history: list[dict[tuple[str, str], int]] = []
        self._start_budgets()
        for key in model.key_classes:
            if model.kept(key):
                self.states[key.id] = self._start_cache(key)

    def _pick(self, name: str, given: int | None, low: int, high: int) -> int:
        if low > high:
            raise ReplayError(f"{name}: no value in [{low}, {high}]")
        value = self.chooser(name, low, high) if given is None else given
        if not low <= value <= high:
            raise ReplayError(f"{name} = {value}, outside [{low}, {high}]")
        return value

    def _start_budgets(self) -> None:
        for group in self.model.groups:
            high = group.restarts if self.free_start else 0
            given = self.choices.restarts_used.get(group.id)
            used = self._pick(f"restarts used[{group.id}]", given, 0, high)
            self.restarts_used[group.id] = self.taken.restarts_used[group.id] = used
        limit = self.model.surge_steps
        high = limit if self.free_start and limit is not None else 0
        used = self._pick("surge used", self.choices.surge_used, 0, high)
        self.surge_used = self.taken.surge_used = used

    def _start_cache(self, key: KeyClass) -> _ClassState:
        given = self.choices.start.get(key.id)
        low, high = 0, key.keys if key.ttl_steps > 1 else 0
        if not self.free_start and self.model.initial_cache == "cold":
            high = 0
        elif not self.free_start and key.every_key_every_step:
            low = high
        live = self._pick(f"start live[{key.id}]", given.live if given else None, low, high)
        slots = key.ttl_steps - 1
        schedule = given.expiry if given else self._start_schedule(key.id, live, slots)
        if len(schedule) > slots or any(n < 0 for n in schedule):
            raise ReplayError(f"{key.id}: expiry schedule longer than {slots} steps")
        total = sum(schedule)
        if total > live or (len(schedule) == slots and total != live):
            raise ReplayError(f"{key.id}: expiry schedule does not add up to {live}")
        high = live if self.model.in_flight_steps else 0
        given_flight = given.in_flight if given else None
        in_flight = self._pick(f"start in flight[{key.id}]", given_flight, 0, high)
        self.taken.start[key.id] = StartCache(live, tuple(schedule), in_flight)
        return _ClassState(live=live, end=live, start_expiry=tuple(schedule),
                           start_in_flight=in_flight)

    def _start_schedule(self, key_id: str, live: int, slots: int) -> tuple[int, ...]:
        schedule = []
        left = live
        for e in range(1, slots + 1):
            amount = left if e == slots else self.chooser(f"start expiry[{key_id}][{e}]", 0, left)
            schedule.append(amount)
            left -= amount
        return tuple(schedule)

    def run(self, steps: int) -> list[StepResult]:
        return [self.step(t) for t in range(steps)]

    def step(self, t: int) -> StepResult:
        restarted = self._restarts(t)
        out = self._outages(t)
        expired = self._expire(t, restarted)
        lookups = self._lookups(t)
        group_lookups = self._group_lookups(t, lookups)
        queries: dict[str, int] = {}
        misses: dict[str, int] = {}
        fills: dict[str, int] = {}
        failed: dict[str, int] = {}
        self.taken.misses.append({})
        self.taken.fills.append({})
        for key in self.model.key_classes:
            failing = bool(out & set(key.scopes))
            queries[key.id] = self._queries(t, key, group_lookups, misses)
            if self.model.kept(key):
                fills[key.id], misses[key.id] = self._misses(t, key, queries[key.id], failing)
            else:
                cap = self.model.miss_cap(key)
                misses[key.id] = queries[key.id] if cap is None else min(queries[key.id], cap)
            failed[key.id] = misses[key.id] if failing else 0
            original = queries[key.id] - self.followup_queries(key.id, t)
            self.failed[key.id][t] = failed[key.id]
            self.first_failures[key.id][t] = min(failed[key.id], original)
        self._fill(t, fills)
        upstream = self._upstream(t, lookups, misses, failed, out)
        self.upstream_history.append(upstream)
        violated = tuple(s.id for s in self.model.scopes if self.window(s.id, t) > s.limit)
        self.group_lookup_history.append(group_lookups)
        server_load = {limit.id: self.server_load(limit, t) for limit in self.model.server_limits}
        overloaded = tuple(
            limit.id for limit in self.model.server_limits if server_load[limit.id] > limit.limit
        )
        live = {k: s.live for k, s in self.states.items()}
        sent = {
            k.id: self.sends(k, k.scopes[0], t, misses, failed)
            for k in self.model.key_classes if k.scopes
        }
        return StepResult(
            t, lookups, group_lookups, restarted, out, live, expired, queries, misses, fills,
            failed, sent, upstream, violated, server_load, overloaded,
        )

    def server_load(self, limit: ServerLimit, t: int) -> int:
        """Client queries one replica of the limit's group may take in step ``t`` (the
        encoding's ``server_load``; before step 0, ``before_start``)."""
        total = 0
        for flow_id, delay, count in limit.client_queries:
            for earlier in range(t - delay, t + 1):
                total += count * (
                    self.group_lookup_history[earlier][(limit.group, flow_id)] if earlier >= 0
                    else before_start(self.model, limit.group, flow_id, self.free_start)
                )
        return total

    def window(self, scope_id: str, t: int) -> int:
        """Packets of ``scope_id`` in the window of its limit that ends with step ``t``."""
        first = max(0, t - self.model.scope(scope_id).window_steps + 1)
        return sum(self.upstream_history[i][scope_id] for i in range(first, t + 1))

    def _outages(self, t: int) -> frozenset[str]:
        given = self.choices.outages[t] if t < len(self.choices.outages) else None
        out = set()
        for scope in self.model.scopes:
            left = scope.outage_steps - self.outages_used[scope.id]
            flag = None if given is None else int(scope.id in given)
            if self._pick(f"outage[{scope.id}]@{t}", flag, 0, min(1, left)):
                out.add(scope.id)
                self.outages_used[scope.id] += 1
        self.taken.outages.append(frozenset(out))
        return frozenset(out)

    def _given(self, items: list[dict[str, int]], t: int, key: str) -> int | None:
        return items[t].get(key) if t < len(items) else None

    def _restarts(self, t: int) -> frozenset[str]:
        given = self.choices.restarts[t] if t < len(self.choices.restarts) else None
        chosen = set()
        for group in self.model.groups:
            left = group.restarts - self.restarts_used[group.id]
            flag = None if given is None else int(group.id in given)
            if self._pick(f"restart[{group.id}]@{t}", flag, 0, min(1, left)):
                chosen.add(group.id)
                self.restarts_used[group.id] += 1
        for key in self.model.key_classes:
            if key.id in self.states and key.group in chosen:
                state = self.states[key.id]
                state.last_restart = t
                state.start_valid = False
        self.taken.restarts.append(frozenset(chosen))
        return frozenset(chosen)

    def _expire(self, t: int, restarted: frozenset[str]) -> dict[str, int]:
        expired: dict[str, int] = {}
        for key in self.model.key_classes:
            if key.id in self.states:
                state = self.states[key.id]
                amount = self.expiring(key, t) if t > 0 else 0
                state.live = 0 if key.group in restarted else state.end - amount
                expired[key.id] = amount
        return expired

    def expiring(self, key: KeyClass, t: int) -> int:
        """Entries of ``key`` that expire at the start of step ``t``: the fills of step
        ``t - tau`` (or the start schedule), unless a restart came in between."""
        state = self.states[key.id]
        cohort = t - key.ttl_steps
        if cohort >= 0:
            valid = state.last_restart is None or state.last_restart <= cohort
            scheduled = state.fills.get(cohort, 0) if valid else 0
        else:
            expiry = state.start_expiry
            scheduled = expiry[t - 1] if state.start_valid and t - 1 < len(expiry) else 0
        return min(scheduled, state.end)

    def _lookups(self, t: int) -> dict[str, int]:
        limit = self.model.surge_steps
        may_surge = limit is None or self.surge_used < limit
        lookups: dict[str, int] = {}
        for flow in self.model.flows:
            given = self._given(self.choices.lookups, t, flow.id)
            high = flow.peak if may_surge else flow.base
            lookups[flow.id] = self._pick(f"lookups[{flow.id}]@{t}", given, flow.base, high)
        if any(lookups[f.id] > f.base for f in self.model.flows):
            self.surge_used += 1
        self.taken.lookups.append(dict(lookups))
        return lookups

    def _group_lookups(self, t: int, lookups: Mapping[str, int]) -> dict[tuple[str, str], int]:
        given_all = self.choices.group_lookups[t] if t < len(self.choices.group_lookups) else {}
        result: dict[tuple[str, str], int] = {}
        for group in self.model.groups:
            for flow in self.model.flows:
                low, high = group.lookup_bounds(flow.id, lookups[flow.id])
                given = given_all.get((group.id, flow.id))
                name = f"group_lookups[{group.id},{flow.id}]@{t}"
                result[(group.id, flow.id)] = self._pick(name, given, low, high)
        self.taken.group_lookups.append(dict(result))
        return result

    def _queries(
        self, t: int, key: KeyClass, group_lookups: Mapping[tuple[str, str], int],
        misses: Mapping[str, int],
    ) -> int:
        direct = sum(n * group_lookups[(key.group, f)] for f, n in key.demand)
        fed = sum(n * misses[source] for source, n in key.fed_by)
        return direct + fed + self.followup_queries(key.id, t)

    def followup_queries(self, key_id: str, t: int) -> int:
        """Queries that clients send to ``key_id`` at ``t`` after earlier failures.

        Only a failure of a client's own query starts a failure path; the path's
        later queries (``followups``) already hold what happens when they fail too.
        """
        return sum(
            n * self.first_failures[source].get(t - d, 0)
            for source, d, n in self.model.followups_into.get(key_id, ())
        )

    def _misses(self, t: int, key: KeyClass, queries: int, failing: bool) -> tuple[int, int]:
        """New cache entries and misses of a cached class in step ``t``."""
        low, high = self.fill_bounds(key, queries, failing)
        name = f"fills[{key.id}]@{t}"
        fills = self._pick(name, self._given(self.choices.fills, t, key.id), low, high)
        low, high = self.miss_bounds(key, queries, fills, failing, self.in_flight(key, t))
        given = self._given(self.choices.misses, t, key.id)
        misses = self._pick(f"misses[{key.id}]@{t}", given, low, high)
        self.taken.fills[t][key.id] = fills
        self.taken.misses[t][key.id] = misses
        return fills, misses

    def in_flight(self, key: KeyClass, t: int) -> int:
        """Keys filled in the last ``in_flight_steps`` steps, whose answers may still be
        on their way in step ``t`` (before step 0: the start's)."""
        state = self.states[key.id]
        steps = self.model.in_flight_steps
        recent = sum(state.fills.get(t - d, 0) for d in range(1, min(steps, t) + 1))
        return recent + (state.start_in_flight if t < steps else 0)

    def _required(self, key: KeyClass, queries: int) -> int:
        """Misses that must happen: keys queried in every step that are not cached."""
        required = key.keys if key.every_key_every_step else 0
        return max(0, min(required, queries) - self.states[key.id].live)

    def fill_bounds(self, key: KeyClass, queries: int, failing: bool) -> tuple[int, int]:
        """Bounds on the keys of a cached class that miss and are cached in this step
        (none while its upstream is out: a failure is not cached, A24, D7)."""
        if failing:
            return 0, 0
        uncached = key.keys - self.states[key.id].live
        return self._required(key, queries), min(queries, uncached)

    def miss_bounds(
        self, key: KeyClass, queries: int, fills: int, failing: bool = False, in_flight: int = 0
    ) -> tuple[int, int]:
        """Bounds on the misses of a kept class given its queries, its new entries and
        the keys whose answers may still be on their way (``in_flight``).

        Identical misses are not merged (D10): every query for a key whose answer is
        not yet cached is an exchange of its own, up to ``misses_per_fill`` per such
        key; while the upstream is out, every query for a key that is not cached.
        """
        if failing:
            uncached = key.keys - self.states[key.id].live
            return self._required(key, queries), queries if uncached > 0 else 0
        missing = fills + in_flight
        if key.misses_per_fill is None:
            return fills, queries if missing > 0 else 0
        return fills, min(queries, missing * key.misses_per_fill)

    def _fill(self, t: int, fills: Mapping[str, int]) -> None:
        for key_id, state in self.states.items():
            state.fills[t] = fills[key_id]
            state.end = state.live + fills[key_id]

    def _upstream(
        self, t: int, lookups: Mapping[str, int], misses: Mapping[str, int],
        failed: Mapping[str, int], out: frozenset[str],
    ) -> dict[str, int]:
        per_group: dict[tuple[str, str], int] = {}
        for key in self.model.key_classes:
            for scope_id in key.scopes:
                slot = (key.group, scope_id)
                per_group[slot] = per_group.get(slot, 0) + self.sends(key, scope_id, t, misses, failed)
        result = {}
        for scope in self.model.scopes:
            sent = sum(n * per_group.get((g, scope.id), 0) for g, n in scope.members) + (
                scope.probe_packets if scope.id in out else 0
            )
            if scope.lookup_packets:
                sent = min(sent, sum(n * lookups[f] for f, n in scope.lookup_packets))
            result[scope.id] = sent
        return result

    def sends(
        self, key: KeyClass, scope_id: str, t: int, misses: Mapping[str, int],
        failed: Mapping[str, int],
    ) -> int:
        """Packets one replica sends for ``key`` to ``scope_id`` in step ``t``."""
        packets = dict(key.upstream)[scope_id]
        answered = misses[key.id] - failed[key.id]
        total = packets * answered
        for delay, per_failure in key.failed_sends:
            earlier = failed[key.id] if delay == 0 else self.failed[key.id].get(t - delay, 0)
            total += per_failure * earlier
        return total


def simulate(
    model: FlowModel, choices: Choices, steps: int, *, free_start: bool = False
) -> list[StepResult]:
    """Run ``steps`` steps of fully given choices; ReplayError if one is out of bounds."""
    return Simulator(model, choices, free_start=free_start).run(steps)
