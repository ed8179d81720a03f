"""Domain stage: the legacy kube-dns ConfigMap (``stubDomains``, ``upstreamNameservers``).

kube-dns read it; today NodeLocal DNSCache's node-cache reads it at run time (J3,
specs/kube-dns-configmap.md). Both keys hold JSON, which is read here with the position
of every key and value, and checked as node-cache checks it before it writes its
Corefile (kubernetes/dns ``pkg/dns/config``: ``processUpdate``, ``Validate``,
``ValidateNodeLocalCacheConfig``): a stub domain is an RFC 1123 subdomain, a nameserver
an IP address with an optional port, at most three upstream nameservers. What node-cache
would only log and skip is an error here, at the offending value.
"""

from __future__ import annotations

import ipaddress
import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from kalc_formal.errors import ConfigError
from kalc_formal.kubernetes.manifests import Document
from kalc_formal.kubernetes.podspec import Located
from kalc_formal.source import Source, Span, shown

__all__ = [
    "KUBE_DNS_CONFIGMAP",
    "KUBE_DNS_KEYS",
    "KubeDnsConfigMap",
    "StubDomain",
    "is_kube_dns_configmap",
    "read_kube_dns_configmap",
    "split_nameserver",
]

KUBE_DNS_CONFIGMAP = "kube-dns"
"""The ConfigMap's name (node-cache's DaemonSet mounts it by this name, optional)."""
KUBE_DNS_KEYS = ("stubDomains", "upstreamNameservers", "federations")
MAX_UPSTREAMS = 3
"""``validateUpstreamNameserver``: upstreamNameserver cannot have more than three entries."""
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
_MAX_SUBDOMAIN = 253
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_SPACE = " \t\n\r"


@dataclass(frozen=True, slots=True)
class StubDomain:
    """One entry of ``stubDomains``: a domain and the nameservers it is sent to."""

    domain: str
    span: Span
    servers: tuple[Located[str], ...]


@dataclass(frozen=True)
class KubeDnsConfigMap:
    """A kube-dns ConfigMap, its JSON read and checked.

    ``upstream_nameservers`` is None when the key is absent (or ``null``): then node-cache
    forwards to the node's /etc/resolv.conf.
    """

    name: str
    namespace: str
    span: Span
    file: Source
    """The file the ConfigMap is in (for the lines of what is generated from it)."""
    stub_domains: tuple[StubDomain, ...]
    upstream_nameservers: tuple[Located[str], ...] | None
    upstream_span: Span | None
    federations_span: Span | None = None


def is_kube_dns_configmap(document: Document, *, any_name: bool = False) -> bool:
    """A ConfigMap named kube-dns (any name with ``any_name``: node-cache reads the one
    mounted where it looks) whose data holds one of kube-dns's keys."""
    data = document.data.get("data")
    return (any_name or document.name == KUBE_DNS_CONFIGMAP) and isinstance(data, dict) \
        and any(key in data for key in KUBE_DNS_KEYS)


def read_kube_dns_configmap(
    document: Document, namespace: str,
) -> tuple[KubeDnsConfigMap | None, list[ConfigError]]:
    """The ConfigMap's stub domains and upstream nameservers, or the errors in them."""
    errors: list[ConfigError] = []
    stubs: list[StubDomain] = []
    upstreams: tuple[Located[str], ...] | None = None
    upstream_span = federations_span = None
    for key in KUBE_DNS_KEYS:
        if key not in document.data["data"]:
            continue
        source = document.embedded_source("data", key)
        if source is None:
            errors.append(document.error(
                f"data.{key}: expected a string holding JSON, as node-cache reads it", "data", key))
            continue
        try:
            value = _Json(source).document()
            if key == "stubDomains":
                stubs = _stub_domains(source, value)
            elif key == "upstreamNameservers":
                upstreams = _upstreams(source, value)
                upstream_span = upstreams[0].span if upstreams else document.span_at("data", key)
            else:
                federations_span = document.span_at("data", key)
        except ConfigError as error:
            errors.append(error)
    if errors:
        return None, errors
    found = KubeDnsConfigMap(
        document.name or KUBE_DNS_CONFIGMAP, namespace, document.span, document.source, tuple(stubs),
        upstreams, upstream_span, federations_span,
    )
    return found, []


# ------------------------------------------------------------------ checks


def _stub_domains(source: Source, value: _Value) -> list[StubDomain]:
    if value.data is None:
        return []
    if not isinstance(value.data, dict):
        raise value.error(source, "stubDomains: expected a JSON object (domain -> list of nameservers)")
    stubs: dict[str, StubDomain] = {}
    for key, (key_at, servers) in value.data.items():
        if len(key) > _MAX_SUBDOMAIN or not _SUBDOMAIN.fullmatch(key):
            raise _error_at(
                source, key_at,
                f"stubDomains: {shown(key)!r} is not a domain name (an RFC 1123 subdomain: "
                "lower-case letters, digits, '-' and '.', no trailing dot; kube-dns's Validate)",
            )
        located = _nameservers(source, servers, f"stubDomains[{shown(key)!r}]")
        if not located:
            raise _error_at(
                source, key_at,
                f"stubDomains: {shown(key)!r} has no nameserver: node-cache would write "
                "`forward .` with no address, which CoreDNS refuses",
            )
        stubs[key] = StubDomain(key, source.span(key_at[0], key_at[1]), located)
    return list(stubs.values())


def _error_at(source: Source, at: tuple[int, int], message: str) -> ConfigError:
    return ConfigError.at(source, at[0], at[1], message)


def _upstreams(source: Source, value: _Value) -> tuple[Located[str], ...] | None:
    if value.data is None:
        return None
    found = _nameservers(source, value, "upstreamNameservers")
    if len(found) > MAX_UPSTREAMS:
        raise value.error(
            source, f"upstreamNameservers: {len(found)} entries, more than the three "
            "node-cache accepts (it ignores the whole ConfigMap then)")
    return found or None


def _nameservers(source: Source, value: _Value, what: str) -> tuple[Located[str], ...]:
    if value.data is None:
        return ()
    if not isinstance(value.data, list):
        raise value.error(source, f"{what}: expected a JSON list of nameserver addresses")
    found = []
    for item in value.data:
        if not isinstance(item.data, str):
            raise item.error(source, f"{what}: expected a string (an IP address, optionally :port)")
        if split_nameserver(item.data) is None:
            raise item.error(
                source, f"{what}: {shown(item.data)!r} is not an IP address with an optional "
                "port: node-cache forwards only to addresses (forward's HostPortOrFile) and "
                "ignores the whole ConfigMap otherwise")
        found.append(Located(item.data, source.span(*item.at)))
    return tuple(found)


def split_nameserver(text: str) -> tuple[str, int] | None:
    """(address, port) of ``IP`` or ``IP:port`` / ``[IPv6]:port`` (port 53 when absent);
    None when it is neither (a host name, a bad port)."""
    try:
        return str(ipaddress.ip_address(text)), 53
    except ValueError:
        pass
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not 1 <= int(port) <= 65535:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        return None
    try:
        return str(ipaddress.ip_address(host)), int(port)
    except ValueError:
        return None


# ------------------------------------------------------------------ JSON with positions


@dataclass(frozen=True, slots=True)
class _Value:
    """A JSON value and the 1-based (line, column) of its first character in the text.

    An object's ``data`` maps each key to (the key's position, its value); an array's
    is a list of values; a scalar's is the Python value."""

    data: Any
    at: tuple[int, int]

    def error(self, source: Source, message: str) -> ConfigError:
        return ConfigError.at(source, *self.at, message)


class _Json:
    """Strict JSON (RFC 8259, as Go's encoding/json reads it) with the position of every
    value; a duplicate object key keeps the last value, as Go does for a map."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.text = source.text
        self.index = 0
        self.depth = 0
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]

    def document(self) -> _Value:
        value = self.value()
        self.skip()
        if self.index < len(self.text):
            raise self.fail("invalid JSON: more after the value")
        return value

    def position(self, index: int) -> tuple[int, int]:
        line = bisect_right(self.line_starts, index)
        return line, index - self.line_starts[line - 1] + 1

    def fail(self, message: str, index: int | None = None) -> ConfigError:
        """An error at ``index`` (default: here); at the end of the text, just after its
        last character that is not white space."""
        at = self.index if index is None else index
        if at >= len(self.text.rstrip(_SPACE)):
            at = len(self.text.rstrip(_SPACE))
        return ConfigError.at(self.source, *self.position(at), message)

    def skip(self) -> None:
        while self.index < len(self.text) and self.text[self.index] in _SPACE:
            self.index += 1

    def value(self) -> _Value:
        self.skip()
        if self.index >= len(self.text):
            raise self.fail("invalid JSON: unexpected end of the text")
        at = self.position(self.index)
        char = self.text[self.index]
        if char in "{[":
            self.depth += 1
            if self.depth > 100:
                raise self.fail("invalid JSON: nested more than 100 deep")
            data: Any = self.object() if char == "{" else self.array()
            self.depth -= 1
            return _Value(data, at)
        if char == '"':
            return _Value(self.string(), at)
        for word, meaning in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.index):
                self.index += len(word)
                return _Value(meaning, at)
        number = _NUMBER.match(self.text, self.index)
        if number is None:
            raise self.fail(f"invalid JSON: unexpected {shown(char)!r}")
        self.index = number.end()
        return _Value(json.loads(number.group()), at)

    def string(self) -> str:
        try:
            text, self.index = json.decoder.scanstring(self.text, self.index + 1, True)  # type: ignore[attr-defined]
        except json.JSONDecodeError as error:
            raise self.fail(f"invalid JSON: {error.msg}", error.pos) from None
        return str(text)

    def expect(self, char: str) -> None:
        self.skip()
        if not self.text.startswith(char, self.index):
            found = shown(self.text[self.index]) if self.index < len(self.text) else "the end"
            raise self.fail(f"invalid JSON: expected {char!r}, found {found!r}")
        self.index += 1

    def object(self) -> dict[str, tuple[tuple[int, int], _Value]]:
        self.index += 1
        found: dict[str, tuple[tuple[int, int], _Value]] = {}
        self.skip()
        if self.text.startswith("}", self.index):
            self.index += 1
            return found
        while True:
            self.skip()
            if not self.text.startswith('"', self.index):
                raise self.fail("invalid JSON: expected a quoted object key")
            at = self.position(self.index)
            key = self.string()
            self.expect(":")
            found.pop(key, None)
            found[key] = (at, self.value())
            self.skip()
            if self.text.startswith(",", self.index):
                self.index += 1
                continue
            self.expect("}")
            return found

    def array(self) -> list[_Value]:
        self.index += 1
        found: list[_Value] = []
        self.skip()
        if self.text.startswith("]", self.index):
            self.index += 1
            return found
        while True:
            found.append(self.value())
            self.skip()
            if self.text.startswith(",", self.index):
                self.index += 1
                continue
            self.expect("]")
            return found
