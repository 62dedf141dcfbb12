"""Integrity edge cases a hostile review of the write path found (issue #10):
restores that relied on records deleted since, parts restored on their own,
relations between two deleted proposals, reverts of live records, stale
saves on every versioned admin page, loader skips after a neighbour rename,
padded or invisible names, duplicate relations, and conditional headers
that RFC 9110 says must fail a request."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from proposals import services
from proposals.importers import load_seeds
from proposals.models import Actor, Proposal, ProposalRelation, Source, Status, StatusEvent, Topic, Venue
from tests.admin_helpers import admin_url, form_data, post_admin_change
from tests.api.helpers import assert_problem, write
from tests.factories import ActorFactory, ProposalFactory

API = "/api/v1"


def _restore(client, model: str, pk: int):
    row = (
        {"proposal": Proposal, "statusevent": StatusEvent, "actor": Actor}[model]
        .history.filter(id=pk, history_type="-")
        .latest("history_id")
    )
    return client.post(reverse(f"admin:proposals_{model}_simple_history", args=[pk, row.history_id]), {"_save": "1"})


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# -- restores that rely on records deleted since ------------------------------


def test_a_restore_whose_actor_was_deleted_since_is_refused_by_name_then_works_once_it_is_back(staff_client):
    lone = ActorFactory(name="Lone proponent")
    proposal = ProposalFactory(
        slug="relies-on-lone", proponents=[{"actor": lone, "role": "proposed", "is_primary": True}]
    )
    pk, lone_pk = proposal.pk, lone.pk
    services.proposal_delete(proposal=proposal)
    services.record_delete(instance=lone)  # no longer blocked: nothing links to it

    response = _restore(staff_client, "proposal", pk)

    assert response.status_code == 302
    said = " ".join(_messages(response))
    assert "Lone proponent" in said and "Restored" not in said
    assert not Proposal.objects.filter(pk=pk).exists()
    services.record_restore(model=Actor, pk=lone_pk)
    assert _restore(staff_client, "proposal", pk).status_code == 302
    assert Proposal.objects.get(pk=pk).proponents.get().actor_id == lone_pk


def test_a_restore_whose_venue_or_topic_was_deleted_since_is_refused(db, venue, topic):
    proposal = ProposalFactory(slug="relies-on-venue", venue=venue, topics=[topic])
    pk = proposal.pk
    services.proposal_delete(proposal=proposal)
    services.record_delete(instance=topic)
    with pytest.raises(services.ValidationError, match="topic"):
        services.proposal_restore(proposal_id=pk)
    assert not Proposal.objects.filter(pk=pk).exists()


def test_a_restore_after_the_recorder_left_keeps_the_event_without_them(db, django_user_model):
    leaver = django_user_model.objects.create_user("leaver")
    proposal = ProposalFactory(slug="recorded-by-leaver")
    services.status_event_record(proposal=proposal, status=Status.STALLED, occurred_on=dt.date(2019, 1, 1), user=leaver)
    pk = proposal.pk
    services.proposal_delete(proposal=proposal)
    leaver.delete()

    restored, parts = services.proposal_restore(proposal_id=pk)

    assert parts["status events"] == 2
    assert restored.events.get(status=Status.STALLED).recorded_by is None


# -- a part restored on its own -----------------------------------------------


def test_a_status_event_restored_on_its_own_keeps_its_place_in_the_timeline(staff_client, db):
    proposal = ProposalFactory(slug="timeline", proposed_on=dt.date(2010, 1, 1))
    first = services.status_event_record(proposal=proposal, status="under_discussion", occurred_on=dt.date(2020, 1, 1))
    services.status_event_record(proposal=proposal, status="stalled", occurred_on=dt.date(2020, 1, 1))
    first_pk = first.pk
    recorded_at = StatusEvent.objects.get(pk=first_pk).recorded_at
    services.record_delete(instance=first)

    assert _restore(staff_client, "statusevent", first_pk).status_code == 302

    assert StatusEvent.objects.get(pk=first_pk).recorded_at == recorded_at
    assert Proposal.objects.get(pk=proposal.pk).status == "stalled"


def test_a_part_deleted_just_before_its_proposal_stays_deleted(db):
    proposal = ProposalFactory(slug="no-parts-left", proponents=[])  # nothing else goes with it
    for event in proposal.events.all():
        services.record_delete(instance=event)
    pk = proposal.pk
    services.proposal_delete(proposal=proposal)  # within the same few seconds

    restored, parts = services.proposal_restore(proposal_id=pk)

    assert parts["status events"] == 0
    assert not restored.events.exists()


def test_a_relation_between_two_deleted_proposals_comes_back_when_both_are_restored(db):
    target = ProposalFactory(slug="b-target")
    source = ProposalFactory(slug="a-source", relations=[{"to_proposal": target, "relation_type": "builds_on"}])
    a_pk, b_pk = source.pk, target.pk
    services.proposal_delete(proposal=source)
    services.proposal_delete(proposal=target)

    services.proposal_restore(proposal_id=a_pk)
    assert not ProposalRelation.objects.filter(from_proposal_id=a_pk).exists()  # B is still gone
    services.proposal_restore(proposal_id=b_pk)

    assert list(ProposalRelation.objects.filter(from_proposal_id=a_pk).values_list("to_proposal_id", flat=True)) == [
        b_pk
    ]


def test_a_relation_deleted_on_purpose_does_not_come_back(db):
    target = ProposalFactory(slug="b-target")
    source = ProposalFactory(slug="a-source", relations=[{"to_proposal": target, "relation_type": "builds_on"}])
    services.proposal_update(proposal=source, relations=[])
    b_pk = target.pk
    services.proposal_delete(proposal=target)
    services.proposal_restore(proposal_id=b_pk)
    assert not ProposalRelation.objects.exists()


# -- quotes cited by their proposal's links cannot be moved away --------------


def test_moving_a_cited_quote_to_another_proposal_is_a_form_error(staff_client, proposal):
    quote = proposal.evidence.get()
    services.status_event_record(proposal=proposal, status="stalled", occurred_on=dt.date(2019, 1, 1), evidence=quote)
    other = ProposalFactory(slug="elsewhere")

    response = post_admin_change(staff_client, "evidence", quote.pk, proposal=str(other.pk))

    assert response.status_code == 200
    assert "unlink them" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).evidence.filter(pk=quote.pk).exists()


# -- reverts and stale saves in the admin -------------------------------------


@pytest.mark.parametrize(
    ("model", "make", "field", "old", "new"),
    [
        ("proposal", lambda: ProposalFactory(slug="reverted", title="Old title"), "title", "Old title", "New title"),
        ("actor", lambda: ActorFactory(name="Old name"), "name", "Old name", "New name"),
        ("topic", lambda: services.record_save(instance=Topic(), slug="t", name="Old name"), "name", "Old name", "New"),
    ],
)
def test_a_live_record_reverts_to_an_older_version(staff_client, db, model, make, field, old, new):
    record = make()
    services.record_save(instance=type(record).objects.get(pk=record.pk), **{field: new})
    first = type(record).history.filter(id=record.pk).earliest("history_id")
    url = reverse(f"admin:proposals_{model}_simple_history", args=[record.pk, first.history_id])
    page = staff_client.get(url)

    response = staff_client.post(url, {**form_data(page), "_save": "Revert"})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert getattr(type(record).objects.get(pk=record.pk), field) == old


def test_a_revert_after_someone_else_saved_is_refused(staff_client, db):
    record = ActorFactory(name="Old name")
    services.record_save(instance=Actor.objects.get(pk=record.pk), name="Second")
    first = Actor.history.filter(id=record.pk).earliest("history_id")
    url = reverse("admin:proposals_actor_simple_history", args=[record.pk, first.history_id])
    page = staff_client.get(url)
    services.record_save(instance=Actor.objects.get(pk=record.pk), name="Third, meanwhile")

    response = staff_client.post(url, {**form_data(page), "_save": "Revert"})

    assert response.status_code == 200
    assert Actor.objects.get(pk=record.pk).name == "Third, meanwhile"


def test_a_stale_topic_save_in_the_admin_is_refused(staff_client, editor_api, topic):
    url = admin_url("topic", "change", topic.pk)
    page = staff_client.get(url)
    assert (
        write(editor_api, "patch", f"{API}/topics/{topic.slug}/", {"description": "From the API."}).status_code == 200
    )

    response = staff_client.post(url, {**form_data(page), "description": "From the stale admin form."})

    assert response.status_code == 200
    assert Topic.objects.get(pk=topic.pk).description == "From the API."


# -- the loader after a neighbour rename --------------------------------------


def test_a_renamed_venue_does_not_make_the_loader_skip_the_proposals_that_show_it(db, editor):
    load_seeds()
    venue = Venue.objects.filter(proposals__isnull=False).first()
    services.record_save(instance=venue, user=editor, name=venue.name + " (renamed by staff)")

    report = load_seeds()

    assert not [line for line in report.skipped if line.startswith("proposals[")], report.skipped


# -- one validation on every surface ------------------------------------------


@pytest.mark.parametrize("title", ["  Padded  ", "\u200b", "\ufeff\u200b "])
def test_padded_or_invisible_titles_are_refused_by_the_api(editor_api, proposal, title):
    response = write(editor_api, "patch", f"{API}/proposals/{proposal.slug}/", {"title": title})
    assert_problem(response, 400, "title")
    assert Proposal.objects.get(pk=proposal.pk).title == "Anti-extremism treaty"


def test_the_same_relation_twice_is_refused_by_the_api(editor_api, proposal):
    other = ProposalFactory(slug="other")
    twice = [{"relation": "builds_on", "slug": other.slug}] * 2
    response = write(editor_api, "patch", f"{API}/proposals/{proposal.slug}/", {"related": twice})
    assert_problem(response, 400, "related")
    assert not ProposalRelation.objects.exists()


def test_names_given_without_padding_are_the_same_through_admin_and_api(staff_client, editor_api, source):
    services.record_save(instance=Source.objects.get(pk=source.pk), title="Sample report")
    response = write(editor_api, "patch", f"{API}/sources/{source.pk}/", {"title": "Sample report "})
    assert_problem(response, 400, "title")


# -- conditional requests RFC 9110 says must fail -----------------------------


@pytest.mark.parametrize("header", ["*", "current"])
def test_a_write_with_a_matching_if_none_match_is_412(editor_api, proposal, header):
    url = f"{API}/proposals/{proposal.slug}/"
    tag = editor_api.get(url)["ETag"]
    response = editor_api.patch(
        url,
        {"title": "Changed"},
        format="json",
        HTTP_IF_MATCH=tag,
        HTTP_IF_NONE_MATCH=tag if header == "current" else "*",
    )
    assert_problem(response, 412)
    assert Proposal.objects.get(pk=proposal.pk).title == "Anti-extremism treaty"


def test_a_read_with_a_stale_if_match_is_412(api, proposal):
    assert_problem(api.get(f"{API}/proposals/{proposal.slug}/", HTTP_IF_MATCH='"1-999"'), 412)
