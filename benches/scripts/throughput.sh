#!/usr/bin/env bash
# End-to-end throughput of `ids -r` on a capture, per worker count.
#
#   benches/scripts/throughput.sh [CAPTURE] [WORKERS...] [-- extra ids flags]
#
# Without CAPTURE it builds the shared benchmark capture (benches/out/bench.pcap) with
# ../shared/bench/make-bench-pcap.py from the nDPI captures, 10 repetitions, as the issues
# quote Snort 3's and Suricata's figures for. Prints packets/s, Mbit/s, wall seconds and peak
# resident memory for each worker count (default: 1 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
capture=${1:-}
shift || true
workers=()
extra=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; extra=("$@"); break; fi
  workers+=("$1"); shift
done
[ ${#workers[@]} -gt 0 ] || workers=(1 2)
if [ -z "$capture" ]; then
  capture=benches/out/bench.pcap
  if [ ! -s "$capture" ]; then
    mkdir -p benches/out
    python3 ../shared/bench/make-bench-pcap.py "$capture" 10 ../shared/pcaps/ndpi/pcap/*.pcap 2>/dev/null
  fi
fi
cargo build --release -q -p ids-cli
bin=${CARGO_TARGET_DIR:-target}/release/ids
printf '%-8s %12s %10s %10s %12s\n' workers packets/s Mbit/s seconds peak_rss_MiB
for z in "${workers[@]}"; do
  out=$( { /usr/bin/time -f 'RSS %M' "$bin" -r "$capture" -z "$z" -k none "${extra[@]}" ; } 2>&1 )
  pps=$(awk -F': ' '/packets_per_second/ {print $2}' <<<"$out")
  mbps=$(awk -F': ' '/mbits_per_second/ {print $2}' <<<"$out")
  secs=$(awk -F': ' '/ seconds:/ {print $2}' <<<"$out")
  rss=$(awk '/^RSS/ {printf "%.1f", $2/1024}' <<<"$out")
  printf '%-8s %12s %10s %10s %12s\n' "$z" "$pps" "$mbps" "$secs" "$rss"
done
