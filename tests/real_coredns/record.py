"""Record the real-CoreDNS observations: ``python tests/real_coredns/record.py [ID ...]``
runs each experiment (all, or those named) on each of its releases and writes
tests/data/coredns_observations/<id>.json. Needs ../shared/coredns-real."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from experiments import EXPERIMENTS, document, run
from server import REPO

OUT = REPO / "tests" / "data" / "coredns_observations"


def main(names: list[str]) -> int:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kalc-formal-coredns"
    cache.mkdir(parents=True, exist_ok=True)
    for experiment in EXPERIMENTS:
        if names and experiment.id not in names:
            continue
        runs = {}
        for release in experiment.releases:
            print(f"{experiment.id} {release}", flush=True)
            runs[release] = run(experiment, release, cache)
        OUT.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document(experiment, runs), separators=(",", ":"))
        (OUT / f"{experiment.id}.json").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
