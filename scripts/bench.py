#!/usr/bin/env python3
"""Interlink vs HAProxy vs a direct connection, side by side in one interleaved run.

Layout (2 cores): wrk/iperf3 client and the backend (nginx, iperf3 -s) on CPU 0, the proxy
alone on CPU 1. Proxy CPU time comes from /proc/PID/stat (utime + stime) around each run.
Usage: scripts/bench.sh [--rounds N] [--seconds S]   (see BENCHMARKS.md)
"""
import argparse, json, os, re, resource, shutil, signal, socket, subprocess, sys, tempfile, time
import bench_probes

BACKEND_IP, HTTP_PORT, IPERF_PORT = "127.0.0.60", 8080, 5201
TARGETS = {"direct": BACKEND_IP, "haproxy": "127.0.0.51", "interlink": "127.0.0.50", "interlink-nio": "127.0.0.52"}
# Both proxies with two threads, unpinned (`--threads 2` against `nbthread 2`).
TWO_THREADS = {"haproxy-2t": "127.0.0.53", "interlink-2t": "127.0.0.54"}
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

    for name, ip, threads, cpus in (("haproxy", TARGETS["haproxy"], 1, "1"), ("haproxy-2t", TWO_THREADS["haproxy-2t"], 2, "0,1")):
        open(f"{work}/{name}.cfg", "w").write(haproxy_config(ip, threads))
        procs[name] = start(["haproxy", "-f", f"{work}/{name}.cfg"], cpus)

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
    agents = (("interlink", TARGETS["interlink"], "epoll", 1, "1"), ("interlink-nio", TARGETS["interlink-nio"], "nio", 1, "1"),
              ("interlink-2t", TWO_THREADS["interlink-2t"], "epoll", 2, "0,1"))
    for name, ip, plane, threads, cpus in agents:
        os.makedirs(f"{work}/{name}", exist_ok=True)
        open(f"{work}/{name}/bench.yaml", "w").write(manifest.replace(TARGETS["interlink"], ip))
        procs[name] = start([interlink_bin, "agent", "--manifests", f"{work}/{name}/bench.yaml", "--threads", str(threads),
                             "--data-plane", plane, "--kvstore", "none", "--data-dir", f"{work}/{name}",
                             "--api-listen", f"{ip}:9876", "--log-level", "warning"], cpus)
    for name, ip in list(TARGETS.items()) + list(TWO_THREADS.items()):
        wait_port(ip, HTTP_PORT)
        wait_port(ip, IPERF_PORT)
    time.sleep(1)
    return procs


def haproxy_config(ip, threads):
    return f"""
global
  nbthread {threads}
  maxconn 9900
defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
frontend http_in
  bind {ip}:{HTTP_PORT}
  default_backend http_out
backend http_out
  server b1 {BACKEND_IP}:{HTTP_PORT}
frontend iperf_in
  bind {ip}:{IPERF_PORT}
  default_backend iperf_out
backend iperf_out
  server b1 {BACKEND_IP}:{IPERF_PORT}
"""


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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--idle", type=int, default=7000,
                        help="idle connections held open: a proxy needs 2 descriptors each, this machine caps a process at 20,000, and "
                             "Interlink keeps a quarter of its descriptors for the API, the mesh port and health checks (7,700 proxied)")
    parser.add_argument("--traced", type=int, default=10000, help="connections counted under strace -f -c")
    parser.add_argument("--interlink", default=".build/release/interlink")
    parser.add_argument("--out", default="bench-results/latest.json")
    args = parser.parse_args()
    for tool in ("haproxy", "nginx", "wrk", "iperf3", "taskset", "strace"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install -y haproxy nginx-light wrk iperf3 strace")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.idle + 500:
        sys.exit(f"the open-file limit {hard} is too low for {args.idle} idle connections: raise it or pass --idle")
    work = tempfile.mkdtemp(prefix="interlink-bench-")
    procs = setup(work, os.path.abspath(args.interlink))
    pids = {name: proc.pid for name, proc in procs.items()}
    pids["direct"] = None
    proxies = [t for t in TARGETS if t != "direct"]
    results = {t: {"keepalive": [], "close": [], "latency": [], "bulk": []} for t in list(TARGETS) + list(TWO_THREADS)}
    try:
        for r in range(args.rounds):
            for scenario in ("keepalive", "close", "latency", "bulk"):
                for target, ip in TARGETS.items():
                    res = measured(pids[target], scenario_run(scenario, ip, args.seconds))
                    results[target][scenario].append(res)
                    print(f"round {r + 1} {scenario:9} {target:13} {json.dumps(res)}", flush=True)
                    time.sleep(1)
            save(results, args.out)
            for scenario in ("keepalive", "close"):
                for target, ip in TWO_THREADS.items():
                    res = measured(pids[target], scenario_run(scenario, ip, args.seconds))
                    results[target][scenario].append(res)
                    print(f"round {r + 1} {scenario:9} {target:13} {json.dumps(res)}", flush=True)
                    time.sleep(1)
        for target in proxies:
            ip = TARGETS[target]
            for scenario in ("keepalive", "close"):
                _, counts = bench_probes.perf_instructions(pids[target], lambda: measured(pids[target], scenario_run(scenario, ip, 4)))
                results[target][f"perf_{scenario}"] = counts
            print(f"perf      {target:13} {json.dumps({k: v for k, v in results[target].items() if k.startswith('perf')})}", flush=True)
            res = bench_probes.syscalls(pids[target], ip, HTTP_PORT, args.traced, work)
            results[target]["syscalls"] = res
            print(f"syscalls  {target:13} {res['connections']} connections, {res['per_connection']:.1f} calls each", flush=True)
            time.sleep(2)
            res = bench_probes.idle_connections(ip, HTTP_PORT, pids[target], args.idle,
                                                lambda: measured(pids[target], lambda: wrk(ip, args.seconds, 50, close=True)))
            results[target]["idle"] = res
            print(f"idle      {target:13} {json.dumps(res)}", flush=True)
            save(results, args.out)
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


def save(results, out):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    json.dump(results, open(out, "w"), indent=1)


def scenario_run(scenario, ip, seconds):
    if scenario == "keepalive":
        return lambda: wrk(ip, seconds, 50)
    if scenario == "close":
        return lambda: wrk(ip, seconds, 50, close=True)
    if scenario == "latency":
        return lambda: wrk(ip, seconds, 1)
    return lambda: iperf(ip, seconds)


def best(runs, key, lowest=False):
    values = [r[key] for r in runs]
    return min(values) if lowest else max(values)


def report(results, args):
    def per(target, scenario, unit_key, scale):
        return min(r["cpu"] / r[unit_key] * scale for r in results[target][scenario])

    rows = []
    d = results["direct"]

    def line(name, values, fmt, direct=""):
        h, i, n = values("haproxy"), values("interlink"), values("interlink-nio")
        ratio = lambda v: f"{v / h:.2f}" if h and v is not None else ""
        show = lambda v: fmt.format(v) if v is not None else "n/a"
        rows.append(f"| {name} | {direct} | {show(h)} | {show(i)} | {ratio(i)} | {show(n)} | {ratio(n)} |")

    s = args.seconds
    line("keep-alive requests/s (50 conns)", lambda t: best(results[t]["keepalive"], "requests") / s, "{:,.0f}", f"{best(d['keepalive'], 'requests') / s:,.0f}")
    line("proxy CPU per keep-alive request (µs)", lambda t: per(t, "keepalive", "requests", 1e6), "{:.1f}")
    line("new connections/s (Connection: close)", lambda t: best(results[t]["close"], "requests") / s, "{:,.0f}", f"{best(d['close'], 'requests') / s:,.0f}")
    line("proxy CPU per new connection (µs)", lambda t: per(t, "close", "requests", 1e6), "{:.1f}")
    dp50, dp99 = best(d["latency"], "p50_us", True), best(d["latency"], "p99_us", True)
    line("single-connection p50 latency (µs)", lambda t: best(results[t]["latency"], "p50_us", True), "{:.1f}", f"{dp50:.1f}")
    line("added p50 latency vs direct (µs)", lambda t: best(results[t]["latency"], "p50_us", True) - dp50, "{:.1f}", "0")
    line("single-connection p99 latency (µs)", lambda t: best(results[t]["latency"], "p99_us", True), "{:.1f}", f"{dp99:.1f}")
    line("added p99 latency vs direct (µs)", lambda t: best(results[t]["latency"], "p99_us", True) - dp99, "{:.1f}", "0")
    line("bulk throughput, 1 stream (Gbit/s)", lambda t: best(results[t]["bulk"], "gbps"), "{:.2f}", f"{best(d['bulk'], 'gbps'):.2f}")
    line("proxy CPU per GB bulk (s)", lambda t: per(t, "bulk", "bytes", 1e9), "{:.2f}")
    idle = lambda t, k: results[t].get("idle", {}).get(k)
    line("system calls per proxied connection (strace -f -c)", lambda t: results[t].get("syscalls", {}).get("per_connection"), "{:.1f}")
    for kind, label in (("perf_close", "new connection"), ("perf_keepalive", "keep-alive request")):
        unit = "requests"
        for counter in ("instructions:u", "instructions:k"):
            def value(t, kind=kind, counter=counter):
                count = results[t].get(kind, {}).get(counter)
                return None if count is None else count / 1  # absolute; the runs differ in length
            line(f"{counter} during 4 s of {label}s", value, "{:,.0f}")
    line(f"RSS with {args.idle:,} idle connections, fresh (MiB)", lambda t: (idle(t, "rss_fresh_kib") or 0) / 1024, "{:.1f}")
    line("RSS per idle connection, fresh (KiB)", lambda t: idle(t, "kib_per_conn_fresh"), "{:.2f}")
    line("RSS per idle connection, after one request each (KiB)", lambda t: idle(t, "kib_per_conn_used"), "{:.2f}")
    line(f"proxy CPU per new connection with {args.idle:,} idle open (µs)",
         lambda t: (lambda r: r["cpu"] / r["requests"] * 1e6)(idle(t, "close_with_idle")) if idle(t, "close_with_idle") else None, "{:.1f}")
    head = "| measure | direct | HAProxy | Interlink | Interlink/HAProxy | Interlink --data-plane nio | nio/HAProxy |\n|---|---|---|---|---|---|---|"
    two = ["", "Two threads each (`nbthread 2` against `--threads 2`, both unpinned; wrk and the backend on CPU 0):", "",
           "| measure | HAProxy | Interlink | Interlink/HAProxy |", "|---|---|---|---|"]
    for name, scenario, key, scale in (("keep-alive requests/s", "keepalive", "requests", None), ("proxy CPU per keep-alive request (µs)", "keepalive", "requests", 1e6),
                                       ("new connections/s", "close", "requests", None), ("proxy CPU per new connection (µs)", "close", "requests", 1e6)):
        if scale is None:
            h, i = (best(results[t][scenario], key) / s for t in ("haproxy-2t", "interlink-2t"))
            two.append(f"| {name} | {h:,.0f} | {i:,.0f} | {i / h:.2f} |")
        else:
            h, i = (per(t, scenario, key, scale) for t in ("haproxy-2t", "interlink-2t"))
            two.append(f"| {name} | {h:.1f} | {i:.1f} | {i / h:.2f} |")
    kinds = sorted({k for t in ("haproxy", "interlink", "interlink-nio") for k in results[t].get("syscalls", {}).get("calls", {})})
    calls = ["", f"System calls per proxied connection by kind (`strace -f -c`, exactly {args.traced:,} connections):", "",
             "| call | HAProxy | Interlink | Interlink nio |", "|---|---|---|---|"]
    for kind in kinds:
        cells = []
        for t in ("haproxy", "interlink", "interlink-nio"):
            sc = results[t].get("syscalls", {})
            cells.append(f"{sc.get('calls', {}).get(kind, 0) / max(sc.get('connections', 1), 1):.2f}")
        calls.append(f"| {kind} | " + " | ".join(cells) + " |")
    return head + "\n" + "\n".join(rows) + "\n" + "\n".join(two) + "\n" + "\n".join(calls)


if __name__ == "__main__":
    main()
