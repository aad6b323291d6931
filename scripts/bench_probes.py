"""Probes for scripts/bench.py beyond throughput: system calls per connection (strace), idle
connections' memory fresh and after one request each, CPU per new connection while those are
open, and perf's instruction counts where the machine has the counters."""
import re, signal, socket, subprocess, time
from concurrent.futures import ThreadPoolExecutor

REQUEST_CLOSE = b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
REQUEST_KEEP = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def exact_connections(ip, port, count, threads=4):
    """Exactly `count` requests, each on a new connection, read to the server's close."""
    def worker(n):
        done = 0
        for _ in range(n):
            with socket.create_connection((ip, port)) as s:
                s.sendall(REQUEST_CLOSE)
                while s.recv(65536):
                    pass
            done += 1
        return done
    share = [count // threads] * threads
    share[0] += count - sum(share)
    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(worker, share))


def syscalls(pid, ip, port, count, work):
    """strace -f -c on the proxy while exactly `count` connections go through it."""
    out = f"{work}/strace-{pid}.txt"
    tracer = subprocess.Popen(["strace", "-f", "-c", "-o", out, "-p", str(pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    done = exact_connections(ip, port, count)
    time.sleep(0.5)
    tracer.send_signal(signal.SIGINT)
    tracer.wait(timeout=60)
    calls = {}
    for line in open(out):
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
        if m and m.group(2) != "total":
            calls[m.group(2)] = int(m.group(1))
    return {"connections": done, "calls": calls, "per_connection": sum(calls.values()) / max(done, 1)}


def perf_instructions(pid, fn):
    """instructions:u and :k of the proxy during fn(), or None where the VM has no counters."""
    perf = subprocess.Popen(["perf", "stat", "-x,", "-e", "instructions:u,instructions:k", "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    result = fn()
    perf.send_signal(signal.SIGINT)
    _, err = perf.communicate(timeout=30)
    counts = {}
    for line in err.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2].startswith("instructions"):
            counts[fields[2]] = int(fields[0]) if fields[0].isdigit() else None
    return result, counts


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            return False
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"[Cc]ontent-[Ll]ength: (\d+)", head).group(1))
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            return False
        body += chunk
    return True


def idle_connections(ip, port, pid, count, busy):
    """RSS with `count` idle connections fresh, then after one request each; then `busy()`
    (new connections) measured while they are all still open."""
    base = rss_kib(pid)
    socks = [socket.create_connection((ip, port), timeout=30) for _ in range(count)]
    time.sleep(2)
    fresh = rss_kib(pid)
    answered = 0
    for s in socks:
        s.sendall(REQUEST_KEEP)
    for s in socks:
        answered += read_response(s)
    time.sleep(2)
    used = rss_kib(pid)
    loaded = busy()
    for s in socks:
        s.close()
    time.sleep(2)
    return {"rss_before_kib": base, "rss_fresh_kib": fresh, "rss_used_kib": used, "open": count, "answered": answered,
            "kib_per_conn_fresh": (fresh - base) / count, "kib_per_conn_used": (used - base) / count,
            "close_with_idle": loaded}
