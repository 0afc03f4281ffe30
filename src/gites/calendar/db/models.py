"""SQLAlchemy models of the ``gites_wallons`` tables this package uses.

The four legacy tables exist in production with many more columns: only the
columns used here are mapped, and :mod:`gites.calendar.db` never creates,
alters or drops a legacy table that exists.  The ``gites_calendar_*`` tables
are this package's own.  No session is imported here.
"""

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# res_type values; a free day ('libre') has no row.
LOUE = "loue"
INDISP = "indisp"
LIBRE = "libre"
RESERVATION_TYPES = (LOUE, INDISP)
SELECTION_TYPES = (LOUE, INDISP, LIBRE)

# heb_calendrier_proprio values
ACTIF = "actif"
SEARCH_ACTIF = "searchactif"
NON_ACTIF = "non actif"
BLOQUE = "bloque"
CALENDAR_STATES = (ACTIF, SEARCH_ACTIF, NON_ACTIF, BLOQUE)

# BigInteger that stays an autoincrementing INTEGER PRIMARY KEY on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


# -- legacy tables ----------------------------------------------------------


class Proprio(Base):
    __tablename__ = "proprio"

    pro_pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pro_nom1: Mapped[str | None] = mapped_column(String)
    pro_prenom1: Mapped[str | None] = mapped_column(String)
    pro_email: Mapped[str | None] = mapped_column(String)
    pro_etat: Mapped[bool | None] = mapped_column(Boolean)
    pro_reactivation_hash: Mapped[str | None] = mapped_column(String)

    hebergements: Mapped[list["Hebergement"]] = relationship(
        back_populates="proprio", order_by="Hebergement.heb_pk"
    )

    @property
    def display_name(self):
        return " ".join(n for n in (self.pro_prenom1, self.pro_nom1) if n)


class Hebergement(Base):
    __tablename__ = "hebergement"

    heb_pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    heb_nom: Mapped[str | None] = mapped_column(String)
    heb_code_cgt: Mapped[str | None] = mapped_column(String)
    heb_site_public: Mapped[str | None] = mapped_column(String)
    heb_pro_fk: Mapped[int | None] = mapped_column(ForeignKey("proprio.pro_pk"))
    heb_calendrier_proprio: Mapped[str | None] = mapped_column(String)
    heb_calendrier_proprio_date_maj: Mapped[datetime.date | None] = mapped_column(Date)

    proprio: Mapped[Proprio | None] = relationship(back_populates="hebergements")

    @property
    def is_public(self):
        return self.heb_site_public == "1"


class Reservation(Base):
    """One night of a cottage that is not free."""

    __tablename__ = "reservation_proprio"

    res_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    res_date: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    res_type: Mapped[str] = mapped_column(String(20), nullable=False)
    heb_fk: Mapped[int] = mapped_column(ForeignKey("hebergement.heb_pk"), nullable=False)
    pro_fk: Mapped[int | None] = mapped_column(ForeignKey("proprio.pro_pk"))
    res_date_cre: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class BlockingHistory(Base):
    __tablename__ = "heb_blocking_history"

    heb_blockhistory_id: Mapped[int] = mapped_column(
        Integer, Sequence("heb_blockhistory_id_seq"), primary_key=True
    )
    heb_blockhistory_blocked_dte: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    heb_blockhistory_activated_dte: Mapped[datetime.date | None] = mapped_column(Date)
    heb_blockhistory_heb_pk: Mapped[int] = mapped_column(
        ForeignKey("hebergement.heb_pk"), nullable=False
    )
    heb_blockhistory_days: Mapped[int | None] = mapped_column(Integer)


LEGACY_TABLES = ("proprio", "hebergement", "reservation_proprio", "heb_blocking_history")


# -- the package's own tables -----------------------------------------------


class OutboxMessage(Base):
    """A site -> hub change, written in the owner's transaction, relayed later.

    Relayed in ``id`` order; ``sent_at`` is set only once the broker confirmed.
    """

    __tablename__ = "gites_calendar_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    heb_pk: Mapped[int] = mapped_column(Integer, nullable=False)
    cgt_id: Mapped[str] = mapped_column(String(20), nullable=False)
    start_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    selection_type: Mapped[str] = mapped_column(String(10), nullable=False)
    sent_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("gites_calendar_outbox_pending", "id", postgresql_where=sent_at.is_(None)),
    )


class HubApplied(Base):
    """Hub notifications applied to a cottage: the ordering guard.

    A notification only changes the days that no notification with a higher
    ``notf_id`` already set, so the final state is the one of applying them
    in the hub's order, whatever order they arrive in; a redelivered one is
    recognised by its (cottage, notf_id) and skipped.
    """

    __tablename__ = "gites_calendar_hub_applied"

    heb_pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    notf_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    start_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    applied_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)


class ActivityMail(Base):
    """checkCalendarActivity's record of a reminder or blocking mail.

    One row per proprio, kind and inactivity period (the modification date
    the mail was about), so a re-run never sends the same mail twice.
    """

    __tablename__ = "gites_calendar_activity_mail"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pro_pk: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # reminder | blocking
    period: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # sent | failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)

    __table_args__ = (UniqueConstraint("pro_pk", "kind", "period"),)


class IcalToken(Base):
    """The private token of a cottage's iCal feed (renewable by its owner).

    ``pro_pk`` is the cottage's owner (``heb_pro_fk``) when the token was
    made: once the cottage changes owner the token opens nothing, and the
    new owner gets a new one (NULL: a token made before the column existed,
    treated as another owner's).
    """

    __tablename__ = "gites_calendar_ical_token"

    heb_pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    pro_pk: Mapped[int | None] = mapped_column(Integer)


class OwnerLink(Base):
    """Which proprio a Plone member is: the only source of owner identity.

    Keyed by the Plone user id (not the login name, which can change).
    Written by the control panel (Managers, Site Administrators) and the ops
    script ``gitesCalendarOwnerLink`` only; no member write path reaches it.
    No foreign key to ``proprio``: the legacy application deletes proprios.
    """

    __tablename__ = "gites_calendar_owner_link"

    member_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    pro_pk: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    set_by: Mapped[str] = mapped_column(String(255), nullable=False)
    set_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)


class CalendarChange(Base):
    """One applied change of a cottage's calendar (see gites.calendar.domain.history).

    Nights: ``first_day``..``last_day`` is the range the writer asked for,
    ``new_type`` loue / indisp / libre, ``changed_days`` how many of its days
    really changed (a row is written only when some did).  A calendar state
    change (``non actif``, ``bloque``, ``actif``...) has no days: ``first_day``
    and ``last_day`` are NULL, ``changed_days`` 0, ``new_type`` the state.
    """

    __tablename__ = "gites_calendar_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    heb_pk: Mapped[int] = mapped_column(Integer, nullable=False)
    first_day: Mapped[datetime.date | None] = mapped_column(Date)
    last_day: Mapped[datetime.date | None] = mapped_column(Date)
    new_type: Mapped[str] = mapped_column(String(20), nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str | None] = mapped_column(String(128))
    changed_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    changed_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (
        # the history of a cottage, newest first
        Index("gites_calendar_change_heb", "heb_pk", "id"),
        # retention (checkCalendarActivity)
        Index("gites_calendar_change_at", "changed_at"),
    )


class NightSource(Base):
    """Which change last set each night, stored per run of nights.

    One row per run of consecutive days that one recorded change actually
    changed (at most :data:`gites.calendar.domain.night_plan.MAX_RUN` days; a change
    whose changed days are not consecutive has several rows).  A night's
    provenance is the row of the highest ``change_id`` that covers it
    (:func:`gites.calendar.domain.history.night_sources`); a freed day keeps the
    change that freed it.  Written by ``reservations.write_days`` next to
    the nights, in the same statement as the change rows on PostgreSQL
    (``history.write_plan``): a hub batch of 100 weekly bookings writes
    ~100 rows here instead of ~700 (one per night), which was most of what
    the change log cost the daemon's drain.  Rows are never updated: a
    later change adds its own; retention (``history_retention.prune_batch``) removes
    those no night is explained by any more.

    ``change_id`` has no FOREIGN KEY on purpose: its per-row check (a
    key-share lock of the change row) tripled the cost of the daemon's
    batches (make bench, drain); the retention deletes a change only once
    no row points at it.  The primary key serves the read: the runs of a
    cottage starting in [first - MAX_RUN + 1, last].
    """

    __tablename__ = "gites_calendar_night_range"

    heb_pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_day: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    # gites_calendar_change.id; no foreign key (see above), no index of its own
    change_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    last_day: Mapped[datetime.date] = mapped_column(Date, nullable=False)


class CalendarVersion(Base):
    """A counter per cottage, raised by every write of its calendar.

    The validator (``ETag``) of the public answers is derived from it: the
    legacy modification date is a day, so two changes in one day would
    otherwise leave a stale answer looking fresh.  Raised in the writer's
    transaction by :func:`gites.calendar.domain.calendar_versions.bump_versions`.
    """

    __tablename__ = "gites_calendar_version"

    heb_pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=1)


class IcalFeed(Base):
    """A calendar an owner imports into a cottage (Airbnb, Booking.com, Vrbo, Google...).

    ``type_override``: ``loue`` or ``indisp`` for every event of the feed, or
    NULL to read the type from each event's summary.  The fetch state
    (``etag``, ``last_modified``) makes the next request conditional;
    ``failing_since`` is the first failure after the last success (a feed
    failing for 24 h is flagged to the owner).
    """

    __tablename__ = "gites_calendar_ical_feed"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    heb_pk: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str | None] = mapped_column(String(100))
    type_override: Mapped[str | None] = mapped_column(String(10))
    paused: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(255))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(64))
    last_fetch_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    last_error_code: Mapped[str | None] = mapped_column(String(30))
    last_error: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    # Figures of the last successful import, shown to the owner.
    nights_blocked: Mapped[int | None] = mapped_column(Integer)
    conflicts: Mapped[int | None] = mapped_column(Integer)
    skipped_events: Mapped[int | None] = mapped_column(Integer)


class IcalNight(Base):
    """A future night an imported feed lists: the feed's claim on it.

    ``state``: ``owned`` (the feed set it, or it already had the feed's type
    when the feed first listed it and nobody else set it), or ``conflict``
    (set by the owner, the hub or another feed to another type: left as it
    is and shown).  ``set_at``: when the feed wrote it (the row's
    ``res_date_cre``), NULL when it did not write.  ``missing``: successful
    fetches in a row that no longer list it; at 2 the feed lets it go.
    """

    __tablename__ = "gites_calendar_ical_night"

    feed_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("gites_calendar_ical_feed.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    night: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    heb_pk: Mapped[int] = mapped_column(Integer, nullable=False)
    res_type: Mapped[str] = mapped_column(String(10), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False)
    set_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    missing: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (Index("gites_calendar_ical_night_heb", "heb_pk", "night"),)
