#!/usr/bin/env python3
"""`make run`: Plone on http://localhost:8080/Plone and the hub daemon.

Everything on embedded defaults unless the environment says otherwise:

* ``GITES_DB_URL`` -- default: a SQLite file ``var/gites.db``;
* ``AMQP_BROKER_URL`` -- default: kombu's SQLAlchemy transport in
  ``var/kombu.db`` (works across processes without a broker server);
* the Zope instance lives in ``var/instance`` (admin / admin).

Demo rows are loaded only where missing, so a second run keeps the data.
Ctrl-C stops everything this script started.
"""

import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.request

TOP = pathlib.Path(__file__).resolve().parent.parent
VAR = TOP / "var"
BIN = TOP / "bin"
INSTANCE = VAR / "instance"
PORT = int(os.environ.get("GITES_HTTP_PORT", "8080"))


def run(*args, env):
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, env=env, cwd=TOP)


def make_instance(env):
    if (INSTANCE / "etc" / "zope.conf").exists():
        return
    run(BIN / "mkwsgiinstance", "-d", INSTANCE, "-u", "admin:admin", env=env)
    ini = INSTANCE / "etc" / "zope.ini"
    text = ini.read_text()
    if f"port = {PORT}" not in text:
        import re

        ini.write_text(re.sub(r"(?m)^port = \d+", f"port = {PORT}", text))


def main():
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("GITES_DB_URL", f"sqlite:///{VAR / 'gites.db'}")
    env.setdefault("GITES_SITE_URL", f"http://localhost:{PORT}/Plone")
    env.setdefault("AMQP_BROKER_URL", f"sqla+sqlite:///{VAR / 'kombu.db'}")
    env.setdefault("zope_i18n_compile_mo_files", "true")
    run(BIN / "initCalendarDatabase", "--demo", env=env)
    make_instance(env)
    run(
        BIN / "zconsole",
        "run",
        INSTANCE / "etc" / "zope.conf",
        TOP / "tools" / "create_site.py",
        env=env,
    )

    children = [
        subprocess.Popen(
            [str(BIN / "runwsgi"), str(INSTANCE / "etc" / "zope.ini")], env=env, cwd=TOP
        ),
        subprocess.Popen(
            [str(BIN / "importCalendarEventsFromWalhebCalendarDaemon")], env=env, cwd=TOP
        ),
    ]

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    url = f"http://localhost:{PORT}/Plone"
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(1)
    print(f"\n  Plone:  {url}  (admin/admin; owners proprio/proprio and proprio2/proprio2)")
    print(f"  Owner calendar: {url}/zone-membre/calendrier/month.html?pk=1")
    print("  Ctrl-C stops the site and the daemon.\n", flush=True)
    while True:
        for child in children:
            if child.poll() is not None:
                print(f"{child.args[0]} exited with {child.returncode}; stopping", file=sys.stderr)
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
