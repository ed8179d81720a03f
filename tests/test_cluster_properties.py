import io
import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalc_formal.kubernetes.cluster import DNS_POLICIES, build_cluster
from kalc_formal.kubernetes.manifests import load_documents

KINDS = {
    "Pod": "v1",
    "ReplicationController": "v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}

labels_text = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
dns_labels = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
domains = st.lists(dns_labels, min_size=1, max_size=4).map(".".join)
addresses = st.ip_addresses().map(str)
options = st.lists(
    st.tuples(
        st.sampled_from(
            ["ndots", "timeout", "attempts", "edns0", "single-request-reopen", "rotate"]
        ),
        st.none() | st.integers(0, 15).map(str),
    ),
    max_size=4,
)


@st.composite
def workloads(draw):
    kind = draw(st.sampled_from(sorted(KINDS)))
    spec = {
        "name": draw(dns_labels),
        "namespace": draw(st.none() | dns_labels),
        "replicas": draw(st.none() | st.integers(0, 5000)),
        "labels": draw(st.dictionaries(labels_text, labels_text, max_size=3)),
        "policy": draw(st.none() | st.sampled_from(DNS_POLICIES)),
        "host_network": draw(st.none() | st.booleans()),
        "config": None,
        "images": draw(
            st.lists(
                st.sampled_from(
                    [
                        "alpine:3.19",
                        "golang:1.22",
                        "gcr.io/distroless/static",
                        "python:3.12-slim",
                    ]
                ),
                max_size=3,
            )
        ),
    }
    if spec["policy"] == "None" or draw(st.booleans()):
        spec["config"] = {
            "nameservers": draw(
                st.lists(
                    addresses,
                    min_size=1 if spec["policy"] == "None" else 0,
                    max_size=3,
                    unique=True,
                )
            ),
            "searches": draw(st.lists(domains, max_size=6, unique=True)),
            "options": draw(options),
        }
    return kind, spec


def manifest(kind, spec):
    pod = {
        "containers": [
            {"name": f"c{i}", "image": image} for i, image in enumerate(spec["images"])
        ]
    }
    if spec["policy"] is not None:
        pod["dnsPolicy"] = spec["policy"]
    if spec["host_network"] is not None:
        pod["hostNetwork"] = spec["host_network"]
    if spec["config"] is not None:
        config = spec["config"]
        pod["dnsConfig"] = {
            "nameservers": config["nameservers"],
            "searches": config["searches"],
            "options": [
                {"name": n} if v is None else {"name": n, "value": v}
                for n, v in config["options"]
            ],
        }
    metadata = {"name": spec["name"]}
    if spec["namespace"] is not None:
        metadata["namespace"] = spec["namespace"]
    document = {"apiVersion": KINDS[kind], "kind": kind, "metadata": metadata}
    template = {"metadata": {"labels": spec["labels"]}, "spec": pod}
    if kind == "Pod":
        document["metadata"]["labels"] = spec["labels"]
        document["spec"] = pod
    elif kind == "CronJob":
        job = {"template": template}
        if spec["replicas"] is not None:
            job["parallelism"] = spec["replicas"]
        document["spec"] = {"schedule": "* * * * *", "jobTemplate": {"spec": job}}
    else:
        document["spec"] = {"template": template}
        if spec["replicas"] is not None and kind != "DaemonSet":
            document["spec"]["parallelism" if kind == "Job" else "replicas"] = spec[
                "replicas"
            ]
    return document


def unique_by_key(items):
    seen = {}
    for kind, spec in items:
        seen.setdefault(
            (kind, spec["namespace"] or "default", spec["name"]), (kind, spec)
        )
    return list(seen.values())


def expected_replicas(kind, spec):
    if kind == "DaemonSet":
        return None
    if kind == "Pod" or spec["replicas"] is None:
        return 1
    return spec["replicas"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(workloads(), min_size=1, max_size=6).map(unique_by_key),
    style=st.sampled_from(["yaml", "list", "json"]),
    flow=st.booleans(),
)
def test_generated_manifests_round_trip_through_load_and_build(items, style, flow):
    documents = [manifest(kind, spec) for kind, spec in items]
    if style == "list":
        text = yaml.safe_dump(
            {"apiVersion": "v1", "kind": "List", "items": documents},
            default_flow_style=flow,
        )
    elif style == "json":
        text = "\n---\n".join(json.dumps(d, indent=2) for d in documents)
    else:
        text = yaml.safe_dump_all(documents, default_flow_style=flow)
    loaded = load_documents(["-"], stdin=io.StringIO(text))
    assert loaded.errors == ()
    built = build_cluster(loaded.documents)
    assert built.errors == (), [str(e) for e in built.errors]
    found = {(w.kind, w.namespace, w.name): w for w in built.cluster.workloads}
    assert len(found) == len(items)
    source_lines = text.splitlines()
    for kind, spec in items:
        workload = found[(kind, spec["namespace"] or "default", spec["name"])]
        assert workload.namespace_defaulted == (spec["namespace"] is None)
        assert workload.replicas == expected_replicas(kind, spec)
        assert workload.per_node == (kind == "DaemonSet")
        assert dict(workload.labels) == spec["labels"]
        assert workload.dns.policy.value == (spec["policy"] or "ClusterFirst")
        assert workload.dns.policy_defaulted == (spec["policy"] is None)
        assert workload.dns.host_network.value == bool(spec["host_network"])
        assert [i.value for i in workload.images] == spec["images"]
        if spec["config"] is None:
            assert workload.dns.config is None
            continue
        config = workload.dns.config
        assert [n.value for n in config.nameservers] == spec["config"]["nameservers"]
        assert [s.value for s in config.searches] == spec["config"]["searches"]
        assert [(o.name, o.value) for o in config.options] == spec["config"]["options"]
        for located in (*config.nameservers, *config.searches, *workload.images):
            line = source_lines[located.span.line - 1]
            assert (
                line[located.span.column - 1 :].lstrip("\"'").startswith(located.value)
            )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def all_paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from all_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from all_paths(item, (*path, index))


def replaced(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


def data_cluster_documents():
    import os

    folder = os.path.join(os.path.dirname(__file__), "data", "manifests", "cluster")
    return [d.data for d in load_documents([folder]).documents]


CLUSTER_DOCUMENTS = data_cluster_documents()


@settings(max_examples=150, deadline=None)
@given(data=st.data(), new=json_values)
def test_any_value_at_any_field_gives_errors_not_exceptions(data, new):
    number = data.draw(st.integers(0, len(CLUSTER_DOCUMENTS) - 1))
    document = CLUSTER_DOCUMENTS[number]
    path = data.draw(st.sampled_from(list(all_paths(document))))
    documents = list(CLUSTER_DOCUMENTS)
    documents[number] = replaced(document, path, new)
    text = yaml.safe_dump_all(documents)
    loaded = load_documents(["-"], stdin=io.StringIO(text))
    built = build_cluster(loaded.documents)
    for error in loaded.errors + built.errors:
        assert error.span is not None
        assert str(error).startswith(f"<stdin>:{error.span.line}:{error.span.column}: ")


yaml_noise = st.lists(
    st.sampled_from(
        [
            *"ab:- \n\t{}[],#&*!|>'\"%@`?$<>_\\",
            "---",
            "...",
            "kind: Pod\n",
            "{{",
            "&a",
            "*a",
            "<<:",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=yaml_noise)
def test_any_text_gives_documents_or_positioned_errors(text):
    loaded = load_documents(["-"], stdin=io.StringIO(text))
    for error in loaded.errors:
        assert error.span is not None
        assert error.span.line >= 1
        assert error.span.column >= 1
    build_cluster(loaded.documents)
