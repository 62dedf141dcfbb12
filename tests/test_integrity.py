"""A representation's ETag changes whenever any byte of it would, whatever
surface made the change (issue items 1 and 2, and the "Done when" sweep).

* Item 1: ``test_a_change_on_the_admin_page_of_a_proposals_part_moves_the_proposal``
  (Evidence, Proponent and Proposal-relation admin pages).
* Item 2 and the rest of the sweep: ``test_every_admin_change_...`` and
  ``test_every_api_write_...`` (renamed neighbours, related proposals,
  status events, inlines, affiliations, a source's evidence count).

Every case below reads the representations an operation affects through the
public API, runs the operation through an admin page or an API write, and
reads them again: the body changed (so the case is a real change), and so
did the ``ETag`` and ``updated_at``, and the old ETag no longer earns a 304.
"""

import datetime as dt

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from proposals.models import Proponent, ProposalRelation
from tests.admin_helpers import admin_url, form_data, form_errors, post_admin_change
from tests.api.helpers import write
from tests.factories import (
    ActorFactory,
    EvidenceFactory,
    ProposalFactory,
    SourceFactory,
    StatusEventFactory,
    TopicFactory,
    VenueFactory,
)

API = "/api/v1"
# Bookkeeping fields move with every write; "the body changed" means more than they did.
BOOKKEEPING = {"updated_at", "version"}


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # The sweep makes a few hundred anonymous reads; the anon rate limit counts them.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    """A proposal that embeds one of everything: a venue run by an
    organisation, a proponent affiliated with that organisation, a second
    proponent, a party, a topic, a quote, a timeline of two events and a
    relation to another proposal."""
    org = ActorFactory(organisation=True, name="Shanghai Cooperation Organisation")
    person = ActorFactory(name="Li Keqiang", affiliation=org)
    endorser = ActorFactory(name="An endorser")
    party = ActorFactory(organisation=True, name="A party body")
    venue = VenueFactory(name="SCO summit", organisation=org)
    topic = TopicFactory(name="Legal instruments")
    source = SourceFactory(title="Sample report")
    spare_source = SourceFactory(title="Spare report")
    target = ProposalFactory(title="Target proposal")
    proposal = ProposalFactory(
        title="Watched proposal",
        venue=venue,
        topics=[topic],
        parties=[party],
        proponents=[
            {"actor": person, "role": "proposed", "is_primary": True},
            {"actor": endorser, "role": "endorsed", "is_primary": False},
        ],
        relations=[{"to_proposal": target, "relation_type": "builds_on"}],
    )
    evidence = EvidenceFactory(proposal=proposal, source=source)
    event = StatusEventFactory(proposal=proposal, status="under_discussion", occurred_on=dt.date(2017, 1, 1))
    return {
        "org": org,
        "person": person,
        "endorser": endorser,
        "party": party,
        "venue": venue,
        "topic": topic,
        "source": source,
        "spare_source": spare_source,
        "target": target,
        "proposal": proposal,
        "evidence": evidence,
        "event": event,
        "relation": ProposalRelation.objects.get(from_proposal=proposal, to_proposal=target),
        "endorser_link": Proponent.objects.get(proposal=proposal, actor=endorser),
        "primary_link": Proponent.objects.get(proposal=proposal, actor=person),
    }


# --------------------------------------------------------------------------
# Reading representations
# --------------------------------------------------------------------------


def proposal_url(proposal) -> str:
    return f"{API}/proposals/{proposal.slug}/"


def actor_url(actor) -> str:
    return f"{API}/actors/{actor.pk}/"


def venue_url(venue) -> str:
    return f"{API}/venues/{venue.pk}/"


def source_url(source) -> str:
    return f"{API}/sources/{source.pk}/"


def topic_url(topic) -> str:
    return f"{API}/topics/{topic.slug}/"


def read(url: str) -> dict:
    """Body, ETag and updated_at of one representation, as an anonymous client sees it."""
    response = APIClient().get(url)
    assert response.status_code == 200, (url, response.content)
    body = response.json()
    return {"body": body, "etag": response["ETag"], "updated_at": _when(body["updated_at"])}


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _content(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in BOOKKEEPING}


def assert_representation_moved(url: str, before: dict) -> None:
    after = read(url)
    assert _content(after["body"]) != _content(before["body"]), f"{url}: the operation did not change the body"
    assert after["etag"] != before["etag"], f"{url}: the body changed but the ETag stayed {before['etag']}"
    assert after["updated_at"] > before["updated_at"], f"{url}: the body changed but updated_at did not increase"
    revalidated = APIClient().get(url, HTTP_IF_NONE_MATCH=before["etag"])
    assert revalidated.status_code == 200, f"{url}: If-None-Match with the old ETag still gets 304"


# --------------------------------------------------------------------------
# Admin pages, as staff post them
# --------------------------------------------------------------------------


def admin_change(client, model: str, pk, **changes):
    response = post_admin_change(client, model, pk, **changes)
    assert response.status_code == 302, form_errors(response)
    return response


def admin_add(client, model: str, data: dict):
    response = client.post(admin_url(model, "add"), data)
    assert response.status_code == 302, form_errors(response)
    return response


def admin_delete(client, model: str, pk):
    response = client.post(admin_url(model, "delete", pk), {"post": "yes"})
    assert response.status_code == 302, response.content[:2000]
    return response


def admin_delete_selected(client, model: str, pk):
    response = client.post(
        admin_url(model, "changelist"), {"action": "delete_selected", "_selected_action": [str(pk)], "post": "yes"}
    )
    assert response.status_code == 302, response.content[:2000]
    return response


def _second_sentence(source) -> str:
    return source.text.split(". ")[1] + "."


def _event_form(event, **changes) -> dict:
    return {
        "proposal": str(event.proposal_id),
        "status": event.status,
        "occurred_on": event.occurred_on.isoformat(),
        "precision": event.precision,
        "note": event.note,
        "evidence": str(event.evidence_id or ""),
        **changes,
    }


# --------------------------------------------------------------------------
# The sweep: (name, watched representations, operation)
# --------------------------------------------------------------------------


def _watch_proposal(w):
    return [proposal_url(w["proposal"])]


def _watch_proposal_and_source(key):
    return lambda w: [proposal_url(w["proposal"]), source_url(w[key])]


def _watch_affiliated(w):
    # The actor embeds its affiliation; the venue embeds its organisation.
    return [actor_url(w["person"]), venue_url(w["venue"])]


def _inline_add_relation(client, w):
    url = admin_url("proposal", "change", w["proposal"].pk)
    data = form_data(client.get(url))
    n = int(data["relations_out-TOTAL_FORMS"])
    data.update(
        {
            "relations_out-TOTAL_FORMS": str(n + 1),
            f"relations_out-{n}-from_proposal": str(w["proposal"].pk),
            f"relations_out-{n}-relation_type": "alternative_to",
            f"relations_out-{n}-to_proposal": str(w["target"].pk),
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)


def _inline_edit_quote_note(client, w):
    url = admin_url("proposal", "change", w["proposal"].pk)
    data = form_data(client.get(url))
    index = next(
        i for i in range(int(data["evidence-TOTAL_FORMS"])) if data[f"evidence-{i}-id"] == str(w["evidence"].pk)
    )
    data[f"evidence-{index}-note"] = "Noted in the proposal's inline."
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)


def _inline_drop_proponent(client, w):
    url = admin_url("proposal", "change", w["proposal"].pk)
    data = form_data(client.get(url))
    forms = range(int(data["proponents-TOTAL_FORMS"]))
    index = next(i for i in forms if data[f"proponents-{i}-id"] == str(w["endorser_link"].pk))
    data[f"proponents-{index}-DELETE"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)


# Item 1: the admin pages of a proposal's parts (Evidence, Proponent,
# Proposal relation), add, change, delete and the changelist's delete action.
PART_PAGE_CASES = [
    # The Evidence admin page (the source's evidence_count moves too).
    (
        "evidence-add",
        _watch_proposal_and_source("spare_source"),
        lambda c, w: admin_add(
            c,
            "evidence",
            {
                "proposal": str(w["proposal"].pk),
                "source": str(w["spare_source"].pk),
                "quote": _second_sentence(w["spare_source"]),
                "start": "",
                "end": "",
                "note": "",
            },
        ),
    ),
    (
        "evidence-change",
        _watch_proposal,
        lambda c, w: admin_change(c, "evidence", w["evidence"].pk, note="Edited on the Evidence page."),
    ),
    (
        "evidence-delete",
        _watch_proposal_and_source("source"),
        lambda c, w: admin_delete(c, "evidence", w["evidence"].pk),
    ),
    (
        "evidence-delete-selected",
        _watch_proposal_and_source("source"),
        lambda c, w: admin_delete_selected(c, "evidence", w["evidence"].pk),
    ),
    # The Proponent admin page.
    (
        "proponent-add",
        _watch_proposal,
        lambda c, w: admin_add(
            c,
            "proponent",
            {
                "proposal": str(w["proposal"].pk),
                "actor": str(w["party"].pk),
                "role": "opposed",
                "evidence": "",
                "note": "",
            },
        ),
    ),
    (
        "proponent-change",
        _watch_proposal,
        lambda c, w: admin_change(c, "proponent", w["endorser_link"].pk, role="called_for"),
    ),
    (
        "proponent-delete",
        _watch_proposal,
        lambda c, w: admin_delete(c, "proponent", w["endorser_link"].pk),
    ),
    (
        "proponent-delete-selected",
        _watch_proposal,
        lambda c, w: admin_delete_selected(c, "proponent", w["endorser_link"].pk),
    ),
    # The Proposal-relation admin page (the FROM proposal shows it).
    (
        "relation-add",
        _watch_proposal,
        lambda c, w: admin_add(
            c,
            "proposalrelation",
            {
                "from_proposal": str(w["proposal"].pk),
                "to_proposal": str(w["target"].pk),
                "relation_type": "related",
                "note": "",
            },
        ),
    ),
    (
        "relation-change",
        _watch_proposal,
        lambda c, w: admin_change(c, "proposalrelation", w["relation"].pk, relation_type="implements"),
    ),
    (
        "relation-delete",
        _watch_proposal,
        lambda c, w: admin_delete(c, "proposalrelation", w["relation"].pk),
    ),
    (
        "relation-delete-selected",
        _watch_proposal,
        lambda c, w: admin_delete_selected(c, "proposalrelation", w["relation"].pk),
    ),
]

# The rest of the admin: status events, the proposal's inlines, and renaming
# what a proposal, actor or venue embeds (item 2 through the admin).
ADMIN_CASES = [
    # The Status-event admin page.
    (
        "statusevent-add",
        _watch_proposal,
        lambda c, w: admin_add(
            c,
            "statusevent",
            _event_form(w["event"], status="adopted", occurred_on="2018-03-01", note="Signed.", evidence=""),
        ),
    ),
    (
        "statusevent-change",
        _watch_proposal,
        lambda c, w: admin_change(c, "statusevent", w["event"].pk, note="Edited on the event page."),
    ),
    (
        "statusevent-delete",
        _watch_proposal,
        lambda c, w: admin_delete(c, "statusevent", w["event"].pk),
    ),
    (
        "statusevent-delete-selected",
        _watch_proposal,
        lambda c, w: admin_delete_selected(c, "statusevent", w["event"].pk),
    ),
    # The proposal's own change page, through its inlines.
    ("proposal-inline-quote-note", _watch_proposal, _inline_edit_quote_note),
    ("proposal-inline-relation-added", _watch_proposal, _inline_add_relation),
    ("proposal-inline-proponent-dropped", _watch_proposal, _inline_drop_proponent),
    # Renaming what a proposal (or an actor, a venue) embeds.
    (
        "actor-rename",
        _watch_proposal,
        lambda c, w: admin_change(c, "actor", w["person"].pk, name="Li Keqiang (Premier)"),
    ),
    (
        "party-rename",
        _watch_proposal,
        lambda c, w: admin_change(c, "actor", w["party"].pk, name="A renamed party body"),
    ),
    (
        "affiliation-rename",
        _watch_affiliated,
        lambda c, w: admin_change(c, "actor", w["org"].pk, name="The SCO"),
    ),
    (
        "venue-rename",
        _watch_proposal,
        lambda c, w: admin_change(c, "venue", w["venue"].pk, name="Astana summit"),
    ),
    (
        "topic-rename",
        _watch_proposal,
        lambda c, w: admin_change(c, "topic", w["topic"].pk, name="Treaties"),
    ),
    (
        "source-retitle",
        _watch_proposal,
        lambda c, w: admin_change(c, "source", w["source"].pk, title="Sample report, revised"),
    ),
]


def _api_post_evidence(api, w):
    url = f"{proposal_url(w['proposal'])}evidence/"
    body = {"source": {"id": w["spare_source"].pk}, "quote": _second_sentence(w["spare_source"])}
    return api.post(url, body, format="json")


# Item 2 and the sweep: API writes to what a representation embeds.
API_CASES = [
    # A renamed neighbour.
    ("venue-name", _watch_proposal, lambda a, w: write(a, "patch", venue_url(w["venue"]), {"name": "Astana summit"})),
    ("actor-name", _watch_proposal, lambda a, w: write(a, "patch", actor_url(w["person"]), {"name": "Premier Li"})),
    (
        "actor-kind",
        _watch_proposal,
        lambda a, w: write(a, "patch", actor_url(w["party"]), {"kind": "intergovernmental"}),
    ),
    ("topic-name", _watch_proposal, lambda a, w: write(a, "patch", topic_url(w["topic"]), {"name": "Treaties"})),
    ("topic-slug", _watch_proposal, lambda a, w: write(a, "patch", topic_url(w["topic"]), {"slug": "treaties"})),
    (
        "source-title",
        _watch_proposal,
        lambda a, w: write(a, "patch", source_url(w["source"]), {"title": "Sample report, revised"}),
    ),
    # The related list embeds the target's slug, title and status.
    (
        "related-target-title",
        _watch_proposal,
        lambda a, w: write(a, "patch", proposal_url(w["target"]), {"title": "Retitled target"}),
    ),
    (
        "related-target-status-event",
        _watch_proposal,
        lambda a, w: a.post(
            f"{proposal_url(w['target'])}events/", {"status": "adopted", "occurred_on": "2018-01-01"}, format="json"
        ),
    ),
    (
        "related-target-delete",
        _watch_proposal,
        lambda a, w: write(a, "delete", proposal_url(w["target"])),
    ),
    # An actor embeds its affiliation, a venue its organisation.
    ("affiliation-rename", _watch_affiliated, lambda a, w: write(a, "patch", actor_url(w["org"]), {"name": "The SCO"})),
    ("affiliation-delete", _watch_affiliated, lambda a, w: write(a, "delete", actor_url(w["org"]))),
    # The source shows how many quotes point into it.
    ("evidence-post", _watch_proposal_and_source("spare_source"), _api_post_evidence),
]


def _run_sweep_case(world, watch, operation):
    urls = watch(world)
    before = {url: read(url) for url in urls}
    operation()
    for url in urls:
        assert_representation_moved(url, before[url])


@pytest.mark.parametrize(("name", "watch", "operation"), PART_PAGE_CASES, ids=[case[0] for case in PART_PAGE_CASES])
def test_a_change_on_the_admin_page_of_a_proposals_part_moves_the_proposal(staff_client, world, name, watch, operation):
    _run_sweep_case(world, watch, lambda: operation(staff_client, world))


@pytest.mark.parametrize(("name", "watch", "operation"), ADMIN_CASES, ids=[case[0] for case in ADMIN_CASES])
def test_every_admin_change_to_an_embedded_part_moves_the_etag_and_updated_at(
    staff_client, world, name, watch, operation
):
    _run_sweep_case(world, watch, lambda: operation(staff_client, world))


@pytest.mark.parametrize(("name", "watch", "operation"), API_CASES, ids=[case[0] for case in API_CASES])
def test_every_api_write_to_an_embedded_part_moves_the_etag_and_updated_at(editor_api, world, name, watch, operation):
    def run():
        response = operation(editor_api, world)
        assert response.status_code in (200, 201, 204), response.content

    _run_sweep_case(world, watch, run)
