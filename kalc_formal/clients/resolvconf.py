"""Input stage: resolv.conf files, how each client library reads them, and the kubelet's.

A `ResolvConf` is the content of one resolv.conf: its nameservers, search list and
options, and the text the libraries read. `parse_resolv_conf` checks a file and
reports lines that cannot mean anything as `ConfigErrors`; `ResolvConf.settings`
gives what glibc 2.36, musl 1.2.3 or Go 1.19's pure-Go resolver takes from the
same text, since they disagree (caps, ignored lines, last-line-wins rules).
`pod_resolv_conf` is the kubelet's synthesis of a pod's resolv.conf (facts H1-H5).

>>> conf = parse_resolv_conf(Source("resolv.conf", "nameserver 10.96.0.10\\n"
...     "search default.svc.cluster.local svc.cluster.local cluster.local\\n"
...     "options ndots:5 attempts:9\\n"))
>>> conf.search
('default.svc.cluster.local', 'svc.cluster.local', 'cluster.local')
>>> [conf.settings(libc).attempts for libc in Libc]
[5, 9, 9]
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from kalc_formal import golang
from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument
from kalc_formal.source import Source

MAX_RESOLV_CONF_BYTES = 1 << 20
"""Longest resolv.conf text accepted (the kubelet reads at most 10 MiB)."""

NUMERIC_OPTIONS = ("ndots", "timeout", "attempts")
FLAG_OPTIONS = (
    "rotate", "edns0", "single-request", "single-request-reopen", "no-tld-query",
    "no_tld_query", "use-vc", "usevc", "tcp", "trust-ad", "no-reload", "no-aaaa",
    "inet6", "debug", "insecure1", "insecure2", "ip6-bytestring", "ip6-dotint",
    "no-ip6-dotint",
)
KEYWORDS = ("nameserver", "search", "domain", "options", "sortlist")
_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


class Libc(Enum):
    """The client resolver a workload uses."""

    GLIBC = "glibc"
    """glibc 2.36 getaddrinfo(AF_UNSPEC) through nss_dns."""
    MUSL = "musl"
    """musl 1.2.3 getaddrinfo."""
    GO = "go"
    """Go 1.19's pure-Go resolver (PreferGo, or CGO_ENABLED=0 builds)."""


@dataclass(frozen=True, slots=True)
class ResolvOption:
    """One `options` entry: a name and, for `name:value`, its value."""

    name: str
    value: str | None = None

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}:{self.value}"

    @classmethod
    def parse(cls, token: str) -> ResolvOption:
        name, sep, value = token.partition(":")
        return cls(name, value if sep else None)


@dataclass(frozen=True, slots=True)
class ResolverSettings:
    """What one library takes from a resolv.conf text (its caps and quirks applied)."""

    libc: Libc
    nameservers: tuple[str, ...]
    search: tuple[str, ...]
    ndots: int = 1
    timeout: int = 5
    attempts: int = 2
    rotate: bool = False
    single_request: bool = False
    single_request_reopen: bool = False
    no_tld_query: bool = False
    no_aaaa: bool = False
    use_vc: bool = False
    ignored: tuple[str, ...] = ()
    """Lines or settings this library ignored, as `line N: why`."""


@dataclass(frozen=True, slots=True)
class ResolvConf:
    """One resolv.conf: nameservers, search list and options, and its text.

    `nameservers` lists every `nameserver` address in order (the libraries use the
    first three); `search` is the last `search` line, or the last `domain` line's
    name when that comes later; `options` holds each option once, the last value
    winning, in order of first appearance (unknown options kept). `text` is what
    the libraries and the kubelet read (`settings`, `pod_resolv_conf`); a
    ResolvConf built from fields gets their rendering. ResolvConf(text=...) alone
    reads as that text but leaves the fields empty: parse_resolv_conf fills both.
    Equality compares the fields, not the text.
    """

    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    options: tuple[ResolvOption, ...] = ()
    text: str = field(default="", compare=False)
    path: str = field(default="<resolv.conf>", compare=False)

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(self, "text", render_resolv_conf(self))

    def option(self, name: str) -> ResolvOption | None:
        """The option called `name`, if present."""
        for opt in self.options:
            if opt.name == name:
                return opt
        return None

    def settings(self, libc: Libc) -> ResolverSettings:
        """How `libc` reads this file's text."""
        return read_settings(self.text, libc)


def render_resolv_conf(conf: ResolvConf) -> str:
    """The file text, in the order the container runtime writes a pod's file.

    >>> print(render_resolv_conf(ResolvConf(("10.96.0.10",), ("svc.cluster.local",),
    ...     (ResolvOption("ndots", "5"),))), end="")
    search svc.cluster.local
    nameserver 10.96.0.10
    options ndots:5
    """
    lines = []
    if conf.search:
        lines.append("search " + " ".join(conf.search))
    lines.extend(f"nameserver {ns}" for ns in conf.nameservers)
    if conf.options:
        lines.append("options " + " ".join(str(o) for o in conf.options))
    return "".join(line + "\n" for line in lines)


# --- checking parser -------------------------------------------------------------


def parse_resolv_conf(source: Source) -> ResolvConf:
    """Read a resolv.conf; raise ConfigErrors for every line that cannot mean anything.

    Errors: an unknown keyword (every library ignores the line), a nameserver
    line without an IP address, a search/domain entry that is not a domain name,
    a numeric option (ndots, timeout, attempts) without a non-negative integer.
    """
    if len(source.text) > MAX_RESOLV_CONF_BYTES:
        raise ConfigErrors([ConfigError.at(source, 1, 1, f"file larger than {MAX_RESOLV_CONF_BYTES} bytes")])
    checker = _Checker(source)
    for number, line in enumerate(source.text.splitlines(), start=1):
        checker.line(number, list(_fields(line)))
    if checker.errors:
        raise ConfigErrors(checker.errors)
    return ResolvConf(tuple(checker.nameservers), checker.search, tuple(checker.options.values()),
                      source.text, source.path)


class _Checker:
    """The checking parser's state while it reads the lines of one file."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.errors: list[ConfigError] = []
        self.nameservers: list[str] = []
        self.search: tuple[str, ...] = ()
        self.options: dict[str, ResolvOption] = {}

    def fail(self, number: int, column: int, message: str) -> None:
        self.errors.append(ConfigError.at(self.source, number, column, message))

    def line(self, number: int, fields: list[tuple[int, str]]) -> None:
        if not fields or fields[0][1][0] in "#;":
            return
        (col, keyword), args = fields[0], fields[1:]
        if keyword == "nameserver":
            self.nameserver(number, col + len(keyword) + 1, args)
        elif keyword in ("search", "domain"):
            self.search_line(number, args if keyword == "search" else args[:1])
        elif keyword == "options":
            self.options_line(number, args)
        elif keyword != "sortlist":
            self.fail(number, col, f"unknown keyword {keyword!r}; resolvers ignore this line "
                                   f"(known: {', '.join(KEYWORDS)})")

    def nameserver(self, number: int, end_col: int, args: list[tuple[int, str]]) -> None:
        if not args:
            self.fail(number, end_col, "nameserver needs an IP address")
        elif not is_ip_address(args[0][1]):
            self.fail(number, args[0][0], f"{args[0][1]!r} is not an IP address; resolvers ignore this line")
        else:
            self.nameservers.append(args[0][1])

    def search_line(self, number: int, names: list[tuple[int, str]]) -> None:
        bad = [(c, d) for c, d in names if not is_search_domain(d)]
        for column, name in bad:
            self.fail(number, column, f"{name!r} is not a domain name")
        if not bad:
            self.search = tuple(d for _, d in names)

    def options_line(self, number: int, args: list[tuple[int, str]]) -> None:
        for column, token in args:
            opt = ResolvOption.parse(token)
            if opt.name in NUMERIC_OPTIONS and not (opt.value or "").isdigit():
                self.fail(number, column, f"{opt.name} needs a non-negative integer, as {opt.name}:2")
            else:
                self.options[opt.name] = opt


def _fields(line: str) -> Iterator[tuple[int, str]]:
    """Whitespace-separated fields with their 1-based columns."""
    for match in re.finditer(r"\S+", line):
        yield match.start() + 1, match.group()


def is_ip_address(text: str) -> bool:
    """An IPv4 or IPv6 address (an IPv6 zone such as %eth0 allowed)."""
    try:
        ipaddress.ip_address(text.split("%", 1)[0] if ":" in text else text)
    except ValueError:
        return False
    return True


def is_search_domain(text: str) -> bool:
    """A search entry kalc-formal accepts: '.', or labels of 1-63 letters, digits, '_' and
    inner '-', 253 characters in all (a sanity check of ours, not a resolver's function;
    Go's DNS names are ``kalc_formal.golang.is_domain_name``)."""
    if text == ".":
        return True
    name = text[:-1] if text.endswith(".") else text
    if not name or len(name) > 253:
        return False
    return all(_LABEL.match(label) for label in name.split("."))


# --- what each library reads -----------------------------------------------------


@functools.lru_cache(maxsize=1024)
def read_settings(text: str, libc: Libc) -> ResolverSettings:
    """What `libc` takes from a resolv.conf text, following its reader line by line."""
    if libc is Libc.GLIBC:
        return _read_glibc(text)
    if libc is Libc.MUSL:
        return _read_musl(text)
    return _read_go(text)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    yield from enumerate(text.split("\n"), start=1)


def _starts_with_keyword(line: str, keyword: str, spaces: str) -> bool:
    return line.startswith(keyword) and len(line) > len(keyword) and line[len(keyword)] in spaces


def _c_atoi(text: str) -> int:
    """C's atoi, as glibc reads ``ndots:``, ``timeout:`` and ``attempts:``: C white
    space, a sign, ASCII digits; 0 when there are none."""
    match = re.match(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", text)
    return int(match.group(1)) if match else 0


@dataclass
class _Reading:
    """A library reader's state while it reads one file."""

    nameservers: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    ndots: int = 1
    timeout: int = 5
    attempts: int = 2
    flags: set[str] = field(default_factory=set)


def _read_glibc(text: str) -> ResolverSettings:
    """glibc 2.36 resolv/res_init.c (facts G1, G2): keywords at column 1 only,
    `domain` keeps its first name, an empty `search` line is skipped, options
    match by prefix, ndots <= 15, timeout <= 30, attempts <= 5, 3 nameservers."""
    r = _Reading()
    for number, line in _lines(text):
        if line[:1] not in ("#", ";"):
            _glibc_line(r, number, line)
    if len(r.nameservers) > 3:
        r.ignored.append(f"nameservers after the third ignored: {' '.join(r.nameservers[3:])}")
    reopen = "single-request-reopen" in r.flags
    return ResolverSettings(
        Libc.GLIBC, tuple(r.nameservers[:3]) or ("127.0.0.1",), tuple(r.search),
        ndots=r.ndots, timeout=r.timeout, attempts=r.attempts, rotate="rotate" in r.flags,
        single_request="single-request" in r.flags or reopen, single_request_reopen=reopen,
        no_tld_query="no-tld-query" in r.flags, no_aaaa="no-aaaa" in r.flags,
        use_vc="use-vc" in r.flags, ignored=tuple(r.ignored),
    )


def _glibc_line(r: _Reading, number: int, line: str) -> None:
    if _starts_with_keyword(line, "domain", " \t"):
        names = _glibc_split(line[6:])
        if names:
            r.search = names[:1]
    elif _starts_with_keyword(line, "search", " \t"):
        names = _glibc_split(line[6:])
        if names:
            r.search = names
        else:
            r.ignored.append(f"line {number}: empty search line skipped")
    elif _starts_with_keyword(line, "nameserver", " \t"):
        fields = _glibc_split(line[10:])
        if fields and is_ip_address(fields[0]):
            r.nameservers.append(fields[0])
        else:
            r.ignored.append(f"line {number}: no IP address on this nameserver line")
    elif _starts_with_keyword(line, "options", " \t"):
        for token in re.split(r"[ \t]+", line[7:]):
            _glibc_option(r, token)
    elif line.strip() and line.split()[0] in KEYWORDS:
        r.ignored.append(f"line {number}: a keyword not at column 1 is ignored")


_GLIBC_FLAGS = (
    ("rotate", "rotate"), ("edns0", "edns0"),
    ("single-request-reopen", "single-request-reopen"), ("single-request", "single-request"),
    ("no_tld_query", "no-tld-query"), ("no-tld-query", "no-tld-query"),
    ("no-reload", "no-reload"), ("use-vc", "use-vc"), ("trust-ad", "trust-ad"),
    ("no-aaaa", "no-aaaa"),
)


def _glibc_split(rest: str) -> list[str]:
    """Names as glibc splits them: at spaces and tabs only (a CR stays in a name)."""
    return [name for name in re.split(r"[ \t]+", rest) if name]


def _glibc_option(r: _Reading, token: str) -> None:
    if token.startswith("ndots:"):
        value = _c_atoi(token[6:])
        r.ndots = (value if value <= 15 else 15) & 0xF
    elif token.startswith("timeout:"):
        value = _c_atoi(token[8:])
        r.timeout = value if value <= 30 else 30
    elif token.startswith("attempts:"):
        value = _c_atoi(token[9:])
        r.attempts = value if value <= 5 else 5
    else:
        for prefix, flag in _GLIBC_FLAGS:
            if token.startswith(prefix):
                r.flags.add(flag)
                break


def _read_musl(text: str) -> ResolverSettings:
    """musl 1.2.3 src/network/resolvconf.c (facts G8, G9): lines of 255 or more
    characters are ignored whole, `search` and `domain` lines both set the whole
    search list (last wins, an empty one clears it), ndots <= 15, attempts <= 10,
    timeout <= 60, and no rotate, single-request or other flags."""
    r = _Reading()
    search_line = ""
    pieces = text.split("\n")
    for number, piece in enumerate(pieces, start=1):
        line = piece if number == len(pieces) else piece + "\n"
        if len(piece) >= 255:
            r.ignored.append(f"line {number}: {len(piece)} characters; musl ignores lines of 255 or more")
        elif _starts_with_keyword(line, "options", _C_SPACE):
            r.ndots = _musl_number(line, "ndots:", r.ndots, 15)
            r.attempts = _musl_number(line, "attempts:", r.attempts, 10)
            r.timeout = _musl_number(line, "timeout:", r.timeout, 60)
        elif _starts_with_keyword(line, "nameserver", _C_SPACE):
            fields = line[11:].split()
            if len(r.nameservers) < 3 and fields and is_ip_address(fields[0]):
                r.nameservers.append(fields[0])
        elif _starts_with_keyword(line, "search", _C_SPACE) or _starts_with_keyword(line, "domain", _C_SPACE):
            search_line = line[7:]
        elif line.strip() and line.split()[0] in KEYWORDS:
            r.ignored.append(f"line {number}: a keyword not at column 1 is ignored")
    return ResolverSettings(
        Libc.MUSL, tuple(r.nameservers) or ("127.0.0.1",), tuple(search_line.split()),
        ndots=r.ndots, timeout=r.timeout, attempts=r.attempts, ignored=tuple(r.ignored),
    )


_C_SPACE = " \t\n\r\v\f"
"""What C's isspace() accepts."""


def _musl_number(line: str, key: str, current: int, cap: int) -> int:
    at = line.find(key)
    if at < 0:
        return current
    digits = re.match(r"\d+", line[at + len(key):])
    return min(int(digits.group()), cap) if digits else current


def _read_go(text: str) -> ResolverSettings:
    """Go 1.19 src/net/dnsconfig_unix.go (fact G16, caps verified there and by
    probe): fields split anywhere on the line, names made rooted, ndots clamped to
    0..15, timeout and attempts at least 1 and not capped, 3 nameservers,
    single-request-reopen read as single-request, no no-tld-query."""
    nameservers: list[str] = []
    search: list[str] = []
    ndots, timeout, attempts = 1, 5, 2
    flags: set[str] = set()
    for line in text.split("\n"):
        if line[:1] in ("#", ";"):
            continue
        fields = line.replace("\r", " ").split()
        if not fields:
            continue
        keyword, args = fields[0], fields[1:]
        if keyword == "nameserver" and args and len(nameservers) < 3 and is_ip_address(args[0]):
            nameservers.append(args[0])
        elif keyword == "domain" and args:
            search = [_rooted(args[0])]
        elif keyword == "search":
            search = [_rooted(name) for name in args]
        elif keyword == "options":
            for token in args:
                ndots, timeout, attempts = _go_option(token, ndots, timeout, attempts, flags)
    return ResolverSettings(
        Libc.GO, tuple(nameservers) or ("127.0.0.1", "::1"), tuple(search),
        ndots=ndots, timeout=timeout, attempts=attempts, rotate="rotate" in flags,
        single_request="single-request" in flags, use_vc="use-vc" in flags,
    )


def _go_option(token: str, ndots: int, timeout: int, attempts: int, flags: set[str]) -> tuple[int, int, int]:
    if token.startswith("ndots:"):
        ndots = min(max(golang.dtoi(token[6:]), 0), 15)
    elif token.startswith("timeout:"):
        timeout = max(golang.dtoi(token[8:]), 1)
    elif token.startswith("attempts:"):
        attempts = max(golang.dtoi(token[9:]), 1)
    elif token == "rotate":
        flags.add("rotate")
    elif token in ("single-request", "single-request-reopen"):
        flags.add("single-request")
    elif token in ("use-vc", "usevc", "tcp"):
        flags.add("use-vc")
    return ndots, timeout, attempts


def _rooted(name: str) -> str:
    return name if name.endswith(".") else name + "."


# --- the kubelet -------------------------------------------------------------------

DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
MAX_NAMESERVERS = 3
SEARCH_LIMITS = {False: (6, 256), True: (32, 2048)}
"""(domains, characters) for the search list: legacy, and with ExpandedDNSConfig (H5)."""


@dataclass(frozen=True, slots=True)
class PodDNSConfig:
    """A pod's `spec.dnsConfig`."""

    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[ResolvOption, ...] = ()


@dataclass(frozen=True, slots=True)
class KubeletWarning:
    """Something the kubelet or the API server says about a pod's DNS settings.

    `rejected` means the API server refuses the pod: the caller should report it
    as a ConfigError at the pod's position.
    """

    reason: str
    message: str
    rejected: bool = False


@dataclass(frozen=True, slots=True)
class PodResolvConf:
    """The resolv.conf the kubelet writes for a pod, and what it warned about."""

    resolv_conf: ResolvConf
    warnings: tuple[KubeletWarning, ...] = ()


def pod_resolv_conf(
    *,
    dns_policy: str,
    host_network: bool = False,
    dns_config: PodDNSConfig | None = None,
    namespace: str = "default",
    cluster_domain: str = "cluster.local",
    cluster_dns: tuple[str, ...] = ("10.96.0.10",),
    node_resolv_conf: ResolvConf | None = None,
    expanded_dns_config: bool = True,
) -> PodResolvConf:
    """The kubelet's pod resolv.conf (pkg/kubelet/network/dns/dns.go, facts H1-H5).

    `node_resolv_conf` is the file named by the kubelet's --resolv-conf (None when
    that flag is empty). ClusterFirst: the cluster DNS IPs, search
    `<ns>.svc.<domain> svc.<domain> <domain>` then the node's search domains, and
    exactly `ndots:5`; a hostNetwork pod with ClusterFirst falls back to Default;
    Default: the node's file. dnsConfig is appended (duplicates dropped, options
    merged by name), then the limits cut the lists, each cut a DNSConfigForming
    warning.

    >>> pod = pod_resolv_conf(dns_policy="ClusterFirst", namespace="web",
    ...     node_resolv_conf=ResolvConf(("172.20.0.2",), ("ec2.internal",)))
    >>> print(pod.resolv_conf.text, end="")
    search web.svc.cluster.local svc.cluster.local cluster.local ec2.internal
    nameserver 10.96.0.10
    options ndots:5
    """
    policy = dns_policy or "ClusterFirst"
    warnings = list(_api_rejections(policy, dns_config, expanded_dns_config))
    host = _kubelet_host_config(node_resolv_conf)
    servers, searches, options = _policy_base(policy, host_network, namespace, cluster_domain,
                                              cluster_dns, host, warnings)
    if dns_config is not None:
        servers = _omit_duplicates(servers + list(dns_config.nameservers))
        searches = _omit_duplicates(searches + list(dns_config.searches))
        options = _merge_options(options, dns_config.options)
    servers = _fit_nameservers(servers, warnings)
    searches = _fit_searches(searches, expanded_dns_config, warnings)
    conf = ResolvConf(tuple(servers), tuple(searches), tuple(options), path="<pod resolv.conf>")
    return PodResolvConf(conf, tuple(warnings))


def _policy_base(
    policy: str, host_network: bool, namespace: str, cluster_domain: str,
    cluster_dns: tuple[str, ...], host: tuple[list[str], list[str], list[ResolvOption]],
    warnings: list[KubeletWarning],
) -> tuple[list[str], list[str], list[ResolvOption]]:
    host_servers, host_search, host_options = host
    if policy == "None":
        return [], [], []
    cluster = policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not host_network)
    if policy not in DNS_POLICIES:
        cluster = True
    if cluster and cluster_dns:
        search = host_search
        if cluster_domain:
            search = _omit_duplicates(
                [f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain, *host_search])
        return list(cluster_dns), search, [ResolvOption("ndots", "5")]
    if cluster:
        warnings.append(KubeletWarning("MissingClusterDNS", "kubelet does not have ClusterDNS IP configured and "
                                       f"cannot create Pod using {policy!r} policy. Falling back to 'Default' policy."))
    return host_servers, host_search, host_options


def _kubelet_host_config(conf: ResolvConf | None) -> tuple[list[str], list[str], list[ResolvOption]]:
    """The kubelet's parseResolvConf over the node file: `#` comments, every
    nameserver's first field, the last search line ('.' kept, other trailing dots
    trimmed), options from all lines merged by name; `domain` lines ignored.
    An empty --resolv-conf gives nameserver 127.0.0.1 and search '.'."""
    if conf is None:
        return ["127.0.0.1"], ["."], []
    servers: list[str] = []
    search: list[str] = []
    options: list[ResolvOption] = []
    for line in conf.text.split("\n"):
        fields = line.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "nameserver" and len(fields) >= 2:
            servers.append(fields[1])
        elif fields[0] == "search":
            search = [s if s == "." else s.removesuffix(".") for s in fields[1:]]
        elif fields[0] == "options":
            options = _merge_options(options, (ResolvOption.parse(f) for f in fields[1:]))
    return servers, search, options


def _omit_duplicates(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _merge_options(base: Iterable[ResolvOption], extra: Iterable[ResolvOption]) -> list[ResolvOption]:
    """Merged by name, the later value winning. The kubelet merges through a Go
    map, so its order is random; this keeps the order of first appearance."""
    merged: dict[str, ResolvOption] = {}
    for opt in list(base) + list(extra):
        merged[opt.name] = ResolvOption(opt.name, opt.value or None)
    return list(merged.values())


def _fit_nameservers(servers: list[str], warnings: list[KubeletWarning]) -> list[str]:
    if len(servers) <= MAX_NAMESERVERS:
        return servers
    kept = servers[:MAX_NAMESERVERS]
    warnings.append(KubeletWarning("DNSConfigForming", "Nameserver limits were exceeded, some nameservers have "
                                   f"been omitted, the applied nameserver line is: {' '.join(kept)}"))
    return kept


def _fit_searches(searches: list[str], expanded: bool, warnings: list[KubeletWarning]) -> list[str]:
    max_paths, max_chars = SEARCH_LIMITS[expanded]
    exceeded = len(searches) > max_paths
    kept = [s for s in searches[:max_paths] if len(s) <= 253]
    exceeded = exceeded or len(kept) < len(searches[:max_paths])
    while kept and len(" ".join(kept)) > max_chars:
        kept.pop()
        exceeded = True
    if exceeded:
        warnings.append(KubeletWarning("DNSConfigForming", "Search Line limits were exceeded, some search paths "
                                       f"have been omitted, the applied search line is: {' '.join(kept)}"))
    return kept


def _api_rejections(policy: str, dns_config: PodDNSConfig | None, expanded: bool) -> Iterator[KubeletWarning]:
    """The API server's pod validation of dnsPolicy and dnsConfig
    (pkg/apis/core/validation validateDNSPolicy, validatePodDNSConfig)."""
    if policy not in DNS_POLICIES:
        yield _rejected(f"dnsPolicy {policy!r} is not supported, valid values: {', '.join(DNS_POLICIES)}")
    if policy == "None" and (dns_config is None or not dns_config.nameservers):
        yield _rejected("must provide at least one DNS nameserver when `dnsPolicy` is None")
    if dns_config is not None:
        yield from _dns_config_rejections(dns_config, expanded)


def _dns_config_rejections(dns_config: PodDNSConfig, expanded: bool) -> Iterator[KubeletWarning]:
    if len(dns_config.nameservers) > MAX_NAMESERVERS:
        yield _rejected(f"dnsConfig: must not have more than {MAX_NAMESERVERS} nameservers")
    for ns in dns_config.nameservers:
        if not is_ip_address(ns):
            yield _rejected(f"dnsConfig: nameserver {ns!r} must be a valid IP address")
    max_paths, max_chars = SEARCH_LIMITS[expanded]
    if len(dns_config.searches) > max_paths:
        yield _rejected(f"dnsConfig: must not have more than {max_paths} search paths")
    if len(" ".join(dns_config.searches)) > max_chars:
        yield _rejected(f"dnsConfig: must not have more than {max_chars} characters (including spaces) "
                        "in the search list")
    for search in dns_config.searches:
        if search in ("", ".") or not is_search_domain(search):
            yield _rejected(f"dnsConfig: search {search!r} must be a DNS subdomain")
    if any(not opt.name for opt in dns_config.options):
        yield _rejected("dnsConfig: option name must not be empty")


def _rejected(message: str) -> KubeletWarning:
    return KubeletWarning("Rejected", message, rejected=True)


def require_libc(value: str) -> Libc:
    """The Libc named `value` ('glibc', 'musl' or 'go')."""
    try:
        return Libc(value)
    except ValueError:
        raise InvalidArgument(f"unknown libc {value!r}; choose from {', '.join(x.value for x in Libc)}") from None
