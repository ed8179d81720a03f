"""Input stage: kalc.yaml, the environment spec (what the world may do, what must hold).

The file is checked against ``schemas/kalc.schema.json`` with positions: every problem
is a ConfigError at its line and column, all of them reported together. Each value
read is typed and keeps its position (``Given``); values the file leaves out stay
``None`` here, and ``kalc_formal.config.settings`` decides the defaults and lists each
one it used.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, cast

import yaml

from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.inputs.files import InputFile, read_input_file
from kalc_formal.source import Source, Span

MAX_ENV_BYTES = 1 << 20
MAX_ENV_DEPTH = 32
"""Nesting levels of mappings and lists kalc.yaml may use (its schema needs 5)."""
MAX_ENV_NODES = 500_000
"""YAML nodes checked at most, aliases counted each time they are used."""
ENV_FILE_NAMES = ("kalc.yaml", "kalc.yml")


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

NameForm = Literal["short", "namespaced", "fqdn", "fqdn-dot"]
UpstreamScope = Literal["node", "pod", "cluster"]
LimitWindow = Literal["sliding", "fixed"]
LibcName = Literal["glibc", "musl", "go"]
ShardBalance = Literal["any", "even"]
InitialCache = Literal["warm", "cold"]
ArrivalsKind = Literal["any", "spread"]
Property = Literal["upstream-limit"]


@dataclass(frozen=True, slots=True)
class Given(Generic[T_co]):
    """A value kalc.yaml gives, and where it is written."""

    value: T_co
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class NameSpec:
    id: str
    span: Span | None = None
    example: str | None = None
    service: str | None = None
    namespace: str | None = None
    form: NameForm | None = None
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
    libc: LibcName | None = None
    max_per_node: int | None = None


@dataclass(frozen=True, slots=True)
class UpstreamSpec:
    address: str
    span: Span | None = None
    limit: int | None = None
    scope: UpstreamScope | None = None
    outage_steps: int | None = None
    window: LimitWindow | None = None


@dataclass(frozen=True, slots=True)
class CoreDNSSection:
    """kalc.yaml's ``coredns:``."""

    version: Given[str] | None = None
    replicas: Given[int] | None = None
    replicas_per_node: Given[int] | None = None
    skew: Given[float] | None = None
    restarts: Given[int] | None = None
    rollout: Given[bool] | None = None
    shard_balance: Given[ShardBalance] | None = None
    capacity_qps: Given[int] | None = None


@dataclass(frozen=True, slots=True)
class NodeLocalSection:
    """kalc.yaml's ``nodelocal:``."""

    capacity_qps: Given[int] | None = None


@dataclass(frozen=True, slots=True)
class ClusterSection:
    """kalc.yaml's ``cluster:``."""

    domain: Given[str] | None = None
    nodes: Given[int] | None = None
    dns_ip: Given[str] | None = None
    node_search: Given[tuple[str, ...]] | None = None
    node_nameservers: Given[tuple[str, ...]] | None = None
    max_pods_per_node: Given[int] | None = None


@dataclass(frozen=True, slots=True)
class SurgeSection:
    """kalc.yaml's ``surge:``."""

    max_steps: Given[int] | None = None
    scale_to_hpa_max: Given[bool] | None = None


@dataclass(frozen=True, slots=True)
class CheckSection:
    """kalc.yaml's ``check:``."""

    step: Given[int] | None = None
    horizon: Given[int] | None = None
    initial_cache: Given[InitialCache] | None = None
    property: Given[Property] | None = None
    arrivals: Given[ArrivalsKind] | None = None
    burst: Given[float] | None = None
    reply_ms: Given[float] | None = None


@dataclass(frozen=True, slots=True)
class EnvSpec:
    """What kalc.yaml says; ``None`` wherever it says nothing."""

    path: str | None = None
    coredns: CoreDNSSection = CoreDNSSection()
    cluster: ClusterSection = ClusterSection()
    upstreams: Given[tuple[UpstreamSpec, ...]] | None = None
    names: Given[tuple[NameSpec, ...]] | None = None
    lookups: Given[tuple[LookupSpec, ...]] | None = None
    surge: SurgeSection = SurgeSection()
    check: CheckSection = CheckSection()
    nodelocal: NodeLocalSection = NodeLocalSection()
    spans: Mapping[str, Span] = field(default_factory=dict)
    """The position of every value by dotted path, e.g. ``names.0.count``."""

    def span(self, dotted: str) -> Span | None:
        """The position of a field, e.g. ``"coredns.replicas"``."""
        return self.spans.get(dotted)


def schema() -> dict[str, Any]:
    """The JSON Schema of kalc.yaml."""
    text = resources.files("kalc_formal.config").joinpath("schemas/kalc.schema.json").read_text()
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
    for name in spec.names.value if spec.names else ():
        if name.id in ids:
            errors.append(at(name.span, f"names: id '{name.id}' is used twice"))
        ids.add(name.id)
        if (name.example is None) == (name.service is None):
            errors.append(at(name.span, f"names: '{name.id}' needs exactly one of example, service"))
        if name.service is None and (name.form or name.namespace):
            errors.append(at(name.span, f"names: '{name.id}': form and namespace are for services"))
    for lookup in spec.lookups.value if spec.lookups else ():
        for name_id in lookup.names:
            if name_id not in ids:
                errors.append(at(lookup.span, f"lookups: unknown name id '{name_id}'"))
        if lookup.rate is not None and lookup.surge_rate is not None and lookup.surge_rate < lookup.rate:
            errors.append(at(lookup.span, "lookups: surge_rate is below rate"))
    return errors


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML has it (the pure-Python one takes 16 s for 1 MiB)."""


def _compose(source: Source) -> yaml.Node | None:
    _check_depth(source)
    try:
        node = yaml.compose(source.text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(source, error) from None
    except yaml.reader.ReaderError as error:
        raise _reader_error(source, error) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{source.path}: YAML: {error}") from None
    return node


def _yaml_error(source: Source, error: yaml.MarkedYAMLError) -> ConfigError:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = error.problem or error.context or "bad YAML"
    return ConfigError.at(source, line, column, f"YAML: {message}")


def _reader_error(source: Source, error: yaml.reader.ReaderError) -> ConfigError:
    """A character YAML does not allow (NUL, other control characters), at its place."""
    before = source.text[: max(0, min(error.position, len(source.text)))]
    line = before.count("\n") + 1
    column = error.position - (before.rfind("\n") + 1) + 1
    character = error.character if isinstance(error.character, str) else chr(error.character)
    return ConfigError.at(
        source, line, column,
        f"YAML: character U+{ord(character):04X} is not allowed in YAML text",
    )


def _check_depth(source: Source) -> None:
    """Refuse nesting deeper than MAX_ENV_DEPTH before composing (PyYAML's composer
    recurses once per level)."""
    depth = 0
    try:
        for event in yaml.parse(source.text, Loader=_LOADER):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_ENV_DEPTH:
                    mark = event.start_mark
                    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                    raise ConfigError.at(
                        source, line, column,
                        f"YAML: nested more than {MAX_ENV_DEPTH} levels deep",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(source, error) from None
    except yaml.reader.ReaderError as error:
        raise _reader_error(source, error) from None


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
        self.nodes = 0

    def error(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.errors.append(ConfigError.at(self.source, mark.line + 1, mark.column + 1, message))

    def check(self, node: yaml.Node, rule: dict[str, Any], path: tuple[str, ...]) -> None:
        self.nodes += 1
        if self.nodes == MAX_ENV_NODES:
            self.error(node, f"{_name(path)}: more than {MAX_ENV_NODES:,} values "
                       "(aliases count each time they are used); not checked further")
        if self.nodes >= MAX_ENV_NODES:
            return
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
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.error(key_node, f"{_name(path)}: YAML merge keys (<<) are not supported; "
                           "write the keys out")
                continue
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
            self.error(node, f"{_name(path)}: expected {kind}, got {_describe(value)}"
                       + _yaml11_hint(value, kind))
            return
        if isinstance(value, float) and not math.isfinite(value):
            self.error(node, f"{_name(path)}: must be a finite number, got {value}")
            return
        if isinstance(value, str):
            self._text(node, value, rule, path)
            return
        if "minimum" in rule and value < rule["minimum"]:
            self.error(node, f"{_name(path)}: must be >= {rule['minimum']}")
        if "exclusiveMinimum" in rule and value <= rule["exclusiveMinimum"]:
            self.error(node, f"{_name(path)}: must be > {rule['exclusiveMinimum']}")
        if "maximum" in rule and value > rule["maximum"]:
            self.error(node, f"{_name(path)}: must be <= {rule['maximum']}")

    def _text(self, node: yaml.Node, value: str, rule: dict[str, Any], path: tuple[str, ...]) -> None:
        limit = rule.get("maxLength", MAX_ENV_STRING)
        if len(value) > limit:
            self.error(node, f"{_name(path)}: longer than {limit} characters")
            return
        if "pattern" in rule and not re.search(rule["pattern"], value):
            self.error(node, f"{_name(path)}: must match {rule['pattern']}, got {value!r}")
        check = _FORMATS.get(rule.get("format", ""))
        if check is not None and not check[0](value):
            self.error(node, f"{_name(path)}: {check[1]}, got {value!r}")


MAX_ENV_STRING = 253
"""The longest text value kalc.yaml takes (a domain name), unless its schema says."""


def _yaml11_hint(value: Any, kind: str) -> str:
    """YAML 1.1 reads 1e308 (no dot) as a string: say so when a number was meant."""
    if kind not in ("number", "integer") or not isinstance(value, str):
        return ""
    try:
        float(value)
    except ValueError:
        return ""
    return (" (YAML 1.1 reads a number without a dot before its exponent as a string: "
            "write 1.0e3 for 1e3)")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_HOST_LABEL = re.compile(r"[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?")


def _is_domain(text: str) -> bool:
    name = text[:-1] if text.endswith(".") else text
    return 0 < len(name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in name.split("."))


_VERSION = re.compile(r"v?[0-9]{1,4}\.[0-9]{1,4}(\.[0-9]{1,4})?")

_FORMATS: dict[str, tuple[Any, str]] = {
    "version": (lambda v: bool(_VERSION.fullmatch(v)), "expected a CoreDNS version like 1.14.7"),
    "ip": (_is_ip, "expected an IPv4 or IPv6 address"),
    "ip-or-node": (lambda v: v == "node" or _is_ip(v),
                   "expected an IP address or `node` (the node's nameservers)"),
    "domain": (_is_domain, "expected a domain name (labels of letters, digits, - and _)"),
    "hostname": (_is_domain, "expected a host name (labels of letters, digits, - and _, "
                 "a trailing dot for a FQDN)"),
    "dns-label": (lambda v: bool(_DNS_LABEL.fullmatch(v)),
                  "expected a Kubernetes name (RFC 1123 label: lower-case letters, digits "
                  "and -, at most 63)"),
}


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


class _Fields:
    """One mapping of a checked kalc.yaml, read a field at a time with the type the schema
    checked (a mismatch is a bug of the schema, not of the file)."""

    def __init__(self, value: Any, path: str, spans: Mapping[str, Span]) -> None:
        self.value: Mapping[str, Any] = value if isinstance(value, dict) else {}
        self.path = path
        self.spans = spans

    def span(self, key: str = "") -> Span | None:
        return self.spans.get(f"{self.path}.{key}" if self.path and key else self.path or key)

    def get(self, key: str, kind: type[T]) -> T | None:
        value = self.value.get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
            raise AssertionError(f"{self.path}.{key}: the schema let {value!r} through")
        return value

    def number(self, key: str) -> float | None:
        value = self.value.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AssertionError(f"{self.path}.{key}: the schema let {value!r} through")
        return value

    def strings(self, key: str) -> tuple[str, ...] | None:
        value = self.value.get(key)
        if value is None:
            return None
        return tuple(self.item(key, index, str) for index in range(len(value)))

    def item(self, key: str, index: int, kind: type[T]) -> T:
        value = self.value[key][index]
        if not isinstance(value, kind):
            raise AssertionError(f"{self.path}.{key}.{index}: the schema let {value!r} through")
        return value

    def given(self, key: str, kind: type[T]) -> Given[T] | None:
        return self._given(key, self.get(key, kind))

    def given_number(self, key: str) -> Given[float] | None:
        return self._given(key, self.number(key))

    def given_strings(self, key: str) -> Given[tuple[str, ...]] | None:
        return self._given(key, self.strings(key))

    def _given(self, key: str, value: T | None) -> Given[T] | None:
        return None if value is None else Given(value, self.span(key))


def _read(source: Source, value: dict[str, Any], spans: Mapping[str, Span]) -> EnvSpec:
    def section(name: str) -> _Fields:
        return _Fields(value.get(name), name, spans)

    coredns, cluster, surge, check = (section(n) for n in ("coredns", "cluster", "surge", "check"))
    return EnvSpec(
        path=source.path,
        coredns=CoreDNSSection(
            version=coredns.given("version", str),
            replicas=coredns.given("replicas", int),
            replicas_per_node=coredns.given("replicas_per_node", int),
            skew=coredns.given_number("skew"),
            restarts=coredns.given("restarts", int),
            rollout=coredns.given("rollout", bool),
            shard_balance=cast("Given[ShardBalance] | None", coredns.given("shard_balance", str)),
            capacity_qps=coredns.given("capacity_qps", int),
        ),
        nodelocal=NodeLocalSection(capacity_qps=section("nodelocal").given("capacity_qps", int)),
        cluster=ClusterSection(
            domain=cluster.given("domain", str),
            nodes=cluster.given("nodes", int),
            dns_ip=cluster.given("dns_ip", str),
            node_search=cluster.given_strings("node_search"),
            node_nameservers=cluster.given_strings("node_nameservers"),
            max_pods_per_node=cluster.given("max_pods_per_node", int),
        ),
        upstreams=_items(value, "upstreams", spans, _upstream),
        names=_items(value, "names", spans, _name_spec),
        lookups=_items(value, "lookups", spans, _lookup),
        surge=SurgeSection(
            max_steps=surge.given("max_steps", int),
            scale_to_hpa_max=surge.given("scale_to_hpa_max", bool),
        ),
        check=CheckSection(
            step=check.given("step", int),
            horizon=check.given("horizon", int),
            initial_cache=cast("Given[InitialCache] | None", check.given("initial_cache", str)),
            property=cast("Given[Property] | None", check.given("property", str)),
            arrivals=cast("Given[ArrivalsKind] | None", check.given("arrivals", str)),
            burst=check.given_number("burst"),
            reply_ms=check.given_number("reply_ms"),
        ),
        spans=spans,
    )


def _items(
    value: dict[str, Any], key: str, spans: Mapping[str, Span], read: Callable[[_Fields], T],
) -> Given[tuple[T, ...]] | None:
    items = value.get(key)
    if items is None:
        return None
    return Given(
        tuple(read(_Fields(item, f"{key}.{index}", spans)) for index, item in enumerate(items)),
        spans.get(key),
    )


def _upstream(fields: _Fields) -> UpstreamSpec:
    address = fields.get("address", str)
    assert address is not None
    return UpstreamSpec(
        address, fields.span(),
        limit=fields.get("limit", int),
        scope=cast("UpstreamScope | None", fields.get("scope", str)),
        outage_steps=fields.get("outage_steps", int),
        window=cast("LimitWindow | None", fields.get("window", str)),
    )


def _name_spec(fields: _Fields) -> NameSpec:
    name_id = fields.get("id", str)
    assert name_id is not None
    return NameSpec(
        name_id, fields.span(),
        example=fields.get("example", str),
        service=fields.get("service", str),
        namespace=fields.get("namespace", str),
        form=cast("NameForm | None", fields.get("form", str)),
        count=fields.get("count", int),
        exists=fields.get("exists", bool),
        ttl=fields.get("ttl", int),
        negative_ttl=fields.get("negative_ttl", int),
        aaaa=fields.get("aaaa", bool),
    )


def _lookup(fields: _Fields) -> LookupSpec:
    pods = _Fields(fields.value.get("pods"), f"{fields.path}.pods", fields.spans)
    namespace = pods.get("namespace", str)
    labels = pods.value.get("labels") or {}
    selector = PodSelector(
        namespaces=(pods.strings("namespaces") or ()) + ((namespace,) if namespace else ()),
        workload=pods.get("workload", str),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
    )
    names = fields.strings("names")
    assert names is not None
    return LookupSpec(
        names=names,
        span=fields.span(),
        pods=selector,
        rate=fields.number("rate"),
        surge_rate=fields.number("surge_rate"),
        libc=cast("LibcName | None", fields.get("libc", str)),
        max_per_node=fields.get("max_per_node", int),
    )
