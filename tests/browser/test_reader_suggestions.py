"""Pending suggestions in the source reader, in a real browser (issue #12):
highlighted in their own style beside the quotes, accepted from the list,
and gone from the highlights once decided."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from proposals import services
from proposals.models import Actor, ActorKind, Source, Suggestion
from proposals.suggestions import services as suggestions

pytestmark = pytest.mark.browser


def test_reader_highlights_a_pending_suggestion_and_accepts_it(page, app_url, shot, login, staff):
    kz = {"slug": "kazakhstan", "name": "Kazakhstan", "kind": ActorKind.STATE, "country_code": "KZ"}
    services.record_save(instance=Actor(), **kz)
    services.proposal_create(
        slug="sco-anti-extremism-treaty", title="SCO anti-extremism treaty", proposed_on=dt.date(2015, 12, 15)
    )
    source = services.record_save(
        instance=Source(),
        slug="kz-ratifies",
        title="Kazakhstan ratifies",
        published_on=dt.date(2018, 3, 14),
        text="Kazakhstan ratified the SCO Convention on Countering Extremism on 12 March 2018.",
    )
    created = suggestions.suggest_for_source(source)
    assert any(s.kind == "participation" for s in created)
    login("staff", "pw-staff-1")
    page.goto(f"{app_url}/admin/proposals/source/{source.pk}/reader/")
    mark = page.locator("#reader-text mark.mark.kind-suggestion")
    expect(mark.first).to_be_visible()
    colour = mark.first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(220, 235, 250)", colour  # the suggestion style, not the quotes' yellow
    shot("suggestion-highlighted")
    page.locator("#reader-quote-list .decide a.accept").first.click()
    page.locator("input[type=submit][value=Accept]").click()
    page.wait_for_url(f"{app_url}/admin/proposals/source/{source.pk}/reader/")
    assert Suggestion.objects.filter(state="accepted").count() == 1
    assert Suggestion.objects.filter(state="pending").count() == len(created) - 1
    expect(page.locator("#reader-text mark.mark.kind-quote").first).to_be_visible()
