"""Re-run the fast subset of the real-CoreDNS experiments against the binaries in
../shared/coredns-real and compare with the recording (skipped when they are absent).
The binaries are decompressed into a cache directory outside the repository."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "real_coredns"))

from experiments import EXPERIMENTS, expand, run  # noqa: E402
from replay import forward_figures, observed_per_query, predict  # noqa: E402
from server import SHARED, shared_binaries  # noqa: E402

OBSERVATIONS = HERE / "data" / "coredns_observations"

pytestmark = pytest.mark.skipif(
    shared_binaries() is None, reason=f"the real CoreDNS binaries are not at {SHARED}/bin"
)

LIVE = [
    pytest.param(e, release, id=f"{e.id}-{release}")
    for e in EXPERIMENTS for release in e.live_releases
]


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("coredns-binaries")


def _recorded(experiment_id: str, release: str) -> dict[str, Any]:
    document = json.loads((OBSERVATIONS / f"{experiment_id}.json").read_text())
    return expand(document, release)


def _live(experiment, release, binaries) -> dict[str, Any]:
    document = json.loads((OBSERVATIONS / f"{experiment.id}.json").read_text())
    return expand(document, release, run(experiment, release, binaries))


@pytest.mark.parametrize(("experiment", "release"), [p for p in LIVE if p.values[0].sequential])
def test_live_run_sends_what_was_recorded(experiment, release, binaries):
    recorded = _recorded(experiment.id, release)
    live = _live(experiment, release, binaries)
    # policy random picks an upstream at random: compare names only, not which upstream.
    keep_upstream = "random" not in experiment.id
    for index, (was, now) in enumerate(zip(observed_per_query(recorded), observed_per_query(live), strict=True)):
        pick = (lambda x: x) if keep_upstream else (lambda x: x[1:])
        assert Counter(map(pick, now)) == Counter(map(pick, was)), f"query {index}"
    for was, now in zip(recorded["replies"], live["replies"], strict=True):
        assert (now["reply"] or {}).get("rcode") == (was["reply"] or {}).get("rcode")
    # and the model still predicts the live run, query by query
    for index, (model, seen) in enumerate(zip(predict(live), observed_per_query(live), strict=True)):
        assert len(model.exchanges) == len(seen), f"query {index}: model {model.exchanges}, live {seen}"


@pytest.mark.parametrize(("experiment", "release"), [p for p in LIVE if not p.values[0].sequential])
def test_live_silent_upstream_matches_the_recording(experiment, release, binaries):
    recorded = forward_figures(_recorded(experiment.id, release))
    live = forward_figures(_live(experiment, release, binaries))
    assert recorded["sends"][0] == pytest.approx(live["sends"][0], abs=0.1)
    # When forward marks the upstream down depends on where its probes fall: one
    # query's send count may differ at the boundary.
    differing = [i for i in recorded["sends"] if len(recorded["sends"][i]) != len(live["sends"][i])]
    assert len(differing) <= 1, differing
    # Scheduling on a loaded machine: SERVFAIL times within 0.15 s.
    mismatched = [i for i, (a, b) in enumerate(zip(recorded["servfail"], live["servfail"], strict=True))
                  if a is None or b is None or abs(a - b) > 0.15]
    assert len(mismatched) <= 1, mismatched
    assert abs(len(recorded["probes"]) - len(live["probes"])) <= 1
