"""kalc.yaml: schema, positions of errors, reading into typed sections."""

from dataclasses import fields

import jsonschema
import pytest
import yaml

from kalc_formal.config.envspec import (
    CheckSection,
    ClusterSection,
    CoreDNSSection,
    Given,
    LookupSpec,
    NameSpec,
    NodeLocalSection,
    SurgeSection,
    UpstreamSpec,
    parse_env,
    schema,
)
from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.source import Source, Span

GOOD = """\
coredns:
  version: "1.14.6"
  replicas: 10
cluster:
  node_search: [ec2.internal]
upstreams:
  - address: node
    limit: 1024
    scope: node
names:
  - id: ext
    example: api.example.com
    count: 20
    ttl: 5
lookups:
  - pods: {namespace: web}
    names: [ext]
    rate: 0.5
    surge_rate: 3
check:
  horizon: 30
"""


def test_the_schema_is_a_valid_json_schema_and_accepts_a_full_file():
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(yaml.safe_load(GOOD), schema())


def test_a_good_file_is_read_with_positions():
    spec = parse_env(Source("kalc.yaml", GOOD))
    assert spec.coredns == CoreDNSSection(
        version=Given("1.14.6", Span("kalc.yaml", 2, 12)),
        replicas=Given(10, Span("kalc.yaml", 3, 13)),
    )
    assert spec.cluster.node_search == Given(("ec2.internal",), Span("kalc.yaml", 5, 16))
    assert spec.names is not None
    assert spec.names.value[0].count == 20
    assert str(spec.names.value[0].span) == "kalc.yaml:11:5"
    assert spec.lookups is not None
    assert spec.lookups.value[0].pods.namespaces == ("web",)
    assert spec.upstreams is not None
    assert str(spec.upstreams.span) == "kalc.yaml:7:3"
    assert spec.upstreams.value == (UpstreamSpec("node", Span("kalc.yaml", 7, 5), 1024, "node"),)
    assert str(spec.span("coredns.replicas")) == "kalc.yaml:3:13"
    assert spec.check == CheckSection(horizon=Given(30, Span("kalc.yaml", 21, 12)))
    assert spec.surge == SurgeSection()


def test_unknown_keys_and_bad_values_are_all_reported_at_their_positions():
    text = "coredns:\n  replica: 3\n  skew: -1\ncheck:\n  initial_cache: hot\n"
    with pytest.raises(ConfigErrors) as caught:
        parse_env(Source("kalc.yaml", text))
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("kalc.yaml:2:3: coredns: unknown key 'replica'")
    assert "    ^" in lines[2]
    messages = [str(e).splitlines()[0] for e in caught.value.errors]
    assert "kalc.yaml:3:9: coredns.skew: must be >= 0" in messages
    assert "kalc.yaml:5:18: check.initial_cache: expected one of warm, cold" in messages


def test_wrong_types_and_references_are_errors():
    text = "names:\n  - id: a\n    example: x.com\n    count: many\nlookups:\n  - names: [b]\n"
    with pytest.raises(ConfigErrors) as caught:
        parse_env(Source("kalc.yaml", text))
    assert "kalc.yaml:4:12: names.0.count: expected integer, got str 'many'" in str(caught.value)
    text = "names:\n  - id: a\n    example: x.com\nlookups:\n  - names: [b]\n"
    with pytest.raises(ConfigErrors, match=r"kalc.yaml:5:5: lookups: unknown name id 'b'"):
        parse_env(Source("kalc.yaml", text))


def test_yaml_syntax_errors_have_positions():
    with pytest.raises(ConfigError, match=r"kalc.yaml:3:1: YAML: (did not find )?expected ',' or ']'"):
        parse_env(Source("kalc.yaml", "a: [1,\nb: 2\n"))


def test_an_empty_file_is_all_defaults():
    spec = parse_env(Source("kalc.yaml", ""))
    assert spec.names is None
    assert spec.coredns == CoreDNSSection()
    assert spec.check == CheckSection()


def test_numbers_keep_what_the_file_wrote():
    spec = parse_env(Source("kalc.yaml", "coredns:\n  skew: 1\ncheck:\n  burst: 1.5\n"))
    assert spec.coredns.skew == Given(1, Span("kalc.yaml", 2, 9))
    assert type(spec.coredns.skew.value) is int
    assert spec.check.burst is not None
    assert spec.check.burst.value == 1.5


def test_a_pod_selector_joins_namespace_and_namespaces_and_sorts_labels():
    text = (
        "names:\n  - id: a\n    example: x.com\n"
        "lookups:\n  - names: [a]\n    pods:\n      namespace: one\n"
        "      namespaces: [two]\n      labels: {b: x, a: y}\n      workload: Deployment/web\n"
    )
    spec = parse_env(Source("kalc.yaml", text))
    assert spec.lookups is not None
    pods = spec.lookups.value[0].pods
    assert pods.namespaces == ("two", "one")
    assert pods.labels == (("a", "y"), ("b", "x"))
    assert pods.workload == "Deployment/web"


SECTIONS = {"coredns": CoreDNSSection, "cluster": ClusterSection, "surge": SurgeSection,
            "check": CheckSection, "nodelocal": NodeLocalSection}
ITEMS = {"upstreams": UpstreamSpec, "names": NameSpec, "lookups": LookupSpec}


def test_every_key_of_the_schema_has_a_typed_field():
    properties = schema()["properties"]
    assert set(properties) == set(SECTIONS) | set(ITEMS)
    for name, section in SECTIONS.items():
        assert set(properties[name]["properties"]) == {f.name for f in fields(section)}, name
    for name, item in ITEMS.items():
        keys = set(properties[name]["items"]["properties"]) - {"pods"}
        assert keys <= {f.name for f in fields(item)}, name


@pytest.mark.parametrize(("name", "section"), SECTIONS.items())
def test_every_section_field_keeps_its_position(name, section):
    """Each key of a section, given alone, is read at its line and column."""
    rules = schema()["properties"][name]["properties"]
    for key, rule in rules.items():
        value = {"boolean": "true", "integer": "3", "number": "0.5"}.get(rule.get("type", ""))
        if "enum" in rule:
            value = rule["enum"][-1]
        elif rule.get("type") == "array":
            value = "[10.0.0.1]" if rule["items"].get("format") == "ip" else "[a.example]"
        elif rule.get("type") == "string":
            value = {"version": "1.14.6", "ip": "10.0.0.1"}.get(rule.get("format"), "a.example")
        spec = parse_env(Source("kalc.yaml", f"# {key}\n{name}:\n  {key}: {value}\n"))
        given = getattr(getattr(spec, name), key)
        assert isinstance(given, Given), key
        assert given.span == Span("kalc.yaml", 3, 5 + len(key)), key
