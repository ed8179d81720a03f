"""The formatter: parse(format(x)) == x and format is a fixed point (Hypothesis)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalc_formal.coredns.corefile import (
    BlockLine,
    Corefile,
    Directive,
    ServerBlock,
    Token,
    format_corefile,
    parse_corefile,
    parse_server_key,
    quote_token,
)
from kalc_formal.errors import InvalidArgument
from kalc_formal.source import Source, Span

S = Span("generated", 0, 0)
CHARACTERS = st.sampled_from(list("abcXYZ019.,:/*-_()[]=@'{}\"\\#$% \t\n\r\xa0\u2028\x1c;!?"))
ENV_LOOKING = st.sampled_from(["{$}", "{$X", "$X", "%X%", "{%", "{%%}{%X%}", "{$}{$X}", "{type}", "{{ .Name }}", "{1}"])


def representable(text):
    try:
        quote_token(text)
    except InvalidArgument:
        return False
    return True


ONE_LINE = st.sampled_from(list("abcXYZ019.,:/*-_()[]=@'{}\"\\#$% \t\xa0;!?"))


def texts(characters):
    return st.one_of(st.text(characters, max_size=12), ENV_LOOKING).filter(representable)


@st.composite
def block_lines(draw, characters, depth=0):
    words = [Token(text, S) for text in draw(st.lists(texts(characters), max_size=4))]
    if words and words[0].text == "import":
        words = words[1:]
    nested = draw(blocks(characters, depth + 1)) if depth < 3 and draw(st.booleans()) else None
    if not words and nested is None:
        words = [Token(draw(texts(characters).filter(lambda text: text != "import")), S)]
    return BlockLine(tuple(words), nested, S)


def blocks(characters, depth):
    return st.lists(block_lines(characters, depth), max_size=3).map(tuple)


def directives(characters):
    return st.builds(
        lambda name, args, block: Directive(name, tuple(Token(text, S) for text in args), block, S),
        texts(characters).filter(lambda text: text != "import"),
        st.lists(texts(characters), max_size=4),
        st.none() | blocks(characters, 0),
    )

labels = st.text(st.sampled_from("abcz019-_"), min_size=1, max_size=8)
zones = st.one_of(
    st.just("."),
    st.lists(labels, min_size=1, max_size=3).map(lambda parts: ".".join(parts) + "."),
    st.sampled_from(["10.0.0.0/8", "10.0.0.0/17", "192.168.1.0/24", "2001:db8::/33"]),
)
key_texts = st.builds(
    lambda scheme, zone, port: f"{scheme}{zone}" + (f":{port}" if port is not None else ""),
    st.sampled_from(["", "dns://", "tls://", "quic://", "grpc://", "https://", "https3://"]),
    zones,
    st.none() | st.integers(0, 65535),
)


@st.composite
def corefiles(draw, characters=CHARACTERS):
    used = set()
    server_blocks = []
    for _ in range(draw(st.integers(0, 4))):
        keys = []
        for text in draw(st.lists(key_texts, min_size=1, max_size=3)):
            for key in parse_server_key(text, S):
                if (key.transport, key.zone, key.port) not in used:
                    used.add((key.transport, key.zone, key.port))
                    keys.append(key)
        if keys:
            body = draw(st.lists(directives(characters), max_size=5))
            server_blocks.append(ServerBlock(tuple(keys), tuple(body), S))
    return Corefile(tuple(server_blocks), "generated")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corefiles())
def test_parse_of_format_is_the_model_and_format_is_a_fixed_point(corefile):
    text = format_corefile(corefile)
    parsed = parse_corefile(Source("formatted", text))
    assert parsed == corefile
    assert format_corefile(parsed) == text


@st.composite
def corefile_texts(draw):
    """A generated model (tokens without line breaks) written with comments and blank
    lines, which CoreDNS skips."""
    text = format_corefile(draw(corefiles(ONE_LINE)))
    lines = []
    for line in text.split("\n"):
        if draw(st.booleans()):
            line += "   # " + draw(st.text(ONE_LINE, max_size=6))
        lines.append(line)
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(["", "   ", "# comment", "\t# {", "\r"])))
    return "\n".join(lines)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corefile_texts())
def test_comments_and_blank_lines_do_not_change_the_model(text):
    parsed = parse_corefile(Source("noisy", text))
    formatted = format_corefile(parsed)
    assert parse_corefile(Source("formatted", formatted)) == parsed
    assert format_corefile(parse_corefile(Source("again", formatted))) == formatted


def test_quoting_only_when_needed():
    assert [quote_token(t) for t in ("forward", "a,b", "{type}", "", "a b", "#x", 'say "hi"', '"x', "a\\b", "x\ny")] == [
        "forward", "a,b", "{type}", '""', '"a b"', '"#x"', '"say \\"hi\\""', '"\\"x"', "a\\b", '"x\ny"',
    ]


@pytest.mark.parametrize("text", ["{", "}", "{$X}", "{%X%}", 'a \\"b', "a b\\"])
def test_tokens_that_no_corefile_can_spell_are_refused(text):
    with pytest.raises(InvalidArgument):
        quote_token(text)


def test_import_cannot_start_a_line():
    corefile = Corefile((ServerBlock(tuple(parse_server_key(".", S)), (Directive("import", (Token("x", S),), None, S),), S),), "x")
    with pytest.raises(InvalidArgument, match="import"):
        format_corefile(corefile)


def test_format_example():
    corefile = parse_corefile(
        Source("Corefile", 'Example.org,\n  10.0.0.0/24:5353\n{\n  log "{type} {name}"  # c\n  forward . 1.1.1.1 { \n   max_fails 3\n }\n}\n')
    )
    assert format_corefile(corefile) == (
        "example.org.:53 0.0.10.in-addr.arpa.:5353 {\n"
        '    log "{type} {name}"\n'
        "    forward . 1.1.1.1 {\n"
        "        max_fails 3\n"
        "    }\n"
        "}\n"
    )
