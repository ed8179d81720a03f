"""Real CoreDNS binaries (from ../shared/coredns-real) started and stopped by PID, and
clients that send queries from chosen loopback source addresses at chosen times."""

from __future__ import annotations

import lzma
import os
import selectors
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnswire import build_query, parse_reply

RELEASES = ("1.11.1", "1.14.6", "1.14.7")
REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "coredns-real"


def shared_binaries() -> Path | None:
    """The directory of the xz-compressed binaries, or None when absent."""
    directory = SHARED / "bin"
    if all((directory / f"coredns-v{r}.xz").is_file() for r in RELEASES):
        return directory
    return None


def binary(release: str, cache_dir: Path) -> Path:
    """The release's executable, decompressed once into ``cache_dir``."""
    directory = shared_binaries()
    if directory is None:
        raise FileNotFoundError(f"no CoreDNS binaries under {SHARED}")
    target = cache_dir / f"coredns-v{release}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        with lzma.open(directory / f"coredns-v{release}.xz") as source, open(partial, "wb") as out:
            shutil.copyfileobj(source, out)
        partial.chmod(0o755)
        partial.rename(target)
    return target


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise OSError("no free port")


class CoreDNS:
    """One CoreDNS process; ``start`` waits until it has printed its banner."""

    def __init__(self, executable: Path, corefile: str, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir
        self.corefile = workdir / "Corefile"
        self.corefile.write_text(corefile)
        self.process: subprocess.Popen[bytes] | None = None
        self.reader: threading.Thread | None = None
        self.output: list[str] = []

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [str(self.executable), "-conf", str(self.corefile)], cwd=self.workdir,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        ready = threading.Event()

        def read() -> None:
            assert self.process is not None
            assert self.process.stdout is not None
            for raw in self.process.stdout:
                line = raw.decode("utf-8", "replace").rstrip()
                self.output.append(line)
                if line.startswith("CoreDNS-"):
                    ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(timeout):
            self.stop()
            raise RuntimeError("CoreDNS did not start:\n" + "\n".join(self.output[-20:]))

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, 15)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, 9)
                self.process.wait(timeout=5)
        if self.reader is not None:
            self.reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None


@dataclass(frozen=True)
class ClientQuery:
    time: float
    source: str
    qname: str
    qtype: str = "A"


def run_clients(port: int, queries: list[ClientQuery], t0: float, wait: float) -> list[dict[str, Any]]:
    """Send each query at ``t0 + time`` from its source address (UDP, one socket each)
    and collect the first reply to each within ``wait`` seconds of sending it."""
    order = sorted(range(len(queries)), key=lambda i: queries[i].time)
    selector = selectors.DefaultSelector()
    results: list[dict[str, Any]] = [
        {"time": q.time, "source": q.source, "qname": q.qname, "qtype": q.qtype, "reply": None}
        for q in queries
    ]
    open_sockets: dict[int, tuple[socket.socket, float]] = {}
    next_index = 0
    deadline = t0 + max((q.time for q in queries), default=0.0) + wait + 1.0
    while time.monotonic() < deadline and (next_index < len(order) or open_sockets):
        now = time.monotonic()
        while next_index < len(order) and t0 + queries[order[next_index]].time <= now:
            index = order[next_index]
            query = queries[index]
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((query.source, 0))
            sock.setblocking(False)
            sock.sendto(build_query(index & 0xFFFF, query.qname, query.qtype), ("127.0.0.1", port))
            results[index]["sent"] = round(time.monotonic() - t0, 4)
            selector.register(sock, selectors.EVENT_READ, index)
            open_sockets[index] = (sock, time.monotonic())
            next_index += 1
        timeout = 0.01
        if next_index < len(order):
            timeout = max(0.0, min(timeout, t0 + queries[order[next_index]].time - time.monotonic()))
        for key, _ in selector.select(timeout):
            index = key.data
            sock = open_sockets[index][0]
            try:
                packet = sock.recv(4096)
            except OSError:
                continue
            reply = parse_reply(packet)
            results[index].update(reply={"rcode": reply.rcode, "answers": reply.answers, "ttl": reply.ttl},
                                  received=round(time.monotonic() - t0, 4))
            selector.unregister(sock)
            sock.close()
            del open_sockets[index]
        for index, (sock, sent) in list(open_sockets.items()):
            if time.monotonic() - sent > wait:
                selector.unregister(sock)
                sock.close()
                del open_sockets[index]
    for sock, _ in open_sockets.values():
        sock.close()
    selector.close()
    return results
