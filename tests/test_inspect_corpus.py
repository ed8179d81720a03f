"""`kalc-formal inspect` on every file of ../shared/corpus: exit 0 with the tables, or exit 2
with the positioned error that the Corefile and manifest corpus tests already pin.

Differences from those tests, each because inspect reads a file the way a user's command
line does: no environment variables are set (the Corefile test sets caddy's test
environment), and a ConfigMap's Corefile is configured for the CoreDNS version the input
gives (none here: the default, 1.14.7).
"""

import contextlib
import io
import json

import pytest

from kalc_formal.cli import main
from kalc_formal.errors import MAX_ERRORS_SHOWN
from tests.test_corefile_corpus import COREFILES, EXPECTED_REJECTIONS
from tests.test_manifests_corpus import EXPECTED as EXPECTED_MANIFESTS

MANIFESTS = COREFILES.parent / "manifests"

pytestmark = pytest.mark.corpus

EXPECTED_COREFILE_DIFFERENCES = {
    # {$PORT} unset: the key is ".:" (the Corefile test sets PORT=8080)
    "coredns-caddy__parse_test-TestEnvironmentReplacement-L574.Corefile": (1, 1, 'expecting data after last colon: ":"'),
    "coredns-caddy__parse_test-TestEnvironmentReplacement-L581.Corefile": (1, 1, 'expecting data after last colon: ":"'),
}
EXPECTED_MANIFEST_COREFILE_ERRORS = {
    # The ConfigMap's Corefile, for CoreDNS 1.14.7 (the files give no CoreDNS image):
    # the same errors the Corefile corpus test pins for the extracted Corefiles.
    "coredns-deployment__Upgrading_CoreDNS-md-configmap.yaml": (5, 9, "Unknown directive 'startup'"),
    "kubernetes-perf-tests__dns-cluster-coredns-configmap.yaml": (28, 11, "plugin/kubernetes: unknown property 'upstream'"),
}
TABLES = ("Pod classes", "Lookup costs", "Assumptions (* = default")


@pytest.fixture(autouse=True)
def _corpus_present():
    if not COREFILES.is_dir() or not MANIFESTS.is_dir():
        pytest.skip(f"../shared/corpus not found: {COREFILES.parent}")


def inspect(*paths):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["inspect", *map(str, paths)])
    return code, out.getvalue(), err.getvalue()


def assert_positioned_error(err, path, line, column, message=""):
    lines = err.splitlines()
    assert lines[0].startswith(f"{path}:{line}:{column}: {message}"), err
    assert lines[-1].strip() == "^", err
    assert "Traceback" not in err


def names(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_every_corpus_corefile():
    counts = {0: 0, 2: 0}
    for name in names(COREFILES):
        path = COREFILES / name
        code, out, err = inspect(path)
        counts[code] += 1
        expected = EXPECTED_COREFILE_DIFFERENCES.get(name) or EXPECTED_REJECTIONS.get(name)
        if expected is not None:
            assert (code, out) == (2, ""), name
            assert_positioned_error(err, path, *expected)
        else:
            assert (code, err) == (0, ""), f"{name}: {err}"
            for title in (*TABLES, "Server blocks (plugins in execution order):",
                          "Coverage of Corefile directives:"):
                assert title in out, (name, title)
            assert "for one ASSUMED pod" in out
    assert counts == {0: 306, 2: 77}


def test_every_corpus_manifest_file():
    counts = {0: 0, 2: 0}
    for name in names(MANIFESTS):
        path = MANIFESTS / name
        code, out, err = inspect(path)
        counts[code] += 1
        expected = EXPECTED_MANIFESTS[name]
        if expected.errors:
            assert (code, out) == (2, ""), name
            heads = [line for line in err.splitlines() if line.startswith(f"{path}:")]
            assert [h[len(str(path)) + 1:].split(": ", 1)[0] for h in heads] == [
                position for position, _ in expected.errors], name
        elif name in EXPECTED_MANIFEST_COREFILE_ERRORS:
            assert code == 2, name
            assert_positioned_error(err, path, *EXPECTED_MANIFEST_COREFILE_ERRORS[name])
        else:
            assert (code, err) == (0, ""), f"{name}: {err}"
            for title in TABLES:
                assert title in out, (name, title)
            has_corefile = bool(expected.corefiles)
            assert ("Lookup costs: need a CoreDNS Corefile" in out) != has_corefile, name
    assert counts == {0: 31, 2: 36}


def test_the_perf_test_dns_setup_inspects_with_its_own_coredns_version():
    files = [MANIFESTS / f"kubernetes-perf-tests__dns-cluster-coredns-{n}.yaml"
             for n in ("configmap", "deployment", "service")]
    code, out, err = inspect(*files)
    assert (code, err) == (0, "")
    assert out.startswith("CoreDNS 1.1.1 (from manifests; plugin order of 1.1.1)")
    assert "for one ASSUMED pod" in out  # the only workload is the DNS server itself
    assert "coredns block 1: .:53" in out


def test_the_whole_manifest_folder_reports_every_bad_file():
    """Together, one file's Deployment duplicates another's: that file's error changes."""
    code, out, err = inspect(MANIFESTS, "--format", "json")
    assert code == 2
    errors = json.loads(out)["errors"]
    assert err.count("\n    ^") <= MAX_ERRORS_SHOWN < len(errors)  # the text is capped, JSON is not
    paths = {error["path"] for error in errors}
    for name, expected in EXPECTED_MANIFESTS.items():
        if expected.errors:
            assert str(MANIFESTS / name) in paths, name
