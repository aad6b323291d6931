#!/usr/bin/env bash
# Benchmark Interlink against HAProxy and a direct connection (see BENCHMARKS.md).
# Installs the peers from Debian if missing, builds Interlink in release mode, runs scripts/bench.py
# (TCP, against HAProxy) and scripts/bench_udp.py (UDP, against nginx's stream module).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for tool in haproxy nginx wrk iperf3 strace perf; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy nginx-light libnginx-mod-stream wrk iperf3 strace linux-perf
fi
swift build -c release --product interlink
ulimit -n "$(ulimit -Hn)"
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnginx-mod-stream
bin="$(swift build -c release --show-bin-path)/interlink"
python3 scripts/bench.py --interlink "$bin" "$@"
# UDP: against nginx's stream module (HAProxy has no UDP proxy).
python3 scripts/bench_udp.py --interlink "$bin"
