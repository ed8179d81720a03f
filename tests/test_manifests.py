import io
import os
import textwrap

import pytest

from kalc_formal.kubernetes.manifests import (
    AnchoredSource,
    Limits,
    load_documents,
    load_text,
)

DATA = os.path.join(os.path.dirname(__file__), "data", "manifests")


def text(source):
    return textwrap.dedent(source).lstrip("\n")


def only_error(result):
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    return result.errors[0]


# ---------------------------------------------------------------- documents and files


def test_multi_document_file_gives_one_document_each_with_index_and_span():
    result = load_text(
        text("""
        # leading comment
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a, namespace: kube-system}
        ---
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: b
        ...
        ---
        kind: Service
        metadata:
          generateName: svc-
        """),
        "m.yaml",
    )
    assert result.errors == ()
    docs = result.documents
    assert [(d.index, d.kind, d.api_version, d.name, d.namespace) for d in docs] == [
        (0, "ConfigMap", "v1", "a", "kube-system"),
        (1, "Deployment", "apps/v1", "b", None),
        (2, "Service", "", "svc-", None),
    ]
    assert [str(d.span) for d in docs] == ["m.yaml:2:1", "m.yaml:7:1", "m.yaml:13:1"]


def test_list_and_typed_list_documents_are_expanded_into_items():
    result = load_text(
        text("""
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Pod
          metadata: {name: p}
        - apiVersion: v1
          kind: Service
          metadata: {name: s}
        ---
        apiVersion: apps/v1
        kind: DeploymentList
        items:
        - metadata: {name: d1}
        - metadata: {name: d2}
        """)
    )
    assert result.errors == ()
    assert [
        (d.kind, d.api_version, d.name, d.index, d.item) for d in result.documents
    ] == [
        ("Pod", "v1", "p", 0, 0),
        ("Service", "v1", "s", 0, 1),
        ("Deployment", "apps/v1", "d1", 1, 0),
        ("Deployment", "apps/v1", "d2", 1, 1),
    ]
    assert str(result.documents[3].span) == "<text>:15:3"
    assert str(result.documents[3].span_at("metadata", "name")) == "<text>:15:20"


def test_stdin_is_read_for_dash_and_named_stdin():
    result = load_documents(
        ["-"], stdin=io.StringIO("kind: Pod\nmetadata:\n  name: a\n")
    )
    assert [(d.name, str(d.span_at("metadata", "name"))) for d in result.documents] == [
        ("a", "<stdin>:3:9")
    ]


def test_stdin_given_twice_is_an_error():
    result = load_documents(["-", "-"], stdin=io.StringIO("kind: Pod\n"))
    assert len(result.documents) == 1
    assert "more than once" in only_error(result).message


def test_folder_is_searched_recursively_in_sorted_order_skipping_hidden_and_other_files(
    tmp_path,
):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.yml").write_text("kind: Pod\nmetadata: {name: bz}\n")
    (tmp_path / "a.json").write_text('{"kind": "Pod", "metadata": {"name": "aj"}}')
    (tmp_path / "c.YAML").write_text("kind: Pod\nmetadata: {name: c}\n")
    (tmp_path / "notes.txt").write_text("kind: Pod\nmetadata: {name: txt}\n")
    (tmp_path / ".hidden.yaml").write_text("kind: Pod\nmetadata: {name: hidden}\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.yaml").write_text("kind: Pod\nmetadata: {name: git}\n")
    result = load_documents([str(tmp_path)])
    assert result.errors == ()
    assert [d.name for d in result.documents] == ["aj", "bz", "c"]
    assert result.documents[1].source.path == os.path.join(str(tmp_path), "b", "z.yml")


def test_explicit_file_with_any_extension_is_read(tmp_path):
    path = tmp_path / "manifest.txt"
    path.write_text("kind: Pod\nmetadata: {name: x}\n")
    assert [d.name for d in load_documents([str(path)]).documents] == ["x"]


def test_missing_path_and_empty_folder_are_errors(tmp_path):
    result = load_documents([str(tmp_path / "nope.yaml"), str(tmp_path)])
    messages = [e.message for e in result.errors]
    assert messages == [
        f"{tmp_path / 'nope.yaml'}: No such file or directory",
        f"{tmp_path}: no *.yaml, *.yml or *.json files in this folder",
    ]


def test_symlink_outside_the_folder_needs_opt_in(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("kind: Pod\nmetadata: {name: out}\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "in.yaml").write_text("kind: Pod\nmetadata: {name: in}\n")
    os.symlink(outside / "secret.yaml", root / "link.yaml")
    os.symlink(outside, root / "linkdir")
    refused = load_documents([str(root)])
    assert [d.name for d in refused.documents] == ["in"]
    assert len(refused.errors) == 2
    assert all("outside" in e.message and "opt-in" in e.message for e in refused.errors)
    allowed = load_documents([str(root)], allow_outside_root=True)
    assert allowed.errors == ()
    assert sorted(d.name for d in allowed.documents) == ["in", "out", "out"]


def test_symlink_inside_the_folder_is_followed_once(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.yaml").write_text("kind: Pod\nmetadata: {name: a}\n")
    os.symlink(tmp_path / "real", tmp_path / "same")
    result = load_documents([str(tmp_path)])
    assert result.errors == ()
    assert [d.name for d in result.documents] == ["a"]


def test_data_folder_loads():
    result = load_documents([os.path.join(DATA, "cluster")])
    assert result.errors == ()
    assert len(result.documents) == 20


# ---------------------------------------------------------------- bad YAML and limits


def test_syntax_error_is_positioned_and_other_documents_still_load():
    result = load_text(
        text("""
        kind: Pod
        metadata: {name: good1}
        ---
        kind: Pod
        metadata:
          name: bad
         labels: {}
        ---
        kind: Pod
        metadata: {name: good2}
        """),
        "f.yaml",
    )
    assert [d.name for d in result.documents] == ["good1", "good2"]
    error = only_error(result)
    assert str(error.span) == "f.yaml:7:2"
    assert str(error) == (
        "f.yaml:7:2: YAML: expected <block end>, but found '<block mapping start>' "
        "(while parsing a block mapping at 4:1)\n"
        "     labels: {}\n"
        "     ^"
    )


def test_syntax_error_in_a_secret_does_not_show_the_line():
    result = load_text(
        "apiVersion: v1\nkind: Secret\ndata:\n  password: [c2VjcmV0\n", "s.yaml"
    )
    error = only_error(result)
    assert error.line_text == ""
    assert "c2VjcmV0" not in str(error)
    assert "the document is a Secret" in str(error)


def test_billion_laughs_is_refused_with_a_positioned_error():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]")
    result = load_text("\n".join(lines) + "\n", "bomb.yaml")
    error = only_error(result)
    assert "aliases here expand to more than 10000 nodes" in error.message
    assert error.span is not None
    assert error.span.path == "bomb.yaml"
    assert error.span.line == 5
    assert error.span.column == 1
    assert result.documents == ()


def test_a_few_aliases_and_merge_keys_are_fine():
    result = load_text(
        text("""
        kind: Pod
        metadata:
          labels: &labels {app: web, tier: front}
          annotations: *labels
        spec:
          base: &base {dnsPolicy: Default, hostNetwork: false}
          merged:
            <<: *base
            dnsPolicy: None
        """)
    )
    assert result.errors == ()
    data = result.documents[0].data
    assert data["metadata"]["annotations"] == {"app": "web", "tier": "front"}
    assert data["spec"]["merged"] == {"dnsPolicy": "None", "hostNetwork": False}
    assert (
        str(result.documents[0].span_at("spec", "merged", "hostNetwork"))
        == "<text>:6:49"
    )


def test_recursive_alias_is_an_error():
    error = only_error(load_text("kind: Pod\nspec: &a\n  child: *a\n"))
    assert "recursive" in error.message


def test_duplicate_key_is_an_error_naming_the_first():
    error = only_error(load_text("kind: Pod\nmetadata:\n  name: a\n  name: b\n"))
    assert str(error.span) == "<text>:4:3"
    assert error.message == "duplicate key 'name' (first at line 3)"


def test_unsupported_tag_and_non_mapping_top_level_are_errors():
    result = load_text("kind: Pod\nspec: !!python/object:os.system {}\n---\n- a\n- b\n")
    assert [(str(e.span), e.message) for e in result.errors] == [
        (
            "<text>:2:7",
            "unsupported YAML tag tag:yaml.org,2002:python/object:os.system",
        ),
        (
            "<text>:4:1",
            "not a Kubernetes object: the top level of this document is not a mapping",
        ),
    ]


def test_file_over_the_size_limit_is_not_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("kind: Pod\n" + "# padding\n" * 200)
    result = load_documents([str(path)], limits=Limits(max_file_bytes=1000))
    assert result.documents == ()
    assert (
        only_error(result).message
        == f"{path}: larger than the 0.000953674 MiB limit for one file; not read"
    )


def test_stdin_over_the_size_limit_is_not_read():
    result = load_documents(
        ["-"], stdin=io.StringIO("x" * 101), limits=Limits(max_file_bytes=100)
    )
    assert "larger than" in only_error(result).message


def test_document_over_the_size_limit_is_skipped_and_others_load():
    big = "kind: ConfigMap\ndata:\n  x: '" + "y" * 500 + "'\n"
    result = load_text(
        "kind: Pod\nmetadata: {name: a}\n---\n" + big,
        limits=Limits(max_document_bytes=300),
    )
    assert [d.name for d in result.documents] == ["a"]
    error = only_error(result)
    assert str(error.span) == "<text>:3:1"
    assert "document larger than" in error.message


def test_too_many_documents():
    result = load_text(
        "kind: Pod\n---\nkind: Pod\n---\nkind: Pod\n", limits=Limits(max_documents=2)
    )
    assert len(result.documents) == 2
    error = only_error(result)
    assert str(error.span) == "<text>:5:1"
    assert "more than 2 documents" in error.message


def test_too_many_files(tmp_path):
    for name in "abc":
        (tmp_path / f"{name}.yaml").write_text("kind: Pod\n")
    result = load_documents([str(tmp_path)], limits=Limits(max_files=2))
    assert len(result.documents) == 2
    assert "more than 2 input files" in only_error(result).message


def test_nesting_depth_limit():
    error = only_error(
        load_text("a: " + "[" * 30 + "]" * 30 + "\n", limits=Limits(max_depth=10))
    )
    assert "nested more than 10 levels deep" in error.message


def test_deep_nesting_beyond_the_parser_is_an_error_not_a_crash():
    result = load_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert result.documents == ()
    assert len(result.errors) == 1


def test_bytes_that_are_not_utf8_give_a_positioned_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"kind: Pod\nmetadata:\n  name: caf\xe9\n")
    error = only_error(load_documents([str(path)]))
    assert str(error.span) == f"{path}:3:12"
    assert error.message == "not UTF-8 text (byte 0xe9)"


def test_utf16_with_bom_and_crlf_line_ends(tmp_path):
    path = tmp_path / "u16.yaml"
    path.write_bytes("kind: Pod\r\nmetadata:\r\n  name: wide\r\n".encode("utf-16"))
    result = load_documents([str(path)])
    assert result.errors == ()
    assert str(result.documents[0].span_at("metadata", "name")) == f"{path}:3:9"


def test_control_character_is_a_positioned_error():
    error = only_error(load_text("kind: Pod\nmetadata: {name: a\x07}\n"))
    assert str(error.span) == "<text>:2:19"


def test_json_with_tabs_loads():
    result = load_text(
        '{\n\t"kind": "Pod",\n\t"metadata": {"name": "a\\/b"}\n}\n', "p.json"
    )
    assert result.errors == ()
    assert result.documents[0].name == "a/b"
    assert str(result.documents[0].span_at("metadata", "name")) == "p.json:3:23"


def test_yaml_1_1_scalars_and_timestamps():
    data = (
        load_text("kind: Pod\na: yes\nb: 0x1F\nc: 1.5\nd: ~\ne: 2001-12-14\n'53': x\n")
        .documents[0]
        .data
    )
    assert data == {
        "kind": "Pod",
        "a": True,
        "b": 31,
        "c": 1.5,
        "d": None,
        "e": "2001-12-14",
        "53": "x",
    }


# ---------------------------------------------------------------- positions


def test_span_at_any_field_and_nearest_ancestor():
    doc = load_text(
        text("""
        apiVersion: apps/v1
        kind: Deployment
        spec:
          template:
            spec:
              dnsConfig:
                options:
                  - name: ndots
                    value: "2"
        """),
        "d.yaml",
    ).documents[0]
    assert str(doc.span_at()) == "d.yaml:1:1"
    assert (
        str(doc.span_at("spec", "template", "spec", "dnsConfig", "options", 0))
        == "d.yaml:8:13"
    )
    assert (
        str(doc.span_at("spec", "template", "spec", "dnsConfig", "options", 0, "value"))
        == "d.yaml:9:20"
    )
    assert (
        str(doc.span_at("spec", "template", "spec", "dnsConfig", "options", 5))
        == "d.yaml:8:11"
    )
    assert str(doc.span_at("spec", "replicas")) == "d.yaml:4:3"
    error = doc.error(
        "bad ndots", "spec", "template", "spec", "dnsConfig", "options", 0, "value"
    )
    assert (
        str(error)
        == 'd.yaml:9:20: bad ndots\n                value: "2"\n                       ^'
    )


def test_literal_block_corefile_maps_line_by_line():
    doc = load_text(
        text("""
        kind: ConfigMap
        data:
          Corefile: |
            .:53 {
                errors

                forward . 10.0.0.1
            }
        """),
        "cm.yaml",
    ).documents[0]
    source = doc.embedded_source("data", "Corefile")
    assert type(source).__name__ == "Source"
    assert source.text == ".:53 {\n    errors\n\n    forward . 10.0.0.1\n}\n"
    assert (source.line_offset, source.column_offset) == (3, 4)
    assert str(source.span(4, 5)) == "cm.yaml:7:9"
    assert source.line_text(source.span(4, 5).line) == "        forward . 10.0.0.1"


def test_block_with_indentation_indicator_and_strip_chomping():
    doc = load_text(
        "kind: ConfigMap\ndata:\n  Corefile: |2-\n       . {\n     }\n"
    ).documents[0]
    source = doc.embedded_source("data", "Corefile")
    assert source.text == "   . {\n }"
    assert source.column_offset == 4
    assert str(source.span(1, 4)) == "<text>:4:8"


def test_folded_and_escaped_scalars_are_anchored_at_their_start():
    folded = load_text(
        "kind: ConfigMap\ndata:\n  Corefile: >\n    . {\n    }\n"
    ).documents[0]
    source = folded.embedded_source("data", "Corefile")
    assert isinstance(source, AnchoredSource)
    assert str(source.span(2, 5)) == "<text>:3:13"
    escaped = load_text(
        '{"kind": "ConfigMap", "data": {"Corefile": ".:53 {\\n  errors\\n}"}}'
    ).documents[0]
    source = escaped.embedded_source("data", "Corefile")
    assert isinstance(source, AnchoredSource)
    assert source.text == ".:53 {\n  errors\n}"
    assert str(source.span(2, 3)) == "<text>:1:44"


def test_one_line_scalars_map_column_by_column():
    doc = load_text(
        "kind: X\nargs: [ \"-localip\", '169.254.20.10,10.0.0.10', plain text ]\n"
    ).documents[0]
    quoted = doc.embedded_source("args", 1)
    assert str(quoted.span(1, 15)) == "<text>:2:36"
    plain = doc.embedded_source("args", 2)
    assert str(plain.span(1, 7)) == "<text>:2:54"
    assert doc.embedded_source("args") is None
    assert doc.embedded_source("missing") is None


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize(
    ("source", "position", "fragment"),
    [
        pytest.param(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }}\n",
            "4:9",
            "a Go/Helm (or Jinja) template expression `{{ .Values.name }}`; render it first, e.g. with `helm template`",
            id="helm",
        ),
        pytest.param(
            "{{- if .Values.enabled }}\napiVersion: v1\nkind: Service\n{{- end }}\n",
            "1:1",
            "`{{- if .Values.enabled }}`",
            id="helm-structure",
        ),
        pytest.param(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  Corefile: |\n{% for z in zones %}\n    {{ z }} {\n    }\n{% endfor %}\n",
            "5:1",
            "a Jinja template expression `{% for z in zones %}`; render it first with its Jinja/Ansible templates",
            id="jinja",
        ),
        pytest.param(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: node-local-dns}\ndata:\n  Corefile: |\n    __PILLAR__DNS__DOMAIN__:53 {\n        bind __PILLAR__LOCAL__DNS__\n    }\n",
            "6:5",
            "(placeholders: __PILLAR__DNS__DOMAIN__)",  # node-cache fills __PILLAR__LOCAL__DNS__ itself
            id="pillar",
        ),
        pytest.param(
            "apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      containers:\n      - args: [-localip, __PILLAR__LOCAL__DNS__]\n",
            "7:26",
            "NodeLocal DNSCache __PILLAR__ placeholder",
            id="pillar-in-args",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Service\nspec:\n  clusterIP: __DNS__SERVER__\n",
            "4:14",
            "an unfilled __NAME__ placeholder `__DNS__SERVER__`",
            id="dunder",
        ),
        pytest.param(
            'apiVersion: v1\nkind: Service\nspec:\n  clusterIP: "%{CLUSTER_DNS}%"\n',
            "4:15",
            "an unfilled k3s %{NAME}% placeholder `%{CLUSTER_DNS}%`",
            id="k3s",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nspec:\n  dnsConfig:\n    nameservers:\n    - ${NODE_DNS}\n",
            "6:7",
            "an unfilled $NAME placeholder `${NODE_DNS}`; substitute the variables first, e.g. with `envsubst`",
            id="envsubst",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: <img>\n",
            "5:12",
            "an unfilled <name> placeholder `<img>`",
            id="angle",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Service\nspec:\n  clusterIP: CLUSTER_DNS_IP\n",
            "4:14",
            "an unfilled placeholder name `CLUSTER_DNS_IP`; substitute the placeholders first, as the file's install script does (sed)",
            id="sed",
        ),
        pytest.param(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  Corefile: |\n    .:53 {\n        kubernetes CLUSTER_DOMAIN SERVICE_CIDR\n    }\n",
            "6:20",
            "(placeholders: CLUSTER_DOMAIN, SERVICE_CIDR)",
            id="sed-corefile",
        ),
    ],
)
def test_templates_give_one_error_at_the_first_placeholder(source, position, fragment):
    result = load_text("kind: Pod\nmetadata: {name: ok}\n---\n" + source, "t.yaml")
    error = only_error(result)
    assert result.documents == ()
    line, column = position.split(":")
    assert str(error.span) == f"t.yaml:{int(line) + 3}:{column}"
    assert error.message.startswith(
        "this file is a template, not a rendered manifest: "
    )
    assert fragment in error.message
    assert error.line_text


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nspec:\n  key: "{{ request.object.spec.dnsPolicy }}"\n  searches: [svc.CLUSTER_NAME]\n',
            id="template-in-ignored-kind",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: busybox\n    command: [sh, -c, 'echo $HOME ${SERVER} <none> MY_VAR --format={{.Name}}']\n    env:\n    - {name: POD_NAMESPACE, value: '$(POD_NAME)'}\n",
            id="shell-in-command",
        ),
        pytest.param(
            'apiVersion: v1\nkind: ConfigMap\ndata:\n  Corefile: |\n    . {\n        forward . {$UPSTREAM} {%WINDNS%}\n        template IN A example.org {\n            answer "{{ .Name }} 60 IN A 127.0.0.1"\n        }\n        # CLUSTER_DOMAIN {{ comment }}\n        log . "{remote}"\n    }\n',
            id="corefile-env-quoted-template-comment",
        ),
        pytest.param(
            "# __MACHINE_GENERATED_WARNING__ {{ x }}\napiVersion: v1\nkind: Service\nmetadata:\n  name: kube-dns  # {{ trailing }}\n  annotations: {a: '{{ not read }}'}\n",
            id="comments-and-unread-fields",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ok\n  labels: {tier: BACKEND_API}\nspec:\n  containers:\n  - image: repo/app:V1_2_RC\n",
            id="caps-in-labels-and-tags",
        ),
    ],
)
def test_not_templates(source):
    result = load_text(source)
    assert result.errors == ()
    assert len(result.documents) == 1
