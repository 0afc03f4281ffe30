"""What the tests and the benchmarks do on the broker through ``rabbitmqctl``
-- vhosts, the queues' counts, stopping and starting the application,
cutting connections, queue policies -- and :func:`publish_persistent`.

The standard library only: the benchmarks import this module, and a large
benchmark process would inflate the peak memory its measured children
report (their ``ru_maxrss`` counts what they inherit at the fork).
"""

import json
import shutil
import subprocess
import time


class RabbitmqctlError(subprocess.CalledProcessError):
    """A failed ``rabbitmqctl`` call, whose message carries the tool's own words."""

    def __str__(self):
        said = (self.stderr or self.stdout or "").strip()
        return f"{super().__str__()}: {said}" if said else super().__str__()


def rabbitmqctl(*args, check=True, timeout=60, attempts=1):
    """Run rabbitmqctl; return its stdout (raises RabbitmqctlError if check).

    ``attempts`` > 1 is for idempotent commands only: on a loaded machine
    the CLI (an Erlang node of its own) now and then fails to reach the
    broker, and trying again a second later is what an operator would do.
    """
    executable = shutil.which("rabbitmqctl")
    if executable is None:
        raise FileNotFoundError("rabbitmqctl is not on PATH")
    for attempt in range(attempts):
        if attempt:
            time.sleep(1.0)
        result = subprocess.run(  # noqa: S603 - fixed executable, arguments from the tests
            [executable, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode == 0:
            break
    if check and result.returncode != 0:
        raise RabbitmqctlError(result.returncode, result.args, result.stdout, result.stderr)
    return result.stdout


def broker_stop():
    """Stop the RabbitMQ application (every vhost!): keep the outage short."""
    rabbitmqctl("stop_app")


def broker_start():
    rabbitmqctl("start_app")
    rabbitmqctl("await_startup")


def close_vhost_connections(vhost, reason="test: connection cut"):
    rabbitmqctl("close_all_connections", "-p", vhost, reason)


def create_vhost(vhost, user="guest"):
    """A fresh, empty ``vhost`` (deleted first if it is there) where ``user``
    may do anything."""
    rabbitmqctl("delete_vhost", vhost, check=False)
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")


def delete_vhost(vhost):
    rabbitmqctl("delete_vhost", vhost, check=False)


QUEUE_COUNTS = ("messages_ready", "messages_unacknowledged", "consumers")


def list_queues(vhost, columns=QUEUE_COUNTS):
    """{queue name: the counts ``columns`` of ``rabbitmqctl list_queues``},
    by default (messages ready, messages unacknowledged, consumers)."""
    out = rabbitmqctl(
        "list_queues", "-p", vhost, "--quiet", "--no-table-headers", "name", *columns, attempts=3
    )
    queues = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 1 + len(columns):
            queues[parts[0]] = tuple(int(p) for p in parts[1:])
    return queues


def set_policy(vhost, name, pattern, definition):
    """A queue policy in the test vhost (e.g. one that refuses publishes)."""
    rabbitmqctl(
        "set_policy",
        "-p",
        vhost,
        "--apply-to",
        "queues",
        name,
        pattern,
        json.dumps(definition),
        attempts=3,
    )


def clear_policy(vhost, name):
    rabbitmqctl("clear_policy", "-p", vhost, name, check=False)


def publish_persistent(producer, body, routing_key, content_type, **options):
    """Publish ``body`` as the hub and the relay do: persistent, the bytes as
    they are (``content_encoding`` binary: kombu encodes nothing).  The
    benchmarks publish their backlogs with it too."""
    producer.publish(
        body,
        routing_key=routing_key,
        content_type=content_type,
        content_encoding="binary",
        delivery_mode=2,
        **options,
    )
