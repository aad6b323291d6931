#!/usr/bin/env bash
# Two clusters, east and west, each with its own etcd, two demo backends and an agent,
# connected into a mesh. Needs etcd (apt-get install -y etcd-server). Then, in another terminal:
#   for i in $(seq 6); do curl -s http://127.0.1.10:8080/; done     # east: affinity local → east
#   pkill -f 'name east-'                                            # east's backends die...
#   for i in $(seq 6); do curl -s http://127.0.1.10:8080/; done     # ...east fails over to west
#   curl -s http://127.0.0.1:9876/v1/services                        # east's view, with clusters
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v etcd >/dev/null || { echo "etcd is missing: apt-get install -y etcd-server" >&2; exit 1; }
swift build --product interlink
bin="$(swift build --show-bin-path)/interlink"
work="$(mktemp -d)"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
start_etcd() { # name client-port peer-port
  etcd --name "$1" --data-dir "$work/$1" --log-level error \
    --listen-client-urls "http://127.0.0.1:$2" --advertise-client-urls "http://127.0.0.1:$2" \
    --listen-peer-urls "http://127.0.0.1:$3" --initial-advertise-peer-urls "http://127.0.0.1:$3" \
    --initial-cluster "$1=http://127.0.0.1:$3" &
  pids+=($!)
}
start_etcd east 23790 23791
start_etcd west 23792 23793
for n in 1 2; do
  c=$([ $n = 1 ] && echo east || echo west)
  for b in 1 2; do "$bin" backend --listen "127.0.$n.1$b:9000" --name "$c-$b" --cluster "$c" & pids+=($!); done
done
sleep 2
"$bin" agent --cluster-name east --cluster-id 1 --manifests examples/two-clusters/east --api-listen 127.0.0.1:9876 \
  --kvstore etcd --kvstore-endpoints http://127.0.0.1:23790 --clustermesh-config examples/two-clusters/east-mesh &
pids+=($!)
"$bin" agent --cluster-name west --cluster-id 2 --manifests examples/two-clusters/west --api-listen 127.0.0.1:9877 \
  --kvstore etcd --kvstore-endpoints http://127.0.0.1:23792 --clustermesh-config examples/two-clusters/west-mesh &
pids+=($!)
echo "east: http://127.0.1.10:8080 (API :9876), west: http://127.0.2.10:8080 (API :9877)"
wait
