#!/usr/bin/env python3
"""Prints the byte-surprise table of engine/detect/src/gram.rs.

For every classic Ethernet pcap in ../shared/pcaps/ndpi/pcap, the TCP and UDP payload bytes of
IPv4 packets are counted after ASCII case folding (the gram scanner folds case); each capture's
histogram is normalised so that no single large capture dominates, the histograms are averaged,
smoothed, and each byte's surprise -log2(p) is printed in sixteenths of a bit (capped at 255).

    python3 scripts/byte-surprise.py [PCAP_DIR]
"""
import glob
import math
import struct
import sys

pcap_dir = sys.argv[1] if len(sys.argv) > 1 else "../shared/pcaps/ndpi/pcap"
acc = [0.0] * 256
captures = 0
for path in sorted(glob.glob(pcap_dir + "/*.pcap")):
    data = open(path, "rb").read()
    if len(data) < 24:
        continue
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif data[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        continue
    if struct.unpack(endian + "I", data[20:24])[0] != 1:
        continue
    counts = [0] * 256
    i = 24
    while i + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[i + 8 : i + 12])[0]
        pkt = data[i + 16 : i + 16 + caplen]
        i += 16 + caplen
        if len(pkt) < 34 or pkt[12:14] != b"\x08\x00":
            continue
        off = 14 + (pkt[14] & 15) * 4
        proto = pkt[23]
        if proto == 6 and len(pkt) >= off + 20:
            off += (pkt[off + 12] >> 4) * 4
        elif proto == 17:
            off += 8
        else:
            continue
        for b in pkt[off:]:
            counts[b + 32 if 65 <= b <= 90 else b] += 1
    total = sum(counts)
    if total:
        captures += 1
        for b in range(256):
            acc[b] += counts[b] / total
p = [(a / captures) * 0.999 + 0.001 / 256 for a in acc]
table = [min(255, round(-math.log2(x) * 16)) for x in p]
print(f"// {captures} captures")
for row in range(0, 256, 16):
    print("    " + ", ".join(f"{v:3}" for v in table[row : row + 16]) + ",")
