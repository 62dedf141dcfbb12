"""Atom feeds, read with a feed reader's parser (feedparser)."""

import datetime as dt

import feedparser
import pytest

from proposals import services
from proposals.models import Status
from tests.api.helpers import assert_problem


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    return feed


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/feeds/proposals/anti-extremism-treaty.atom",
        "/feeds/proposals.atom?status=adopted",
        "/feeds/proposals.atom?q=treaty",
        "/feeds/all.atom",
    ],
)
def test_each_feed_shows_a_new_status_event(client, proposal, url):
    before = parse(client, url)
    assert all("Adopted" not in entry.title for entry in before.entries)
    services.status_event_record(proposal=proposal, status=Status.ADOPTED, occurred_on=dt.date(2016, 6, 1))
    after = parse(client, url)
    newest = after.entries[0]
    assert newest.title == "Adopted / signed: Anti-extremism treaty"
    assert newest.link.endswith("/api/v1/proposals/anti-extremism-treaty/")
    assert "2016-06-01" in newest.summary
    assert len({entry.id for entry in after.entries}) == len(after.entries)


@pytest.mark.django_db
def test_a_proposal_feed_shows_new_quotes_and_the_representation_links_to_it(client, api, proposal, source):
    feed_url = api.get(f"/api/v1/proposals/{proposal.slug}/").json()["feed"]
    services.evidence_attach(proposal=proposal, source=source, quote="A researcher said the bloc")
    feed = parse(client, feed_url)
    assert feed.entries[0].title == "New quote: Anti-extremism treaty"
    assert "A researcher said the bloc" in feed.entries[0].summary


@pytest.mark.django_db
def test_a_proposal_feed_shows_a_partys_ratification(client, proposal, actor):
    from proposals.tracking import services as tracking

    tracking.participation_record(proposal=proposal, party=actor, action="ratified", occurred_on=dt.date(2017, 6, 9))
    newest = parse(client, f"/feeds/proposals/{proposal.slug}.atom").entries[0]
    assert newest.title == f"{actor.name} ratified, 2017-06-09: Anti-extremism treaty"
    assert newest.id.endswith(":proposals/participation/" + str(proposal.participation.get().pk))


@pytest.mark.django_db
def test_a_search_feed_matches_what_the_list_matches(client, proposal):
    services.proposal_create(slug="other", title="Border posts", proposed_on=dt.date(2016, 1, 1))
    titles = {entry.title for entry in parse(client, "/feeds/proposals.atom?q=border").entries}
    assert titles == {"Proposed: Border posts"}


@pytest.mark.django_db
def test_bad_feed_requests_are_problem_json(client, proposal):
    assert_problem(client.get("/feeds/proposals.atom?status=nonsense"), 400, "status")
    assert_problem(client.get("/feeds/proposals.atom?updated_since=yesterday"), 400, "updated_since")
    assert_problem(client.get("/feeds/proposals/no-such-proposal.atom"), 404)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 12])
def test_feeds_cost_a_fixed_number_of_queries(client, proposal, size, django_assert_num_queries):
    for i in range(size):
        services.status_event_record(proposal=proposal, status=Status.STALLED, occurred_on=dt.date(2016, 1, 1 + i))
    with django_assert_num_queries(4):  # the proposal, its events, its participation, its quotes
        client.get("/feeds/proposals/anti-extremism-treaty.atom")
    with django_assert_num_queries(3):
        client.get("/feeds/all.atom")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("ordering=bogus", "ordering"),
        ("page_size=x", "page_size"),
        ("page_size=0", "page_size"),
        ("cursor=zzz", "cursor"),
        ("cursor=&ordering=title", "ordering"),
        ("page=abc", "page"),
    ],
)
def test_the_search_feed_refuses_the_parameters_the_list_refuses(client, api, proposal, query, field):
    listed = api.get(f"/api/v1/proposals/?{query}")
    assert listed.status_code == 400
    response = client.get(f"/feeds/proposals.atom?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in str(response.json())
    assert field in str(listed.json())
