"""The environment a Corefile's ``{$NAME}`` and ``{%NAME%}`` read (A14).

CoreDNS takes them from its own process, so kalc-formal takes them from the CoreDNS
container's ``env`` and ``envFrom`` in the input's Deployment (for the NodeLocal DNSCache
Corefile, from the node-cache container of its DaemonSet: node-cache is a CoreDNS build)
(:mod:`kalc_formal.kubernetes.environment`), then from ``--corefile-env NAME=VALUE``
(which wins), and never from its own process environment. A name the Corefile uses whose
value cannot be known is unset, as in CoreDNS, with a warning that says why.

Values read from a Secret must never be shown: :func:`redact` and :func:`redacting`
replace them in any text and error the caller prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from kalc_formal.coredns.corefile import Corefile
from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument, KalcError
from kalc_formal.kubernetes.cluster import Cluster
from kalc_formal.kubernetes.environment import ENV_NAME, ContainerEnv
from kalc_formal.source import shown

REDACTED = "<value of a Secret, not shown>"
MIN_REDACTED_CHARS = 3
"""Secret values shorter than this are too short to hide (and to be secrets)."""
_REFERENCES = (re.compile(r"\{%(.*?)%\}"), re.compile(r"\{\$([^}]*)\}"))
_COMMENT = re.compile(r"(^|\s)#.*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class CorefileEnvironment:
    """The values a Corefile's environment references get, and the Secret values among them."""

    values: Mapping[str, str]
    secrets: tuple[str, ...]
    cluster: Cluster
    container: ContainerEnv | None = None
    """The container whose env the Corefile reads (CoreDNS's, or node-cache's)."""
    server: str = "CoreDNS"
    """Who reads the Corefile, as messages name it."""


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` arguments as a mapping (a later NAME wins); InvalidArgument if bad."""
    values: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not ENV_NAME.fullmatch(name):
            raise InvalidArgument(
                f"--corefile-env wants NAME=VALUE with NAME a variable name, not {shown(item)!r}")
        values[name] = value
    return values


def corefile_environment(cluster: Cluster, given: Mapping[str, str]) -> CorefileEnvironment:
    """The CoreDNS container's known variables, overridden by ``given``."""
    return _environment(cluster, cluster.coredns_env, given, "CoreDNS")


def node_cache_environment(cluster: Cluster, given: Mapping[str, str]) -> CorefileEnvironment:
    """The node-cache container's known variables (NodeLocal DNSCache is a CoreDNS build:
    its Corefile's ``{$NAME}`` read its own process's environment), overridden by ``given``."""
    local = cluster.node_local_dns[0].env if cluster.node_local_dns else None
    return _environment(cluster, local, given, "node-cache")


def _environment(
    cluster: Cluster, env: ContainerEnv | None, given: Mapping[str, str], server: str,
) -> CorefileEnvironment:
    values = dict(env.values()) if env is not None else {}
    secrets = env.secret_values() if env is not None else ()
    values.update(given)
    return CorefileEnvironment(values, secrets, cluster, env, server)


def environment_warnings(environment: CorefileEnvironment, corefile: Corefile | None) -> tuple[str, ...]:
    """One warning per name the Corefile references that reads as empty, saying why."""
    if corefile is None:
        return ()
    texts = [_COMMENT.sub(r"\1", source.text) for source in corefile.sources]
    return tuple(_unset(environment, name) for name in _referenced(texts)
                 if name not in environment.values)


def _unset(environment: CorefileEnvironment, name: str) -> str:
    env = environment.container
    server = environment.server
    variable = env.variables.get(name) if env is not None else None
    if variable is not None:
        why = f"comes from {variable.origin} (at {variable.span}), and {variable.unresolved}"
    elif env is not None and env.unknown_sources:
        why = f"is not in the {server} container's env; it may come from " + "; ".join(env.unknown_sources)
    elif env is not None:
        why = f"is not set in the {server} container's env (container at {env.span})"
    else:
        workload = "Deployment" if server == "CoreDNS" else "DaemonSet"
        why = f"has no value: the input has no {server} {workload} to read its env from"
    corefile = "Corefile" if server == "CoreDNS" else "NodeLocal DNSCache Corefile"
    return (f"{corefile} environment variable {shown(name)} {why}: it reads as empty, as {server} "
            f"would read an unset one; give its value with --corefile-env {shown(name)}=VALUE")


def _referenced(texts: Sequence[str]) -> list[str]:
    names: dict[str, None] = {}
    for text in texts:
        for pattern in _REFERENCES:
            names.update((n, None) for n in pattern.findall(text) if n)
    return list(names)


@contextmanager
def explaining_unset(environment: CorefileEnvironment) -> Iterator[None]:
    """An error raised inside at a line that uses unset variables says why they are unset."""
    try:
        yield
    except ConfigErrors as error:
        raise ConfigErrors(_explained(environment, e) for e in error.errors) from None
    except ConfigError as error:
        raise _explained(environment, error) from None


def _explained(environment: CorefileEnvironment, error: ConfigError) -> ConfigError:
    unset = [n for n in _referenced([error.line_text]) if n not in environment.values]
    if not unset:
        return error
    notes = "; ".join(_unset(environment, name) for name in unset)
    return ConfigError(f"{error.message} ({notes})", error.span, error.line_text)


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every Secret value in it replaced."""
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= MIN_REDACTED_CHARS:
            text = text.replace(value, REDACTED)
    return text


@contextmanager
def redacting(secrets: Sequence[str]) -> Iterator[None]:
    """Errors raised inside come out with the Secret values in them replaced."""
    try:
        yield
    except ConfigErrors as error:
        if not secrets:
            raise
        raise ConfigErrors(_redacted(e, secrets) for e in error.errors) from None
    except ConfigError as error:
        if not secrets:
            raise
        raise _redacted(error, secrets) from None
    except KalcError as error:
        if not secrets:
            raise
        raise InvalidArgument(redact(str(error), secrets)) from None


def _redacted(error: ConfigError, secrets: Sequence[str]) -> ConfigError:
    return ConfigError(redact(error.message, secrets), error.span, redact(error.line_text, secrets))
