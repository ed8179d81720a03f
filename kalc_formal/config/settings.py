"""Static analysis: settings with their defaults, and the list of defaults used.

A value comes from the command line, kalc.yaml, the manifests, or a default; every
one is recorded as an ``Assumption`` so the report can say which defaults it used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kalc_formal.source import Span

Origin = Literal["command line", "kalc.yaml", "manifests", "Corefile", "default"]

DEFAULT_UPSTREAM_LIMIT = 1024
"""I1: AWS, 1024 packets per second per network interface to the VPC resolver."""
DEFAULT_NODE_NAMESERVER = "169.254.169.253"
"""The AWS VPC resolver's link-local address (the VPC base + 2 also works, I1)."""
DEFAULT_RATE = 0.1
DEFAULT_EXTERNAL_TTL = 30
DEFAULT_NEGATIVE_TTL = 60
DEFAULT_EXTERNAL_EXAMPLE = "api.example.com"
DEFAULT_EXTERNAL_COUNT = 10


@dataclass(frozen=True, slots=True)
class Assumption:
    """One setting, its value, and where the value came from (``at``: the line).

    ``narrows``: the value excludes runs the real system may have, so a proof holds
    only where it is true of the cluster.
    """

    key: str
    value: str
    origin: Origin
    note: str = ""
    at: Span | None = None
    narrows: bool = False


@dataclass(slots=True)
class Recorder:
    """Collects the settings used, in the order they were decided.

    ``kalc_spans``: the positions of kalc.yaml's fields by dotted key, so that a setting
    taken from kalc.yaml is recorded with its line.
    """

    assumptions: list[Assumption] = field(default_factory=list)
    kalc_spans: Mapping[str, Span] = field(default_factory=dict)

    def take(
        self,
        key: str,
        candidates: list[tuple[Origin, Any]],
        default: Any,
        note: str = "",
        at: Mapping[Origin, Span | None] | None = None,
        narrows: Callable[[Any], bool] = lambda _value: False,
    ) -> Any:
        """The first candidate that is not None, else ``default``; recorded either way,
        flagged where ``narrows`` says the value excludes runs of the real system.

        ``at``: where a candidate's value is written, by origin.
        """
        for origin, value in candidates:
            if value is not None:
                span = (at or {}).get(origin)
                self.note(key, value, origin, note, span, narrows=narrows(value))
                return value
        self.assumptions.append(
            Assumption(key, _show(default), "default", note, narrows=narrows(default))
        )
        return default

    def note(
        self, key: str, value: Any, origin: Origin, note: str = "", at: Span | None = None,
        *, narrows: bool = False,
    ) -> None:
        if at is None and origin == "kalc.yaml":
            at = self.kalc_spans.get(key)
        self.assumptions.append(Assumption(key, _show(value), origin, note, at, narrows))

    def defaults(self) -> list[Assumption]:
        return [a for a in self.assumptions if a.origin == "default"]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)
