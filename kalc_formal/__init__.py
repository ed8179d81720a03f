"""kalc-formal: is upstream rate-limit failure reachable in this Kubernetes DNS setup?

The public surface is ``__all__``: load a cluster (:func:`load` from paths,
:func:`load_objects` from objects in memory), :func:`check` it (or :func:`diff` two),
and read the :class:`CheckResult`; :meth:`Cluster.capacity` finds how far the cluster can
grow with the proof still holding. ``kalc_formal.pytest_plugin`` (assertions, a fixture) and
``kalc_formal.strategies`` (Hypothesis) are public too; every other module is internal.
Importing this package imports neither z3 nor hypothesis: the API loads on first use.

>>> import kalc_formal
>>> result = kalc_formal.check(kalc_formal.load("examples/datadog-autopath"), horizon=3)
>>> result.verdict.value, result.events[0].kind
('unsafe', 'surge')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument, KalcError

if TYPE_CHECKING:
    from kalc_formal.api import (
        GROWTH_PARAMETERS,
        PROPERTIES,
        Assumption,
        CapacityCheck,
        CapacityEdge,
        CapacityRegion,
        CapacityResult,
        CapacityRow,
        CheckResult,
        Cluster,
        DiffResult,
        FactChange,
        Headroom,
        Movement,
        PropertyResult,
        TraceEvent,
        TraceStep,
        Unmodelled,
        UpstreamCount,
        Verdict,
        check,
        diff,
        load,
        load_objects,
    )

__version__ = "0.1.0"

__all__ = [
    "GROWTH_PARAMETERS",
    "PROPERTIES",
    "Assumption",
    "CapacityCheck",
    "CapacityEdge",
    "CapacityRegion",
    "CapacityResult",
    "CapacityRow",
    "CheckResult",
    "Cluster",
    "ConfigError",
    "ConfigErrors",
    "DiffResult",
    "FactChange",
    "Headroom",
    "InvalidArgument",
    "KalcError",
    "Movement",
    "PropertyResult",
    "TraceEvent",
    "TraceStep",
    "Unmodelled",
    "UpstreamCount",
    "Verdict",
    "__version__",
    "check",
    "diff",
    "load",
    "load_objects",
]


def __getattr__(name: str) -> Any:
    """The API's names, loaded on first use (the others are this module's own)."""
    if name in __all__:
        from kalc_formal import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kalc_formal' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
