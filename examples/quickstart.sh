#!/usr/bin/env bash
# Runs the single-cluster example: three demo backends and an agent in front of them.
#   ./examples/quickstart.sh            then, in another terminal:
#   for i in $(seq 9); do curl -s http://127.0.0.10:8080/; done
#   curl -s http://127.0.0.1:9876/v1/services
# Ctrl-C stops everything (the agent drains open connections first).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product interlink
bin="$(swift build --show-bin-path)/interlink"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
for b in a b c; do
  case $b in a) ip=127.0.0.11;; b) ip=127.0.0.12;; c) ip=127.0.0.13;; esac
  "$bin" backend --listen "$ip:9000" --name "echo-$b" --cluster default &
  pids+=($!)
done
echo "Try: for i in \$(seq 9); do curl -s http://127.0.0.10:8080/; done"
echo "     curl -s http://127.0.0.1:9876/v1/services"
"$bin" agent --cluster-name default --cluster-id 1 --manifests examples/single-cluster "$@"
