"""The environment of a container, as the kubelet sets it from the pod spec.

CoreDNS replaces ``{$NAME}`` and ``{%NAME%}`` in its Corefile with its own process's
environment (A14), which the kubelet builds from the container's ``envFrom`` (every key
of a ConfigMap or Secret, with ``prefix``; later sources win) and then its ``env``
(later entries win): a plain ``value``, in which ``$(NAME)`` names a variable defined
before it (``$$`` is a literal ``$``; an unknown name stays as written), or a
``valueFrom`` a ConfigMap or Secret key, or the pod's own ``metadata.namespace``.

Only objects in the input are read. A value that cannot be known here (an object not in
the input, a missing key, another ``fieldRef``, a ``resourceFieldRef``) is *unresolved*:
the variable is left unset, with the reason, so the caller can say so for the names the
Corefile uses. Values that come from a Secret are marked, so no output shows them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from kalc_formal.kubernetes.manifests import Document
from kalc_formal.kubernetes.podspec import FieldReader
from kalc_formal.source import Span

ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
"""What the API server accepts as an environment variable name (and envFrom keeps)."""
_REFERENCE = re.compile(r"\$\$|\$\(([^)]*)\)")

Objects = Mapping[tuple[str, str], Document]
"""ConfigMaps or Secrets of the input by (namespace, name)."""


@dataclass(frozen=True, slots=True)
class EnvVariable:
    """One variable of the container's environment, as it ends up."""

    name: str
    value: str | None
    """None when the value cannot be known from the input (see ``unresolved``)."""
    origin: str
    span: Span
    secret: bool = False
    unresolved: str = ""


@dataclass(frozen=True)
class ContainerEnv:
    """A container's environment: its variables, and the envFrom sources not in the input
    (whose variables are unknown)."""

    container: str
    span: Span
    variables: Mapping[str, EnvVariable] = field(default_factory=dict, hash=False)
    unknown_sources: tuple[str, ...] = ()
    used_configmaps: frozenset[tuple[str, str]] = frozenset()
    used_secrets: frozenset[tuple[str, str]] = frozenset()

    def values(self) -> dict[str, str]:
        """The variables whose values are known."""
        return {n: v.value for n, v in self.variables.items() if v.value is not None}

    def secret_values(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.variables.values() if v.secret and v.value)


def container_env(
    reader: FieldReader, container: tuple[str | int, ...], namespace: str,
    configmaps: Objects, secrets: Objects,
) -> ContainerEnv:
    """The environment of the container at ``container`` in ``reader``'s document."""
    builder = _Builder(reader, namespace, configmaps, secrets)
    for index, source in enumerate(reader.items(*container, "envFrom")):
        if isinstance(source, dict):
            builder.env_from(source, (*container, "envFrom", index))
    for index, entry in enumerate(reader.items(*container, "env")):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            builder.env(entry, (*container, "env", index))
    name = reader.get(*container, "name")
    return ContainerEnv(
        str(name) if isinstance(name, str) else "", reader.span(*container),
        dict(builder.variables), tuple(builder.unknown),
        frozenset(builder.used_configmaps), frozenset(builder.used_secrets),
    )


class _Builder:
    def __init__(self, reader: FieldReader, namespace: str, configmaps: Objects,
                 secrets: Objects) -> None:
        self.reader = reader
        self.namespace = namespace
        self.configmaps = configmaps
        self.secrets = secrets
        self.variables: dict[str, EnvVariable] = {}
        self.unknown: list[str] = []
        self.used_configmaps: set[tuple[str, str]] = set()
        self.used_secrets: set[tuple[str, str]] = set()

    def env_from(self, source: dict[str, object], path: tuple[str | int, ...]) -> None:
        prefix = source.get("prefix") if isinstance(source.get("prefix"), str) else ""
        span = self.reader.span(*path)
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = source.get(key)
            if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
                continue
            label = f"{kind} {self.namespace}/{ref['name']}"
            data = self._data(kind, str(ref["name"]))
            if data is None:
                if ref.get("optional") is not True:
                    self.unknown.append(f"{label} (envFrom at {span}), not in the input")
                continue
            for name, value in data.items():
                full = f"{prefix}{name}"
                if ENV_NAME.fullmatch(full):
                    self.variables[full] = EnvVariable(
                        full, value, f"envFrom {label}", span, secret=kind == "Secret")

    def env(self, entry: dict[str, object], path: tuple[str | int, ...]) -> None:
        name = str(entry["name"])
        span = self.reader.span(*path)
        source = entry.get("valueFrom")
        if isinstance(source, dict):
            self.variables[name] = self._value_from(name, source, span)
            return
        value = entry.get("value")
        text = value if isinstance(value, str) else ""
        self.variables[name] = EnvVariable(name, self._expand(text), "value", span)

    def _expand(self, text: str) -> str:
        """``$(NAME)`` of a variable defined before it, ``$$`` as ``$`` (Kubernetes)."""

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            known = self.variables.get(match.group(1))
            return known.value if known is not None and known.value is not None else match.group(0)

        return _REFERENCE.sub(replace, text)

    def _value_from(self, name: str, source: dict[str, object], span: Span) -> EnvVariable:
        for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            ref = source.get(key)
            if not isinstance(ref, dict):
                continue
            label = f"{kind} {self.namespace}/{ref.get('name')} key {ref.get('key')}"
            data = self._data(kind, str(ref.get("name")))
            secret = kind == "Secret"
            if data is None:
                return EnvVariable(name, None, label, span, secret,
                                   f"{kind} {self.namespace}/{ref.get('name')} is not in the input")
            if ref.get("key") not in data:
                why = ("the pod does not start without it" if ref.get("optional") is not True
                       else "optional: the variable is not set")
                return EnvVariable(name, None, label, span, secret,
                                   f"{kind} {self.namespace}/{ref.get('name')} has no key "
                                   f"{ref.get('key')} ({why})")
            return EnvVariable(name, data[str(ref.get("key"))], label, span, secret)
        field_ref = source.get("fieldRef")
        if isinstance(field_ref, dict) and field_ref.get("fieldPath") == "metadata.namespace":
            return EnvVariable(name, self.namespace, "fieldRef metadata.namespace", span)
        what = next((k for k in source if isinstance(k, str)), "valueFrom")
        if isinstance(field_ref, dict) and isinstance(field_ref.get("fieldPath"), str):
            what = f"fieldRef {field_ref['fieldPath']}"
        return EnvVariable(name, None, f"valueFrom {what}", span,
                           unresolved=f"set by the kubelet from valueFrom {what}, which the "
                           "manifests alone do not give")

    def _data(self, kind: str, name: str) -> dict[str, str] | None:
        """The string data of a ConfigMap or Secret of the input (Secret ``data`` decoded
        from base64, ``stringData`` over it), or None when it is not in the input."""
        key = (self.namespace, name)
        document = (self.configmaps if kind == "ConfigMap" else self.secrets).get(key)
        if document is None:
            return None
        (self.used_configmaps if kind == "ConfigMap" else self.used_secrets).add(key)
        data = document.data.get("data")
        found: dict[str, str] = {}
        for k, v in (data.items() if isinstance(data, dict) else ()):
            if kind == "ConfigMap":
                found[str(k)] = v if isinstance(v, str) else str(v)
            elif isinstance(v, str):
                try:
                    found[str(k)] = base64.b64decode(v, validate=True).decode("utf-8", "replace")
                except (binascii.Error, ValueError):
                    continue
        strings = document.data.get("stringData") if kind == "Secret" else None
        for k, v in (strings.items() if isinstance(strings, dict) else ()):
            found[str(k)] = v if isinstance(v, str) else str(v)
        return found


def image_container_env(
    reader: FieldReader, pod: tuple[str, ...], image: str | None, namespace: str,
    configmaps: Objects, secrets: Objects,
) -> ContainerEnv | None:
    """The environment of the pod's first container running ``image`` (None if none)."""
    for index, container in enumerate(reader.items(*pod, "containers")):
        if isinstance(container, dict) and image is not None and container.get("image") == image:
            return container_env(reader, (*pod, "containers", index), namespace, configmaps, secrets)
    return None
