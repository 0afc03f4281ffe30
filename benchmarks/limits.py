"""Worst-case cost of one hub message at the limits (not part of make bench).

    bin/python benchmarks/limits.py

For each kind of hostile body, the largest one the limits let through to
decoding (64 KiB, 5000 pickle opcodes, 100 levels): CPU seconds and peak
Python memory of ``read_hub_message`` (size check, inflating, decoding,
validation), best of three.  docs/messaging.rst quotes the output.
"""

import json
import os
import pickle
import sys
import time
import tracemalloc
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from gites.calendar.messaging import intake  # noqa: E402
from gites.calendar.messaging.codec import InvalidMessage  # noqa: E402
from gites.calendar.testing.hub_messages import colliding_keys_pickle

LIMIT = intake.DEFAULT_MAX_BYTES
PICKLE = "application/x-python-serialize"
JSON = "application/json"


class Message:
    def __init__(self, body, content_type, headers=None, content_encoding="binary"):
        self.body, self.content_type, self.content_encoding = body, content_type, content_encoding
        self.headers, self.properties, self.errors = headers or {}, {}, []


def largest(make, low=1, high=10**6):
    """The largest n whose make(n) is within the size limit."""
    while low < high:
        mid = (low + high + 1) // 2
        if len(make(mid)) <= LIMIT:
            low = mid
        else:
            high = mid - 1
    return make(low)


def collisions(n):
    return colliding_keys_pickle(n)


def cases():
    yield "pickle, 2,400 keys sharing one hash (opcode limit)", Message(collisions(2400), PICKLE)
    yield "pickle, 4,600 keys sharing one hash (64 KiB)", Message(collisions(4600), PICKLE)
    shared = [0] * 100
    yield "pickle, one shared list 2,300 times", Message(pickle.dumps([shared] * 2300, 2), PICKLE)
    deep = []
    for _ in range(99):
        deep = [deep, deep]
    yield "pickle, 99 levels of shared pairs (2**99 paths)", Message(pickle.dumps(deep, 2), PICKLE)
    yield (
        "pickle, one 64 KiB integer",
        Message(largest(lambda n: pickle.dumps({"notf_id": 1 << (8 * n)}, 2)), PICKLE),
    )
    yield (
        "JSON, 64 KiB list of zeros",
        Message(largest(lambda n: json.dumps([0] * n).encode()), JSON),
    )
    yield "JSON, 64 KiB of nested lists", Message(b"[" * LIMIT, JSON)
    yield (
        "JSON, 64 KiB of distinct keys",
        Message(largest(lambda n: json.dumps({str(i): 0 for i in range(n)}).encode()), JSON),
    )
    bomb = zlib.compress(b" " * (100 * 1024 * 1024))
    yield (
        f"zlib, {len(bomb)} bytes inflating to 100 MiB",
        Message(bomb, JSON, {"compression": "application/x-gzip"}),
    )


def measure(message):
    best = None
    for _ in range(3):
        tracemalloc.start()
        started = time.process_time()
        try:
            body = message.body
            if "compression" in message.headers:
                body = intake._DECODERS[message.headers["compression"]](body)
            intake.read_hub_message(Message(body, message.content_type))
            outcome = "decoded"
        except (InvalidMessage, ValueError) as error:
            outcome = str(error)[:60]
        seconds = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if best is None or seconds < best[0]:
            best = (seconds, peak, outcome)
    return best


def main():
    intake.install_bounded_decompressors(LIMIT)
    print(f"limits: {LIMIT} bytes, 5000 pickle opcodes, depth 100; Python {sys.version.split()[0]}")
    for name, message in cases():
        seconds, peak, outcome = measure(message)
        print(
            f"{name:<52} {len(message.body):>7} B {seconds * 1000:8.1f} ms"
            f" {peak / 2**20:6.1f} MiB  {outcome}"
        )


if __name__ == "__main__":
    main()
