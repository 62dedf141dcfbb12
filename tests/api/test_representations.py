"""What a client reads: the exact shape of list rows and detail records."""

import datetime as dt

from proposals.models import Proposal
from tests.factories import (
    ActorFactory,
    EvidenceFactory,
    ProposalFactory,
    SourceFactory,
    StatusEventFactory,
    TopicFactory,
    VenueFactory,
)

from .helpers import write

LIST_FIELDS = [
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


def _full_proposal():
    """A proposal with every kind of part: two proponents, topics, parties,
    a quote, two status events and a relation."""
    venue = VenueFactory(name="Astana summit")
    lead, backer = ActorFactory(name="Lead actor"), ActorFactory(name="Backer")
    party = ActorFactory(name="China", state=True)
    finance, borders = TopicFactory(slug="finance", name="Finance"), TopicFactory(slug="borders", name="Borders")
    ProposalFactory(slug="older-idea", title="Older idea")
    proposal = ProposalFactory(
        slug="full",
        title="Full proposal",
        summary="Everything about it.",
        venue=venue,
        proponents=[
            {"actor": backer, "role": "endorsed", "is_primary": False},
            {"actor": lead, "role": "proposed", "is_primary": True},
        ],
        topics=[finance, borders],
        parties=[party],
        proposed_on=dt.date(2016, 5, 1),
        proposed_precision="month",
    )
    source = SourceFactory(title="The report")
    evidence = EvidenceFactory(proposal=proposal, source=source)
    StatusEventFactory(proposal=proposal, status="adopted", occurred_on=dt.date(2017, 6, 9), evidence=evidence)
    return proposal


def test_list_row_has_exactly_the_documented_fields(api, db, editor_api):
    proposal = _full_proposal()
    write(
        editor_api, "patch", "/api/v1/proposals/full/", {"related": [{"relation": "builds_on", "slug": "older-idea"}]}
    )
    proposal.refresh_from_db()

    body = api.get("/api/v1/proposals/?ordering=slug").json()

    assert body["count"] == 2
    row = body["results"][0]  # "full" sorts before "older-idea"
    assert list(row) == LIST_FIELDS
    lead, backer = proposal.proponents.order_by("-is_primary")
    assert row == {
        "id": proposal.pk,
        "url": "http://testserver/api/v1/proposals/full/",
        "slug": "full",
        "title": "Full proposal",
        "status": "adopted",
        "status_label": "Adopted / signed",
        "venue": {"id": proposal.venue_id, "name": "Astana summit"},
        "proponents": [
            {"id": lead.actor_id, "name": "Lead actor", "role": "proposed", "primary": True},
            {"id": backer.actor_id, "name": "Backer", "role": "endorsed", "primary": False},
        ],
        "topics": [{"slug": "borders", "name": "Borders"}, {"slug": "finance", "name": "Finance"}],
        "proposed_on": "2016-05-01",
        "proposed_precision": "month",
        "updated_at": proposal.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_list_row_without_venue_or_date_has_nulls(api, db):
    ProposalFactory(slug="bare", venue=None, proponents=[], proposed_on=None)
    (row,) = api.get("/api/v1/proposals/").json()["results"]
    assert row["venue"] is None
    assert row["proponents"] == []
    assert row["topics"] == []
    assert row["proposed_on"] is None


def test_detail_adds_summary_parties_evidence_events_and_related(api, db, editor_api):
    proposal = _full_proposal()
    write(
        editor_api, "patch", "/api/v1/proposals/full/", {"related": [{"relation": "builds_on", "slug": "older-idea"}]}
    )
    proposal.refresh_from_db()
    evidence = proposal.evidence.get()
    party = proposal.parties.get()

    body = api.get("/api/v1/proposals/full/").json()

    assert set(LIST_FIELDS) < set(body)
    assert set(body) - set(LIST_FIELDS) == {
        "summary",
        "parties",
        "proposed_note",
        "evidence",
        "events",
        "related",
        "aliases",
        "participation",
        "created_at",
        "version",
        "permalink",
        "feed",
    }
    assert body["feed"].endswith("/feeds/proposals/full.atom")
    assert body["permalink"].endswith(f"/api/v1/proposals/versions/{body['id']}/{body['version']}/")
    assert body["summary"] == "Everything about it."
    assert body["parties"] == [{"id": party.pk, "name": "China", "kind": "state"}]
    assert body["evidence"] == [
        {
            "id": evidence.pk,
            "quote": evidence.quote,
            "source": {"id": evidence.source_id, "title": "The report"},
            "start": evidence.start,
            "end": evidence.end,
            "start_utf16": evidence.start,  # no character above U+FFFF precedes it
            "end_utf16": evidence.end,
            "note": "",
            "created_at": evidence.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]
    assert [(e["status"], e["occurred_on"], e["evidence"]) for e in body["events"]] == [
        ("proposed", "2016-05-01", None),
        ("adopted", "2017-06-09", evidence.pk),
    ]
    assert body["related"] == [
        {"relation": "builds_on", "slug": "older-idea", "title": "Older idea", "status": "proposed"}
    ]
    assert body["version"] == Proposal.objects.get(pk=proposal.pk).version


def test_related_shows_the_target_current_status(api, editor_api, db):
    ProposalFactory(slug="target")
    ProposalFactory(slug="source-of-link")
    write(
        editor_api,
        "patch",
        "/api/v1/proposals/source-of-link/",
        {"related": [{"relation": "related", "slug": "target"}]},
    )
    editor_api.post(
        "/api/v1/proposals/target/events/", {"status": "rejected", "occurred_on": "2026-01-01"}, format="json"
    )
    related = api.get("/api/v1/proposals/source-of-link/").json()["related"]
    assert related == [{"relation": "related", "slug": "target", "title": related[0]["title"], "status": "rejected"}]
    assert related[0]["title"] == Proposal.objects.get(slug="target").title


def test_evidence_quotes_equal_their_source_text_slices(api, db):
    proposal = _full_proposal()
    EvidenceFactory(proposal=proposal, source=proposal.evidence.get().source, quote="Report number")
    body = api.get("/api/v1/proposals/full/").json()
    assert len(body["evidence"]) == 2
    for item in body["evidence"]:
        text = api.get(f"/api/v1/sources/{item['source']['id']}/").json()["text"]
        assert text[item["start"] : item["end"]] == item["quote"]


def test_actor_venue_source_topic_representations(api, db):
    org = ActorFactory(name="Org", organisation=True)
    actor = ActorFactory(name="Member", affiliation=org, description="Chair")
    venue = VenueFactory(name="Council", organisation=org, starts_on=dt.date(2020, 1, 1), ends_on=dt.date(2020, 1, 2))
    source = SourceFactory(title="Doc")
    topic = TopicFactory(slug="t", name="T", description="About T")

    assert api.get(f"/api/v1/actors/{actor.pk}/").json() == {
        "id": actor.pk,
        "slug": actor.slug,
        "name": "Member",
        "named": True,
        "kind": "person",
        "description": "Chair",
        "affiliation": {"id": org.pk, "name": "Org", "kind": "organisation"},
        "country_code": "",
        "aliases": [],
        "updated_at": actor.updated_at.isoformat().replace("+00:00", "Z"),
        "version": 1,
    }
    venue_body = api.get(f"/api/v1/venues/{venue.pk}/").json()
    assert venue_body["organisation"] == {"id": org.pk, "name": "Org", "kind": "organisation"}
    assert (venue_body["starts_on"], venue_body["ends_on"]) == ("2020-01-01", "2020-01-02")
    source_row = api.get("/api/v1/sources/").json()["results"][0]
    assert list(source_row) == [
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
    assert api.get(f"/api/v1/sources/{source.pk}/").json()["text"] == source.text
    topic_body = api.get("/api/v1/topics/t/").json()
    assert topic_body["id"] == topic.pk
    assert {k: v for k, v in topic_body.items() if k not in {"id", "updated_at", "version"}} == {
        "slug": "t",
        "name": "T",
        "description": "About T",
        "aliases": [],
    }
