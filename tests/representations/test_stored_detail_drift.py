"""The stored detail (and its ETag) must follow every
change to what the detail shows, and the rebuild command must cover it."""

import pytest
from django.core.management import CommandError, call_command

from proposals import services
from proposals.models import Actor, Proposal, Source
from proposals.tracking import services as tracking
from tests.factories import ActorFactory, EvidenceFactory, ProposalFactory

URL = "/api/v1/proposals/"
INDENTED = {"HTTP_ACCEPT": "application/json; indent=1"}  # the serializer path


def _stored_and_serializer(api, slug):
    api.get(f"{URL}{slug}/")  # first read renders and stores the detail
    stored = api.get(f"{URL}{slug}/")
    fresh = api.get(f"{URL}{slug}/", **INDENTED)
    return stored, fresh


@pytest.mark.django_db
def test_an_actor_slug_change_moves_the_detail_of_proposals_it_is_a_party_of(api, editor):
    proposal = ProposalFactory()
    party = ActorFactory()
    tracking.participation_record(proposal=proposal, party=party, action="signed", user=editor)
    before, _ = _stored_and_serializer(api, proposal.slug)
    services.record_save(instance=Actor.objects.get(pk=party.pk), slug="a-new-slug", user=editor)
    stored, fresh = _stored_and_serializer(api, proposal.slug)
    assert fresh.json()["participation"][0]["party"]["slug"] == "a-new-slug"
    assert stored.json() == fresh.json(), "the stored detail is not the serializer's output"
    assert stored["ETag"] != before["ETag"], "the detail changed, its ETag did not"


@pytest.mark.django_db
def test_a_source_text_edit_that_moves_utf16_offsets_moves_the_detail(api, editor):
    evidence = EvidenceFactory()
    proposal = Proposal.objects.get(pk=evidence.proposal_id)
    before, _ = _stored_and_serializer(api, proposal.slug)
    source = Source.objects.get(pk=evidence.source_id)
    # Same code points before the quote (its offsets still hold), one more UTF-16 unit.
    services.record_save(instance=source, text="\U0001f600" + source.text[1:], user=editor)
    stored, fresh = _stored_and_serializer(api, proposal.slug)
    assert fresh.json()["evidence"][0]["start_utf16"] == before.json()["evidence"][0]["start_utf16"] + 1
    assert stored.json() == fresh.json(), "the stored detail is not the serializer's output"
    assert stored["ETag"] != before["ETag"], "the detail changed, its ETag did not"


@pytest.mark.django_db
def test_rebuild_representations_check_reports_a_drifted_detail(api, capsys):
    proposal = ProposalFactory()
    api.get(f"{URL}{proposal.slug}/")
    # What a deploy changing ProposalSerializer leaves behind: text stamped current, another shape.
    row = Proposal.objects.get(pk=proposal.pk)
    assert row.detail_json is not None
    Proposal.objects.filter(pk=proposal.pk).update(detail_json=row.detail_json.replace('"summary"', '"old"'))
    with pytest.raises(CommandError, match="drifted"):
        call_command("rebuild_representations", "--check", "--no-progress")
    call_command("rebuild_representations", "--no-progress")
    assert api.get(f"{URL}{proposal.slug}/").json() == api.get(f"{URL}{proposal.slug}/", **INDENTED).json()
