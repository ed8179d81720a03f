"""Read stage: Go's parsing helpers, once, as the Go programs we model call them.

CoreDNS (Go), its DNS library miekg/dns and Go's resolver read their inputs with these
functions; kalc-formal reads the same text the same way, with Go's error messages.
Each function names the Go function it mirrors.

>>> atoi("-42"), parse_duration("1m30s"), split_host_port("[::1]:53")
(-42, 90.0, ('::1', '53'))
>>> is_domain_name("cluster.local"), is_domain_name("a..b")
(True, False)
"""

from __future__ import annotations

import ipaddress
import re

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
"""time.ParseDuration's units, in seconds (both spellings of the micro sign)."""

DTOI_BIG = 0xFFFFFF
"""net.dtoi's ``big``: the value it stops at."""


def atoi(text: str) -> int:
    """strconv.Atoi: an optional sign and ASCII digits, within int64; ValueError with
    Go's message ("invalid syntax" or "value out of range")."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    number = int(text)
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(f'strconv.Atoi: parsing "{text}": value out of range')
    return number


def parse_uint(text: str, bits: int) -> int:
    """strconv.ParseUint(text, 10, bits); ValueError with Go's message."""
    if not re.fullmatch(r"[0-9]+", text):
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    number = int(text)
    if number >= 2**bits:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return number


def dtoi(text: str) -> int:
    """net.dtoi as Go's resolv.conf reader uses it: the leading ASCII digits' value,
    ``DTOI_BIG`` when it reaches that, 0 when there is no digit."""
    digits = re.match(r"[0-9]+", text)
    return min(int(digits.group()), DTOI_BIG) if digits else 0


def parse_duration(text: str) -> float:
    """time.ParseDuration in seconds ("300ms", "1m30s", "-1.5h", "0"); ValueError with
    Go's message."""
    rest = text
    sign = 1.0
    if rest[:1] in "+-" and rest:
        sign = -1.0 if rest[0] == "-" else 1.0
        rest = rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise ValueError(f'time: invalid duration "{text}"')
    total = 0.0
    while rest:
        number = re.match(r"[0-9]*(?:\.[0-9]*)?", rest)
        digits = number.group(0) if number else ""
        if digits in ("", "."):
            raise ValueError(f'time: invalid duration "{text}"')
        rest = rest[len(digits) :]
        unit = re.match(r"[^0-9.]*", rest)
        unit_text = unit.group(0) if unit else ""
        if not unit_text:
            raise ValueError(f'time: missing unit in duration "{text}"')
        if unit_text not in DURATION_UNITS:
            raise ValueError(f'time: unknown unit "{unit_text}" in duration "{text}"')
        total += float(digits) * DURATION_UNITS[unit_text]
        rest = rest[len(unit_text) :]
    return sign * total


def split_host_port(text: str) -> tuple[str, str]:
    """net.SplitHostPort; ValueError with Go's message."""
    def fail(reason: str) -> ValueError:
        return ValueError(f"address {text}: {reason}")

    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            raise fail("missing ']' in address")
        if end + 1 == len(text) or text[end + 1] != ":":
            raise fail("missing port in address")
        host, port = text[1:end], text[end + 2 :]
        if ":" in port:
            raise fail("too many colons in address")
        return host, port
    colon = text.rfind(":")
    if colon == -1:
        raise fail("missing port in address")
    host, port = text[:colon], text[colon + 1 :]
    if ":" in host:
        raise fail("too many colons in address")
    if "[" in host or "]" in host or "]" in port:
        raise fail("unexpected '[' or ']' in address")
    return host, port


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """net.ParseIP: an IPv4 or IPv6 address without a zone, else None."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def fqdn(name: str) -> str:
    """miekg/dns Fqdn: add the final dot unless the name ends in an unescaped one."""
    if name.endswith(".") and (len(name) - len(name[:-1].rstrip("\\")) - 1) % 2 == 0:
        return name
    return name + "."


def is_domain_name(name: str) -> bool:
    """miekg/dns IsDomainName (v1.1.72): label and name lengths, escapes, empty labels."""
    data = fqdn(name).encode("utf-8", errors="surrogateescape") if name else b""
    if not data:
        return False
    offset = begin = 0
    was_dot = escape = False
    index = 0
    while index < len(data):
        char = data[index]
        if char == 0x5C:  # backslash
            escape = not escape
            if offset + 1 > 256:
                return False
            if len(data) - index - 1 >= 3 and all(0x30 <= b <= 0x39 for b in data[index + 1 : index + 4]):
                index += 3
                begin += 3
            else:
                index += 1
                begin += 1
            was_dot = False
        elif char == 0x2E:  # dot
            escape = False
            if index == 0 and len(data) > 1:
                return False
            if was_dot:
                return False
            was_dot = True
            if index - begin >= 64:
                return False
            offset += 1 + index - begin
            if offset > 256:
                return False
            begin = index + 1
        else:
            escape = False
            was_dot = False
        index += 1
    return not escape
