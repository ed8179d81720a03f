"""The check pipeline: analyse what was read, and decide.

configs -> read (config.reading) -> static analysis -> solve.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kalc_formal.analysis.flows import analyse
from kalc_formal.analysis.result import Analysis
from kalc_formal.config.envspec import EnvSpec
from kalc_formal.config.reading import (
    NO_COREFILE,
    Inputs,
    dns_workloads,
    kubernetes_zone,
)
from kalc_formal.config.settings import CheckSettings, decide_settings
from kalc_formal.coredns.plans import setup_from_config
from kalc_formal.coredns.server import ServerSetup
from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument
from kalc_formal.model.flowmodel import Property
from kalc_formal.model.solve import Outcome, ProgressCallback, Verdict, decide


def analyse_inputs(inputs: Inputs, *, horizon: int | None = None, env: EnvSpec | None = None) -> Analysis:
    """The static analysis of what was read; ``env`` replaces kalc.yaml's spec."""
    config = inputs.config
    if config is None:
        raise ConfigError(NO_COREFILE)

    def coredns_plan(settings: CheckSettings) -> ServerSetup:
        return setup_from_config(
            config, node_nameservers=settings.node_nameservers,
            node_search=settings.node_search,
        )

    def nodelocal_plan(settings: CheckSettings) -> ServerSetup:
        assert inputs.nodelocal is not None
        return setup_from_config(
            inputs.nodelocal, node_nameservers=settings.node_nameservers,
            node_search=settings.node_search,
        )

    analysis = analyse(
        inputs.cluster, env or inputs.env, coredns_plan,
        nodelocal_plan if inputs.nodelocal is not None else None,
        version=str(inputs.version), version_origin=inputs.version_origin, horizon=horizon,
        kubernetes_zone=lambda: kubernetes_zone(config), excluded=dns_workloads(inputs.cluster),
    )
    if inputs.env_warnings:
        analysis = dataclasses.replace(analysis, warnings=inputs.env_warnings + analysis.warnings)
    return analysis


def input_settings(
    inputs: Inputs, *, horizon: int | None = None, env: EnvSpec | None = None
) -> CheckSettings:
    """The settings ``analyse_inputs`` decides for the same arguments (a fresh Recorder)."""
    return decide_settings(
        inputs.cluster, env or inputs.env, version=str(inputs.version),
        version_origin=inputs.version_origin, horizon=horizon,
        kubernetes_zone=lambda: kubernetes_zone(inputs.config) if inputs.config else None,
    )


NO_CLIENTS = (
    "no client pods to check: no workload in the input is selected by kalc.yaml's lookups "
    "(give the workloads' manifests, or fix the lookups' pod selectors)"
)


def check(
    analysis: Analysis, *, rlimit: int | None = None, budget: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Outcome:
    """The verdict; unknown when a query of the model meets an unmodelled plugin.

    A cluster with no client traffic is bad input, not a proof.
    """
    if not analysis.model.flows:
        if analysis.idle_lookups:
            raise ConfigErrors(
                ConfigError(f"{NO_CLIENTS}: {text}", span) for text, span in analysis.idle_lookups
            )
        raise ConfigError(NO_CLIENTS)
    if analysis.nothing_checked:
        raise ConfigError(analysis.nothing_checked, analysis.nothing_checked_at)
    if analysis.unmodelled:
        first = analysis.unmodelled[0]
        where = f" ({first.span})" if first.span else ""
        return Outcome(
            Verdict.UNKNOWN, analysis.horizon,
            reason=f"{first.reason}{where}; {len(analysis.unmodelled)} such place(s) in all",
        )
    if rlimit is None:
        return decide(analysis.model, analysis.horizon, budget=budget, on_progress=on_progress)
    return decide(analysis.model, analysis.horizon, rlimit=rlimit, budget=budget,
                  on_progress=on_progress)


SERVER_LOAD_WHILE_UPSTREAM_HOLDS = (
    "server-load holds only in runs where upstream-limit holds: the model does not count "
    "the queries clients re-send once the upstream drops theirs"
)


def check_property(
    analysis: Analysis, prop: Property, *, rlimit: int | None = None, budget: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Outcome:
    """The verdict of one property: ``check`` of the analysis's model for ``prop``."""
    if prop == "server-load" and not analysis.model.server_limits:
        raise InvalidArgument(
            "server-load needs a capacity in kalc.yaml (coredns.capacity_qps or "
            "nodelocal.capacity_qps) for a server the clients ask"
        )
    if prop != analysis.model.property:
        model = dataclasses.replace(analysis.model, property=prop)
        analysis = dataclasses.replace(analysis, model=model)
    return check(analysis, rlimit=rlimit, budget=budget, on_progress=on_progress)


def check_properties(
    analysis: Analysis, *, rlimit: int | None = None, budget: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[Property, Outcome]:
    """The verdict of each property the analysis has limits for: upstream-limit always,
    server-load when kalc.yaml gives a server's capacity."""
    upstream = check_property(analysis, "upstream-limit", rlimit=rlimit, budget=budget,
                              on_progress=on_progress)
    outcomes: dict[Property, Outcome] = {"upstream-limit": upstream}
    if analysis.model.server_limits:
        load = check_property(analysis, "server-load", rlimit=rlimit, budget=budget,
                              on_progress=on_progress)
        holds = (Verdict.PROVED, Verdict.SAFE_BOUNDED)
        if load.verdict in holds and upstream.verdict not in holds:
            reason = "; ".join(r for r in (load.reason, SERVER_LOAD_WHILE_UPSTREAM_HOLDS) if r)
            load = dataclasses.replace(load, reason=reason)
        outcomes["server-load"] = load
    return outcomes


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """How a check reads and decides: shared by the pipelines that run many checks."""

    env_path: str | None = None
    version: str | None = None
    horizon: int | None = None
    rlimit: int | None = None
    budget: int | None = None
