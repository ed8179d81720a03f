"""views/explain.py on hand-built Analysis and trace values (tests/hand_built.py)."""

from dataclasses import replace

import pytest

from kalc_formal.views.explain import consequences, event_chain
from tests.hand_built import (
    CACHE_AT,
    GROUP,
    KEY,
    LIMIT_AT,
    SCOPE,
    WORKLOAD_AT,
    analysis,
    step,
    unsafe,
)


def chain(built, *steps):
    return event_chain(built, unsafe(*steps).counterexample)


def of_kind(events, kind):
    return [e for e in events if e.kind == kind]


def test_a_surge_step_names_the_pods_the_rate_and_the_workload_line():
    (event,) = of_kind(chain(analysis(), step(0, lookups=300)), "surge")
    assert event.t == 0
    assert event.text == (
        "surge: pods of ns shop (Deployment/web) look up api.example.com: 300 lookups/s in the "
        "cluster (baseline 100/s), e.g. 300 pods at 1/s per name; glibc sends 2 queries per lookup"
    )
    assert event.spans == (WORKLOAD_AT,)


def test_many_names_are_named_by_their_example_and_rates_are_per_second():
    (event,) = of_kind(chain(analysis(names=20, step_seconds=2), step(0, lookups=600)), "surge")
    assert event.text.startswith(
        "surge: pods of ns shop (Deployment/web) look up 20 names like api.example.com: "
        "300 lookups/s in the cluster (baseline 50/s)"
    )


def test_demand_at_baseline_in_the_first_step_is_not_an_event_nor_an_unchanged_later_step():
    events = chain(analysis(), step(0, lookups=100, sent=10), step(1, lookups=300),
                   step(2, lookups=300))
    assert [(e.t, e.kind) for e in events if e.kind in ("surge", "demand")] == [(1, "surge")]


def test_a_drop_back_to_baseline_is_demand_not_surge():
    events = chain(analysis(), step(0, lookups=300, sent=10), step(1, lookups=100))
    assert [(e.t, e.kind) for e in events if e.kind in ("surge", "demand")] == [
        (0, "surge"), (1, "demand"),
    ]


def test_misses_of_an_evicting_pool_say_any_entry_can_be_evicted():
    (event,) = of_kind(chain(analysis(capacity=10), step(0, queries=60, misses=20, sent=40)),
                       "misses")
    assert event.text == (
        "the busiest CoreDNS replica: 60 queries for api.example.com. A/AAAA (20 keys, shared by "
        "all namespaces); 20 miss (its pool holds 10 of 20 keys: any entry can be evicted at any "
        "insert, D3, and miss again, up to every query of each key, D10) -> forward sends 2 per "
        "miss -> 40 upstream packets"
    )
    assert event.spans == (CACHE_AT,)
    assert event.facts == ("D2", "D4", "E2")


def test_misses_of_a_pool_that_keeps_its_keys_say_how_many_were_cached():
    (event,) = of_kind(chain(analysis(capacity=100), step(0, live=7, misses=20, sent=40)),
                       "misses")
    assert "20 miss (7 were cached; the cache keeps them 5 s) -> forward sends 2" in event.text


def test_misses_of_an_autopath_walk_cite_the_walk_facts():
    (event,) = of_kind(chain(analysis(walk=True), step(0)), "misses")
    assert "-> autopath walks the search path, 2 forwarded per miss (cache skipped, C5) ->" \
        in event.text
    assert event.facts == ("C5", "C8", "D8", "K2")


def test_misses_of_uncached_keys_say_not_cached():
    built = analysis(walk=True)
    built.keys[KEY].pool = None
    (event,) = of_kind(chain(built, step(0)), "misses")
    assert "20 miss (not cached: autopath answers above the cache, D8) ->" in event.text


def test_misses_while_an_answer_is_on_its_way_are_not_merged():
    built = analysis(capacity=100)
    built = replace(built, model=replace(built.model, in_flight_steps=1))
    (event,) = of_kind(chain(built, step(0, misses=20, fills=5, sent=40)), "misses")
    assert ("; 15 of them come while an answer for their key is still on its way (5 new "
            "entries in this step; an answer may take up to 1 s more): identical misses are not "
            "merged (D10)") in event.text


def test_re_sends_of_earlier_failures_are_counted_apart():
    (event,) = of_kind(chain(analysis(), step(0, misses=20, sent=46)), "misses")
    assert event.text.endswith("-> 46 upstream packets, 6 of them re-sends of earlier failures")


def test_a_key_class_that_sends_nothing_is_not_an_event():
    assert of_kind(chain(analysis(), step(0, sent=0, misses=20)), "misses") == []


def test_the_violation_names_the_scope_its_packets_and_the_limit_line():
    (event,) = of_kind(chain(analysis(), step(0, sent=51)), "violation")
    assert event.text == (
        "the busiest node sends 51 packets to 169.254.169.253 in 1 s: over the limit of 50/s "
        "(scope node)"
    )
    assert event.spans == (LIMIT_AT,)
    assert event.facts == ("I1", "I5")


def test_a_sliding_window_adds_up_the_steps_it_holds():
    events = chain(analysis(window_steps=2), step(0, sent=30), step(1, sent=40))
    (event,) = of_kind(events, "violation")
    assert event.t == 1
    assert ("sends 70 packets to 169.254.169.253 in steps t=0..1 s (30 + 40; one sliding "
            "one-second window can hold them all)") in event.text
    assert [e.t for e in of_kind(events, "misses")] == [0, 1]


def test_only_the_last_window_shows_misses():
    events = chain(analysis(), step(0, sent=10), step(1, sent=60))
    assert [e.t for e in of_kind(events, "misses")] == [1]


def test_no_violation_event_within_the_limit():
    assert of_kind(chain(analysis(), step(0, sent=50)), "violation") == []


def test_restarts_and_outages_are_events():
    events = chain(analysis(), step(0, restarted=frozenset({GROUP}), out=frozenset({SCOPE})))
    (restart,) = of_kind(events, "restart")
    assert restart.text == "the busiest CoreDNS replica restarts: its cache is empty"
    assert restart.facts == ("D13",)
    (outage,) = of_kind(events, "outage")
    assert outage.text == ("the upstream 169.254.169.253 answers nothing in this step (an "
                           "outage the environment allows)")
    assert outage.spans == (LIMIT_AT,)


def test_failures_before_the_last_step_give_the_re_sends_and_the_clients_next_try():
    built = analysis()
    key = replace(built.model.key_classes[0], failed_sends=((0, 1), (2, 1)),
                  followups=((KEY, 5, 1),))
    built = replace(built, model=replace(built.model, key_classes=(key,)))
    events = chain(built, step(0, failed=4, sent=10), step(1, failed=4, sent=60))
    (event,) = of_kind(events, "failures")
    assert event.t == 0
    assert event.text == (
        "the busiest CoreDNS replica: 4 exchanges for api.example.com. fail and are not cached "
        "(A24, D7); forward re-sends them at +2 s (E5, E6); clients ask again after 5 s"
    )


@pytest.mark.parametrize(
    ("version", "sends", "servfail"),
    [("1.11.1", "about 3 sends", "6 s after"), ("1.14.6", "about 3 sends", "6 s after"),
     ("1.14.7", "2 sends", "4 s after"), ("v1.15.0", "2 sends", "4 s after")],
)
def test_what_follows_depends_on_the_coredns_release(version, sends, servfail):
    texts = [e.text for e in consequences(analysis(version=version), step(3))]
    assert f"forward re-sends a dropped query after its 2 s read timeout, {sends} within its 5 s " \
        "deadline (E5, E6)" in texts
    assert any(text.startswith(servfail) for text in texts)


@pytest.mark.parametrize(
    ("libc", "says"),
    [("glibc", "glibc re-sends after its timeout (attempts:2)"),
     ("musl", "musl re-sends, then fails the lookup"),
     ("go", "Go re-sends and goes on with the search list")],
)
def test_what_the_client_does_next_depends_on_its_library(libc, says):
    events = consequences(analysis(libc=libc), step(3))
    assert all(e.kind == "then" and e.t == 3 for e in events)
    assert events[0].text.startswith("the upstream drops the packets above its limit")
    assert [e.text for e in events if e.text.startswith(says)] != []
    others = {"glibc", "musl", "Go"} - {"Go" if libc == "go" else libc}
    assert not any(e.text.startswith(other + " ") for e in events for other in others)


def test_the_chain_ends_with_the_violation_then_what_follows():
    kinds = [e.kind for e in chain(analysis(), step(0, sent=60))]
    assert kinds == ["surge", "misses", "violation", "then", "then", "then", "then"]


# ---- the grouped chain (text report): the qtypes of one name at one server together

AAAA = "k1"


def two_qtypes(**fields):
    """The hand-built analysis with its key class split into an A class (k0) and an AAAA
    class (k1) of the same name, cache and server."""
    built = analysis(**fields)
    first = built.model.key_classes[0]
    keys = (first, replace(first, id=AAAA))
    info = built.keys[KEY]
    return replace(
        built, model=replace(built.model, key_classes=keys),
        keys={KEY: replace(info, qtypes={"A"}), AAAA: replace(info, qtypes={"AAAA"})},
    )


def both(t, a, aaaa, **common):
    """A step of both classes: ``a`` and ``aaaa`` give each one's figures (as for step())."""
    one, other = step(t, **{**common, **a}), step(t, **{**common, **aaaa})
    fields = ("live", "expired", "queries", "misses", "fills", "failed", "sent")
    merged = {
        name: {**getattr(one, name), **{k.replace(KEY, AAAA): n for k, n in getattr(other, name).items()}}
        for name in fields
    }
    return replace(one, **merged, upstream={SCOPE: one.sent[KEY] + other.sent[KEY]})


def grouped(built, *steps):
    return event_chain(built, unsafe(*steps).counterexample, grouped=True)


def test_equal_figures_of_a_and_aaaa_are_one_line_said_once():
    built = two_qtypes(capacity=10)
    (event,) = of_kind(grouped(built, both(0, {}, {})), "misses")
    assert event.text == (
        "the busiest CoreDNS replica: 60 queries each for api.example.com. A and AAAA (20 keys "
        "each, shared by all namespaces); 20 miss each (its pool holds 10 of 40 keys: any entry "
        "can be evicted at any insert, D3, and miss again, up to every query of each key, D10) "
        "-> forward sends 2 per miss -> 40 upstream packets each, 80 in all"
    )
    assert (event.keys, event.packets) == ((KEY, AAAA), 80)
    assert event.spans == (CACHE_AT,)
    assert event.facts == ("D2", "D4", "E2")


def test_the_ungrouped_chain_keeps_one_event_per_key_class():
    built = two_qtypes(capacity=10)
    events = of_kind(chain(built, both(0, {}, {})), "misses")
    assert [(e.keys, e.packets) for e in events] == [((KEY,), 40), ((AAAA,), 40)]
    assert " A (20 keys" in events[0].text
    assert " AAAA (20 keys" in events[1].text


def test_differing_figures_are_each_given_with_their_qtype():
    built = two_qtypes(capacity=10)
    (event,) = of_kind(grouped(built, both(0, {}, {"queries": 50, "misses": 10, "sent": 26})),
                       "misses")
    assert event.text.startswith(
        "the busiest CoreDNS replica: 60 A and 50 AAAA queries for api.example.com. (20 keys "
        "each, shared by all namespaces); A: 20 miss (its pool holds"
    )
    assert "; AAAA: 10 miss (its pool holds 10 of 40 keys" in event.text
    assert event.text.endswith(
        "-> forward sends 2 per miss -> 40 A + 26 AAAA = 66 upstream packets, 6 of them "
        "re-sends of earlier failures (0 A and 6 AAAA)"
    )
    assert event.packets == 66


def test_a_shared_failure_is_said_once_for_both_qtypes():
    built = two_qtypes(capacity=100)
    step_a = {"live": 5, "fills": 0}
    (event,) = of_kind(grouped(built, both(0, step_a, {"live": 9, "fills": 0}, failed=20)),
                       "misses")
    assert "A: 20 miss (5 were cached; the cache keeps them 5 s); AAAA: 20 miss (9 were cached" \
        in event.text
    assert event.text.count("the upstream is out") == 1
    assert "exchange (D10) and 20 of each fail -> forward sends 2 per miss" in event.text


def test_failures_of_a_and_aaaa_are_one_line():
    built = two_qtypes()
    keys = tuple(replace(k, failed_sends=((0, 1), (2, 1)), followups=((KEY, 5, 1),))
                 for k in built.model.key_classes)
    built = replace(built, model=replace(built.model, key_classes=keys))
    events = grouped(built, both(0, {"failed": 4}, {"failed": 6}), both(1, {}, {}, sent=60))
    (event,) = of_kind(events, "failures")
    assert event.text == (
        "the busiest CoreDNS replica: 4 A and 6 AAAA exchanges for api.example.com. fail and are "
        "not cached (A24, D7); forward re-sends them at +2 s (E5, E6); clients ask again after 5 s"
    )
    assert event.keys == (KEY, AAAA)


def test_other_names_and_an_autopath_walk_of_the_same_name_are_lines_of_their_own():
    built = two_qtypes()
    other = replace(built.keys[AAAA], template="web.example.com.", display="web.example.com.")
    assert len(of_kind(grouped(replace(built, keys={**built.keys, AAAA: other}),
                               both(0, {}, {})), "misses")) == 2
    walk = replace(built.keys[AAAA], walk=True)
    assert len(of_kind(grouped(replace(built, keys={**built.keys, AAAA: walk}),
                               both(0, {}, {})), "misses")) == 2


def test_grouped_lines_are_ranked_by_their_packets():
    built = two_qtypes()
    other = replace(built.keys[AAAA], template="web.example.com.", display="web.example.com.")
    built = replace(built, keys={**built.keys, AAAA: other})
    events = of_kind(grouped(built, both(0, {"sent": 10}, {"sent": 30})), "misses")
    assert [e.packets for e in events] == [30, 10]
