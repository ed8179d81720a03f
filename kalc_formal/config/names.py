"""Name classes: kalc.yaml's names (or the default one) with every default filled in.

A Service name's text depends on the cluster domain, so name classes are formed from
the decided settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from kalc_formal.config.envspec import NameSpec
from kalc_formal.config.settings import (
    DEFAULT_EXTERNAL_TTL,
    DEFAULT_NEGATIVE_TTL,
    CheckSettings,
)

DEFAULT_SERVICE_TTL = 5
"""The kubernetes plugin's default ttl (F3)."""
OWN_NAMESPACE = "kf-own-ns"
"""The namespace written in a Service name given without one: the client's own."""


@dataclass(frozen=True, slots=True)
class NameClass:
    id: str
    text: str
    count: int
    kind: str
    label: str
    exists: bool
    ttl: int
    negative_ttl: int
    aaaa: bool
    service: str | None = None
    namespace: str | None = None


def name_classes(settings: CheckSettings) -> list[NameClass]:
    classes = []
    for spec in settings.names:
        if spec.service is not None:
            classes.append(_service_name(spec, settings.domain))
        else:
            assert spec.example is not None
            classes.append(
                NameClass(
                    spec.id, spec.example, spec.count or 1, "external", spec.example,
                    spec.exists if spec.exists is not None else True,
                    spec.ttl if spec.ttl is not None else DEFAULT_EXTERNAL_TTL,
                    spec.negative_ttl if spec.negative_ttl is not None else DEFAULT_NEGATIVE_TTL,
                    bool(spec.aaaa),
                )
            )
    return classes


def _service_name(spec: NameSpec, domain: str) -> NameClass:
    assert spec.service is not None
    form = spec.form or "short"
    namespace = spec.namespace
    if form == "short":
        text = spec.service
    else:
        ns = namespace or OWN_NAMESPACE
        text = {
            "namespaced": f"{spec.service}.{ns}",
            "fqdn": f"{spec.service}.{ns}.svc.{domain}",
            "fqdn-dot": f"{spec.service}.{ns}.svc.{domain}.",
        }[form]
    return NameClass(
        spec.id, text, spec.count or 1, f"service ({form})", text,
        spec.exists if spec.exists is not None else True,
        spec.ttl if spec.ttl is not None else DEFAULT_SERVICE_TTL,
        spec.negative_ttl if spec.negative_ttl is not None else DEFAULT_NEGATIVE_TTL,
        bool(spec.aaaa), spec.service, namespace,
    )
