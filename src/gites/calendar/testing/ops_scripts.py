"""Ops scripts run in-process, on the test database (test_history_script,
test_ownerlink_script)."""

import contextlib
import io
import os
from unittest import mock

from gites.calendar.db import session as db


def run_ops_script(testcase, main, args):
    """main(args) with the test database in the environment, its lines and
    its stderr: (status, lines, err)."""
    lines, err = [], io.StringIO()
    with (
        mock.patch.dict(os.environ, {"GITES_DB_URL": testcase.layer["db_url"]}),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(args), out=lines.append)
    # The script configured its own engine: give the tests' back.
    db.register_engine(testcase.layer["engine"])
    return code, lines, err.getvalue()
