"""resolv.conf parsing, each library's reading of it, and rendering."""

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalc_formal.clients.resolvconf import (
    Libc,
    ResolvConf,
    ResolvOption,
    is_search_domain,
    parse_resolv_conf,
    read_settings,
    render_resolv_conf,
    require_libc,
)
from kalc_formal.errors import ConfigErrors, InvalidArgument
from kalc_formal.source import Source

K8S = (
    "search default.svc.cluster.local svc.cluster.local cluster.local ec2.internal\n"
    "nameserver 10.96.0.10\n"
    "options ndots:5\n"
)


def parse(text, path="resolv.conf"):
    return parse_resolv_conf(Source(path, text))


def errors_of(text):
    with pytest.raises(ConfigErrors) as caught:
        parse(text)
    return [str(e) for e in caught.value.errors]


def test_kubernetes_pod_file():
    conf = parse(K8S)
    assert conf.nameservers == ("10.96.0.10",)
    assert conf.search == ("default.svc.cluster.local", "svc.cluster.local", "cluster.local", "ec2.internal")
    assert conf.options == (ResolvOption("ndots", "5"),)
    assert conf.option("ndots") == ResolvOption("ndots", "5")
    assert conf.option("rotate") is None
    for libc in Libc:
        settings = conf.settings(libc)
        assert settings.ndots == 5
        assert settings.timeout == 5
        assert settings.attempts == 2


def test_comments_blank_lines_and_sortlist_are_accepted():
    conf = parse("# generated\n\n; old style\nsortlist 10.0.0.0/255.0.0.0\nnameserver 10.0.0.1\n")
    assert conf.nameservers == ("10.0.0.1",)


def test_unknown_keyword_is_an_error_with_position():
    assert errors_of("nameserver 10.0.0.1\noption ndots:2\n") == [
        "resolv.conf:2:1: unknown keyword 'option'; resolvers ignore this line "
        "(known: nameserver, search, domain, options, sortlist)\n    option ndots:2\n    ^"
    ]


def test_every_bad_line_is_reported():
    errors = errors_of("nameserver\nnameserver dns.example\nsearch ok.example bad..name\noptions ndots:x timeout:\n")
    assert [e.splitlines()[0] for e in errors] == [
        "resolv.conf:1:12: nameserver needs an IP address",
        "resolv.conf:2:12: 'dns.example' is not an IP address; resolvers ignore this line",
        "resolv.conf:3:19: 'bad..name' is not a domain name",
        "resolv.conf:4:9: ndots needs a non-negative integer, as ndots:2",
        "resolv.conf:4:17: timeout needs a non-negative integer, as timeout:2",
    ]


def test_error_caret_under_the_column():
    text = errors_of("search   a..b\n")[0]
    assert text.splitlines()[1:] == ["    search   a..b", "             ^"]


def test_oversized_file_is_refused():
    errors = errors_of("#" * (1 << 20) + "x")
    assert errors[0].startswith("resolv.conf:1:1: file larger than")


def test_last_search_or_domain_line_wins_and_options_merge():
    conf = parse("search a.example\ndomain b.example\noptions ndots:2 rotate\noptions ndots:3 foo:bar\n")
    assert conf.search == ("b.example",)
    assert conf.options == (ResolvOption("ndots", "3"), ResolvOption("rotate"), ResolvOption("foo", "bar"))


def test_unknown_options_are_kept():
    conf = parse("options ndots:2 weird-thing:7 another\n")
    assert [str(o) for o in conf.options] == ["ndots:2", "weird-thing:7", "another"]


def test_ipv6_nameserver_with_zone():
    assert parse("nameserver fe80::1%eth0\n").nameservers == ("fe80::1%eth0",)


def test_caps_per_library():
    """G1 (glibc 15/30/5), G9 (musl 15/60/10), G16 verified for Go 1.19: ndots
    clamped to 15, timeout and attempts at least 1 and not capped."""
    text = "nameserver 10.0.0.1\noptions ndots:20 timeout:100 attempts:50\n"
    caps = {libc: (s.ndots, s.timeout, s.attempts) for libc in Libc for s in [read_settings(text, libc)]}
    assert caps == {Libc.GLIBC: (15, 30, 5), Libc.MUSL: (15, 60, 10), Libc.GO: (15, 100, 50)}
    zero = "options ndots:0 timeout:0 attempts:0\n"
    floors = {libc: (s.ndots, s.timeout, s.attempts) for libc in Libc for s in [read_settings(zero, libc)]}
    assert floors == {Libc.GLIBC: (0, 0, 0), Libc.MUSL: (0, 0, 0), Libc.GO: (0, 1, 1)}


def test_musl_ignores_lines_of_255_characters_or_more():
    """Measured: a 254-character search line is used, a 255-character one is not."""
    for length, used in ((254, True), (255, False)):
        domains = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".example " + "d" * (length - 207)
        line = "search " + domains
        assert len(line) == length
        settings = read_settings(line + "\nnameserver 10.0.0.1\n", Libc.MUSL)
        assert bool(settings.search) is used
        assert bool(settings.ignored) is not used
        assert read_settings(line + "\n", Libc.GLIBC).search == tuple(domains.split())
        assert read_settings(line + "\n", Libc.GO).search == tuple(d + "." for d in domains.split())


def test_domain_line_per_library():
    text = "domain one.example two.example\n"
    assert read_settings(text, Libc.GLIBC).search == ("one.example",)
    assert read_settings(text, Libc.MUSL).search == ("one.example", "two.example")
    assert read_settings(text, Libc.GO).search == ("one.example.",)


def test_empty_search_line_per_library():
    text = "search a.example\nsearch\n"
    assert read_settings(text, Libc.GLIBC).search == ("a.example",)
    assert read_settings(text, Libc.MUSL).search == ()
    assert read_settings(text, Libc.GO).search == ()


def test_flags_per_library():
    text = "options rotate single-request-reopen no-tld-query no-aaaa use-vc\n"
    glibc, musl, go = (read_settings(text, libc) for libc in Libc)
    assert (glibc.rotate, glibc.single_request, glibc.single_request_reopen, glibc.no_tld_query,
            glibc.no_aaaa, glibc.use_vc) == (True, True, True, True, True, True)
    assert (musl.rotate, musl.single_request, musl.no_tld_query, musl.use_vc) == (False, False, False, False)
    assert (go.rotate, go.single_request, go.single_request_reopen, go.no_tld_query, go.use_vc) == (
        True, True, False, False, True)


def test_glibc_matches_option_prefixes_go_does_not():
    text = "options rotatex\n"
    assert read_settings(text, Libc.GLIBC).rotate
    assert not read_settings(text, Libc.GO).rotate


def test_glibc_reads_numbers_with_c_atoi_and_go_with_net_dtoi():
    text = "options ndots:-1 timeout:+3 attempts:2x\n"
    glibc, go = read_settings(text, Libc.GLIBC), read_settings(text, Libc.GO)
    assert (glibc.ndots, glibc.timeout, glibc.attempts) == (15, 3, 2)  # -1 & 0xF
    assert (go.ndots, go.timeout, go.attempts) == (0, 1, 2)  # no sign: 0, then at least 1
    digits = "options ndots:\u0663 timeout:\u0663\n"  # ARABIC-INDIC DIGIT THREE
    glibc, go = read_settings(digits, Libc.GLIBC), read_settings(digits, Libc.GO)
    assert (glibc.ndots, glibc.timeout, go.ndots, go.timeout) == (0, 0, 0, 1)


def test_keyword_not_at_column_one():
    text = "  nameserver 10.0.0.9\nnameserver 10.0.0.1\n"
    assert read_settings(text, Libc.GLIBC).nameservers == ("10.0.0.1",)
    assert read_settings(text, Libc.MUSL).nameservers == ("10.0.0.1",)
    assert read_settings(text, Libc.GO).nameservers == ("10.0.0.9", "10.0.0.1")
    assert read_settings(text, Libc.GLIBC).ignored


def test_three_nameservers_at_most_and_defaults():
    text = "".join(f"nameserver 10.0.0.{i}\n" for i in range(1, 6))
    for libc in Libc:
        assert read_settings(text, libc).nameservers == ("10.0.0.1", "10.0.0.2", "10.0.0.3")
    assert read_settings("", Libc.GLIBC).nameservers == ("127.0.0.1",)
    assert read_settings("", Libc.MUSL).nameservers == ("127.0.0.1",)
    assert read_settings("", Libc.GO).nameservers == ("127.0.0.1", "::1")


def test_crlf_line_endings_break_glibc_nameservers():
    """glibc ends a nameserver address at space, tab or newline only."""
    text = "nameserver 10.0.0.1\r\n"
    assert read_settings(text, Libc.GLIBC).nameservers == ("127.0.0.1",)
    assert read_settings(text, Libc.MUSL).nameservers == ("10.0.0.1",)
    assert read_settings(text, Libc.GO).nameservers == ("10.0.0.1",)


def test_render_in_runtime_order():
    conf = ResolvConf(("10.96.0.10", "10.96.0.11"), ("a.example",), (ResolvOption("ndots", "5"), ResolvOption("rotate")))
    assert render_resolv_conf(conf) == (
        "search a.example\nnameserver 10.96.0.10\nnameserver 10.96.0.11\noptions ndots:5 rotate\n")
    assert conf.text == render_resolv_conf(conf)
    assert render_resolv_conf(ResolvConf()) == ""


labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
domains = st.lists(labels, min_size=1, max_size=4).map(".".join)
ips = st.ip_addresses().map(str)
options = st.one_of(
    st.builds(ResolvOption, st.sampled_from(["ndots", "timeout", "attempts"]), st.integers(0, 99).map(str)),
    st.builds(ResolvOption, st.sampled_from(["rotate", "edns0", "single-request", "trust-ad"])),
)


@given(st.lists(ips, max_size=4), st.lists(domains, max_size=6), st.lists(options, max_size=4, unique_by=lambda o: o.name))
def test_parse_of_render_round_trips(nameservers, search, opts):
    conf = ResolvConf(tuple(nameservers), tuple(search), tuple(opts))
    assert parse(render_resolv_conf(conf)) == conf


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_readers_never_crash(text):
    for libc in Libc:
        settings = read_settings(text, libc)
        assert settings.nameservers
        assert 0 <= settings.ndots <= 15


def test_is_domain_name():
    assert is_search_domain("cluster.local")
    assert is_search_domain("cluster.local.")
    assert is_search_domain(".")
    assert is_search_domain("_tcp.example")
    assert not is_search_domain("")
    assert not is_search_domain("a..b")
    assert not is_search_domain("-a.example")
    assert not is_search_domain("a" * 64 + ".example")
    assert not is_search_domain("#")


def test_require_libc():
    assert require_libc("musl") is Libc.MUSL
    with pytest.raises(InvalidArgument, match="unknown libc 'uclibc'"):
        require_libc("uclibc")


def test_docstring_examples():
    from kalc_formal.clients import resolvconf, resolver

    for module in (resolvconf, resolver):
        result = doctest.testmod(module)
        assert result.attempted > 0
        assert result.failed == 0
