#!/usr/bin/env bash
# Benchmark Interlink against HAProxy and a direct connection (see BENCHMARKS.md).
# Installs the peers from Debian if missing, builds Interlink in release mode, runs scripts/bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for tool in haproxy nginx wrk iperf3 strace; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy nginx-light wrk iperf3 strace linux-perf
fi
swift build -c release --product interlink
ulimit -n "$(ulimit -Hn)"
exec python3 scripts/bench.py --interlink "$(swift build -c release --show-bin-path)/interlink" "$@"
