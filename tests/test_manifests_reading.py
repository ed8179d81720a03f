"""The fast ways of reading manifests (issue 8) give what the careful ones give.

A file is composed in one pass, and read piece by piece only when that fails; a document
without anchors is converted without alias bookkeeping; a placeholder search is skipped
when no placeholder style can match. Each is compared here with the way it replaces.
"""

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kalc_formal.inputs import placeholders
from kalc_formal.inputs.yamlnodes import NodeError, compose_documents, to_value
from kalc_formal.kubernetes import manifests
from kalc_formal.kubernetes.manifests import Limits, load_text

FRAGMENTS = [
    "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\nspec:\n  dnsPolicy: None\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
    "kind: ConfigMap\nmetadata: {name: coredns}\ndata:\n  Corefile: |\n    . {\n        forward . 1.1.1.1\n    }\n",
    "kind: ConfigMap\ndata:\n  text: |\n    line\n---\n    not in the block\n",
    "base: &b {x: 1}\nuse: *b\nmerged:\n  <<: *b\n  y: 2\n",
    "kind: List\nitems:\n- {kind: Pod, metadata: {name: p}}\n- 3\n",
    "a: 1\na: 2\n",
    "a: [unclosed\n",
    "a: 'x\n---\ny'\n",
    "# only a comment\n",
    "%YAML 1.1\n---\nkind: Pod\n",
    "...\n",
    "- a\n- b\n",
    "kind: Pod\nmetadata:\n  name: ${NAME}\n",
    "kind: Secret\nbad: [\n",
    "n: 0x1F\nf: 1e3\nb: yes\nt: 2001-12-14\nz: ~\nq: '1'\n",
    "k: !!python/object:os.system x\n",
    "? [a, b]\n: c\n",
    "kind: Pod\nmetadata: {name: é}\nspec: {dnsPolicy: \"Default\"}\n",
    "kind: Pod\nmetadata: {name: a}\nnote: x\u2028y\n",
    "",
]
SEPARATORS = ["---\n", "--- \n", "...\n---\n", "--- # c\n", "\n---\n"]


def described(result):
    """Everything a caller can see of a LoadResult (positions included)."""
    documents = []
    for document in result.documents:
        paths = [("metadata", "name"), ("spec",), ("data", "Corefile"), ("items", 0), ()]
        documents.append((
            document.kind, document.name, document.namespace, document.index,
            document.item, str(document.span), repr(document.data),
            [str(document.span_at(*path)) for path in paths],
            [(s.text, s.line_offset, s.column_offset, type(s).__name__)
             for path in paths[:3] if (s := document.embedded_source(*path)) is not None],
        ))
    errors = [(str(error), error.line_text) for error in result.errors]
    return documents, errors


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SEPARATORS), st.sampled_from(FRAGMENTS)), max_size=6),
       st.booleans())
def test_one_pass_reads_what_piece_by_piece_reads(parts, leading_separator):
    text = "".join(separator + fragment for separator, fragment in parts)
    if not leading_separator and parts:
        text = text[len(parts[0][0]):]
    limits = Limits(max_documents=4)
    one_pass = load_text(text, "f.yaml", limits=limits)
    whole = manifests._load_whole
    manifests._load_whole = lambda source, limits: None
    try:
        piece_by_piece = load_text(text, "f.yaml", limits=limits)
    finally:
        manifests._load_whole = whole
    assert described(one_pass) == described(piece_by_piece)


def test_one_pass_is_taken_for_plain_files_and_left_for_broken_ones():
    good = manifests.Source("f.yaml", FRAGMENTS[0] + "---\n" + FRAGMENTS[1])
    assert manifests._load_whole(good, Limits()) is not None
    broken = manifests.Source("f.yaml", FRAGMENTS[0] + "---\n" + FRAGMENTS[7])
    assert manifests._load_whole(broken, Limits()) is None
    block = manifests.Source("f.yaml", FRAGMENTS[3])
    assert manifests._load_whole(block, Limits()) is None


VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
              st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(VALUES, st.integers(min_value=0, max_value=4))
def test_conversion_without_anchors_is_the_checked_conversion(value, max_depth):
    text = yaml.safe_dump(value)
    node = compose_documents(text)[0]
    outcomes = []
    for aliases in (False, True):
        try:
            outcomes.append(repr(to_value(node, max_depth=max_depth, max_alias_nodes=10,
                                          line_offset=0, aliases=aliases)))
        except NodeError as error:
            outcomes.append((error.message, error.mark.line, error.mark.column))
    assert outcomes[0] == outcomes[1]


def test_the_faster_resolver_gives_libyamls_tags():
    text = "\n".join(f"k{i}: {v}" for i, v in enumerate([
        "1", "-1", "0x1F", "0o7", "1_000", "1.5", ".inf", "-.Inf", ".nan", "yes", "No", "on",
        "true", "~", "null", "", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<", "=",
        "'1'", '"true"', "abc", "!!str 1", "+1", "1e3", "!x", "&a 1", "*a",
    ]))
    ours = compose_documents(text)[0]
    theirs = yaml.compose(text, Loader=yaml.SafeLoader)

    def tags(node):
        return [(k.tag, k.value, v.tag, v.value) for k, v in node.value]

    assert tags(ours) == tags(theirs)


@settings(max_examples=500)
@given(st.lists(st.sampled_from([*"ab_AZ{}%#$<>. \n9-", "__", "{{", "A_Z", "<x>"]),
                max_size=12).map("".join))
@example("A_B")
@example("__X__")
@example("__PILLAR__DNS__SERVER__")
@example("%{X}%")
@example("{{ x }}")
@example("{% if %}")
@example("$X")
@example("<name>")
def test_the_placeholder_prefilter_drops_only_text_without_placeholders(text):
    assert placeholders.might_hold_placeholders(text) == (
        placeholders._ANY_STYLE.search(text) is not None
    )


def test_the_reading_benchmark_runs_and_prints_its_ratio(capsys):
    from benchmarks import bench_reading

    assert bench_reading.main(["--workloads", "500", "--runs", "1", "--profile",
                               "--profile-lines", "3"]) == 0
    out = capsys.readouterr().out
    assert "500 workloads, 501 files, 1,753 documents" in out
    ratio = float(out.split("ratio read_inputs / compose (CPU time): ")[1].split()[0])
    assert ratio > 0
    assert "ncalls" in out
