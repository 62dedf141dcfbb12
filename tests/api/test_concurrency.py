"""No lost updates: ETags, If-None-Match, If-Match (412/428), racing writers."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from proposals.models import Proposal

URL = "/api/v1/proposals/anti-extremism-treaty/"


def test_retrieve_returns_a_strong_etag_and_304_when_current(api, proposal):
    response = api.get(URL)
    tag = response["ETag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert api.get(URL, HTTP_IF_NONE_MATCH=tag).status_code == 304
    assert api.get(URL, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_write_without_if_match_is_428_and_changes_nothing(editor_api, proposal):
    response = editor_api.patch(URL, {"title": "Blind write"}, format="json")
    assert response.status_code == 428
    assert response["Content-Type"] == "application/problem+json"
    proposal.refresh_from_db()
    assert proposal.title == "Anti-extremism treaty"


def test_stale_if_match_is_refused_and_the_first_writer_wins(editor_api, api, proposal):
    tag = api.get(URL)["ETag"]
    first = editor_api.patch(URL, {"title": "First writer"}, format="json", HTTP_IF_MATCH=tag)
    assert first.status_code == 200
    assert first["ETag"] != tag
    second = editor_api.patch(URL, {"title": "Second writer"}, format="json", HTTP_IF_MATCH=tag)
    assert second.status_code == 412
    proposal.refresh_from_db()
    assert proposal.title == "First writer"


def test_etag_changes_when_a_status_event_is_added(editor_api, api, proposal):
    tag = api.get(URL)["ETag"]
    response = editor_api.post(f"{URL}events/", {"status": "adopted", "occurred_on": "2016-01-01"}, format="json")
    assert response.status_code == 201
    assert api.get(URL)["ETag"] != tag
    assert editor_api.delete(URL, HTTP_IF_MATCH=tag).status_code == 412
    assert Proposal.objects.filter(slug=proposal.slug).exists()


def test_a_get_put_round_trip_is_lossless(editor_api, api, proposal, source):
    editor_api.post(
        f"{URL}evidence/",
        {"source": {"id": source.id}, "quote": " A researcher said the bloc ", "note": "  spaced  "},
        format="json",
    )
    before = api.get(URL)
    body = before.json()
    response = editor_api.put(URL, body, format="json", HTTP_IF_MATCH=before["ETag"])
    assert response.status_code == 200, response.json()
    after = api.get(URL)
    assert after.json() == body
    assert after["ETag"] == before["ETag"]  # nothing changed, nothing written
    assert any(e["quote"] == " A researcher said the bloc " for e in body["evidence"])


@pytest.mark.django_db(transaction=True)
def test_two_racing_writers_with_the_same_etag_exactly_one_wins(editor, proposal):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    tag = APIClient().get(URL)["ETag"]
    barrier = threading.Barrier(2)
    results = {}

    def write(title):
        client = APIClient()
        client.force_authenticate(editor)
        barrier.wait()
        try:
            results[title] = client.patch(URL, {"title": title}, format="json", HTTP_IF_MATCH=tag).status_code
        finally:
            connection.close()  # each thread has its own connection; release it

    threads = [threading.Thread(target=write, args=(t,)) for t in ("Writer A", "Writer B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == [200, 412]
    winner = next(title for title, code in results.items() if code == 200)
    proposal.refresh_from_db()
    assert proposal.title == winner


def test_cors_exposes_etag_to_allowed_origins(api, proposal, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.org"]
    response = api.get(URL, HTTP_ORIGIN="https://app.example.org")
    assert response["Access-Control-Allow-Origin"] == "https://app.example.org"
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "retry-after"} <= exposed
    preflight = api.options(
        URL,
        HTTP_ORIGIN="https://app.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-match",
    )
    assert "if-match" in preflight["Access-Control-Allow-Headers"].lower()
