#!/usr/bin/env python3
"""Interlink vs HAProxy vs a direct connection, side by side in one interleaved run.

Layout (2 cores): wrk/iperf3 client and the backend (nginx, iperf3 -s) on CPU 0, the proxy
alone on CPU 1. Proxy CPU time comes from /proc/PID/stat (utime + stime) around each run.
Usage: scripts/bench.sh [--rounds N] [--seconds S]   (see BENCHMARKS.md)
"""
import argparse, json, os, re, resource, shutil, signal, socket, subprocess, sys, tempfile, time

BACKEND_IP, HTTP_PORT, IPERF_PORT = "127.0.0.60", 8080, 5201
TARGETS = {"direct": BACKEND_IP, "haproxy": "127.0.0.51", "interlink": "127.0.0.50"}
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_port(ip, port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((ip, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on {ip}:{port}")


def start(cmd, cpu, **kw):
    return subprocess.Popen(["taskset", "-c", str(cpu)] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def setup(work, interlink_bin):
    procs = {}
    nginx_conf = f"""
worker_processes 1; daemon off; pid {work}/nginx.pid; error_log {work}/nginx.err;
worker_rlimit_nofile 19500;
events {{ worker_connections 19000; }}
http {{ access_log off; keepalive_requests 100000000; keepalive_timeout 300s;
  server {{ listen {BACKEND_IP}:{HTTP_PORT} reuseport backlog=4096;
    location / {{ return 200 "hello from the backend\\n"; }} }} }}
"""
    open(f"{work}/nginx.conf", "w").write(nginx_conf)
    procs["nginx"] = start(["nginx", "-c", f"{work}/nginx.conf", "-p", work], 0)
    procs["iperf3"] = start(["iperf3", "-s", "-B", BACKEND_IP, "-p", str(IPERF_PORT)], 0)

    haproxy_cfg = f"""
global
  nbthread 1
  maxconn 9900
defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
frontend http_in
  bind {TARGETS['haproxy']}:{HTTP_PORT}
  default_backend http_out
backend http_out
  server b1 {BACKEND_IP}:{HTTP_PORT}
frontend iperf_in
  bind {TARGETS['haproxy']}:{IPERF_PORT}
  default_backend iperf_out
backend iperf_out
  server b1 {BACKEND_IP}:{IPERF_PORT}
"""
    open(f"{work}/haproxy.cfg", "w").write(haproxy_cfg)
    procs["haproxy"] = start(["haproxy", "-f", f"{work}/haproxy.cfg"], 1)

    manifest = f"""
apiVersion: v1
kind: Service
metadata: {{name: bench}}
spec:
  clusterIP: {TARGETS['interlink']}
  ports: [{{name: http, port: {HTTP_PORT}}}, {{name: iperf, port: {IPERF_PORT}}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: bench-1, labels: {{kubernetes.io/service-name: bench}}}}
addressType: IPv4
endpoints: [{{addresses: [{BACKEND_IP}]}}]
ports: [{{name: http, port: {HTTP_PORT}}}, {{name: iperf, port: {IPERF_PORT}}}]
"""
    open(f"{work}/bench.yaml", "w").write(manifest)
    procs["interlink"] = start([interlink_bin, "agent", "--manifests", f"{work}/bench.yaml", "--threads", "1",
                                "--api-listen", "127.0.0.50:9876", "--log-level", "warning"], 1)
    for name, ip in TARGETS.items():
        wait_port(ip, HTTP_PORT)
        wait_port(ip, IPERF_PORT)
    time.sleep(1)
    return procs


def measured(proxy_pid, fn):
    before = cpu_seconds(proxy_pid) if proxy_pid else 0
    result = fn()
    result["cpu"] = (cpu_seconds(proxy_pid) - before) if proxy_pid else None
    return result


def wrk(ip, seconds, connections, close=False):
    cmd = ["taskset", "-c", "0", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if close:
        cmd += ["-H", "Connection: close"]
    out = subprocess.run(cmd + [f"http://{ip}:{HTTP_PORT}/"], capture_output=True, text=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        lat[pct] = value * {"us": 1, "ms": 1000, "s": 1e6}[unit]
    return {"requests": requests, "p50_us": lat["50"], "p99_us": lat["99"],
            "errors": (errors.group(1) if errors else "") + (f" non2xx={non2xx.group(1)}" if non2xx else "")}


def iperf(ip, seconds):
    out = subprocess.run(["taskset", "-c", "0", "iperf3", "-c", ip, "-p", str(IPERF_PORT), "-t", str(seconds), "-J"],
                         capture_output=True, text=True).stdout
    data = json.loads(out)
    sent = data["end"]["sum_received"]["bytes"]
    return {"bytes": sent, "gbps": data["end"]["sum_received"]["bits_per_second"] / 1e9}


def idle_connections(ip, pid, count):
    base = rss_kib(pid) if pid else 0
    socks = []
    for _ in range(count):
        s = socket.create_connection((ip, HTTP_PORT))
        socks.append(s)
    time.sleep(2)
    rss = rss_kib(pid) if pid else 0
    per_conn = (rss - base) / count
    result = {"rss_before_kib": base, "rss_kib": rss, "open": len(socks), "kib_per_conn": per_conn,
              "rss_10k_kib": base + per_conn * 10000}
    for s in socks:
        s.close()
    time.sleep(2)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--idle", type=int, default=9000, help="idle connections held open (a proxy needs 2 fds each; this machine caps a process at 20,000)")
    parser.add_argument("--interlink", default=".build/release/interlink")
    parser.add_argument("--out", default="bench-results/latest.json")
    args = parser.parse_args()
    for tool in ("haproxy", "nginx", "wrk", "iperf3", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install -y haproxy nginx-light wrk iperf3")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < 2 * args.idle + 500:
        sys.exit(f"the open-file limit {hard} is too low for {args.idle} idle connections: raise it or pass --idle")
    work = tempfile.mkdtemp(prefix="interlink-bench-")
    procs = setup(work, os.path.abspath(args.interlink))
    pids = {"direct": None, "haproxy": procs["haproxy"].pid, "interlink": procs["interlink"].pid}
    results = {t: {"keepalive": [], "close": [], "latency": [], "bulk": []} for t in TARGETS}
    try:
        for r in range(args.rounds):
            for scenario in ("keepalive", "close", "latency", "bulk"):
                for target, ip in TARGETS.items():
                    if scenario == "keepalive":
                        fn = lambda: wrk(ip, args.seconds, 50)
                    elif scenario == "close":
                        fn = lambda: wrk(ip, args.seconds, 50, close=True)
                    elif scenario == "latency":
                        fn = lambda: wrk(ip, args.seconds, 1)
                    else:
                        fn = lambda: iperf(ip, args.seconds)
                    res = measured(pids[target], fn)
                    results[target][scenario].append(res)
                    print(f"round {r + 1} {scenario:9} {target:9} {json.dumps(res)}", flush=True)
                    time.sleep(1)
        for target, ip in TARGETS.items():
            if target == "direct":
                continue
            res = idle_connections(ip, pids[target], args.idle)
            results[target]["idle"] = res
            print(f"idle {target:9} {json.dumps(res)}", flush=True)
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    json.dump(results, open(args.out, "w"), indent=1)
    print()
    print(report(results, args))


def best(runs, key, lowest=False):
    values = [r[key] for r in runs]
    return min(values) if lowest else max(values)


def report(results, args):
    def per(target, scenario, unit_key, scale):
        runs = results[target][scenario]
        return min(r["cpu"] / r[unit_key] * scale for r in runs)

    rows = []
    d, h, i = results["direct"], results["haproxy"], results["interlink"]
    def line(name, hv, iv, fmt, extra_direct=""):
        ratio = iv / hv if hv else float("nan")
        rows.append(f"| {name} | {extra_direct} | {fmt.format(hv)} | {fmt.format(iv)} | {ratio:.2f} |")
    line("keep-alive requests/s (50 conns)", best(h["keepalive"], "requests") / args.seconds,
         best(i["keepalive"], "requests") / args.seconds, "{:,.0f}", f"{best(d['keepalive'], 'requests') / args.seconds:,.0f}")
    line("proxy CPU per keep-alive request (µs)", per("haproxy", "keepalive", "requests", 1e6), per("interlink", "keepalive", "requests", 1e6), "{:.1f}")
    line("new connections/s (Connection: close)", best(h["close"], "requests") / args.seconds,
         best(i["close"], "requests") / args.seconds, "{:,.0f}", f"{best(d['close'], 'requests') / args.seconds:,.0f}")
    line("proxy CPU per new connection (µs)", per("haproxy", "close", "requests", 1e6), per("interlink", "close", "requests", 1e6), "{:.1f}")
    dp50 = best(d["latency"], "p50_us", True)
    dp99 = best(d["latency"], "p99_us", True)
    line("single-connection p50 latency (µs)", best(h["latency"], "p50_us", True), best(i["latency"], "p50_us", True), "{:.1f}", f"{dp50:.1f}")
    line("added p50 latency vs direct (µs)", best(h["latency"], "p50_us", True) - dp50, best(i["latency"], "p50_us", True) - dp50, "{:.1f}", "0")
    line("single-connection p99 latency (µs)", best(h["latency"], "p99_us", True), best(i["latency"], "p99_us", True), "{:.1f}", f"{dp99:.1f}")
    line("bulk throughput, 1 stream (Gbit/s)", best(h["bulk"], "gbps"), best(i["bulk"], "gbps"), "{:.2f}", f"{best(d['bulk'], 'gbps'):.2f}")
    line("proxy CPU per GB bulk (s)", per("haproxy", "bulk", "bytes", 1e9), per("interlink", "bulk", "bytes", 1e9), "{:.2f}")
    if "idle" in h and "idle" in i:
        line(f"RSS with {args.idle:,} idle connections (MiB)", h["idle"]["rss_kib"] / 1024, i["idle"]["rss_kib"] / 1024, "{:.1f}")
        line("RSS per idle connection (KiB)", h["idle"]["kib_per_conn"], i["idle"]["kib_per_conn"], "{:.1f}")
        line("RSS at 10,000 idle connections, extrapolated (MiB)", h["idle"]["rss_10k_kib"] / 1024, i["idle"]["rss_10k_kib"] / 1024, "{:.1f}")
    head = "| measure | direct | HAProxy | Interlink | Interlink/HAProxy |\n|---|---|---|---|---|"
    return head + "\n" + "\n".join(rows)


if __name__ == "__main__":
    main()
