"""Input stage: kalc.yaml, the environment spec (what the world may do, what must hold).

The file is checked against ``schemas/kalc.schema.json`` with positions: every problem
is a ConfigError at its line and column, all of them reported together. Values the
file leaves out stay ``None`` here; ``kalc_formal.flows`` fills in the defaults and
lists each one it used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.inputs import InputFile, read_input_file
from kalc_formal.source import Source, Span

MAX_ENV_BYTES = 1 << 20
ENV_FILE_NAMES = ("kalc.yaml", "kalc.yml")


@dataclass(frozen=True, slots=True)
class NameSpec:
    id: str
    span: Span | None = None
    example: str | None = None
    service: str | None = None
    namespace: str | None = None
    form: str | None = None
    count: int | None = None
    exists: bool | None = None
    ttl: int | None = None
    negative_ttl: int | None = None
    aaaa: bool | None = None


@dataclass(frozen=True, slots=True)
class PodSelector:
    namespaces: tuple[str, ...] = ()
    workload: str | None = None
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class LookupSpec:
    names: tuple[str, ...]
    span: Span | None = None
    pods: PodSelector = PodSelector()
    rate: float | None = None
    surge_rate: float | None = None
    libc: str | None = None
    max_per_node: int | None = None


@dataclass(frozen=True, slots=True)
class UpstreamSpec:
    address: str
    span: Span | None = None
    limit: int | None = None
    scope: str | None = None
    outage_steps: int | None = None
    window: str | None = None


@dataclass(frozen=True, slots=True)
class EnvSpec:
    """What kalc.yaml says; ``None`` wherever it says nothing."""

    path: str | None = None
    coredns: dict[str, Any] = field(default_factory=dict)
    cluster: dict[str, Any] = field(default_factory=dict)
    upstreams: tuple[UpstreamSpec, ...] | None = None
    names: tuple[NameSpec, ...] | None = None
    lookups: tuple[LookupSpec, ...] | None = None
    surge: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)

    def span(self, dotted: str) -> Span | None:
        """The position of a field, e.g. ``"coredns.replicas"``."""
        return self.spans.get(dotted)


def schema() -> dict[str, Any]:
    """The JSON Schema of kalc.yaml."""
    text = resources.files("kalc_formal").joinpath("schemas/kalc.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def find_env_file(paths: list[Path]) -> Path | None:
    """The kalc.yaml beside (or inside) the first input path that has one."""
    for path in paths:
        folder = path if path.is_dir() else path.parent
        for name in ENV_FILE_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def load_env(path: Path, *, display: str | None = None) -> EnvSpec:
    """Read and check a kalc.yaml file (bounded in size, UTF-8 or UTF-16 text)."""
    shown = display or str(path)
    text, error = read_input_file(InputFile(shown, str(path)), max_bytes=MAX_ENV_BYTES)
    if error is not None:
        raise error
    assert text is not None
    return parse_env(Source(shown, text))


def parse_env(source: Source) -> EnvSpec:
    """Check a kalc.yaml text against the schema and read it."""
    node = _compose(source)
    if node is None:
        return EnvSpec(path=source.path)
    checker = _Checker(source)
    checker.check(node, schema(), ())
    if checker.errors:
        raise ConfigErrors(checker.errors)
    spec = _read(source, _plain(node), checker.spans)
    errors = list(_cross_check(source, spec))
    if errors:
        raise ConfigErrors(errors)
    return spec


def _cross_check(source: Source, spec: EnvSpec) -> list[ConfigError]:
    errors = []

    def at(span: Span | None, message: str) -> ConfigError:
        if span is None:
            return ConfigError(f"{source.path}: {message}")
        return ConfigError(message, span, source.line_text(span.line))

    ids: set[str] = set()
    for name in spec.names or ():
        if name.id in ids:
            errors.append(at(name.span, f"names: id '{name.id}' is used twice"))
        ids.add(name.id)
        if (name.example is None) == (name.service is None):
            errors.append(at(name.span, f"names: '{name.id}' needs exactly one of example, service"))
        if name.service is None and (name.form or name.namespace):
            errors.append(at(name.span, f"names: '{name.id}': form and namespace are for services"))
    for lookup in spec.lookups or ():
        for name_id in lookup.names:
            if name_id not in ids:
                errors.append(at(lookup.span, f"lookups: unknown name id '{name_id}'"))
        if lookup.rate is not None and lookup.surge_rate is not None and lookup.surge_rate < lookup.rate:
            errors.append(at(lookup.span, "lookups: surge_rate is below rate"))
    return errors


def _compose(source: Source) -> yaml.Node | None:
    try:
        node = yaml.compose(source.text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = error.problem or error.context or "bad YAML"
        raise ConfigError.at(source, line, column, f"YAML: {message}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{source.path}: YAML: {error}") from None
    return node


def _plain(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return {_plain(k): _plain(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item) for item in node.value]
    return _CONSTRUCTOR.construct_object(node, deep=True)


_CONSTRUCTOR = yaml.constructor.SafeConstructor()

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


class _Checker:
    """A JSON Schema subset checker over YAML nodes, keeping every error's position."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.errors: list[ConfigError] = []
        self.spans: dict[str, Span] = {}

    def error(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.errors.append(ConfigError.at(self.source, mark.line + 1, mark.column + 1, message))

    def check(self, node: yaml.Node, rule: dict[str, Any], path: tuple[str, ...]) -> None:
        mark = node.start_mark
        self.spans[".".join(path)] = self.source.span(mark.line + 1, mark.column + 1)
        if "enum" in rule:
            value = _scalar(node)
            if value not in rule["enum"]:
                choices = ", ".join(str(v) for v in rule["enum"])
                self.error(node, f"{_name(path)}: expected one of {choices}")
            return
        kind = rule.get("type")
        if kind == "object":
            self._object(node, rule, path)
        elif kind == "array":
            self._array(node, rule, path)
        elif kind is not None:
            self._scalar(node, rule, path)

    def _object(self, node: yaml.Node, rule: dict[str, Any], path: tuple[str, ...]) -> None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{_name(path)}: expected a mapping")
            return
        properties = rule.get("properties", {})
        extra = rule.get("additionalProperties", True)
        seen = set()
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if not isinstance(key, str):
                self.error(key_node, f"{_name(path)}: keys must be strings")
                continue
            if key in seen:
                self.error(key_node, f"{_name((*path, key))}: given twice")
            seen.add(key)
            if key in properties:
                self.check(value_node, properties[key], (*path, key))
            elif isinstance(extra, dict):
                self.check(value_node, extra, (*path, key))
            elif extra is False:
                known = ", ".join(sorted(properties))
                self.error(key_node, f"{_name(path)}: unknown key '{key}' (known: {known})")
        for key in rule.get("required", []):
            if key not in seen:
                self.error(node, f"{_name(path)}: '{key}' is required")

    def _array(self, node: yaml.Node, rule: dict[str, Any], path: tuple[str, ...]) -> None:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{_name(path)}: expected a list")
            return
        if len(node.value) < rule.get("minItems", 0):
            self.error(node, f"{_name(path)}: needs at least {rule['minItems']} item(s)")
        if "maxItems" in rule and len(node.value) > rule["maxItems"]:
            self.error(node, f"{_name(path)}: at most {rule['maxItems']} item(s)")
        for index, item in enumerate(node.value):
            self.check(item, rule.get("items", {}), (*path, str(index)))

    def _scalar(self, node: yaml.Node, rule: dict[str, Any], path: tuple[str, ...]) -> None:
        value = _scalar(node)
        kind = rule["type"]
        wrong_bool = isinstance(value, bool) and kind != "boolean"
        if wrong_bool or not isinstance(value, _TYPES[kind]):
            self.error(node, f"{_name(path)}: expected {kind}, got {_describe(value)}")
            return
        if "minimum" in rule and value < rule["minimum"]:
            self.error(node, f"{_name(path)}: must be >= {rule['minimum']}")
        if "exclusiveMinimum" in rule and value <= rule["exclusiveMinimum"]:
            self.error(node, f"{_name(path)}: must be > {rule['exclusiveMinimum']}")
        if "maximum" in rule and value > rule["maximum"]:
            self.error(node, f"{_name(path)}: must be <= {rule['maximum']}")
        if "pattern" in rule and not re.search(rule["pattern"], str(value)):
            self.error(node, f"{_name(path)}: must match {rule['pattern']}")


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return node
    return _CONSTRUCTOR.construct_object(node, deep=True)


def _describe(value: Any) -> str:
    if isinstance(value, yaml.MappingNode):
        return "a mapping"
    if isinstance(value, yaml.SequenceNode):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _name(path: tuple[str, ...]) -> str:
    return ".".join(path) if path else "kalc.yaml"


def _read(source: Source, value: dict[str, Any], spans: dict[str, Span]) -> EnvSpec:
    def span(*path: object) -> Span | None:
        return spans.get(".".join(str(p) for p in path))

    upstreams = value.get("upstreams")
    names = value.get("names")
    lookups = value.get("lookups")
    return EnvSpec(
        path=source.path,
        coredns=value.get("coredns") or {},
        cluster=value.get("cluster") or {},
        upstreams=None if upstreams is None else tuple(
            UpstreamSpec(span=span("upstreams", i), **u) for i, u in enumerate(upstreams)
        ),
        names=None if names is None else tuple(
            NameSpec(span=span("names", i), **n) for i, n in enumerate(names)
        ),
        lookups=None if lookups is None else tuple(
            _lookup(item, span("lookups", i)) for i, item in enumerate(lookups)
        ),
        surge=value.get("surge") or {},
        check=value.get("check") or {},
        spans=spans,
    )


def _lookup(item: dict[str, Any], span: Span | None) -> LookupSpec:
    pods = item.get("pods") or {}
    namespaces = tuple(pods.get("namespaces", ())) + (
        (pods["namespace"],) if "namespace" in pods else ()
    )
    selector = PodSelector(
        namespaces=namespaces,
        workload=pods.get("workload"),
        labels=tuple(sorted((pods.get("labels") or {}).items())),
    )
    return LookupSpec(
        names=tuple(item["names"]),
        span=span,
        pods=selector,
        rate=item.get("rate"),
        surge_rate=item.get("surge_rate"),
        libc=item.get("libc"),
        max_per_node=item.get("max_per_node"),
    )
