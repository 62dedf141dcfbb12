"""Representations of the tracker's records, for reading and writing.

Conventions every serializer here follows:

* Fields are listed explicitly; server-owned ones are read-only.
* Related records appear as small objects (``{"id": 3, "name": "..."}``) and
  are written in the same shape (only ``id`` or ``slug`` is read back), so a
  client can ``PUT`` back what it ``GET``s and nothing changes.
* Strings are stored exactly as sent: no whitespace trimming, because a
  trimmed quote no longer matches its offsets.
* JSON types are kept: a number or boolean where a string is expected is a
  400 (``invalid``), never stored as its text (``"slug": 123`` was ``"123"``).
* Unknown body fields are refused with a 400 naming them; read-only fields
  that a representation includes are accepted and ignored.
"""

import datetime as dt
from collections.abc import Mapping

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from .. import services
from ..models import (
    Actor,
    Evidence,
    Participation,
    PartyAction,
    ProponentRole,
    Proposal,
    RelationType,
    Source,
    Status,
    StatusEvent,
    Topic,
    Venue,
    check_one_primary,
    lowercase_slug,
)
from ..tracking import services as tracking


class StrictFieldsMixin:
    """Refuse body fields the serializer does not know."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class StrictStringMixin:
    """For a text field: only a JSON string is text. DRF's ``CharField``
    turns a number into its text (``123`` → ``"123"``), which hides a client
    bug and stores what nobody sent; here it is a 400 with DRF's own
    ``invalid`` code ("Not a valid string."). Form bodies are all strings,
    so they are unaffected, except that an empty form value is a value:
    DRF skips ``name=`` in a form ``PATCH`` as if it were absent, so the
    request succeeded and silently changed nothing; now it is validated
    like ``"name": ""`` in JSON (a 400 for a field that may not be blank)."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary.get(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """Only a JSON integer is an integer. DRF's ``IntegerField`` also takes
    ``"1"``, ``1.0``, ``true`` and even ``"１"`` (a full-width digit), which
    hides a client bug and can address the wrong record; here each is a 400
    ("A valid integer is required.")."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """Only JSON ``true`` or ``false`` is a boolean; DRF's ``BooleanField``
    also takes ``"yes"``, ``1``, ``"on"``... Anything else is a 400."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


_STRICT_STRING_CLASSES: dict[type, type] = {}


def strict_string_field(field_class: type) -> type:
    """``field_class`` (a DRF ``CharField`` or subclass: slug, URL, email...)
    with :class:`StrictStringMixin`; one subclass per class, made once."""
    if field_class not in _STRICT_STRING_CLASSES:
        _STRICT_STRING_CLASSES[field_class] = type(
            f"Strict{field_class.__name__}", (StrictStringMixin, field_class), {}
        )
    return _STRICT_STRING_CLASSES[field_class]


class LosslessModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A ModelSerializer that keeps strings byte for byte, and takes only
    JSON values of each field's own type: strings for text, integers for
    numbers, true/false for booleans."""

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(field_class, serializers.SlugField) and lowercase_slug in model_field.validators:
            # The model's stricter rule (in the field's validators) says it
            # all; DRF's own slug regex would add a second error for one value.
            field_class = serializers.CharField
            field_kwargs.pop("allow_unicode", None)
        if issubclass(field_class, serializers.CharField):
            field_kwargs["trim_whitespace"] = False
            field_class = strict_string_field(field_class)
        elif field_class is serializers.BooleanField:
            field_class = StrictBooleanField
        elif field_class is serializers.IntegerField:
            field_class = StrictIntegerField
        return field_class, field_kwargs


class RecordSaveMixin:
    """Create and update through ``services.record_save``: model validation,
    one transaction, and the history row credited to the request's user."""

    def create(self, validated_data):
        return services.record_save(instance=self.Meta.model(), user=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return services.record_save(instance=instance, user=self.context["request"].user, **validated_data)


# --------------------------------------------------------------------------
# References to related records
# --------------------------------------------------------------------------


class RefSerializer(StrictFieldsMixin, serializers.Serializer):
    """A related record shown as ``{id, name...}`` and written as ``{id}``
    (other keys are ignored); validation turns it into the model instance."""

    model = None
    id = StrictIntegerField(min_value=1)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        instance = self.model.objects.filter(pk=value["id"]).first()
        if instance is None:
            raise serializers.ValidationError({"id": [f"No {self.model._meta.verbose_name} with id {value['id']}."]})
        return instance


class VenueRefSerializer(RefSerializer):
    model = Venue
    name = serializers.CharField(read_only=True)


class ActorRefSerializer(RefSerializer):
    model = Actor
    name = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)


class SourceRefSerializer(RefSerializer):
    model = Source
    title = serializers.CharField(read_only=True)


class TopicRefSerializer(StrictFieldsMixin, serializers.Serializer):
    slug = strict_string_field(serializers.SlugField)()
    name = serializers.CharField(read_only=True)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        topic = Topic.objects.filter(slug=value["slug"]).first()
        if topic is None:
            raise serializers.ValidationError({"slug": [f"No topic with slug {value['slug']!r}."]})
        return topic


class ProponentSerializer(StrictFieldsMixin, serializers.Serializer):
    """Who put the proposal forward, and in what role. ``id`` is the actor's."""

    id = StrictIntegerField(source="actor_id", min_value=1)
    name = serializers.CharField(source="actor.name", read_only=True)
    role = serializers.ChoiceField(choices=ProponentRole.choices)
    primary = StrictBooleanField(source="is_primary", default=False)

    def validate(self, attrs):
        actor = Actor.objects.filter(pk=attrs["actor_id"]).first()
        if actor is None:
            raise serializers.ValidationError({"id": [f"No actor with id {attrs['actor_id']}."]})
        # A partial update (PATCH) applies no field defaults to nested items,
        # so an item without "primary" has no is_primary: it is not primary.
        return {"actor": actor, "role": attrs["role"], "is_primary": attrs.get("is_primary", False)}


class RelationSerializer(StrictFieldsMixin, serializers.Serializer):
    """A typed link to another proposal, named by its slug."""

    relation = serializers.ChoiceField(source="relation_type", choices=RelationType.choices)
    slug = strict_string_field(serializers.SlugField)(source="to_proposal.slug")
    title = serializers.CharField(source="to_proposal.title", read_only=True)
    status = serializers.ChoiceField(source="to_proposal.status", choices=Status.choices, read_only=True)

    def validate(self, attrs):
        slug = attrs["to_proposal"]["slug"]
        target = Proposal.objects.filter(slug=slug).first()
        if target is None:
            raise serializers.ValidationError({"slug": [f"No proposal with slug {slug!r}."]})
        return {"relation_type": attrs["relation_type"], "to_proposal": target}


# --------------------------------------------------------------------------
# Proposal sub-resources
# --------------------------------------------------------------------------


OFFSET_UNIT = (
    "Counted in Unicode code points (Python `str` indices), not bytes and not UTF-16 units: "
    "`text[start:end] == quote` in Python. In JavaScript use `start_utf16`/`end_utf16`."
)


class EvidenceSerializer(LosslessModelSerializer):
    """A verbatim quote and where it sits in its source: ``text[start:end] ==
    quote``, offsets counted in Unicode code points. ``start_utf16`` and
    ``end_utf16`` give the same span in UTF-16 code units, the unit of
    JavaScript strings (``text.slice(start_utf16, end_utf16) === quote``);
    they differ once an emoji or other character above U+FFFF precedes the
    quote. When adding one, leave ``start``/``end`` out to have them found;
    give ``start`` (code points) to pick one of several occurrences."""

    source = SourceRefSerializer()
    start = StrictIntegerField(
        min_value=0, required=False, allow_null=True, help_text=f"Offset of the quote's first character. {OFFSET_UNIT}"
    )
    end = StrictIntegerField(
        min_value=1, required=False, allow_null=True, help_text=f"Offset just past the quote (exclusive). {OFFSET_UNIT}"
    )
    start_utf16 = serializers.IntegerField(
        read_only=True,
        help_text="`start` in UTF-16 code units, for JavaScript, Java and C#: "
        "`text.slice(start_utf16, end_utf16) === quote`. Computed by the server; ignored when sent.",
    )
    end_utf16 = serializers.IntegerField(
        read_only=True, help_text="`end` in UTF-16 code units (exclusive). Computed by the server; ignored when sent."
    )

    class Meta:
        model = Evidence
        fields = ["id", "quote", "source", "start", "end", "start_utf16", "end_utf16", "note", "created_at"]
        read_only_fields = ["id", "start_utf16", "end_utf16", "created_at"]


class StatusEventSerializer(LosslessModelSerializer):
    """One dated entry of the status timeline. Adding one moves the
    proposal's current status when it is the latest."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    evidence = StrictIntegerField(
        source="evidence_id",
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Id of one of this proposal's evidence quotes backing the event.",
    )
    recorded_by_role = serializers.CharField(
        read_only=True,
        help_text="Who recorded it, as far as the public may know: `staff`, `editor` or `system` (the seed "
        "loader). Usernames are shown to editors only, in the history.",
    )

    class Meta:
        model = StatusEvent
        fields = [
            "id",
            "status",
            "status_label",
            "occurred_on",
            "precision",
            "note",
            "evidence",
            "recorded_by_role",
            "recorded_at",
        ]
        read_only_fields = ["id", "recorded_at"]


# --------------------------------------------------------------------------
# Tracking: participation rows and aliases (proposals.tracking)
# --------------------------------------------------------------------------


class AliasSerializer(StrictFieldsMixin, serializers.Serializer):
    """Another name the record goes by, with its language: a BCP 47 tag
    (RFC 5646: `zh`, `zh-Hans`, `en`), or `""` when unspecified."""

    name = strict_string_field(serializers.CharField)(max_length=300, trim_whitespace=False)
    language = strict_string_field(serializers.CharField)(
        max_length=35, allow_blank=True, default="", trim_whitespace=False
    )

    def to_representation(self, alias):
        return {"name": alias.name, "language": alias.language}


class AliasesMixin:
    """An ``aliases`` list on a record's representation, written with the
    record itself.

    Why a list field and not an ``/aliases/`` sub-resource: an alias is a
    small value (a name and a language) with no identity, life or link of
    its own, owned by exactly one record, and shown in that record's
    representation; so it is edited as part of the record, like a
    proposal's ``topics``. A ``PUT``/``PATCH`` that sends ``aliases``
    replaces the whole list (missing ones are removed, new ones added,
    unchanged ones kept), under the record's own ``If-Match``, and moves its
    ``ETag`` once; leaving ``aliases`` out keeps them. One URL per record
    kind fewer, and one concurrency rule for the record and its names.
    Each alias is validated by the model (``proposals.tracking.models``)."""

    def _save_with_aliases(self, save, validated_data):
        aliases = validated_data.pop("aliases", None)
        user = self.context["request"].user
        with services.write_batch(user):
            instance = save(validated_data)
            if aliases is not None:
                tracking.aliases_sync(owner=instance, aliases=aliases, user=user)
        return instance

    def create(self, validated_data):
        return self._save_with_aliases(super().create, validated_data)

    def update(self, instance, validated_data):
        return self._save_with_aliases(lambda data: super(AliasesMixin, self).update(instance, data), validated_data)

    def validate_aliases(self, value):
        keys = [(item["name"], item.get("language", "")) for item in value]
        if len(keys) != len(set(keys)):
            raise serializers.ValidationError("The same alias (name and language) is listed twice.")
        return value


def aliases_field():
    return AliasSerializer(
        many=True,
        required=False,
        help_text="Other names, each `{name, language}`. Sending the list replaces them all; leave it out to "
        "keep them.",
    )


class PartyRefSerializer(StrictFieldsMixin, serializers.Serializer):
    """The party of a participation row: shown as ``{id, slug, name,
    kind}``, written as ``{"slug": ...}`` (other keys are ignored)."""

    id = serializers.IntegerField(read_only=True)
    slug = strict_string_field(serializers.SlugField)()
    name = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        actor = Actor.objects.filter(slug=value["slug"]).first()
        if actor is None:
            raise serializers.ValidationError({"slug": [f"No actor with slug {value['slug']!r}."]})
        return actor


class ParticipationSerializer(LosslessModelSerializer):
    """One dated action of one party on the proposal: `signed`,
    `ratified` (or `accepted`/`approved`), `acceded`,
    `entered_into_force` (for that party), `supported`, `opposed`,
    `reservation` or `withdrew`."""

    party = PartyRefSerializer()
    action = serializers.ChoiceField(choices=PartyAction.choices)
    action_label = serializers.CharField(source="get_action_display", read_only=True)
    evidence = StrictIntegerField(
        source="evidence_id",
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Id of one of this proposal's evidence quotes backing the row.",
    )

    class Meta:
        model = Participation
        fields = [
            "id",
            "party",
            "action",
            "action_label",
            "occurred_on",
            "precision",
            "evidence",
            "note",
            "recorded_at",
        ]
        read_only_fields = ["id", "recorded_at"]


class PartyActionSerializer(ParticipationSerializer):
    """One action in the per-party table (its party is the entry's)."""

    party = None

    class Meta(ParticipationSerializer.Meta):
        fields = [name for name in ParticipationSerializer.Meta.fields if name != "party"]


class PartyParticipationSerializer(serializers.Serializer):
    """One party's row of the per-party table: the party and its dated
    actions, oldest first (undated last)."""

    party = PartyRefSerializer(read_only=True)
    actions = PartyActionSerializer(many=True, read_only=True)


def participation_table(rows) -> list[dict]:
    """Participation rows grouped per party, like a treaty database's status
    page: ``[{"party": Actor, "actions": [Participation, ...]}]``, parties
    by name, each party's actions by date (undated last), then id."""
    by_party: dict[int, dict] = {}
    for row in rows:
        by_party.setdefault(row.party_id, {"party": row.party, "actions": []})["actions"].append(row)
    table = sorted(by_party.values(), key=lambda entry: (entry["party"].name, entry["party"].pk))
    for entry in table:
        entry["actions"].sort(key=lambda r: (r.occurred_on is None, r.occurred_on or dt.date.min, r.pk))
    return table


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    """One saved version of a record: who, when, what kind of change, and
    the field-level differences from the version before it."""

    history_id = serializers.IntegerField()
    date = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=[("created", "created"), ("changed", "changed"), ("deleted", "deleted")])
    user = serializers.CharField(allow_null=True, help_text="The author's username; shown to editors only.")
    role = serializers.ChoiceField(
        choices=[("staff", "staff"), ("editor", "editor"), ("system", "system")],
        help_text="The author's role: `staff`, `editor`, or `system` for the seed loader and unattributed changes.",
    )
    reason = serializers.CharField(allow_null=True)
    changes = HistoryChangeSerializer(many=True)


# --------------------------------------------------------------------------
# Proposals
# --------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.URI)
class ProposalUrlField(serializers.Field):
    """The proposal's API URL, built from one reversed prefix per request
    instead of one ``reverse()`` per row."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        kwargs["source"] = "*"
        super().__init__(**kwargs)

    def to_representation(self, proposal):
        return proposal_url(self.context, proposal.slug)


def proposal_url(context: dict, slug: str) -> str:
    """A proposal's absolute API URL; the prefix is reversed once per request."""
    prefix = context.get("_proposal_url_prefix")
    if prefix is None:
        path = reverse("proposal-detail", kwargs={"slug": "__slug__"})
        request = context.get("request")
        full = request.build_absolute_uri(path) if request else path
        prefix = context["_proposal_url_prefix"] = full.split("__slug__")[0]
    return f"{prefix}{slug}/"


def version_url(context: dict, proposal_id: int, version: int) -> str:
    """A version's permanent address, ``…/proposals/versions/{id}/{n}/``: by
    the record's immutable id, so a renamed proposal's slug, reused by
    another record, never takes its permalinks over."""
    return f"{proposal_url(context, f'versions/{proposal_id}')}{version}/"


@extend_schema_field(OpenApiTypes.URI)
class PermalinkField(ProposalUrlField):
    """This version's permanent address, ``…/proposals/versions/{id}/{version}/``
    (by id, not slug): it serves these same bytes for ever
    (``proposals.versions``)."""

    def to_representation(self, proposal):
        return version_url(self.context, proposal.pk, proposal.version)


@extend_schema_field(OpenApiTypes.URI)
class AtomFeedField(ProposalUrlField):
    """The proposal's Atom feed (status events and new quotes): ``/feeds/proposals/{slug}.atom``."""

    def to_representation(self, proposal):
        prefix = self.context.get("_feed_url_prefix")
        if prefix is None:
            path = reverse("feed-proposal", kwargs={"slug": "__slug__"})
            request = self.context.get("request")
            prefix = self.context["_feed_url_prefix"] = (request.build_absolute_uri(path) if request else path).split(
                "__slug__"
            )[0]
        return f"{prefix}{proposal.slug}.atom"


class ProposalListSerializer(serializers.ModelSerializer):
    """A proposal as a list row: enough to render it without another request."""

    url = ProposalUrlField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    venue = VenueRefSerializer(read_only=True, allow_null=True)
    proponents = ProponentSerializer(many=True, read_only=True)
    topics = TopicRefSerializer(many=True, read_only=True)

    class Meta:
        model = Proposal
        fields = [
            "id",
            "url",
            "slug",
            "title",
            "status",
            "status_label",
            "venue",
            "proponents",
            "topics",
            "proposed_on",
            "proposed_precision",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, proposal):
        # The hot path of the API: the same shape the declared fields
        # describe (and the schema documents), built directly instead of
        # through ~10 field objects per row. tests/api pin the output.
        venue = proposal.venue
        return {
            "id": proposal.id,
            "url": proposal_url(self.context, proposal.slug),
            "slug": proposal.slug,
            "title": proposal.title,
            "status": proposal.status,
            "status_label": STATUS_LABELS.get(proposal.status, proposal.status),
            "venue": {"id": venue.id, "name": venue.name} if venue is not None else None,
            "proponents": proposal.list_proponents(),
            "topics": proposal.list_topics(),
            "proposed_on": proposal.proposed_on.isoformat() if proposal.proposed_on else None,
            "proposed_precision": proposal.proposed_precision,
            "updated_at": _iso_datetime(proposal.updated_at),
        }


STATUS_LABELS = dict(Status.choices)


def _iso_datetime(value):
    """DRF's DateTimeField output: ISO 8601 in UTC with a ``Z``."""
    value = timezone.localtime(value, dt.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else value


class ProposalSerializer(AliasesMixin, LosslessModelSerializer):
    """A proposal with everything about it. Writable fields are those a
    client may set; ``status`` changes only by adding a status event, and
    evidence only through the evidence sub-resource."""

    url = ProposalUrlField()
    permalink = PermalinkField()
    feed = AtomFeedField()
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    venue = VenueRefSerializer(allow_null=True, required=False)
    topics = TopicRefSerializer(many=True, required=False)
    parties = ActorRefSerializer(many=True, required=False)
    proponents = ProponentSerializer(many=True, required=False)
    related = RelationSerializer(source="relations_out", many=True, required=False)
    evidence = EvidenceSerializer(many=True, read_only=True)
    events = StatusEventSerializer(many=True, read_only=True)
    aliases = aliases_field()
    participation = serializers.SerializerMethodField(
        help_text="Per party (by name), its dated actions on the proposal: signature, ratification, accession, "
        "entry into force for it, support... Write rows at `/proposals/{slug}/participation/`."
    )
    initial_status = serializers.ChoiceField(
        choices=Status.choices,
        write_only=True,
        required=False,
        help_text="Create only: the status to open the timeline with (default proposed).",
    )

    class Meta:
        model = Proposal
        fields = [
            "id",
            "url",
            "slug",
            "title",
            "summary",
            "status",
            "status_label",
            "initial_status",
            "venue",
            "proponents",
            "topics",
            "parties",
            "proposed_on",
            "proposed_precision",
            "proposed_note",
            "evidence",
            "events",
            "related",
            "aliases",
            "participation",
            "created_at",
            "updated_at",
            "version",
            "permalink",
            "feed",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "version"]

    @extend_schema_field(PartyParticipationSerializer(many=True))
    def get_participation(self, proposal):
        table = participation_table(proposal.participation.all())
        return PartyParticipationSerializer(table, many=True, context=self.context).data

    def validate_proponents(self, value):
        check_one_primary(link["is_primary"] for link in value)
        keys = [(link["actor"].pk, link["role"]) for link in value]
        if len(keys) != len(set(keys)):
            raise serializers.ValidationError("The same actor is listed twice with the same role.")
        return value

    def validate(self, attrs):
        if self.instance is not None and "initial_status" in attrs:
            raise serializers.ValidationError(
                {"initial_status": ["Only when creating. Add a status event to change the status."]}
            )
        relations = attrs.get("relations_out") or []
        if self.instance is not None and any(r["to_proposal"].pk == self.instance.pk for r in relations):
            raise serializers.ValidationError({"related": ["A proposal cannot relate to itself."]})
        return attrs

    def _split(self, validated):
        related = {
            "topics": validated.pop("topics", None),
            "parties": validated.pop("parties", None),
            "proponents": validated.pop("proponents", None),
            "relations": validated.pop("relations_out", None),
        }
        return validated, related

    def create(self, validated_data):
        fields, related = self._split(validated_data)
        initial_status = fields.pop("initial_status", Status.PROPOSED)
        return self._save_with_aliases(
            lambda data: services.proposal_create(
                user=self.context["request"].user, initial_status=initial_status, **related, **data
            ),
            fields,
        )

    def update(self, instance, validated_data):
        fields, related = self._split(validated_data)
        return self._save_with_aliases(
            lambda data: services.proposal_update(
                proposal=instance, user=self.context["request"].user, **related, **data
            ),
            fields,
        )


# --------------------------------------------------------------------------
# Actors, venues, sources, topics
# --------------------------------------------------------------------------


class ActorSerializer(AliasesMixin, RecordSaveMixin, LosslessModelSerializer):
    """A person, organisation, state or intergovernmental body. Unnamed
    actors ("one Chinese scholar") have ``named: false``."""

    affiliation = ActorRefSerializer(allow_null=True, required=False)
    aliases = aliases_field()

    class Meta:
        model = Actor
        fields = [
            "id",
            "slug",
            "name",
            "named",
            "kind",
            "description",
            "affiliation",
            "country_code",
            "aliases",
            "updated_at",
            "version",
        ]
        read_only_fields = ["id", "updated_at", "version"]


class VenueSerializer(AliasesMixin, RecordSaveMixin, LosslessModelSerializer):
    """Where proposals are put forward or taken up."""

    organisation = ActorRefSerializer(allow_null=True, required=False)
    aliases = aliases_field()

    class Meta:
        model = Venue
        fields = [
            "id",
            "slug",
            "name",
            "kind",
            "organisation",
            "place",
            "starts_on",
            "ends_on",
            "note",
            "aliases",
            "updated_at",
            "version",
        ]
        read_only_fields = ["id", "updated_at", "version"]


class SourceListSerializer(RecordSaveMixin, LosslessModelSerializer):
    """A source's metadata, without its text."""

    evidence_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Source
        fields = [
            "id",
            "slug",
            "title",
            "authors",
            "outlet",
            "published_on",
            "published_precision",
            "published_note",
            "url",
            "language",
            "sha256",
            "evidence_count",
            "updated_at",
            "version",
        ]
        read_only_fields = ["id", "sha256", "evidence_count", "updated_at", "version"]

    def create(self, validated_data):
        source = super().create(validated_data)
        # ``evidence_count`` is a queryset annotation (``with_related``), absent
        # on a freshly created instance, so DRF silently dropped the field from
        # the 201 response. A new source has no quotes yet.
        source.evidence_count = 0
        return source


class SourceSerializer(SourceListSerializer):
    """A source with its full verbatim text, so a client can highlight every
    quote by its offsets. While evidence points into the text, an edit must
    keep every quote at its offsets."""

    class Meta(SourceListSerializer.Meta):
        fields = [*SourceListSerializer.Meta.fields, "text"]


class TopicSerializer(AliasesMixin, RecordSaveMixin, LosslessModelSerializer):
    """A policy area."""

    aliases = aliases_field()

    class Meta:
        model = Topic
        fields = ["id", "slug", "name", "description", "aliases", "updated_at", "version"]
        read_only_fields = ["id", "updated_at", "version"]
