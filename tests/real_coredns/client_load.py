"""Client queries one lookup sends to a real CoreDNS server, and when they arrive: the
figures behind server-load (P2) measured with a real resolver.

    python tests/real_coredns/client_load.py record [--repeat N]   # writes RECORD
    python tests/real_coredns/client_load.py run RELEASE on|off DELAY_MS LIBC

Each lookup runs inside ``unshare -mn`` (a private loopback network and mount
namespace): the counting upstream (``upstream.py``) answers ``*.ec2.internal.``
NXDOMAIN and everything else with an address after ``DELAY_MS``; CoreDNS (one of
../shared/coredns-real) serves the incident's Corefile on 127.0.0.10:53 with a fresh,
cold cache; a route makes 127.0.1.1 the source address of every packet to it, so the
`kubernetes` stand-in sees a pod of namespace ns1; the pod's resolv.conf (kubelet's
ClusterFirst file with the EKS search list, H2, H7) is bind-mounted over
/etc/resolv.conf; and the probe of tests/real_resolvers (glibc or musl getaddrinfo
AF_UNSPEC, or Go's LookupIPAddr) looks up api.partner.example.com once.

What arrives at the server is counted twice: every packet to 127.0.0.10:53 on the
loopback interface, with the kernel's receive time (SO_TIMESTAMPNS), and the lines the
server's own `log` plugin writes for the client queries it serves.
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "real_resolvers"))

from dnswire import parse_question  # noqa: E402
from server import REPO, CoreDNS, binary  # noqa: E402
from upstream import CountingUpstream  # noqa: E402

RECORD = REPO / "tests" / "data" / "server_load_observations" / "client_queries.json"
NAME = "api.partner.example.com"
SERVER = "127.0.0.10"
POD = "127.0.1.1"
NAMESPACE = "ns1"
SEARCH = f"{NAMESPACE}.svc.cluster.local svc.cluster.local cluster.local ec2.internal"
RESOLV_CONF = f"search {SEARCH}\nnameserver {SERVER}\noptions ndots:5\n"
WORLD = (
    {"name": "*.ec2.internal.", "kind": "NXDOMAIN", "ttl": 60},
    {"name": "*", "kind": "ANSWER", "ttl": 5},
)
RELEASES = ("1.11.1", "1.14.6", "1.14.7")
DELAYS_MS = (0, 20, 300, 1500)
LIBCS = ("glibc", "musl", "go")
LOOKUP_LIMIT = 20.0
SETTLE = 0.3
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35

_PLUGINS_NOT_BUILT = "health { lameduck 5s }, ready, loop, reload, loadbalance"


def corefile(autopath: bool, upstream: str) -> str:
    """The incident's Corefile (examples/datadog-autopath*/coredns-configmap.yaml) for the
    stand-in: `kubernetes` takes only ``ttl`` and ``autopath_search`` (the node's search
    path, C3; its address-to-namespace mapping is `pods verified`, C2); ``log`` added;
    plugins not built into the binaries left out (none of them changes which client
    queries arrive): see ``_PLUGINS_NOT_BUILT``."""
    lines = [
        ".:53 {",
        f"    bind {SERVER}",
        "    errors",
        "    log",
        "    kubernetes cluster.local in-addr.arpa ip6.arpa {",
        "        ttl 30",
        "        autopath_search ec2.internal",
        "    }",
        *(["    autopath @kubernetes"] if autopath else []),
        "    prometheus 127.0.0.1:9153",
        f"    forward . {upstream} {{",
        "        max_concurrent 1000",
        "    }",
        "    cache 30",
        "}",
    ]
    return "\n".join(lines) + "\n"


class ServerPackets:
    """Every query packet to SERVER:53 on the loopback interface, with the kernel's
    receive time (wall clock, seconds)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind(("lo", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.settimeout(0.05)
        self.packets: list[dict[str, Any]] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.server = socket.inet_aton(SERVER)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping = True
        self.thread.join(timeout=3)
        self.sock.close()

    def _run(self) -> None:
        while not self.stopping:
            try:
                frame, ancillary, _flags, address = self.sock.recvmsg(65535, 1024)
            except TimeoutError:
                continue
            except OSError:
                return
            at = time.time()
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanoseconds = struct.unpack("qq", data[:16])
                    at = seconds + nanoseconds / 1e9
            if address[2] == PACKET_OUTGOING:
                continue
            self._parse(frame[14:], at)

    def _parse(self, ip: bytes, at: float) -> None:
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[16:20] != self.server:
            return
        header = (ip[0] & 0xF) * 4
        protocol = ip[9]
        if protocol == 17:
            payload, transport = ip[header + 8 :], "udp"
        elif protocol == 6 and len(ip) >= header + 13:
            payload, transport = ip[header + (ip[header + 12] >> 4) * 4 :][2:], "tcp"
        else:
            return
        if struct.unpack("!H", ip[header + 2 : header + 4])[0] != 53 or len(payload) < 12:
            return
        try:
            _ident, _flags, qname, qtype, _end = parse_question(payload)
        except (ValueError, IndexError, struct.error):
            return
        self.packets.append({"at": at, "qname": qname, "qtype": qtype, "transport": transport,
                             "source": socket.inet_ntoa(ip[12:16])})


def logged_queries(output: list[str]) -> list[tuple[str, str]]:
    """(qname, qtype) of each client query the `log` plugin wrote."""
    queries = []
    for line in output:
        if f"{POD}:" not in line or '"' not in line:
            continue
        fields = line.split('"')[1].split()
        if len(fields) >= 3:
            queries.append((fields[2].lower(), fields[0]))
    return queries


def lookup_inside(release: str, autopath: bool, delay_ms: int, libc: str, probes: Path,
                  cache: Path) -> dict[str, Any]:
    """One lookup; must already be inside ``unshare -mn``."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "route", "add", "local", f"{SERVER}/32", "dev", "lo", "src", POD,
                    "table", "local"], check=True)
    upstream = CountingUpstream(list(WORLD), delay_ms / 1000, sniff=False)
    with tempfile.TemporaryDirectory(prefix="kf-load-") as workdir:
        conf = Path(workdir) / "resolv.conf"
        conf.write_text(RESOLV_CONF)
        subprocess.run(["mount", "--bind", str(conf), "/etc/resolv.conf"], check=True)
        server = CoreDNS(binary(release, cache), corefile(autopath, upstream.address), Path(workdir))
        packets = ServerPackets()
        try:
            server.start()
            packets.start()
            time.sleep(0.1)
            launched_wall = time.time()
            upstream.start(time.monotonic())
            proc = subprocess.run([str(probes / f"probe-{libc}"), NAME], capture_output=True, text=True,
                                  timeout=LOOKUP_LIMIT, check=False)
            elapsed = time.time() - launched_wall
            time.sleep(SETTLE)
        finally:
            packets.stop()
            server.stop()
            upstream.stop()
    try:
        outcome = json.loads(proc.stdout)
    except json.JSONDecodeError:
        outcome = {"rc": None, "error": f"probe exit {proc.returncode}: {proc.stdout!r} {proc.stderr!r}"}
    return {
        "queries": [[round(p["at"] - launched_wall, 4), p["qname"], p["qtype"], p["transport"], p["source"]]
                    for p in sorted(packets.packets, key=lambda p: p["at"])],
        "logged": [list(q) for q in logged_queries(server.output)],
        "upstream": [[q["time"], q["qname"], q["qtype"], q["reply"]] for q in upstream.queries],
        "outcome": {"rc": outcome.get("rc"), "addresses": outcome.get("addresses", []),
                    "error": outcome.get("error", "")},
        "elapsed": round(elapsed, 4),
    }


def lookup(release: str, autopath: bool, delay_ms: int, libc: str, probes: Path, cache: Path) -> dict[str, Any]:
    """One lookup in a fresh ``unshare -mn``."""
    proc = subprocess.run(
        ["unshare", "-mn", sys.executable, str(Path(__file__).resolve()), "inside", release,
         "on" if autopath else "off", str(delay_ms), libc, "--probes", str(probes), "--cache", str(cache)],
        capture_output=True, text=True, timeout=LOOKUP_LIMIT + 30, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{release} {autopath} {delay_ms} {libc}: {proc.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def missing_tools() -> list[str]:
    """Why the live measurement cannot run here (empty when it can)."""
    from runner import tools_missing

    missing = tools_missing()
    if not missing:
        check = subprocess.run(["unshare", "-mn", "true"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            missing.append(f"unshare -mn ({check.stderr.strip()})")
    return missing


def build_probes(directory: Path) -> dict[str, str]:
    from runner import build

    return build(directory)


def record(repeat: int) -> None:
    cache = Path.home() / ".cache" / "kalc-formal-coredns"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kf-probes-") as probes_dir:
        probes = Path(probes_dir)
        versions = build_probes(probes)
        runs = []
        for release in RELEASES:
            for autopath in (True, False):
                for delay_ms in DELAYS_MS:
                    for libc in LIBCS:
                        for _ in range(repeat):
                            result = lookup(release, autopath, delay_ms, libc, probes, cache)
                            print(release, autopath, delay_ms, libc, len(result["queries"]),
                                  [q[0] for q in result["queries"]], flush=True)
                            runs.append({"release": release, "autopath": autopath, "delay_ms": delay_ms,
                                         "libc": libc, **result})
    document = {
        "measured": "client queries of one lookup of api.partner.example.com arriving at real CoreDNS "
                    "(tests/real_coredns/client_load.py); times in seconds from the probe's launch, "
                    "taken by the kernel as each packet reached the loopback interface",
        "name": NAME, "pod_source": POD, "namespace": NAMESPACE, "resolv_conf": RESOLV_CONF,
        "corefile_autopath_on": corefile(True, "{UP1}"), "corefile_autopath_off": corefile(False, "{UP1}"),
        "left_out_of_the_incident_corefile": _PLUGINS_NOT_BUILT,
        "upstream_world": list(WORLD), "versions": versions, "cache": "cold (a fresh server per lookup)",
        "runs": runs,
    }
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(json.dumps(document, indent=None, separators=(",", ":")) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("--repeat", type=int, default=2)
    for name in ("inside", "run"):
        one = sub.add_parser(name)
        one.add_argument("release", choices=RELEASES)
        one.add_argument("autopath", choices=("on", "off"))
        one.add_argument("delay_ms", type=int)
        one.add_argument("libc", choices=LIBCS)
        one.add_argument("--probes", type=Path)
        one.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "kalc-formal-coredns")
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.repeat)
    elif args.command == "inside":
        print(json.dumps(lookup_inside(args.release, args.autopath == "on", args.delay_ms, args.libc,
                                       args.probes, args.cache)))
    else:
        with tempfile.TemporaryDirectory(prefix="kf-probes-") as probes_dir:
            probes = args.probes or Path(probes_dir)
            if args.probes is None:
                build_probes(probes)
            print(json.dumps(lookup(args.release, args.autopath == "on", args.delay_ms, args.libc,
                                    probes, args.cache), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
