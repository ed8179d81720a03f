"""How a failed exchange reaches the client (issue 7 items 3-4, measured on real
CoreDNS): SERVFAIL after 2 s once forward has marked the upstream down, after 4 s in
1.14.7, after 6 s before; the client follows its SERVFAIL path and its timeout path,
and the model keeps, per (class, delay), the larger follow-up count of the two."""

from pathlib import Path

from kalc_formal.analysis.lookups import shifted_times
from kalc_formal.clients.resolver import ClientReply, Packet
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import analyse_inputs

BLIPS = str(Path(__file__).resolve().parent.parent / "examples" / "upstream-blips")


def _followups(version):
    analysis = analyse_inputs(read_inputs([BLIPS], version=version))

    def short(key_id):
        ref = analysis.keys[key_id].ref
        assert ref is not None
        return f"{ref.template}/{ref.qtype}"

    return {
        short(key.id): {(short(target), delay): count for target, delay, count in key.followups}
        for key in analysis.model.key_classes if key.followups
    }


def test_servfail_after_two_seconds_starts_follow_ups_two_steps_later():
    for version in ("1.11.1", "1.14.7"):
        walk = _followups(version)["<name:external-apis>.ec2.internal./A"]
        # the glibc client re-sends the failed candidate, then the as-is name
        assert walk[("<name:external-apis>./A", 2)] == 1
        assert walk[("<name:external-apis>.ec2.internal./A", 2)] == 1
        # the timeout path is kept as well
        assert walk[("<name:external-apis>./A", 10)] == 1


def _packet(time, qname, qtype):
    return Packet(qname, qtype, "10.96.0.10", 1, time, ClientReply.SERVFAIL)


def test_a_round_with_a_failed_query_delays_the_later_rounds():
    packets = [_packet(0.0, "a.", "A"), _packet(0.0, "a.", "AAAA"), _packet(0.0, "a.", "A"),
               _packet(0.0, "b.", "A"), _packet(0.0, "b.", "AAAA")]
    assert shifted_times(packets, {("a.", "A")}, 2.0) == [0.0, 0.0, 2.0, 4.0, 4.0]
    assert shifted_times(packets, set(), 2.0) == [0.0] * 5
