#!/usr/bin/env bash
# A bounded cargo-fuzz run of the whole packet engine (benches/fuzz, target `engine`), seeded
# from the tcpdump regression captures.
#
#   benches/scripts/fuzz.sh [SECONDS]   (default 300)
#
# cargo-fuzz needs nightly compiler flags; on a stable toolchain RUSTC_BOOTSTRAP=1 enables them.
# Crashes land in benches/fuzz/artifacts/engine/; add each one as a regression case.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-300}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
corpus="$root/benches/fuzz/corpus/engine"
mkdir -p "$corpus"
if [ -z "$(ls -A "$corpus")" ]; then
  find "$root/../shared/pcaps/tcpdump" -name '*.pcap' -size -64k -exec cp {} "$corpus/" \;
fi
cd "$root/benches/fuzz"
RUSTC_BOOTSTRAP=1 cargo fuzz run engine "$corpus" -- -max_total_time="$secs" -rss_limit_mb=4096 -max_len=262144
