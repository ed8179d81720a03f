"""Go's parsing helpers (kalc_formal.golang), each against the Go function it mirrors."""

import doctest

import pytest

from kalc_formal import golang


def test_atoi_takes_a_sign_and_ascii_digits_within_int64():
    assert [golang.atoi(t) for t in ("0", "+7", "-42", "007", str(2**63 - 1), str(-(2**63)))] == [
        0, 7, -42, 7, 2**63 - 1, -(2**63),
    ]
    for bad in ("", "+", "1.5", " 1", "1 ", "0x10", "1_000", "١٢"):
        with pytest.raises(ValueError, match=r'^strconv.Atoi: parsing ".*": invalid syntax$'):
            golang.atoi(bad)
    for big in (str(2**63), str(-(2**63) - 1)):
        with pytest.raises(ValueError, match=r"value out of range$"):
            golang.atoi(big)


def test_parse_uint_takes_no_sign_and_checks_the_bit_size():
    assert golang.parse_uint("4294967295", 32) == 2**32 - 1
    with pytest.raises(ValueError, match=r'^strconv.ParseUint: parsing "4294967296": value out of range$'):
        golang.parse_uint("4294967296", 32)
    for bad in ("-1", "+1", "", "1e3"):
        with pytest.raises(ValueError, match="invalid syntax"):
            golang.parse_uint(bad, 32)


def test_dtoi_reads_leading_ascii_digits_and_stops_at_big():
    assert [golang.dtoi(t) for t in ("5", "15x", "", "x5", "99999999", "-3", "٣")] == [
        5, 15, 0, 0, golang.DTOI_BIG, 0, 0,
    ]


def test_parse_duration():
    assert [golang.parse_duration(t) for t in ("0", "5s", "1m30s", "1.5h", "300ms", "-2s", "+1us", "1µs", ".5s")] == [
        0, 5, 90, 5400, 0.3, -2, 1e-6, 1e-6, 0.5,
    ]
    for bad in ("", "5", "s", "1d", ".s", "--1s", "1s5"):
        with pytest.raises(ValueError, match="time: "):
            golang.parse_duration(bad)
    with pytest.raises(ValueError, match='time: unknown unit "d" in duration "1d"'):
        golang.parse_duration("1d")
    with pytest.raises(ValueError, match='time: missing unit in duration "5"'):
        golang.parse_duration("5")


def test_split_host_port():
    assert golang.split_host_port("10.0.0.1:53") == ("10.0.0.1", "53")
    assert golang.split_host_port("[fd00::1]:53") == ("fd00::1", "53")
    assert golang.split_host_port(":8080") == ("", "8080")
    for bad, reason in (
        ("10.0.0.1", "missing port in address"),
        ("[fd00::1]", "missing port in address"),
        ("[fd00::1", "missing ']' in address"),
        ("fd00::1:53", "too many colons in address"),
        ("a[b]:53", "unexpected '[' or ']' in address"),
    ):
        with pytest.raises(ValueError, match=f"^address {bad.replace('[', '.')}: {reason.replace('[', '.').replace(']', '.')}$"):
            golang.split_host_port(bad)


def test_parse_ip_refuses_zones():
    assert str(golang.parse_ip("10.0.0.1")) == "10.0.0.1"
    assert golang.parse_ip("fe80::1%eth0") is None
    assert golang.parse_ip("example.com") is None


def test_fqdn_adds_a_dot_unless_the_last_one_is_unescaped():
    assert [golang.fqdn(n) for n in ("a", "a.", "a\\.", "a\\\\.")] == ["a.", "a.", "a\\..", "a\\\\."]


def test_is_domain_name_is_miekg_dns():
    assert golang.is_domain_name("cluster.local")
    assert golang.is_domain_name(".")
    assert golang.is_domain_name("10.0.0.0/8")  # miekg accepts any byte in a label
    assert golang.is_domain_name("a" * 63 + ".example")
    assert not golang.is_domain_name("a" * 64 + ".example")
    assert not golang.is_domain_name("")
    assert not golang.is_domain_name("a..b")
    assert not golang.is_domain_name(".a")
    assert not golang.is_domain_name("a\\")
    assert golang.is_domain_name(".".join(["a" * 63] * 4))
    assert not golang.is_domain_name(".".join(["a" * 63] * 4) + ".a")


def test_module_examples():
    result = doctest.testmod(golang)
    assert (result.attempted > 0, result.failed) == (True, 0)
