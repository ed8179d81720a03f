"""The pytest plugin: assertions, the kalc_cluster fixture, options; and examples/pytest,
run as a user runs it."""

import dataclasses
import doctest
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import kalc_formal
from kalc_formal import pytest_plugin
from kalc_formal.pytest_plugin import (
    KalcAssertWarning,
    PropertyViolated,
    assert_capacity,
    assert_change_safe,
    assert_unreachable,
)

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PLUGIN = ["-p", "kalc_formal.pytest_plugin", "-p", "no:cacheprovider"]

HEADER = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import kalc_formal
from kalc_formal.pytest_plugin import assert_unreachable, assert_capacity, assert_change_safe
EXAMPLES = {str(EXAMPLES)!r}
"""


@pytest.fixture(scope="module")
def small():
    return kalc_formal.load(EXAMPLES / "small-cluster")


@pytest.fixture(scope="module")
def incident():
    return kalc_formal.load(EXAMPLES / "datadog-autopath")


def test_a_proof_passes_and_returns_the_result(small):
    assert assert_unreachable(small, horizon=5).verdict.value == "proved"


def test_an_unsafe_cluster_fails_with_the_verdict_and_the_event_chain(incident):
    with pytest.raises(PropertyViolated) as caught:
        assert_unreachable(incident, horizon=3)
    message = str(caught.value)
    assert message.startswith("kalc-formal: upstream-limit is reachable\n  in ")
    assert "datadog-autopath (CoreDNS 1.11.1, 400 client namespace(s))" in message
    assert "verdict: unsafe" in message
    assert "Event chain (replayed in the simulator):" in message
    assert "The cluster, as YAML" not in message
    assert caught.value.result.verdict.value == "unsafe"
    assert isinstance(caught.value, AssertionError)


def test_soft_warns_instead(incident):
    with pytest.warns(KalcAssertWarning, match="upstream-limit is reachable") as record:
        result = assert_unreachable(incident, horizon=3, soft=True)
    assert result.verdict.value == "unsafe"
    assert record[0].filename == __file__


def test_unknown_fails_unless_allowed(small):
    with pytest.raises(PropertyViolated, match="the verdict is unknown, which fails unless allow_unknown=True"):
        assert_unreachable(small, horizon=3, rlimit=1000)
    result = assert_unreachable(small, horizon=3, rlimit=1000, allow_unknown=True)
    assert result.verdict.value == "unknown"
    assert "resource budget" in result.reason


def test_capacity_grows_the_cluster(incident, small):
    result = assert_capacity(incident, surge=1.0, namespaces=20, horizon=3)
    assert result.overrides == ("surge=1", "namespaces=20")
    with pytest.raises(PropertyViolated, match=r"no capacity for surge=1\.5, namespaces=50\n"):
        assert_capacity(incident, namespaces=50, horizon=3)
    with pytest.raises(kalc_formal.InvalidArgument, match="namespaces cannot be varied"):
        assert_capacity(small, namespaces=2000)


def test_a_capacity_failure_names_each_parameter_its_required_value_and_the_edge():
    sized = kalc_formal.load(EXAMPLES / "datadog-autopath-off-sized")
    assert assert_capacity(sized, surge=None, namespaces=757).verdict.value == "proved"
    with pytest.raises(PropertyViolated) as failure:
        assert_capacity(sized, surge=None, namespaces=800)
    message = str(failure.value)
    assert message.startswith("kalc-formal: no capacity for namespaces=800\n")
    assert ("The edges found (each required parameter moved alone, the others as required):\n"
            "  namespaces  required 800; now 400: proved up to 757, not at 758 (unsafe: a replayed "
            "counterexample exceeds the limit at t=1 s)\n"
            "              (11 checks)\n\nverdict: unsafe") in message
    assert failure.value.result.overrides == ("namespaces=800",)
    with pytest.raises(PropertyViolated) as failure:
        assert_capacity(sized, surge=1.5, namespaces=700)
    message = str(failure.value)
    assert "  surge       required x1.5; now x1: proved up to x1.08, not at x1.09 (unsafe: " in message
    assert "              (8 checks, with namespaces=700)\n" in message
    assert "  namespaces  required 700; now 400: proved up to 505, not at 506 (unsafe: " in message
    assert "              (11 checks, with surge=1.5)\n" in message


def test_an_unknown_capacity_is_not_searched(small):
    with pytest.raises(PropertyViolated) as failure:
        assert_capacity(small, surge=2, horizon=3, rlimit=1000)
    assert "the verdict is unknown" in str(failure.value)
    assert "The edges found" not in str(failure.value)


def test_safe_bounded_passes_unless_a_proof_is_required(small):
    proved = kalc_formal.check(small, horizon=5)
    bounded = dataclasses.replace(proved, verdict=kalc_formal.Verdict.SAFE_BOUNDED)
    pytest_plugin._judge(bounded, small, "upstream-limit is reachable", soft=False,
                         allow_unknown=False, require_proof=False)
    with pytest.raises(PropertyViolated, match=r"no proof \(require_proof=True\)"):
        pytest_plugin._judge(bounded, small, "upstream-limit is reachable", soft=False,
                             allow_unknown=False, require_proof=True)


def one_pod(limit):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}
    corefile = ".:53 {\n    kubernetes cluster.local\n    forward . 10.0.0.2\n    cache 30\n}\n"
    env = {"upstreams": [{"address": "10.0.0.2", "limit": limit}],
           "names": [{"id": "ext", "example": "api.example.com", "ttl": 1}],
           "lookups": [{"pods": {}, "names": ["ext"], "rate": 5}]}
    return kalc_formal.load_objects([pod], corefile=corefile, env=env)


def test_change_from_a_proof_to_unsafe_fails_saying_what_changed():
    with pytest.raises(PropertyViolated) as caught:
        assert_change_safe(one_pod(1000), one_pod(3), horizon=3)
    message = str(caught.value)
    assert "the change makes upstream-limit weaker: proved before, unsafe after" in message
    assert "  before: proved" in message
    assert "  after:  unsafe" in message
    assert "What changed that the model reads (2):\n" in message
    assert "  setting upstreams: 10.0.0.2 1000/s per node, sliding window -> 10.0.0.2 3/s " \
        "per node, sliding window  at <kalc.yaml>:2:1" in message
    assert "Event chain" in message
    assert "The cluster, as YAML:" in message


def test_change_that_keeps_a_proof_passes(small):
    change = assert_change_safe(small, small, horizon=5)
    assert change.movement.value == "still-safe"
    assert change.before.verdict.value == change.after.verdict.value == "proved"


def test_change_rules():
    def result(verdict, surge=None):
        return type("R", (), {"verdict": kalc_formal.Verdict(verdict), "surge": surge,
                              "surge_minimal": surge is not None, "reason": "budget spent"})()

    judge = pytest_plugin._regression
    assert judge(result("unsafe", 500), result("unsafe", 700), False) == ""
    assert "falls from 700 to 500" in judge(result("unsafe", 700), result("unsafe", 500), False)
    assert "only safe-bounded after" in judge(result("proved"), result("safe-bounded"), False)
    assert judge(result("safe-bounded"), result("proved"), False) == ""
    assert "after the change is unknown (budget spent)" in judge(result("proved"), result("unknown"), False)
    assert "before the change is unknown" in judge(result("unknown"), result("proved"), False)
    assert judge(result("proved"), result("unknown"), True) == ""
    assert "unknown before, unsafe after" in judge(result("unknown"), result("unsafe", 1), True)


def test_objects_clusters_show_their_yaml():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}
    corefile = ".:53 {\n    kubernetes cluster.local\n    forward . 10.0.0.2\n    cache 30\n}\n"
    env = {"upstreams": [{"address": "10.0.0.2", "limit": 1}],
           "names": [{"id": "ext", "example": "api.example.com", "ttl": 1}],
           "lookups": [{"pods": {}, "names": ["ext"], "rate": 5}]}
    cluster = kalc_formal.load_objects([pod], corefile=corefile, env=env)
    with pytest.raises(PropertyViolated) as caught:
        assert_unreachable(cluster, horizon=2)
    message = str(caught.value)
    assert "The cluster, as YAML:\n--- # <manifest 1>\napiVersion: v1\nkind: Pod\n" in message
    assert "--- # <kalc.yaml>\nupstreams:" in message


def test_a_non_cluster_is_invalid_argument():
    with pytest.raises(kalc_formal.InvalidArgument, match=r"a Cluster from kalc_formal\.load"):
        assert_unreachable("examples/small-cluster")


def test_the_plugin_module_imports_no_checker():
    code = ("import sys, kalc_formal.pytest_plugin; "
            "print(sorted(m for m in ('z3', 'hypothesis', 'kalc_formal.api') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def test_the_entry_point_is_named_as_the_module():
    # so that `-p kalc_formal.pytest_plugin` with the plugin installed loads it once
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {
        "kalc_formal.pytest_plugin": "kalc_formal.pytest_plugin"}


def test_options_set_the_defaults_and_the_fixture_loads_once(pytester):
    pytester.makepyfile(HEADER + """
def test_defaults(kalc_cluster):
    first = kalc_cluster(EXAMPLES + "/small-cluster")
    assert kalc_cluster(EXAMPLES + "/small-cluster/") is first
    assert kalc_cluster(EXAMPLES + "/small-cluster", coredns_version="1.14.6") is not first
    result = assert_unreachable(first)
    assert result.horizon == 4
    assert assert_unreachable(first, horizon=6).horizon == 6
""")
    result = pytester.runpytest(*PLUGIN, "--kalc-horizon", "4", "--kalc-rlimit", "60000000")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["kalc-formal: horizon=4, rlimit=60,000,000"])


def test_a_bad_option_is_a_usage_error(pytester):
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest(*PLUGIN, "--kalc-horizon", "many")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--kalc-horizon*not a whole number*"])


def test_an_unused_plugin_imports_no_checker(pytester):
    pytester.makepyfile("""
import sys
def test_nothing_loaded():
    assert "z3" not in sys.modules
    assert "kalc_formal.api" not in sys.modules
""")
    pytester.syspathinsert(ROOT)
    result = pytester.runpytest_subprocess(*PLUGIN)
    result.assert_outcomes(passed=1)


def test_a_failure_ends_at_the_users_line(pytester):
    pytester.makepyfile(HEADER + """
def test_incident():
    cluster = kalc_formal.load(EXAMPLES + "/datadog-autopath")
    assert_unreachable(cluster, horizon=3)  # the user's line
""")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert ">       assert_unreachable(cluster, horizon=3)  # the user's line" in text
    assert "E       kalc_formal.pytest_plugin.PropertyViolated: kalc-formal: upstream-limit is reachable" in text
    assert "def _judge" not in text
    assert "raise PropertyViolated" not in text
    result.stdout.fnmatch_lines(["test_a_failure_ends_at_the_users_line.py:9: PropertyViolated"])


def test_the_example_suite_passes_three_times_and_fails_once_with_a_shrunk_trace(pytester):
    for path in (EXAMPLES / "pytest").glob("*.py"):
        shutil.copy(path, pytester.path / path.name)
    pytester.syspathinsert(ROOT)
    result = pytester.runpytest(*PLUGIN, "-p", "no:randomly")
    result.assert_outcomes(passed=3, failed=1)
    text = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*test_the_incident_configuration_holds_for_every_namespace_count*",
        "E   *PropertyViolated: kalc-formal: upstream-limit is reachable",
        "E   *in <manifest 1>, <manifest 2>, <manifest 3>, ... (CoreDNS 1.11.1, 27 client namespace(s))",
        "E   *verdict: unsafe *",
        "E   *Event chain (replayed in the simulator):",
        "E   *the busiest node sends * packets to 169.254.169.253*",
        "E   *The cluster, as YAML:",
        "E   *--- # <manifest 3>",
        "E   *namespaces=27,",
        "*1 failed, 3 passed*",
    ])
    assert "at <manifest 3>:1:1" in text
    assert "autopath <Corefile>:" in text


def test_module_doctests(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert doctest.testmod(pytest_plugin).failed == 0
