#!/usr/bin/env bash
# The seed scenario on one machine: three clusters, east (ID 1), west (ID 2) and north (ID 3),
# each with an agent, its own kvstore and two demo backends answering with their cluster name,
# joined into a mesh with one `interlink connect`. Every store is served over mutual TLS with
# certificates from `interlink certs` (a mesh CA, and per cluster a server certificate for its
# store and a client certificate of CN remote for reading the others).
#
#   ./examples/mesh.sh            # each agent serves its own embedded store (the default)
#   ./examples/mesh.sh etcd       # each cluster gets a real etcd (apt-get install -y etcd-server)
#
# Then, in another terminal:
#   for i in $(seq 6); do curl -s http://127.0.1.10:8080/; done   # east: affinity local → east only
#   for i in $(seq 6); do curl -s http://127.0.2.10:8080/; done   # west: affinity none → all clusters
#   pkill -f 'name east-'                                          # east's backends die...
#   for i in $(seq 6); do curl -s http://127.0.1.10:8080/; done   # ...east fails over, no error
#   curl -s http://127.0.1.1:9876/v1/clusters                      # east's view of the mesh
#   ETCDCTL_API=3 etcdctl --endpoints https://127.0.1.1:9877 --cacert $CERTS/east/ca.crt \
#     --cert $CERTS/east/client.crt --key $CERTS/east/client.key get --prefix cilium/ --keys-only
#                                                                  # east's store, as a remote reads it
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-embedded}"
case "$mode" in embedded|etcd) ;; *) echo "usage: $0 [embedded|etcd]" >&2; exit 64 ;; esac
if [ "$mode" = etcd ]; then command -v etcd >/dev/null || { echo "etcd is missing: apt-get install -y etcd-server" >&2; exit 1; }; fi
# INTERLINK_BIN=PATH uses a binary already built (e.g. by `swift test`) instead of building one.
if [ -z "${INTERLINK_BIN:-}" ]; then swift build --product interlink; fi
bin="${INTERLINK_BIN:-$(swift build --show-bin-path)/interlink}"
work="$(mktemp -d)"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
clusters=(east west north)
certs="$work/certs"
"$bin" certs init --dir "$certs" >/dev/null
for i in 1 2 3; do "$bin" certs issue --dir "$certs" --cluster "${clusters[$((i - 1))]}" --ip "127.0.$i.1" >/dev/null; done
for i in 1 2 3; do
  c="${clusters[$((i - 1))]}"
  tls=("$certs/$c/server.crt" "$certs/$c/server.key" "$certs/$c/ca.crt")
  for b in 1 2; do "$bin" backend --listen "127.0.$i.1$b:9000" --name "$c-$b" --cluster "$c" & pids+=($!); done
  store=(--data-dir "$work/$c" --mesh-listen "127.0.$i.1:9877" --mesh-tls-dir "$certs/$c")
  if [ "$mode" = etcd ]; then
    etcd --name "$c" --data-dir "$work/etcd-$c" --log-level error \
      --cert-file "${tls[0]}" --key-file "${tls[1]}" --trusted-ca-file "${tls[2]}" --client-cert-auth \
      --listen-client-urls "https://127.0.$i.1:2379" --advertise-client-urls "https://127.0.$i.1:2379" \
      --listen-peer-urls "http://127.0.$i.1:2380" --initial-advertise-peer-urls "http://127.0.$i.1:2380" \
      --initial-cluster "$c=http://127.0.$i.1:2380" &
    pids+=($!)
    # The agent writes its etcd as CN <cluster> (admin.crt); peers read it as CN remote.
    store=(--data-dir "$work/$c" --kvstore etcd --kvstore-endpoints "https://127.0.$i.1:2379" --mesh-tls-dir "$certs/$c"
      --kvstore-trusted-ca-file "${tls[2]}" --kvstore-cert-file "$certs/$c/admin.crt" --kvstore-key-file "$certs/$c/admin.key")
  fi
  "$bin" agent --cluster-name "$c" --cluster-id "$i" --manifests "examples/mesh/$c.yaml" \
    --api-listen "127.0.$i.1:9876" "${store[@]}" --log-level warning &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 100); do curl -sf "http://127.0.$i.1:9876/healthz" >/dev/null && break; sleep 0.1; done
done
"$bin" connect http://127.0.1.1:9876 http://127.0.2.1:9876 http://127.0.3.1:9876
echo "certificates: CERTS=$certs (stores at https://127.0.N.1:9877, or :2379 with etcd; mutual TLS)"
echo "east:  http://127.0.1.10:8080 (affinity local; API http://127.0.1.1:9876)"
echo "west:  http://127.0.2.10:8080 (affinity none;  API http://127.0.2.1:9876)"
echo "north: http://127.0.3.10:8080 (affinity none;  API http://127.0.3.1:9876)"
wait
