"""Replay every recorded probe of the real glibc, musl and Go resolvers through
kalc_formal.resolver.simulate_lookup and require the same packets and outcome.

The observations were recorded by tests/real_resolvers/runner.py (see its
docstring); tests/real_resolvers/probe_replay.py says which part of each
sequence is compared where the real library was not deterministic.
"""

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "real_resolvers"))

import probe_cases  # noqa: E402
import probe_replay  # noqa: E402

OBSERVATIONS = HERE / "data" / "resolver_observations"
BEHAVIOUR_TABLE = HERE.parent.parent / "shared" / "reference" / "resolver-behaviour.md"

# Every row of the shared measured-behaviour table and the cases that cover it.
TABLE_ROWS = {
    "name with fewer dots than ndots": ["short_all_nxdomain", "dotted_external", "dotted_all_nxdomain"],
    "name with at least ndots dots": ["ndots_reached_all_nxdomain", "ndots_reached_found_as_is",
                                      "ndots_reached_as_is_timeout"],
    "trailing dot": ["trailing_dot_nxdomain", "trailing_dot_answer"],
    "`search` line of 256+ characters": ["search_line_282", "search_line_254", "search_line_255"],
    "A and AAAA for one candidate": ["short_found_first", "dotted_external"],
    "NODATA for AAAA, A answered": ["nodata_aaaa_only"],
    "NODATA for both A and AAAA": ["nodata_both"],
    "SERVFAIL on a candidate": ["servfail_candidate", "a_servfail_aaaa_nxdomain", "aaaa_servfail_a_nxdomain"],
    "no answer on a candidate": ["timeout_candidate"],
    "only AAAA unanswered, A answered": ["aaaa_timeout_only", "a_timeout_only"],
    "attempts:1/2/3, timeout:1, no answer": ["attempts1_timeout", "attempts2_timeout", "attempts3_timeout"],
    "`single-request`": ["single_request", "single_request_a_timeout", "single_request_servfail"],
    "`single-request-reopen`": ["single_request_reopen"],
    "two nameservers, no `rotate`": ["two_nameservers"],
    "`rotate`": ["rotate"],
    "first nameserver never answers": ["first_ns_silent", "three_ns_silent"],
    "first nameserver answers SERVFAIL to all": ["first_ns_servfail", "first_ns_servfail_second_silent",
                                                 "servfail_then_silent_candidate"],
}


def _load(case_id):
    return json.loads((OBSERVATIONS / f"{case_id}.json").read_text())


def _runs():
    for case in probe_cases.CASES:
        document = _load(case["id"])
        for libc, runs in document["observations"].items():
            for index in range(len(runs)):
                yield pytest.param(case["id"], libc, index, id=f"{case['id']}-{libc}-{index}")


def test_every_case_is_recorded_for_every_library_with_versions():
    for case in probe_cases.CASES:
        document = _load(case["id"])
        assert document["case"] == case, f"{case['id']}: recorded case differs from probe_cases.py; re-record it"
        assert sorted(document["observations"]) == sorted(case["libcs"])
        assert all(len(runs) == case["repeat"] for runs in document["observations"].values())
        versions = document["versions"]
        assert versions["glibc"].startswith("2.36")
        assert "1.2.3" in versions["musl"]
        assert "go1.19" in versions["go"]


@pytest.mark.parametrize(("case_id", "libc", "index"), list(_runs()))
def test_model_matches_recorded_run(case_id, libc, index):
    document = _load(case_id)
    run = document["observations"][libc][index]
    problems = probe_replay.compare(document["case"], libc, run)
    assert not problems, f"{case_id} {libc} run {index}:\n" + "\n".join(problems)


def test_relaxed_comparisons_have_a_reason_and_evidence():
    """A comparison is relaxed only with a stated reason, and only where some
    recorded run does not match the model's exact sequence."""
    needed = {}
    for case in probe_cases.CASES:
        document = _load(case["id"])
        for libc in case["libcs"]:
            mode = probe_replay.comparison_mode(case, libc)
            if mode == "exact":
                continue
            key = mode if mode in probe_replay.NONDETERMINISM else (case["id"], libc)
            assert key in probe_replay.NONDETERMINISM
            trace = probe_replay.model_trace(case, libc)
            modelled = [p[:3] for p in probe_replay._modelled(trace)]
            differs = any([p[:3] for p in probe_replay._observed(run)] != modelled
                          for run in document["observations"][libc])
            needed[key] = needed.get(key, False) or differs
    assert needed
    assert all(needed.values()), [key for key, value in needed.items() if not value]


def test_the_comparison_catches_a_wrong_model():
    document = _load("servfail_candidate")
    case, run = document["case"], document["observations"]["glibc"][0]
    assert probe_replay.compare(case, "glibc", run) == []
    dropped = dict(run, packets=run["packets"][:-1])
    assert probe_replay.compare(case, "glibc", dropped)
    flipped = dict(run, result="failure")
    assert probe_replay.compare(case, "glibc", flipped)
    slow = dict(run, packets=[dict(p, time=p["time"] + 1) for p in run["packets"]])
    assert probe_replay.compare(case, "glibc", slow)
    go_run = document["observations"]["go"][0]
    assert probe_replay.compare(case, "go", dict(go_run, packets=go_run["packets"][1:]))


def test_every_row_of_the_measured_table_has_cases():
    ids = {case["id"] for case in probe_cases.CASES}
    for row, cases in TABLE_ROWS.items():
        assert cases, row
        assert set(cases) <= ids, row


def test_table_rows_match_the_shared_reference():
    if not BEHAVIOUR_TABLE.exists():
        pytest.skip(f"../shared/reference not found: {BEHAVIOUR_TABLE}")
    rows = []
    for line in BEHAVIOUR_TABLE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and cells[0] not in ("situation", "---"):
            rows.append(cells[0])
    assert rows
    assert set(rows) == set(TABLE_ROWS)


def test_go_caps_on_go_1_19():
    """G16 on Go 1.19, from the probes: attempts is not capped (7 tries), ndots is
    capped at 15 (a 15-dot name under ndots:20 is tried as given first), and
    attempts:0 / timeout:0 are raised to 1."""
    attempts7 = _load("attempts7_timeout")["observations"]
    assert all(len(run["packets"]) == 14 for run in attempts7["go"])
    assert all(len(run["packets"]) == 10 for run in attempts7["glibc"])
    assert all(len(run["packets"]) == 16 for run in attempts7["musl"])
    ndots = _load("ndots20_cap")["observations"]
    for libc in ("glibc", "musl", "go"):
        for run in ndots[libc]:
            assert run["packets"][0]["qname"] == "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p."
    zero = _load("attempts0_timeout")["observations"]
    assert len(zero["go"][0]["packets"]) == 2
    assert zero["glibc"][0]["packets"] == []
    assert zero["musl"][0]["exit_status"] == -8  # SIGFPE
