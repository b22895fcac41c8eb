#!/usr/bin/env python3
"""Ground-truth fixtures from tshark for the packet engine's data-driven tests.

Run (from the repository root, with the shared captures at ../shared/pcaps):

    python3 scripts/make-tshark-fixtures.py              # writes pcaps/fixtures/
    python3 scripts/make-tshark-fixtures.py --pcaps DIR --out DIR --jobs 2

Python 3.11 standard library only; needs tshark and capinfos (Wireshark 4.0) on PATH.
At most --jobs (default 2) tshark processes run at once. A full run takes a few minutes
(tshark start-up, about 0.2 s, dominates: every capture is opened once for the main pass).
tshark runs with -n (no name resolution) and WIRESHARK_CONFIG_DIR pointing to an empty
directory, so personal preferences cannot change the results. Output is sorted and carries
no generation timestamp; the only varying header is the tshark version line, so re-running
with the same tshark must give byte-identical files.

Every path in the fixtures is relative to the shared captures root (e.g.
`ndpi/pcap/http_connect.pcap`); tests join it with `../shared/pcaps`. All files are TSV with
one header line, preceded by `#` comment lines.

Files written under pcaps/fixtures/:

packet-counts.tsv    path readable packets linktypes note
    Every capture under the root, recognised by magic number (pcap in all four byte-order /
    nanosecond variants, pcapng, gzip), whatever the file name. `packets` is the number of
    frames tshark read (checked against capinfos: they agree for every file). `readable` is
    `true` when tshark read the whole file without a file-level error. `linktypes` lists the
    link types declared by the file as `LINKTYPE_number:wiretap_name` (number read from the
    pcap header or from every pcapng Interface Description Block; name from capinfos, which
    says `unsupported` when Wireshark cannot decode that link type). `note` is a comma list:
    `cut_short` (tshark: "appears to have been cut short in the middle of a packet"; packets
    read before the cut are still counted), `unsupported_record` (tshark stops at the first
    packet of a link type it does not support), `damaged` (any other "damaged or corrupt"
    error), `dissector_warning` (tshark logged a dissector bug, e.g. LDAP maximum tree depth;
    reading itself is fine), or `-`.

conversations.tsv    path tcp_conversations udp_conversations tcp_streams udp_streams
    Every capture tshark read packets from. Conversation counts are the rows of
    `tshark -q -n -r FILE -z conv,tcp -z conv,udp`, run with the application dissectors that
    create conversations of their own disabled (CONVERSATION_CREATING_DISSECTORS: SNMP
    replies, SIP/SDP/Megaco/Skinny-negotiated media, ...); streams are the numbers of DISTINCT
    tcp.stream / udp.stream values over all occurrences in all packets (not max+1: some
    dissectors, e.g. SOCKS, create conversations without packets and so skip indexes).
    See README.md for how tshark defines conversations and streams (port reuse splits TCP
    but not UDP, VLAN ignored, every tunnel layer counts, ICMP-quoted headers get a stream
    index but no conversation).

tcp-follow/INDEX.tsv  path tcp_streams streams_followed reason
tcp-follow/<path with / replaced by __>.tsv
    stream client server client_bytes client_sha256 server_bytes server_sha256
    client_missing server_missing
    For a curated, varied list of small captures (application protocols, tunnels, VLANs,
    midstream pickup, IPv6) plus every small capture in which tshark flags retransmissions,
    out-of-order or lost segments, one row per tcp.stream index seen in the packets (the
    first MAX_STREAMS of them).
    Made from `tshark -q -z follow,tcp,raw,N` (many -z follow arguments in one tshark run;
    verified to give the same result as one run per stream). In tshark 4.0 raw follow output,
    `Node 0:` is the source of the first packet of the stream that tshark saw (NOT
    necessarily the SYN sender: a capture that starts mid-stream with a server reply has the
    server as Node 0); each data line is the hex payload one segment contributed; lines
    starting with a TAB belong to Node 1, the others to Node 0. `client` is Node 0, `server`
    Node 1, printed `ip:port` or `[ipv6]:port`; the bytes of a direction are the
    concatenation of its lines, given as length and SHA-256 (empty direction: 0 and the
    SHA-256 of the empty string). tshark marks an unfilled hole with a line holding the text
    "[N bytes missing in capture file]" + NUL: that line is not counted as bytes; N goes to
    client_missing / server_missing. Preferences used (also in each file's header):
    tcp.desegment_tcp_streams:TRUE, tcp.analyze_sequence_numbers:TRUE,
    tcp.reassemble_out_of_order:TRUE (chosen so the reference is the in-order byte stream the
    endpoint received; tshark 4.0 follow also reorders on its own, see README.md).

fragments.tsv  path ipv4_fragments ipv4_reassembled ipv6_fragments ipv6_reassembled
    Captures with at least one packet carrying an IPv4 header with MF=1 or offset>0, or an
    IPv6 Fragment extension header (any IP header of the packet: tunnelled ones, and also
    headers quoted inside ICMP errors). `*_fragments` counts such packets; `*_reassembled`
    counts the distinct values of ip.reassembled_in / ipv6.reassembled.in in a two-pass run
    (tshark -2), i.e. the datagrams tshark completed (a datagram tshark could not complete
    does not count).

README.md   the tshark behaviours the tests must know to explain differences.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAX_STREAMS = 200            # tcp-follow: streams per capture
AUTO_MAX_BYTES = 200_000     # tcp-follow: size limit for automatically picked captures
AUTO_MAX_COUNT = 20          # tcp-follow: at most this many automatic picks

TCP_PREFS = [
    "tcp.desegment_tcp_streams:TRUE",
    "tcp.analyze_sequence_numbers:TRUE",
    "tcp.reassemble_out_of_order:TRUE",
]

# Curated captures for tcp-follow (path, reason). Missing files are reported and skipped.
FOLLOW_CURATED = [
    ("ndpi/pcap/http_connect.pcap", "http"),
    ("ndpi/pcap/http-lines-split.pcap", "http"),
    ("ndpi/pcap/http_ipv6.pcap", "http ipv6"),
    ("ndpi/pcap/http_starting_with_reply.pcapng", "http midstream (server first)"),
    ("ndpi/pcap/443-curl.pcap", "tls"),
    ("ndpi/pcap/tls_missing_ch_frag.pcap", "tls missing segment"),
    ("ndpi/pcap/tls_long_cert.pcap", "tls"),
    ("ndpi/pcap/ssh_unidirectional.pcap", "ssh unidirectional"),
    ("ndpi/pcap/ftp_failed.pcap", "ftp"),
    ("ndpi/pcap/smtp.pcap", "smtp"),
    ("ndpi/pcap/smtp-starttls.pcap", "smtp starttls"),
    ("ndpi/pcap/pop3.pcap", "pop3"),
    ("ndpi/pcap/imap.pcap", "imap"),
    ("ndpi/pcap/pgsql2.pcapng", "postgres"),
    ("ndpi/pcap/mongodb.pcap", "mongodb"),
    ("zeek/Traces/rdp/rdp-no-cookie-mstshash.pcap", "rdp"),
    ("ndpi/pcap/smb_deletefile.pcap", "smb"),
    ("ndpi/pcap/bittorrent_tcp_miss.pcapng", "bittorrent"),
    ("ndpi/pcap/coap_mqtt.pcap", "mqtt"),
    ("ndpi/pcap/socks.pcap", "socks"),
    ("ndpi/pcap/rsync.pcap", "rsync"),
    ("ndpi/pcap/kafka.pcapng", "kafka"),
    ("ndpi/pcap/amqp.pcap", "amqp"),
    ("ndpi/pcap/vxlan.pcap", "tunnel vxlan"),
    ("ndpi/pcap/6in4tunnel.pcap", "tunnel 6in4, tcp inside icmpv6 error"),
    ("arkime/pcap/http-simple-get.pcap", "http"),
    ("arkime/pcap/v6-http.pcap", "http ipv6"),
    ("arkime/pcap/ftp.pcap", "ftp"),
    ("arkime/pcap/mysql-allow.pcap", "mysql"),
    ("arkime/pcap/postgres-badpass.pcap", "postgres"),
    ("arkime/pcap/ssh2.pcap", "ssh"),
    ("arkime/pcap/smtp-data-250.pcap", "smtp"),
    ("arkime/pcap/tls13.pcap", "tls 1.3"),
    ("arkime/pcap/smb-smb1-ascii.pcap", "smb1"),
    ("arkime/pcap/socks5-rdp.pcap", "socks5 rdp"),
    ("arkime/pcap/dns-tcp.pcap", "dns over tcp"),
    ("arkime/pcap/mqtt_synthetic.pcap", "mqtt"),
    ("arkime/pcap/gre-sample.pcap", "tunnel gre"),
    ("arkime/pcap/pppoe.pcap", "pppoe"),
    ("arkime/pcap/socks-http-example.pcap", "socks, stream indexes without packets"),
    ("arkime/pcap/http-syn-ack.pcap", "handshake variants"),
    ("arkime/pcap/no-syn-ack.pcap", "missing syn-ack"),
    ("arkime/pcap/http-tcp-seq-issue.pcap", "sequence anomaly"),
    ("arkime/pcap/wireshark-retrans.pcap", "retransmissions"),
    ("zeek/Traces/http/get.pcap", "http"),
    ("zeek/Traces/http/get-without-fins.pcap", "http no fin"),
    ("zeek/Traces/http/entity_gap2.pcap", "http content gap"),
    ("zeek/Traces/http-vlan-0.pcap", "vlan"),
    ("zeek/Traces/http-qinq-0.pcap", "qinq"),
    ("zeek/Traces/nflog-http.pcap", "nflog link type"),
    ("zeek/Traces/redis/pipelining-example.pcap", "redis"),
    ("zeek/Traces/redis/start-with-server.pcapng", "redis midstream"),
    ("zeek/Traces/mysql/auth.pcap", "mysql"),
    ("zeek/Traces/postgresql/psql-login.pcap", "postgres"),
    ("zeek/Traces/mqtt.pcap", "mqtt"),
    ("zeek/Traces/smb/smb3.pcap", "smb3"),
    ("zeek/Traces/tls/tls1_1.pcap", "tls 1.1"),
    ("zeek/Traces/ftp/ipv6.pcap", "ftp ipv6"),
    ("zeek/Traces/telnet-auth-missing-name.pcap", "telnet"),
    ("zeek/Traces/tcp/handshake-reorder.pcap", "handshake reordered"),
    ("zeek/Traces/tcp/ssh-dups.pcap", "duplicate segments"),
    ("zeek/Traces/tcp/fin_retransmission.pcap", "fin retransmission"),
    ("zeek/Traces/tcp/retransmit-timeout.pcapng", "retransmissions"),
    ("zeek/Traces/tcp/rst-inject-rae.pcap", "rst injection"),
    ("zeek/Traces/tcp/syn-then-rst.pcap", "syn then rst"),
    ("zeek/Traces/spicy/gap-recovery.pcap", "gap"),
    ("zeek/Traces/ldap/gap-data-missing.pcapng", "gap, per-packet link types"),
    ("zeek/Traces/ipv4/fragmented-syn.pcap", "ipv4 fragments"),
    ("suricata-verify/bug-1045/smtpsuricataflowbitsFN.pcap", "smtp"),
    ("suricata-verify/bug-2491-01/simple_http_download.onesided.pcap", "one-sided http"),
    ("suricata-verify/http-close-headers/input.pcap", "http"),
    ("suricata-verify/http-uri-spaces/input.pcap", "http"),
    ("suricata-verify/detect-flowbits/input.pcap", "http"),
    ("suricata-verify/tcp-fastopen-03/tfo.pcap", "tcp fast open"),
    ("suricata-verify/detect-engine-proto/tfo.pcap", "tcp fast open"),
    ("suricata-verify/dns__task-7018-ids-dns-stream-rule/input.pcap", "dns over tcp"),
    ("suricata-verify/defrag__bug-6887-defrag-eth-vlan-ipv6-tcp/frag-eth-vlan-ipv6-tcp.pcap",
     "ipv6 fragments vlan"),
]

PCAP_MAGICS = {
    b"\xa1\xb2\xc3\xd4": ">", b"\xd4\xc3\xb2\xa1": "<",      # microsecond
    b"\xa1\xb2\x3c\x4d": ">", b"\x4d\x3c\xb2\xa1": "<",      # nanosecond
    b"\xa1\xb2\xcd\x34": ">", b"\x34\xcd\xb2\xa1": "<",      # Kuznetzov modified pcap
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"

ENV = dict(os.environ)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(cmd: list[str]) -> tuple[int, str, str]:
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def prefs_args() -> list[str]:
    out = []
    for p in TCP_PREFS:
        out += ["-o", p]
    return out


# ---------------------------------------------------------------- discovery / link types

def discover(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            p = Path(dirpath) / name
            try:
                with open(p, "rb") as fh:
                    magic = fh.read(4)
            except OSError:
                continue
            if magic in PCAP_MAGICS or magic == PCAPNG_MAGIC or magic[:2] == GZIP_MAGIC:
                found.append(p.relative_to(root).as_posix())
    return sorted(found)


def header_linktypes(path: Path) -> list[int]:
    """LINKTYPE numbers declared by a pcap header or by each pcapng IDB, in file order."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if data[:2] == GZIP_MAGIC:
        import gzip
        try:
            data = gzip.decompress(data)
        except Exception:
            return []
    magic = data[:4]
    if magic in PCAP_MAGICS:
        if len(data) < 24:
            return []
        (lt,) = struct.unpack(PCAP_MAGICS[magic] + "I", data[20:24])
        return [lt & 0xFFFF]
    if magic != PCAPNG_MAGIC:
        return []
    out, off, endian = [], 0, "<"
    while off + 12 <= len(data):
        btype_raw = data[off:off + 4]
        if btype_raw == PCAPNG_MAGIC:
            bom = data[off + 8:off + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
        btype, blen = struct.unpack(endian + "II", data[off:off + 8])
        if blen < 12 or blen % 4 or off + blen > len(data):
            break
        if btype == 1 and blen >= 16:
            (lt,) = struct.unpack(endian + "H", data[off + 8:off + 10])
            out.append(lt)
        off += blen
    return out


def capinfos_table(root: Path, paths: list[str]) -> dict[str, tuple[str, str]]:
    """path -> (encapsulation name, packet count) from one batched capinfos call per chunk."""
    res: dict[str, tuple[str, str]] = {}
    for i in range(0, len(paths), 200):
        chunk = paths[i:i + 200]
        _, out, _ = run(["capinfos", "-T", "-r", "-E", "-c", *chunk])
        for line in out.splitlines():
            f = line.split("\t")
            if len(f) == 3:
                res[f[0]] = (f[1], f[2])
    return res


def capinfos_interfaces(path: str) -> list[str]:
    _, out, _ = run(["capinfos", "-I", path])
    return re.findall(r"Encapsulation = .*\(\d+ - ([^)]+)\)", out)


# ---------------------------------------------------------------- main pass

MAIN_FIELDS = ["frame.number", "tcp.stream", "udp.stream", "ip.flags.mf", "ip.frag_offset",
               "ipv6.fraghdr", "tcp.analysis.retransmission", "tcp.analysis.out_of_order",
               "tcp.analysis.lost_segment"]


def parse_conv(lines: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    section = None
    for line in lines:
        s = line.strip()
        m = re.fullmatch(r"(TCP|UDP) Conversations", s)
        if m:
            section = m.group(1).lower()
            counts[section] = 0
            continue
        if section and " <-> " in line:
            counts[section] += 1
    return counts


# Application dissectors that create conversations of their own: SNMP registers one for the
# reply, SIP/SDP/Megaco/Skinny set up conversations for the media streams they negotiate
# (RTP, RTCP, T.38), HART-IP and Rx for their replies, VNC for its authentication exchange. Each shows up as an extra UDP
# conversation (and udp.stream) for a packet that belongs to an existing address/port pair,
# which is a statement about application sessions, not about transport conversations. They
# are disabled for the conversation and stream counts only.
CONVERSATION_CREATING_DISSECTORS = [
    "snmp", "sip", "sdp", "megaco", "skinny", "rtp", "rtcp", "t38", "hart_ip", "rx", "vnc",
]


def main_pass(path: str) -> dict:
    disabled = [a for d in CONVERSATION_CREATING_DISSECTORS for a in ("--disable-protocol", d)]
    cmd = ["tshark", "-n", "-r", path, *prefs_args(), *disabled, "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in MAIN_FIELDS:
        cmd += ["-e", f]
    cmd += ["-z", "conv,tcp", "-z", "conv,udp"]
    rc, out, err = run(cmd)
    lines = out.splitlines()
    # Field rows start with the frame number; the statistics follow the last row.
    split = len(lines)
    for i, line in enumerate(lines):
        if line.startswith("====="):
            split = i
            break
    rows = [l.split("\t") for l in lines[:split] if l and l[0].isdigit()]
    conv = parse_conv(lines[split:])

    def ints(cell: str) -> list[int]:
        return [int(x) for x in cell.split(",") if x.strip().lstrip("-").isdigit()]

    packets = len(rows)
    tcp_ids: set[int] = set()
    udp_ids: set[int] = set()
    v4frag = v6frag = retrans = ooo = lost = 0
    for r in rows:
        r += [""] * (len(MAIN_FIELDS) - len(r))
        t = ints(r[1])
        u = ints(r[2])
        tcp_ids.update(t)
        udp_ids.update(u)
        mf, off = ints(r[3]), ints(r[4])
        if any(mf) or any(o > 0 for o in off):
            v4frag += 1
        if r[5]:
            v6frag += 1
        retrans += bool(r[6])
        ooo += bool(r[7])
        lost += bool(r[8])
    notes = []
    errlines = [l for l in err.splitlines() if "Running as user" not in l]
    errtext = "\n".join(errlines)
    if "cut short in the middle of a packet" in errtext:
        notes.append("cut_short")
    if "record data that TShark doesn't support" in errtext:
        notes.append("unsupported_record")
    if "damaged or corrupt" in errtext:
        notes.append("damaged")
    if "Dissector bug" in errtext:
        notes.append("dissector_warning")
    fatal = [l for l in errlines if l.startswith("tshark:")]
    readable = rc == 0 and not fatal
    if not readable and not notes:
        notes.append("error:" + re.sub(r"\s+", " ", (fatal or errlines or ["rc=%d" % rc])[0])
                     .replace(path, "FILE")[:120])
    return {
        "path": path, "rc": rc, "readable": readable, "packets": packets, "notes": notes,
        "tcp_conv": conv.get("tcp", 0), "udp_conv": conv.get("udp", 0),
        "tcp_streams": len(tcp_ids), "udp_streams": len(udp_ids),
        "tcp_ids": sorted(tcp_ids),
        "v4frag": v4frag, "v6frag": v6frag, "retrans": retrans, "ooo": ooo, "lost": lost,
        "stderr": errtext,
    }


# ---------------------------------------------------------------- fragments

def frag_pass(path: str) -> dict:
    cmd = ["tshark", "-2", "-n", "-r", path, *prefs_args(), "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,",
           "-e", "frame.number", "-e", "ip.flags.mf", "-e", "ip.frag_offset",
           "-e", "ipv6.fraghdr", "-e", "ip.reassembled_in", "-e", "ipv6.reassembled.in"]
    _, out, _ = run(cmd)
    v4 = v6 = 0
    r4: set[str] = set()
    r6: set[str] = set()
    for line in out.splitlines():
        r = line.split("\t")
        if not r or not r[0].isdigit():
            continue
        r += [""] * (6 - len(r))
        mf = [x for x in r[1].split(",") if x]
        off = [x for x in r[2].split(",") if x]
        if any(x == "1" for x in mf) or any(x.isdigit() and int(x) > 0 for x in off):
            v4 += 1
        if r[3]:
            v6 += 1
        r4.update(x for x in r[4].split(",") if x)
        r6.update(x for x in r[5].split(",") if x)
    return {"path": path, "v4": v4, "v4r": len(r4), "v6": v6, "v6r": len(r6)}


# ---------------------------------------------------------------- tcp follow

EMPTY_SHA = hashlib.sha256(b"").hexdigest()


GAP_MARKER = re.compile(rb"\[(\d+) bytes missing in capture file\]\x00")


def parse_follow(out: str) -> dict[int, dict]:
    """Blocks of `-z follow,tcp,raw,N` output, keyed by N.

    Each block: Follow/Filter/Node 0/Node 1 header, then one hex line per delivered
    segment (TAB-prefixed = Node 1). A line that decodes to exactly
    "[N bytes missing in capture file]\\0" is tshark's gap marker, not payload: it is
    counted in `missing` and left out of the bytes.
    """
    streams: dict[int, dict] = {}
    cur = None
    for line in out.splitlines():
        if line.startswith("====="):
            cur = None
            continue
        m = re.match(r"Filter: tcp\.stream eq (\d+)$", line)
        if m:
            cur = {"nodes": ["", ""], "data": [bytearray(), bytearray()], "missing": [0, 0]}
            streams[int(m.group(1))] = cur
            continue
        if cur is None:
            continue
        m = re.match(r"Node ([01]): (.*)$", line)
        if m:
            cur["nodes"][int(m.group(1))] = m.group(2)
            continue
        if line.startswith("Follow:") or not line.strip():
            continue
        direction = 1 if line.startswith("\t") else 0
        chunk = bytes.fromhex(line.strip())
        g = GAP_MARKER.fullmatch(chunk)
        if g:
            cur["missing"][direction] += int(g.group(1))
        else:
            cur["data"][direction] += chunk
    return streams


def follow_pass(path: str, ids: list[int]) -> tuple[str, list[list[str]]]:
    ids = ids[:MAX_STREAMS]
    cmd = ["tshark", "-n", "-q", "-r", path, *prefs_args()]
    for i in ids:
        cmd += ["-z", f"follow,tcp,raw,{i}"]
    _, out, err = run(cmd)
    parsed = parse_follow(out)
    rows = []
    for i in ids:
        s = parsed.get(i)
        if s is None:
            raise RuntimeError(f"{path}: no follow output for stream {i}\n{err}")
        c, sv = s["data"]
        rows.append([str(i), s["nodes"][0], s["nodes"][1],
                     str(len(c)), hashlib.sha256(c).hexdigest(),
                     str(len(sv)), hashlib.sha256(sv).hexdigest(),
                     str(s["missing"][0]), str(s["missing"][1])])
    return path, rows


# ---------------------------------------------------------------- writing

def write_tsv(path: Path, comments: list[str], header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for c in comments:
            fh.write("# " + c + "\n" if c else "#\n")
        fh.write("\t".join(header) + "\n")
        for r in rows:
            fh.write("\t".join(str(x) for x in r) + "\n")


README = """\
# tshark fixtures

Generated by `scripts/make-tshark-fixtures.py` (see its header for how to run it and the
exact columns); do not edit by hand. Paths are relative to the shared captures root
(`../shared/pcaps` from the repository root). {version}.

| file | captures | what |
|---|---|---|
| `packet-counts.tsv` | {n_counts} | every capture: readable by tshark, frames read, link types, notes |
| `conversations.tsv` | {n_conv} | TCP/UDP conversations (`-z conv`) and `tcp.stream` / `udp.stream` counts |
| `tcp-follow/*.tsv` | {n_follow} | per TCP stream: endpoints, byte count and SHA-256 of each direction (`-z follow,tcp,raw`) |
| `fragments.tsv` | {n_frag} | captures with IPv4/IPv6 fragments: fragment packets, datagrams reassembled |

## tshark behaviours the tests must account for (verified on tshark 4.0.17)

Reading
- A capture truncated in the middle of a record: tshark prints "appears to have been cut
  short in the middle of a packet", exits with status 2, and still dissects (and counts in
  `-z` statistics) every complete packet before the cut; capinfos reports the same count.
  Verified by truncating a copy; {n_cut} capture(s) of the shared set are cut short.
- Link types Wireshark does not support (pcap network types 164, 182, 281, 284, 285 and
  805306500 = 0x30000084, i.e. 132 with FCS bits, all in `tcpdump/pcap/`): tshark stops with "contains record data that
  TShark doesn't support", exit status 2, 0 packets: `readable=false`, `unsupported_record`.
  The engine must still read these files (it may report the packets as undecodable).
- For every other capture tshark's frame count equals capinfos' count.

Conversations (`-z conv,tcp` / `-z conv,udp`) and streams (`tcp.stream`, `udp.stream`)
- TCP: a conversation row is an address pair + port pair AND a `tcp.stream` index. tshark
  starts a new `tcp.stream` when a SYN with a new initial sequence number arrives after the
  previous connection on the same 4-tuple closed, and the conversation table splits with
  it: port reuse by a new connection gives TWO rows (verified by appending a copy of a
  capture shifted by 100 s with new ISNs). An exact replay (same ISNs) stays one stream and
  one row.
- UDP: address pair + port pair, no time split at all; `udp.stream` never splits either.
- VLAN ids are not part of the key: the same UDP 5-tuple on VLAN 10 and VLAN 20 is one
  conversation and one `udp.stream` (verified with a synthetic capture; TCP uses the same
  address/port lookup). The engine keys
  flows on VLAN too, so it may count more flows.
- Every TCP/UDP header tshark dissects counts, at every layer: the outer UDP of VXLAN,
  GTP-U or Teredo is a UDP conversation AND the inner TCP/UDP another one. VXLAN encap
  picks the outer source port per direction, so one inner TCP connection typically gives
  two outer UDP conversations (`ndpi/pcap/vxlan.pcap`: 2 TCP, 11 UDP). The engine's flow
  view is the innermost header.
- The transport header quoted inside an ICMP/ICMPv6 error gets a `tcp.stream`/`udp.stream`
  index but NO conversation row (verified: synthetic ICMP port unreachable quoting UDP;
  `ndpi/pcap/6in4tunnel.pcap` stream 0). This is why `tcp_streams` can exceed
  `tcp_conversations`.
- Some dissectors create conversations that never carry a packet (SOCKS creates one for the
  proxied connection): their stream indexes are skipped, so `max(tcp.stream)+1` overstates
  the number of streams (`ndpi/pcap/socks.pcap` has streams 0,1,3,5). The fixtures count
  distinct stream values seen in packets.
- Malformed TCP headers (tcpdump fuzz captures) can get a `tcp.stream` index but no
  conversation row (e.g. `tcpdump/pcap/beep-oobr.pcap`: 1 stream, 0 conversations).
- IP fragments: the transport header is seen once tshark has reassembled the datagram
  (default `ip.defragment:TRUE`); fragments that never complete give no TCP/UDP row.
- {n_conv_diff} captures have `tcp_conversations != tcp_streams` in this run.

TCP follow (`-z follow,tcp,raw,N`)
- Many `-z follow,tcp,raw,N` arguments in one run give the same output as one run per
  stream (verified on three captures); output blocks come in reverse order of the
  arguments, each naming its stream in `Filter: tcp.stream eq N`. A stream index without
  packets prints `Node 0: :0` / `Node 1: :0` and no data.
- `Node 0` is the source of the first packet of the stream (not necessarily the SYN sender:
  `ndpi/pcap/http_starting_with_reply.pcapng` has the server as Node 0). IPv6 nodes are
  printed `[addr]:port`.
- Each data line is the payload one segment added, in hex; lines beginning with a TAB are
  Node 1's, the others Node 0's. A stream without payload has the header and no data lines.
- Follow delivers each direction in sequence order: retransmitted bytes once
  (`arkime/pcap/wireshark-retrans.pcap`: 20888 payload bytes sent, 5222 delivered),
  segments that arrive ahead of a hole are buffered until the hole is filled (verified by
  swapping two segments of a capture: identical output). Follow does this itself: its
  output is identical with `tcp.reassemble_out_of_order` TRUE or FALSE (checked on five
  captures with out-of-order segments). The fixtures set it TRUE anyway.
- A hole that is never filled is skipped, and tshark inserts a TEXT line
  `[N bytes missing in capture file]` + NUL (hex-encoded like payload) in place of the
  missing bytes. The script recognises that exact line, leaves it out of the bytes/hash
  and reports N in `client_missing`/`server_missing`. The engine should deliver
  `Chunk::Gap(N)` there; its byte stream minus gaps must match the hash.

Fragments
- `ip.flags.mf`/`ip.frag_offset` and the IPv6 Fragment header are tested in every IP header
  of the packet, so tunnelled fragments and headers quoted in ICMP errors count as fragment
  packets. In tshark 4.0 `ipv6.fragment` is NOT the header (it is the list of frames of a
  reassembled datagram); the header is `ipv6.fraghdr`, and the reassembly field is
  `ipv6.reassembled.in` (IPv4: `ip.reassembled_in`). Both appear on the fragments only in
  a two-pass run (`tshark -2`).
{frag_obs}"""


def main() -> int:
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pcaps", type=Path, default=repo.parent / "shared" / "pcaps")
    ap.add_argument("--out", type=Path, default=repo / "pcaps" / "fixtures")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    root = args.pcaps.resolve()
    outdir = args.out.resolve()
    t0 = time.monotonic()

    cfg = tempfile.TemporaryDirectory(prefix="tshark-fixtures-cfg-")
    ENV["WIRESHARK_CONFIG_DIR"] = cfg.name
    ENV["LC_ALL"] = "C"
    os.chdir(root)

    _, vout, _ = run(["tshark", "--version"])
    version = vout.splitlines()[0].strip()
    header = [f"generated by scripts/make-tshark-fixtures.py with {version}"]

    paths = discover(root)
    log(f"{len(paths)} captures under {root}")
    ci = capinfos_table(root, paths)

    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        main = {r["path"]: r for r in pool.map(main_pass, paths)}
    log(f"main pass done in {time.monotonic() - t0:.0f}s")

    # ---- packet-counts.tsv
    rows = []
    for p in paths:
        r = main[p]
        lts = header_linktypes(root / p)
        enc, cnt = ci.get(p, ("unsupported", ""))
        if enc == "per-packet":
            names = capinfos_interfaces(p)
        else:
            names = [enc] * len(lts)
        if len(names) != len(lts):
            names = [enc] * len(lts)
        lt = ",".join(sorted({f"{n}:{e}" for n, e in zip(lts, names)},
                             key=lambda s: (int(s.split(":")[0]), s))) or "-"
        if cnt and cnt.isdigit() and int(cnt) != r["packets"] and "cut_short" not in r["notes"]:
            r["notes"].append(f"capinfos_count={cnt}")
        rows.append([p, "true" if r["readable"] else "false", r["packets"], lt,
                     ",".join(r["notes"]) or "-"])
    write_tsv(outdir / "packet-counts.tsv", header + [
        "every capture under the shared root (by magic number); packets = frames tshark read",
        "linktypes = LINKTYPE number from the file header / pcapng IDBs : wiretap encapsulation",
        "note: cut_short, unsupported_record, damaged, dissector_warning, or -",
    ], ["path", "readable", "packets", "linktypes", "note"], rows)
    unreadable = [r for r in rows if r[1] == "false"]

    # ---- conversations.tsv
    rows = [[p, main[p]["tcp_conv"], main[p]["udp_conv"], main[p]["tcp_streams"],
             main[p]["udp_streams"]] for p in paths if main[p]["packets"] > 0]
    write_tsv(outdir / "conversations.tsv", header + [
        "tshark -q -n -r FILE -z conv,tcp -z conv,udp (rows of each table), with the dissectors",
        "that create conversations of their own disabled: " + ",".join(CONVERSATION_CREATING_DISSECTORS) + ";",
        "tcp_streams/udp_streams = distinct tcp.stream / udp.stream values over all occurrences",
        "captures where tshark read no packet are omitted; see README.md for counting rules",
    ], ["path", "tcp_conversations", "udp_conversations", "tcp_streams", "udp_streams"], rows)
    n_conv = len(rows)

    # ---- fragments.tsv
    frag_paths = [p for p in paths if main[p]["v4frag"] or main[p]["v6frag"]]
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        frag = sorted(pool.map(frag_pass, frag_paths), key=lambda r: r["path"])
    rows = [[r["path"], r["v4"], r["v4r"], r["v6"], r["v6r"]] for r in frag]
    write_tsv(outdir / "fragments.tsv", header + [
        "packets with IPv4 MF=1 or offset>0, or an IPv6 Fragment header (any IP header of the packet)",
        "*_reassembled = distinct ip.reassembled_in / ipv6.reassembled.in values (tshark -2)",
    ], ["path", "ipv4_fragments", "ipv4_reassembled", "ipv6_fragments", "ipv6_reassembled"], rows)
    log(f"fragments done in {time.monotonic() - t0:.0f}s")

    # ---- tcp-follow
    chosen: dict[str, str] = {}
    for p, reason in FOLLOW_CURATED:
        if p not in main:
            log(f"warning: curated capture missing: {p}")
        elif main[p]["tcp_streams"] <= 0:
            log(f"warning: curated capture has no TCP stream: {p}")
        else:
            chosen[p] = reason
    auto = []
    for p in paths:
        r = main[p]
        if p in chosen or not r["readable"] or r["tcp_streams"] <= 0:
            continue
        if (root / p).stat().st_size > AUTO_MAX_BYTES:
            continue
        tags = [t for t, k in (("retransmissions", "retrans"), ("out-of-order", "ooo"),
                               ("lost segments", "lost")) if r[k]]
        if tags:
            auto.append((p, ", ".join(tags)))
    # deterministic spread over the whole tree: every k-th of the sorted candidates
    if len(auto) > AUTO_MAX_COUNT:
        step = len(auto) / AUTO_MAX_COUNT
        auto = [auto[int(i * step)] for i in range(AUTO_MAX_COUNT)]
    for p, reason in auto:
        chosen[p] = reason
    for p in chosen:
        r = main[p]
        extra = [t for t, k in (("retransmissions", "retrans"), ("out-of-order", "ooo"),
                                ("lost segments", "lost")) if r[k] and t not in chosen[p]]
        if extra:
            chosen[p] += " (" + ", ".join(extra) + ")"
    follow_dir = outdir / "tcp-follow"
    if follow_dir.exists():
        for old in follow_dir.glob("*.tsv"):
            old.unlink()
    todo = sorted(chosen)
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = dict(pool.map(lambda p: follow_pass(p, main[p]["tcp_ids"]), todo))
    for p in todo:
        write_tsv(follow_dir / (p.replace("/", "__") + ".tsv"), header + [
            f"capture: {p}",
            "tshark -n -q -r FILE " + " ".join("-o " + x for x in TCP_PREFS)
            + " -z follow,tcp,raw,N (N = the first %d tcp.stream values seen)" % MAX_STREAMS,
            "client = Node 0 (source of the stream's first packet), server = Node 1;",
            "bytes = concatenated payload of that direction (TAB-prefixed lines = Node 1),",
            "excluding tshark's gap markers; *_missing = bytes tshark reported missing (gaps)",
        ], ["stream", "client", "server", "client_bytes", "client_sha256", "server_bytes",
            "server_sha256", "client_missing", "server_missing"], results[p])
    write_tsv(follow_dir / "INDEX.tsv", header + [
        "captures with a tcp-follow/<path with / as __>.tsv file",
        "tcp_streams = distinct tcp.stream values in packets;",
        f"streams_followed = min(tcp_streams, {MAX_STREAMS})",
    ], ["path", "tcp_streams", "streams_followed", "reason"],
        [[p, main[p]["tcp_streams"], min(main[p]["tcp_streams"], MAX_STREAMS), chosen[p]]
         for p in todo])
    log(f"tcp-follow done in {time.monotonic() - t0:.0f}s")

    n_conv_diff = sum(1 for p in paths
                      if main[p]["packets"] and main[p]["tcp_conv"] != main[p]["tcp_streams"])
    readme = README.format(version=version, n_counts=len(paths), n_conv=n_conv,
                           n_follow=len(todo), n_frag=len(frag), n_conv_diff=n_conv_diff,
                           n_cut=sum(1 for p in paths if "cut_short" in main[p]["notes"]),
                           frag_obs="")
    if unreadable:
        readme += "\n## Captures tshark cannot read completely\n\n"
        for r in unreadable:
            readme += f"- `{r[0]}`: {r[4]}, {r[2]} packets read\n"
    (outdir / "README.md").write_text(readme, encoding="utf-8")
    log(f"total {time.monotonic() - t0:.0f}s")
    cfg.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
