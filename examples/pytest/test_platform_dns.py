"""The platform team's DNS tests: their own generator, checked by kalc-formal.

Run: `pytest examples/pytest` (with kalc-formal installed, its pytest plugin is on; from
a source checkout add `-p kalc_formal.pytest_plugin`). Three tests pass; the fourth fails
on purpose: it is the incident's configuration, and Hypothesis shrinks it to the fewest
team namespaces that break the upstream limit, with the event chain that does it.
"""

from __future__ import annotations

from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from platform_dns import cluster_objects, write_cluster

import kalc_formal
from kalc_formal.pytest_plugin import (
    assert_capacity,
    assert_change_safe,
    assert_unreachable,
)

DENIAL_ENTRIES = 40_000
"""The denial cache the team sized for 400 namespaces x 20 names x 2 query types
x its search candidates, with room to spare."""


@settings(max_examples=4, deadline=None, database=None, derandomize=True)
@given(namespaces=st.integers(1, 400))
def test_autopath_off_with_a_sized_cache_has_a_quarter_of_headroom_over_the_peak(namespaces):
    manifests, corefile, env = cluster_objects(
        namespaces, autopath=False, denial=DENIAL_ENTRIES, assume_spread=True,
    )
    cluster = kalc_formal.load_objects(manifests, corefile=corefile, env=env)
    assert_capacity(cluster, surge=1.25, require_proof=True)  # 1.25 x the planned peak rate


def test_the_fixed_configuration_has_room_for_100_more_team_namespaces():
    manifests, corefile, env = cluster_objects(
        400, autopath=False, denial=DENIAL_ENTRIES, assume_spread=True,
    )
    cluster = kalc_formal.load_objects(manifests, corefile=corefile, env=env)
    # The edge of the proof as team namespaces are added (a search over whole checks).
    edge = cluster.capacity({"namespaces": (400, 4000)}).edge("namespaces")
    assert edge.exact, edge.text
    assert edge.proved_up_to >= 500, edge.text


# No "explain" phase: it re-runs the failing example under a tracer, slowly.
@settings(max_examples=10, deadline=None, database=None, derandomize=True,
          phases=[Phase.generate, Phase.shrink])
@given(namespaces=st.integers(1, 400))
def test_the_incident_configuration_holds_for_every_namespace_count(namespaces):
    # CoreDNS 1.11.1 with autopath: the configuration of the incident. Expected to fail.
    manifests, corefile, env = cluster_objects(namespaces)
    cluster = kalc_formal.load_objects(manifests, corefile=corefile, env=env)
    assert_unreachable(cluster)


def test_turning_autopath_back_on_after_the_upgrade_to_1_14_7_is_safe(
    kalc_cluster, tmp_path_factory
):
    sized = {"denial": DENIAL_ENTRIES, "assume_spread": True}
    before = kalc_cluster(write_cluster(
        tmp_path_factory.mktemp("before"), 400, autopath=False, **sized,
    ))
    after = kalc_cluster(write_cluster(
        tmp_path_factory.mktemp("after"), 400, coredns_version="1.14.7", autopath=True, **sized,
    ))
    change = assert_change_safe(before, after)
    assert change.movement.value == "still-safe"
    assert any(c.key == "coredns .:53 autopath" for c in change.changes)
