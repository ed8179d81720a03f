"""Same input, same output, also when other checks ran before in the same process (the
API, diff, suggest and capacity run many): each check has its own Z3 context."""

from __future__ import annotations

import json
from pathlib import Path

import kalc_formal

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_a_counterexample_does_not_depend_on_the_checks_before_it() -> None:
    near_edge = kalc_formal.load(str(EXAMPLES / "datadog-autopath-off-sized")).with_overrides(
        namespaces=758)
    other = kalc_formal.load(str(EXAMPLES / "datadog-autopath-sized"))
    first = json.dumps(kalc_formal.check(near_edge).to_json())
    kalc_formal.check(other)
    second = json.dumps(kalc_formal.check(near_edge).to_json())
    third = json.dumps(kalc_formal.check(near_edge).to_json())
    assert '"verdict": "unsafe"' in first
    assert first == second == third
