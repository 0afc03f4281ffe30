"""The private iCal token belongs to the cottage and its owner (issue 15).

After a change of owner (``heb_pro_fk``) the old owner's URL opens nothing,
and the new owner's page gets a new token.
"""

from zope.component import getMultiAdapter
from zope.interface import alsoProvides

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, IcalToken
from gites.calendar.domain import ical_export
from gites.calendar.interfaces import IGitesCalendarLayer
from gites.calendar.testing import DatabaseTestCase, integration_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import add_cottage, add_proprio

HEB, OLD_OWNER, NEW_OWNER = 101, 10, 20


@on_both_databases(integration_layers())
class TestTokenFollowsTheOwner(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.portal = self.layer["portal"]
        self.request = self.layer["request"]
        alsoProvides(self.request, IGitesCalendarLayer)
        self.session = db.get_session()
        add_proprio(self.session, OLD_OWNER)
        add_proprio(self.session, NEW_OWNER)
        self.session.flush()
        add_cottage(self.session, HEB, OLD_OWNER)
        self.session.flush()
        self.old_token = ical_export.get_or_create_token(self.session, HEB)

    def feed_status(self, token):
        self.request.form.clear()
        self.request.form["token"] = token
        self.request.response.setStatus(200)
        getMultiAdapter((self.portal, self.request), name="gites-ical")()
        return self.request.response.getStatus()

    def change_owner(self):
        self.session.get(Hebergement, HEB).heb_pro_fk = NEW_OWNER
        self.session.flush()

    def test_token_is_stable_for_one_owner(self):
        self.assertEqual(ical_export.get_or_create_token(self.session, HEB), self.old_token)
        self.assertEqual(self.session.get(IcalToken, HEB).pro_pk, OLD_OWNER)
        self.assertEqual(self.feed_status(self.old_token), 200)

    def test_old_owners_url_stops_working(self):
        self.change_owner()
        self.assertIsNone(ical_export.cottage_for_token(self.session, self.old_token))
        self.assertEqual(self.feed_status(self.old_token), 404)

    def test_new_owner_gets_a_new_token(self):
        self.change_owner()
        new_token = ical_export.get_or_create_token(self.session, HEB)
        self.assertNotEqual(new_token, self.old_token)
        self.assertEqual(ical_export.get_or_create_token(self.session, HEB), new_token)
        self.assertEqual(ical_export.cottage_for_token(self.session, new_token).heb_pk, HEB)
        self.assertEqual(self.feed_status(new_token), 200)
        self.assertEqual(self.feed_status(self.old_token), 404)

    def test_owner_given_the_cottage_back_does_not_get_his_old_url_back(self):
        self.change_owner()
        ical_export.get_or_create_token(self.session, HEB)
        self.session.get(Hebergement, HEB).heb_pro_fk = OLD_OWNER
        self.session.flush()
        self.assertIsNone(ical_export.cottage_for_token(self.session, self.old_token))
        self.assertNotEqual(ical_export.get_or_create_token(self.session, HEB), self.old_token)

    def test_renewed_token_is_the_current_owners(self):
        self.change_owner()
        token = ical_export.renew_token(self.session, HEB)
        self.assertEqual(self.session.get(IcalToken, HEB).pro_pk, NEW_OWNER)
        self.assertEqual(ical_export.cottage_for_token(self.session, token).heb_pk, HEB)

    def test_token_older_than_the_owner_column_is_replaced(self):
        self.session.get(IcalToken, HEB).pro_pk = None
        self.session.flush()
        self.assertIsNone(ical_export.cottage_for_token(self.session, self.old_token))
        self.assertNotEqual(ical_export.get_or_create_token(self.session, HEB), self.old_token)
