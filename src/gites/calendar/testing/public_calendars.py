"""Cottages the public may or may not see, all with the same busy days
(test_public, test_public_queries)."""

import datetime

from gites.calendar.db.models import BLOQUE, INDISP, LOUE, NON_ACTIF, SEARCH_ACTIF, Reservation
from gites.calendar.testing.fixtures import add_cottage, add_proprio

PUBLIC_DAYS_CREATED = datetime.datetime(2030, 3, 10, 14, 30)


def add_days(session, heb_pk, kind, *days):
    for day in days:
        session.add(
            Reservation(
                res_date=datetime.datetime.combine(
                    datetime.date.fromisoformat(day), datetime.time()
                ),
                res_type=kind,
                heb_fk=heb_pk,
                pro_fk=None,
                res_date_cre=PUBLIC_DAYS_CREATED,
            )
        )


def populate_public_calendars(session):
    """Proprio 1: cottages 10 (public actif), 11 (private), 12 (searchactif),
    13 (non actif), 14 (bloque), 15 (second public actif).  Proprio 2 is
    inactive: cottage 20 is public and actif.  Every cottage has the same
    busy days."""
    add_proprio(session, 1)
    add_proprio(session, 2, active=False)
    session.flush()
    add_cottage(session, 10, 1, nom="Le Moulin")
    add_cottage(session, 11, 1, public=False)
    add_cottage(session, 12, 1, state=SEARCH_ACTIF)
    add_cottage(session, 13, 1, state=NON_ACTIF)
    add_cottage(session, 14, 1, state=BLOQUE)
    add_cottage(session, 15, 1, nom="La Ferme")
    add_cottage(session, 20, 2)
    session.flush()
    for heb_pk in (10, 11, 12, 13, 14, 15, 20):
        add_days(session, heb_pk, LOUE, "2030-02-28", "2030-03-09", "2030-03-10", "2030-03-11")
        add_days(session, heb_pk, INDISP, "2030-04-30", "2030-05-01", "2031-03-01")
    session.flush()


# Cottages the public never sees: private, not actif, blocked, inactive owner, unknown.
HIDDEN_COTTAGES = (11, 12, 13, 14, 20, 99)
