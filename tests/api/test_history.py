"""Change history: who changed what and when, with field-level differences;
a deleted record's history stays readable by editors; staff restore a
deleted proposal from the admin."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from proposals import services
from proposals.models import Actor, Proposal, Source, Topic, Venue
from tests.factories import ProposalFactory, StatusEventFactory

from .helpers import assert_problem, write

API = "/api/v1"


def _changes(entry) -> dict:
    return {change["field"]: (change["old"], change["new"]) for change in entry["changes"]}


# --------------------------------------------------------------------------
# Live records
# --------------------------------------------------------------------------


def test_proposal_history_lists_who_changed_what_and_when(editor_api, api, editor, venue, actor, topic):
    payload = {
        "slug": "history-proposal",
        "title": "First title",
        "venue": {"id": venue.pk},
        "proponents": [{"id": actor.pk, "role": "proposed", "primary": True}],
        "topics": [{"slug": topic.slug}],
        "proposed_on": "2015-12-15",
    }
    assert editor_api.post(f"{API}/proposals/", payload, format="json").status_code == 201
    url = f"{API}/proposals/history-proposal/"
    assert write(editor_api, "patch", url, {"title": "Second title", "summary": "Now summarised."}).status_code == 200
    response = editor_api.post(f"{url}events/", {"status": "adopted", "occurred_on": "2017-06-09"}, format="json")
    assert response.status_code == 201

    # Reading history is as public as reading the record; only editors see who (tests/test_integrity_rules.py).
    response = api.get(f"{url}history/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    entries = response.json()
    for entry in entries:
        assert set(entry) == {"history_id", "date", "type", "user", "role", "reason", "changes"}
        # Usernames are for editors; the public sees the author's role.
        assert (entry["user"], entry["role"]) == (None, "editor")
        dt.datetime.fromisoformat(entry["date"])
    assert {e["user"] for e in editor_api.get(f"{url}history/").json()} == {"editor"}
    dates = [entry["date"] for entry in entries]
    assert dates == sorted(dates, reverse=True), "newest first"
    assert entries[-1]["type"] == "created"
    assert {e["type"] for e in entries[:-1]} == {"changed"}
    created = _changes(entries[-1])
    assert created["title"] == (None, "First title")
    assert created["slug"] == (None, "history-proposal")
    assert created["proposed_on"] == (None, "2015-12-15")
    assert created["venue_id"] == (None, venue.pk)

    assert _changes(entries[0]) == {"status": ("proposed", "adopted")}
    edit = next(e for e in entries if "title" in _changes(e) and e["type"] == "changed")
    assert _changes(edit) == {"title": ("First title", "Second title"), "summary": ("", "Now summarised.")}
    # Bookkeeping fields move on every save; they are not reported as changes.
    assert not {"version", "updated_at", "created_at", "search_vector"} & {
        field for entry in entries for field in _changes(entry)
    }


def test_history_ids_match_the_admins_history_rows(editor_api, proposal):
    ids = [entry["history_id"] for entry in editor_api.get(f"{API}/proposals/{proposal.slug}/history/").json()]
    assert ids == list(proposal.history.order_by("-history_date", "-history_id").values_list("history_id", flat=True))


RECORD_CASES = [
    ("actors", Actor, {"slug": "h-actor", "name": "Actor", "kind": "person"}, {"name": "Renamed actor"}),
    ("venues", Venue, {"slug": "h-venue", "name": "Venue", "kind": "summit"}, {"place": "Astana"}),
    ("sources", Source, {"slug": "h-source", "title": "Source", "text": "Text."}, {"title": "Retitled"}),
    ("topics", Topic, {"slug": "h-topic", "name": "Topic"}, {"description": "Described."}),
]


@pytest.mark.parametrize(("kind", "model", "create", "change"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_each_resource_has_the_same_history_endpoint(editor_api, api, kind, model, create, change):
    response = editor_api.post(f"{API}/{kind}/", create, format="json")
    assert response.status_code == 201, response.content
    record = model.objects.get(slug=create["slug"])
    url = f"{API}/{kind}/{record.slug if kind == 'topics' else record.pk}/"
    assert write(editor_api, "patch", url, change).status_code == 200

    entries = api.get(f"{url}history/").json()  # usernames are for editors only

    assert [(e["type"], e["user"], e["role"]) for e in entries] == [
        ("changed", None, "editor"),
        ("created", None, "editor"),
    ]
    assert [e["user"] for e in editor_api.get(f"{url}history/").json()] == ["editor", "editor"]
    [(field, new)] = change.items()
    old = _changes(entries[1]).get(field, (None, ""))[1]
    assert _changes(entries[0]) == {field: (old, new)}
    assert entries[0]["date"] >= entries[1]["date"]


def test_a_change_by_someone_else_is_credited_to_them(editor_api, proposal, django_user_model):
    other = django_user_model.objects.create_user("second-editor")
    other.groups.add(Group.objects.get(name="Editors"))
    client = APIClient()
    client.force_authenticate(other)
    url = f"{API}/proposals/{proposal.slug}/"
    write(editor_api, "patch", url, {"title": "By the first"})
    write(client, "patch", url, {"title": "By the second"})
    entries = editor_api.get(f"{url}history/").json()
    assert [(e["user"], _changes(e)["title"][1]) for e in entries[:2]] == [
        ("second-editor", "By the second"),
        ("editor", "By the first"),
    ]


def test_history_of_an_unknown_record_is_404(api, editor_api, db):
    for client in (api, editor_api):
        assert_problem(client.get(f"{API}/proposals/never-existed/history/"), 404)
        assert_problem(client.get(f"{API}/actors/999999/history/"), 404)
        assert_problem(client.get(f"{API}/actors/not-a-number/history/"), 404)


# --------------------------------------------------------------------------
# Deleted records: history stays readable by editors
# --------------------------------------------------------------------------


@pytest.fixture
def deleted_proposal(editor_api, proposal):
    url = f"{API}/proposals/{proposal.slug}/"
    assert write(editor_api, "patch", url, {"title": "Last title"}).status_code == 200
    assert write(editor_api, "delete", url).status_code == 204
    assert not Proposal.objects.filter(pk=proposal.pk).exists()
    return proposal


def test_editors_read_a_deleted_proposals_history(editor_api, deleted_proposal):
    url = f"{API}/proposals/{deleted_proposal.slug}/"
    assert_problem(editor_api.get(url), 404)  # the record itself is gone

    response = editor_api.get(f"{url}history/")

    assert response.status_code == 200, response.content
    entries = response.json()
    assert entries[0]["type"] == "deleted"
    assert entries[0]["user"] == "editor"
    assert entries[0]["changes"] == []
    assert entries[-1]["type"] == "created"
    assert any(_changes(e).get("title") == ("Anti-extremism treaty", "Last title") for e in entries)


def test_a_token_editor_reads_it_too(deleted_proposal, editor):
    _, token = AuthToken.objects.create(editor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}/proposals/{deleted_proposal.slug}/history/").status_code == 200


def test_others_cannot_tell_a_deleted_proposal_from_one_that_never_existed(api, reader, deleted_proposal):
    url = f"{API}/proposals/{deleted_proposal.slug}/history/"
    assert_problem(api.get(url), 404)
    api.force_authenticate(reader)
    assert_problem(api.get(url), 404)


def test_a_reused_slug_shows_the_live_proposals_history(editor_api, deleted_proposal):
    ProposalFactory(slug=deleted_proposal.slug, title="Reborn")
    entries = editor_api.get(f"{API}/proposals/{deleted_proposal.slug}/history/").json()
    assert "deleted" not in {e["type"] for e in entries}
    assert _changes(entries[-1])["title"] == (None, "Reborn")


def test_the_latest_deletion_of_a_slug_is_the_one_shown(editor_api, deleted_proposal):
    again = ProposalFactory(slug=deleted_proposal.slug, title="Second life")
    write(editor_api, "delete", f"{API}/proposals/{again.slug}/")
    entries = editor_api.get(f"{API}/proposals/{again.slug}/history/").json()
    assert entries[0]["type"] == "deleted"
    assert _changes(entries[-1])["title"] == (None, "Second life")


@pytest.mark.parametrize("kind", ["actors", "venues", "sources", "topics"])
def test_every_resource_keeps_a_deleted_records_history_for_editors(editor_api, api, kind):
    created = {
        "actors": {"slug": "gone-actor", "name": "Gone actor", "kind": "person"},
        "venues": {"slug": "gone-venue", "name": "Gone venue", "kind": "summit"},
        "sources": {"slug": "gone-source", "title": "Gone source", "text": "Text."},
        "topics": {"slug": "gone-topic", "name": "Gone topic"},
    }[kind]
    body = editor_api.post(f"{API}/{kind}/", created, format="json").json()
    url = f"{API}/{kind}/{body['slug'] if kind == 'topics' else body['id']}/"
    assert write(editor_api, "delete", url).status_code == 204

    entries = editor_api.get(f"{url}history/").json()
    assert [e["type"] for e in entries] == ["deleted", "created"]
    assert_problem(api.get(f"{url}history/"), 404)


# --------------------------------------------------------------------------
# Restoring a deleted proposal from the admin (django-simple-history)
# --------------------------------------------------------------------------


def _revert(staff, history_row, **overrides):
    """POST simple-history's revert form for ``history_row`` as staff would."""
    client = Client()
    client.force_login(staff)
    url = f"/admin/proposals/proposal/{history_row.id}/history/{history_row.history_id}/"
    page = client.get(url)
    assert page.status_code == 200
    # A deleted record's page restores it; a live one's reverts it.
    assert b'value="Revert"' in page.content or b'value="Restore"' in page.content
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: ("" if value is None else value) for name, value in data.items()}
    data.update(overrides)
    return client.post(url, {**data, "_save": "Revert"})


@pytest.fixture
def gone(proposal, editor):
    """The sample proposal, moved on once and then deleted by an editor."""
    StatusEventFactory(proposal=proposal, status="adopted", occurred_on=dt.date(2017, 6, 9))
    proposal = Proposal.objects.get(pk=proposal.pk)
    pk = proposal.pk
    services.proposal_delete(proposal=proposal, user=editor)
    proposal.pk = pk  # delete() clears it; the admin addresses the record by it
    return proposal


def test_staff_see_a_deleted_proposals_history_in_the_admin(staff, gone):
    client = Client()
    client.force_login(staff)
    response = client.get(f"/admin/proposals/proposal/{gone.pk}/history/")
    assert response.status_code == 200
    assert gone.title in response.content.decode()


def test_staff_restore_a_deleted_proposal_from_its_history(staff, editor_api, gone, topic):
    before_deletion = Proposal.history.filter(id=gone.pk).exclude(history_type="-").latest("history_date")

    response = _revert(staff, before_deletion, topics=[topic.pk])

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    restored = Proposal.objects.get(pk=gone.pk)  # the same id, so old links and history still apply
    assert (restored.slug, restored.title, restored.summary) == (gone.slug, gone.title, gone.summary)
    assert restored.venue_id == gone.venue_id
    assert list(restored.topics.all()) == [topic]
    latest = restored.history.latest("history_date")
    assert latest.history_user.username == "staff"
    # The API serves it again, with a history that runs through the deletion.
    url = f"{API}/proposals/{gone.slug}/"
    assert editor_api.get(url).status_code == 200
    types = [e["type"] for e in editor_api.get(f"{url}history/").json()]
    # Newest first: the restore re-created the row ("created") that had
    # been deleted, with its parts, in one history row.
    assert types[:2] == ["created", "deleted"]
    assert types[-1] == "created"
    # It is writable again through the API like any other proposal.
    assert write(editor_api, "patch", url, {"title": "Restored and edited"}).status_code == 200


def test_a_restored_proposal_gets_its_timeline_and_quotes_back(staff, gone):
    before_deletion = Proposal.history.filter(id=gone.pk).exclude(history_type="-").latest("history_date")
    assert _revert(staff, before_deletion).status_code == 302
    restored = Proposal.objects.get(pk=gone.pk)
    assert [e.status for e in restored.events.order_by("occurred_on")] == ["proposed", "adopted"]
    assert restored.status == "adopted"
    assert restored.proponents.count() == 1
    assert restored.evidence.count() == 1


# Runs the way production does (autocommit), where the revert form's row
# lock needs the transaction HistoryAdmin.history_form_view opens.
@pytest.mark.django_db(transaction=True)
def test_a_revert_works_outside_a_test_transaction_as_in_production(django_user_model):
    staff = django_user_model.objects.create_superuser("restorer", "restorer@example.org", "pw-staff-1")
    proposal = ProposalFactory(slug="restored-in-autocommit")
    pk = proposal.pk
    proposal.delete()
    row = Proposal.history.filter(id=pk).exclude(history_type="-").latest("history_date")

    assert _revert(staff, row).status_code == 302
    assert Proposal.objects.filter(pk=pk, slug="restored-in-autocommit").exists()


def test_reverting_needs_the_change_permission(db, gone, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    client = Client()
    client.force_login(viewer)
    row = Proposal.history.filter(id=gone.pk).exclude(history_type="-").latest("history_date")
    response = client.post(f"/admin/proposals/proposal/{gone.pk}/history/{row.history_id}/", {"title": "x"})
    assert response.status_code == 403
    assert not Proposal.objects.filter(pk=gone.pk).exists()
