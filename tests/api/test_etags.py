"""ETag rules of the API (issue items 2, 4 and 5).

* Item 2: a proposal's ETag changes when a neighbour it embeds is renamed.
* Item 4: sub-resource writes that change a proposal honour ``If-Match``
  when the client sends one, and the docs say so.
* Item 5: ``If-None-Match`` uses weak comparison and accepts lists and
  ``*`` (RFC 9110 §13.1.2); ``If-Match`` stays strong.
"""

import pytest

from proposals.models import Proposal

from .helpers import assert_problem, write

API = "/api/v1"


def _detail_url(kind, proposal, actor, venue, source, topic) -> str:
    return {
        "proposals": f"{API}/proposals/{proposal.slug}/",
        "actors": f"{API}/actors/{actor.pk}/",
        "venues": f"{API}/venues/{venue.pk}/",
        "sources": f"{API}/sources/{source.pk}/",
        "topics": f"{API}/topics/{topic.slug}/",
    }[kind]


@pytest.fixture
def detail_url(request, proposal, actor, venue, source, topic):
    return _detail_url(request.param, proposal, actor, venue, source, topic)


KINDS = ["proposals", "actors", "venues", "sources", "topics"]


# --------------------------------------------------------------------------
# Item 5: weak comparison for If-None-Match; If-Match stays strong
# --------------------------------------------------------------------------


def _current(api, url) -> str:
    response = api.get(url)
    assert response.status_code == 200, response.content
    tag = response["ETag"]
    assert tag.startswith('"'), tag
    return tag


@pytest.mark.parametrize("detail_url", KINDS, indirect=True)
def test_if_none_match_with_the_weak_form_of_the_current_etag_is_304(api, detail_url):
    tag = _current(api, detail_url)
    response = api.get(detail_url, HTTP_IF_NONE_MATCH=f"W/{tag}")
    assert response.status_code == 304
    assert response["ETag"] == tag


@pytest.mark.parametrize("detail_url", KINDS, indirect=True)
def test_if_none_match_with_a_list_holding_the_weak_current_etag_is_304(api, detail_url):
    tag = _current(api, detail_url)
    assert api.get(detail_url, HTTP_IF_NONE_MATCH=f'"nope", W/{tag}').status_code == 304


@pytest.mark.parametrize("detail_url", KINDS, indirect=True)
def test_if_none_match_star_is_304(api, detail_url):
    _current(api, detail_url)
    assert api.get(detail_url, HTTP_IF_NONE_MATCH="*").status_code == 304


@pytest.mark.parametrize("detail_url", KINDS, indirect=True)
@pytest.mark.parametrize("stale", ['"999-999"', 'W/"999-999"', '"nope", W/"999-999"'])
def test_if_none_match_with_only_stale_etags_is_200(api, detail_url, stale):
    _current(api, detail_url)
    response = api.get(detail_url, HTTP_IF_NONE_MATCH=stale)
    assert response.status_code == 200
    assert response.json()


@pytest.mark.parametrize("detail_url", KINDS, indirect=True)
def test_if_match_with_the_weak_form_of_the_current_etag_is_412(editor_api, detail_url):
    tag = _current(editor_api, detail_url)
    before = editor_api.get(detail_url).json()
    field = "title" if "proposals" in detail_url or "sources" in detail_url else "name"
    response = editor_api.patch(detail_url, {field: "Weakly matched"}, format="json", HTTP_IF_MATCH=f"W/{tag}")
    assert_problem(response, 412)
    assert editor_api.get(detail_url).json() == before


# --------------------------------------------------------------------------
# Item 4: If-Match on sub-resource writes
# --------------------------------------------------------------------------

PROPOSAL = f"{API}/proposals/anti-extremism-treaty/"


def _event_body():
    return {"status": "adopted", "occurred_on": "2016-06-01"}


def _evidence_body(source):
    return {"source": {"id": source.pk}, "quote": "A researcher said the bloc may launch a cooperative mechanism."}


def _state(proposal) -> tuple:
    proposal = Proposal.objects.get(pk=proposal.pk)
    return proposal.status, proposal.events.count(), proposal.evidence.count(), proposal.version


SUBRESOURCES = ["events", "evidence"]


def _body(kind, source):
    return _event_body() if kind == "events" else _evidence_body(source)


@pytest.mark.parametrize("kind", SUBRESOURCES)
@pytest.mark.parametrize("stale", ['"999-999"', "stale-etag"])
def test_a_sub_resource_write_with_a_stale_if_match_is_412_and_changes_nothing(
    editor_api, proposal, source, kind, stale
):
    if stale == "stale-etag":
        stale = _current(editor_api, PROPOSAL)
        assert write(editor_api, "patch", PROPOSAL, {"summary": "Moved on."}).status_code == 200
    before = _state(proposal)

    response = editor_api.post(f"{PROPOSAL}{kind}/", _body(kind, source), format="json", HTTP_IF_MATCH=stale)

    assert_problem(response, 412)
    assert _state(proposal) == before


@pytest.mark.parametrize("kind", SUBRESOURCES)
def test_a_sub_resource_write_with_the_current_if_match_goes_through(editor_api, proposal, source, kind):
    tag = _current(editor_api, PROPOSAL)
    before = _state(proposal)

    response = editor_api.post(f"{PROPOSAL}{kind}/", _body(kind, source), format="json", HTTP_IF_MATCH=tag)

    assert response.status_code == 201, response.content
    assert _state(proposal) != before
    assert _current(editor_api, PROPOSAL) != tag


@pytest.mark.parametrize("kind", SUBRESOURCES)
def test_a_sub_resource_write_without_if_match_still_goes_through(editor_api, proposal, source, kind):
    response = editor_api.post(f"{PROPOSAL}{kind}/", _body(kind, source), format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("kind", SUBRESOURCES)
def test_the_docs_say_sub_resource_writes_honour_if_match(client, kind):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"][f"/api/v1/proposals/{{proposal_slug}}/{kind}/"]["post"]
    headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
    assert "If-Match" in headers, "POST must document the optional If-Match header"
    assert headers["If-Match"].get("required", False) is False, "If-Match is optional on sub-resource writes"
    assert "412" in operation["responses"], "POST must document 412 for a stale If-Match"


# --------------------------------------------------------------------------
# Item 2: renaming a neighbour changes the proposals that show it
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("neighbour", "change", "shown"),
    [
        ("venue", {"name": "Astana summit"}, lambda body: body["venue"]["name"]),
        ("topic", {"name": "Treaties"}, lambda body: body["topics"][0]["name"]),
        ("actor", {"name": "Premier Li"}, lambda body: body["proponents"][0]["name"]),
    ],
    ids=["venue", "topic", "actor"],
)
def test_renaming_a_neighbour_changes_the_etag_of_the_proposal_that_shows_it(
    api, editor_api, proposal, actor, venue, topic, neighbour, change, shown
):
    old = api.get(PROPOSAL)
    url = {
        "venue": f"{API}/venues/{venue.pk}/",
        "topic": f"{API}/topics/{topic.slug}/",
        "actor": f"{API}/actors/{actor.pk}/",
    }[neighbour]
    assert write(editor_api, "patch", url, change).status_code == 200

    response = api.get(PROPOSAL, HTTP_IF_NONE_MATCH=old["ETag"])

    assert response.status_code == 200, "the body shows the new name, so the old ETag must not match"
    assert shown(response.json()) == next(iter(change.values()))
    assert response["ETag"] != old["ETag"]
