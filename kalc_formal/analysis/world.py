"""Static analysis: what the names of kalc.yaml resolve to, outside and inside the cluster."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kalc_formal.clients.resolver import ClientReply
from kalc_formal.config.names import NameClass
from kalc_formal.config.settings import DEFAULT_NEGATIVE_TTL
from kalc_formal.coredns.server import ServerReply


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def upstream_world(names: Sequence[NameClass]) -> Callable[[str, str], ServerReply]:
    """What the upstream answers: the external names as given exist, the rest NXDOMAIN."""
    table = {
        _fqdn(n.text): n for n in names if n.kind == "external" and n.exists
    }
    negative: dict[str, tuple[int, int]] = {}
    for order, name in enumerate(n for n in names if n.kind == "external"):
        key = _fqdn(name.text)
        negative[key] = (negative.get(key, (order, 0))[0], name.negative_ttl)

    def answer(qname: str, qtype: str) -> ServerReply:
        name = table.get(qname)
        if name is not None:
            if qtype == "AAAA" and not name.aaaa:
                return ServerReply("NOERROR", answer=False, ttl=name.negative_ttl)
            return ServerReply("NOERROR", answer=True, ttl=name.ttl)
        # the first name (in kalc.yaml's order) that qname starts with, probed per label
        matches = [
            negative[prefix]
            for end in range(len(qname))
            if qname[end] == "." and (prefix := qname[: end + 1]) in negative
        ]
        if matches:
            return ServerReply("NXDOMAIN", ttl=min(matches)[1])
        return ServerReply("NXDOMAIN", ttl=DEFAULT_NEGATIVE_TTL)

    return answer


def service_world(
    names: Sequence[NameClass], domain: str, ttl: Callable[[], int]
) -> Callable[[str, str], ServerReply | None]:
    """Which in-cluster Service names exist and their answers: a Service given without a
    namespace is in every client's own namespace."""
    existing: dict[tuple[str, str | None], NameClass] = {}
    for name in names:
        if name.service is not None and name.exists:
            existing[(name.service, name.namespace or None)] = name

    def answer(qname: str, qtype: str) -> ServerReply | None:
        labels = qname.split(".")
        if len(labels) < 4:
            return None
        service, namespace = labels[0], labels[1]
        suffix = ".".join(labels[2:])
        if suffix != f"svc.{domain}.":
            return None
        name = existing.get((service, namespace))
        if name is None:
            name = existing.get((service, None))
        if name is None:
            return None
        if qtype == "AAAA" and not name.aaaa:
            return ServerReply("NOERROR", answer=False, ttl=min(ttl(), 300))
        return ServerReply("NOERROR", answer=True, ttl=ttl())

    return answer


def to_client_reply(reply: ServerReply) -> ClientReply:
    """A server's reply as the client's resolver model sees it."""
    if reply.rcode == "NOERROR":
        return ClientReply.ANSWER if reply.answer else ClientReply.NODATA
    return ClientReply[reply.rcode]
