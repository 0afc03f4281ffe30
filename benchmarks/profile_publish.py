"""The CPU one request costs Zope's publisher, without the HTTP server: for
comparing two paths on a busy machine.

Loads the bench instance left by ``bin/python -m benchmarks.profile_http
--keep`` (``var/bench/instance``, its database) in this process
(``Zope2.Startup.run.make_wsgi_app``) and calls the WSGI application
directly, one thread, requests of each kind in alternating rounds; prints
the median over rounds of the thread CPU time per request (``time.thread_time``,
so other processes' load weighs less than on wall-clock rates) for ``@@ok``,
``selectedDays`` and its ``304`` revalidation, with the ratios to ``@@ok``.
``--profile KIND`` runs that kind under cProfile instead and prints the top
functions (cumulative and own time).

    bin/python -m benchmarks.profile_publish [--rounds 7] [--requests 500]
    bin/python -m benchmarks.profile_publish --profile selectedDays
"""

import argparse
import cProfile
import datetime
import io
import pstats
import random
import statistics
import sys
import time

from benchmarks import common, http_site


def environ(path, query, headers):
    env = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_USER_AGENT": "Python-http.client",
        "HTTP_ACCEPT_ENCODING": "identity",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", default=None, help="@@ok, selectedDays or 'selectedDays 304'")
    parser.add_argument("--dump", default=None, help="with --profile: write the pstats file here")
    args = parser.parse_args(argv)
    import os

    os.environ.update(http_site.zope_env())
    from Zope2.Startup.run import make_wsgi_app

    app = make_wsgi_app({}, str(http_site.INSTANCE / "etc" / "zope.conf"))
    today = datetime.date.today()
    query = f"year={today.year}&month={today.month}&range=3"
    statuses = {}
    bodies = {}

    def call(path, qs, headers):
        out = []

        def start_response(status, response_headers, exc_info=None):
            statuses[path] = status
            return out.append

        body = app(environ(path, qs, headers), start_response)
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return data

    etags = {}
    for heb in range(1, http_site.HOT_COTTAGES + 1):
        captured = {}

        def start_response(status, response_headers, exc_info=None, captured=captured):
            captured.update(response_headers)
            return lambda data: None

        body = app(environ("/Plone/selectedDays", f"hebPk={heb}&{query}", {}), start_response)
        bodies[heb] = b"".join(body)
        if "Etag" not in captured:
            raise SystemExit(f"no ETag: {captured} {bodies[heb][:300]!r}")
        etags[heb] = captured["Etag"]
    rng = random.Random(1)

    def ok():
        call("/Plone/@@ok", "", {})

    def days():
        heb = rng.randint(1, http_site.HOT_COTTAGES)
        call("/Plone/selectedDays", f"hebPk={heb}&{query}", {})

    def not_modified():
        heb = rng.randint(1, http_site.HOT_COTTAGES)
        call("/Plone/selectedDays", f"hebPk={heb}&{query}", {"If-None-Match": etags[heb]})

    kinds = {"@@ok": ok, "selectedDays": days, "selectedDays 304": not_modified}
    for function in kinds.values():  # warm-up
        for _ in range(200):
            function()
    if args.profile:
        function = kinds[args.profile]
        profiler = cProfile.Profile(time.thread_time)
        profiler.enable()
        for _ in range(args.requests):
            function()
        profiler.disable()
        if args.dump:
            profiler.dump_stats(args.dump)
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats(order).print_stats(45)
            print(out.getvalue())
        return
    per_request = {name: [] for name in kinds}
    for _ in range(args.rounds):
        for name, function in kinds.items():
            t0 = time.thread_time()
            for _ in range(args.requests):
                function()
            per_request[name].append((time.thread_time() - t0) / args.requests)
    base = statistics.median(per_request["@@ok"])
    common.log(f"load average {os.getloadavg()[0]:.2f}")
    for name, times in per_request.items():
        median = statistics.median(times)
        spread = ", ".join(f"{t * 1000:.3f}" for t in times)
        print(
            f"{name:18s} median {median * 1000:.3f} ms CPU/request"
            f" (ok/this = {base / median:.2f}); rounds {spread}",
            flush=True,
        )


if __name__ == "__main__":
    main()
