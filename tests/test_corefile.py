"""Corefile syntax (facts A1-A24): lexer, parser, environment, snippets, imports, keys."""

import os
from pathlib import Path

import pytest

from kalc_formal.coredns import corefile as corefile_module
from kalc_formal.coredns.corefile import (
    BlockLine,
    Corefile,
    Directive,
    ServerKey,
    Token,
    limits,
    load_corefile,
    parse_corefile,
    replace_env,
)
from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.source import Source, Span

DATA = Path(__file__).parent / "data" / "corefiles"
VALID = frozenset({"errors", "log", "forward", "cache", "whoami", "template", "kubernetes", "hosts", "view", "bind"})


def parse(text, **keywords):
    return parse_corefile(Source("Corefile", text), **keywords)


def error_of(text, **keywords):
    with pytest.raises(ConfigError) as info:
        parse(text, **keywords)
    return info.value


def where(error):
    return (error.span.line, error.span.column)


def args(directive):
    return [token.text for token in directive.args]


def directive(text, index=0, **keywords):
    return parse(text, **keywords).blocks[0].directives[index]


def key(text, transport="dns", zone=".", port=53):
    return ServerKey(text, transport, zone, port, Span("", 0, 0))


# ---- A1-A6: lexer ------------------------------------------------------------------


def test_a1_tokens_split_on_go_whitespace_but_not_on_other_control_characters():
    log = directive(". {\n    log a\xa0b\u2003c d\x1ce\x00f\n}\n")
    assert args(log) == ["a", "b", "c", "d\x1ce\x00f"]


def test_a1_carriage_return_is_dropped_and_never_separates():
    corefile = parse(". {\r\n    log a\rb\r\n    errors\r\n}\r\n")
    log, errors = corefile.blocks[0].directives
    assert args(log) == ["ab"]
    assert errors.name == "errors"


def test_a2_quoted_token_spans_lines_and_only_escapes_quotes():
    log = directive('. {\n    log "a\nb" c "d\\e" "f\\"g" ""\n}\n')
    assert args(log) == ["a\nb", "c", "d\\e", 'f"g', ""]
    assert [token.quoted for token in log.args] == [True, False, True, True, True]


def test_a2_quote_inside_a_bare_token_is_an_ordinary_character():
    assert args(directive('. {\n    log ab"c" "abc"def\n}\n')) == ['ab"c"', "abc", "def"]


def test_a2_unclosed_quote_runs_to_end_of_file():
    corefile = parse('.\nlog "abc\n}\n')
    assert args(corefile.blocks[0].directives[0]) == ["abc\n}\n"]


def test_a3_a_hash_at_a_token_start_comments_out_the_rest_of_the_line():
    assert args(directive('. {\n    log a #b c\n    log "x # y"#z w\n}\n')) == ["a"]
    assert args(directive('. {\n    log "x # y"#z w\n}\n')) == ["x # y"]


def test_a3_a_hash_inside_a_bare_token_drops_only_the_rest_of_that_token():
    # caddyfile lexer.go keeps its comment flag per call, so the comment ends at
    # the next separator (checked against the Go lexer: "foo#bar baz" -> foo, baz).
    assert args(directive(". {\n    log foo#bar baz\r qux\n}\n")) == ["foo", "baz", "qux"]
    assert args(directive(". {\n    log foo#b\rar baz\n}\n")) == ["foo", "baz"]


def test_a4_backslash_at_end_of_line_does_not_continue_it():
    corefile = parse(". {\n    log a \\\n    errors\n}\n")
    log, errors = corefile.blocks[0].directives
    assert args(log) == ["a", "\\"]
    assert errors.name == "errors"


def test_a5_byte_order_mark_is_discarded():
    corefile = parse("\ufeffexample.org {\n    whoami\n}\n")
    assert corefile.blocks[0].keys[0].zone == "example.org."
    assert corefile.blocks[0].keys[0].span.column == 2


def test_a6_braces_are_structural_only_as_whole_tokens():
    corefile = parse("example.org{\nlog {type} {\n}\n")
    assert corefile.blocks[0].keys[0].zone == "example.org{."
    log = corefile.blocks[0].directives[0]
    assert args(log) == ["{type}"]
    assert log.block == ()


def test_a6_a_quoted_brace_is_read_as_a_brace():
    corefile = parse('. "{"\n    whoami\n"}"\n')
    assert [d.name for d in corefile.blocks[0].directives] == ["whoami"]


def test_tokens_carry_their_position():
    log = directive(". {\n    log  a\n}\n")
    assert log.span == Span("Corefile", 2, 5)
    assert log.args[0].span == Span("Corefile", 2, 10)


# ---- A7-A13: parser -----------------------------------------------------------------


def test_a7_a22_several_blocks_with_several_keys():
    corefile = parse("example.org example.net:1053 {\n    whoami\n}\n. {\n    log\n}\n")
    assert [[k.text for k in block.keys] for block in corefile.blocks] == [
        ["example.org.:53", "example.net.:1053"],
        [".:53"],
    ]


def test_a7_a_block_may_start_on_the_line_of_the_previous_closing_brace():
    corefile = parse("a.example {\n    whoami\n} b.example {\n    log\n}\n")
    assert [b.keys[0].zone for b in corefile.blocks] == ["a.example.", "b.example."]


def test_a8_trailing_comma_continues_the_address_list_on_the_next_line():
    corefile = parse('a.example,\n  "" b.example, c.example d.example {\n}\n')
    assert [k.zone for k in corefile.blocks[0].keys] == ["a.example.", "b.example.", "c.example.", "d.example."]


def test_a8_address_list_ends_at_a_new_line_without_a_comma():
    corefile = parse("a.example\nwhoami\n")
    assert [d.name for d in corefile.blocks[0].directives] == ["whoami"]


def test_a9_opening_brace_may_be_on_the_next_line():
    corefile = parse("dns://a.example,\n  tls://b.example:853\n{\n    whoami\n}\n")
    assert [k.text for k in corefile.blocks[0].keys] == ["a.example.:53", "tls://b.example.:853"]
    assert corefile.blocks[0].directives[0].name == "whoami"


def test_a9_without_braces_the_rest_of_the_file_is_one_block():
    corefile = parse("example.org\nlog\nforward . 1.1.1.1\n")
    assert [d.name for d in corefile.blocks[0].directives] == ["log", "forward"]
    error = error_of("example.org\nlog\nexample.net {\n}\n", valid_directives=VALID)
    assert error.message == "Unknown directive 'example.net'"
    assert where(error) == (3, 1)


def test_a9_a_line_of_keys_alone_is_a_block_without_plugins():
    corefile = parse("example.org\n")
    assert corefile.blocks[0].directives == ()


def test_a10_directive_takes_its_line_and_a_block_to_any_depth():
    corefile = parse(
        ". {\n    view a {\n        expr name() == 'x'\n        deep {\n            deeper {\n"
        "                x y\n            }\n        }\n    }\n    whoami\n}\n"
    )
    view, whoami = corefile.blocks[0].directives
    assert args(view) == ["a"]
    assert [[t.text for t in line.tokens] for line in view.block] == [["expr", "name()", "==", "'x'"], ["deep"]]
    deep = view.block[1]
    assert deep.block is not None
    assert deep.block[0].tokens[0].text == "deeper"
    assert deep.block[0].block[0].tokens[1].text == "y"
    assert whoami.name == "whoami"


def test_a10_block_lines_follow_line_breaks_and_quoted_newlines():
    forward = directive('. {\n    forward . 1.1.1.1 {\n        a "x\ny" b\n        c\n    }\n}\n')
    assert [[t.text for t in line.tokens] for line in forward.block] == [["a", "x\ny", "b"], ["c"]]


def test_a10_first_directive_may_share_the_line_of_the_opening_brace():
    corefile = parse(". { whoami\n}\nexample.org { }\n")
    assert corefile.blocks[0].directives[0].name == "whoami"


def test_a10_closing_brace_on_the_directive_line_is_an_error():
    error = error_of(". {\n    whoami }\n")
    assert error.message == "Unexpected '}' because no matching opening brace"
    assert where(error) == (2, 12)
    assert where(error_of(". { whoami }\n")) == (1, 12)


def test_a10_a18_unknown_directive_is_an_error_with_a_plugin_list():
    error = error_of(". {\n    whoami\n    nosuch x\n}\n", valid_directives=VALID)
    assert error.message == "Unknown directive 'nosuch'"
    assert where(error) == (3, 5)
    assert parse(". {\n    nosuch x\n}\n").blocks[0].directives[0].name == "nosuch"


def test_a11_plugin_block_must_open_on_the_directive_line():
    error = error_of(". {\n    forward . 1.1.1.1\n    {\n        max_fails 3\n    }\n}\n")
    assert "must be on the line of the directive" in error.message
    assert where(error) == (3, 5)


def test_a12_repeated_directives_are_all_kept_in_order():
    corefile = parse(". {\n    forward a.example 1.1.1.1\n    log\n    forward . 8.8.8.8\n}\n")
    assert [(d.name, args(d)) for d in corefile.blocks[0].directives] == [
        ("forward", ["a.example", "1.1.1.1"]),
        ("log", []),
        ("forward", [".", "8.8.8.8"]),
    ]


def test_a18_unexpected_close_brace_at_top_level():
    error = error_of(". {\n    whoami\n}\n}\n")
    assert error.message.startswith("Unexpected '}' because no matching opening brace")
    assert where(error) == (4, 1)


def test_a18_unclosed_nested_block_is_unexpected_eof():
    error = error_of(". {\n    forward . 1.1.1.1 {\n        max_fails 3\n")
    assert error.message.startswith("Unexpected EOF")
    assert where(error) == (3, 19)


def test_a18_unclosed_server_block_is_unexpected_eof():
    error = error_of(". {\n    whoami\n")
    assert error.message.startswith("Unexpected EOF")
    assert where(error) == (2, 5)


def test_a18_missing_final_brace_is_accepted_after_a_directive_block_as_coredns_does():
    corefile = parse(". {\n    forward . 1.1.1.1 {\n        max_fails 3\n    }\n")
    assert corefile.blocks[0].directives[0].name == "forward"
    assert any("not closed" in warning for warning in corefile.warnings)


def test_a18_missing_final_brace_is_accepted_when_the_last_argument_expands_to_a_brace():
    corefile = parse(". {\n    log {$B}\n", env={"B": "}"})
    assert args(corefile.blocks[0].directives[0]) == ["}"]
    error = error_of(". {\n    {$B}\n", env={"B": "}"})
    assert error.message.startswith("Unexpected EOF")


def test_a18_trailing_comma_at_end_of_file_is_unexpected_eof():
    error = error_of("a.example,\n")
    assert error.message.startswith("Unexpected EOF")
    assert where(error) == (1, 1)


def test_a18_brace_after_trailing_comma():
    error = error_of("a.example, {\n}\n")
    assert error.message == "Expected another address but had '{' - check for extra comma"
    assert where(error) == (1, 12)
    assert where(error_of("a.example,\n{\n}\n")) == (2, 1)


def test_tokens_after_a_closing_block_brace_on_the_same_line_are_rejected():
    error = error_of(". {\n    forward . 1.1.1.1 { } extra\n}\n")
    assert "after the closing '}'" in error.message
    assert where(error) == (2, 27)


def test_a_server_block_whose_keys_are_all_empty_is_dropped_as_coredns_does():
    corefile = parse("{$UNSET} {\n    whoami\n}\n. {\n    log\n}\n")
    assert [b.keys[0].zone for b in corefile.blocks] == ["."]
    assert any("no keys" in warning for warning in corefile.warnings)


# ---- A14: environment variables ---------------------------------------------------------


def test_a14_env_references_in_keys_names_arguments_and_quotes():
    env = {"ZONE": "Example.ORG", "PORT": "1053", "UP": "9.9.9.9", "A": "one two", "PLUGIN": "log"}
    corefile = parse('{$ZONE}:{%PORT%} {\n    forward . {$UP}\n    {$PLUGIN} "x {$A} y" {$A}\n}\n', env=env)
    block = corefile.blocks[0]
    assert block.keys[0].text == "example.org.:1053"
    assert args(block.directives[0]) == [".", "9.9.9.9"]
    assert block.directives[1].name == "log"
    assert args(block.directives[1]) == ["x one two y", "one two"]


def test_a14_unset_variables_read_as_empty_and_the_process_environment_is_not_read(monkeypatch):
    monkeypatch.setenv("KALC_TEST_UPSTREAM", "1.2.3.4")
    assert args(directive(". {\n    forward . a{$KALC_TEST_UPSTREAM}b\n}\n")) == [".", "ab"]


def test_a14_unset_directive_name_is_unknown_directive_empty():
    error = error_of(". {\n    {$ENV_VAR}\n}\n", valid_directives=VALID)
    assert error.message == "Unknown directive ''"


def test_a14_replacement_order_and_empty_reference():
    env = {"A": "{$B}", "B": "b", "C": "c"}
    assert replace_env("{%A%}", env) == "b"
    assert replace_env("{$}{$C}", env) == "{$}{$C}"
    assert replace_env("x{%C}", env) == "x{%C}"
    assert replace_env("{$C}{$C}", env) == "cc"


def test_a14_non_terminating_expansion_is_a_positioned_error():
    error = error_of(". {\n    log {$LOOP}\n}\n", env={"LOOP": "x{$LOOP}"})
    assert "environment expansion" in error.message
    assert where(error) == (2, 9)


# ---- A15-A16: snippets and imports --------------------------------------------------------


def test_a15_snippet_imported_in_a_block_in_a_nested_block_and_as_keys():
    corefile = parse(
        "(common) {\n    errors\n    log\n}\n(opts) {\n    max_fails 3\n}\n(keys) {\nexample.org example.net\n}\n"
        ". {\n    import common\n    forward . 1.1.1.1 {\n        import opts\n    }\n}\n"
        "import keys\n{\n    whoami\n}\n"
    )
    first, second = corefile.blocks
    assert [d.name for d in first.directives] == ["errors", "log", "forward"]
    assert [[t.text for t in line.tokens] for line in first.directives[2].block] == [["max_fails", "3"]]
    assert [k.zone for k in second.keys] == ["example.org.", "example.net."]


def test_a15_a_snippet_must_be_defined_before_it_is_imported():
    error = error_of(". {\n    import later\n}\n(later) {\n    log\n}\n")
    assert error.message == "File to import not found: later"
    assert where(error) == (2, 12)


def test_a15_snippet_redeclared():
    error = error_of("(s) {\n    log\n}\n(s) {\n    errors\n}\n")
    assert error.message == "redeclaration of previously declared snippet s"
    assert where(error) == (4, 5)


def test_a15_snippet_that_imports_itself():
    error = error_of("(s) {\n    import s\n}\n")
    assert error.message.startswith("maximum snippet import depth (10000) exceeded")


def test_a16_snippet_expansion_cap(monkeypatch):
    monkeypatch.setattr(limits, "MAX_SNIPPET_EXPANSIONS", 10)
    error = error_of("(a) {\n    import b\n}\n(b) {\n    import a\n}\n. {\n    import a\n}\n")
    assert error.message == "maximum snippet import depth (10) exceeded"


def test_a16_import_argument_errors():
    assert error_of(". {\n    import\n}\n").message == "Wrong argument count or unexpected line ending after 'import'"
    error = error_of(". {\n    import a b\n}\n")
    assert error.message == "Import takes only one argument (glob pattern or file)"
    assert where(error) == (2, 14)
    assert error_of('. {\n    import ""\n}\n').message == "Import requires a non-empty filepath"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a16_file_imports_resolve_against_the_importing_file(tmp_path):
    write(tmp_path / "Corefile", ". {\n    import conf.d/main.conf\n}\n")
    write(tmp_path / "conf.d" / "main.conf", "errors\nimport more/extra.conf\n")
    write(tmp_path / "conf.d" / "more" / "extra.conf", "log\n")
    corefile = load_corefile(tmp_path / "Corefile")
    assert [d.name for d in corefile.blocks[0].directives] == ["errors", "log"]
    log = corefile.blocks[0].directives[1]
    assert log.span.path == str(tmp_path / "conf.d" / "more" / "extra.conf")
    assert log.span.line == 1


def test_a16_glob_imports_are_sorted_and_a_glob_without_match_only_warns(tmp_path):
    write(tmp_path / "Corefile", ". {\n    import conf.d/*.conf\n    import none/*.conf\n}\n")
    write(tmp_path / "conf.d" / "b.conf", "log\n")
    write(tmp_path / "conf.d" / "a.conf", "errors\n")
    write(tmp_path / "conf.d" / ".c.conf", "whoami\n")
    corefile = load_corefile(tmp_path / "Corefile")
    assert [d.name for d in corefile.blocks[0].directives] == ["whoami", "errors", "log"]
    assert any("No files matching import glob pattern: none/*.conf" in w for w in corefile.warnings)


def test_a16_glob_with_more_than_one_wildcard_is_rejected(tmp_path):
    write(tmp_path / "Corefile", ". {\n    import */*.conf\n}\n")
    with pytest.raises(ConfigError, match="Glob pattern may only contain one wildcard"):
        load_corefile(tmp_path / "Corefile")


def test_a16_importing_a_missing_file_or_a_directory(tmp_path):
    write(tmp_path / "Corefile", ". {\n    import nothere.conf\n}\n")
    with pytest.raises(ConfigError, match=r"File to import not found: nothere\.conf"):
        load_corefile(tmp_path / "Corefile")
    (tmp_path / "dir").mkdir()
    write(tmp_path / "Corefile", ". {\n    import dir\n}\n")
    with pytest.raises(ConfigError, match="is a directory"):
        load_corefile(tmp_path / "Corefile")


def test_imports_stay_inside_the_import_root(tmp_path):
    write(tmp_path / "outside.conf", "log\n")
    write(tmp_path / "root" / "Corefile", ". {\n    import ../outside.conf\n}\n")
    with pytest.raises(ConfigError, match="leaves the import root") as info:
        load_corefile(tmp_path / "root" / "Corefile")
    assert where(info.value) == (2, 12)
    corefile = load_corefile(tmp_path / "root" / "Corefile", allow_outside_root=True)
    assert corefile.blocks[0].directives[0].name == "log"
    corefile = load_corefile(tmp_path / "root" / "Corefile", import_root=tmp_path)
    assert corefile.blocks[0].directives[0].name == "log"


def test_imports_through_a_symlink_out_of_the_root_are_rejected(tmp_path):
    write(tmp_path / "secret.conf", "log\n")
    write(tmp_path / "root" / "Corefile", ". {\n    import link.conf\n}\n")
    os.symlink(tmp_path / "secret.conf", tmp_path / "root" / "link.conf")
    with pytest.raises(ConfigError, match="leaves the import root"):
        load_corefile(tmp_path / "root" / "Corefile")


def test_a16_a_file_that_imports_itself_is_an_import_cycle_at_once(tmp_path):
    write(tmp_path / "Corefile", ". {\n    import self.conf\n}\n")
    write(tmp_path / "self.conf", "import self.conf\n")
    with pytest.raises(ConfigError, match=r"import cycle: .*self.conf -> .*self.conf"):
        load_corefile(tmp_path / "Corefile")


def test_a16_file_import_cap_stops_many_imports_without_a_cycle(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_EXPANSIONS", 10)
    write(tmp_path / "Corefile", ". {\n" + "    import log.conf\n" * 11 + "}\n")
    write(tmp_path / "log.conf", "log\n")
    with pytest.raises(ConfigError, match=r"maximum file import depth \(10\) exceeded"):
        load_corefile(tmp_path / "Corefile")


def test_an_error_inside_an_imported_file_points_into_that_file(tmp_path):
    write(tmp_path / "Corefile", ". {\n    import bad.conf\n}\n")
    write(tmp_path / "bad.conf", "log\nnosuch\n")
    with pytest.raises(ConfigError) as info:
        load_corefile(tmp_path / "Corefile", valid_directives=VALID)
    assert info.value.span == Span(str(tmp_path / "bad.conf"), 2, 1)
    assert "    nosuch\n    ^" in str(info.value)


def test_expanded_token_and_file_size_bounds(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TOKENS", 50)
    with pytest.raises(ConfigError, match="expands to more than 50 tokens"):
        parse("(s) {\n    log a b c d e f g h i\n}\n. {\n" + "    import s\n" * 10 + "}\n")
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    write(tmp_path / "Corefile", ". {\n    import big.conf\n}\n")
    write(tmp_path / "big.conf", "log\n" * 100)
    with pytest.raises(ConfigError, match="is larger than 100 bytes"):
        load_corefile(tmp_path / "Corefile")


# ---- A19-A22: server keys ---------------------------------------------------------------------


def test_a19_schemes_and_default_ports():
    corefile = parse(
        "example.org dns://a.example tls://b.example quic://c.example grpc://d.example "
        "https://e.example https3://f.example {\n}\n"
    )
    assert [(k.transport, k.port) for k in corefile.blocks[0].keys] == [
        ("dns", 53), ("dns", 53), ("tls", 853), ("quic", 853), ("grpc", 443), ("https", 443), ("https3", 443),
    ]


def test_a20_port_is_after_the_last_colon_and_zones_are_normalized():
    corefile = parse("Example.ORG:1053 a:b .:053 {\n}\n")
    assert [(k.zone, k.port) for k in corefile.blocks[0].keys] == [("example.org.", 1053), ("a:b.", 53), (".", 53)]


def test_a20_trailing_colon_and_invalid_zones_are_errors():
    error = error_of("example.org: {\n}\n")
    assert error.message == 'expecting data after last colon: "example.org:"'
    assert where(error) == (1, 1)
    assert error_of("a..b {\n}\n").message == "zone is not a valid domain name: a..b"
    assert error_of(("a" * 64) + ".org {\n}\n").message.startswith("zone is not a valid domain name")
    assert error_of(("a." * 130) + " {\n}\n").message == "specified zone is too long: 260 > 255"


def test_independent_key_errors_are_reported_together():
    with pytest.raises(ConfigErrors) as info:
        parse("a..b {\n}\nc..d {\n}\n")
    assert [where(e) for e in info.value.errors] == [(1, 1), (3, 1)]


@pytest.mark.parametrize(
    ("cidr", "zones"),
    [
        ("10.0.0.0/8", ["10.in-addr.arpa."]),
        ("10.0.0.0/24", ["0.0.10.in-addr.arpa."]),
        ("10.1.2.3/16", ["1.10.in-addr.arpa."]),
        ("0.0.0.0/0", ["in-addr.arpa."]),
        ("2001:db8::/32", ["8.b.d.0.1.0.0.2.ip6.arpa."]),
        ("2001:db8::/31", ["8.b.d.0.1.0.0.2.ip6.arpa.", "9.b.d.0.1.0.0.2.ip6.arpa."]),
    ],
)
def test_a21_cidr_keys_become_reverse_zones(cidr, zones):
    assert [k.zone for k in parse(cidr + " {\n}\n").blocks[0].keys] == zones


def test_a21_classless_cidrs_are_split_on_octet_boundaries():
    keys = parse("10.0.0.0/17 {\n}\n").blocks[0].keys
    assert len(keys) == 128
    assert (keys[0].zone, keys[-1].zone) == ("0.0.10.in-addr.arpa.", "127.0.10.in-addr.arpa.")
    keys = parse("10.0.0.0/27:5353 {\n}\n").blocks[0].keys
    assert [k.zone for k in keys[:2]] == ["0.0.0.10.in-addr.arpa.", "1.0.0.10.in-addr.arpa."]
    assert len(keys) == 32
    assert {k.port for k in keys} == {5353}


def test_a21_cidr_starting_with_a_colon_is_invalid():
    assert error_of("::/0 {\n}\n").message == "invalid CIDR ::/0"


def test_a22_same_zone_and_port_in_two_blocks_is_an_error():
    error = error_of("example.org {\n}\nexample.org:53 {\n}\n")
    assert error.message == "cannot serve dns://example.org.:53 - it is already defined"
    assert where(error) == (3, 1)
    assert len(parse("example.org {\n}\nexample.org:1053 tls://example.org {\n}\n").blocks) == 2


def test_a22_a_block_with_view_may_share_a_zone():
    corefile = parse(". {\n    view v {\n        expr x\n    }\n}\n. {\n    whoami\n}\n")
    assert len(corefile.blocks) == 2


def test_a22_bound_and_unbound_blocks_on_one_zone_overlap():
    assert len(parse(". {\n    bind 127.0.0.1\n}\n. {\n    bind 127.0.0.2\n}\n").blocks) == 2
    error = error_of(". {\n    bind 127.0.0.1\n}\n. {\n    whoami\n}\n")
    assert "zone overlap listener capacity" in error.message


def test_unix_keys_are_rejected():
    assert error_of("unix://x {\n}\n").message == "unix:// cannot serve a zone: unix://x"


# ---- the examples of section A.3 of the reference ---------------------------------------------

S = Span("", 0, 0)


def t(text, quoted=False):
    return Token(text, S, quoted)


def test_reference_example_1_two_zones_env_var_and_plugin_block():
    corefile = load_corefile(DATA / "reference-a3" / "example1.Corefile", env={"UPSTREAM": "1.1.1.1"})
    assert corefile == Corefile(
        (
            corefile_module.ServerBlock(
                (key("example.org.:53", zone="example.org."), key("example.net.:1053", zone="example.net.", port=1053)),
                (
                    Directive("forward", (t("."), t("1.1.1.1"), t("9.9.9.9")), (BlockLine((t("max_concurrent"), t("1000")), None, S),), S),
                    Directive("cache", (t("30"),), None, S),
                ),
                S,
            ),
        ),
        "",
    )


def test_reference_example_2_comma_list_over_two_lines_and_brace_on_the_next_line():
    corefile = load_corefile(DATA / "reference-a3" / "example2.Corefile")
    assert corefile.blocks == (
        corefile_module.ServerBlock(
            (key("a.example.:53", zone="a.example."), key("tls://b.example.:853", "tls", "b.example.", 853)),
            (Directive("whoami", (), None, S),),
            S,
        ),
    )


def test_reference_example_3_reverse_zone_snippet_and_glob_import():
    corefile = load_corefile(DATA / "reference-a3" / "example3.Corefile")
    block = corefile.blocks[0]
    assert block.keys == (key("0.0.10.in-addr.arpa.:53", zone="0.0.10.in-addr.arpa."),)
    assert [d.name for d in block.directives] == ["errors", "log", "hosts"]
    assert block.directives[2].span.path.endswith("conf.d/hosts.conf")


def test_reference_example_4_quoted_token_with_escaped_quotes_and_windows_env_form():
    corefile = load_corefile(DATA / "reference-a3" / "example4.Corefile", env={"UPSTREAM": "8.8.8.8"})
    template, forward = corefile.blocks[0].directives
    assert template == Directive(
        "template",
        (t("IN"), t("TXT"), t(".")),
        (BlockLine((t("answer"), t('{{ .Name }} 60 IN TXT "hi there"', True)), None, S),),
        S,
    )
    assert args(forward) == [".", "8.8.8.8"]


# ---- errors --------------------------------------------------------------------------------------


def test_errors_print_file_line_column_the_line_and_a_caret():
    error = error_of(". {\n    whoami }\n")
    assert str(error) == (
        "Corefile:2:12: Unexpected '}' because no matching opening brace\n"
        "        whoami }\n"
        "               ^"
    )


def test_positions_in_a_corefile_embedded_in_yaml_land_in_the_yaml_file():
    yaml_text = "data:\n  Corefile: |\n    . {\n        whoami }\n    }\n"
    source = Source("cm.yaml", ". {\n    whoami }\n}\n", line_offset=2, column_offset=4, file_text=yaml_text)
    with pytest.raises(ConfigError) as info:
        parse_corefile(source)
    assert str(info.value.span) == "cm.yaml:4:16"
    assert "        whoami }" in str(info.value)


def test_a1_lines_are_counted_on_newlines_only_also_in_excerpts():
    error = error_of(". {\n    log a\fb\u2028c\x1cd\n    whoami }\n")
    assert where(error) == (3, 12)
    assert str(error).splitlines()[1] == "        whoami }"


def test_module_examples():
    import doctest

    result = doctest.testmod(corefile_module)
    assert (result.attempted > 0, result.failed) == (True, 0)


def test_a16_a_top_level_import_brings_whole_server_blocks(tmp_path):
    write(tmp_path / "Corefile", ". {\n    whoami\n}\nimport custom/*.server\n")
    write(tmp_path / "custom" / "a.server", "a.example {\n    log\n}\n")
    write(tmp_path / "custom" / "b.server", "b.example {\n    errors\n}\n")
    corefile = load_corefile(tmp_path / "Corefile")
    assert [(b.keys[0].zone, b.directives[0].name) for b in corefile.blocks] == [
        (".", "whoami"), ("a.example.", "log"), ("b.example.", "errors"),
    ]
