#!/usr/bin/env python3
"""`make test`: the whole suite through zope.testrunner, then one summary line.

The suite runs on SQLite and on PostgreSQL in the same run (each test class
that touches the database has a twin on each), and against the machine's
RabbitMQ.  The last line, ``tests: N passed, N failed, N skipped``, is the
one CI reads.  Extra arguments go to zope.testrunner (e.g. ``-t test_codec``).
"""

import os
import pathlib
import sys

from zope.testrunner.runner import Runner

TOP = pathlib.Path(__file__).resolve().parent.parent


def main(argv):
    os.environ.setdefault("GITES_TEST_DB_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("GITES_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    defaults = ["--test-path", str(TOP / "src"), "--auto-color", "-vv"]
    runner = Runner(defaults=defaults, args=[sys.argv[0], *argv])
    runner.run()
    failed = len(runner.failures) + len(runner.errors) + len(runner.import_errors or ())
    skipped = len(runner.skipped)
    passed = runner.ran - len(runner.failures) - len(runner.errors) - skipped
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes") and skipped:
        print("CI=true: skipped tests count as failures here", file=sys.stderr)
        return 1
    if runner.ran == 0 and not runner.options.fail:
        print("no test ran", file=sys.stderr)
        return 1
    return 1 if (runner.failed or failed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
