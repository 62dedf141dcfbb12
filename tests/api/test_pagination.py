"""Pagination at scale: a bounded count, and a keyset cursor for syncing."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.api import pagination
from proposals.models import Proposal
from tests.factories import create_proposals_in_bulk

URL = "/api/v1/proposals/"


@pytest.fixture
def many(db):
    proposals = create_proposals_in_bulk(23)
    # Distinct, known update times, with a tie to exercise the id tie-breaker.
    base = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for i, proposal in enumerate(proposals):
        Proposal.objects.filter(pk=proposal.pk).update(updated_at=base + dt.timedelta(minutes=i // 2))
    return list(Proposal.objects.order_by("updated_at", "id").values_list("slug", flat=True))


def _walk(api, first_url):
    slugs, url, pages = [], first_url, 0
    while url:
        body = api.get(url).json()
        assert "count" not in body
        slugs += [row["slug"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    return slugs, pages


def test_cursor_walks_every_proposal_once_oldest_change_first(api, many):
    slugs, pages = _walk(api, f"{URL}?cursor=&page_size=5")
    assert slugs == many
    assert pages == 5


def test_cursor_combines_with_filters(api, many):
    since = "2020-01-01T00:05:00Z"
    slugs, _ = _walk(api, f"{URL}?cursor=&page_size=4&updated_since={since}")
    assert slugs == many[10:]


def test_cursor_page_rows_match_the_list_representation(api, many):
    cursor_rows = api.get(f"{URL}?cursor=&page_size=3").json()["results"]
    by_slug = {row["slug"]: row for row in api.get(f"{URL}?page_size=200").json()["results"]}
    assert cursor_rows == [by_slug[row["slug"]] for row in cursor_rows]


@pytest.mark.parametrize("bad", ["zzz", "!!", "MjAyMHwx"])
def test_a_forged_cursor_is_a_400(api, many, bad):
    response = api.get(f"{URL}?cursor={bad}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("clash", ["ordering=title", "page=2"])
def test_cursor_refuses_ordering_and_page(api, many, clash):
    response = api.get(f"{URL}?cursor=&{clash}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == clash.split("=")[0]


def test_a_deep_cursor_page_runs_the_same_queries_as_the_first(api, many):
    first = api.get(f"{URL}?cursor=&page_size=5").json()
    deep_url = first["next"]
    for _ in range(3):
        deep_url = api.get(deep_url).json()["next"]
    with CaptureQueriesContext(connection) as shallow:
        api.get(f"{URL}?cursor=&page_size=5")
    with CaptureQueriesContext(connection) as deep:
        api.get(deep_url)
    assert len(shallow.captured_queries) == len(deep.captured_queries)
    assert "OFFSET" not in deep.captured_queries[0]["sql"].upper()
    assert "COUNT(" not in " ".join(q["sql"].upper() for q in deep.captured_queries)


def test_counts_stop_at_the_cap(api, many, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    body = api.get(f"{URL}?page_size=5").json()
    assert (body["count"], body["count_capped"]) == (10, True)
    monkeypatch.setattr(pagination, "COUNT_CAP", 100)
    body = api.get(f"{URL}?page_size=5").json()
    assert (body["count"], body["count_capped"]) == (23, False)
