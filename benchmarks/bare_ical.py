"""Baseline of importIcalFeeds run: fetch and parse the same feeds, nothing else (a subprocess).

The same URLs (read from the database once), the same pool size, the same
fetcher (``icalfetch.fetch``: address checks, deadline, size cap) and the
same parser (``icalnights.feed_nights``), unconditional requests, no
database write: what any import has to do.  Prints the feeds read and the
nights found.
"""

import argparse
import concurrent.futures
import datetime
import sys

import psycopg2

from gites.calendar.domain import ical_fetch, ical_nights


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--workers", type=int, default=32)
    args = parser.parse_args(argv)
    with psycopg2.connect(args.dsn) as db, db.cursor() as cur:
        cur.execute("SELECT url FROM gites_calendar_ical_feed ORDER BY id")
        urls = [row[0] for row in cur.fetchall()]
    today = datetime.date.today()
    allowed = ical_fetch.allowed_networks()

    def one(url):
        return len(
            ical_nights.feed_nights(ical_fetch.fetch(url, allowed=allowed).body, today).nights
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as pool:
        nights = sum(pool.map(one, urls))
    print(f"{len(urls)} feeds, {nights} nights")


if __name__ == "__main__":
    sys.exit(main())
