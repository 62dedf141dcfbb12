"""Suggested records: what the suggestion engine read in a source, waiting
for a member of staff to accept or reject it. Imported at the end of
``proposals/models.py``, so the app label stays ``proposals``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ..models import Actor, DatePrecision, Evidence, Proposal, Source, Status, StatusEvent
from ..tracking.models import Participation, PartyAction


class SuggestionKind(models.TextChoices):
    NEW_PROPOSAL = "new_proposal", "New proposal"
    MENTION = "mention", "Mention of an existing proposal"
    STATUS_EVENT = "status_event", "Status event"
    PARTICIPATION = "participation", "Participation (a party's action)"


class SuggestionState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class SuggestionQuerySet(models.QuerySet):
    def with_related(self):
        """Everything the API and the admin show, in one query: the source
        without its text, the proposal, the actors and the records made."""
        return self.select_related("source", "proposal", "party", "proponent").defer("source__text")


class Suggestion(models.Model):
    """A record the suggestion engine proposes from one sentence of a
    source: a new proposal, a mention of an existing one, a status event or
    a party's participation. Not a record itself: nothing about a proposal
    changes until staff accept it (``suggestion_accept``), which creates the
    records through the usual services with the quote as their evidence.

    ``quote == source.text[start:end]`` (code points), verified like
    evidence. ``fingerprint`` identifies what was suggested (kind family,
    span, action or status, party as written), unique per source, so a
    re-run adds nothing twice and never brings back a rejected suggestion.
    """

    # CASCADE: suggestions are derived from the text; they go with it.
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="suggestions")
    kind = models.CharField(max_length=16, choices=SuggestionKind.choices)
    quote = models.TextField()
    start = models.PositiveIntegerField(help_text="Offset of the quote in the source text, in Unicode code points.")
    end = models.PositiveIntegerField(help_text="Exclusive end offset, in Unicode code points.")
    # SET_NULL: a deleted proposal leaves the suggestion readable (and unacceptable until corrected).
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions")
    alternatives = models.JSONField(
        default=list, blank=True, help_text="For mentions: [{slug, score}] of the best-matching proposals, best first."
    )
    title = models.CharField(max_length=300, blank=True, help_text="For new proposals: a working title.")
    status = models.CharField(max_length=24, choices=Status.choices, blank=True)
    action = models.CharField(max_length=24, choices=PartyAction.choices, blank=True)
    occurred_on = models.DateField(null=True, blank=True)
    precision = models.CharField(max_length=5, choices=DatePrecision.choices, blank=True)
    date_note = models.TextField(blank=True, help_text="How the date was read, e.g. a relative date resolved.")
    # SET_NULL: the name as written stays in party_name / proponent_name.
    party = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.SET_NULL, related_name="party_suggestions")
    party_name = models.CharField(max_length=300, blank=True, help_text="The party as the text names it.")
    proponent = models.ForeignKey(
        Actor, null=True, blank=True, on_delete=models.SET_NULL, related_name="proponent_suggestions"
    )
    proponent_name = models.CharField(max_length=300, blank=True, help_text="The proponent as the text names it.")
    confidence = models.FloatField(help_text="0 to 1: how sure the engine is.")
    explanation = models.TextField(help_text="Which words led to the suggestion.")
    state = models.CharField(max_length=8, choices=SuggestionState.choices, default=SuggestionState.PENDING)
    fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # SET_NULL: the decision outlives the account that made it.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions_decided"
    )
    # The records an accept created. SET_NULL: deleting one later leaves the decision on record.
    evidence = models.ForeignKey(Evidence, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status_event = models.ForeignKey(StatusEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    participation = models.ForeignKey(Participation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    history = HistoricalRecords()
    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["source_id", "start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "fingerprint"], name="suggestion_unique_fingerprint"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="suggestion_offsets_valid"),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=1), name="suggestion_confidence_0_1"
            ),
        ]
        indexes = [models.Index(fields=["state", "kind"], name="suggestion_state_kind_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.start}-{self.end} ({self.state})"
