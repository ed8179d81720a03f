"""Typed config model stage: a pod template's DNS fields, images and owner, with positions.

:class:`FieldReader` gives typed access to one document's fields and collects
positioned errors. The ``read_*`` functions read what matters to DNS in a pod
spec: dnsPolicy, hostNetwork and dnsConfig (kubelet rules H1-H5), container
images and the controller that owns the pod.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kalc_formal.errors import ConfigError
from kalc_formal.inputs.placeholders import STRICT, find_placeholders, template_message
from kalc_formal.kubernetes.kinds import pod_path
from kalc_formal.kubernetes.manifests import Document
from kalc_formal.source import Span

__all__ = [
    "DNS_POLICIES",
    "MAX_NAMESERVERS",
    "MAX_SEARCHES",
    "MAX_SEARCH_CHARS",
    "DnsConfig",
    "DnsOption",
    "FieldReader",
    "Located",
    "PodDns",
    "container_args",
    "describe",
    "dotted",
    "go_flag",
    "image_parts",
    "is_ip",
    "pod_path",
    "read_images",
    "read_owner",
    "read_pod_dns",
    "read_string_list",
    "selects",
]

T = TypeVar("T")


DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
"""The pod dnsPolicy values the API accepts (kubelet rules: H1)."""


MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048
"""API validation limits for ``dnsConfig`` (``validatePodDNSConfig``): at most 3
nameservers, 32 search domains and 2048 characters of search list (the
expanded limits of KEP-2595, H5)."""


@dataclass(frozen=True, slots=True)
class Located(Generic[T]):
    """A value and where it was written."""

    value: T
    span: Span


@dataclass(frozen=True, slots=True)
class DnsOption:
    """One ``dnsConfig.options`` entry; ``value`` is None for a bare flag (H4)."""

    name: str
    value: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class DnsConfig:
    """A pod's ``dnsConfig``, applied after its dnsPolicy (H4)."""

    nameservers: tuple[Located[str], ...]
    searches: tuple[Located[str], ...]
    options: tuple[DnsOption, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class PodDns:
    """The DNS fields of a pod spec. ``policy`` defaults to ClusterFirst."""

    policy: Located[str]
    policy_defaulted: bool
    host_network: Located[bool]
    config: DnsConfig | None


class FieldReader:
    """Typed access to one document's fields; errors collect in ``errors``."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.errors: list[ConfigError] = []

    def get(self, *path: str | int) -> Any:
        data: Any = self.document.data
        for step in path:
            if isinstance(data, dict) and isinstance(step, str):
                data = data.get(step)
            elif (
                isinstance(data, list)
                and isinstance(step, int)
                and 0 <= step < len(data)
            ):
                data = data[step]
            else:
                return None
        return data

    def items(self, *path: str | int) -> list[Any]:
        """The list at ``path``, or an empty list if there is none (no error)."""
        value = self.get(*path)
        return value if isinstance(value, list) else []

    def span(self, *path: str | int) -> Span:
        return self.document.span_at(*path)

    def fail(self, message: str, *path: str | int) -> None:
        self.errors.append(self.document.error(message, *path))

    def typed(
        self, expected: type | tuple[type, ...], what: str, *path: str | int
    ) -> Any:
        """The value at ``path`` if it is ``expected`` (bools are not ints), else None."""
        value = self.get(*path)
        if value is None:
            return None
        wanted = expected if isinstance(expected, tuple) else (expected,)
        if isinstance(value, bool) and bool not in wanted:
            value_ok = False
        else:
            value_ok = isinstance(value, wanted)
        if not value_ok:
            self.fail(f"{dotted(path)} must be {what}, not {describe(value)}", *path)
            return None
        return value

    def count(self, what: str, *path: str | int, default: int = 1) -> tuple[int, bool]:
        value = self.typed(int, "an integer", *path)
        if value is None:
            return default, self.get(*path) is None
        if value < 0:
            self.fail(f"{dotted(path)} must not be negative ({what})", *path)
        return value, False

    def strings(self, *path: str | int) -> dict[str, str]:
        value = self.typed(dict, "a mapping of strings", *path)
        if value is None:
            return {}
        result: dict[str, str] = {}
        for key, item in value.items():
            if isinstance(item, str):
                result[key] = item
            else:
                self.fail(
                    f"{dotted((*path, key))} must be a string, not {describe(item)}",
                    *path,
                    key,
                )
        return result

    def text_value(self, what: str, value: str, *path: str | int) -> None:
        """An error for a string that is not ``what``, worded for placeholders."""
        found = find_placeholders(value, STRICT)
        if found:
            self.fail(f"{dotted(path)}: {template_message(found)}", *path)
        else:
            self.fail(f"{dotted(path)} must be {what}, not {value!r}", *path)


def dotted(path: Iterable[str | int]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def describe(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }
    return f"{names.get(type(value), type(value).__name__)} ({json.dumps(value)[:40] if not isinstance(value, dict | list) else '...'})"


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# A search domain: a DNS-1123 subdomain with an optional trailing dot; underscores
# and a lone "." are accepted too (relaxed search validation, KEP-4427).
_SEARCH = re.compile(
    r"\.|[a-z0-9_](?:[-a-z0-9_]*[a-z0-9_])?(?:\.[a-z0-9_](?:[-a-z0-9_]*[a-z0-9_])?)*\.?"
)


def read_pod_dns(reader: FieldReader, pod: tuple[str, ...]) -> PodDns:
    """The DNS fields of the pod spec at ``pod``, checked as API validation checks them.

    An absent or empty dnsPolicy is ClusterFirst (API defaulting,
    ``SetDefaults_PodSpec``); dnsPolicy None needs a nameserver in dnsConfig.
    """
    policy = reader.typed(str, "a string", *pod, "dnsPolicy")
    defaulted = not policy
    if policy and policy not in DNS_POLICIES:
        reader.fail(
            f"dnsPolicy must be one of {', '.join(DNS_POLICIES)}, not {policy!r}",
            *pod,
            "dnsPolicy",
        )
    host_network = reader.typed(bool, "true or false", *pod, "hostNetwork")
    config = _dns_config(reader, (*pod, "dnsConfig"))
    if policy == "None" and (config is None or not config.nameservers):
        reader.fail(
            "dnsPolicy None needs dnsConfig with at least one nameserver",
            *pod,
            "dnsPolicy",
        )
    return PodDns(
        policy=Located(policy or "ClusterFirst", reader.span(*pod, "dnsPolicy")),
        policy_defaulted=defaulted,
        host_network=Located(bool(host_network), reader.span(*pod, "hostNetwork")),
        config=config,
    )


def _dns_config(reader: FieldReader, path: tuple[str, ...]) -> DnsConfig | None:
    if reader.typed(dict, "a mapping", *path) is None:
        return None
    nameservers = read_string_list(
        reader, (*path, "nameservers"), "an IP address", is_ip
    )
    if len(nameservers) > MAX_NAMESERVERS:
        reader.fail(
            f"dnsConfig.nameservers must not have more than {MAX_NAMESERVERS} entries",
            *path,
            "nameservers",
        )
    searches = read_string_list(
        reader,
        (*path, "searches"),
        "a DNS domain",
        lambda s: len(s) <= 253 and bool(_SEARCH.fullmatch(s)),
    )
    if len(searches) > MAX_SEARCHES:
        reader.fail(
            f"dnsConfig.searches must not have more than {MAX_SEARCHES} entries",
            *path,
            "searches",
        )
    if len(" ".join(s.value for s in searches)) > MAX_SEARCH_CHARS:
        reader.fail(
            f"dnsConfig.searches must not be longer than {MAX_SEARCH_CHARS} characters in all",
            *path,
            "searches",
        )
    options = []
    for index, item in enumerate(reader.typed(list, "a list", *path, "options") or []):
        name = reader.typed(str, "a string", *path, "options", index, "name")
        value = reader.typed(str, "a string", *path, "options", index, "value")
        if not isinstance(item, dict) or not name:
            reader.fail("each dnsConfig option needs a name", *path, "options", index)
            continue
        options.append(DnsOption(name, value, reader.span(*path, "options", index)))
    return DnsConfig(
        tuple(nameservers), tuple(searches), tuple(options), reader.span(*path)
    )


def read_string_list(
    reader: FieldReader,
    path: tuple[str | int, ...],
    what: str,
    valid: Callable[[str], bool],
) -> list[Located[str]]:
    result = []
    for index, _ in enumerate(reader.typed(list, "a list", *path) or []):
        value = reader.typed(str, what, *path, index)
        if value is None:
            continue
        if not valid(value):
            reader.text_value(what, value, *path, index)
            continue
        result.append(Located(value, reader.span(*path, index)))
    return result


def read_images(reader: FieldReader, pod: tuple[str, ...]) -> tuple[Located[str], ...]:
    images = []
    for index, container in enumerate(
        reader.typed(list, "a list", *pod, "containers") or []
    ):
        if not isinstance(container, dict):
            reader.fail("each container must be a mapping", *pod, "containers", index)
            continue
        image = reader.typed(str, "a string", *pod, "containers", index, "image")
        if image:
            images.append(
                Located(image, reader.span(*pod, "containers", index, "image"))
            )
    return tuple(images)


def read_owner(reader: FieldReader) -> tuple[str, str] | None:
    for reference in reader.items("metadata", "ownerReferences"):
        if isinstance(reference, dict) and reference.get("controller") is True:
            kind, name = reference.get("kind"), reference.get("name")
            if isinstance(kind, str) and isinstance(name, str):
                return kind, name
    return None


def selects(selector: Any, labels: Mapping[str, str]) -> bool:
    """Whether a non-empty LabelSelector (matchLabels, matchExpressions) matches ``labels``."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in expressions:
        if not isinstance(expression, dict) or not _expression_matches(
            expression, labels
        ):
            return False
    return bool(match_labels) or bool(expressions)


def _expression_matches(expression: dict[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator, values = (
        expression.get("key"),
        expression.get("operator"),
        expression.get("values"),
    )
    if not isinstance(key, str):
        return False
    values = values if isinstance(values, list) else []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def image_parts(image: str) -> tuple[str, str | None]:
    """(repository, tag) of an image reference; the digest is dropped."""
    reference = image.split("@", 1)[0]
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, None


def container_args(
    reader: FieldReader, container: tuple[str | int, ...]
) -> tuple[list[str], list[tuple[str | int, ...]]]:
    """The container's command then args (strings only), with each one's path."""
    args: list[str] = []
    paths: list[tuple[str | int, ...]] = []
    for key in ("command", "args"):
        for index, value in enumerate(
            reader.typed(list, "a list", *container, key) or []
        ):
            if isinstance(value, str):
                args.append(value)
                paths.append((*container, key, index))
    return args, paths


def go_flag(args: Sequence[str], name: str) -> tuple[int, str] | None:
    """(index, value) of a Go-style flag: ``-name v``, ``--name v``, ``-name=v``, ``--name=v``."""
    for index, arg in enumerate(args):
        for prefix in (f"-{name}", f"--{name}"):
            if arg == prefix and index + 1 < len(args):
                return index + 1, args[index + 1]
            if arg.startswith(prefix + "="):
                return index, arg[len(prefix) + 1 :]
    return None
