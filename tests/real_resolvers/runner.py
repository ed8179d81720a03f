"""Run one probe case against the real glibc, musl or Go resolver and record it.

    python runner.py build BINDIR
    python runner.py run CASE_ID --libc glibc|musl|go --bindir BINDIR [--repeat N]
    python runner.py record BINDIR OUTDIR [CASE_ID...]

`run` and `record` execute each lookup inside `unshare -mn` (a private network
namespace with only loopback, and a private mount namespace): the case's
resolv.conf is bind-mounted over /etc/resolv.conf, dnsserver.Server answers on
127.0.0.x:53 and logs every query, and the probe program does one lookup.
An observation is the ordered queries the server received (qname, qtype,
nameserver, time from the probe's start) and the probe's outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dnsserver  # noqa: E402
import probe_cases  # noqa: E402

LIBCS = ("glibc", "musl", "go")
PROBE_TIME_LIMIT = 60.0


def tools_missing() -> list[str]:
    """The tools the live probes need that this machine lacks."""
    missing = [tool for tool in ("unshare", "mount", "ip", "gcc", "musl-gcc", "go") if shutil.which(tool) is None]
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        missing.append("root (for unshare -mn)")
    return missing


def build(bindir: Path) -> dict[str, str]:
    """Build the three probes into BINDIR; return the library versions."""
    bindir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["gcc", "-O1", "-o", str(bindir / "probe-glibc"), str(HERE / "probe.c")], check=True)
    subprocess.run(["musl-gcc", "-static", "-O1", "-o", str(bindir / "probe-musl"), str(HERE / "probe.c")], check=True)
    env = dict(os.environ, CGO_ENABLED="0", GO111MODULE="off",
               GOCACHE=str(bindir / "gocache"), GOPATH=str(bindir / "gopath"))
    shutil.copy(HERE / "probe.go", bindir / "probe.go")
    subprocess.run(["go", "build", "-o", "probe-go", "probe.go"], cwd=bindir, env=env, check=True)
    return versions()


def versions() -> dict[str, str]:
    def first_line(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError:
            return "unknown"
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0] if text else "unknown"

    def package(name: str) -> str:
        try:
            out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True, check=False)
        except OSError:
            return "unknown"
        return out.stdout.strip() or "unknown"

    return {
        "glibc": f"{platform.libc_ver()[1]} (Debian package libc6 {package('libc6')})",
        "musl": f"musl {package('musl')}",
        "go": first_line(["go", "version"]),
        "kernel": platform.release(),
    }


def run_inside(case: dict[str, Any], libc: str, bindir: Path) -> dict[str, Any]:
    """Body of one run; must already be inside `unshare -mn`."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "resolv.conf"
        conf.write_text(case["resolv_conf"])
        subprocess.run(["mount", "--bind", str(conf), "/etc/resolv.conf"], check=True)
        server = dnsserver.Server(
            probe_cases.listening_addresses(case),
            dnsserver.rules_from_json(case.get("rules", [])),
            case.get("default", "NXDOMAIN"),
            str(Path(tmp) / "log.json"),
        )
        server.start()
        started = time.monotonic()
        family = [case["family"]] if case.get("family", "unspec") != "unspec" else []
        proc = subprocess.run([str(bindir / f"probe-{libc}"), case["name"], *family], capture_output=True,
                              text=True, timeout=PROBE_TIME_LIMIT, check=False)
        elapsed = time.monotonic() - started
        time.sleep(0.2)
        server.stop()
        log = json.loads((Path(tmp) / "log.json").read_text())
    try:
        outcome = json.loads(proc.stdout)
    except json.JSONDecodeError:
        outcome = {"rc": None, "error": f"probe exit {proc.returncode}: {proc.stdout!r} {proc.stderr!r}", "addresses": []}
    offset = started - server.t0
    packets = [
        {"qname": e["qname"], "qtype": e["qtype"], "nameserver": e["nameserver"],
         "time": round(float(e["time"]) - offset, 3), "transport": e["transport"], "source": e["source"]}
        for e in log
    ]
    return {
        "packets": packets,
        "result": "success" if outcome.get("rc") == 0 else "failure",
        "outcome": outcome,
        "exit_status": proc.returncode,
        "elapsed": round(elapsed, 3),
    }


def run_case(case_id: str, libc: str, bindir: Path) -> dict[str, Any]:
    """One run in a fresh `unshare -mn`."""
    proc = subprocess.run(
        ["unshare", "-mn", sys.executable, str(Path(__file__).resolve()), "inside", case_id,
         "--libc", libc, "--bindir", str(bindir)],
        capture_output=True, text=True, timeout=PROBE_TIME_LIMIT + 30, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{case_id}/{libc}: runner failed: {proc.stderr.strip()}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def record(bindir: Path, outdir: Path, case_ids: list[str]) -> None:
    vers = versions()
    outdir.mkdir(parents=True, exist_ok=True)
    for case in probe_cases.CASES:
        if case_ids and case["id"] not in case_ids:
            continue
        observations: dict[str, list[dict[str, Any]]] = {}
        for libc in case.get("libcs", LIBCS):
            observations[libc] = [run_case(case["id"], libc, bindir) for _ in range(case.get("repeat", 2))]
            print(f"{case['id']:40} {libc:6} " + " | ".join(
                f"{len(o['packets'])} pkts {o['result']} {o['elapsed']}s" for o in observations[libc]), flush=True)
        document = {"case": case, "versions": vers, "observations": observations}
        (outdir / f"{case['id']}.json").write_text(json.dumps(document, indent=1) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("bindir", type=Path)
    i = sub.add_parser("inside")
    i.add_argument("case_id")
    i.add_argument("--libc", choices=LIBCS, required=True)
    i.add_argument("--bindir", type=Path, required=True)
    r = sub.add_parser("run")
    r.add_argument("case_id")
    r.add_argument("--libc", choices=LIBCS, required=True)
    r.add_argument("--bindir", type=Path, required=True)
    r.add_argument("--repeat", type=int, default=1)
    rec = sub.add_parser("record")
    rec.add_argument("bindir", type=Path)
    rec.add_argument("outdir", type=Path)
    rec.add_argument("case_ids", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(json.dumps(build(args.bindir)))
    elif args.command == "inside":
        print(json.dumps(run_inside(probe_cases.case_by_id(args.case_id), args.libc, args.bindir)))
    elif args.command == "run":
        for _ in range(args.repeat):
            print(json.dumps(run_case(args.case_id, args.libc, args.bindir)))
    else:
        record(args.bindir, args.outdir, args.case_ids)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
