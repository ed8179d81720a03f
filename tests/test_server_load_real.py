"""server-load (P2) held to the real CoreDNS server: the client queries one lookup sends
(``FlowInfo.client_queries``) and when each may arrive (``FlowInfo.client_query_waits``,
the delays of ``ServerLimit.client_queries``) against what a real resolver's lookup
sends to real CoreDNS with the incident's Corefile (tests/real_coredns/client_load.py,
recorded in tests/data/server_load_observations/client_queries.json; re-record with
``python tests/real_coredns/client_load.py record``).

The recorded half runs everywhere; the live half re-measures glibc on 1.11.1 and 1.14.7
where the binaries, root and ``unshare -mn`` are available, and skips with the reason
otherwise.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kalc_formal.analysis.result import FlowInfo
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import analyse_inputs
from kalc_formal.model.flowmodel import ServerLimit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "real_coredns"))

import client_load  # noqa: E402
from server import SHARED, shared_binaries  # noqa: E402

EXAMPLES = HERE.parent / "examples"
RECORD = json.loads(client_load.RECORD.read_text())
SAME_ROUND = 0.02
"""A and AAAA of the first round reach the server within this many seconds of each other
(the model sends them at once; measured: at most 4 ms apart)."""
LOCAL_ANSWERS = 0.1
"""The server's own answers of one lookup, all together, take less than this: a round
that waits only for them arrives this soon after the upstream rounds it waits for (the
model allows a whole step, the note ``local answers``)."""


@functools.cache
def _model(autopath: bool, libc: str, delay_ms: int) -> tuple[FlowInfo, ServerLimit, float]:
    """The incident example (autopath on or off) with the measured pod's resolver and the
    measured upstream reply time; its one flow, its CoreDNS server limit, its step."""
    folder = Path(_scratch()) / f"{'on' if autopath else 'off'}-{libc}-{delay_ms}"
    if not folder.exists():
        shutil.copytree(EXAMPLES / ("datadog-autopath" if autopath else "datadog-autopath-off"), folder)
        spec = folder / "kalc.yaml"
        text = spec.read_text()
        text = text.replace("  - pods: {}\n", f"  - pods: {{}}\n    libc: {libc}\n", 1)
        # reply_ms must be > 0: a 0 ms upstream is modelled as 1 ms
        text = text.replace("check:\n", f"check:\n  arrivals: spread\n  reply_ms: {max(delay_ms, 1)}\n", 1)
        spec.write_text(text)
    analysis = analyse_inputs(read_inputs([str(folder)]))
    (flow,) = analysis.flows.values()
    (limit,) = analysis.model.server_limits
    assert flow.libc == libc
    assert flow.server == "coredns"
    return flow, limit, float(analysis.step_seconds)


@functools.lru_cache(maxsize=1)
def _scratch() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="kf-server-load-real-")


def _general(qname: str) -> str:
    """The candidate with the pod's namespace replaced by ``<ns>``, so the measured pod
    (namespace ns1) and the model's representative pod compare."""
    prefix = client_load.NAME + "."
    rest = qname[len(prefix):] if qname.startswith(prefix) else qname
    if re.fullmatch(r"[^.]+\.svc\.cluster\.local\.", rest):
        return prefix + "<ns>.svc.cluster.local."
    return qname


def _model_queries(flow: FlowInfo) -> list[tuple[str, str, tuple[int, int]]]:
    queries = []
    for text, waits in zip(flow.client_queries, flow.client_query_waits, strict=True):
        qname, qtype = text.split()
        queries.append((_general(qname), qtype, waits))
    return queries


def disagreements(run: dict[str, Any]) -> list[str]:
    """How one measured lookup contradicts the model (empty when it agrees)."""
    return disagreements_with(run, *_model(run["autopath"], run["libc"], run["delay_ms"]))


def disagreements_with(run: dict[str, Any], flow: FlowInfo, limit: ServerLimit, step: float) -> list[str]:
    """How one measured lookup contradicts the flow's client queries and their waits and
    the server limit's delays (empty when it agrees)."""
    delay = run["delay_ms"] / 1000
    label = f"{run['release']} autopath {'on' if run['autopath'] else 'off'} {run['libc']} {run['delay_ms']} ms"
    problems: list[str] = []
    if run["outcome"]["rc"] != 0:
        problems.append(f"{label}: the lookup failed: {run['outcome']}")
    measured = [(_general(q[1]), q[2]) for q in run["queries"]]
    logged = [(_general(q[0]), q[1]) for q in run["logged"]]
    if Counter(logged) != Counter(measured):
        problems.append(f"{label}: the server logged {logged}, the wire carried {measured}")
    model = _model_queries(flow)
    if Counter(measured) != Counter((q, t) for q, t, _ in model):
        problems.append(f"{label}: {len(measured)} client queries {measured}, the model "
                        f"{len(model)} {[(q, t) for q, t, _ in model]}")
        return problems
    if list(dict.fromkeys(q for q, _ in measured)) != list(dict.fromkeys(q for q, _, _ in model)):
        problems.append(f"{label}: candidates in another order than the model's")
    waits = {(q, t): w for q, t, w in model}
    start = run["queries"][0][0]
    # the model sends the first round's A and AAAA at once: the lookup's instant is taken
    # as the arrival of the last of them (SAME_ROUND bounds their spread)
    instant = max(at for at, qname, qtype, *_ in run["queries"] if waits[(_general(qname), qtype)][0] == 0)
    needed_steps = []
    for at, qname, qtype, *_ in run["queries"]:
        rounds, upstream_rounds = waits[(_general(qname), qtype)]
        late = at - start
        if rounds == 0 and late > SAME_ROUND:
            problems.append(f"{label}: {qname} {qtype} arrives {late:.4f} s after the lookup's first "
                            "query; the model sends it as the lookup starts")
        if late > upstream_rounds * delay + LOCAL_ANSWERS:
            problems.append(f"{label}: {qname} {qtype} arrives {late:.4f} s after the lookup's first "
                            f"query; the model lets it wait for {upstream_rounds} upstream replies of "
                            f"{delay:g} s and the server's own answers")
        if upstream_rounds and late < upstream_rounds * delay:
            problems.append(f"{label}: {qname} {qtype} arrives {late:.4f} s after the first query, "
                            f"before the {upstream_rounds} upstream replies the model has it wait for")
        # a lookup that starts just before a step boundary: its query lands this many steps later
        needed_steps.append(max(0, math.ceil((at - instant) / step - 1e-9)))
    allowed_steps = sorted(d for flow_id, d, n in limit.client_queries if flow_id == flow.id for _ in range(n))
    if any(need > allowed for need, allowed in zip(sorted(needed_steps), allowed_steps, strict=True)):
        problems.append(f"{label}: queries land up to {sorted(needed_steps)} steps after their lookup's "
                        f"step; the model counts them {allowed_steps} steps after")
    return problems


def _runs(**where: Any) -> list[dict[str, Any]]:
    return [r for r in RECORD["runs"] if all(r[k] == v for k, v in where.items())]


MUSL_RETRY_SECONDS = 2.5
"""musl re-sends a query that has no reply after timeout / attempts = 5 s / 2 (its
defaults; the kubelet's resolv.conf sets only ndots)."""


def _outlasts_musl_retry(run: dict[str, Any]) -> bool:
    """A musl lookup whose answer takes longer than musl's retry interval: with autopath the
    server answers after two upstream replies (``<name>.ec2.internal.``, then ``<name>.``)."""
    rounds = 2 if run["autopath"] else 1
    return bool(run["libc"] == "musl" and rounds * run["delay_ms"] / 1000 > MUSL_RETRY_SECONDS)


def test_the_record_holds_every_configuration() -> None:
    measured = {(r["release"], r["autopath"], r["delay_ms"], r["libc"]) for r in RECORD["runs"]}
    assert {(rel, ap, d, lib) for rel in ("1.11.1", "1.14.7") for ap in (True, False)
            for d in client_load.DELAYS_MS for lib in ("glibc",)} <= measured
    assert min(client_load.DELAYS_MS) == 0
    assert max(client_load.DELAYS_MS) >= 300


@pytest.mark.parametrize("autopath", [True, False], ids=["autopath-on", "autopath-off"])
def test_every_recorded_lookup_agrees_with_the_model(autopath: bool) -> None:
    runs = [run for run in _runs(autopath=autopath) if not _outlasts_musl_retry(run)]
    assert runs
    problems = [p for run in runs for p in disagreements(run)]
    assert not problems, "\n".join(problems)


def test_a_musl_lookup_slower_than_its_retry_interval_is_not_claimed_by_the_model() -> None:
    """Measured: when the walk's two upstream replies take longer than musl's 2.5 s retry
    interval (1.5 s each, within forward's 2 s read timeout), musl re-sends both queries
    at 2.5 s and each re-send starts the walk again: 4 client queries arrive (all
    releases), where a lookup that is not re-sent brings 2. The model does not count
    re-sends while nothing fails, so it must say it does not cover these runs."""
    runs = [run for run in RECORD["runs"] if _outlasts_musl_retry(run)]
    assert runs
    assert all(len(run["queries"]) == 4 for run in runs)
    for run in runs:
        unmodelled = _unmodelled(run["autopath"], run["libc"], run["delay_ms"])
        assert any(u.plugin == "client re-sends" for u in unmodelled), run["release"]
    covered = [run for run in RECORD["runs"] if not _outlasts_musl_retry(run)]
    assert not any(
        u.plugin == "client re-sends"
        for run in covered for u in _unmodelled(run["autopath"], run["libc"], run["delay_ms"])
    )


@functools.cache
def _unmodelled(autopath: bool, libc: str, delay_ms: int) -> tuple[Any, ...]:
    _model(autopath, libc, delay_ms)
    folder = Path(_scratch()) / f"{'on' if autopath else 'off'}-{libc}-{delay_ms}"
    return analyse_inputs(read_inputs([str(folder)])).unmodelled


def test_the_figures_the_model_rests_on() -> None:
    """The recorded figures themselves: 2 client queries with autopath, 10 without; the
    bare name's pair sent only after the upstream's reply to the ec2.internal pair."""
    for run in RECORD["runs"]:
        if _outlasts_musl_retry(run):
            # the first pair at once, both re-sent MUSL_RETRY_SECONDS later
            late = sorted(q[0] - run["queries"][0][0] for q in run["queries"])
            assert len(late) == 4
            assert late[1] < SAME_ROUND
            assert MUSL_RETRY_SECONDS <= late[2] <= late[3] < MUSL_RETRY_SECONDS + LOCAL_ANSWERS
        else:
            assert len(run["queries"]) == (2 if run["autopath"] else 10), run
    for run in _runs(autopath=False, delay_ms=300):
        start = run["queries"][0][0]
        bare = [q[0] - start for q in run["queries"] if q[1] == client_load.NAME + "."]
        others = [q[0] - start for q in run["queries"] if q[1] != client_load.NAME + "."]
        assert len(bare) == 2
        assert min(bare) >= 0.3
        assert max(bare) < 0.3 + LOCAL_ANSWERS
        assert max(others) < LOCAL_ANSWERS


def test_a_model_that_sent_the_bare_name_at_once_would_be_caught() -> None:
    """The check is not vacuous: with the bare name's pair waiting for no upstream reply,
    the 300 ms runs contradict it."""
    run = _runs(autopath=False, delay_ms=300, libc="glibc")[0]
    flow, limit, step = _model(False, "glibc", 300)
    eager = dataclasses.replace(flow, client_query_waits=tuple((r, 0) for r, _ in flow.client_query_waits))
    assert not disagreements_with(run, flow, limit, step)
    problems = disagreements_with(run, eager, limit, step)
    assert any("upstream replies of 0.3 s" in p for p in problems), problems


# ---- live ----------------------------------------------------------------------------------


def _live_missing() -> list[str]:
    missing = [tool for tool in ("unshare", "mount", "ip", "gcc") if shutil.which(tool) is None]
    if shared_binaries() is None:
        missing.append(f"the real CoreDNS binaries at {SHARED}/bin")
    import os

    if os.geteuid() != 0:
        missing.append("root (for unshare -mn)")
    if not missing:
        check = subprocess.run(["unshare", "-mn", "true"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            missing.append(f"unshare -mn ({check.stderr.strip()})")
    return missing


@pytest.fixture(scope="module")
def glibc_probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = _live_missing()
    if missing:
        pytest.skip(f"the live client-load measurement needs: {', '.join(missing)}")
    directory = tmp_path_factory.mktemp("probe")
    subprocess.run(["gcc", "-O1", "-o", str(directory / "probe-glibc"),
                    str(HERE / "real_resolvers" / "probe.c")], check=True)
    return directory


@pytest.mark.parametrize("release", ["1.11.1", "1.14.7"])
@pytest.mark.parametrize("autopath", [True, False], ids=["autopath-on", "autopath-off"])
def test_live_lookup_agrees_with_the_model_and_the_record(
    glibc_probe: Path, tmp_path_factory: pytest.TempPathFactory, release: str, autopath: bool
) -> None:
    cache = tmp_path_factory.getbasetemp() / "coredns-binaries"
    cache.mkdir(exist_ok=True)
    result = client_load.lookup(release, autopath, 300, "glibc", glibc_probe, cache)
    run = {"release": release, "autopath": autopath, "delay_ms": 300, "libc": "glibc", **result}
    problems = disagreements(run)
    assert not problems, "\n".join(problems)
    (recorded, *_) = _runs(release=release, autopath=autopath, delay_ms=300, libc="glibc")
    assert Counter((q[1], q[2]) for q in run["queries"]) == Counter((q[1], q[2]) for q in recorded["queries"])
