"""The suggestions in the admin: the source page's table, the list, and
accept/reject through the services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.models import Participation, Suggestion
from proposals.suggestions import services


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_source_page_lists_suggestions_with_fixed_queries(staff_client, later_news):
    url = reverse("admin:proposals_source_change", args=[later_news.pk])
    _queries(staff_client, url)  # warm the content-type cache
    none, _ = _queries(staff_client, url)
    created = services.suggest_for_source(later_news)
    some, page = _queries(staff_client, url)
    assert some == none
    for s in created:
        assert reverse("admin:proposals_suggestion_accept", args=[s.pk]) in page
    list_url = reverse("admin:proposals_suggestion_changelist")
    _queries(staff_client, list_url)  # warm the content-type cache
    few, _ = _queries(staff_client, list_url)
    services.suggest_for_source(
        type(later_news).objects.create(slug="more", title="More", text=later_news.text + " Again.")
    )
    many, _ = _queries(staff_client, list_url)
    assert few == many


def test_accept_link_confirms_then_accepts(staff_client, later_news):
    (ratified,) = [s for s in services.suggest_for_source(later_news) if s.action == "ratified"]
    url = reverse("admin:proposals_suggestion_accept", args=[ratified.pk])
    assert "Accept this suggestion?" in staff_client.get(url).content.decode()
    assert Participation.objects.count() == 0
    response = staff_client.post(url)
    assert response.status_code == 302
    assert Participation.objects.count() == 1
    ratified.refresh_from_db()
    assert ratified.state == "accepted"


@pytest.mark.parametrize("action", ["accept_selected", "reject_selected"])
def test_list_actions_go_through_the_services(staff_client, later_news, action):
    created = services.suggest_for_source(later_news)
    signed = [s for s in created if s.kind == "status_event"]
    response = staff_client.post(
        reverse("admin:proposals_suggestion_changelist"),
        {"action": action, "_selected_action": [s.pk for s in signed]},
    )
    assert response.status_code == 302
    expected = "accepted" if action == "accept_selected" else "rejected"
    assert set(Suggestion.objects.filter(pk__in=[s.pk for s in signed]).values_list("state", flat=True)) == {expected}


def test_the_reader_highlights_pending_suggestions_with_accept_and_reject(staff_client, later_news):
    created = services.suggest_for_source(later_news)
    ratified = next(s for s in created if s.kind == "participation")
    reader = reverse("admin:proposals_source_reader", args=[later_news.pk])
    page = staff_client.get(reader).content.decode()
    # Highlighted in the text, in the suggestion style, with an anchor.
    assert f'id="s{ratified.pk}"' in page
    assert "kind-suggestion" in page
    # The help line counts quotes and suggestions apart (it called every
    # mark a quote).
    assert "0 quotes point into this text." in page
    assert f"{len(created)} suggestion" in page
    accept = reverse("admin:proposals_suggestion_accept", args=[ratified.pk]) + "?back=reader"
    assert f'href="{accept}"' in page
    assert reverse("admin:proposals_suggestion_reject", args=[ratified.pk]) + "?back=reader" in page
    # The source page's table links each pending suggestion to its spot in the reader.
    change = staff_client.get(reverse("admin:proposals_source_change", args=[later_news.pk])).content.decode()
    assert f"{reader}#s{ratified.pk}" in change
    # Accepting from the reader comes back to the reader; a decided one is no longer marked.
    response = staff_client.post(accept)
    assert response.status_code == 302 and response["Location"] == reader
    assert Suggestion.objects.get(pk=ratified.pk).state == "accepted"
    assert f'id="s{ratified.pk}"' not in staff_client.get(reader).content.decode()


def test_the_reader_with_suggestions_takes_a_fixed_number_of_queries(staff_client, later_news):
    reader = reverse("admin:proposals_source_reader", args=[later_news.pk])
    _queries(staff_client, reader)
    none, _ = _queries(staff_client, reader)
    services.suggest_for_source(later_news)
    some, page = _queries(staff_client, reader)
    assert "kind-suggestion" in page
    assert some == none
