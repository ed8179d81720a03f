"""Domain stage: the Kubernetes kinds the cluster model reads, their API groups, and where
a workload kind keeps its pod spec."""

from __future__ import annotations

__all__ = ["API_GROUPS", "DNS_RELEVANT_KINDS", "WORKLOAD_KINDS", "pod_path"]

WORKLOAD_KINDS = frozenset(
    {
        "Pod",
        "ReplicationController",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
    }
)
"""Kinds that carry a pod template (or are a pod)."""

DNS_RELEVANT_KINDS = WORKLOAD_KINDS | {"ConfigMap", "Service", "HorizontalPodAutoscaler", "Node"}
"""Kinds whose fields the cluster model reads; every other kind is only counted."""

API_GROUPS = {
    "Pod": {""},
    "ReplicationController": {""},
    "Deployment": {"apps", "extensions"},
    "ReplicaSet": {"apps", "extensions"},
    "DaemonSet": {"apps", "extensions"},
    "StatefulSet": {"apps"},
    "Job": {"batch"},
    "CronJob": {"batch"},
    "ConfigMap": {""},
    "Service": {""},
    "Node": {""},
    "HorizontalPodAutoscaler": {"autoscaling"},
}
"""The API groups each kind read is served from (another group: counted, not read)."""


def pod_path(kind: str) -> tuple[str, ...]:
    """The path of the pod spec in an object of a workload ``kind``."""
    if kind == "Pod":
        return ("spec",)
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")
