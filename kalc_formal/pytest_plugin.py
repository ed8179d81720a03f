"""pytest plugin (entry point ``pytest11``): assertions on clusters, a fixture that loads a
cluster folder once per session, and the options ``--kalc-horizon`` and ``--kalc-rlimit``.

It costs nothing when unused: the checker (and z3) is imported on the first assertion
or fixture call. The assertions work outside pytest too (they raise
:class:`PropertyViolated`, an ``AssertionError``); failures show the verdict and the
event chain, the traceback ends at the test's own line, and ``unknown`` fails unless
``allow_unknown=True``. ``soft=True`` turns a failure into a :class:`KalcAssertWarning`.

>>> from kalc_formal.pytest_plugin import assert_unreachable
>>> import kalc_formal
>>> assert_unreachable(kalc_formal.load("examples/small-cluster"), horizon=5).verdict.value
'proved'
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kalc_formal.errors import InvalidArgument, KalcError

if TYPE_CHECKING:
    from kalc_formal.api import CheckResult, Cluster, DiffResult, EnvArg

PROPERTY = "upstream-limit"
MAX_YAML_LINES = 120
"""Lines of a cluster's YAML a failure message shows at most (then the count)."""


class PropertyViolated(KalcError, AssertionError):
    """A kalc-formal assertion failed: the message holds the verdict and the event chain."""

    def __init__(self, message: str, result: CheckResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class KalcAssertWarning(UserWarning):
    """A failed assertion made with ``soft=True``."""


_sessions: list[dict[str, int | None]] = []
"""The defaults the command-line options give, for each pytest session running (a
session may run another one inside it, as pytester does), innermost last."""


def _default(name: str) -> int | None:
    return _sessions[-1].get(name) if _sessions else None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kalc-formal", "kalc-formal: DNS upstream rate-limit checks")
    group.addoption(
        "--kalc-horizon", type=_whole("--kalc-horizon", 10_000), metavar="N", default=None,
        help="steps each kalc-formal assertion searches, unless it says (1 to 10,000)",
    )
    group.addoption(
        "--kalc-rlimit", type=_whole("--kalc-rlimit", 10**12), metavar="N", default=None,
        help="Z3's resource budget per query for kalc-formal assertions, unless they say",
    )


def _whole(option: str, most: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise pytest.UsageError(f"{option}: not a whole number: {text[:40]!r}") from None
        if not 1 <= value <= most:
            raise pytest.UsageError(f"{option}: from 1 to {most:,}, not {value:,}")
        return value

    return parse


def pytest_configure(config: pytest.Config) -> None:
    _sessions.append({
        "horizon": config.getoption("kalc_horizon", None),
        "rlimit": config.getoption("kalc_rlimit", None),
    })


def pytest_unconfigure(config: pytest.Config) -> None:
    if _sessions:
        _sessions.pop()


def pytest_report_header(config: pytest.Config) -> str | None:
    given = {k: v for k, v in (_sessions[-1] if _sessions else {}).items() if v is not None}
    if not given:
        return None
    return "kalc-formal: " + ", ".join(f"{k}={v:,}" for k, v in given.items())


@pytest.fixture(scope="session")
def kalc_cluster() -> Callable[..., Cluster]:
    """A factory: ``kalc_cluster(PATH, ..., env=None, coredns_version=None)`` reads a
    cluster once per session (by resolved paths and arguments) and returns the same
    :class:`kalc_formal.Cluster` on every later call."""
    loaded: dict[str, Cluster] = {}

    def load_once(
        *paths: str | os.PathLike[str], env: EnvArg = None, coredns_version: str | None = None,
    ) -> Cluster:
        from kalc_formal.api import load

        key = json.dumps([
            [str(Path(p).resolve()) for p in paths],
            _env_key(env), coredns_version,
        ])
        if key not in loaded:
            loaded[key] = load(*paths, env=env, coredns_version=coredns_version)
        return loaded[key]

    return load_once


def _env_key(env: object) -> Any:
    if isinstance(env, str | os.PathLike):
        return str(Path(env).resolve())
    if isinstance(env, Mapping):
        return json.dumps(env, sort_keys=True, default=repr)
    return None if env is None else repr(env)


def assert_unreachable(
    cluster: Cluster, *, property: str = PROPERTY, env: EnvArg = None,
    horizon: int | None = None, rlimit: int | None = None, budget: int | None = None,
    soft: bool = False, allow_unknown: bool = False, require_proof: bool = False,
) -> CheckResult:
    """Fail unless ``property`` (upstream-limit) is proved, or holds within the horizon
    (``safe-bounded``; with ``require_proof=True`` only a proof passes).

    ``env`` replaces the cluster's kalc.yaml (a mapping or a path); ``horizon`` and
    ``rlimit`` default to ``--kalc-horizon`` and ``--kalc-rlimit``, then to the
    check's own. Returns the :class:`kalc_formal.CheckResult`.
    """
    __tracebackhide__ = True
    result = _check(cluster, property, env, horizon, rlimit, budget)
    _judge(result, cluster, f"{property} is reachable", soft=soft, allow_unknown=allow_unknown,
           require_proof=require_proof)
    return result


def assert_capacity(
    cluster: Cluster, *, surge: float | None = 1.5, rate: float | None = None,
    pods: float | None = None, names: float | None = None, namespaces: int | None = None,
    property: str = PROPERTY, env: EnvArg = None, horizon: int | None = None,
    rlimit: int | None = None, budget: int | None = None, soft: bool = False,
    allow_unknown: bool = False, require_proof: bool = False,
) -> CheckResult:
    """Fail unless the cluster holds when grown as ``kalc-formal capacity`` grows it:
    ``surge`` times every lookup's peak rate, ``rate`` times the baseline and peak rates,
    ``pods`` times the client replicas, ``names`` times the external names, and
    ``namespaces`` client namespaces (None leaves a parameter as read).

    The cluster grown by all of them at once is checked (one check); on failure, the
    edge along each required parameter (the others at their required values) is
    searched with :meth:`kalc_formal.Cluster.capacity`, and the message names, for each,
    the value required and the edge found. The overrides go through kalc.yaml's lookups
    and names and the client workloads (:meth:`kalc_formal.Cluster.with_overrides`); one
    the model cannot express, such as a namespace count when kalc.yaml's lookups select
    namespaces by name, raises InvalidArgument rather than checking something else.
    """
    __tracebackhide__ = True
    base = cluster.with_env(env) if env is not None else cluster
    asked = {"surge": surge, "rate": rate, "pods": pods, "names": names, "namespaces": namespaces}
    required: dict[str, Any] = {name: value for name, value in asked.items() if value is not None}
    grown = base.with_overrides(**required)
    result = _check(grown, property, None, horizon, rlimit, budget)
    searched = not _passes(result, allow_unknown=allow_unknown, require_proof=require_proof) \
        and result.verdict.value != "unknown"
    _judge(result, grown, f"no capacity for {', '.join(grown.overrides) or 'the cluster as read'}",
           soft=soft, allow_unknown=allow_unknown, require_proof=require_proof,
           detail=_edges_text(base, required, property, horizon, rlimit, budget) if searched else "")
    return result


def _edges_text(
    cluster: Cluster, required: Mapping[str, Any], property: str, horizon: int | None,
    rlimit: int | None, budget: int | None,
) -> str:
    """For each required parameter, the value required and the edge of the proved
    region along it, the other parameters at their required values."""
    lines = []
    width = max((len(name) for name in required), default=0)
    for name, value in required.items():
        others = {other: v for other, v in required.items() if other != name}
        found = cluster.with_overrides(**others).capacity(
            [name], property=property,
            horizon=horizon if horizon is not None else _default("horizon"),
            rlimit=rlimit if rlimit is not None else _default("rlimit"), budget=budget,
        ).edge(name)
        shown = f"{round(value):,}" if name == "namespaces" else f"x{value:g}"
        fixed = f", with {', '.join(f'{k}={v:g}' for k, v in others.items())}" if others else ""
        lines.append(f"  {name:<{width}}  required {shown}; {found.text}")
        lines.append(f"  {'':<{width}}  ({len(found.checks)} checks{fixed})")
    head = "The edges found (each required parameter moved alone, the others as required):"
    return head + "\n" + "\n".join(lines) + "\n\n" if lines else ""


def assert_change_safe(
    before: Cluster, after: Cluster, *, property: str = PROPERTY, env: EnvArg = None,
    horizon: int | None = None, rlimit: int | None = None, budget: int | None = None,
    soft: bool = False, allow_unknown: bool = False,
) -> DiffResult:
    """Fail when the change from ``before`` to ``after`` weakens the verdict, as
    :func:`kalc_formal.diff` (``kalc-formal diff``) compares them.

    Fails on a regression (``after`` unsafe, ``before`` not); when ``before`` was
    proved and ``after`` is only safe within the horizon; when both are unsafe and
    ``after`` breaks the limit with a smaller surge (both confirmed smallest); and when
    either side is unknown (unless ``allow_unknown``). The message lists what changed
    that the model reads. Returns the :class:`kalc_formal.DiffResult`.
    """
    __tracebackhide__ = True
    from kalc_formal.api import diff

    change = diff(before, after, property=property, env=env,
                  horizon=horizon if horizon is not None else _default("horizon"),
                  rlimit=rlimit if rlimit is not None else _default("rlimit"), budget=budget)
    problem = _regression(change.before, change.after, allow_unknown)
    if problem:
        message = (
            f"kalc-formal: the change makes {property} weaker: {problem}\n"
            f"  before: {_line(change.before)}\n  after:  {_line(change.after)}\n\n"
            f"{_changes_text(change)}"
            f"After the change ({_name(after)}):\n{change.after.summary()}{_yaml_text(after)}"
        )
        _fail(message, change.after, soft, stacklevel=3)
    return change


MAX_CHANGES_SHOWN = 10


def _changes_text(change: DiffResult) -> str:
    seen = [c for c in change.changes if c.seen]
    if not seen:
        return ""
    lines = [f"What changed that the model reads ({len(seen)}):"]
    for item in seen[:MAX_CHANGES_SHOWN]:
        where = item.after_at or item.before_at
        lines.append(f"  {item.key}: {item.before or '(absent)'} -> {item.after or '(absent)'}"
                     + (f"  at {where}" if where else ""))
    if len(seen) > MAX_CHANGES_SHOWN:
        lines.append(f"  ... and {len(seen) - MAX_CHANGES_SHOWN} more")
    return "\n".join(lines) + "\n\n"


def _regression(old: CheckResult, new: CheckResult, allow_unknown: bool) -> str:
    """Why the change from ``old`` to ``new`` weakens the verdict ('' when it does not)."""
    verdicts = (old.verdict.value, new.verdict.value)
    if verdicts[1] == "unsafe" and verdicts[0] != "unsafe":
        return f"{verdicts[0]} before, unsafe after"
    if "unknown" in verdicts:
        if allow_unknown:
            return ""
        side, result = ("after", new) if verdicts[1] == "unknown" else ("before", old)
        return (f"the verdict {side} the change is unknown ({result.reason}); pass "
                "allow_unknown=True to accept it")
    if old.verdict.value == "proved" and new.verdict.value != "proved":
        return f"proved before, only {verdicts[1]} after"
    shrinks = (
        verdicts == ("unsafe", "unsafe") and old.surge_minimal and new.surge_minimal
        and old.surge is not None and new.surge is not None and new.surge < old.surge
    )
    if shrinks:
        return (f"unsafe before and after, and the smallest surge that breaks the limit "
                f"falls from {old.surge:,} to {new.surge:,} lookups above baseline")
    return ""


def _check(
    cluster: Cluster, property: str, env: EnvArg, horizon: int | None, rlimit: int | None,
    budget: int | None,
) -> CheckResult:
    __tracebackhide__ = True
    from kalc_formal.api import Cluster, check

    if not isinstance(cluster, Cluster):
        raise InvalidArgument(
            "a Cluster from kalc_formal.load, kalc_formal.load_objects or the kalc_cluster "
            f"fixture, not {type(cluster).__name__}"
        )
    return check(
        cluster, property=property, env=env,
        horizon=horizon if horizon is not None else _default("horizon"),
        rlimit=rlimit if rlimit is not None else _default("rlimit"), budget=budget,
    )


def _passes(result: CheckResult, *, allow_unknown: bool, require_proof: bool) -> bool:
    verdict = result.verdict.value
    return verdict == "proved" or (verdict == "safe-bounded" and not require_proof) or (
        verdict == "unknown" and allow_unknown)


def _judge(
    result: CheckResult, cluster: Cluster, failure: str, *, soft: bool, allow_unknown: bool,
    require_proof: bool, detail: str = "",
) -> None:
    __tracebackhide__ = True
    if _passes(result, allow_unknown=allow_unknown, require_proof=require_proof):
        return
    verdict = result.verdict.value
    if verdict == "unknown":
        headline = (f"kalc-formal: {result.properties[0].property}: the verdict is unknown, "
                    "which fails unless allow_unknown=True")
    elif verdict == "safe-bounded":
        headline = f"kalc-formal: no proof (require_proof=True): {failure} is not excluded"
    else:
        headline = f"kalc-formal: {failure}"
    message = (f"{headline}\n  in {_name(cluster)}\n\n{detail}{result.summary()}"
               f"{_yaml_text(cluster)}")
    _fail(message, result, soft, stacklevel=4)


def _fail(message: str, result: CheckResult, soft: bool, *, stacklevel: int) -> None:
    """Raise, or with ``soft`` warn at the caller's line ``stacklevel`` frames up."""
    __tracebackhide__ = True
    if soft:
        warnings.warn(KalcAssertWarning(message), stacklevel=stacklevel)
        return
    raise PropertyViolated(message, result)


def _line(result: CheckResult) -> str:
    return result.properties[0].text.removeprefix("verdict: ")


def _name(cluster: Cluster) -> str:
    shown = ", ".join(cluster.sources[:3]) + (", ..." if len(cluster.sources) > 3 else "")
    extra = f" with {', '.join(cluster.overrides)}" if cluster.overrides else ""
    return f"{shown} (CoreDNS {cluster.coredns_version}, {len(cluster.namespaces):,} " \
        f"client namespace(s)){extra}"


def _yaml_text(cluster: Cluster) -> str:
    """The objects of a cluster read from memory, as YAML, cut at MAX_YAML_LINES."""
    if cluster.yaml is None:
        return ""
    lines = cluster.yaml.splitlines()
    shown = "\n".join(lines[:MAX_YAML_LINES])
    more = (f"\n... ({len(lines) - MAX_YAML_LINES:,} more lines)"
            if len(lines) > MAX_YAML_LINES else "")
    return f"\nThe cluster, as YAML:\n{shown}{more}\n"


__all__ = [
    "KalcAssertWarning",
    "PropertyViolated",
    "assert_capacity",
    "assert_change_safe",
    "assert_unreachable",
    "kalc_cluster",
]
