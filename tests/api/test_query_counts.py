"""Reads cost a fixed number of queries, however many rows they render.

Each test builds the same shape of data at two sizes and pins the exact
count at both: a count that grows with the rows is an N+1 to fix, and a
changed constant is worth a look. The counts hold on SQLite and PostgreSQL.
"""

import datetime as dt

import pytest
from django.db import connection

from proposals.models import Proposal
from proposals.tracking import services as tracking
from tests.factories import (
    ActorFactory,
    EvidenceFactory,
    ProposalFactory,
    SourceFactory,
    StatusEventFactory,
    TopicFactory,
    VenueFactory,
)

SIZES = [5, 50]


def get(api, url):
    response = api.get(url)
    if response.streaming:
        b"".join(response.streaming_content)  # the CSV export queries while it streams
    assert response.status_code == 200, response.content
    return response


def numbered_source(n):
    """A source with ``n`` distinct sentences to quote."""
    return SourceFactory(text=" ".join(f"Sentence number {i:04d} here." for i in range(n)))


@pytest.mark.parametrize("n", SIZES)
def test_proposal_list_and_csv_take_fixed_queries(api, db, django_assert_num_queries, n):
    org = ActorFactory(organisation=True)
    topics = [TopicFactory(), TopicFactory()]
    for _ in range(n):
        proposal = ProposalFactory(
            venue=VenueFactory(organisation=org),
            proponents=[
                {"actor": ActorFactory(affiliation=org), "role": "proposed", "is_primary": True},
                {"actor": org, "role": "endorsed", "is_primary": False},
            ],
            topics=topics,
            parties=[org],
        )
        tracking.participation_record(proposal=proposal, party=org, action="signed")
        tracking.alias_add(owner=proposal, name="An alias", language="en")

    # The stored list rows (proposals/representations/stored.py): the page,
    # whose rows carry the change sequence, then the count, on either database.
    pg = connection.vendor == "postgresql"
    with django_assert_num_queries(2):
        body = get(api, "/api/v1/proposals/").json()
    assert len(body["results"]) == n
    assert all(len(row["proponents"]) == 2 and len(row["topics"]) == 2 for row in body["results"])

    # again: the count comes from the cache while the sequence stands
    with django_assert_num_queries(1):
        get(api, "/api/v1/proposals/")

    # a later page: its ids first, then just those rows (the count is cached)
    with django_assert_num_queries(2):
        body = get(api, "/api/v1/proposals/?page=2&page_size=2").json()
    assert len(body["results"]) == 2
    assert all(len(row["proponents"]) == 2 and len(row["topics"]) == 2 for row in body["results"])

    # rows whose stored text is stale (written around the services) are
    # rendered afresh: one list query on PostgreSQL, three elsewhere (the
    # update moved no sequence, so the count is still cached)
    Proposal.objects.update(list_json_at=None)
    with django_assert_num_queries(1 + (1 if pg else 3)):
        body = get(api, "/api/v1/proposals/").json()
    assert len(body["results"]) == n

    # the database check before the first byte (SELECT 1), then the
    # proposals (with proponents, topics, participation and aliases on
    # PostgreSQL, elsewhere four prefetches); no count
    with django_assert_num_queries(2 if pg else 6):
        lines = b"".join(api.get("/api/v1/proposals/?format=csv").streaming_content).decode("utf-8-sig")
    assert lines.count(f"{org.name}: signed,An alias (en)") == n


@pytest.fixture
def rich_proposal(db, request):
    """One proposal with ``n`` of every part: proponents, topics, parties,
    quotes, status events and relations."""
    n = request.param
    actors = [ActorFactory() for _ in range(n)]
    source = numbered_source(n)
    targets = [ProposalFactory(venue=None, proponents=[]) for _ in range(n)]
    proposal = ProposalFactory(
        slug="rich",
        proponents=[{"actor": a, "role": "endorsed", "is_primary": i == 0} for i, a in enumerate(actors)],
        topics=[TopicFactory() for _ in range(n)],
        parties=actors,
        relations=[{"to_proposal": t, "relation_type": "builds_on"} for t in targets],
    )
    for i in range(n):
        EvidenceFactory(proposal=proposal, source=source, quote=f"Sentence number {i:04d} here.")
    for i in range(n - 1):  # plus the opening event: n in all
        StatusEventFactory(proposal=proposal, occurred_on=dt.date(2017, 1, 1) + dt.timedelta(days=i))
    for i, actor in enumerate(actors):
        tracking.participation_record(proposal=proposal, party=actor, action="signed")
        tracking.alias_add(owner=proposal, name=f"Alias {i}")
    return n


@pytest.mark.parametrize("rich_proposal", SIZES, indirect=True)
def test_proposal_detail_and_subresources_take_fixed_queries(api, rich_proposal, django_assert_num_queries):
    n = rich_proposal

    # The first read after a change: the stored detail's row (stale), then
    # proposal (+venue), proponents, topics, parties, evidence (+sources),
    # events, aliases, participation (+parties), relations, then storing
    # the rendering.
    with django_assert_num_queries(11):
        body = get(api, "/api/v1/proposals/rich/").json()
    for part in ("proponents", "topics", "parties", "evidence", "events", "related", "aliases", "participation"):
        assert len(body[part]) == n, part
    # Later reads: the stored detail, one query.
    with django_assert_num_queries(1):
        assert get(api, "/api/v1/proposals/rich/").json() == body

    # proposal, participation rows (+parties)
    with django_assert_num_queries(2):
        rows = get(api, "/api/v1/proposals/rich/participation/").json()
    assert len(rows) == n

    # proposal, the row (+party)
    with django_assert_num_queries(2):
        get(api, f"/api/v1/proposals/rich/participation/{rows[0]['id']}/")

    # proposal, events
    with django_assert_num_queries(2):
        assert len(get(api, "/api/v1/proposals/rich/events/").json()) == n

    # proposal, evidence (+sources)
    with django_assert_num_queries(2):
        assert len(get(api, "/api/v1/proposals/rich/evidence/").json()) == n

    # the proposal row, its history rows (+users)
    with django_assert_num_queries(2):
        get(api, "/api/v1/proposals/rich/history/")


@pytest.mark.parametrize("n", SIZES)
def test_actor_venue_source_topic_reads_take_fixed_queries(api, db, django_assert_num_queries, n):
    org = ActorFactory(organisation=True)
    actors = [ActorFactory(affiliation=org) for _ in range(n - 1)]
    venues = [VenueFactory(organisation=org) for _ in range(n)]
    topics = [TopicFactory() for _ in range(n)]
    sources = [numbered_source(3) for _ in range(n - 1)]
    quoted = numbered_source(n)
    proposal = ProposalFactory(venue=venues[0], proponents=[])
    for record in [org, *actors, *venues, *topics]:
        tracking.alias_add(owner=record, name="Another name", language="en")
    for i in range(n):
        EvidenceFactory(proposal=proposal, source=quoted, quote=f"Sentence number {i:04d} here.")
    sources.append(quoted)

    # Lists: count + page (related records joined, evidence counted in SQL)
    # + aliases (none for sources).
    for url, field, expected in [
        ("/api/v1/actors/", "affiliation", {"id": org.pk, "name": org.name, "kind": "organisation"}),
        ("/api/v1/venues/", "organisation", {"id": org.pk, "name": org.name, "kind": "organisation"}),
        ("/api/v1/sources/", None, None),
        ("/api/v1/topics/", None, None),
    ]:
        with django_assert_num_queries(2 if url == "/api/v1/sources/" else 3):
            rows = get(api, url).json()["results"]
        assert len(rows) == n, url
        assert all(row.get("aliases", [1]) for row in rows), url
        if field:
            assert sum(row[field] == expected for row in rows) == n - (url == "/api/v1/actors/"), url

    # Details: one query each, and one for the aliases (none for a source).
    for url in [
        f"/api/v1/actors/{actors[0].slug}/",
        f"/api/v1/venues/{venues[0].slug}/",
        f"/api/v1/sources/{quoted.slug}/",
        f"/api/v1/topics/{topics[0].slug}/",
    ]:
        with django_assert_num_queries(1 if "/sources/" in url else 2):
            body = get(api, url).json()
    assert body["slug"] == topics[0].slug
    assert get(api, f"/api/v1/sources/{quoted.slug}/").json()["evidence_count"] == n
