"""Baseline of exportCalendarEvents: a bare server-side-cursor scan (a subprocess).

The same query as the export (future rows of cottages with a CGT code,
``ORDER BY heb_fk, res_date``) through a psycopg2 named cursor (5,000 rows
per round trip), consecutive days of one cottage and type merged into
ranges, and -- unless ``--no-write`` -- the ranges inserted into the outbox
1,000 per statement (``execute_values``) in one transaction: the export's
work, by hand.  Prints the number of ranges.
"""

import argparse
import datetime
import sys

import psycopg2
from psycopg2.extras import execute_values

INSERT = (
    "INSERT INTO gites_calendar_outbox (created_at, heb_pk, cgt_id, start_date, end_date,"
    " selection_type, attempts) VALUES %s"
)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    now = datetime.datetime.now()
    today = datetime.datetime.combine(now.date(), datetime.time())
    db = psycopg2.connect(args.dsn)
    scan = db.cursor(name="bare_export")
    scan.itersize = 5000
    scan.execute(
        "SELECT r.heb_fk, h.heb_code_cgt, r.res_date, r.res_type FROM reservation_proprio r"
        " JOIN hebergement h ON h.heb_pk = r.heb_fk"
        " WHERE r.res_date >= %s AND h.heb_code_cgt IS NOT NULL AND h.heb_code_cgt != ''"
        " ORDER BY r.heb_fk, r.res_date",
        (today,),
    )
    out = db.cursor()
    batch, ranges = [], 0
    one_day = datetime.timedelta(days=1)
    current = None  # [heb, cgt, start, end, type]

    def emit(item):
        nonlocal batch, ranges
        ranges += 1
        if args.no_write:
            return
        batch.append((now, item[0], item[1], item[2], item[3], item[4], 0))
        if len(batch) >= 1000:
            execute_values(out, INSERT, batch, page_size=1000)
            batch = []

    for heb, cgt, res_date, res_type in scan:
        day = res_date.date()
        if current is not None:
            if heb == current[0] and res_type == current[4] and day - current[3] == one_day:
                current[3] = day
                continue
            emit(current)
        current = [heb, cgt, day, day, res_type]
    if current is not None:
        emit(current)
    if batch:
        execute_values(out, INSERT, batch, page_size=1000)
    scan.close()
    db.commit()
    db.close()
    print(f"bare export: {ranges} ranges")
    return 0


if __name__ == "__main__":
    sys.exit(main())
