"""End to end on real CoreDNS (benchmarks/real_coredns_e2e.py): a small cluster that
`check` proves, its busiest replica's peak load driven into the real server with
adversarial timing. Skipped when ../shared/coredns-real is absent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "real_coredns"))

from server import SHARED, shared_binaries  # noqa: E402

from benchmarks.real_coredns_e2e import broken, measure, measure_unsafe  # noqa: E402

pytestmark = pytest.mark.skipif(
    shared_binaries() is None, reason=f"the real CoreDNS binaries are not at {SHARED}/bin"
)


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("coredns-binaries")


def test_the_harness_drives_the_proved_load_and_reports_the_peaks(binaries):
    result = measure("1.11.1", 0.001, 0.01, 7.2, binaries)
    assert result["verdict"] == "proved"
    assert result["answered"] == result["client_queries"] > 0
    assert result["proved_bound_per_window"] is not None
    # the keys filled together at t = 0 all go upstream in the first second
    assert result["peak_fixed_second"] >= result["keys"]
    assert result["peak_sliding_second"] >= result["peak_fixed_second"]


def test_no_proved_bound_is_broken_by_the_real_server(binaries):
    result = measure("1.14.7", 0.020, 0.01, 7.2, binaries)
    assert result["verdict"] == "proved"
    assert not broken(result), result


def test_an_unsafe_trace_exceeds_the_limit_on_the_real_server(binaries):
    """The violating step of an `unsafe` verdict, concretised (its lookups at the busiest
    replica, each on a key of its own, from a cold cache), on CoreDNS 1.11.1."""
    result = measure_unsafe("1.11.1", 0.001, binaries)
    assert result["trace_packets"] > result["limit_per_step"]
    assert result["answered"] == result["client_queries"]
    assert result["peak_fixed_second"] > result["limit_per_step"]
