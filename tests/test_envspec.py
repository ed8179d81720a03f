"""kalc.yaml: schema, positions of errors, reading."""

import jsonschema
import pytest
import yaml

from kalc_formal.config.envspec import parse_env, schema
from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.source import Source

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
    assert spec.coredns == {"version": "1.14.6", "replicas": 10}
    assert spec.names[0].count == 20
    assert spec.lookups[0].pods.namespaces == ("web",)
    assert str(spec.span("coredns.replicas")) == "kalc.yaml:3:13"
    assert spec.check == {"horizon": 30}


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
    assert spec.coredns == {}
