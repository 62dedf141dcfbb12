"""factory-boy factories that build valid tracker records.

Every factory creates through ``proposals.services`` (the same path as the
admin, the API and the seed loader), so each record passes ``full_clean``,
every constraint holds, proposals open with a status event and evidence
quotes sit exactly at their offsets. ``build()`` gives unsaved instances
for the simple records only; proposals, evidence and events exist only
through their services.

    proposal = ProposalFactory(topics=[TopicFactory()], with_evidence=True)
    StatusEventFactory(proposal=proposal, status="adopted")

For volume (pagination, exports), ``create_proposals_in_bulk`` inserts many
bare proposals in a few queries while keeping the same invariants.
"""

import datetime as dt
import itertools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory
from simple_history.utils import bulk_create_with_history

from proposals import services
from proposals.models import (
    Actor,
    ActorKind,
    DatePrecision,
    Evidence,
    ProponentRole,
    Proposal,
    Source,
    Status,
    StatusEvent,
    Topic,
    Venue,
    VenueKind,
)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("pw-user-1")

    @factory.post_generation
    def editor(self, create, extracted, **kwargs):
        """``UserFactory(editor=True)`` puts the user in the "Editors" group."""
        if create and extracted:
            self.groups.add(Group.objects.get(name="Editors"))


class _ServiceRecordFactory(DjangoModelFactory):
    """Creates simple records through ``services.record_save`` (full_clean + save)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, user=None, **kwargs):
        return services.record_save(instance=model_class(), user=user, **kwargs)


class TopicFactory(_ServiceRecordFactory):
    class Meta:
        model = Topic

    slug = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.Sequence(lambda n: f"Topic {n}")
    description = ""


class ActorFactory(_ServiceRecordFactory):
    class Meta:
        model = Actor

    slug = factory.Sequence(lambda n: f"actor-{n}")
    name = factory.Sequence(lambda n: f"Actor {n}")
    named = True
    kind = ActorKind.PERSON
    description = ""
    country_code = ""

    class Params:
        # A state must carry its ISO 3166-1 alpha-2 code (model check + DB constraint).
        state = factory.Trait(kind=ActorKind.STATE, country_code="CN")
        organisation = factory.Trait(kind=ActorKind.ORGANISATION)


class VenueFactory(_ServiceRecordFactory):
    class Meta:
        model = Venue

    slug = factory.Sequence(lambda n: f"venue-{n}")
    name = factory.Sequence(lambda n: f"Venue {n}")
    kind = VenueKind.SUMMIT
    organisation = None
    starts_on = None
    ends_on = None


class SourceFactory(_ServiceRecordFactory):
    """A source whose text holds a few sentences unique to it, so
    ``EvidenceFactory`` can quote it without ambiguity."""

    class Meta:
        model = Source

    slug = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"Source {n}")
    authors = "A. Writer"
    outlet = "Outlet"
    published_on = dt.date(2016, 1, 1)
    published_precision = DatePrecision.DAY
    text = factory.Sequence(
        lambda n: (
            f"Report number {n} opens here. "
            f"Delegates of source {n} proposed a joint centre. "
            f"Ministers of source {n} agreed to a treaty. "
            "The end."
        )
    )


class ProposalFactory(DjangoModelFactory):
    """A proposal created by ``services.proposal_create``: links set, one
    status event recorded, ``status`` derived from it.

    ``proponents`` defaults to one primary proponent (a new actor);
    ``with_evidence=True`` attaches one quote from a new source.
    """

    class Meta:
        model = Proposal

    slug = factory.Sequence(lambda n: f"proposal-{n}")
    title = factory.Sequence(lambda n: f"Proposal {n}")
    summary = factory.LazyAttribute(lambda o: f"Summary of {o.title}.")
    venue = factory.SubFactory(VenueFactory)
    proposed_on = dt.date(2016, 5, 1)
    proposed_precision = DatePrecision.DAY
    initial_status = Status.PROPOSED
    topics = factory.LazyFunction(list)
    parties = factory.LazyFunction(list)
    proponents = factory.LazyFunction(
        lambda: [{"actor": ActorFactory(), "role": ProponentRole.PROPOSED, "is_primary": True}]
    )
    relations = factory.LazyFunction(list)

    class Params:
        with_evidence = False

    @classmethod
    def _create(cls, model_class, *args, with_evidence=False, **kwargs):
        proposal = services.proposal_create(**kwargs)
        if with_evidence:
            EvidenceFactory(proposal=proposal)
        return proposal

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("Proposals exist only through services.proposal_create; use create().")


class EvidenceFactory(DjangoModelFactory):
    """A quote attached by ``services.evidence_attach``; the offsets are found.
    By default it quotes a sentence that occurs once in a new source."""

    class Meta:
        model = Evidence

    proposal = factory.SubFactory(ProposalFactory)
    source = factory.SubFactory(SourceFactory)
    quote = factory.LazyAttribute(lambda o: o.source.text.split(". ")[1] + ".")
    start = None
    end = None
    note = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.evidence_attach(**kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("Evidence exists only through services.evidence_attach; use create().")


class StatusEventFactory(DjangoModelFactory):
    """An event recorded by ``services.status_event_record``, which also
    moves the proposal's current status when the event is the latest."""

    class Meta:
        model = StatusEvent

    proposal = factory.SubFactory(ProposalFactory)
    status = Status.UNDER_DISCUSSION
    occurred_on = dt.date(2017, 1, 1)
    precision = DatePrecision.DAY
    note = ""
    evidence = None
    user = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.status_event_record(**kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("Status events exist only through services.status_event_record; use create().")


_bulk_numbers = itertools.count()


def create_proposals_in_bulk(n: int, *, venue: Venue | None = None, proposed_on=dt.date(2016, 5, 1)) -> list[Proposal]:
    """``n`` bare proposals (no proponents, topics or quotes) in a handful of
    queries, in the state ``services.proposal_create`` leaves: each valid by
    the model's field rules, status ``proposed`` with the matching opening
    status event, and a history row for both. On PostgreSQL the search
    trigger fills ``search_vector`` as for any insert."""
    proposals = []
    for _ in range(n):
        number = next(_bulk_numbers)
        proposal = Proposal(
            slug=f"bulk-proposal-{number}",
            title=f"Bulk proposal {number}",
            venue=venue,
            proposed_on=proposed_on,
            status=Status.PROPOSED,
        )
        # Uniqueness and constraints are left to the database (no query per row).
        proposal.full_clean(validate_unique=False, validate_constraints=False)
        proposals.append(proposal)
    proposals = bulk_create_with_history(proposals, Proposal)
    events = []
    for proposal in proposals:
        event = StatusEvent(
            proposal=proposal,
            status=Status.PROPOSED,
            occurred_on=proposed_on or dt.date.today(),
            precision=DatePrecision.DAY,
            note="Status when the proposal was recorded.",
        )
        event.full_clean(exclude=["proposal"], validate_unique=False, validate_constraints=False)
        events.append(event)
    bulk_create_with_history(events, StatusEvent)
    return proposals
