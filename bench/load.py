"""A small closed-loop HTTP load generator: ``concurrency`` threads, each
sending one request after another over plain ``http.client``, until a
request budget or a time budget runs out. Loopback only.

Threads are enough: a client thread spends ~0.1 ms of CPU per request and
the rest waiting on the socket, with the GIL released."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass, field

ALLOWED_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Result:
    name: str
    paths: list[str]
    concurrency: int
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    bytes: int = 0

    def merge(self, other: Result) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.error_samples.extend(other.error_samples[: max(0, 5 - len(self.error_samples))])
        self.latencies_ms.extend(other.latencies_ms)
        self.bytes += other.bytes

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms)
        ok = self.requests - self.errors
        return {
            "name": self.name,
            "path": self.paths[0],
            "distinct_paths": len(set(self.paths)),
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "seconds": round(self.seconds, 3),
            "rps": round(ok / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(lat, 50), 2),
            "p90_ms": round(percentile(lat, 90), 2),
            "p95_ms": round(percentile(lat, 95), 2),
            "p99_ms": round(percentile(lat, 99), 2),
            "max_ms": round(lat[-1], 2) if lat else 0.0,
            "mean_ms": round(sum(lat) / len(lat), 2) if lat else 0.0,
            "avg_bytes": round(self.bytes / self.requests) if self.requests else 0,
        }


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * pct // 100))  # ceil
    return sorted_values[int(rank) - 1]


def run(
    name: str,
    host: str,
    port: int,
    paths: list[str],
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    timeout: float = 30.0,
    headers: dict | None = None,
    expect: int = 200,
) -> Result:
    """Send GETs for ``paths`` (round robin) until ``duration`` seconds or
    ``max_requests`` requests, whichever comes first. ``headers`` are added
    to every request; a status other than ``expect`` counts as an error."""
    if host not in ALLOWED_HOSTS:
        raise ValueError(f"The benchmark only sends traffic to loopback, not {host!r}.")
    result = Result(name=name, paths=paths, concurrency=concurrency)
    ticket = itertools.count()
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + duration

    def worker():
        local = Result(name=name, paths=paths, concurrency=concurrency)
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        sent = {"Accept": "application/json", "Connection": "keep-alive", **(headers or {})}
        while True:
            n = next(ticket)
            if n >= max_requests or time.perf_counter() >= deadline:
                break
            path = paths[n % len(paths)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=sent)
                response = conn.getresponse()
                body = response.read()
                elapsed = (time.perf_counter() - t0) * 1000
                local.requests += 1
                local.bytes += len(body)
                local.latencies_ms.append(elapsed)
                if response.status != expect:
                    local.errors += 1
                    if len(local.error_samples) < 5:
                        local.error_samples.append(f"{response.status} {path}: {body[:200]!r}")
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                local.requests += 1
                local.errors += 1
                local.latencies_ms.append((time.perf_counter() - t0) * 1000)
                if len(local.error_samples) < 5:
                    local.error_samples.append(f"{type(exc).__name__}: {exc} ({path})")
                conn.close()
        conn.close()
        with lock:
            result.merge(local)

    threads = [threading.Thread(target=worker, name=f"load-{i}") for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # merge() summed per-thread seconds; the wall time is what counts.
    result.seconds = time.perf_counter() - started
    return result
