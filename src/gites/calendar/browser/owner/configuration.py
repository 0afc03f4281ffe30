"""``configuration``: how the owner's calendar is used (docs/owner-pages.rst).

One choice, "Utilisation du calendrier" (vocabulary
``proprio.calendarconfig``), defaulting to the state of the owner's first
public cottage.  Saving applies it to **all** the owner's cottages, public
or not, with their modification date and blocking history
(:mod:`gites.calendar.domain.calendar_state`).  A blocked (``bloque``) calendar
cannot be changed here: the owner reactivates it from the e-mail link or
asks the Gîtes de Wallonie.

A z3c.form form, registered in ZCML (forms.zcml) like every form: grok
registers the plain views only.  CSRF protected by plone.app.z3cform
(``enableCSRFProtection``).
"""

from plone.z3cform.layout import FormWrapper
from z3c.form import button, field, form
from z3c.form.browser.radio import RadioFieldWidget
from zope import schema
from zope.interface import Interface

from gites.calendar import _, clock
from gites.calendar.browser import base
from gites.calendar.db.models import BLOQUE
from gites.calendar.db.session import get_session
from gites.calendar.domain.calendar_state import (
    OWNER_STATES,
    apply_configuration,
    owner_cottages_all,
)
from gites.calendar.domain.owners import calendar_state, current_pro_pk, get_proprio, owner_cottages


class IConfigurationSchema(Interface):
    calendar_config = schema.Choice(
        title=_("configuration_field_title", default="Utilisation du calendrier"),
        vocabulary="proprio.calendarconfig",
        required=True,
    )


class ConfigurationForm(form.Form):
    fields = field.Fields(IConfigurationSchema)
    fields["calendar_config"].widgetFactory = RadioFieldWidget
    ignoreContext = True
    enableCSRFProtection = True
    label = _("configuration_title", default="Configuration de mon calendrier")
    description = _(
        "configuration_description",
        default="Ce choix s'applique à tous vos hébergements.",
    )

    def update(self):
        base.require_member()
        base.no_store(self.request)
        session = get_session()
        self.pro_pk = current_pro_pk()
        proprio = get_proprio(session, self.pro_pk)
        self.public_cottages = owner_cottages(session, self.pro_pk)
        self.state = calendar_state(self.public_cottages)
        # Not an active proprio with a public cottage, or blocked: nothing to save.
        self.editable = (
            bool(proprio is not None and proprio.pro_etat and self.public_cottages)
            and self.state != BLOQUE
        )
        if not self.editable:
            self.buttons = button.Buttons()
        super().update()
        if not self.editable:
            self.status = (
                _(
                    "configuration_blocked",
                    default=(
                        "Votre calendrier est bloqué. Veuillez contacter les Gîtes de Wallonie."
                    ),
                )
                if self.state == BLOQUE
                else _(
                    "configuration_no_cottage",
                    default="Vous n'avez aucun hébergement dont le calendrier peut être configuré.",
                )
            )

    def updateWidgets(self, prefix=None):
        super().updateWidgets(prefix)
        widget = self.widgets["calendar_config"]
        if self.state in OWNER_STATES and not self.request.form.get(widget.name):
            term = widget.terms.getTerm(self.state)
            widget.value = [term.token]
        if not self.editable:
            widget.mode = "display"

    @button.buttonAndHandler(_("configuration_save", default="Enregistrer"), name="save")
    def handle_save(self, action):
        data, errors = self.extractData()
        if errors:
            self.status = self.formErrorsMessage
            return
        session = get_session()
        cottages = owner_cottages_all(session, self.pro_pk)
        apply_configuration(
            session, cottages, data["calendar_config"], clock.today(), self.pro_pk, clock.now()
        )
        self.state = data["calendar_config"]
        self.status = _("configuration_saved", default="Votre configuration a été enregistrée.")


class ConfigurationView(FormWrapper):
    form = ConfigurationForm
    label = ConfigurationForm.label
