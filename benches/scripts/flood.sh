#!/usr/bin/env bash
# A flood of distinct flows (default one million) against the flow table's caps: prints the
# flow counters and the peak resident memory, once with the default caps and once with small
# ones, so the effect of the caps on memory is visible.
#
#   benches/scripts/flood.sh [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
n=${1:-1000000}
capture=benches/out/flood-$n.pcap
mkdir -p benches/out
[ -s "$capture" ] || python3 benches/scripts/make-flood-pcap.py "$capture" "$n"
cargo build --release -q -p ids-cli
for caps in "" "--max-flows 100000 --flow-memcap 67108864"; do
  echo "== ids -r $capture -z 1 $caps"
  # shellcheck disable=SC2086
  /usr/bin/time -f "peak_rss_kib: %M" "${CARGO_TARGET_DIR:-target}/release/ids" -r "$capture" -z 1 $caps 2>&1 \
    | grep -E 'packets:|^ +total:|tcp:|evicted|peak_|peak_rss|seconds'
done
