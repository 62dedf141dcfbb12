"""Citable versions: ``versions/{n}/`` and ``?as_of=`` serve a proposal
exactly as ``GET`` served it when that version was current."""

import datetime as dt
import json

import bibtexparser
import pytest
import rispy
from django.utils import timezone

from proposals import services
from proposals.models import Actor, ActorKind, Evidence, Proposal, Source, Status, Topic
from tests.api.helpers import assert_problem


def detail(api, slug):
    response = api.get(f"/api/v1/proposals/{slug}/")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def history_of_ten_changes(api, proposal, actor, venue, source, topic):
    """Ten changes of every kind a proposal shows; the GET body after each."""
    seen = {}

    def capture():
        body = detail(api, Proposal.objects.get(pk=proposal.pk).slug)
        seen[body["version"]] = body

    capture()
    other = services.proposal_create(slug="other-plan", title="Other plan", proposed_on=dt.date(2015, 12, 20))
    second_topic = services.record_save(instance=Topic(), slug="extradition", name="Extradition")
    party = services.record_save(instance=Actor(), slug="china", name="China", kind=ActorKind.STATE, country_code="CN")
    p = Proposal.objects.get(pk=proposal.pk)
    steps = [
        lambda: services.record_save(instance=p, title="Anti-extremism treaty (SCO)"),
        lambda: services.status_event_record(
            proposal=p, status=Status.UNDER_DISCUSSION, occurred_on=dt.date(2016, 1, 5)
        ),
        lambda: services.evidence_attach(proposal=p, source=source, quote="A researcher said the bloc"),
        lambda: services.record_save(instance=Actor.objects.get(pk=actor.pk), name="Li Keqiang, Premier"),
        lambda: services.proposal_update(proposal=p, topics=[topic, second_topic], parties=[party]),
        lambda: services.record_save(instance=Source.objects.get(pk=source.pk), title="Sample report, revised"),
        lambda: services.record_delete(instance=Evidence.objects.filter(proposal=p).order_by("-id").first()),
        lambda: services.proposal_update(proposal=p, relations=[{"to_proposal": other, "relation_type": "builds_on"}]),
        lambda: services.status_event_record(proposal=other, status=Status.STALLED, occurred_on=dt.date(2016, 2, 1)),
        lambda: services.record_save(instance=Proposal.objects.get(pk=p.pk), slug="sco-anti-extremism-treaty"),
    ]
    for number, step in enumerate(steps):
        step()
        capture()
        assert len(seen) == number + 2, f"step {number} moved no version"
    return seen


@pytest.mark.django_db
def test_every_version_is_served_exactly_as_get_served_it_when_current(api, history_of_ten_changes):
    slug = "sco-anti-extremism-treaty"
    for number, body in history_of_ten_changes.items():
        response = api.get(f"/api/v1/proposals/{slug}/versions/{number}/")
        assert response.status_code == 200
        assert response.json() == body, number
        assert response.headers["ETag"] == f'"{body["id"]}-{number}"'
        # The slug can be reused by another record: only the id address is immutable.
        assert "Cache-Control" not in response.headers
        assert response.headers["Content-Location"] == body["permalink"]
        # The permalink each representation carried still serves it.
        permanent = api.get(body["permalink"])
        assert permanent.json() == body
        assert "immutable" in permanent.headers["Cache-Control"]


@pytest.mark.django_db
def test_the_versions_list_names_each_served_version_with_its_time_and_role(api, history_of_ten_changes):
    listed = api.get("/api/v1/proposals/sco-anti-extremism-treaty/versions/?page_size=200").json()
    numbers = [entry["version"] for entry in listed["results"]]
    # Every version a GET saw is listed (and version 1, served before the fixture added a quote).
    assert numbers == [1, *sorted(history_of_ten_changes)]
    assert {entry["role"] for entry in listed["results"]} == {"system"}
    assert listed["results"][0]["type"] == "created"


@pytest.mark.django_db
def test_as_of_serves_the_version_current_at_that_time(api, proposal, actor):
    before = detail(api, proposal.slug)
    moment = timezone.now()
    services.record_save(instance=Actor.objects.get(pk=actor.pk), name="Renamed")
    after = detail(api, proposal.slug)
    assert after != before
    response = api.get(f"/api/v1/proposals/{proposal.slug}/", {"as_of": moment.isoformat()})
    assert response.status_code == 200
    assert response.json() == before
    assert response.headers["Content-Location"] == before["permalink"]


@pytest.mark.django_db
def test_a_version_answers_304_to_its_etag(api, proposal):
    body = detail(api, proposal.slug)
    url = body["permalink"]
    etag = api.get(url).headers["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("versions/0/", 404, None),
        ("versions/999/", 404, None),
        ("versions/99999999999999999999/", 404, None),
        ("versions/abc/", 404, None),
        ("?as_of=yesterday", 400, "as_of"),
        ("?as_of=2026-13-45T00:00:00Z", 400, "as_of"),
        ("?as_of=2999-01-01T00:00:00Z", 400, "as_of"),
        ("?as_of=2000-01-01", 404, None),
        ("?as_of=0001-01-01T00:00:00%2B05:00", 400, "as_of"),
        ("?as_of=", 400, "as_of"),
        ("cite/?format=chicago", 400, "format"),
        ("cite/?version=abc", 400, "version"),
        ("cite/?version=0", 404, None),
    ],
)
def test_bad_version_requests_are_problem_json(api, proposal, path, status, field):
    assert_problem(api.get(f"/api/v1/proposals/{proposal.slug}/{path}"), status, field)


@pytest.mark.django_db
def test_cite_in_three_formats_names_the_version_and_its_sources(api, proposal, source):
    body = detail(api, proposal.slug)
    base = f"/api/v1/proposals/{proposal.slug}/cite/"
    csl = json.loads(api.get(base).content)
    assert csl[0]["URL"] == body["permalink"]
    assert csl[0]["version"] == str(body["version"])
    assert csl[1]["title"] == source.title
    bib = bibtexparser.parse_string(api.get(base, {"format": "bibtex"}).content.decode())
    assert bib.entries[0]["url"] == body["permalink"]
    assert len(bib.entries) == 2
    response = api.get(base, {"format": "ris", "version": body["version"]})
    assert response["Content-Type"].startswith("application/x-research-info-systems")
    refs = rispy.loads(response.content.decode())
    assert refs[0]["urls"] == [body["permalink"]]
    assert refs[1]["title"] == source.title


@pytest.mark.django_db
def test_a_deleted_proposals_versions_are_for_editors_only(api, editor_api, proposal):
    body = detail(api, proposal.slug)
    services.proposal_delete(proposal=proposal)
    assert api.get(body["permalink"]).status_code == 404
    assert editor_api.get(body["permalink"]).json() == body


@pytest.mark.django_db
@pytest.mark.parametrize("parts", [1, 8])
def test_a_version_costs_the_same_number_of_queries_whatever_its_size(
    api, proposal, source, parts, django_assert_num_queries
):
    for i in range(parts):
        services.status_event_record(proposal=proposal, status=Status.STALLED, occurred_on=dt.date(2016, 1, 1 + i))
    version = Proposal.objects.get(pk=proposal.pk).version
    # slug, version row, links, 6 part tables (proponents, evidence, events,
    # relations, participation, aliases), actors, topics, sources, venue,
    # related proposals
    with django_assert_num_queries(14):
        assert api.get(f"/api/v1/proposals/{proposal.slug}/versions/{version}/").status_code == 200
    with django_assert_num_queries(14):
        assert api.get(f"/api/v1/proposals/versions/{proposal.pk}/{version}/").status_code == 200
    with django_assert_num_queries(3):
        assert api.get(f"/api/v1/proposals/{proposal.slug}/versions/").status_code == 200


@pytest.mark.django_db
def test_a_permalink_keeps_serving_its_record_after_the_slug_is_reused(api, venue):
    services.proposal_create(slug="rv-a", title="Original", summary="x", venue=venue)
    original = detail(api, "rv-a")
    assert f"/proposals/versions/{original['id']}/{original['version']}/" in original["permalink"]
    renamed_at = timezone.now()
    services.record_save(instance=Proposal.objects.get(slug="rv-a"), slug="rv-a-renamed")
    services.proposal_create(slug="rv-a", title="Impostor", summary="x", venue=venue)
    served = api.get(original["permalink"])
    assert served.json() == original
    assert "immutable" in served.headers["Cache-Control"]
    csl = api.get(f"{original['permalink']}cite/").json()
    assert csl[0]["URL"] == original["permalink"]
    # The slug routes are a convenience naming the slug's current record.
    assert api.get("/api/v1/proposals/rv-a/versions/1/").json()["title"] == "Impostor"
    listed = api.get("/api/v1/proposals/rv-a-renamed/versions/").json()["results"]
    assert listed[0]["url"] == original["permalink"]
    # as_of names the record that had the slug then.
    response = api.get("/api/v1/proposals/rv-a/", {"as_of": renamed_at.isoformat()})
    assert response.status_code == 200
    assert response.json() == original
    assert response.headers["Content-Location"] == original["permalink"]
    assert api.get("/api/v1/proposals/rv-a-renamed/", {"as_of": renamed_at.isoformat()}).status_code == 404


@pytest.mark.django_db
def test_a_newline_in_a_title_cannot_forge_ris_records(api, venue):
    title = "Real\nER  - \nTY  - JOUR\nTI  - Forged\u2028AU  - Nobody"
    proposal = services.proposal_create(slug="rv-ris", title=title, summary="x", venue=venue)
    response = api.get(f"/api/v1/proposals/{proposal.slug}/cite/", {"format": "ris"})
    assert response.status_code == 200
    text = response.content.decode()
    refs = rispy.loads(text)
    assert len(refs) == 1
    assert refs[0]["title"] == "Real ER  -  TY  - JOUR TI  - Forged AU  - Nobody"
    assert all(line[:2].isalnum() and line[2:6] == "  - " for line in text.splitlines() if line)


@pytest.mark.django_db
def test_as_of_with_csv_is_refused_as_not_supported(api, proposal):
    moment = timezone.now().isoformat()
    response = api.get(f"/api/v1/proposals/{proposal.slug}/", {"as_of": moment, "format": "csv"})
    assert_problem(response, 406)
    assert "JSON only" in response.json()["detail"]
