#!/usr/bin/env python3
"""Write a capture of N distinct flows (default one million): one TCP SYN per flow, each from a
different source address and port, 1 microsecond apart. Used to check that the flow table stays
under its caps under a flood (benches/scripts/flood.sh).

    make-flood-pcap.py OUT.pcap [N]
"""
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    eth = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb" + b"\x08\x00"
    dst = bytes([198, 51, 100, 1])
    t = 1_700_000_000 * 1_000_000
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            src = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
            sport = 1024 + (i % 60000)
            tcp = struct.pack("!HHIIBBHHH", sport, 80, i, 0, 5 << 4, 0x02, 65535, 0, 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
            pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
            tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
            frame = eth + ip + tcp
            f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(frame), len(frame)))
            f.write(frame)
            t += 1
    print(f"{out}: {n} flows")


if __name__ == "__main__":
    main()
