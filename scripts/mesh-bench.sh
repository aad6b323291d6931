#!/usr/bin/env bash
# Cluster mesh benchmark (see BENCHMARKS.md): propagation latency of a health change from one
# cluster to another's routing, and one agent following 254 remote clusters × 100 services ×
# 20 backends. Runs with the embedded stores and with etcd. Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v etcd >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server; }
# The scale run writes the stores over etcd's gRPC protocol with grpcio (PyPI).
python3 -c 'import grpc' 2>/dev/null || pip install --quiet grpcio
swift build -c release --product interlink
ulimit -n "$(ulimit -Hn)"
exec python3 scripts/mesh_bench.py --interlink "$(swift build -c release --show-bin-path)/interlink" "$@"
