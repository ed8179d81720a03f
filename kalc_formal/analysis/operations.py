"""Static analysis: what serving one query costs upstream, read from the server's
operations (``kalc_formal.coredns.server``) and plan.

Each function walks an operation tree as if every cache on the path missed: the cold
path of a query, which bounds what any lookup can cause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kalc_formal.coredns.server import (
    CacheLookup,
    ForwardStep,
    KubernetesStep,
    Operation,
    ServerSetup,
    UpstreamExchange,
    Walk,
)


def upstream_packets(operations: Sequence[Operation]) -> int:
    """Upstream exchanges when every cache on the path misses."""
    total = 0
    for operation in operations:
        if isinstance(operation, UpstreamExchange):
            total += 1
        elif isinstance(operation, CacheLookup):
            total += upstream_packets(operation.on_miss)
        elif isinstance(operation, Walk):
            total += upstream_packets(operation.internal)
    return total


def upstream_targets(operations: Sequence[Operation]) -> set[str]:
    """The addresses the operations send upstream packets to."""
    targets: set[str] = set()
    for operation in operations:
        if isinstance(operation, UpstreamExchange):
            targets.update(operation.targets)
        elif isinstance(operation, CacheLookup):
            targets |= upstream_targets(operation.on_miss)
        elif isinstance(operation, Walk):
            targets |= upstream_targets(operation.internal)
    return targets


def scope_packets(
    operations: Sequence[Operation], scopes_of: Callable[[tuple[str, ...]], tuple[str, ...]],
) -> dict[str, int]:
    """Upstream packets per scope when every cache on the path misses."""
    total: dict[str, int] = {}

    def add(found: dict[str, int]) -> None:
        for scope_id, packets in found.items():
            total[scope_id] = total.get(scope_id, 0) + packets

    for operation in operations:
        if isinstance(operation, UpstreamExchange):
            add(dict.fromkeys(scopes_of(operation.targets), operation.packets))
        elif isinstance(operation, CacheLookup):
            add(scope_packets(operation.on_miss, scopes_of))
        elif isinstance(operation, Walk):
            add(scope_packets(operation.internal, scopes_of))
    return total


def forwards(setup: ServerSetup | None) -> dict[str, ForwardStep]:
    """The server's forward plugins by id (none without a server)."""
    if setup is None:
        return {}
    return {
        step.id: step
        for block in setup.blocks
        for step in block.steps
        if isinstance(step, ForwardStep)
    }


def kubernetes_ttl(setup: ServerSetup) -> int:
    """The TTL of the kubernetes plugin's answers: the first one's ``ttl``, else 5 (F3)."""
    for block in setup.blocks:
        for step in block.steps:
            if isinstance(step, KubernetesStep):
                return step.ttl
    return 5
