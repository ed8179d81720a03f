"""Issue 12: fuzzing kalc.yaml values, Corefile token streams and resolv.conf lines. Every
run ends in a verdict or a bad-input error (exit 0, 1, 2 or 3): never a traceback, never
an internal error, in bounded time and memory."""

from __future__ import annotations

import contextlib
import io
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalc_formal.cli import main

SMALL = Path(__file__).resolve().parent.parent / "examples" / "small-cluster"
SECONDS = 30
MEGABYTES = 500
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run the command in-process; assert the time, the memory growth and the exit code."""
    out, err = io.StringIO(), io.StringIO()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's usage errors
            code = int(exit_.code or 0)
    elapsed = time.perf_counter() - start
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    text = err.getvalue()
    assert code in (0, 1, 2, 3), text
    assert "Traceback" not in text
    assert "internal error" not in text
    assert elapsed < SECONDS, argv
    assert grown_mb < MEGABYTES, argv
    return code, out.getvalue(), text


hostile_text = st.text(
    alphabet=st.sampled_from([*list("abz09.-_: {}$%*\"'\\/"), "\x00", "\x1b", "\x07", "\n", "é", "\u2028"]),
    max_size=30,
)
numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e308", ".nan", "-.inf", "0x10", "1_000", ""]),
)
values: st.SearchStrategy[Any] = st.one_of(
    numbers, hostile_text, st.booleans(), st.none(),
    st.lists(st.one_of(numbers, hostile_text), max_size=3),
    st.dictionaries(hostile_text, st.one_of(numbers, hostile_text), max_size=2),
)
FIELDS = [
    ("coredns", "version"), ("coredns", "replicas"), ("coredns", "replicas_per_node"),
    ("coredns", "skew"), ("coredns", "restarts"), ("coredns", "rollout"),
    ("cluster", "domain"), ("cluster", "nodes"), ("cluster", "dns_ip"),
    ("cluster", "node_search"), ("cluster", "node_nameservers"),
    ("upstreams", 0, "address"), ("upstreams", 0, "limit"), ("upstreams", 0, "scope"),
    ("upstreams", 0, "outage_steps"), ("names", 0, "example"), ("names", 0, "count"),
    ("names", 0, "ttl"), ("names", 1, "namespace"), ("names", 1, "service"),
    ("lookups", 0, "rate"), ("lookups", 0, "surge_rate"), ("lookups", 0, "libc"),
    ("lookups", 0, "pods"), ("surge", "max_steps"), ("check", "step"), ("check", "horizon"),
]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(FIELDS), values), min_size=1, max_size=3))
def test_fuzzed_kalc_yaml_values_end_in_a_verdict_or_an_error(changes):
    env = yaml.safe_load((SMALL / "kalc.yaml").read_text())
    env["check"]["horizon"] = 5
    for path, value in changes:
        target = env
        for key in path[:-1]:
            target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
        target[path[-1]] = value
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(SMALL, folder, dirs_exist_ok=True)
        (Path(folder) / "kalc.yaml").write_text(yaml.safe_dump(env, allow_unicode=True))
        run(["check", folder, "--budget", "50000000"])


corefile_tokens = st.lists(
    st.one_of(
        st.sampled_from([". {", "{", "}", "\n", "import", "forward", ".", "1.1.1.1", "cache",
                         "30", "kubernetes", "cluster.local", "autopath", "@kubernetes",
                         "(snip)", "import snip", "{$X}", "\"quoted\"", "#", "example.org:53",
                         "errors", "log", "*.conf", "/etc/resolv.conf", "\t"]),
        hostile_text,
    ),
    max_size=60,
)


@FUZZ
@given(corefile_tokens)
def test_fuzzed_corefile_token_streams_end_in_a_verdict_or_an_error(tokens):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "Corefile").write_text(" ".join(tokens), encoding="utf-8", errors="surrogatepass")
        code, _out, _err = run(["inspect", str(Path(folder) / "Corefile")])
        assert code in (0, 2)


resolv_lines = st.lists(
    st.one_of(
        st.builds(lambda a: f"nameserver {a}", st.one_of(st.ip_addresses().map(str), hostile_text)),
        st.builds(lambda k, n: f"options {k}:{n}",
                  st.sampled_from(["ndots", "timeout", "attempts"]),
                  st.one_of(st.integers(min_value=-5, max_value=10**12).map(str), hostile_text)),
        st.builds(lambda s: f"search {s}", hostile_text),
        st.sampled_from(["options rotate", "options single-request", "domain example.org",
                         "options edns0 trust-ad", "options use-vc"]),
        hostile_text,
    ),
    max_size=8,
)


@FUZZ
@given(resolv_lines, st.sampled_from(["glibc", "musl", "go"]),
       st.sampled_from(["--exists", "--timeout", "--servfail", "--nodata"]))
def test_fuzzed_resolv_conf_lines_end_in_a_trace_or_an_error(lines, libc, reply):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resolv.conf"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
        code, _out, _err = run(["lookup", "api.example.com", "--resolv-conf", str(path),
                                "--libc", libc, reply, "api.example.com"])
        assert code in (0, 2)
