"""Participation rows and aliases.

A ``Participation`` row says what one party did about one proposal, and
when, the way a treaty database's status page does (the UN Treaty
Collection lists, per participant, its signature, ratification, accession,
entry into force...). It is a part of the proposal, like a status event:
the proposal's own status timeline stays as it is.

An alias is another name a record goes by (李克强 for Li Keqiang, "6+N" for
"six-plus-N"), tagged with its language (BCP 47, RFC 5646). Search and the
suggestion step match aliases as well as names.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from ..changes.models import ChangeLogged
from ..models import (
    BLANK_MESSAGE,
    PADDED_MESSAGE,
    Actor,
    DatePrecision,
    Evidence,
    Proposal,
    Topic,
    Venue,
    is_before,
    is_blank,
    latest_allowed_date,
    period_start,
)


class PartyAction(models.TextChoices):
    """What a party did about a proposal. The treaty terms follow the UN
    Treaty Collection's glossary: acceptance and approval have the legal
    effect of ratification; entry into force is per party."""

    SIGNED = "signed", "Signature"
    RATIFIED = "ratified", "Ratification"
    ACCEPTED = "accepted", "Acceptance"
    APPROVED = "approved", "Approval"
    ACCEDED = "acceded", "Accession"
    ENTERED_INTO_FORCE = "entered_into_force", "Entry into force"
    SUPPORTED = "supported", "Supported"
    OPPOSED = "opposed", "Opposed"
    RESERVATION = "reservation", "Reservation"
    WITHDREW = "withdrew", "Withdrawal"


#: Past-tense verbs for history reasons ("China ratified, 2017-06-09").
ACTION_VERBS = {
    PartyAction.SIGNED: "signed",
    PartyAction.RATIFIED: "ratified",
    PartyAction.ACCEPTED: "accepted",
    PartyAction.APPROVED: "approved",
    PartyAction.ACCEDED: "acceded",
    PartyAction.ENTERED_INTO_FORCE: "entry into force for",
    PartyAction.SUPPORTED: "supported",
    PartyAction.OPPOSED: "opposed",
    PartyAction.RESERVATION: "made a reservation",
    PartyAction.WITHDREW: "withdrew",
}

PARTICIPATION_BEFORE_PROPOSAL = (
    "A party's action cannot be dated before the proposal was put forward (proposed_on {proposed_on}); "
    "correct proposed_on first if the proposal is older."
)


#: The columns a participation row's representation reads.
PARTICIPATION_COLUMNS = (
    "id",
    "proposal_id",
    "party_id",
    "action",
    "occurred_on",
    "precision",
    "evidence_id",
    "note",
    "recorded_at",
)


class Participation(models.Model):
    """One dated action of one party on a proposal: its signature,
    ratification (or acceptance, approval), accession, entry into force for
    it, support, opposition, reservation or withdrawal, with the quote that
    backs it and a note for any inference.

    Not a status event: the proposal's status is about the proposal as a
    whole; this is about one party. Not a proponent link either: a
    proponent puts the proposal forward, a party acts on it. Create, change
    and delete rows with ``proposals.tracking.services``."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="participation")
    # PROTECT: deleting an actor would silently erase what it signed or ratified.
    party = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="participation")
    action = models.CharField(max_length=24, choices=PartyAction.choices)
    occurred_on = models.DateField(null=True, blank=True, help_text="When the party acted, if the text says.")
    precision = models.CharField(max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY)
    # SET_NULL: the row stays if its quote is removed, as a status event does.
    evidence = models.ForeignKey(
        Evidence, null=True, blank=True, on_delete=models.SET_NULL, related_name="participation"
    )
    note = models.TextField(blank=True, help_text="How the row was inferred from the text, where it was.")
    # SET_NULL: the record of an action outlives the account of who entered it.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="participation"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[ChangeLogged])  # numbered in the change feed

    class Meta:
        ordering = ["proposal_id", "party_id", "occurred_on", "id"]
        verbose_name_plural = "participation"
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "party", "action", "occurred_on"], name="participation_unique_action"
            ),
        ]
        indexes = [models.Index(fields=["party", "action"], name="participation_party_action_idx")]

    def __str__(self):
        return self.describe()

    def describe(self) -> str:
        """``"China ratified, 2017-06-09"``: the party, the action as a
        verb, and the date when known."""
        party = self.party.name if self.party_id else "?"
        verb = ACTION_VERBS.get(self.action, self.action)
        text = f"{verb} {party}" if self.action == PartyAction.ENTERED_INTO_FORCE else f"{party} {verb}"
        return f"{text}, {self.occurred_on.isoformat()}" if self.occurred_on else text

    def history_label(self) -> str:
        """Names the row in its proposal's history reason."""
        return self.describe()

    def clean(self):
        """Same dating rules as a status event: not after tomorrow (UTC),
        not before the proposal's ``proposed_on`` (at the coarser
        precision); the quote must be one of this proposal's; the same
        party cannot take the same action twice on the same date (or twice
        undated). A month- or year-precision date is stored as the first
        day of its period (``DatePrecision``: "2018-05-17" at year
        precision is kept as 2018-01-01)."""
        super().clean()
        errors = {}
        if self.occurred_on and self.precision in (DatePrecision.MONTH, DatePrecision.YEAR):
            self.occurred_on = period_start(self.occurred_on, self.precision)
        if self.occurred_on and self.occurred_on > latest_allowed_date():
            errors["occurred_on"] = "A party's action cannot be dated in the future."
        elif self.occurred_on and self.proposal_id:
            proposed_on = self.proposal.proposed_on
            if proposed_on and is_before(
                self.occurred_on, self.precision, proposed_on, self.proposal.proposed_precision
            ):
                errors["occurred_on"] = PARTICIPATION_BEFORE_PROPOSAL.format(proposed_on=proposed_on.isoformat())
        if self.evidence_id and self.proposal_id and self.evidence.proposal_id != self.proposal_id:
            errors["evidence"] = "The evidence belongs to another proposal."
        if self.proposal_id and self.party_id and self.action and self.occurred_on is None:
            # The unique constraint treats NULL dates as distinct; undated
            # duplicates are refused here.
            twin = Participation.objects.filter(
                proposal_id=self.proposal_id, party_id=self.party_id, action=self.action, occurred_on__isnull=True
            ).exclude(pk=self.pk)
            if twin.exists():
                errors["action"] = "This party already has an undated row with this action on this proposal."
        if errors:
            raise ValidationError(errors)


def validate_language_tag(value: str) -> None:
    """A well-formed, registered BCP 47 language tag (RFC 5646), e.g.
    ``en``, ``zh``, ``zh-Hans``, ``ru-Cyrl``; checked against the IANA
    subtag registry by ``langcodes``. Raises ``ValidationError``."""
    import langcodes

    # langcodes reads "en_US" as "en-US"; RFC 5646 separates subtags with
    # hyphens only.
    if "_" in value or not langcodes.tag_is_valid(value):
        raise ValidationError(
            "Not a valid BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans (subtags joined by hyphens); "
            "leave it empty if unknown.",
            code="invalid",
        )


def canonical_language_tag(value: str) -> str:
    """``value`` in the case RFC 5646 §2.1.1 recommends (tags are
    case-insensitive): language lowercase, script title case, region
    uppercase (``EN`` → ``en``, ``zh-hant-tw`` → ``zh-Hant-TW``). Other
    subtags are kept; an invalid tag is returned unchanged (validation
    refuses it)."""
    import langcodes

    if not value or "_" in value or not langcodes.tag_is_valid(value):
        return value
    return langcodes.Language.get(value, normalize=False).to_tag()


#: Joiners that spell words in some scripts (ZWNJ in Persian, ZWJ in
#: Indic scripts); every other format character (Cf: zero-width space,
#: BOM, bidi controls) is invisible in a name and refused.
ALLOWED_FORMAT_CHARACTERS = {"\u200c", "\u200d"}


def invisible_characters(value: str) -> list[str]:
    """The format characters (Unicode category Cf) in ``value`` that a
    name may not hold, as ``U+XXXX`` codes, in order of first appearance."""
    import unicodedata

    return list(
        dict.fromkeys(
            f"U+{ord(ch):04X}"
            for ch in value
            if unicodedata.category(ch) == "Cf" and ch not in ALLOWED_FORMAT_CHARACTERS
        )
    )


class AliasBase(models.Model):
    """Another name a record goes by, with its language.

    ``language`` is a BCP 47 tag (``zh``, ``zh-Hans``, ``en``) or empty when
    unspecified (an acronym). An alias is not the record's own name, and is
    unique per record and language."""

    #: The foreign key naming the record the alias belongs to.
    owner_field = ""

    name = models.CharField(max_length=300)
    language = models.CharField(
        max_length=35,
        blank=True,
        validators=[validate_language_tag],
        help_text="BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans; empty when unspecified.",
    )

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} ({self.language})" if self.language else self.name

    def history_label(self) -> str:
        """Names the alias in its owner's history reason: ``李克强 (zh)``."""
        return str(self)

    @property
    def owner(self):
        return getattr(self, self.owner_field)

    def clean_fields(self, exclude=None):
        """Also: the language tag put in canonical case (so ``EN`` and ``en``
        are one tag, and the unique constraint sees them as one); a name
        blank, padded, or holding invisible format characters is refused."""
        errors = {}
        self.language = canonical_language_tag(self.language or "")
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if "name" not in errors and "name" not in (exclude or ()):
            if is_blank(self.name or ""):
                errors["name"] = [ValidationError(BLANK_MESSAGE, code="blank")]
            elif self.name != self.name.strip():
                errors["name"] = [ValidationError(PADDED_MESSAGE, code="padded")]
            elif hidden := invisible_characters(self.name):
                errors["name"] = [
                    ValidationError(
                        f"The name holds invisible characters ({', '.join(hidden)}); type it without them.",
                        code="invisible",
                    )
                ]
        if errors:
            raise ValidationError(errors)

    def clean(self):
        super().clean()
        owner_id = getattr(self, f"{self.owner_field}_id")
        if not owner_id or not self.name:
            return
        own = self.owner.title if isinstance(self.owner, Proposal) else self.owner.name
        if self.name == own:
            raise ValidationError({"name": "This is the record's own name, not an alias."})


def _alias_meta(owner_field: str, model_name: str):
    class Meta(AliasBase.Meta):
        verbose_name = f"{owner_field} alias"
        verbose_name_plural = f"{owner_field} aliases"
        constraints = [
            models.UniqueConstraint(fields=[owner_field, "name", "language"], name=f"{model_name}_unique"),
        ]

    return Meta


class ActorAlias(AliasBase):
    """Another name of an actor (李克强 for Li Keqiang)."""

    owner_field = "actor"
    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="aliases")
    history = HistoricalRecords(bases=[ChangeLogged])  # numbered in the change feed
    Meta = _alias_meta("actor", "actoralias")


class VenueAlias(AliasBase):
    """Another name of a venue."""

    owner_field = "venue"
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="aliases")
    history = HistoricalRecords(bases=[ChangeLogged])  # numbered in the change feed
    Meta = _alias_meta("venue", "venuealias")


class TopicAlias(AliasBase):
    """Another name of a topic."""

    owner_field = "topic"
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="aliases")
    history = HistoricalRecords(bases=[ChangeLogged])  # numbered in the change feed
    Meta = _alias_meta("topic", "topicalias")


class ProposalAlias(AliasBase):
    """Another name of a proposal ("SCO Convention on Countering Extremism"
    for the anti-extremism treaty once its signed name is known)."""

    owner_field = "proposal"
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="aliases")
    history = HistoricalRecords(bases=[ChangeLogged])  # numbered in the change feed
    Meta = _alias_meta("proposal", "proposalalias")


#: Each alias model by the model it names.
ALIAS_MODELS: dict[type[models.Model], type[AliasBase]] = {
    Actor: ActorAlias,
    Venue: VenueAlias,
    Topic: TopicAlias,
    Proposal: ProposalAlias,
}
