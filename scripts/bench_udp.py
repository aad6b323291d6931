#!/usr/bin/env python3
"""UDP: Interlink against nginx's stream module (HAProxy has no UDP proxy) and a direct
path, side by side in one interleaved run. Part of scripts/bench.sh (see BENCHMARKS.md).

Layout (2 cores): the client and the backend (a DNS-like echo in C-speed Python: one recvfrom
and one sendto per datagram) on CPU 0, the proxy alone on CPU 1. Two scenarios:
- datagrams: one flow, 32 requests in flight, each answered; proxy CPU per request and answer;
- flows: every request from a new socket (a new source port: a new flow), one at a time;
  proxy CPU per flow (the flow is set up, carries one request and answer, and ends: nginx
  after the one answer it expects (`proxy_responses 1`), Interlink after its flow timeout,
  set to 1 s for this run).
"""
import argparse, json, os, select, signal, socket, subprocess, sys, tempfile, time

BACKEND = ("127.0.0.60", 5300)
TARGETS = {"direct": ("127.0.0.60", 5300), "nginx": ("127.0.0.55", 5300), "interlink": ("127.0.0.56", 5300)}
TICK = os.sysconf("SC_CLK_TCK")
NGINX_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


def cpu_seconds(pid):
    """utime + stime of the process and its children (nginx's worker does the work)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / TICK
    for task in os.listdir(f"/proc/{pid}/task"):
        for child in open(f"/proc/{pid}/task/{task}/children").read().split():
            total += cpu_seconds(int(child))
    return total


def echo_server():
    """The backend: answers each datagram with itself."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(BACKEND)
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)


def datagrams(target, seconds, window=32):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(target)
    s.setblocking(False)
    payload = b"q" * 48
    sent = answered = 0
    deadline = time.time() + seconds
    for _ in range(window):
        s.send(payload)
        sent += 1
    while time.time() < deadline:
        ready, _, _ = select.select([s], [], [], 0.2)
        if not ready:  # a lost datagram: refill the window
            s.send(payload)
            sent += 1
            continue
        while True:
            try:
                s.recv(2048)
            except BlockingIOError:
                break
            answered += 1
            s.send(payload)
            sent += 1
    s.close()
    return {"answered": answered, "sent": sent, "rate": answered / seconds}


def flows(target, seconds):
    payload = b"flow"
    answered = lost = 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        s.sendto(payload, target)
        try:
            s.recv(2048)
            answered += 1
        except socket.timeout:
            lost += 1
        s.close()
    return {"answered": answered, "lost": lost, "rate": answered / seconds}


def setup(work, interlink_bin):
    procs = {}
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {0})
        echo_server()
        os._exit(0)
    procs["echo"] = pid
    conf = f"""
load_module {NGINX_MODULE};
worker_processes 1; daemon off; pid {work}/nginx-udp.pid; error_log {work}/nginx-udp.err;
events {{ worker_connections 19000; }}
stream {{ server {{ listen {TARGETS['nginx'][0]}:{TARGETS['nginx'][1]} udp reuseport;
  proxy_pass {BACKEND[0]}:{BACKEND[1]}; proxy_responses 1; proxy_timeout 1s; }} }}
"""
    open(f"{work}/nginx-udp.conf", "w").write(conf)
    procs["nginx"] = subprocess.Popen(["taskset", "-c", "1", "nginx", "-c", f"{work}/nginx-udp.conf", "-p", work],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
    manifest = f"""
apiVersion: v1
kind: Service
metadata: {{name: udp, annotations: {{interlink.io/udp-flow-timeout: 1s}}}}
spec:
  clusterIP: {TARGETS['interlink'][0]}
  ports: [{{name: dns, port: {TARGETS['interlink'][1]}, protocol: UDP}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: udp-1, labels: {{kubernetes.io/service-name: udp}}}}
addressType: IPv4
endpoints: [{{addresses: [{BACKEND[0]}]}}]
ports: [{{name: dns, port: {BACKEND[1]}, protocol: UDP}}]
"""
    os.makedirs(f"{work}/interlink-udp", exist_ok=True)
    open(f"{work}/interlink-udp/udp.yaml", "w").write(manifest)
    procs["interlink"] = subprocess.Popen(
        ["taskset", "-c", "1", interlink_bin, "agent", "--manifests", f"{work}/interlink-udp/udp.yaml", "--threads", "1",
         "--kvstore", "none", "--data-dir", f"{work}/interlink-udp", "--api-listen", "127.0.0.56:9876", "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
    time.sleep(3)
    return procs


def run(interlink_bin, rounds, seconds):
    work = tempfile.mkdtemp(prefix="interlink-bench-udp-")
    procs = setup(work, interlink_bin)
    pids = {"direct": None, "nginx": procs["nginx"], "interlink": procs["interlink"]}
    os.sched_setaffinity(0, {0})
    results = {t: {"datagrams": [], "flows": []} for t in TARGETS}
    try:
        for r in range(rounds):
            for scenario, fn in (("datagrams", datagrams), ("flows", flows)):
                for target, address in TARGETS.items():
                    before = cpu_seconds(pids[target]) if pids[target] else 0
                    res = fn(address, seconds)
                    res["cpu"] = cpu_seconds(pids[target]) - before if pids[target] else None
                    results[target][scenario].append(res)
                    print(f"udp round {r + 1} {scenario:9} {target:9} {json.dumps(res)}", flush=True)
                    time.sleep(1)
    finally:
        for pid in procs.values():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    return results


def report(results):
    def best(target, scenario, key):
        return max(r[key] for r in results[target][scenario])

    def per(target, scenario):
        return min(r["cpu"] / r["answered"] * 1e6 for r in results[target][scenario] if r["answered"])

    rows = ["| measure | direct | nginx stream | Interlink | Interlink/nginx |", "|---|---|---|---|---|"]
    for name, scenario in (("request and answer/s, one flow, 32 in flight", "datagrams"), ("new flows/s, one at a time", "flows")):
        d, n, i = (best(t, scenario, "rate") for t in ("direct", "nginx", "interlink"))
        rows.append(f"| {name} | {d:,.0f} | {n:,.0f} | {i:,.0f} | {i / n:.2f} |")
        n, i = per("nginx", scenario), per("interlink", scenario)
        unit = "request and answer" if scenario == "datagrams" else "flow"
        rows.append(f"| proxy CPU per {unit} (µs) | | {n:.1f} | {i:.1f} | {i / n:.2f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--interlink", default=".build/release/interlink")
    parser.add_argument("--out", default="bench-results/udp.json")
    args = parser.parse_args()
    if not os.path.exists(NGINX_MODULE):
        sys.exit("nginx's stream module is missing: apt-get install -y libnginx-mod-stream")
    results = run(os.path.abspath(args.interlink), args.rounds, args.seconds)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    json.dump(results, open(args.out, "w"), indent=1)
    print()
    print(report(results))
