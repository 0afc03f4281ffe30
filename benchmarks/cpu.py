"""CPU accounting of the HTTP benchmarks: a process's, PostgreSQL's and the
machine's CPU seconds during a phase, read from ``/proc``."""

import os
import pathlib

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid):
    """CPU seconds (user + system) used so far by process ``pid``; 0 if gone."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def postgres_pids():
    """The PostgreSQL server's processes (postmaster and backends)."""
    pids = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


class CpuMeter:
    """CPU used during a phase by one process, by PostgreSQL and by the machine."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        self.pg_pids = postgres_pids()
        self._start = (
            process_cpu(self.pid),
            sum(process_cpu(p) for p in self.pg_pids),
            machine_cpu(),
        )
        return self

    def __exit__(self, *exc):
        proc, pg, (busy, total) = self._start
        self.process = process_cpu(self.pid) - proc
        # Backends started during the phase are not counted: the pools of
        # the measured processes are warm before a phase starts.
        self.postgres = sum(process_cpu(p) for p in self.pg_pids) - pg
        now_busy, now_total = machine_cpu()
        self.machine_busy = (now_busy - busy) / max(now_total - total, 1e-9)

    def per_request(self, requests):
        """'Zope x.x ms + PostgreSQL y.y ms CPU per request, machine z % busy'."""
        n = max(requests, 1)
        return (
            f"CPU per request: Zope {self.process / n * 1000:.2f} ms,"
            f" PostgreSQL {self.postgres / n * 1000:.2f} ms; machine {self.machine_busy:.0%} busy"
        )
