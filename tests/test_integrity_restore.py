"""Restoring a deleted proposal in the admin brings back exactly the state it
had when it was deleted, says what came back, and staff can find deleted
proposals in a list (issue item 6)."""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from proposals import services
from proposals.models import Proposal
from tests.admin_helpers import admin_url, form_data, form_errors
from tests.api.helpers import write
from tests.factories import ActorFactory, ProposalFactory, TopicFactory

API = "/api/v1"
SLUG = "restorable"
URL = f"{API}/proposals/{SLUG}/"
# Bookkeeping the restore itself moves; everything else must come back as it was.
BOOKKEEPING = {"updated_at", "version", "permalink"}  # permalink names the version


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def restorable(db, actor, venue, topic, source):
    """A proposal with every kind of part, changed once after it was made:
    2 topics, 1 party, 2 proponents (one primary; one later dropped), 2
    quotes, a timeline ending under_discussion then stalled on one date,
    and a relation to another proposal."""
    second_topic = TopicFactory(name="Border control")
    party = ActorFactory(organisation=True, name="A party body")
    endorser = ActorFactory(name="An endorser")
    other = ProposalFactory(title="Another proposal")
    proposal = services.proposal_create(
        slug=SLUG,
        title="Restorable proposal",
        summary="A proposal that will be deleted and restored.",
        venue=venue,
        proposed_on=dt.date(2015, 12, 15),
        topics=[topic, second_topic],
        parties=[party],
        proponents=[
            {"actor": actor, "role": "called_for", "is_primary": True},
            {"actor": endorser, "role": "endorsed", "is_primary": False},
        ],
        relations=[{"to_proposal": other, "relation_type": "builds_on"}],
    )
    services.evidence_attach(
        proposal=proposal, source=source, quote="Premier Li called for the signing of an anti-extremism treaty."
    )
    services.evidence_attach(
        proposal=proposal, source=source, quote="A researcher said the bloc may launch a cooperative mechanism."
    )
    services.status_event_record(proposal=proposal, status="under_discussion", occurred_on=dt.date(2016, 3, 1))
    services.status_event_record(proposal=proposal, status="stalled", occurred_on=dt.date(2016, 3, 1))
    # The change: drop the second proponent and edit the title.
    services.proposal_update(
        proposal=proposal,
        title="Restorable proposal, retitled",
        proponents=[{"actor": actor, "role": "called_for", "is_primary": True}],
    )
    return proposal


def _representation() -> dict:
    response = APIClient().get(URL)
    assert response.status_code == 200, response.content
    return response.json()


def _content(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in BOOKKEEPING}


def _delete(how: str, proposal, staff, editor) -> None:
    if how == "admin":
        client = Client()
        client.force_login(staff)
        response = client.post(admin_url("proposal", "delete", proposal.pk), {"post": "yes"})
        assert response.status_code == 302
    else:
        api = APIClient()
        api.force_authenticate(editor)
        assert write(api, "delete", URL).status_code == 204
    assert not Proposal.objects.filter(pk=proposal.pk).exists()


def _revert(staff, pk):
    """Post simple-history's revert form for the latest version before (or
    at) the deletion, with that version's fields, as staff would."""
    row = Proposal.history.filter(id=pk).exclude(history_type="-").order_by("-history_date", "-history_id").first()
    client = Client()
    client.force_login(staff)
    url = f"/admin/proposals/proposal/{pk}/history/{row.history_id}/"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, {**form_data(page), "_save": "Revert"})
    assert response.status_code == 302, form_errors(response)
    return response


@pytest.fixture(params=["admin", "api"], ids=["deleted-in-admin", "deleted-via-api"])
def restored(request, restorable, staff, editor):
    """(representation just before the delete, the revert's response)."""
    before = _representation()
    _delete(request.param, restorable, staff, editor)
    response = _revert(staff, restorable.pk)
    return before, response


def test_a_restored_proposal_has_exactly_the_state_it_had_when_deleted(restored):
    before, _ = restored
    after = _representation()
    assert _content(after) == _content(before)


def test_the_restore_message_lists_what_came_back(restored):
    _, response = restored
    text = " ".join(str(message) for message in get_messages(response.wsgi_request))
    # "2 evidence" or "evidence: 2"; singular or plural.
    expected = {"evidence": 2, "proponent": 1, "status event": 3, "topic": 2}
    missing = [
        kind
        for kind, n in expected.items()
        if not re.search(rf"\b{n}\s+{kind}|{kind}\w*\W{{1,3}}{n}\b", text, re.IGNORECASE)
    ]
    assert not missing, f"the message {text!r} does not count {missing}"


def test_staff_find_deleted_proposals_in_a_deleted_records_list(restorable, staff, editor):
    live = ProposalFactory(title="A proposal that is still live")
    _delete("admin", restorable, staff, editor)
    client = Client()
    client.force_login(staff)

    response = client.get("/admin/proposals/proposal/deleted/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Restorable proposal, retitled" in html
    assert re.search(rf'href="[^"]*/proposals/proposal/{restorable.pk}/history/[^"]*"', html), (
        "each deleted proposal links to its restore page"
    )
    assert live.title not in html
    assert reverse("admin:proposals_proposal_deleted") == "/admin/proposals/proposal/deleted/"


def test_the_deleted_records_list_is_for_staff_only(restorable, staff, editor, reader):
    _delete("admin", restorable, staff, editor)
    for user in (None, reader):
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get("/admin/proposals/proposal/deleted/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
        assert "Restorable proposal" not in response.content.decode()
