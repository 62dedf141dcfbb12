"""The tracker's domain: sources, actors, venues, topics, proposals, and the
quotes and status events that back every claim about a proposal.

Rules that span several rows (changing a proposal's status, attaching
verified evidence) live in ``proposals.services``; rules about one row live
in the model's ``clean()`` here, so the admin, the API and the seed loader
all obey the same checks.
"""

import datetime as dt
import hashlib
import re
import unicodedata

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connections, models
from django.db.models import Prefetch, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length, Substr
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from .changes.models import (  # noqa: F401 (ChangeCounter: the app's models live here)
    ChangeCounter,
    ChangeLogged,
    copy_changed_fields,
    links_changed,
)

SLUG_HELP = "Stable identifier used in URLs and the seed data; lowercase letters, digits and hyphens."
#: What SLUG_HELP promises, for every slugged model (Django's own slug check
#: also takes capitals and underscores): lowercase ASCII letters and digits,
#: in words joined by single hyphens. As a field validator it runs in
#: ``full_clean()``, so the admin, the API and the seed loader agree.
lowercase_slug = RegexValidator(
    r"\A[a-z0-9]+(?:-[a-z0-9]+)*\Z",
    "Use lowercase letters, digits and single hyphens, e.g. anti-extremism-treaty.",
    code="invalid",
)
BLANK_MESSAGE = "This field cannot be blank or only whitespace."
PADDED_MESSAGE = "Remove the leading and trailing whitespace."
PRIMARY_PROPONENT_RULE = "At most one proponent of a proposal can be primary."

# Register Length as a transform so a CheckConstraint can compare a quote's
# length with its offsets on both PostgreSQL and SQLite.
models.TextField.register_lookup(Length)


def is_blank(value: str) -> bool:
    """True when ``value`` holds nothing visible: only whitespace and
    invisible format characters (Unicode category Cf, e.g. U+200B ZERO WIDTH
    SPACE, U+FEFF), which ``str.strip()`` keeps."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in value)


class DatePrecision(models.TextChoices):
    """How much of a stored date is known. Month and year precision store the
    first day of the period; clients must not read more into it."""

    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


def period_start(day: dt.date, precision: str) -> dt.date:
    """The first day of the period a date of ``precision`` stands for (the
    day itself, its month or its year): dates are compared at the coarser
    of two precisions, so "2015" is not before "15 December 2015"."""
    if precision == DatePrecision.YEAR:
        return day.replace(month=1, day=1)
    if precision == DatePrecision.MONTH:
        return day.replace(day=1)
    return day


_PRECISION_RANK = {DatePrecision.DAY: 0, DatePrecision.MONTH: 1, DatePrecision.YEAR: 2}


def is_before(day: dt.date, precision: str, other: dt.date, other_precision: str) -> bool:
    """Whether ``day`` is certainly before ``other``, comparing both at the
    coarser of their precisions."""
    coarser = max(precision, other_precision, key=lambda p: _PRECISION_RANK.get(p, 0))
    return period_start(day, coarser) < period_start(other, coarser)


def latest_allowed_date() -> dt.date:
    """Tomorrow (UTC): the latest date a record of what has happened may
    carry. A day of slack, because "today" where the event happened may
    already be tomorrow in UTC."""
    return timezone.now().date() + dt.timedelta(days=1)


EVENT_BEFORE_PROPOSAL = (
    "A status event cannot be dated before the proposal was put forward (proposed_on {proposed_on}); "
    "correct proposed_on first if the proposal is older."
)


class Status(models.TextChoices):
    """The lifecycle of a proposal. The order below is the usual progression;
    any status can follow any other, because real proposals stall, revive and
    get superseded."""

    PROPOSED = "proposed", "Proposed"
    UNDER_DISCUSSION = "under_discussion", "Under discussion"
    AGREED_IN_PRINCIPLE = "agreed_in_principle", "Agreed in principle"
    ADOPTED = "adopted", "Adopted / signed"
    IN_FORCE = "in_force", "In force / implemented"
    STALLED = "stalled", "Stalled"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SUPERSEDED = "superseded", "Superseded"


#: Plain-English meaning of every status code, shown in the admin and the API docs.
STATUS_EXPLANATIONS = {
    Status.PROPOSED: "Put forward by a proponent; no party has taken it up yet.",
    Status.UNDER_DISCUSSION: "Being discussed or negotiated by the parties it would involve.",
    Status.AGREED_IN_PRINCIPLE: "The parties have agreed to it in principle; no binding text yet.",
    Status.ADOPTED: "Adopted, signed or formally decided, but not yet in force or operating.",
    Status.IN_FORCE: "In force, implemented or operating.",
    Status.STALLED: "Taken up once, but with no progress reported since.",
    Status.REJECTED: "Turned down by the parties or venue it was put to.",
    Status.WITHDRAWN: "Withdrawn by its proponent.",
    Status.SUPERSEDED: "Replaced by another proposal (see its relations).",
}


class ActorKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANISATION = "organisation", "Organisation"
    STATE = "state", "State"
    INTERGOVERNMENTAL = "intergovernmental", "Intergovernmental body"


class VenueKind(models.TextChoices):
    SUMMIT = "summit", "Summit"
    MEETING = "meeting", "Meeting"
    STANDING_BODY = "standing_body", "Standing body"
    BILATERAL_CHANNEL = "bilateral_channel", "Bilateral channel"
    FRAMEWORK = "framework", "Framework"
    PUBLICATION = "publication", "Publication"


class ProponentRole(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CALLED_FOR = "called_for", "Called for"
    ENDORSED = "endorsed", "Endorsed"
    OPPOSED = "opposed", "Opposed"
    REPORTED = "reported", "Reported / analysed"


class RelationType(models.TextChoices):
    BUILDS_ON = "builds_on", "Builds on"
    ALTERNATIVE_TO = "alternative_to", "Alternative to"
    IMPLEMENTS = "implements", "Implements"
    SUPERSEDES = "supersedes", "Supersedes"
    RELATED = "related", "Related"


class VersionedModel(models.Model):
    """Adds a ``version`` counter, bumped on every save.

    The API derives strong ETags from it and the admin uses it to refuse a
    stale save, so two editors never silently overwrite each other.
    """

    version = models.PositiveIntegerField(default=1, editable=False)

    #: Required text fields that must hold more than whitespace. Checked in
    #: ``clean_fields`` so the admin, the API and the loader refuse the same
    #: values (the admin's form fields strip whitespace, the API keeps it).
    non_blank_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            self.version += 1
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for name in self.non_blank_fields:
            if name in (exclude or ()) or name in errors:
                continue
            value = str(getattr(self, name) or "")
            if is_blank(value):
                errors[name] = [ValidationError(BLANK_MESSAGE, code="blank")]
            elif value != value.strip():
                # The admin's form fields trim; the API keeps strings as sent.
                # Refusing padding makes both store the same name.
                errors[name] = [ValidationError(PADDED_MESSAGE, code="padded")]
        if errors:
            raise ValidationError(errors)


# --------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------


class Topic(VersionedModel):
    """A policy area a proposal belongs to (terror financing, border control,
    extradition...). Topics classify; they do not nest."""

    non_blank_fields = ("name",)

    slug = models.SlugField(max_length=80, unique=True, validators=[lowercase_slug], help_text=SLUG_HELP)
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(bases=[ChangeLogged])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def delete_blockers(self):
        """Proposals that still carry this topic. Deleting it would silently
        reclassify them (without moving their version), so it is refused
        while any do."""
        return Proposal.objects.filter(topics=self)


class SourceQuerySet(models.QuerySet):
    def with_related(self):
        return self.annotate(evidence_count=models.Count("evidence", distinct=True))


class Source(VersionedModel):
    """A document proposals are drawn from, with its full verbatim text.

    Evidence quotes point into ``text`` by character offsets, so once any
    evidence exists, editing the text is allowed only if every quote still
    sits exactly at its offsets (``clean`` re-verifies and reports which
    quotes would break).
    """

    non_blank_fields = ("title",)

    slug = models.SlugField(max_length=120, unique=True, validators=[lowercase_slug], help_text=SLUG_HELP)
    title = models.CharField(max_length=500)
    authors = models.CharField(max_length=500, blank=True, help_text="Author(s) exactly as the text names them.")
    outlet = models.CharField(max_length=200, blank=True)
    published_on = models.DateField(null=True, blank=True)
    published_precision = models.CharField(max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY)
    published_note = models.TextField(blank=True, help_text="How the date was inferred, where it was.")
    url = models.URLField(max_length=1000, blank=True)
    language = models.CharField(max_length=16, default="en", help_text="BCP 47 language tag, e.g. en, zh-Hans.")
    text = models.TextField(help_text="The full verbatim text. Evidence offsets index into it.")
    sha256 = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the UTF-8 text.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(bases=[ChangeLogged])
    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "title", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="source_text_not_empty"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # The digest is derived from the text, never entered by hand.
        self.sha256 = self.digest(self.text)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not self.pk or not self.text:
            return
        previous = Source.objects.filter(pk=self.pk).values_list("text", flat=True).first()
        if previous is None or previous == self.text:
            return
        broken = [
            f"#{ev.pk} ({ev.quote[:40]!r} at {ev.start}-{ev.end})"
            for ev in self.evidence.all().only("id", "quote", "start", "end")
            if self.text[ev.start : ev.end] != ev.quote
        ]
        if broken:
            raise ValidationError(
                {
                    "text": (
                        f"This edit would break {len(broken)} evidence quote(s) that point into the text: "
                        + "; ".join(broken[:10])
                        + ". Fix or move those quotes first."
                    )
                }
            )

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


iso_3166_alpha2 = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 code, e.g. CN or US.")


class ActorQuerySet(models.QuerySet):
    def with_related(self):
        return self.select_related("affiliation").prefetch_related("aliases")


class Actor(VersionedModel):
    """A person, organisation, state or intergovernmental body that proposes,
    endorses or is party to proposals.

    Unnamed actors are first-class: "one Chinese scholar" is an actor with
    ``named=False`` and that phrase as its name, because that is all the
    source says and all a reader may rely on.
    """

    non_blank_fields = ("name",)

    slug = models.SlugField(max_length=120, unique=True, validators=[lowercase_slug], help_text=SLUG_HELP)
    name = models.CharField(max_length=300, help_text="The name, or how the text refers to an unnamed actor.")
    named = models.BooleanField(default=True, help_text="False for actors the text does not name.")
    kind = models.CharField(max_length=20, choices=ActorKind.choices)
    description = models.TextField(blank=True, help_text="As the text gives it, e.g. a title and institution.")
    # SET_NULL: deleting an institution must not delete the people affiliated with it.
    affiliation = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    country_code = models.CharField(
        max_length=2, blank=True, validators=[iso_3166_alpha2], help_text="ISO 3166-1 alpha-2; required for states."
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(bases=[ChangeLogged])
    objects = ActorQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=ActorKind.STATE) | ~Q(country_code=""), name="actor_state_has_country_code"
            ),
        ]

    def __str__(self):
        return self.name

    def delete_blockers(self):
        """Proposals this actor is party to. Deleting the actor would
        silently drop it from them, so it is refused while any remain.
        (Proponent links are protected by the database: ``on_delete=PROTECT``.)"""
        return Proposal.objects.filter(parties=self)

    def clean(self):
        super().clean()
        if self.kind == ActorKind.STATE and not self.country_code:
            raise ValidationError({"country_code": "A state needs its ISO 3166-1 alpha-2 code."})
        if self.affiliation_id and self.affiliation_id == self.pk:
            raise ValidationError({"affiliation": "An actor cannot be affiliated with itself."})


class VenueQuerySet(models.QuerySet):
    def with_related(self):
        return self.select_related("organisation").prefetch_related("aliases")


class Venue(VersionedModel):
    """Where a proposal was put forward or is to be taken up: a summit or
    meeting, a standing body, a bilateral channel, a framework, or a
    publication (an op-ed is the venue of its own recommendations)."""

    non_blank_fields = ("name",)

    slug = models.SlugField(max_length=120, unique=True, validators=[lowercase_slug], help_text=SLUG_HELP)
    name = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=VenueKind.choices)
    # SET_NULL: a venue outlives the record of its parent organisation.
    organisation = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.SET_NULL, related_name="venues")
    place = models.CharField(max_length=300, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="How place or dates were inferred, where they were.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(bases=[ChangeLogged])
    objects = VenueQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="venue_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The end date is before the start date."})


# --------------------------------------------------------------------------
# Proposals
# --------------------------------------------------------------------------


_MISSING = object()

# A list row's proponents (primary first) and topics (by name), as JSON
# arrays computed in the row's own query on PostgreSQL.
PROPONENT_ROWS_SQL = """
    SELECT jsonb_agg(jsonb_build_array(pp.actor_id, a.name, pp.role, pp.is_primary) ORDER BY pp.is_primary DESC, pp.id)
      FROM proposals_proponent pp JOIN proposals_actor a ON a.id = pp.actor_id
     WHERE pp.proposal_id = proposals_proposal.id
"""
TOPIC_ROWS_SQL = """
    SELECT jsonb_agg(jsonb_build_array(t.slug, t.name) ORDER BY t.name, t.id)
      FROM proposals_proposal_topics pt JOIN proposals_topic t ON t.id = pt.topic_id
     WHERE pt.proposal_id = proposals_proposal.id
"""

#: The columns a proposal list row (JSON or CSV) reads.
LIST_COLUMNS = [
    "id",
    "slug",
    "title",
    "status",
    "venue_id",
    "venue__id",
    "venue__name",
    "proposed_on",
    "proposed_precision",
    "updated_at",
]


class ProposalQuerySet(models.QuerySet):
    def with_list_related(self):
        """Everything a list row renders, in a fixed number of queries, and
        no column it does not (the search vector alone is ~400 bytes a row).

        On PostgreSQL each row's proponents and topics come back in the same
        query, aggregated to JSON arrays (``proponent_rows``, ``topic_rows``),
        instead of two prefetch queries that build ~150 model instances per
        page; elsewhere they are prefetched. ``Proposal.list_proponents()``
        and ``list_topics()`` read either.
        """
        queryset = self.select_related("venue").only(*LIST_COLUMNS)
        if connections[self.db].vendor == "postgresql":
            # Raw SQL on purpose: the same subqueries built with the ORM cost
            # ~3 ms of query construction per request (measured), more than
            # the database takes to run them. Arrays, not objects: jsonb
            # reorders object keys, arrays keep their order.
            return queryset.annotate(
                proponent_rows=RawSQL(PROPONENT_ROWS_SQL, (), output_field=models.JSONField()),
                topic_rows=RawSQL(TOPIC_ROWS_SQL, (), output_field=models.JSONField()),
            )
        return queryset.prefetch_related(
            Prefetch(
                "proponents",
                queryset=Proponent.objects.select_related("actor").only(
                    "id", "proposal_id", "actor_id", "role", "is_primary", "actor__id", "actor__name"
                ),
            ),
            Prefetch("topics", queryset=Topic.objects.only("id", "slug", "name")),
        )

    def with_related(self):
        """Everything a detail view renders, in a fixed number of queries."""
        return (
            self.select_related("venue")
            .defer("search_vector", "list_json", "detail_json")
            .prefetch_related(
                Prefetch("proponents", queryset=Proponent.objects.select_related("actor")),
                Prefetch("topics", queryset=Topic.objects.only("id", "slug", "name")),
                Prefetch("parties", queryset=Actor.objects.only("id", "slug", "name", "kind")),
                Prefetch("evidence", queryset=Evidence.objects.with_source_prefix()),
                Prefetch("events", queryset=StatusEvent.objects.all()),
                Prefetch("aliases"),
                Prefetch(
                    "participation",
                    queryset=Participation.objects.select_related("party").only(
                        *PARTICIPATION_COLUMNS, "party__id", "party__slug", "party__name", "party__kind"
                    ),
                ),
                Prefetch(
                    "relations_out",
                    queryset=ProposalRelation.objects.select_related("to_proposal").only(
                        "id",
                        "relation_type",
                        "note",
                        "from_proposal_id",
                        "to_proposal__id",
                        "to_proposal__slug",
                        "to_proposal__title",
                        "to_proposal__status",
                    ),
                ),
            )
        )


class ProposalHistoryLinks(models.Model):
    """Extra columns of a proposal's history rows.

    ``links`` holds the topic and party ids (``{"topics": [..], "parties":
    [..]}``) on the row that records a deletion, written by
    ``services.proposal_delete``, so ``services.proposal_restore`` can bring
    them back: many-to-many rows are gone by the time the row is written."""

    links = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


@receiver(pre_create_historical_record)
def _history_links(sender, instance, history_instance, **kwargs):
    links = getattr(instance, "_history_links", None)
    if links is not None and hasattr(history_instance, "links"):
        history_instance.links = links


class Proposal(VersionedModel):
    """A concrete policy proposal: a recommendation or call for an
    instrument, mechanism or joint action, or such an instrument reported as
    already adopted or operating.

    ``status`` is the normalised current status. It is derived from the
    latest status event and written only by
    the write batch in ``proposals.services`` when a status event is added,
    changed or removed; never set it directly.
    """

    non_blank_fields = ("title",)

    slug = models.SlugField(max_length=120, unique=True, validators=[lowercase_slug], help_text=SLUG_HELP)
    title = models.CharField(max_length=300)
    summary = models.TextField(
        blank=True, help_text="One paragraph: what is proposed, by whom, and why it is one record."
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PROPOSED, editable=False)
    # PROTECT: removing a venue must not silently orphan or delete its proposals.
    venue = models.ForeignKey(Venue, null=True, blank=True, on_delete=models.PROTECT, related_name="proposals")
    topics = models.ManyToManyField(Topic, blank=True, related_name="proposals")
    parties = models.ManyToManyField(
        Actor, blank=True, related_name="party_to", help_text="Actors the proposal would bind or involve."
    )
    proposed_on = models.DateField(null=True, blank=True, help_text="When it was first put forward.")
    proposed_precision = models.CharField(max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY)
    proposed_note = models.TextField(blank=True, help_text="How the date was inferred, where it was.")
    related = models.ManyToManyField(
        "self", through="ProposalRelation", symmetrical=False, blank=True, related_name="related_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # indexed with id: see Meta.indexes
    # Full-text search document (title, summary, evidence quotes). On
    # PostgreSQL database triggers keep it current on every write path, bulk
    # loads included, and a RUM index (GIN without the extension: migration
    # 0014) serves ``?q=``; SQLite leaves it empty
    # and searches with LIKE instead.
    search_vector = SearchVectorField(null=True, editable=False)
    # The list row as ProposalListSerializer renders it, written by the write
    # batch's flush (proposals/representations/stored.py), and the
    # ``updated_at`` it was rendered at: a row whose stamp differs is stale
    # and rendered afresh on read. Text, not jsonb: jsonb reorders keys.
    list_json = models.TextField(null=True, editable=False)
    list_json_at = models.DateTimeField(null=True, editable=False)
    # The detail as ProposalSerializer renders it, stored by the first read
    # after a change (rendering it in the write batch would multiply a
    # rename's fan-out cost), with the same kind of stamp.
    detail_json = models.TextField(null=True, editable=False)
    detail_json_at = models.DateTimeField(null=True, editable=False)

    history = HistoricalRecords(
        excluded_fields=["search_vector", "list_json", "list_json_at", "detail_json", "detail_json_at"],
        bases=[ProposalHistoryLinks, ChangeLogged],
    )
    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # Serves ?status= (counts read it without the table) and, for
            # one status, the default newest-change-first order.
            models.Index(fields=["status", "updated_at", "id"], name="proposal_status_updated_idx"),
            models.Index(fields=["proposed_on", "id"], name="proposal_proposed_on_idx"),
            models.Index(fields=["updated_at", "id"], name="proposal_updated_at_id_idx"),
            models.Index(fields=["title", "id"], name="proposal_title_idx"),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        """``proposed_on`` records when it *was* put forward: not in the
        future (tomorrow UTC at the latest), and not after any event of its
        timeline (compared at the coarser precision)."""
        super().clean()
        if not self.proposed_on:
            return
        if self.proposed_on > latest_allowed_date():
            raise ValidationError({"proposed_on": "The date it was put forward cannot be in the future."})
        if self.pk is None:
            return
        for occurred_on, precision in self.events.order_by("occurred_on").values_list("occurred_on", "precision"):
            if is_before(occurred_on, precision, self.proposed_on, self.proposed_precision):
                raise ValidationError(
                    {
                        "proposed_on": (
                            f"The timeline has a status event dated {occurred_on.isoformat()}, before this date; "
                            "a proposal is put forward before anything happens to it."
                        )
                    }
                )
            break  # the earliest event decides (at its own precision)

    def list_proponents(self) -> list[dict]:
        """``[{id, name, role, primary}]`` (``id`` is the actor's), primary
        first, from ``with_list_related()``'s JSON or prefetched links."""
        rows = getattr(self, "proponent_rows", _MISSING)
        if rows is not _MISSING:
            return [{"id": a, "name": n, "role": r, "primary": p} for a, n, r, p in rows or ()]
        return [
            {"id": link.actor_id, "name": link.actor.name, "role": link.role, "primary": link.is_primary}
            for link in self.proponents.all()
        ]

    def list_topics(self) -> list[dict]:
        """``[{slug, name}]`` by name, from JSON or prefetched topics."""
        rows = getattr(self, "topic_rows", _MISSING)
        if rows is not _MISSING:
            return [{"slug": slug, "name": name} for slug, name in rows or ()]
        return [{"slug": topic.slug, "name": topic.name} for topic in self.topics.all()]

    @property
    def primary_proponent(self):
        """The primary proponent link, read from prefetched rows when present."""
        for link in self.proponents.all():
            if link.is_primary:
                return link
        return None


class ProposalRelation(models.Model):
    """A typed, directed link between two proposals: this one builds on,
    is an alternative to, implements, supersedes, or is related to that one."""

    from_proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="relations_out")
    to_proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="relations_in")
    relation_type = models.CharField(max_length=20, choices=RelationType.choices)
    note = models.TextField(blank=True)

    history = HistoricalRecords(bases=[ChangeLogged])

    class Meta:
        ordering = ["from_proposal_id", "relation_type", "to_proposal_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_proposal", "to_proposal", "relation_type"], name="proposal_relation_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_proposal=models.F("to_proposal")), name="proposal_relation_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.from_proposal} {self.get_relation_type_display().lower()} {self.to_proposal}"

    def clean(self):
        super().clean()
        if self.from_proposal_id and self.from_proposal_id == self.to_proposal_id:
            raise ValidationError({"to_proposal": "A proposal cannot relate to itself."})


# --------------------------------------------------------------------------
# Evidence, proponents, status events
# --------------------------------------------------------------------------


def locate_quote(text: str, quote: str, start: int | None = None, end: int | None = None) -> tuple[int, int]:
    """Return the ``(start, end)`` offsets of ``quote`` in ``text``.

    Given offsets must hold the quote exactly. Missing offsets are found,
    provided the quote occurs exactly once (a ``start`` alone picks among
    several occurrences). Raises ``ValidationError`` naming the field at
    fault: an absent quote, an ambiguous one, or offsets that do not match.
    """
    if not quote:
        raise ValidationError({"quote": "The quote is empty."})
    if start is not None and end is None:
        end = start + len(quote)
    if start is not None and end is not None:
        if text[start:end] == quote:
            return start, end
        if end > len(text) or start >= len(text):
            raise ValidationError(
                {
                    "start": (
                        f"The offsets {start}-{end} are past the end of the source text, which has "
                        f"{len(text)} characters (code points). " + _where_else(text, quote)
                    )
                }
            )
        found = text[start:end]
        raise ValidationError(
            {
                "start": (
                    f"The source text at {start}-{end} is {found[:60]!r}, not the quote. " + _where_else(text, quote)
                )
            }
        )
    if end is not None:
        raise ValidationError({"start": "Give start with end, or neither."})
    positions = [m.start() for m in re.finditer(re.escape(quote), text)]
    if not positions:
        raise ValidationError({"quote": "This quote does not occur verbatim in the source text."})
    if len(positions) > 1:
        raise ValidationError(
            {
                "quote": (
                    f"This quote occurs {len(positions)} times in the source (at offsets "
                    f"{', '.join(map(str, positions[:10]))}); give start to pick one."
                )
            }
        )
    return positions[0], positions[0] + len(quote)


def _where_else(text: str, quote: str) -> str:
    positions = [m.start() for m in re.finditer(re.escape(quote), text)]
    if not positions:
        return "The quote does not occur verbatim anywhere in the source."
    return f"The quote occurs at offset(s) {', '.join(map(str, positions[:10]))}."


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of JavaScript's
    ``String`` indices: code points above U+FFFF (most emoji) count two."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class EvidenceQuerySet(models.QuerySet):
    def with_source_prefix(self):
        """With the source (its text deferred) and ``source_prefix``, the
        text before the quote, which ``start_utf16`` needs: no query per
        row, and never the whole text."""
        return (
            self.select_related("source")
            .defer("source__text")
            .annotate(source_prefix=Substr("source__text", 1, models.F("start")))
        )


class Evidence(models.Model):
    """A verbatim quote from a source that supports a proposal, a proponent
    link or a status event, located by character offsets.

    ``text[start:end] == quote`` always holds: ``clean()`` verifies it (and
    finds missing offsets) and a database constraint backs the length.
    Offsets count Unicode code points (Python ``str`` indices, PostgreSQL
    ``substr``); ``start_utf16``/``end_utf16`` give the same span in UTF-16
    code units, for JavaScript, Java and C# clients.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="evidence")
    # PROTECT: a source cannot be deleted while quotes point into it.
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="evidence")
    quote = models.TextField()
    start = models.PositiveIntegerField(null=True, blank=True, help_text="Character offset; found when left empty.")
    end = models.PositiveIntegerField(null=True, blank=True, help_text="Exclusive end offset; found when left empty.")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[ChangeLogged])
    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["proposal_id", "source_id", "start", "id"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=False, end__isnull=False, end__gt=models.F("start")),
                name="evidence_offsets_valid",
            ),
            models.CheckConstraint(
                condition=Q(quote__length=models.F("end") - models.F("start")),
                name="evidence_quote_length_matches_offsets",
            ),
            models.UniqueConstraint(fields=["proposal", "source", "start", "end"], name="evidence_unique_span"),
        ]

    def __str__(self):
        short = self.quote if len(self.quote) <= 60 else self.quote[:57] + "..."
        return f"“{short}”"

    def clean_fields(self, exclude=None):
        # Offsets past the end of the text are refused by clean()
        # (locate_quote) with the text's length; the database's integer
        # range check would repeat that in raw terms ("less than or equal
        # to 2147483647" on PostgreSQL), so it is left to clean().
        exclude = set(exclude or ())
        if self.source_id and self.quote:
            length = len(self.source.text)
            exclude.update(
                name
                for name in ("start", "end")
                if isinstance(getattr(self, name), int) and getattr(self, name) > length
            )
        super().clean_fields(exclude)

    def clean(self):
        super().clean()
        if self.pk and self.proposal_id:
            moved_from = Evidence.objects.filter(pk=self.pk).exclude(proposal_id=self.proposal_id)
            cited = moved_from.filter(
                Q(proponent_links__isnull=False) | Q(status_events__isnull=False) | Q(participation__isnull=False)
            ).exists()
            if cited:
                raise ValidationError(
                    {
                        "proposal": "Its proposal's proponent links, status events or participation rows cite "
                        "this quote; unlink them before moving it to another proposal."
                    }
                )
        if not self.source_id or not self.quote:
            return
        self.start, self.end = locate_quote(self.source.text, self.quote, self.start, self.end)

    @property
    def start_utf16(self) -> int | None:
        """``start`` in UTF-16 code units: ``start`` plus one for every code
        point above U+FFFF before the quote. Reads ``source_prefix`` when
        the queryset annotated it (``with_source_prefix``), else the text."""
        if self.start is None:
            return None
        prefix = getattr(self, "source_prefix", None)
        if prefix is None:
            prefix = self.source.text[: self.start]
        return utf16_length(prefix)

    @property
    def end_utf16(self) -> int | None:
        """``end`` in UTF-16 code units (exclusive)."""
        start = self.start_utf16
        return None if start is None else start + utf16_length(self.quote)

    def validate_constraints(self, exclude=None):
        if self.start is None or self.end is None:
            # The quote could not be located; clean() already said why, and
            # the offset constraints would only repeat it less clearly.
            exclude = {*(exclude or ()), "start", "end", "quote"}
        super().validate_constraints(exclude=exclude)


class Proponent(models.Model):
    """Links a proposal to an actor who put it forward, called for it,
    endorsed, opposed or reported it, with the evidence for the attribution.

    At most one link per proposal is primary (``check_one_primary``; the
    ``proponent_one_primary`` constraint backs it)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="proponents")
    # PROTECT: deleting an actor would silently erase who proposed what.
    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="proponent_links")
    role = models.CharField(max_length=20, choices=ProponentRole.choices, default=ProponentRole.PROPOSED)
    is_primary = models.BooleanField(default=False)
    # SET_NULL: losing a quote weakens the attribution but must not delete it.
    evidence = models.ForeignKey(
        Evidence, null=True, blank=True, on_delete=models.SET_NULL, related_name="proponent_links"
    )
    note = models.TextField(blank=True)

    history = HistoricalRecords(bases=[ChangeLogged])

    class Meta:
        ordering = ["proposal_id", "-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "actor", "role"], name="proponent_unique_role"),
            models.UniqueConstraint(fields=["proposal"], condition=Q(is_primary=True), name="proponent_one_primary"),
        ]

    def __str__(self):
        return f"{self.actor} — {self.get_role_display().lower()}"

    def clean(self):
        super().clean()
        if self.evidence_id and self.proposal_id and self.evidence.proposal_id != self.proposal_id:
            raise ValidationError({"evidence": "The evidence belongs to another proposal."})
        # A caller that checks a whole set of links at once (the admin's
        # inline formset, through check_one_primary) sets the flag.
        if self.is_primary and self.proposal_id and not getattr(self, "primary_checked_by_caller", False):
            other = Proponent.objects.filter(proposal_id=self.proposal_id, is_primary=True).exclude(pk=self.pk).first()
            if other is not None:
                raise ValidationError({"is_primary": f"{PRIMARY_PROPONENT_RULE} {other.actor} already is."})


def check_one_primary(flags) -> None:
    """The primary-proponent rule for a whole set of links at once (the
    API's list, the admin's inline rows): raises ``ValidationError`` when
    more than one of ``flags`` (``is_primary`` values) is true."""
    if sum(1 for flag in flags if flag) > 1:
        raise ValidationError(PRIMARY_PROPONENT_RULE, code="one_primary")


class StatusEventQuerySet(models.QuerySet):
    def latest_first(self):
        return self.order_by("-occurred_on", "-recorded_at", "-id")


class StatusEvent(models.Model):
    """One dated entry in a proposal's status timeline.

    The proposal's current status is its latest event's status (by date,
    then by when it was recorded). Create events through
    ``proposals.services.status_event_record``, which keeps the two in step.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=24, choices=Status.choices)
    occurred_on = models.DateField()
    precision = models.CharField(max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY)
    note = models.TextField(blank=True)
    # SET_NULL: the event stays in the timeline if its quote is removed.
    evidence = models.ForeignKey(
        Evidence, null=True, blank=True, on_delete=models.SET_NULL, related_name="status_events"
    )
    # SET_NULL: the record of an event outlives the account of who entered it.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="status_events"
    )
    recorded_by_role = models.CharField(
        max_length=10,
        blank=True,
        editable=False,
        help_text="What the public may know of who recorded it: staff, editor or system.",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[ChangeLogged])
    objects = StatusEventQuerySet.as_manager()

    class Meta:
        ordering = ["proposal_id", "occurred_on", "recorded_at", "id"]
        indexes = [models.Index(fields=["proposal", "occurred_on"], name="statusevent_timeline_idx")]

    def __str__(self):
        return f"{self.get_status_display()} on {self.occurred_on}"

    def clean(self):
        super().clean()
        # An event records what has happened; a planned date is a note on
        # today's event, not a status the proposal already holds.
        if self.occurred_on and self.occurred_on > latest_allowed_date():
            raise ValidationError({"occurred_on": "A status event cannot be dated in the future."})
        # A timeline starts when the proposal was put forward: an event dated
        # before proposed_on contradicts the proposal's own date.
        proposed_on = self.proposal.proposed_on if self.proposal_id else None
        if (
            self.occurred_on
            and proposed_on
            and is_before(self.occurred_on, self.precision, proposed_on, self.proposal.proposed_precision)
        ):
            raise ValidationError({"occurred_on": EVENT_BEFORE_PROPOSAL.format(proposed_on=proposed_on.isoformat())})
        if self.evidence_id and self.proposal_id and self.evidence.proposal_id != self.proposal_id:
            raise ValidationError({"evidence": "The evidence belongs to another proposal."})
        self.check_not_duplicate()

    def check_not_duplicate(self) -> None:
        """An event says the proposal reached a status on a date: the same
        status on the same date at the same precision, twice, says nothing
        more, and would double the history and the change feed (a re-run
        bulk action, a retried POST). Raises ``ValidationError`` (code
        ``duplicate``) naming the event already recorded. One query."""
        if not (self.proposal_id and self.status and self.occurred_on and self.precision):
            return
        twin = (
            StatusEvent.objects.filter(
                proposal_id=self.proposal_id, status=self.status, occurred_on=self.occurred_on, precision=self.precision
            )
            .exclude(pk=self.pk)
            .values_list("pk", flat=True)
            .first()
        )
        if twin is not None:
            raise ValidationError(
                f"The proposal already has this event: {self.get_status_display()}, "
                f"{self.occurred_on.isoformat()} ({self.precision}), event {twin}.",
                code="duplicate",
            )


# The change feed (proposals/changes): every history row records the fields
# it changed, and a proposal's history rows its topic and party ids.
pre_create_historical_record.connect(copy_changed_fields, dispatch_uid="change_feed_changed_fields")
models.signals.m2m_changed.connect(links_changed, sender=Proposal.topics.through, dispatch_uid="change_feed_topics")
models.signals.m2m_changed.connect(links_changed, sender=Proposal.parties.through, dispatch_uid="change_feed_parties")

# Tracking after a proposal is put forward (participation, aliases): a
# subpackage of its own, imported here so the app label stays "proposals".
# Suggestions from a new document: a subpackage of its own, imported here
# so the app label stays "proposals".
from .representations.models import ChangeSequence  # noqa: E402,F401  (app label proposals)
from .suggestions.models import Suggestion, SuggestionKind, SuggestionState  # noqa: E402, F401
from .tracking.models import (  # noqa: E402, F401
    PARTICIPATION_COLUMNS,
    ActorAlias,
    Participation,
    PartyAction,
    ProposalAlias,
    TopicAlias,
    VenueAlias,
)
from .webhooks.models import Delivery, Subscription  # noqa: E402, F401 (the app's models live in this module)
