"""Demonstration data (make run, initCalendarDatabase --demo).

Proprio 1 (Plone login ``proprio``) has two public cottages, one with a CGT
code; proprio 2 (``proprio2``) has one.  Rows are added only where missing,
so loading it into a database that has data changes nothing that is there.
The demo members are linked to their proprio in ``gites_calendar_owner_link``
as an ops tool would do it (their Plone user id is their login).
"""

import datetime

from gites.calendar.db.models import ACTIF, Hebergement, OwnerLink, Proprio

PROPRIOS = [
    {
        "pro_pk": 1,
        "pro_nom1": "Dupont",
        "pro_prenom1": "Marie",
        "pro_email": "marie.dupont@example.org",
    },
    {
        "pro_pk": 2,
        "pro_nom1": "Lambert",
        "pro_prenom1": "Luc",
        "pro_email": "luc.lambert@example.org",
    },
]
COTTAGES = [
    {"heb_pk": 1, "heb_nom": "Gîte du Moulin", "heb_code_cgt": "HAFF1234", "heb_pro_fk": 1},
    {"heb_pk": 2, "heb_nom": "La Ferme des Hêtres", "heb_code_cgt": None, "heb_pro_fk": 1},
    {"heb_pk": 3, "heb_nom": "Le Refuge de l'Ourthe", "heb_code_cgt": "HAFF5678", "heb_pro_fk": 2},
]
# Plone members of the demo: login, password, pro_pk
MEMBERS = [("proprio", "proprio", 1), ("proprio2", "proprio2", 2)]


def load_demo(session, today=None):
    """Add the demo rows that are missing; return how many were added."""
    today = today or datetime.date.today()
    now = datetime.datetime.combine(today, datetime.time())
    added = 0
    for values in PROPRIOS:
        if session.get(Proprio, values["pro_pk"]) is None:
            session.add(Proprio(pro_etat=True, **values))
            added += 1
    session.flush()
    for values in COTTAGES:
        if session.get(Hebergement, values["heb_pk"]) is None:
            session.add(
                Hebergement(
                    heb_site_public="1",
                    heb_calendrier_proprio=ACTIF,
                    heb_calendrier_proprio_date_maj=today,
                    **values,
                )
            )
            added += 1
    for login, _password, pro_pk in MEMBERS:
        if session.get(OwnerLink, login) is None:
            session.add(OwnerLink(member_id=login, pro_pk=pro_pk, set_by="demo", set_at=now))
            added += 1
    session.flush()
    return added
