"""Reading speed (issue 8): our manifest reading against libyaml's composer.

Run from the repository root:  python -m benchmarks.bench_reading [--runs N] [--profile]
[--workloads N]

Writes the synthetic cluster of the scale benchmark's goal case with 5,000 workloads
(benchmarks/synthetic.py: 500 namespaces x 10 Deployments, half with an HPA, each with
a Service; 13,003 documents) to a temporary folder and times, median of ``--runs``:

- ``yaml.compose_all`` with PyYAML's ``CSafeLoader`` (libyaml parses and composes, the
  tags are resolved in Python), one call per file, the cyclic GC off: the floor any
  reader that keeps YAML nodes (and so positions) pays;
- ``read_cluster`` (load, check and build every manifest: what ``check`` reads of them);
- ``read_inputs`` (the same plus kalc.yaml and the Corefile: the whole reading stage);

the three interleaved, run after run, so that each sees the same machine. The ratio of
``read_inputs`` to the compose time is taken on CPU time (``time.process_time``), which
other processes on a shared machine disturb less than the wall clock (both are printed).
With ``--profile``: the functions of one ``read_inputs`` run that take the most time
(cProfile, own time).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from benchmarks.synthetic import Case, write_case
from kalc_formal.config import reading
from kalc_formal.kubernetes.cluster import read_cluster

C_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def case(workloads: int) -> Case:
    """The goal case's cluster (500 namespaces, 200 names) with ``workloads`` Deployments
    of 10 pods each."""
    per_namespace = max(1, workloads // 500)
    return Case(f"{500 * per_namespace:,} workloads", pods=10 * 500 * per_namespace,
                namespaces=500, names=200, intent="proved", coredns_replicas=20,
                horizon=120, nodes=2_000, workloads_per_namespace=per_namespace)


@dataclass
class Timing:
    """Seconds of each run of one action: wall clock and this process's CPU time."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run(self, action: Callable[[], object], *, gc_off: bool) -> None:
        gc.collect()
        if gc_off:
            gc.disable()
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            action()
            self.cpu.append(time.process_time() - cpu)
            self.wall.append(time.perf_counter() - wall)
        finally:
            gc.enable()

    def text(self) -> str:
        return (f"cpu {statistics.median(self.cpu):.3f} s (min {min(self.cpu):.3f}), "
                f"wall {statistics.median(self.wall):.3f} s")


def profile_summary(action: Callable[[], object], lines: int) -> str:
    profiler = cProfile.Profile()
    gc.collect()
    profiler.runcall(action)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(lines)
    body = out.getvalue()
    return body[body.find("   ncalls"):] if "   ncalls" in body else body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workloads", type=int, default=5_000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument("--profile-lines", type=int, default=25)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kalc-reading-") as temporary:
        folder = Path(temporary) / "cluster"
        write_case(case(arguments.workloads), folder)
        files = sorted(f for f in folder.rglob("*.yaml") if f.name != "kalc.yaml")
        texts = [f.read_text() for f in files]
        documents = sum(len(list(yaml.compose_all(t, Loader=C_LOADER))) for t in texts)

        def compose() -> object:
            return [list(yaml.compose_all(text, Loader=C_LOADER)) for text in texts]

        def cluster() -> object:
            return read_cluster([str(folder)])

        def inputs() -> object:
            return reading.read_inputs([str(folder)])

        inputs()  # warm-up: imports, grammars, caches
        timings = {"compose": Timing(), "read_cluster": Timing(), "read_inputs": Timing()}
        for _ in range(arguments.runs):  # interleaved: each action sees the same machine
            timings["compose"].run(compose, gc_off=True)
            timings["read_cluster"].run(cluster, gc_off=False)
            timings["read_inputs"].run(inputs, gc_off=False)
        size = sum(len(t.encode()) for t in texts)
        print(f"machine: {platform.machine()} {platform.processor() or ''}".rstrip()
              + f", {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
              + f", Python {platform.python_version()}, PyYAML {yaml.__version__}"
              + f" (libyaml: {yaml.__with_libyaml__})")
        print(f"input: {arguments.workloads:,} workloads, {len(files)} files, "
              f"{documents:,} documents, {size / 1e6:.1f} MB; median of {arguments.runs} runs")
        compose_cpu = statistics.median(timings["compose"].cpu)
        print(f"yaml.compose_all (CSafeLoader), GC off: {timings['compose'].text()}")
        for name in ("read_cluster", "read_inputs"):
            ratio = statistics.median(timings[name].cpu) / compose_cpu
            print(f"{name + ':':39s} {timings[name].text()}, {ratio:.2f}x compose")
        ratio = statistics.median(timings["read_inputs"].cpu) / compose_cpu
        print(f"ratio read_inputs / compose (CPU time): {ratio:.2f}")
        if arguments.profile:
            print()
            print(profile_summary(inputs, arguments.profile_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
