"""CRUD on the five top-level resources and who may do it."""

import datetime as dt

import pytest

from proposals.models import Actor, Proposal, Source, StatusEvent, Topic, Venue
from tests.factories import ActorFactory, EvidenceFactory, ProposalFactory, SourceFactory, TopicFactory, VenueFactory

from .helpers import assert_problem, write

API = "/api/v1"


# --------------------------------------------------------------------------
# One existing record per resource, and the URLs that address it
# --------------------------------------------------------------------------


def _existing(kind):
    """(detail URL, model instance) of a fresh record of ``kind``."""
    if kind == "proposals":
        record = ProposalFactory(slug="existing-proposal", title="Existing proposal")
        return f"{API}/proposals/{record.slug}/", record
    if kind == "topics":
        record = TopicFactory(slug="existing-topic", name="Existing topic")
        return f"{API}/topics/{record.slug}/", record
    factory = {"actors": ActorFactory, "venues": VenueFactory, "sources": SourceFactory}[kind]
    record = factory()
    return f"{API}/{kind}/{record.pk}/", record


RESOURCES = ["proposals", "actors", "venues", "sources", "topics"]


@pytest.mark.parametrize("kind", RESOURCES)
def test_anonymous_can_list_and_retrieve_each_resource(db, api, kind):
    url, record = _existing(kind)

    listing = api.get(f"{API}/{kind}/")
    assert listing.status_code == 200
    assert listing.headers["Content-Type"] == "application/json"
    assert listing.json()["count"] == type(record).objects.count()
    assert record.pk in [item["id"] for item in listing.json()["results"]]

    detail = api.get(url)
    assert detail.status_code == 200
    assert detail.json()["id"] == record.pk


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        ("proposals", "no-such-proposal"),
        ("actors", "999999"),
        ("venues", "999999"),
        ("sources", "999999"),
        ("topics", "no-such-topic"),
    ],
)
def test_unknown_record_is_a_problem_404(db, api, kind, missing):
    assert_problem(api.get(f"{API}/{kind}/{missing}/"), 404)


@pytest.mark.parametrize("kind", RESOURCES)
def test_anonymous_writes_are_401_with_an_authenticate_challenge(db, api, kind):
    url, record = _existing(kind)

    created = api.post(f"{API}/{kind}/", {"slug": "new-one"}, format="json")
    assert_problem(created, 401)
    assert created.headers["WWW-Authenticate"] == "Token"

    for method in ("put", "patch", "delete"):
        assert_problem(write(api, method, url, {"slug": "changed"}), 401)

    record.refresh_from_db()
    assert record.slug != "changed"


@pytest.mark.parametrize("kind", RESOURCES)
def test_signed_in_user_without_permission_gets_403(db, api, reader, kind):
    url, record = _existing(kind)
    api.force_authenticate(reader)
    before = type(record).objects.count()

    assert_problem(api.post(f"{API}/{kind}/", {"slug": "new-one"}, format="json"), 403)
    for method in ("put", "patch", "delete"):
        assert_problem(write(api, method, url, {"slug": "changed"}), 403)

    assert type(record).objects.count() == before
    record.refresh_from_db()
    assert record.slug != "changed"


def test_reader_may_read_but_not_add_events_or_evidence(db, api, reader):
    proposal = ProposalFactory()
    api.force_authenticate(reader)
    assert api.get(f"{API}/proposals/{proposal.slug}/events/").status_code == 200
    assert api.get(f"{API}/proposals/{proposal.slug}/evidence/").status_code == 200
    event = {"status": "adopted", "occurred_on": "2020-01-01"}
    assert_problem(api.post(f"{API}/proposals/{proposal.slug}/events/", event, format="json"), 403)
    source = SourceFactory()
    quote = {"source": {"id": source.pk}, "quote": "The end."}
    assert_problem(api.post(f"{API}/proposals/{proposal.slug}/evidence/", quote, format="json"), 403)
    api.logout()
    assert_problem(api.post(f"{API}/proposals/{proposal.slug}/events/", event, format="json"), 401)
    assert_problem(api.post(f"{API}/proposals/{proposal.slug}/evidence/", quote, format="json"), 401)
    assert StatusEvent.objects.filter(proposal=proposal).count() == 1
    assert proposal.evidence.count() == 0


# --------------------------------------------------------------------------
# Proposals
# --------------------------------------------------------------------------


def test_editor_creates_a_proposal_with_its_links_and_first_status_event(db, editor_api, editor):
    venue, topic = VenueFactory(), TopicFactory(slug="borders")
    proponent, party = ActorFactory(), ActorFactory(state=True)
    payload = {
        "slug": "joint-border-centre",
        "title": "Joint border centre",
        "summary": "  Leading and trailing spaces are kept.  ",
        "initial_status": "under_discussion",
        "venue": {"id": venue.pk},
        "proponents": [{"id": proponent.pk, "role": "called_for", "primary": True}],
        "topics": [{"slug": "borders"}],
        "parties": [{"id": party.pk}],
        "proposed_on": "2016-03-04",
        "proposed_precision": "month",
    }

    response = editor_api.post(f"{API}/proposals/", payload, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "joint-border-centre"
    assert body["status"] == "under_discussion"
    assert body["status_label"] == "Under discussion"
    assert body["summary"] == "  Leading and trailing spaces are kept.  "
    assert body["venue"] == {"id": venue.pk, "name": venue.name}
    assert body["proponents"] == [{"id": proponent.pk, "name": proponent.name, "role": "called_for", "primary": True}]
    assert body["topics"] == [{"slug": "borders", "name": topic.name}]
    assert body["parties"] == [{"id": party.pk, "name": party.name, "kind": "state"}]
    assert body["url"] == "http://testserver/api/v1/proposals/joint-border-centre/"
    assert [(e["status"], e["occurred_on"], e["precision"]) for e in body["events"]] == [
        ("under_discussion", "2016-03-04", "month")
    ]
    assert body["events"][0]["recorded_by_role"] == "editor"

    stored = Proposal.objects.get(slug="joint-border-centre")
    assert stored.status == "under_discussion"
    assert stored.summary == "  Leading and trailing spaces are kept.  "
    assert list(stored.topics.values_list("slug", flat=True)) == ["borders"]
    assert list(stored.parties.values_list("pk", flat=True)) == [party.pk]
    assert stored.history.earliest().history_user == editor


def test_proposal_status_is_read_only_on_create(db, editor_api):
    response = editor_api.post(
        f"{API}/proposals/", {"slug": "plain", "title": "Plain", "status": "in_force"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "proposed"
    assert Proposal.objects.get(slug="plain").status == "proposed"


def test_editor_replaces_a_proposal_with_put(db, editor_api):
    proposal = ProposalFactory(slug="to-replace", title="Old title")
    new_actor, topic = ActorFactory(), TopicFactory(slug="finance")
    url = f"{API}/proposals/to-replace/"

    response = write(
        editor_api,
        "put",
        url,
        {
            "slug": "to-replace",
            "title": "New title",
            "summary": "New summary.",
            "venue": None,
            "proponents": [{"id": new_actor.pk, "role": "endorsed", "primary": True}],
            "topics": [{"slug": "finance"}],
            "parties": [],
            "proposed_on": None,
            "proposed_precision": "year",
            "proposed_note": "",
            "related": [],
        },
    )

    assert response.status_code == 200, response.content
    proposal.refresh_from_db()
    assert proposal.title == "New title"
    assert proposal.venue_id is None
    assert proposal.proposed_on is None
    assert proposal.proposed_precision == "year"
    assert [(p.actor_id, p.role, p.is_primary) for p in proposal.proponents.all()] == [(new_actor.pk, "endorsed", True)]
    assert list(proposal.topics.all()) == [topic]
    assert response.json()["title"] == "New title"


def test_putting_back_what_was_read_changes_nothing(db, editor_api):
    other = ProposalFactory(slug="other")
    proposal = ProposalFactory(slug="round-trip", topics=[TopicFactory()], parties=[ActorFactory()], with_evidence=True)
    editor_api.post(
        f"{API}/proposals/round-trip/events/", {"status": "stalled", "occurred_on": "2019-01-01"}, format="json"
    )
    write(
        editor_api, "patch", f"{API}/proposals/round-trip/", {"related": [{"relation": "builds_on", "slug": "other"}]}
    )
    url = f"{API}/proposals/round-trip/"
    before = editor_api.get(url).json()
    version = Proposal.objects.get(pk=proposal.pk).version
    history_rows = proposal.history.count()

    response = write(editor_api, "put", url, before)

    assert response.status_code == 200, response.content
    assert response.json() == before
    assert Proposal.objects.get(pk=proposal.pk).version == version
    assert proposal.history.count() == history_rows
    assert other.pk != proposal.pk


def test_editor_patches_one_field_of_a_proposal(db, editor_api):
    topic = TopicFactory()
    proposal = ProposalFactory(slug="patch-me", title="Before", topics=[topic])
    response = write(editor_api, "patch", f"{API}/proposals/patch-me/", {"title": "After"})
    assert response.status_code == 200, response.content
    proposal.refresh_from_db()
    assert proposal.title == "After"
    assert list(proposal.topics.all()) == [topic]  # links left out are left alone
    assert proposal.proponents.count() == 1


def test_patching_a_proposal_with_related_proposals(db, editor_api):
    ProposalFactory(slug="older", title="Older")
    ProposalFactory(slug="newer")
    response = write(
        editor_api, "patch", f"{API}/proposals/newer/", {"related": [{"relation": "supersedes", "slug": "older"}]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["related"] == [
        {"relation": "supersedes", "slug": "older", "title": "Older", "status": "proposed"}
    ]


def test_a_proposal_cannot_relate_to_itself(db, editor_api):
    ProposalFactory(slug="selfish")
    response = write(
        editor_api, "patch", f"{API}/proposals/selfish/", {"related": [{"relation": "related", "slug": "selfish"}]}
    )
    assert_problem(response, 400, "related")


def test_initial_status_is_refused_on_update(db, editor_api):
    ProposalFactory(slug="opened")
    response = write(editor_api, "patch", f"{API}/proposals/opened/", {"initial_status": "adopted"})
    assert_problem(response, 400, "initial_status")
    assert Proposal.objects.get(slug="opened").status == "proposed"


def test_two_primary_proponents_are_refused(db, editor_api):
    a, b = ActorFactory(), ActorFactory()
    response = editor_api.post(
        f"{API}/proposals/",
        {
            "slug": "two-primaries",
            "title": "Two primaries",
            "proponents": [
                {"id": a.pk, "role": "proposed", "primary": True},
                {"id": b.pk, "role": "endorsed", "primary": True},
            ],
        },
        format="json",
    )
    assert_problem(response, 400, "proponents")
    assert not Proposal.objects.filter(slug="two-primaries").exists()


def test_a_patch_of_proponents_without_primary_sets_them_not_primary(db, editor_api):
    # Was a 500 (KeyError): a partial update applies no defaults to nested items.
    actor = ActorFactory()
    ProposalFactory(slug="patched")
    response = write(
        editor_api, "patch", f"{API}/proposals/patched/", {"proponents": [{"id": actor.pk, "role": "endorsed"}]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["proponents"] == [{"id": actor.pk, "name": actor.name, "role": "endorsed", "primary": False}]


def test_unknown_linked_records_are_refused_naming_the_nested_field(db, editor_api):
    response = editor_api.post(
        f"{API}/proposals/",
        {
            "slug": "dangling",
            "title": "Dangling",
            "venue": {"id": 999999},
            "topics": [{"slug": "no-such-topic"}],
            "proponents": [{"id": 999999, "role": "proposed", "primary": True}],
        },
        format="json",
    )
    body = assert_problem(response, 400)
    assert sorted(e["field"] for e in body["errors"]) == ["proponents.0.id", "topics.0.slug", "venue.id"]
    assert not Proposal.objects.filter(slug="dangling").exists()


def test_duplicate_slug_is_a_400_naming_slug(db, editor_api):
    ProposalFactory(slug="taken")
    response = editor_api.post(f"{API}/proposals/", {"slug": "taken", "title": "Again"}, format="json")
    assert_problem(response, 400, "slug")


def test_editor_deletes_a_proposal_with_its_quotes_and_timeline(db, editor_api):
    proposal = ProposalFactory(slug="doomed", with_evidence=True)
    response = write(editor_api, "delete", f"{API}/proposals/doomed/")
    assert response.status_code == 204
    assert not Proposal.objects.filter(slug="doomed").exists()
    assert not StatusEvent.objects.filter(proposal_id=proposal.pk).exists()
    assert proposal.history.filter(history_type="-").count() == 1
    assert_problem(editor_api.get(f"{API}/proposals/doomed/"), 404)


# --------------------------------------------------------------------------
# Actors, venues, sources, topics
# --------------------------------------------------------------------------

CREATE_PAYLOADS = {
    "actors": {
        "slug": "sco-secretariat",
        "name": "SCO Secretariat",
        "named": True,
        "kind": "intergovernmental",
        "description": " Kept as sent ",
        "country_code": "",
    },
    "venues": {
        "slug": "astana-summit",
        "name": "Astana summit",
        "kind": "summit",
        "place": "Astana",
        "starts_on": "2017-06-08",
        "ends_on": "2017-06-09",
    },
    "sources": {
        "slug": "new-report",
        "title": "A new report",
        "published_on": "2017-01-02",
        "text": "Full text.  With two spaces. ",
    },
    "topics": {"slug": "terror-financing", "name": "Terror financing", "description": "Money flows."},
}
MODELS = {"actors": Actor, "venues": Venue, "sources": Source, "topics": Topic}


@pytest.mark.parametrize("kind", list(CREATE_PAYLOADS))
def test_editor_creates_a_record(db, editor_api, editor, kind):
    payload = CREATE_PAYLOADS[kind]
    response = editor_api.post(f"{API}/{kind}/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    for name, value in payload.items():
        assert body[name] == value, name
    stored = MODELS[kind].objects.get(slug=payload["slug"])
    assert body["id"] == stored.pk
    assert stored.history.get().history_user == editor


def test_source_digest_is_computed_from_the_text(db, editor_api):
    response = editor_api.post(f"{API}/sources/", CREATE_PAYLOADS["sources"], format="json")
    assert response.json()["sha256"] == Source.digest("Full text.  With two spaces. ")
    assert response.json()["evidence_count"] == 0


@pytest.mark.parametrize(
    ("kind", "change", "attribute", "expected"),
    [
        ("actors", {"name": "Renamed actor"}, "name", "Renamed actor"),
        ("venues", {"place": "Tashkent"}, "place", "Tashkent"),
        ("sources", {"title": "Retitled"}, "title", "Retitled"),
        ("topics", {"description": "Now described."}, "description", "Now described."),
    ],
)
def test_editor_patches_a_record(db, editor_api, kind, change, attribute, expected):
    url, record = _existing(kind)
    response = write(editor_api, "patch", url, change)
    assert response.status_code == 200, response.content
    assert response.json()[attribute] == expected
    record.refresh_from_db()
    assert getattr(record, attribute) == expected


@pytest.mark.parametrize("kind", list(CREATE_PAYLOADS))
def test_editor_replaces_a_record_with_put(db, editor_api, kind):
    url, record = _existing(kind)
    payload = {**CREATE_PAYLOADS[kind], "slug": record.slug}
    response = write(editor_api, "put", url, payload)
    assert response.status_code == 200, response.content
    record.refresh_from_db()
    for name, value in payload.items():
        stored = getattr(record, name)
        assert (stored.isoformat() if isinstance(stored, dt.date) else stored) == value, name


def test_versioned_record_moves_its_version_only_when_something_changes(db, editor_api):
    actor = ActorFactory(name="Same")
    url = f"{API}/actors/{actor.pk}/"
    assert write(editor_api, "patch", url, {"name": "Same"}).json()["version"] == 1
    assert write(editor_api, "patch", url, {"name": "Different"}).json()["version"] == 2


@pytest.mark.parametrize("kind", list(CREATE_PAYLOADS))
def test_editor_deletes_an_unreferenced_record(db, editor_api, kind):
    url, record = _existing(kind)
    response = write(editor_api, "delete", url)
    assert response.status_code == 204
    assert not type(record).objects.filter(pk=record.pk).exists()
    assert_problem(editor_api.get(url), 404)


def test_deleting_a_venue_in_use_is_a_409_conflict(db, editor_api):
    proposal = ProposalFactory()
    response = write(editor_api, "delete", f"{API}/venues/{proposal.venue_id}/")
    body = assert_problem(response, 409)
    assert "proposals" in body["detail"]
    assert Venue.objects.filter(pk=proposal.venue_id).exists()


def test_deleting_a_proponent_actor_is_a_409_conflict(db, editor_api):
    proposal = ProposalFactory()
    actor_id = proposal.proponents.get().actor_id
    assert_problem(write(editor_api, "delete", f"{API}/actors/{actor_id}/"), 409)
    assert Actor.objects.filter(pk=actor_id).exists()


def test_deleting_a_quoted_source_is_a_409_conflict(db, editor_api):
    evidence = EvidenceFactory()
    assert_problem(write(editor_api, "delete", f"{API}/sources/{evidence.source_id}/"), 409)
    assert Source.objects.filter(pk=evidence.source_id).exists()


def test_deleting_a_topic_in_use_is_a_409_conflict(db, editor_api):
    topic = TopicFactory(slug="in-use")
    proposal = ProposalFactory(topics=[topic])
    response = write(editor_api, "delete", f"{API}/topics/in-use/")
    assert_problem(response, 409)
    assert list(proposal.topics.all()) == [topic]


def test_deleting_a_party_actor_is_a_409_conflict(db, editor_api):
    party = ActorFactory()
    proposal = ProposalFactory(parties=[party])
    response = write(editor_api, "delete", f"{API}/actors/{party.pk}/")
    assert_problem(response, 409)
    assert list(proposal.parties.all()) == [party]


def test_the_same_actor_twice_in_one_role_is_refused(db, editor_api):
    actor = ActorFactory()
    response = editor_api.post(
        f"{API}/proposals/",
        {
            "slug": "twice",
            "title": "Twice",
            "proponents": [{"id": actor.pk, "role": "proposed"}, {"id": actor.pk, "role": "proposed"}],
        },
        format="json",
    )
    assert_problem(response, 400, "proponents")
    assert not Proposal.objects.filter(slug="twice").exists()


def test_relation_to_an_unknown_proposal_names_the_nested_slug(db, editor_api):
    response = editor_api.post(
        f"{API}/proposals/",
        {"slug": "orphan", "title": "Orphan", "related": [{"relation": "builds_on", "slug": "nowhere"}]},
        format="json",
    )
    assert_problem(response, 400, "related.0.slug")


def test_state_actor_without_country_code_is_refused(db, editor_api):
    response = editor_api.post(
        f"{API}/actors/", {"slug": "a-state", "name": "A state", "kind": "state", "country_code": ""}, format="json"
    )
    assert_problem(response, 400, "country_code")


def test_venue_ending_before_it_starts_is_refused(db, editor_api):
    response = editor_api.post(
        f"{API}/venues/",
        {
            "slug": "backwards",
            "name": "Backwards",
            "kind": "meeting",
            "starts_on": "2020-02-02",
            "ends_on": "2020-01-01",
        },
        format="json",
    )
    assert_problem(response, 400, "ends_on")


def test_source_text_edit_that_breaks_a_quote_is_refused(db, editor_api):
    evidence = EvidenceFactory()
    url = f"{API}/sources/{evidence.source_id}/"
    response = write(editor_api, "patch", url, {"text": "Completely different text."})
    assert_problem(response, 400, "text")
    evidence.source.refresh_from_db()
    assert evidence.source.text[evidence.start : evidence.end] == evidence.quote


def test_history_of_a_record_credits_the_editor(db, editor_api):
    url, _ = _existing("venues")
    write(editor_api, "patch", url, {"name": "Renamed venue"})
    entries = editor_api.get(f"{url}history/").json()
    assert [(e["type"], e["user"]) for e in entries] == [("changed", "editor"), ("created", None)]
    assert [c for c in entries[0]["changes"] if c["field"] == "name"][0]["new"] == "Renamed venue"
