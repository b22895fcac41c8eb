#!/usr/bin/env python3
"""Ground truth from tshark for the application-layer fields the engine extracts.

Run (from the repository root, with the shared captures at ../shared/pcaps):

    python3 scripts/make-tshark-app-fixtures.py              # writes pcaps/fixtures/app-layer/
    python3 scripts/make-tshark-app-fixtures.py --pcaps DIR --out DIR --jobs 2
    python3 scripts/make-tshark-app-fixtures.py --detail /tmp/app-records.tsv   # + per record

Python 3.11 standard library only; needs tshark (Wireshark 4.0) on PATH. At most --jobs
(default 2) tshark processes run at once; one tshark run per capture, a full run takes a few
minutes. tshark runs with -n and WIRESHARK_CONFIG_DIR pointing to an empty directory, so
personal preferences cannot change the results. Output is sorted and carries no timestamp;
re-running with the same tshark gives byte-identical files.

Captures are those of pcaps/fixtures/packet-counts.tsv (made by make-tshark-fixtures.py)
from which tshark read at least one packet. Paths are relative to the shared captures root.

Files written under pcaps/fixtures/app-layer/ (TSV, `#` comment lines, one header line):

captures.tsv   path http tls dns ssh
    Every capture compared, with the number of records tshark reported per protocol, or
    `capped` when a capture has more than MAX_RECORDS records of that protocol: its values
    are then left out of the fixtures (the test skips that protocol for that capture).
http.tsv       path field value count      field: uri | host | user_agent
tls.tsv        path field value count      field: sni
dns.tsv        path field value count      field: query
ssh.tsv        path field value count      field: protocol
    The multiset of values per capture and field: `count` records carried `value`.

What a record is (tshark field, and the filter on tshark's layer list `frame.protocols`):
- http   `http.request.uri`, `http.host`, `http.user_agent` of every request tshark parsed,
         over TCP only (the transport nearest below `http` in frame.protocols is tcp). HTTP
         over UDP (SSDP, port 1900) is left out: the engine parses HTTP over TCP only.
- tls    `tls.handshake.extensions_server_name` in frames carrying a ClientHello
         (`tls.handshake.type` 1), TLS over TCP only: QUIC (which also uses `tls.*` fields
         for its CRYPTO frames) and DTLS (`dtls.*`) are out of scope.
- dns    `dns.qry.name` of queries and responses, over UDP and TCP. mDNS (5353) and LLMNR
         (5355) are included: tshark exports them as `dns.*` and the engine parses them as
         DNS (its probe treats 53, 5353 and 5355 as DNS ports). NetBIOS name service uses
         `nbns.*` fields and is not DNS for either side.
- ssh    `ssh.protocol`: the identification line of each side, without CR LF.
- Frames where an ICMP/ICMPv6 header comes before the application layer are skipped: that
  is a datagram quoted inside an ICMP error, which tshark dissects but no endpoint parses.

How tshark finds the protocols: by port first, then by heuristics; with the default
preferences the TCP heuristics for HTTP and TLS and the UDP heuristic for DNS are on, so
tshark also recognises HTTP, TLS and DNS on other ports by content, like the engine. SSH has
no heuristic: tshark decodes it on port 22 only (the engine on any port, by content); SSH on
other ports shows up as engine-only records, listed in differences.tsv.

Escaping (verified on tshark 4.0.17 with synthetic captures; the test applies the same
transformation to the engine's bytes so the comparison is byte-exact up to it):
- `-T fields` writes TAB, LF and CR inside a value as the two characters `\\t`, `\\n`, `\\r`;
  nothing else (a backslash stays one backslash).
- HTTP, TLS SNI and SSH strings are ASCII-decoded: every byte >= 0x80 becomes U+FFFD;
  other control bytes are written raw.
- DNS names: valid UTF-8 is kept, an invalid sequence becomes U+FFFD, labels are joined
  with `.` (a `.` inside a label is not escaped), and control bytes are escaped as
  `\\a \\b \\t \\n \\v \\f \\r` or `\\ooo` (octal; DEL is `\\177`); a backslash is not escaped.
  The root name is `<Root>`. Names tshark cannot read are placeholders (`<Name too long>`,
  `<Unknown extended label>`, `<Name contains a pointer that loops>`): the engine rejects
  those names, so they are listed differences, not escaping.
- A NUL inside an ASCII string ends the value (tshark handles it as a C string).

Differences the engine is known to have, and why, are in differences.tsv (reviewed by hand,
checked by engine/inspect/tests/tshark_fields.rs); this script does not write it.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# A capture with more records than this for one protocol is left out for that protocol.
MAX_RECORDS = 5000

AGG = "\x1e"  # occurrence aggregator: a byte no tshark field value here contains

FIELDS = ["frame.number", "frame.protocols", "tcp.stream", "udp.stream",
          "http.request.uri", "http.host", "http.user_agent",
          "tls.handshake.type", "tls.handshake.extensions_server_name",
          "dns.qry.name", "ssh.protocol"]
IDX = {f: i for i, f in enumerate(FIELDS)}

DISPLAY_FILTER = ("http.request or tls.handshake.type == 1 or dns.qry.name "
                  "or ssh.protocol")

# protocol -> (tshark layer name in frame.protocols, transports allowed, [(field, tshark field)])
PROTOS = {
    "http": ("http", {"tcp"}, [("uri", "http.request.uri"), ("host", "http.host"),
                               ("user_agent", "http.user_agent")]),
    "tls": ("tls", {"tcp"}, [("sni", "tls.handshake.extensions_server_name")]),
    "dns": (None, {"tcp", "udp"}, [("query", "dns.qry.name")]),
    "ssh": ("ssh", {"tcp"}, [("protocol", "ssh.protocol")]),
}
# Layer names under which tshark puts dns.* fields.
DNS_LAYERS = ("dns", "mdns", "llmnr")

ENV = dict(os.environ)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def transport_ok(layers: list[str], app: tuple[str, ...], allowed: set[str]) -> bool:
    """The first layer named in `app` has an allowed transport as the nearest tcp/udp below
    it, and no ICMP layer anywhere below it (a datagram quoted in an ICMP error)."""
    for i, layer in enumerate(layers):
        if layer in app:
            below = layers[:i]
            if "icmp" in below or "icmpv6" in below:
                return False
            for t in reversed(below):
                if t in ("tcp", "udp"):
                    return t in allowed
            return False
    return False


def records(path: str) -> tuple[str, dict[str, list[tuple[str, str, str, str]]], str]:
    """(path, proto -> [(field, value, frame, stream)], stderr) for one capture."""
    cmd = ["tshark", "-n", "-r", path, "-Y", DISPLAY_FILTER, "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=" + AGG]
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    out = p.stdout.decode("utf-8", "surrogateescape")
    found: dict[str, list[tuple[str, str, str, str]]] = {k: [] for k in PROTOS}
    for line in out.split("\n"):
        if not line or not line[0].isdigit():
            continue
        r = line.split("\t")
        r += [""] * (len(FIELDS) - len(r))
        layers = r[IDX["frame.protocols"]].split(":")
        stream = r[IDX["tcp.stream"]] or r[IDX["udp.stream"]]
        frame = r[IDX["frame.number"]]
        for proto, (layer, allowed, fields) in PROTOS.items():
            app = DNS_LAYERS if layer is None else (layer,)
            if not transport_ok(layers, app, allowed):
                continue
            if proto == "tls" and "1" not in r[IDX["tls.handshake.type"]].split(AGG):
                continue
            for name, tf in fields:
                cell = r[IDX[tf]]
                if cell == "":
                    continue
                for v in cell.split(AGG):
                    found[proto].append((name, v, frame, stream.split(AGG)[-1]))
    return path, found, p.stderr.decode("utf-8", "replace")


def write_tsv(path: Path, comments: list[str], header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n", errors="surrogateescape") as fh:
        for c in comments:
            fh.write("# " + c + "\n" if c else "#\n")
        fh.write("\t".join(header) + "\n")
        for r in rows:
            fh.write("\t".join(str(x) for x in r) + "\n")


def main() -> int:
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pcaps", type=Path, default=repo.parent / "shared" / "pcaps")
    ap.add_argument("--out", type=Path, default=repo / "pcaps" / "fixtures" / "app-layer")
    ap.add_argument("--counts", type=Path,
                    default=repo / "pcaps" / "fixtures" / "packet-counts.tsv")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--detail", type=Path, help="also write every record (path, proto, "
                    "field, frame, stream, value) to this file, for investigating")
    args = ap.parse_args()
    root = args.pcaps.resolve()
    outdir = args.out.resolve()
    t0 = time.monotonic()

    cfg = tempfile.TemporaryDirectory(prefix="tshark-app-fixtures-cfg-")
    ENV["WIRESHARK_CONFIG_DIR"] = cfg.name
    ENV["LC_ALL"] = "C"
    os.chdir(root)
    version = subprocess.run(["tshark", "--version"], stdout=subprocess.PIPE, env=ENV,
                             check=True).stdout.decode().splitlines()[0].strip()
    header = [f"generated by scripts/make-tshark-app-fixtures.py with {version}"]

    paths = []
    for line in args.counts.read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        if line.startswith("#") or f[0] == "path" or len(f) < 3:
            continue
        if f[2].isdigit() and int(f[2]) > 0:
            paths.append(f[0])
    log(f"{len(paths)} captures with packets")

    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = sorted(pool.map(records, paths))
    log(f"tshark done in {time.monotonic() - t0:.0f}s")

    index_rows = []
    tables: dict[str, list[list]] = {k: [] for k in PROTOS}
    detail = []
    for path, found, _err in results:
        row = [path]
        for proto in PROTOS:
            recs = found[proto]
            per_field = Counter(f for f, *_ in recs)
            if any(n > MAX_RECORDS for n in per_field.values()):
                row.append("capped")
                continue
            row.append(len(recs))
            for (field, value), n in sorted(Counter((f, v) for f, v, *_ in recs).items()):
                tables[proto].append([path, field, value, n])
            detail += [[path, proto, f, fr, st, v] for f, v, fr, st in recs]
        index_rows.append(row)

    write_tsv(outdir / "captures.tsv", header + [
        "captures tshark read packets from; records per protocol (capped: more than "
        f"{MAX_RECORDS} for one field, values left out)",
    ], ["path", *PROTOS], index_rows)
    for proto, (_, _, fields) in PROTOS.items():
        write_tsv(outdir / f"{proto}.tsv", header + [
            "multiset per capture: `count` records had `value` in `field`; fields: "
            + ", ".join(f"{n} = {t}" for n, t in fields),
            "values as tshark -T fields prints them (see the script's header for escaping)",
        ], ["path", "field", "value", "count"], tables[proto])
    if args.detail:
        write_tsv(args.detail, header, ["path", "proto", "field", "frame", "stream", "value"],
                  detail)
    totals = {p: sum(r[3] for r in tables[p]) for p in PROTOS}
    log(f"records: {totals}; total {time.monotonic() - t0:.0f}s")
    cfg.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
