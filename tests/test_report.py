"""views/report.py on hand-built Analysis and Outcome values (tests/hand_built.py)."""

import json
from dataclasses import replace

import pytest

from kalc_formal.analysis.result import client_load
from kalc_formal.config.settings import Assumption
from kalc_formal.coredns.server import Query, Unmodelled
from kalc_formal.model.solve import Outcome, Verdict
from kalc_formal.source import Span
from kalc_formal.views.report import (
    as_json,
    render_json,
    render_text,
    verdict_line,
)
from tests.hand_built import FLOW, GROUP, SCOPE, analysis, step, unsafe

PROVED = Outcome(Verdict.PROVED, 60, induction_depth=2, checks=("k-induction re-checked",),
                 worst_step={SCOPE: 20})
BOUNDED = Outcome(Verdict.SAFE_BOUNDED, 30)
UNKNOWN = Outcome(Verdict.UNKNOWN, 60, reason="Z3 gave up in phase bmc at depth 4")


def table_rows(text: str, title: str, gap: str = "\n\n") -> list[str]:
    """The body rows of the table under ``title`` (up to the next blank line)."""
    after = text.split(title + gap, 1)[1]
    return after.split("\n\n", 1)[0].splitlines()[2:]


# ---- the verdict line


def test_a_proof_names_its_induction_depth():
    assert verdict_line(analysis(), PROVED) == (
        "verdict: proved — upstream-limit holds at every step of every run "
        "(2-induction, checked twice)"
    )


def test_safe_bounded_gives_the_horizon_in_steps_and_seconds():
    assert verdict_line(analysis(step_seconds=2), BOUNDED) == (
        "verdict: safe-bounded — no violation of upstream-limit within 30 steps of 2 s; "
        "not proved beyond"
    )


def test_unsafe_gives_the_time_of_the_last_step_the_length_and_the_surge():
    outcome = unsafe(step(0), step(1), step(2), surge=1234)
    assert verdict_line(analysis(step_seconds=5), outcome) == (
        "verdict: unsafe — upstream-limit is violated at t=10 s (shortest trace: 3 step(s) of "
        "5 s; smallest surge for it: 1,234 lookups above baseline)"
    )


def test_unsafe_says_when_the_surge_is_not_confirmed_smallest():
    line = verdict_line(analysis(), unsafe(step(0), surge=7, minimal=False))
    assert "a surge of 7 (Z3 gave up before confirming it is the smallest)" in line
    assert "smallest surge for it" not in line


def test_unknown_gives_the_reason():
    assert verdict_line(analysis(), UNKNOWN) == "verdict: unknown — Z3 gave up in phase bmc at depth 4"


# ---- assumptions


def test_the_assumptions_table_marks_defaults_with_star_and_narrowing_ones_with_bang():
    rows = table_rows(render_text(analysis(), PROVED), "Assumptions (* = default, ! = narrower "
                      "than what the real system allows; set them in kalc.yaml):")
    settings = [row.split()[0] for row in rows]
    assert settings == ["check.step*", "coredns.replicas", "check.arrivals!",
                        "coredns.shard_balance*!"]
    arrivals = next(row for row in rows if row.startswith("check.arrivals!"))
    assert "kalc.yaml (kalc.yaml:26:13)" in arrivals


@pytest.mark.parametrize("outcome", [PROVED, BOUNDED])
def test_a_verdict_of_no_violation_lists_the_narrowing_assumptions_it_rests_on(outcome):
    text = render_text(analysis(), outcome)
    block = text.split("This verdict rests on these assumptions about your cluster (a run that "
                       "breaks one is not covered):\n", 1)[1].split("\n\n", 1)[0]
    assert block.splitlines() == [
        "  check.arrivals = spread (from kalc.yaml kalc.yaml:26:13): an assumption",
        "  coredns.shard_balance = even (from default): an assumption",
    ]


@pytest.mark.parametrize("outcome", [UNKNOWN, unsafe(step(0))])
def test_unsafe_and_unknown_rest_on_no_assumption(outcome):
    assert "This verdict rests on" not in render_text(analysis(), outcome)


def test_a_proof_without_narrowing_settings_rests_on_nothing():
    plain = tuple(a for a in analysis().assumptions if not a.narrows)
    assert "This verdict rests on" not in render_text(analysis(assumptions=plain), PROVED)


def test_json_assumptions_carry_default_narrows_and_position():
    data = as_json(analysis(), PROVED)
    assert data["assumptions"] == [
        {"key": "check.step", "value": "1", "origin": "default", "default": True,
         "narrows": False, "note": "seconds", "at": None},
        {"key": "coredns.replicas", "value": "10", "origin": "manifests", "default": False,
         "narrows": False, "note": "each replica has its own cache, D13", "at": None},
        {"key": "check.arrivals", "value": "spread", "origin": "kalc.yaml", "default": False,
         "narrows": True, "note": "an assumption", "at": "kalc.yaml:26:13"},
        {"key": "coredns.shard_balance", "value": "even", "origin": "default", "default": True,
         "narrows": True, "note": "an assumption", "at": None},
    ]


# ---- what the report says besides the verdict


def test_headroom_gives_the_share_of_the_limit_and_the_window():
    fixed = render_text(analysis(), PROVED)
    assert ("  the busiest node -> 169.254.169.253: at most 20 packets in 1 s, 40.0% of the "
            "limit (50)") in fixed.splitlines()
    sliding = render_text(analysis(window_steps=2), PROVED)
    assert "at most 20 packets in any 2 consecutive steps of 1 s (a sliding one-second window)" \
        in sliding


def test_headroom_not_computed_is_said_so():
    outcome = Outcome(Verdict.PROVED, 60, induction_depth=1, worst_step={"other": 3})
    text = render_text(analysis(), outcome)
    assert ("  the busiest node -> 169.254.169.253: not computed (Z3 gave up within its budget; "
            "the proof stands)") in text.splitlines()


def test_unknown_lists_each_unmodelled_place_once():
    query = Query("x.example.", "A")
    place = Unmodelled("rewrite", query, "rewrite is not modelled", Span("Corefile", 4, 5))
    text = render_text(analysis(unmodelled=(place, place)), UNKNOWN)
    block = text.split("Not modelled in the query path:\n", 1)[1].split("\n\n", 1)[0]
    assert block.splitlines() == ["  Corefile:4:5: rewrite is not modelled"]


def test_warnings_checks_and_notes_are_printed():
    text = render_text(analysis(warnings=("no query reaches 10.0.0.9",), notes=("a note",)), PROVED)
    lines = text.splitlines()
    assert "warning: no query reaches 10.0.0.9" in lines
    assert "checked: k-induction re-checked" in lines
    assert "note: a note" in lines


def test_client_load_is_the_busiest_replicas_share_times_queries_per_lookup():
    # base 100 lookups/step over 10 serving replicas: 10 each, 2 queries per lookup.
    assert client_load(analysis()) == {GROUP: (20, 60)}
    assert client_load(analysis(step_seconds=2)) == {GROUP: (10, 30)}


def test_the_lookups_table_shows_what_one_lookup_costs():
    rows = table_rows(render_text(analysis(names=20), PROVED), "Lookups (what one lookup costs):")
    assert rows == [
        "pods of ns shop (Deployment/web) (100..300)  20 x api.example.com  glibc   coredns"
        "                 2                         4  1..3/s",
    ]


# ---- JSON


def test_json_of_a_proof_has_no_trace():
    data = json.loads(render_json(analysis(), PROVED))
    assert data["verdict"] == "proved"
    assert data["property"] == "upstream-limit"
    assert (data["horizon"], data["step_seconds"], data["coredns_version"]) == (60, 1, "1.11.1")
    assert data["induction_depth"] == 2
    assert data["checks"] == ["k-induction re-checked"]
    assert data["worst_step"] == {SCOPE: 20}
    assert data["client_load"] == {GROUP: {"baseline": 20, "peak": 60}}
    assert data["scopes"] == [{"id": SCOPE, "label": "the busiest node",
                               "addresses": ["169.254.169.253"], "limit_per_second": 50,
                               "scope": "node"}]
    assert data["flows"][0]["client_queries"] == ["api.example.com. A", "api.example.com. AAAA"]
    assert data["flows"][0]["upstream_cold"] == 4
    assert not {"trace", "events", "surge", "surge_minimal"} & data.keys()


def test_json_of_unknown_gives_the_reason_and_the_unmodelled_places():
    place = Unmodelled("rewrite", Query("x.", "A"), "rewrite is not modelled")
    data = as_json(analysis(unmodelled=(place,)), UNKNOWN)
    assert data["verdict"] == "unknown"
    assert data["reason"] == "Z3 gave up in phase bmc at depth 4"
    assert data["unmodelled"] == [{"plugin": "rewrite", "reason": "rewrite is not modelled",
                                   "at": None}]


def test_json_trace_rows_count_the_limit_window_that_ends_at_each_step():
    outcome = unsafe(step(0, sent=30, misses=15, fills=0),
                     step(1, sent=40, restarted=frozenset({GROUP})), surge=99, minimal=False)
    data = as_json(analysis(window_steps=2, step_seconds=2), outcome)
    first, second = data["trace"]
    assert first == {
        "t": 0, "lookups": {FLOW: 300}, "restarted": [], "misses": {"k0": 15}, "fills": {},
        "upstream": {SCOPE: {"packets": 30, "window": 30, "limit": 50, "over": False}},
    }
    assert second["t"] == 2
    assert second["restarted"] == [GROUP]
    assert second["fills"] == {"k0": 20}
    assert second["upstream"] == {SCOPE: {"packets": 40, "window": 70, "limit": 50, "over": True}}
    assert (data["surge"], data["surge_minimal"]) == (99, False)
    assert [e["kind"] for e in data["events"]][:2] == ["surge", "misses"]
    assert all(isinstance(e["t"], int) and isinstance(e["at"], list) for e in data["events"])


def test_a_fixed_window_is_one_step_and_the_limit_itself_is_not_over():
    outcome = unsafe(step(0, sent=50, misses=0), step(1, sent=51))
    rows = as_json(analysis(), outcome)["trace"]
    assert [row["upstream"][SCOPE]["window"] for row in rows] == [50, 51]
    assert [row["upstream"][SCOPE]["over"] for row in rows] == [False, True]
    assert [row["misses"] for row in rows] == [{}, {"k0": 20}]


def chart_lines(text: str, title_start: str) -> list[str]:
    """The lines of the chart whose title starts with ``title_start`` (to the blank line)."""
    after = text[text.index(title_start):]
    return after.split("\n\n", 1)[0].splitlines()


def test_the_trace_chart_gives_each_step_its_window_and_a_bar_against_the_limit():
    outcome = unsafe(step(0, sent=30), step(1, sent=40))
    text = render_text(analysis(window_steps=2), outcome, width=80)
    lines = chart_lines(text, "Upstream packets per step, the busiest node")
    assert lines[0] == ("Upstream packets per step, the busiest node to 169.254.169.253 (limit 50 "
                        "per")
    assert lines[1] == "node in any 2 consecutive steps of 1 s):"
    assert lines[2].split() == ["t", "(s)", "lookups", "packets", "window"]
    first, second = lines[3], lines[4]
    assert first.split()[:4] == ["0", "300", "30", "30"]
    assert second.split()[:4] == ["1", "300", "40", "70"]
    assert first.index("|") == second.index("|")
    assert first.endswith("|")
    assert second.index("|") < len(second) - 1
    assert lines[5] == ("  # the step's packets, = the earlier steps' in its window, | the limit "
                        "(50)")
    assert all(len(line) <= 80 for line in lines)


def test_a_chart_at_a_fixed_window_has_no_window_column():
    outcome = unsafe(step(0, sent=50, misses=0), step(1, sent=51))
    text = render_text(analysis(), outcome, width=100)
    lines = chart_lines(text, "Upstream packets per step, the busiest node")
    assert "(limit 50 per node per step of 1 s):" in lines[0]
    assert lines[1].split() == ["t", "(s)", "lookups", "packets"]
    assert lines[2].endswith("#|")
    assert lines[3].endswith("|#")
    assert "=" not in "".join(lines[2:4])


def test_each_scope_has_its_own_chart_with_its_own_limit():
    built = analysis()
    second = replace(built.model.scopes[0], id="u1", limit=500, label="the cluster")
    key = replace(built.model.key_classes[0], upstream=((SCOPE, 2), ("u1", 2)))
    built = replace(built, model=replace(built.model, scopes=(*built.model.scopes, second),
                                         key_classes=(key,)),
                    scopes={**built.scopes, "u1": replace(built.scopes[SCOPE], id="u1",
                                                          label="the cluster", kind="cluster")})
    outcome = unsafe(replace(step(0, sent=60), upstream={SCOPE: 60, "u1": 60}))
    text = render_text(built, outcome, width=80)
    node = chart_lines(text, "Upstream packets per step, the busiest node")
    cluster = chart_lines(text, "Upstream packets per step, the cluster")
    assert "| the limit (50)" in node[-1]
    assert "| the limit (500)" in cluster[-1]
    assert node[-2].split("|")[1].strip("#") == ""
    assert node[-2].split("|")[1] != ""
    assert cluster[-2].endswith("|")


def test_an_assumption_from_the_command_line_is_neither_default_nor_narrowing():
    only = (Assumption("check.horizon", "5", "command line", "steps"),)
    rows = table_rows(render_text(analysis(assumptions=only), BOUNDED), "Assumptions (* = default, "
                      "! = narrower than what the real system allows; set them in kalc.yaml):")
    assert [row.split()[:3] for row in rows] == [["check.horizon", "5", "command"]]


def test_the_chart_is_80_columns_wide_when_the_output_is_not_a_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    outcome = unsafe(step(0, sent=30), step(1, sent=60))
    assert render_text(analysis(), outcome) == render_text(analysis(), outcome, width=80)
    assert render_text(analysis(), outcome) != render_text(analysis(), outcome, width=160)
