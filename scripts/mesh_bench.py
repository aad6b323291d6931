#!/usr/bin/env python3
"""Cluster mesh benchmark for Interlink (method and results in BENCHMARKS.md).

propagation: two clusters, east and west, connected. A backend of east's global service is
  switched on and off (a listening socket opened and closed) under fast active checks
  (50 ms, rise 1, fall 1). For each change, t0 is east's health event and t1 is west's
  remote-update event for that service (both from GET /v1/events, recorded by the agents
  when they apply the change to their routing). Latency = t1 - t0: export to the store,
  watch delivery, validation, merge and route publication.
scale: one agent with 100 global services follows 254 remote clusters (IDs 2-255; with the
  local one, the 255 IDs the mesh allows), each exporting those 100 services with 20
  backends, written straight into one store (an embedded store, or etcd) by this script over
  etcd's gRPC protocol (Txn and Put, with grpcio: pip install grpcio).
  Measures the time until every cluster is synced, the agent's resident memory, and the
  latency and CPU of one update once synced.
"""
import argparse
import base64, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.request

def b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()

def http(url, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"{}")

def free_port(ip="127.0.0.1"):
    s = socket.socket(); s.bind((ip, 0)); port = s.getsockname()[1]; s.close(); return port

def wait_for(condition, timeout, interval=0.005):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = condition()
            if value: return value
        except Exception:
            pass
        time.sleep(interval)
    raise TimeoutError("condition not met within %ss" % timeout)

class Procs:
    def __init__(self): self.procs = []
    def start(self, args, **kw):
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)
        self.procs.append(p); return p
    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None: p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try: p.wait(timeout=15)
            except subprocess.TimeoutExpired: p.kill()
        self.procs = []

def start_etcd(procs, work, name, ip):
    client, peer = free_port(ip), free_port(ip)
    url = "http://%s:%d" % (ip, client)
    procs.start(["etcd", "--name", name, "--data-dir", os.path.join(work, "etcd-" + name), "--log-level", "error",
                 "--listen-client-urls", url, "--advertise-client-urls", url,
                 "--listen-peer-urls", "http://%s:%d" % (ip, peer), "--initial-advertise-peer-urls", "http://%s:%d" % (ip, peer),
                 "--initial-cluster", "%s=http://%s:%d" % (name, ip, peer), "--quota-backend-bytes", str(4 << 30)])
    wait_for(lambda: http(url + "/v3/kv/range", {"key": b64("x")}), 20, 0.1)
    return url

def service_yaml(name, cluster_ip, port, backends, annotations):
    notes = "\n".join('    %s: "%s"' % kv for kv in sorted(annotations.items()))
    endpoints = "\n".join('  - addresses: ["%s"]' % ip for ip in backends)
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  annotations:
{notes}
spec:
  clusterIP: {cluster_ip}
  ports:
    - name: tcp
      port: {port}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}-1
  labels:
    kubernetes.io/service-name: {name}
addressType: IPv4
endpoints:
{endpoints}
ports:
  - name: tcp
    port: 9000
"""

def start_agent(procs, binary, work, name, cid, subnet, manifests, mode, etcd_url=None, extra=()):
    api = "127.0.%d.1:%d" % (subnet, free_port("127.0.%d.1" % subnet))
    mesh = "127.0.%d.1:%d" % (subnet, free_port("127.0.%d.1" % subnet))
    args = [binary, "agent", "--cluster-name", name, "--cluster-id", str(cid), "--manifests", manifests,
            "--api-listen", api, "--data-dir", os.path.join(work, "data-" + name), "--log-level", "error"]
    args += ["--kvstore", "etcd", "--kvstore-endpoints", etcd_url] if mode == "etcd" else ["--mesh-listen", mesh]
    p = procs.start(args + list(extra))
    wait_for(lambda: urllib.request.urlopen("http://%s/healthz" % api, timeout=2).status == 200, 30, 0.05)
    return p, "http://" + api, (etcd_url if mode == "etcd" else "http://" + mesh)

class Listener:
    """A TCP backend that accepts and closes every connection (enough for TCP health checks),
    until close()."""
    def __init__(self, ip, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(256)
        self.sock.settimeout(0.05)
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
    def serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
                conn.close()
            except (socket.timeout, OSError):
                pass
    def close(self):
        self.running = False
        self.thread.join()  # the socket stays referenced while a poll on it is pending
        self.sock.close()

def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n: return bytes(out)

def _field(number, data):
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(data)) + data

class StoreWriter:
    """Writes keys into an etcd or an embedded store over etcd's gRPC protocol: PutRequest
    {key = 1, value = 2}, TxnRequest {success = 2: RequestOp {request_put = 2}}, encoded here
    from etcd's rpc.proto field numbers."""
    def __init__(self, url):
        import grpc
        self.channel = grpc.insecure_channel(url.split("://", 1)[1], options=[("grpc.max_send_message_length", 64 << 20)])
        self.txn = self.channel.unary_unary("/etcdserverpb.KV/Txn")
        self.put_rpc = self.channel.unary_unary("/etcdserverpb.KV/Put")
    def put_all(self, pairs):
        self.txn(b"".join(_field(2, _field(2, _field(1, k.encode()) + _field(2, v.encode()))) for k, v in pairs), timeout=60)
    def put(self, key, value):
        self.put_rpc(_field(1, key.encode()) + _field(2, value.encode()), timeout=10)
    def close(self):
        self.channel.close()

def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

def propagation(binary, mode, changes):
    work = tempfile.mkdtemp(prefix="interlink-prop-")
    procs = Procs()
    try:
        notes = {"service.cilium.io/global": "true", "interlink.io/health-check-interval": "50ms",
                 "interlink.io/health-check-rise": "1", "interlink.io/health-check-fall": "1"}
        for name, subnet in (("east", 81), ("west", 82)):
            os.makedirs(os.path.join(work, name))
            with open(os.path.join(work, name, "echo.yaml"), "w") as f:
                f.write(service_yaml("echo", "127.0.%d.10" % subnet, 8080, ["127.0.%d.11" % subnet, "127.0.%d.12" % subnet], notes))
        # east's second backend and west's backends stay up; east's first one is switched.
        keep = [Listener(ip, 9000) for ip in ("127.0.81.12", "127.0.82.11", "127.0.82.12")]
        etcd = {n: (start_etcd(procs, work, n, "127.0.%d.1" % sub) if mode == "etcd" else None) for n, sub in (("east", 81), ("west", 82))}
        east, east_api, east_store = start_agent(procs, binary, work, "east", 1, 81, os.path.join(work, "east"), mode, etcd["east"])
        west, west_api, west_store = start_agent(procs, binary, work, "west", 2, 82, os.path.join(work, "west"), mode, etcd["west"])
        subprocess.run([binary, "connect", "--timeout", "30s", east_api, west_api], check=True, stdout=subprocess.DEVNULL)
        last = {"east": 0, "west": 0}
        def events(api, who):
            found = http(api + "/v1/events?since=%d" % last[who])["events"]
            if found: last[who] = found[-1]["sequence"]
            return found
        switched = None
        def set_up(up):
            nonlocal switched
            if up:
                switched = Listener("127.0.81.11", 9000)
            elif switched:
                switched.close(); switched = None
        set_up(True)
        time.sleep(1.0)
        events(east_api, "east"); events(west_api, "west")
        latencies = []
        up = True
        for i in range(changes):
            up = not up
            set_up(up)
            t0 = wait_for(lambda: next((e["timestamp"] for e in events(east_api, "east")
                                        if e["kind"] == "health" and e.get("backend") == "127.0.81.11:9000"), None), 10, 0.002)
            offers = "east now offers %d backends" % (2 if up else 1)
            t1 = wait_for(lambda: next((e["timestamp"] for e in events(west_api, "west")
                                        if e["kind"] == "remote-update" and e["detail"].startswith(offers)), None), 10, 0.002)
            latencies.append((t1 - t0) * 1000)
            time.sleep(0.02)
        return {"mode": mode, "changes": len(latencies), "p50_ms": round(statistics.median(latencies), 2),
                "p90_ms": round(percentile(latencies, 90), 2), "p99_ms": round(percentile(latencies, 99), 2),
                "max_ms": round(max(latencies), 2), "min_ms": round(min(latencies), 2)}
    finally:
        procs.stop()
        for listener in locals().get("keep", []): listener.close()
        if locals().get("switched"): switched.close()
        shutil.rmtree(work, ignore_errors=True)

def cluster_service(cluster, cid, service, backends):
    return json.dumps({"cluster": cluster, "clusterID": cid, "namespace": "default", "name": service,
                       "includeExternal": True, "shared": True,
                       "backends": {ip: {"tcp": {"Protocol": "TCP", "Port": 9000}} for ip in backends},
                       "frontends": {}, "labels": {}, "selector": {}}, sort_keys=True)

def rss_kib(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

def scale(binary, mode, clusters, services, backends):
    work = tempfile.mkdtemp(prefix="interlink-scale-")
    procs = Procs()
    try:
        # The store every simulated cluster "writes": one etcd, or one agent's embedded store opened for writes.
        if mode == "etcd":
            store = start_etcd(procs, work, "sim", "127.0.91.1")
        else:
            os.makedirs(os.path.join(work, "holder"))
            with open(os.path.join(work, "holder", "placeholder.yaml"), "w") as f:
                f.write(service_yaml("placeholder", "127.0.91.10", 8080, ["127.0.91.11"], {"interlink.io/health-check": "none"}))
            _, _, store = start_agent(procs, binary, work, "holder", 1, 91, os.path.join(work, "holder"), "embedded",
                                      extra=["--mesh-allow-writes", "--kvstore", "embedded"])
        started = time.time()
        writer = StoreWriter(store)
        for k in range(clusters):
            name, cid = "sim%d" % (k + 2), k + 2
            ops = [("cilium/cluster-config/" + name, json.dumps({"id": cid, "capabilities": {"syncedCanaries": True, "maxConnectedClusters": 255}}))]
            for s in range(services):
                ips = ["127.%d.%d.%d" % (cid, s, b + 1) for b in range(backends)]
                ops.append(("cilium/state/services/v1/%s/default/svc%d" % (name, s), cluster_service(name, cid, "svc%d" % s, ips)))
            ops.append(("cilium/synced/%s/cilium/state/services/v1" % name, "2026-01-01T00:00:00Z"))
            for chunk in range(0, len(ops), 100):  # etcd's default --max-txn-ops is 128
                writer.put_all(ops[chunk:chunk + 100])
        write_seconds = time.time() - started
        # The agent under test: the same 100 services, global, each with one local backend.
        manifests = os.path.join(work, "local")
        os.makedirs(manifests)
        with open(os.path.join(manifests, "services.yaml"), "w") as f:
            f.write("\n---\n".join(service_yaml("svc%d" % s, "127.0.92.10", 10000 + s, ["127.0.92.%d" % (11 + s)],
                                                {"service.cilium.io/global": "true", "interlink.io/health-check": "none"})
                                   for s in range(services)))
        mesh_dir = os.path.join(work, "clustermesh")
        os.makedirs(mesh_dir)
        for k in range(clusters):
            with open(os.path.join(mesh_dir, "sim%d" % (k + 2)), "w") as f:
                f.write("endpoints:\n  - %s\n" % store)
        t = time.time()
        agent, api, _ = start_agent(procs, binary, work, "local", 1, 92, manifests, "embedded", extra=["--clustermesh-config", mesh_dir])
        expected = services * backends
        progress = {"failures": 0, "timeline": []}
        def synced():
            document = http(api + "/v1/clusters", timeout=30)
            done = [r for r in document["remotes"] if r["connected"] and r["services"] == services and r["backends"] == expected]
            progress["failures"] = sum(r["failures"] for r in document["remotes"])
            progress["timeline"].append((round(time.time() - t, 1), len(done), document["local"]["remoteBackendsRouted"],
                                         sorted({(r.get("lastError") or r.get("problem") or "")[:80] for r in document["remotes"]} - {""})))
            # Synced = every cluster listed, and every remote backend in the routes new connections use.
            return len(done) == clusters and document["local"]["remoteBackendsRouted"] == clusters * services * backends
        wait_for(synced, 300, 0.1)
        sync_seconds = time.time() - t
        if os.environ.get("MESH_BENCH_TRACE"):
            for entry in progress["timeline"]: print("  trace", entry, file=sys.stderr)
        time.sleep(2)
        rss, peak = rss_kib(agent.pid)
        # One update: one backend of one service of one cluster changes.
        last = http(api + "/v1/events?since=0")["events"]
        since = last[-1]["sequence"] if last else 0
        cpu0 = cpu_seconds(agent.pid)
        ips = ["127.2.7.%d" % (b + 1) for b in range(backends - 1)] + ["127.2.7.250"]
        t = time.time()
        writer.put("cilium/state/services/v1/sim2/default/svc7", cluster_service("sim2", 2, "svc7", ips))
        event = wait_for(lambda: next((e for e in http(api + "/v1/events?since=%d" % since)["events"]
                                       if e["kind"] == "remote-update" and e.get("service") == "default/svc7"), None), 30, 0.002)
        update_ms = (event["timestamp"] - t) * 1000
        time.sleep(1)
        cpu_update = cpu_seconds(agent.pid) - cpu0
        # Prometheus scrapes: the first registers every service × cluster series, later ones update them.
        scrapes = []
        for _ in range(2):
            t = time.time()
            with urllib.request.urlopen(api + "/metrics", timeout=120) as response:
                size = len(response.read())
            scrapes.append(round(time.time() - t, 2))
        return {"mode": mode, "clusters": clusters, "services": services, "backends_per_service": backends,
                "remote_backends": clusters * services * backends, "write_seconds": round(write_seconds, 1),
                "sync_seconds": round(sync_seconds, 2), "failed_attempts_during_sync": progress["failures"], "rss_mib": round(rss / 1024, 1), "peak_rss_mib": round(peak / 1024, 1),
                "update_ms": round(update_ms, 2), "update_cpu_ms_incl_1s_idle": round(cpu_update * 1000, 1),
                "metrics_scrape_seconds": scrapes, "metrics_bytes": size}
    finally:
        procs.stop()
        shutil.rmtree(work, ignore_errors=True)

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interlink", required=True)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--clusters", type=int, default=254)
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--backends", type=int, default=20)
    parser.add_argument("--modes", default="embedded,etcd")
    parser.add_argument("--only", choices=["propagation", "scale"])
    args = parser.parse_args()
    results = []
    for mode in args.modes.split(","):
        if args.only != "scale":
            results.append(("propagation", propagation(args.interlink, mode, args.changes)))
            print(json.dumps(results[-1]), flush=True)
        if args.only != "propagation":
            results.append(("scale", scale(args.interlink, mode, args.clusters, args.services, args.backends)))
            print(json.dumps(results[-1]), flush=True)

if __name__ == "__main__":
    main()
