#!/usr/bin/env python3
"""Fault probes for Interlink (results in RELIABILITY.md). Run as root: it makes its own hosts.

Three clusters, east, west and north, each in its own network namespace (ilf-east, ...) with
one veth pair to a hub namespace (ilf-hub) that bridges them: 10.77.0.0/24, inside these
namespaces only (nothing leaves the machine). Each cluster runs an agent with its embedded
store and two demo backends; a global service `echo` (affinity none) in each; the three are
connected with `interlink connect`. Then, one probe after another:

  partition  north's link drops every packet both ways while a client in east opens a
             connection every 20 ms: after the first ejection no client connection fails, and
             east's status shows north unreachable. The link is healed and north comes back.
             (The drop is tc's `blackhole` qdisc on both ends of north's veth: `netem loss 100%`
             does the same where the kernel has sch_netem; this one does not.)
  delay      200 ms each way between the clusters' stores (so 400 ms a round trip): a change in
             east (a backend drained) still reaches west and north; how long it took. Without
             sch_netem the delay is added by a relay in the hub namespace that holds every
             chunk 200 ms in each direction; the clusters are pointed at the relays.
  sigkill    east's agent is killed with SIGKILL while a client makes live changes; each change
             the API acknowledged is still there after the restart.
  etcd       west moves to a 3-member etcd (all in ilf-west); one member is killed: west keeps
             exporting (a change reaches east) and east keeps following west.
  soak       10,000 concurrent connections through east's agent with churn (each lives 2-10 s,
             then a new one takes its place) for 60 s: no error, and the agent's descriptors
             and RSS are back at their baseline afterwards.

  sudo scripts/faults.py [--binary PATH] [--probes partition,delay,...] [--soak-connections N]

Everything it made (namespaces, processes, files) is removed at the end, also on Ctrl-C.
"""
import argparse, asyncio, json, os, random, resource, shutil, signal, subprocess, sys, tempfile, threading, time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mesh_bench import service_yaml, wait_for  # noqa: E402

CLUSTERS = ["east", "west", "north"]
TOKEN = "fault-probe-token"


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True).stdout


def ns(name, *args, check=True):
    return sh("ip", "netns", "exec", "ilf-" + name, *args, check=check)


class Cluster:
    def __init__(self, name, index, work, binary):
        self.name, self.index, self.binary = name, index, binary
        self.ip = "10.77.0.%d" % (10 * index)
        self.backend_ips = ["10.77.0.%d" % (10 * index + 1), "10.77.0.%d" % (10 * index + 2)]
        self.frontend = "10.77.0.%d" % (10 * index + 5)
        self.api = "http://%s:9876" % self.ip
        self.store = "http://%s:9877" % self.ip
        self.work = os.path.join(work, name)
        self.manifests = os.path.join(self.work, "manifests")
        os.makedirs(self.manifests)
        self.agent = None
        self.backends = []
        self.kvstore = ["--mesh-listen", "%s:9877" % self.ip]

    def popen(self, args, **kw):
        return subprocess.Popen(["ip", "netns", "exec", "ilf-" + self.name] + args,
                                stdout=subprocess.DEVNULL, stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)

    def write_manifest(self):
        yaml = service_yaml("echo", self.frontend, 8080, self.backend_ips, {
            "service.cilium.io/global": "true", "interlink.io/health-check-interval": "500ms",
            "interlink.io/health-check-timeout": "300ms"})
        with open(os.path.join(self.manifests, "echo.yaml"), "w") as f:
            f.write(yaml)

    def start_backends(self):
        for i, ip in enumerate(self.backend_ips):
            self.backends.append(self.popen([self.binary, "backend", "--listen", "%s:9000" % ip,
                                             "--name", "%s-%d" % (self.name, i + 1), "--cluster", self.name]))

    def start_agent(self):
        token = os.path.join(self.work, "token")
        with open(token, "w") as f:
            f.write(TOKEN)
        self.log = open(os.path.join(self.work, "agent.log"), "ab")
        self.agent = self.popen([self.binary, "agent", "--cluster-name", self.name, "--cluster-id", str(self.index),
                                 "--manifests", self.manifests, "--api-listen", "%s:9876" % self.ip,
                                 "--api-token-file", token, "--data-dir", os.path.join(self.work, "data"),
                                 "--connect-timeout", "1s", "--log-level", "warning"] + self.kvstore, stderr=self.log)
        wait_for(lambda: self.get("/healthz", raw=True) == b"ok\n", 30, 0.05)

    def get(self, path, raw=False):
        body = ns(self.name, "curl", "-s", "--max-time", "5", self.api + path).encode()
        return body if raw else json.loads(body)

    def post(self, path, body):
        out = ns(self.name, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "-X", "POST",
                 "-H", "Authorization: Bearer " + TOKEN, "-H", "Content-Type: application/json",
                 "--data", json.dumps(body), self.api + path, check=False)
        return out.strip()

    def pid(self):
        # `ip netns exec` execs the agent: its PID is the agent's.
        return self.agent.pid

    def descriptors(self):
        return len(os.listdir("/proc/%d/fd" % self.pid()))

    def rss_mib(self):
        for line in open("/proc/%d/status" % self.pid()):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    def remote(self, name):
        return next((r for r in self.get("/v1/clusters")["remotes"] if r["name"] == name), None)

    def backends_of(self, cluster):
        doc = self.get("/v1/services")
        return [b for s in doc["services"] if s["name"] == "echo" for f in s["frontends"] for b in f["backends"]
                if b["cluster"] == cluster]


def make_network():
    sh("ip", "netns", "add", "ilf-hub")
    sh("ip", "netns", "exec", "ilf-hub", "ip", "link", "add", "br0", "type", "bridge")
    sh("ip", "netns", "exec", "ilf-hub", "ip", "addr", "add", "10.77.0.254/24", "dev", "br0")
    sh("ip", "netns", "exec", "ilf-hub", "ip", "link", "set", "br0", "up")
    for index, name in enumerate(CLUSTERS, start=1):
        sh("ip", "netns", "add", "ilf-" + name)
        sh("ip", "link", "add", "v-" + name, "netns", "ilf-" + name, "type", "veth", "peer", "name", "h-" + name, "netns", "ilf-hub")
        ns(name, "ip", "link", "set", "lo", "up")
        for host in [10 * index, 10 * index + 1, 10 * index + 2, 10 * index + 5]:
            ns(name, "ip", "addr", "add", "10.77.0.%d/24" % host, "dev", "v-" + name)
        ns(name, "ip", "link", "set", "v-" + name, "up")
        sh("ip", "netns", "exec", "ilf-hub", "ip", "link", "set", "h-" + name, "master", "br0", "up")
        # Room for the soak's connections (these sysctls are the namespace's own).
        ns(name, "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65000", "net.ipv4.tcp_tw_reuse=1")


def remove_network():
    for name in ["hub"] + CLUSTERS:
        subprocess.run(["ip", "netns", "del", "ilf-" + name], capture_output=True)


class Client:
    """A client in `cluster`'s namespace opening a new connection (an HTTP GET) to a frontend
    every `pause`; records per connection its time, the cluster that answered or the error."""

    def __init__(self, cluster, frontend, pause=0.02):
        script = r"""
import socket, sys, time, json
host, port, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
while True:
    t = time.time()
    try:
        s = socket.create_connection((host, port), timeout=10)
        s.settimeout(10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk: break
            data += chunk
        s.close()
        answer = data.split(b"cluster=")[1].split()[0].decode() if b"cluster=" in data else "EMPTY"
    except Exception as e:
        answer = "ERROR " + type(e).__name__
    print(json.dumps([t, time.time() - t, answer]), flush=True)
    time.sleep(pause)
"""
        self.process = subprocess.Popen(["ip", "netns", "exec", "ilf-" + cluster.name, sys.executable, "-c", script,
                                         frontend, "8080", str(pause)], stdout=subprocess.PIPE, text=True)
        self.results = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.results.append(json.loads(line))

    def stop(self):
        self.process.terminate()
        self.process.wait()
        self.reader.join(timeout=5)
        return self.results


def failures(results):
    return [r for r in results if r[2].startswith("ERROR") or r[2] == "EMPTY"]


def partition(name, cut):
    """Drops every packet leaving either end of `name`'s veth (cut), or stops dropping."""
    action = ["add", "dev"] if cut else ["del", "dev"]
    ns(name, "tc", "qdisc", *action, "v-" + name, "root", *(["blackhole"] if cut else []))
    sh("ip", "netns", "exec", "ilf-hub", "tc", "qdisc", *action, "h-" + name, "root", *(["blackhole"] if cut else []))


DELAY_RELAY = r"""
import asyncio, sys
listen_host, listen_port, target_host, target_port, delay = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
async def pipe(reader, writer):
    queue = asyncio.Queue()
    async def feed():
        while True:
            chunk = await reader.read(65536)
            await queue.put((asyncio.get_running_loop().time() + delay, chunk))
            if not chunk: return
    async def drain():
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(0, due - asyncio.get_running_loop().time()))
            if not chunk:
                writer.close(); return
            writer.write(chunk); await writer.drain()
    await asyncio.gather(feed(), drain(), return_exceptions=True)
async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection(target_host, target_port)
    except OSError:
        client_writer.close(); return
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer), return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, listen_host, listen_port)
    await server.serve_forever()
asyncio.run(main())
"""


def probe_partition(clusters, report):
    east, north = clusters["east"], clusters["north"]
    client = Client(east, east.frontend)
    time.sleep(3)
    cut = time.time()
    partition("north", True)
    # East sees north unreachable once a liveness read of its store times out.
    unreachable = wait_for(lambda: (lambda r: r if r and not r["connected"] else None)(east.remote("north")), 60, 0.2)
    seen_unreachable = time.time() - cut
    time.sleep(5)
    results = client.stop()
    partition("north", False)
    after = [r for r in results if r[0] >= cut]
    ejected = next((i for i, r in enumerate(after) if r[1] >= 0.9), None)  # the first connection that waited for a dial timeout
    slow = [r for r in after if r[1] >= 0.9]
    after_ejection = after[ejected + 1:] if ejected is not None else after
    failed = failures(after)
    failed_after = failures(after_ejection)
    shares = {}
    for r in after[-100:]:
        shares[r[2]] = shares.get(r[2], 0) + 1
    report("partition", "north's link drops every packet while east's client opens a connection every 20 ms",
           "0 failed connections after the first ejection; status shows north unreachable",
           "%d connections after the cut, %d failed (%d after the first ejection), %d waited for a dial timeout; "
           "status showed north not connected %.1f s after the cut (last error: %s); last 100 answered by %s"
           % (len(after), len(failed), len(failed_after), len(slow), seen_unreachable, (unreachable.get("lastError") or "")[:120], shares),
           len(failed_after) == 0)
    # North comes back.
    wait_for(lambda: (east.remote("north") or {}).get("connected"), 60, 0.2)


def probe_delay(clusters, report):
    east, west, north = clusters["east"], clusters["west"], clusters["north"]
    relays = {}
    for c in clusters.values():
        port = 19870 + c.index
        relays[c.name] = (subprocess.Popen(["ip", "netns", "exec", "ilf-hub", sys.executable, "-c", DELAY_RELAY, "10.77.0.254", str(port),
                                            c.ip, "9877", "0.2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                          "http://10.77.0.254:%d" % port)
    try:
        time.sleep(1)
        # Every cluster follows every other through its relay.
        for c in clusters.values():
            for other in clusters.values():
                if other is not c:
                    c.post("/v1/clusters", {"name": other.name, "endpoints": [relays[other.name][1]]})
        for c in clusters.values():
            wait_for(lambda: all((c.remote(o) or {}).get("connected") and (c.remote(o) or {}).get("endpoints") == [relays[o][1]]
                                 for o in CLUSTERS if o != c.name), 60, 0.2)
        rtt = []
        for _ in range(3):
            t = time.time()
            ns("west", "curl", "-s", "-o", "/dev/null", "--max-time", "5", "-X", "POST", "--data", "{}", relays["east"][1] + "/v3/kv/range")
            rtt.append(time.time() - t)
        drained = east.backend_ips[0] + ":9000"
        t = time.time()
        code = east.post("/v1/backends/drain", {"address": drained})
        got = {}
        for other in (west, north):
            wait_for(lambda: len(other.backends_of("east")) == 1, 60, 0.05)
            got[other.name] = time.time() - t
        east.post("/v1/backends/undrain", {"address": drained})
        for other in (west, north):
            wait_for(lambda: len(other.backends_of("east")) == 2, 60, 0.05)
        report("delay", "200 ms added each way between every pair of clusters' stores; east drains a backend",
               "the change still reaches west and north",
               "a request through a relay took %.0f-%.0f ms (a new connection and one request); drain answered %s; west saw east's "
               "1 backend after %.2f s, north after %.2f s; the undrain propagated too"
               % (min(rtt) * 1000, max(rtt) * 1000, code, got["west"], got["north"]), code == "200")
    finally:
        for c in clusters.values():
            for other in clusters.values():
                if other is not c:
                    c.post("/v1/clusters", {"name": other.name, "endpoints": [other.store]})
        for process, _ in relays.values():
            process.kill()


def probe_sigkill(clusters, report):
    east = clusters["east"]
    acknowledged, stop = [], threading.Event()

    def changes():
        i = 0
        while not stop.is_set():
            key = "probe.interlink.io/k%d" % i
            if east.post("/v1/services/default/echo/annotations", {"set": {key: str(i)}}) == "200":
                acknowledged.append(key)
            i += 1

    writer = threading.Thread(target=changes)
    writer.start()
    load = Client(east, east.frontend, pause=0.005)
    time.sleep(3)
    os.kill(east.pid(), signal.SIGKILL)
    east.agent.wait()
    stop.set()
    writer.join()
    load.stop()
    east.start_agent()
    annotations = next(s for s in east.get("/v1/services")["services"] if s["name"] == "echo").get("annotations", {})
    lost = [k for k in acknowledged if k not in annotations]
    report("sigkill", "east's agent killed with SIGKILL under load (a connection every 5 ms) while a client makes live changes",
           "no acknowledged change lost after the restart",
           "%d changes acknowledged before the kill; after the restart %d of them present, %d lost"
           % (len(acknowledged), len(acknowledged) - len(lost), len(lost)),
           not lost and len(acknowledged) > 0)
    east.post("/v1/services/default/echo/annotations", {"remove": [k for k in annotations if k.startswith("probe.")]})


def probe_etcd(clusters, report, work):
    east, west = clusters["east"], clusters["west"]
    members = [("e%d" % i, "10.77.0.%d" % (20 + 6 + i)) for i in range(3)]  # 10.77.0.26-28, in west's namespace
    for _, ip in members:
        ns("west", "ip", "addr", "add", ip + "/24", "dev", "v-west")
    initial = ",".join("%s=http://%s:2380" % (name, ip) for name, ip in members)
    etcds = {}
    for name, ip in members:
        etcds[name] = west.popen(["etcd", "--name", name, "--data-dir", os.path.join(work, "etcd-" + name),
                                  "--listen-client-urls", "http://%s:2379" % ip, "--advertise-client-urls", "http://%s:2379" % ip,
                                  "--listen-peer-urls", "http://%s:2380" % ip, "--initial-advertise-peer-urls", "http://%s:2380" % ip,
                                  "--initial-cluster", initial, "--initial-cluster-state", "new", "--log-level", "error"])
    endpoints = ",".join("http://%s:2379" % ip for _, ip in members)
    # etcdctl prints the health of each endpoint on stderr.
    health = lambda: subprocess.run(["ip", "netns", "exec", "ilf-west", "etcdctl", "--endpoints", endpoints, "endpoint", "health"],
                                    capture_output=True, text=True).stderr.count("is healthy")
    wait_for(lambda: health() == 3, 60, 0.5)
    # West moves its export to the etcd cluster; east follows it there.
    os.kill(west.pid(), signal.SIGTERM)
    west.agent.wait()
    west.kvstore = ["--kvstore", "etcd", "--kvstore-endpoints", endpoints]
    west.start_agent()
    code = east.post("/v1/clusters", {"name": "west", "endpoints": endpoints.split(",")})
    wait_for(lambda: (east.remote("west") or {}).get("connected") and len(east.backends_of("west")) == 2, 60, 0.2)
    # Kill the member the clients talk to first.
    etcds["e0"].kill()
    etcds["e0"].wait()
    t = time.time()
    drained = west.backend_ips[0] + ":9000"
    drain = west.post("/v1/backends/drain", {"address": drained})
    wait_for(lambda: len(east.backends_of("west")) == 1, 60, 0.1)
    export_seen = time.time() - t
    west.post("/v1/backends/undrain", {"address": drained})
    wait_for(lambda: len(east.backends_of("west")) == 2, 60, 0.1)
    remote = east.remote("west")
    report("etcd", "west exports to a 3-member etcd; the member listed first is killed",
           "west keeps exporting and east keeps following west",
           "connect answered %s; after the kill, west's drain (answered %s) reached east in %.2f s and the undrain too; "
           "east's view of west: connected=%s, failures=%s" % (code, drain, export_seen, remote["connected"], remote["failures"]),
           drain == "200" and remote["connected"])


def probe_soak(clusters, report, connections, seconds):
    east = clusters["east"]
    baseline_fd, baseline_rss = east.descriptors(), east.rss_mib()
    script = r"""
import asyncio, random, resource, sys, time, json
host, total, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
stats = {"opened": 0, "errors": 0, "empty": 0}
errors = {}
async def one(deadline):
    while time.time() < deadline:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, 8080), 20)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            line = await asyncio.wait_for(reader.readline(), 20)
            if not line.startswith(b"HTTP/1.1 200"):
                stats["empty"] += 1
            stats["opened"] += 1
            await asyncio.sleep(random.uniform(2, 10))
            writer.close()
        except Exception as e:
            stats["errors"] += 1
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            await asyncio.sleep(0.5)
async def main():
    deadline = time.time() + seconds
    tasks = []
    for i in range(total):
        tasks.append(asyncio.create_task(one(deadline)))
        if i % 500 == 499: await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
    stats["error_kinds"] = errors
    print(json.dumps(stats))
asyncio.run(main())
"""
    soak = subprocess.Popen(["ip", "netns", "exec", "ilf-east", sys.executable, "-c", script, east.frontend, str(connections), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    peak_fd, peak_rss = 0, 0
    while soak.poll() is None:
        peak_fd, peak_rss = max(peak_fd, east.descriptors()), max(peak_rss, east.rss_mib())
        time.sleep(1)
    stats = json.loads(soak.stdout.read())
    time.sleep(25)  # the agent trims freed memory within 10 s of the load falling
    after_fd, after_rss = east.descriptors(), east.rss_mib()
    report("soak", "%d concurrent connections through east's agent for %d s, each living 2-10 s, then replaced" % (connections, seconds),
           "no error; descriptors and RSS back at their baseline afterwards",
           "%d connections made, %d errors %s, %d answers not 200; agent descriptors %d before, %d at peak, %d 25 s after; "
           "RSS %.0f MiB before, %.0f at peak, %.0f after" % (stats["opened"], stats["errors"], stats["error_kinds"] or "",
                                                            stats["empty"], baseline_fd, peak_fd, after_fd, baseline_rss, peak_rss, after_rss),
           stats["errors"] == 0 and stats["empty"] == 0 and after_fd <= baseline_fd + 5 and after_rss <= max(baseline_rss * 1.5, baseline_rss + 64))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=None, help="the interlink binary (default: the release build)")
    parser.add_argument("--probes", default="partition,delay,sigkill,etcd,soak")
    parser.add_argument("--soak-connections", type=int, default=10000)
    parser.add_argument("--soak-seconds", type=int, default=60)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("faults.py makes network namespaces: run it as root")
    binary = args.binary or os.path.join(subprocess.check_output(["swift", "build", "-c", "release", "--show-bin-path"], text=True).strip(), "interlink")
    work = tempfile.mkdtemp(prefix="interlink-faults-")
    # Every agent and backend inherits the most descriptors this machine allows.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    remove_network()
    clusters = {name: Cluster(name, i, work, binary) for i, name in enumerate(CLUSTERS, start=1)}
    results = []

    def report(name, what, expected, seen, ok):
        results.append((name, what, expected, seen, ok))
        print("%-9s %s\n          expected: %s\n          seen: %s\n" % (name, "ok" if ok else "FAILED", expected, seen), flush=True)

    try:
        make_network()
        for c in clusters.values():
            c.write_manifest()
            c.start_backends()
            c.start_agent()
        ns("east", "env", "INTERLINK_API_TOKEN=" + TOKEN, binary, "connect", "--timeout", "30s", *[c.api for c in clusters.values()])
        wait_for(lambda: all(len(clusters["east"].backends_of(n)) == 2 for n in CLUSTERS), 30, 0.2)
        for probe in args.probes.split(","):
            if probe == "partition": probe_partition(clusters, report)
            elif probe == "delay": probe_delay(clusters, report)
            elif probe == "sigkill": probe_sigkill(clusters, report)
            elif probe == "etcd": probe_etcd(clusters, report, work)
            elif probe == "soak": probe_soak(clusters, report, args.soak_connections, args.soak_seconds)
            else: sys.exit("unknown probe " + probe)
    finally:
        for c in clusters.values():
            for p in c.backends + ([c.agent] if c.agent else []):
                if p.poll() is None: p.kill()
        subprocess.run(["pkill", "-f", "interlink-faults-"], capture_output=True)  # etcd members
        remove_network()
        if os.environ.get("FAULTS_KEEP"):
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    failed = [r[0] for r in results if not r[4]]
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
