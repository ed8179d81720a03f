"""Static analysis: the ids of what it counts, as values.

The FlowModel names flows, groups, key classes and pools by strings, which reports
show. The analysis builds each of those strings from one of the values below, once,
and keeps the value wherever it needs a part of the id again (which server a group
stands for, which cache option a pool's capacity comes from): no id is ever split
back. A cache's id holds its Corefile's path, which may hold "/" or ":".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kalc_formal.coredns.server import Pool

ServerKind = Literal["coredns", "nodelocal", "direct"]
"""Who answers a pod's queries: CoreDNS, the node-local cache, or the node's nameservers
(the pods send to the upstream themselves)."""

KeyKind = Literal["cache", "walk", "upstream"]
"""A key class is a cache's key, an autopath walk, or an exchange no cache keeps."""


@dataclass(frozen=True, slots=True)
class GroupKey:
    """A server group: the busiest replica (or node) of a kind, or the others, which
    count only in a cluster-wide scope."""

    server: ServerKind
    others: bool = False

    @property
    def id(self) -> str:
        return f"{self.server}-others" if self.others else self.server


@dataclass(frozen=True, slots=True)
class PoolKey:
    """One pool (success or denial) of one cache of one group. ``cache``: the cache's
    id in its server plan (opaque: it holds the Corefile's path)."""

    group: str
    cache: str
    kind: Pool

    @property
    def id(self) -> str:
        return f"{self.group}/{self.cache}/{self.kind}"


@dataclass(frozen=True, slots=True)
class FlowKey:
    """The lookups of one name class by one pod class."""

    pod_class: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.pod_class}/{self.name}"


@dataclass(frozen=True, slots=True)
class KeyRef:
    """A key class of a group: what it is (a cache key of ``cache``, a walk, an
    uncached exchange), its qname template and its qtype."""

    group: str
    kind: KeyKind
    template: str
    qtype: str
    cache: str | None = None

    @property
    def id(self) -> str:
        where = f"{self.kind}:{self.cache}" if self.cache is not None else self.kind
        return f"{self.group}/{where}/{self.template}/{self.qtype}"

    @property
    def any_qtype(self) -> KeyRef:
        """The same key for every qtype: classes that differ only in qtype share it."""
        return KeyRef(self.group, self.kind, self.template, "", self.cache)
