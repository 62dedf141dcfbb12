"""Stored list rows (proposals/representations/stored.py): after every write
path the stored text equals the serializer's output, the stored page is the
serializer path's page byte for byte, and list ETags answer 304."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from proposals import services
from proposals.importers import load_seeds
from proposals.models import Actor, ChangeSequence, Proponent, Proposal, Source, Topic, Venue
from proposals.representations import stored
from proposals.tracking import services as tracking
from tests.factories import ActorFactory, EvidenceFactory, ProposalFactory, TopicFactory, VenueFactory
from tests.test_admin import _change_form_data

URL = "/api/v1/proposals/"


def assert_stored_rows_current():
    """Every proposal's stored row is what the serializer renders now, and
    stamped with its current ``updated_at``."""
    rows = list(Proposal.objects.with_list_related().order_by("pk"))
    expected = dict(zip([r.pk for r in rows], stored.render_rows(rows), strict=True))
    have = {pk: (text, at) for pk, text, at in Proposal.objects.values_list("pk", "list_json", "list_json_at")}
    for row in rows:
        text, at = have[row.pk]
        assert text == expected[row.pk], row.slug
        assert at == row.updated_at, row.slug


def sequence():
    return ChangeSequence.objects.get(pk=1).value


@pytest.fixture
def corpus(db):
    org = ActorFactory(organisation=True)
    venue = VenueFactory(organisation=org)
    topics = [TopicFactory(), TopicFactory()]
    people = [ActorFactory() for _ in range(3)]
    proposals = [
        ProposalFactory(
            venue=venue if i % 2 else None,
            proponents=[
                {"actor": people[i % 3], "role": "proposed", "is_primary": True},
                {"actor": org, "role": "endorsed", "is_primary": False},
            ],
            topics=topics[: 1 + i % 2],
            parties=[org],
        )
        for i in range(6)
    ]
    return {"org": org, "venue": venue, "topics": topics, "people": people, "proposals": proposals}


# ---------------------------------------------------------------------------
# The sweep: every write path leaves the stored rows equal to the serializer
# ---------------------------------------------------------------------------


def _services_rename_actor(c, user):
    services.record_save(instance=Actor.objects.get(pk=c["org"].pk), name="Renamed organisation", user=user)


def _services_rename_venue(c, user):
    services.record_save(instance=Venue.objects.get(pk=c["venue"].pk), name="Renamed venue", user=user)


def _services_rename_topic(c, user):
    services.record_save(instance=Topic.objects.get(pk=c["topics"][0].pk), name="Renamed topic", user=user)


def _services_status_event(c, user):
    proposal = c["proposals"][0]
    services.status_event_record(
        proposal=proposal, status="adopted", occurred_on=dt.date.today(), precision="day", user=user
    )


def _services_delete_and_restore(c, user):
    proposal = Proposal.objects.get(pk=c["proposals"][1].pk)
    pk = proposal.pk
    services.proposal_delete(proposal=proposal, user=user)
    services.proposal_restore(proposal_id=pk, user=user)


def _services_remove_proponent_and_restore(c, user):
    link = Proponent.objects.filter(proposal=c["proposals"][2], is_primary=False).first()
    pk = link.pk
    services.record_delete(instance=link, user=user)
    services.record_restore(model=Proponent, pk=pk, user=user)


def _services_update_links(c, user):
    proposal = Proposal.objects.get(pk=c["proposals"][3].pk)
    services.proposal_update(proposal=proposal, title="New title", topics=[c["topics"][1]], user=user)


def _api_writes(c, user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    proposal = Proposal.objects.get(pk=c["proposals"][4].pk)
    tag = f'"{proposal.pk}-{proposal.version}"'
    body = {"title": "Patched through the API", "topics": [{"slug": c["topics"][1].slug}]}
    response = api.patch(f"{URL}{proposal.slug}/", body, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content
    response = api.post(
        URL,
        {"slug": "api-made", "title": "Made through the API", "venue": {"id": c["venue"].pk}},
        format="json",
    )
    assert response.status_code == 201, response.content
    response = api.post(
        f"{URL}api-made/events/", {"status": "adopted", "occurred_on": "2020-01-02", "precision": "day"}, format="json"
    )
    assert response.status_code == 201, response.content
    response = api.patch(f"/api/v1/actors/{c['org'].pk}/", {"name": "Renamed by API"}, format="json")
    assert response.status_code in (200, 428), response.content


def _admin_save(c, user, client):
    proposal = Proposal.objects.get(pk=c["proposals"][5].pk)
    url = reverse("admin:proposals_proposal_change", args=[proposal.pk])
    response = client.post(url, _change_form_data(proposal, title="Renamed in the admin"))
    assert response.status_code == 302


def _loader(c, user):
    load_seeds()


def _prepare_participation(c, user):
    tracking.participation_record(proposal=c["proposals"][0], party=c["org"], action="signed", user=user)


def _services_actor_slug(c, user):
    # A participation row shows its party's slug.
    services.record_save(instance=Actor.objects.get(pk=c["org"].pk), slug="renamed-org-slug", user=user)


def _prepare_quote(c, user):
    evidence = EvidenceFactory(proposal=c["proposals"][1])
    if evidence.start == 0:
        pytest.skip("the factory's quote starts the text")
    c["quoted_source"] = evidence.source


def _services_source_text(c, user):
    # A quote's start_utf16/end_utf16 count its source's text.
    source = Source.objects.get(pk=c["quoted_source"].pk)
    services.record_save(instance=source, text="\U0001f600" + source.text[1:], user=user)


SWEEP = {
    "services: actor renamed (fan-out)": _services_rename_actor,
    "services: venue renamed (fan-out)": _services_rename_venue,
    "services: topic renamed (fan-out)": _services_rename_topic,
    "services: status event": _services_status_event,
    "services: proposal deleted and restored": _services_delete_and_restore,
    "services: proponent removed and restored": _services_remove_proponent_and_restore,
    "services: proposal_update with links": _services_update_links,
    "api: patch, create, event, actor rename": _api_writes,
    "loader: seed corpus": _loader,
    "services: actor slug changed (participation)": _services_actor_slug,
    "services: source text edited (utf16 offsets)": _services_source_text,
}
#: What a path needs in place before the change it makes.
PREPARE = {
    "services: actor slug changed (participation)": _prepare_participation,
    "services: source text edited (utf16 offsets)": _prepare_quote,
}


@pytest.mark.parametrize("path", SWEEP, ids=list(SWEEP))
def test_every_write_path_leaves_the_stored_rows_equal_to_the_serializer(corpus, editor, path):
    PREPARE.get(path, lambda c, u: None)(corpus, editor)
    assert_stored_rows_current()
    before = sequence()
    SWEEP[path](corpus, editor)
    assert_stored_rows_current()
    assert sequence() > before


def store_every_detail():
    for proposal in Proposal.objects.with_related():
        Proposal.objects.filter(pk=proposal.pk).update(
            detail_json=stored.render_detail(proposal), detail_json_at=proposal.updated_at
        )


def assert_stored_details_current():
    """Every stored detail still stamped current is what the serializer
    renders now: a write that changed what a detail shows moved its
    ``updated_at`` (and its ETag's version), so the old text is not served."""
    stamps = {pk: (text, at) for pk, text, at in Proposal.objects.values_list("pk", "detail_json", "detail_json_at")}
    for proposal in Proposal.objects.with_related():
        text, at = stamps[proposal.pk]
        if text is not None and at == proposal.updated_at:
            assert text == stored.render_detail(proposal), proposal.slug


@pytest.mark.parametrize("path", SWEEP, ids=list(SWEEP))
def test_every_write_path_leaves_no_stored_detail_stale_under_its_stamp(corpus, editor, path):
    PREPARE.get(path, lambda c, u: None)(corpus, editor)
    store_every_detail()
    SWEEP[path](corpus, editor)
    assert_stored_details_current()


def test_an_admin_save_leaves_the_stored_rows_equal_to_the_serializer(corpus, staff_client):
    before = sequence()
    _admin_save(corpus, None, staff_client)
    assert Proposal.objects.get(pk=corpus["proposals"][5].pk).title == "Renamed in the admin"
    assert_stored_rows_current()
    assert sequence() > before


def test_a_rename_fan_out_rewrites_every_row_that_shows_the_name(corpus, editor):
    services.record_save(instance=Actor.objects.get(pk=corpus["org"].pk), name="Fanned out", user=editor)
    texts = list(Proposal.objects.values_list("list_json", flat=True))
    assert texts and all('"Fanned out"' in text for text in texts)


# ---------------------------------------------------------------------------
# The stored page is the serializer path's page
# ---------------------------------------------------------------------------

PAGES = [
    URL,
    f"{URL}?page_size=2",
    f"{URL}?page=2&page_size=2",
    f"{URL}?ordering=title",
    f"{URL}?cursor=&page_size=4",
    f"{URL}?q=Proposal",
    f"{URL}?status=proposed",
]


@pytest.mark.parametrize("url", PAGES)
def test_the_stored_page_is_the_serializer_page_byte_for_byte(api, corpus, monkeypatch, settings, url):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "tracker.example"]
    Proposal.objects.filter(pk=corpus["proposals"][0].pk).update(list_json=None)  # one row rendered on read
    fast = api.get(url, HTTP_HOST="tracker.example")
    monkeypatch.setattr(stored, "stored_path_applies", lambda request=None: False)
    slow = api.get(url, HTTP_HOST="tracker.example")
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    assert fast["Content-Type"] == slow["Content-Type"]
    assert b"http://tracker.example/api/v1/proposals/" in fast.content
    assert b"\\u0000" not in fast.content


def test_a_stale_row_is_rendered_afresh_not_served(api, corpus):
    proposal = corpus["proposals"][0]
    Proposal.objects.filter(pk=proposal.pk).update(title="Changed around the services")  # stamp kept
    Proposal.objects.filter(pk=proposal.pk).update(updated_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    rows = api.get(URL).json()["results"]
    assert rows[0]["title"] == "Changed around the services"


def test_rebuild_representations_reports_and_repairs_drift(corpus, capsys):
    Proposal.objects.filter(pk=corpus["proposals"][0].pk).update(list_json='{"forged":1}')
    Proposal.objects.filter(pk=corpus["proposals"][1].pk).update(list_json=None)
    with pytest.raises(Exception, match="2 stored list rows drifted"):
        call_command("rebuild_representations", "--check", "--no-progress")
    before = sequence()
    call_command("rebuild_representations", "--no-progress")
    assert "1 missing, 0 stale, 1 different" in capsys.readouterr().out
    assert_stored_rows_current()
    assert sequence() > before
    call_command("rebuild_representations", "--check", "--no-progress")


# ---------------------------------------------------------------------------
# Conditional GET of lists
# ---------------------------------------------------------------------------


def test_reading_admin_pages_does_not_move_the_sequence(staff_client, corpus):
    # The admin reads its pages inside a write batch; an empty batch moved the
    # sequence (an UPDATE on every page view), turning every list ETag stale.
    proposal = corpus["proposals"][0]
    before = sequence()
    for url in (
        reverse("admin:proposals_proposal_change", args=[proposal.pk]),
        reverse("admin:proposals_proposal_changelist"),
        reverse("admin:proposals_proposal_history", args=[proposal.pk]),
    ):
        assert staff_client.get(url).status_code == 200, url
    assert sequence() == before
    services.record_save(instance=Actor.objects.get(pk=corpus["org"].pk), name="Renamed")
    assert sequence() == before + 1


def test_a_list_etag_answers_304_until_anything_changes(api, corpus, editor, django_assert_num_queries):
    first = api.get(f"{URL}?page_size=3")
    tag = first["ETag"]
    assert tag.startswith('"L')
    # before DRF: the change sequence only
    with django_assert_num_queries(1):
        again = api.get(f"{URL}?page_size=3", HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again["ETag"] == tag
    assert api.get(f"{URL}?page_size=3", HTTP_IF_NONE_MATCH=f"W/{tag}").status_code == 304
    # another query, another tag
    assert api.get(f"{URL}?page_size=4", HTTP_IF_NONE_MATCH=tag).status_code == 200
    # a rename elsewhere moves the sequence: 200 with the new name
    services.record_save(instance=Actor.objects.get(pk=corpus["org"].pk), name="Moved on", user=editor)
    changed = api.get(f"{URL}?page_size=3", HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag
    assert b"Moved on" in changed.content


@pytest.mark.parametrize(
    "query",
    ["", "?page_size=2&page=2", "?page=last", "?cursor=", "?status=withdrawn", "?q=nothing-matches-this"],
    ids=["page-1", "page-2", "last", "cursor", "empty-filter", "empty-search"],
)
def test_every_list_page_is_tagged_with_the_sequence_its_rows_were_read_at(api, corpus, editor, query):
    """The page's rows carry the change sequence (one query for both), or,
    for ``page=last`` and an empty page, it is read on its own: either way
    the tag is the sequence now, moves with a write, and answers 304."""
    expected = stored.list_etag(_request(f"{URL}{query}"), sequence())
    response = api.get(f"{URL}{query}")
    assert response.status_code == 200
    assert response["ETag"] == expected
    assert api.get(f"{URL}{query}", HTTP_IF_NONE_MATCH=expected).status_code == 304
    services.record_save(instance=Actor.objects.get(pk=corpus["org"].pk), name="Renamed", user=editor)
    moved = api.get(f"{URL}{query}")
    assert moved["ETag"] == stored.list_etag(_request(f"{URL}{query}"), sequence()) != expected


def _request(path):
    from django.test import RequestFactory

    return RequestFactory().get(path, HTTP_HOST="testserver")


def test_a_page_past_any_capped_count_is_404_without_a_query(api, corpus, django_assert_num_queries):
    """Page numbers reach the first COUNT_CAP matches: a larger one is
    refused before its OFFSET reaches the database (a 20-digit page number
    overflowed PostgreSQL's bigint: a 500)."""
    with django_assert_num_queries(0):
        response = api.get(f"{URL}?page=99999999999999999999")
    assert response.status_code == 404
    with django_assert_num_queries(0):
        assert api.get(f"{URL}?page=202").status_code == 404  # ceil(10,001 / 50) = 201 pages at most


def test_a_poll_is_answered_before_drf_runs(api, corpus, monkeypatch):
    tag = api.get(URL)["ETag"]

    def refuse(*args, **kwargs):
        raise AssertionError("DRF ran for a 304")

    from rest_framework.views import APIView

    monkeypatch.setattr(APIView, "dispatch", refuse)
    response = api.get(URL, HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 304 and response["ETag"] == tag


def test_a_poll_with_a_bad_token_is_a_401_as_without_a_tag(api, corpus):
    tag = api.get(URL)["ETag"]
    response = api.get(URL, HTTP_IF_NONE_MATCH=tag, HTTP_AUTHORIZATION="Token " + "f" * 64)
    assert response.status_code == 401


def test_a_poll_counts_once_against_the_budget(api, corpus, settings, monkeypatch):
    """A 304 answered before DRF is throttled there, and DRF reuses that
    decision when the tag does not match: one count per request."""
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "4/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    client = type(api)(REMOTE_ADDR="192.0.2.77")
    tag = client.get(URL)["ETag"]  # 1
    assert client.get(URL, HTTP_IF_NONE_MATCH=tag).status_code == 304  # 2
    assert client.get(URL, HTTP_IF_NONE_MATCH='"L0.stale"').status_code == 200  # 3: early throttle, then DRF
    assert client.get(URL, HTTP_IF_NONE_MATCH=tag).status_code == 304  # 4
    assert client.get(URL, HTTP_IF_NONE_MATCH=tag).status_code == 429  # 5: over, and no query spent on it


def test_a_list_etag_does_not_skip_authentication_when_reads_need_it(api, corpus, settings):
    tag = api.get(URL)["ETag"]
    settings.API_READ_REQUIRES_AUTH = True
    assert api.get(URL, HTTP_IF_NONE_MATCH=tag).status_code == 401


def test_csv_and_html_are_not_answered_with_the_json_tag(api, corpus):
    tag = api.get(URL)["ETag"]
    response = api.get(f"{URL}?format=csv", HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200
    assert api.get(URL, HTTP_ACCEPT="text/html", HTTP_IF_NONE_MATCH=tag).status_code == 200


# ---------------------------------------------------------------------------
# The stored detail
# ---------------------------------------------------------------------------


def test_the_stored_detail_is_the_serializer_detail_and_one_query(
    api, corpus, editor, monkeypatch, settings, django_assert_num_queries
):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "tracker.example"]
    slug = corpus["proposals"][1].slug
    url = f"{URL}{slug}/"
    first = api.get(url, HTTP_HOST="tracker.example")  # renders and stores
    with django_assert_num_queries(1):
        fast = api.get(url, HTTP_HOST="tracker.example")
    monkeypatch.setattr(stored, "stored_path_applies", lambda request=None: False)
    slow = api.get(url, HTTP_HOST="tracker.example")
    assert first.status_code == fast.status_code == slow.status_code == 200
    assert fast.content == slow.content == first.content
    assert fast["ETag"] == slow["ETag"]
    assert b"http://tracker.example/api/v1/proposals/" in fast.content
    monkeypatch.undo()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "tracker.example"]
    with django_assert_num_queries(1):
        assert api.get(url, HTTP_IF_NONE_MATCH=fast["ETag"]).status_code == 304
    # a rename elsewhere: the stamp no longer matches, the next read renders afresh
    services.record_save(instance=Actor.objects.get(pk=corpus["org"].pk), name="Renamed org", user=editor)
    again = api.get(url)
    assert again.status_code == 200 and again["ETag"] != fast["ETag"]
    assert b"Renamed org" in again.content
    assert api.get(url).content == again.content


def test_a_stale_detail_is_never_served(api, corpus):
    slug = corpus["proposals"][2].slug
    api.get(f"{URL}{slug}/")
    Proposal.objects.filter(slug=slug).update(title="Changed around the services", updated_at=dt.datetime.now(dt.UTC))
    assert api.get(f"{URL}{slug}/").json()["title"] == "Changed around the services"


def test_an_indented_json_request_gets_the_serializer_path(api, corpus):
    for url in (URL, f"{URL}{corpus['proposals'][0].slug}/"):
        response = api.get(url, HTTP_ACCEPT="application/json; indent=2")
        assert response.status_code == 200
        assert response.content.startswith(b"{\n  "), response.content[:20]


def test_the_seed_load_moves_the_sequence_once_at_its_end(db, monkeypatch):
    """Each proposal is its own write batch inside the load's transaction;
    bumping per batch would hold the sequence's row lock (blocking every
    other writer) for the whole load."""
    from django.db import connection

    bumps = []
    table = ChangeSequence._meta.db_table

    def spy(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and table in sql:
            bumps.append(sql)
        return execute(sql, params, many, context)

    before = sequence() if ChangeSequence.objects.filter(pk=1).exists() else 0
    with connection.execute_wrapper(spy):
        load_seeds()
    assert sequence() > before
    assert len(bumps) == 1
    assert_stored_rows_current()
