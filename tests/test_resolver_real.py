"""Re-run the probes of the real glibc, musl and Go resolvers live and compare
them with kalc_formal.clients.resolver (a representative subset: the cases marked `live`
in tests/real_resolvers/probe_cases.py; the whole set takes about 4 minutes and
is re-recorded with `python tests/real_resolvers/runner.py record BINDIR
tests/data/resolver_observations`).

Needs root, unshare, mount, ip, gcc, musl-gcc and go; skips with the reason otherwise.
"""

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "real_resolvers"))

import probe_cases  # noqa: E402
import probe_replay  # noqa: E402
import runner  # noqa: E402

pytestmark = pytest.mark.real_resolver

LIVE = [case for case in probe_cases.CASES if case["live"]]


@pytest.fixture(scope="module")
def bindir(tmp_path_factory):
    missing = runner.tools_missing()
    if missing:
        pytest.skip(f"real-resolver probes need: {', '.join(missing)}")
    check = subprocess.run(["unshare", "-mn", "true"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        pytest.skip(f"unshare -mn is not allowed here: {check.stderr.strip()}")
    path = tmp_path_factory.mktemp("probes")
    versions = runner.build(path)
    wanted = {"glibc": "2.36", "musl": "1.2.3", "go": "go1.19"}
    other = {lib: versions[lib] for lib, version in wanted.items() if version not in versions[lib]}
    if other:
        pytest.skip(f"the model is of glibc 2.36, musl 1.2.3 and Go 1.19; this machine has {other}")
    return path


@pytest.mark.parametrize("libc", ["glibc", "musl", "go"])
@pytest.mark.parametrize("case", LIVE, ids=[case["id"] for case in LIVE])
def test_live_probe_matches_model(bindir, case, libc):
    run = runner.run_case(case["id"], libc, bindir)
    problems = probe_replay.compare(case, libc, run)
    assert not problems, f"{case['id']} {libc}:\n" + "\n".join(problems)
