"""The autopath plugin's options (C1-C3; plugin/autopath/setup.go), and whether the
plugin it names makes it do anything."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from kalc_formal.coredns.corefile.model import Directive
from kalc_formal.coredns.plugins.kubernetes import KubernetesConfig
from kalc_formal.coredns.plugins.reader import BlockContext, Fail
from kalc_formal.source import Span


@dataclass(frozen=True, slots=True)
class AutopathConfig:
    """``autopath [ZONE...] RESOLV-CONF`` (C1, C2; plugin/autopath/setup.go).

    ``inert`` says why this autopath does nothing, when it does nothing: the named
    plugin is not in the block (C2), or kubernetes does not have ``pods verified``
    (C3).
    """

    name: ClassVar[str] = "autopath"
    zones: tuple[str, ...]
    source: str
    source_plugin: str | None
    resolv_file: str | None
    inert: str | None
    span: Span = field(compare=False)


def read_autopath(reader: BlockContext, directives: list[Directive]) -> list[AutopathConfig]:
    configs = []
    for directive in directives:
        if directive.block is not None:
            raise Fail(directive.span, "no resolv-conf specified (autopath takes no block)")
        if not directive.args:
            raise Fail(directive.span, "no resolv-conf specified")
        source = directive.args[-1].text
        plugin = source[1:] if source.startswith("@") else None
        configs.append(AutopathConfig(
            reader.zones(directive.args[:-1]), source, plugin, None if plugin is not None else source, None, directive.span,
        ))
    return [configs[-1]]


def autopath_effect(autopath: AutopathConfig, named: object | None) -> AutopathConfig:
    """``autopath`` marked inert when it does nothing (C2, C3), given the plugin of its
    block that it names (None when the block has none); Fail when that plugin is not
    an AutoPather."""
    source = autopath.source_plugin
    if source is None:
        return autopath
    if named is None:
        inert = f"autopath names @{source} but the block has no {source} plugin, so it does nothing (C2)"
    elif source not in ("kubernetes", "erratic"):
        raise Fail(autopath.span, f"{source} does not implement the AutoPather interface")
    elif isinstance(named, KubernetesConfig) and named.pods != "verified":
        inert = f"kubernetes has pods {named.pods}, not verified, so autopath finds no pod and does nothing (C3)"
    else:
        return autopath
    return dataclasses.replace(autopath, inert=inert)
