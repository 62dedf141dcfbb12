"""Bulk actions on the proposal list (issue #13.6): a status event (with the
same quote) on many proposals, a topic on many; all or nothing."""

import datetime as dt

import pytest
from django.urls import reverse

from proposals import services
from proposals.models import Evidence, Proposal, Status, StatusEvent, Topic

LIST = "admin:proposals_proposal_changelist"


@pytest.fixture
def three(proposal, venue):
    others = [
        services.proposal_create(slug=f"other-{i}", title=f"Other {i}", venue=venue, proposed_on=dt.date(2015, 1, 1))
        for i in range(2)
    ]
    return [proposal, *others]


def _post(client, action, proposals, **data):
    return client.post(
        reverse(LIST),
        {"action": action, "_selected_action": [p.pk for p in proposals], "index": "0", **data},
    )


def test_the_status_action_shows_a_form_first(staff_client, three):
    response = _post(staff_client, "add_status_event", three)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="occurred_on"' in page and "Apply to 3 proposals" in page
    assert not StatusEvent.objects.filter(status=Status.STALLED).exists()


def test_the_status_action_records_one_event_and_one_quote_on_each(staff_client, three, source):
    versions = {p.pk: Proposal.objects.get(pk=p.pk).version for p in three}
    response = _post(
        staff_client,
        "add_status_event",
        three,
        apply="1",
        status=Status.STALLED,
        occurred_on="2016-03-01",
        precision="day",
        note="No progress reported.",
        source=source.pk,
        quote="The treaty was discussed again.",
        start=str(source.text.rindex("The treaty was discussed again.")),
    )
    assert response.status_code == 302
    for p in three:
        fresh = Proposal.objects.get(pk=p.pk)
        assert fresh.status == Status.STALLED
        assert fresh.version == versions[p.pk] + 1  # one batch: one new version
        event = fresh.events.get(status=Status.STALLED)
        assert event.evidence.quote == "The treaty was discussed again."
        assert event.evidence.start == source.text.rindex("The treaty")
        assert fresh.history.latest().history_change_reason.endswith("status event added: stalled, 2016-03-01")


def test_one_refusal_writes_nothing_and_names_the_proposal(staff_client, three, source):
    late = services.proposal_create(slug="late", title="Late proposal", proposed_on=dt.date(2020, 1, 1))
    before = (StatusEvent.objects.count(), Evidence.objects.count())
    versions = {p.pk: p.version for p in Proposal.objects.all()}
    response = _post(
        staff_client,
        "add_status_event",
        [*three, late],
        apply="1",
        status=Status.STALLED,
        occurred_on="2016-03-01",
        precision="day",
        source=source.pk,
        quote="A researcher said",
    )
    assert response.status_code == 200
    assert "Late proposal (late)" in response.content.decode()
    assert "before the proposal was put forward" in response.content.decode()
    assert (StatusEvent.objects.count(), Evidence.objects.count()) == before
    assert {p.pk: p.version for p in Proposal.objects.all()} == versions


def test_an_ambiguous_quote_is_a_form_error(staff_client, three, source):
    response = _post(
        staff_client,
        "add_status_event",
        three,
        apply="1",
        status=Status.STALLED,
        occurred_on="2016-03-01",
        precision="day",
        source=source.pk,
        quote="The treaty was discussed again.",
    )
    assert response.status_code == 200
    assert "occurs 2 times" in response.content.decode()
    assert not StatusEvent.objects.filter(status=Status.STALLED).exists()


def test_the_topic_action_adds_the_topic_to_those_lacking_it(staff_client, three, topic):
    other = services.record_save(instance=Topic(), slug="border-control", name="Border control")
    services.proposal_update(proposal=three[1], topics=[other])
    response = _post(staff_client, "attach_topic", three, apply="1", topic=other.pk)
    assert response.status_code == 302
    assert set(other.proposals.values_list("pk", flat=True)) == {p.pk for p in three}
    assert set(three[0].topics.values_list("slug", flat=True)) == {"legal-instruments", "border-control"}


def test_bulk_status_event_twice_does_not_duplicate(staff_client, three):
    # Review finding 7: a re-run action skips the proposals that have the event, and names them.
    data = {"apply": "1", "status": "stalled", "occurred_on": "2016-03-01", "precision": "day"}
    _post(staff_client, "add_status_event", three[:1], **data)
    response = _post(staff_client, "add_status_event", three, **data)
    for proposal in three:
        assert (
            StatusEvent.objects.filter(proposal=proposal, status="stalled", occurred_on=dt.date(2016, 3, 1)).count()
            == 1
        )
    messages = [str(m) for m in response.wsgi_request._messages][-2:]
    assert "Added “Stalled, 2016-03-01 (day)” to 2 proposal(s)." in messages[0]
    assert "Left out 1 that already had" in messages[1] and "(anti-extremism-treaty)" in messages[1]
    history = three[0].history.count()
    _post(staff_client, "add_status_event", three[:1], **data)
    assert three[0].history.count() == history
