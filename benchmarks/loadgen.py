"""A small HTTP load generator: worker processes x keep-alive connections.

Each connection is a thread with its own ``http.client.HTTPConnection``
(HTTP/1.1 keep-alive) sending requests back to back (closed loop, or
paced with ``interval``) for ``duration`` seconds after a warm-up;
latencies are measured per request with ``perf_counter``.  Worker processes
keep the client's own GIL out of
the measurement.  ``make_request(worker, conn_index, n)`` returns
``(method, path, body, headers)``; any status other than ``expect`` counts
as an error.
"""

import dataclasses
import http.client
import multiprocessing
import threading
import time


@dataclasses.dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list

    @property
    def rps(self):
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p):
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50_ms(self):
        return self.percentile(50) * 1000

    @property
    def p95_ms(self):
        return self.percentile(95) * 1000

    def summary(self):
        return (
            f"{self.rps:,.0f} req/s, p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms,"
            f" {self.requests} requests, {self.errors} errors"
        )


def _connection_loop(
    host, port, make_request, worker, index, start, warm_end, end, expect, interval, out
):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    latencies, errors, n = [], 0, 0
    if interval:
        # Paced clients start out of phase (spread over one interval), as
        # independent owners would: not all in the same millisecond.
        start += interval * ((worker * 7919 + index * 104729) % 1000) / 1000
    while time.time() < start:
        time.sleep(0.001)
    while True:
        now = time.time()
        if now >= end:
            break
        method, path, body, headers = make_request(worker, index, n)
        n += 1
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == expect
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            ok = False
        elapsed = time.perf_counter() - t0
        if now >= warm_end:
            latencies.append(elapsed)
            if not ok:
                errors += 1
        if interval and elapsed < interval:
            time.sleep(interval - elapsed)
    conn.close()
    out.append((latencies, errors))


def _worker(host, port, make_request, worker, conns, start, warm_end, end, expect, interval, queue):
    out = []
    threads = [
        threading.Thread(
            target=_connection_loop,
            args=(host, port, make_request, worker, i, start, warm_end, end, expect, interval, out),
        )
        for i in range(conns)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


def run_load(
    host, port, make_request, duration, warmup=2.0, processes=2, conns=2, expect=200, interval=0
):
    """Run the load; return a :class:`LoadResult` of the measured period.

    ``interval``: seconds between the starts of two requests of one
    connection (a paced client, e.g. an owner saving once a second); 0 =
    back to back (saturation).
    """
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    start = time.time() + 0.5
    warm_end = start + warmup
    end = warm_end + duration
    procs = [
        ctx.Process(
            target=_worker,
            args=(
                host,
                port,
                make_request,
                w,
                conns,
                start,
                warm_end,
                end,
                expect,
                interval,
                queue,
            ),
        )
        for w in range(processes)
    ]
    for p in procs:
        p.start()
    latencies, errors = [], 0
    for _ in procs:
        for lat, err in queue.get(timeout=duration + warmup + 120):
            latencies.extend(lat)
            errors += err
    for p in procs:
        p.join(30)
    return LoadResult(len(latencies), errors, duration, latencies)
