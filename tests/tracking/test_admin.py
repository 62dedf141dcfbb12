"""Admin: participation and alias inlines save through the services, search
finds records by alias, and the changed pages cost a fixed number of
queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals import services
from proposals.models import Actor, ActorAlias, ActorKind, Participation, Proposal, ProposalAlias
from proposals.tracking import services as tracking
from tests.admin_helpers import admin_url, form_data, form_errors


@pytest.fixture
def china(db):
    return services.record_save(instance=Actor(), slug="china", name="China", kind=ActorKind.STATE, country_code="CN")


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_a_participation_row_added_inline_goes_through_the_service(staff_client, staff, proposal, china):
    url = admin_url("proposal", "change", proposal.pk)
    data = form_data(staff_client.get(url))
    quote = proposal.evidence.get()
    data.update(
        {
            "participation-TOTAL_FORMS": "1",
            "participation-0-party": str(china.pk),
            "participation-0-action": "ratified",
            "participation-0-occurred_on": "2017-11-01",
            "participation-0-precision": "day",
            "participation-0-evidence": str(quote.pk),
            "participation-0-note": "",
        }
    )
    version = proposal.version
    response = staff_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    row = Participation.objects.get()
    assert (row.party, row.action, row.occurred_on, row.evidence) == (china, "ratified", dt.date(2017, 11, 1), quote)
    assert row.recorded_by == staff
    fresh = Proposal.objects.get(pk=proposal.pk)
    assert fresh.version == version + 1
    assert proposal.history.get(version=fresh.version).history_change_reason == (
        "participation added: China ratified, 2017-11-01"
    )


def test_a_future_participation_date_is_refused_inline(staff_client, proposal, china):
    url = admin_url("proposal", "change", proposal.pk)
    data = form_data(staff_client.get(url))
    data.update(
        {
            "participation-TOTAL_FORMS": "1",
            "participation-0-party": str(china.pk),
            "participation-0-action": "signed",
            "participation-0-occurred_on": "2999-01-01",
            "participation-0-precision": "day",
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "cannot be dated in the future" in form_errors(response)
    assert not Participation.objects.exists()


def test_aliases_added_inline_bump_the_owner_once(staff_client, actor):
    url = admin_url("actor", "change", actor.pk)
    data = form_data(staff_client.get(url))
    data.update(
        {
            "aliases-TOTAL_FORMS": "2",
            "aliases-0-name": "李克强",
            "aliases-0-language": "zh",
            "aliases-1-name": "Premier Li",
            "aliases-1-language": "en",
        }
    )
    version = actor.version
    response = staff_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    assert sorted(ActorAlias.objects.values_list("name", flat=True)) == ["Premier Li", "李克强"]
    fresh = Actor.objects.get(pk=actor.pk)
    assert fresh.version == version + 1
    assert actor.history.get(version=fresh.version).history_change_reason == (
        "actor alias added: 李克强 (zh); actor alias added: Premier Li (en)"
    )


def test_a_bad_language_tag_is_refused_inline(staff_client, actor):
    url = admin_url("actor", "change", actor.pk)
    data = form_data(staff_client.get(url))
    data.update({"aliases-TOTAL_FORMS": "1", "aliases-0-name": "李克强", "aliases-0-language": "chinese"})
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "BCP 47" in form_errors(response)
    assert not ActorAlias.objects.exists()


def test_admin_search_finds_records_by_alias(staff_client, actor, proposal):
    tracking.alias_add(owner=actor, name="李克强", language="zh")
    tracking.alias_add(owner=proposal, name="SCO Convention on Countering Extremism", language="en")
    response = staff_client.get(admin_url("actor", "changelist"), {"q": "李克强"})
    assert response.context["cl"].result_count == 1
    response = staff_client.get(admin_url("proposal", "changelist"), {"q": "Countering"})
    assert response.context["cl"].result_count == 1


def test_change_pages_with_participation_and_aliases_take_fixed_queries(staff_client, proposal, china, actor):
    pages = [admin_url("proposal", "change", proposal.pk), admin_url("actor", "change", actor.pk)]
    few = [_queries(staff_client, url) for url in pages]
    quote = proposal.evidence.get()
    for i in range(20):
        party = services.record_save(
            instance=Actor(), slug=f"state-{i}", name=f"State {i}", kind=ActorKind.STATE, country_code="XX"
        )
        tracking.participation_record(proposal=proposal, party=party, action="signed", evidence=quote)
        tracking.alias_add(owner=proposal, name=f"Alias {i}")
        tracking.alias_add(owner=actor, name=f"Alias {i}")
    assert ProposalAlias.objects.count() == 20
    many = [_queries(staff_client, url) for url in pages]
    assert few == many, f"{few} queries with no rows, {many} with 20"
