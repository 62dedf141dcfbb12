"""A list ETag must name the bytes it is sent with.

A write that commits while a list request is between its queries must not
leave that request with the NEW change sequence on OLD rows: a later
request with the same tag gets other bytes, and a poll with the tag is
answered 304 for bytes the client never had.

The write is made from another thread (its own database connection),
right after the request's first page query, so the interleaving is
deterministic; nothing is mocked.
"""

import threading

import pytest
from django.db import connection, connections

from proposals import services
from proposals.models import Proposal
from tests.factories import ProposalFactory

URL = "/api/v1/proposals/"


def _write_in_other_connection(pk: int, title: str) -> None:
    def run():
        try:
            services.proposal_update(proposal=Proposal.objects.get(pk=pk), title=title)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def _after_first_query_matching(predicate, action):
    done = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not done and predicate(sql):
            done.append(sql)
            action()
        return result

    return wrapper, done


@pytest.fixture
def six(transactional_db):
    return [ProposalFactory() for _ in range(6)]


@pytest.mark.django_db(transaction=True)
def test_a_deep_page_is_not_tagged_with_a_sequence_newer_than_its_ids(api, six):
    # Page 2 of 3 (by -updated_at): its ids are read first, then its rows and the
    # sequence in a second query (CappedCountPaginator._window's two steps).
    url = f"{URL}?page_size=2&page=2"
    on_page_2 = api.get(url).json()["results"][0]["id"]
    wrapper, done = _after_first_query_matching(
        lambda sql: "OFFSET" in sql and "list_json" not in sql,
        lambda: _write_in_other_connection(on_page_2, "Moved to page one"),
    )
    with connection.execute_wrapper(wrapper):
        racy = api.get(url)
    assert done, "the ids query was not seen"
    fresh = api.get(url)
    if racy["ETag"] == fresh["ETag"]:
        assert racy.content == fresh.content, "one ETag, two different bodies"
    # and a poll with the racy tag must not be told its bytes are current
    if racy.content != fresh.content:
        assert api.get(url, HTTP_IF_NONE_MATCH=racy["ETag"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_an_empty_page_is_not_tagged_with_a_sequence_read_after_its_rows(api, six):
    url = f"{URL}?q=zanzibarquux"
    assert api.get(url).json()["results"] == []
    wrapper, done = _after_first_query_matching(
        lambda sql: "list_json" in sql,
        lambda: _write_in_other_connection(six[0].pk, "Zanzibarquux plan"),
    )
    with connection.execute_wrapper(wrapper):
        racy = api.get(url)
    assert done, "the rows query was not seen"
    fresh = api.get(url)
    assert len(fresh.json()["results"]) == 1
    if racy["ETag"] == fresh["ETag"]:
        assert racy.content == fresh.content, "one ETag, two different bodies"
    # a poll with the racy tag must not be told its bytes are current (when they are, 304 is right)
    if racy.content != fresh.content:
        assert api.get(url, HTTP_IF_NONE_MATCH=racy["ETag"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_an_unrendered_row_deleted_while_its_page_is_built_is_not_a_500(api, six):
    # A row never rendered (a bulk load: generate_synthetic leaves list_json NULL).
    victim = six[-1]
    Proposal.objects.filter(pk=victim.pk).update(list_json=None, list_json_at=None)

    def delete():
        def run():
            try:
                services.proposal_delete(proposal=Proposal.objects.get(pk=victim.pk))
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()

    wrapper, done = _after_first_query_matching(lambda sql: "list_json" in sql, delete)
    with connection.execute_wrapper(wrapper):
        response = api.get(URL)
    assert done
    assert response.status_code == 200
