"""One rule, the same answer on every surface (issue item 7), and who may
see staff usernames (issue item 8)."""

import datetime as dt

import pytest
import yaml
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from proposals import services
from proposals.importers import SEEDS_DIR, SeedError, load_seeds
from proposals.models import Actor, Proponent, Proposal, Source, Topic, Venue
from tests.admin_helpers import admin_url, field_errors, form_data, form_errors, post_admin_change
from tests.api.helpers import assert_problem, write
from tests.conftest import SAMPLE_TEXT
from tests.factories import ActorFactory

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


# --------------------------------------------------------------------------
# Item 7a: a source's text may change iff every quote stays at its offsets
# --------------------------------------------------------------------------

KEEPS_QUOTES = SAMPLE_TEXT + " An appendix added later."
# "At the summit" -> "At a summit" shifts every quote two characters left.
BREAKS_QUOTES = SAMPLE_TEXT.replace("At the summit", "At a summit", 1)


def test_the_admin_allows_a_source_text_edit_that_keeps_every_quote_at_its_offsets(staff_client, proposal, source):
    response = post_admin_change(staff_client, "source", source.pk, text=KEEPS_QUOTES)
    assert response.status_code == 302, form_errors(response)
    source.refresh_from_db()
    assert source.text == KEEPS_QUOTES


def test_the_admin_refuses_a_source_text_edit_that_breaks_a_quote_with_an_error_on_text(staff_client, proposal, source):
    response = post_admin_change(staff_client, "source", source.pk, text=BREAKS_QUOTES)
    assert field_errors(response, "text"), "the refusal must be an error on the text field"
    source.refresh_from_db()
    assert source.text == SAMPLE_TEXT


def test_the_api_allows_the_same_source_text_edit(editor_api, proposal, source):
    response = write(editor_api, "patch", f"{API}/sources/{source.pk}/", {"text": KEEPS_QUOTES})
    assert response.status_code == 200, response.content
    source.refresh_from_db()
    assert source.text == KEEPS_QUOTES


def test_the_api_refuses_the_same_breaking_source_text_edit_on_text(editor_api, proposal, source):
    response = write(editor_api, "patch", f"{API}/sources/{source.pk}/", {"text": BREAKS_QUOTES})
    assert_problem(response, 400, "text")
    source.refresh_from_db()
    assert source.text == SAMPLE_TEXT


# --------------------------------------------------------------------------
# Item 7b: at most one primary proponent per proposal, on every surface
# --------------------------------------------------------------------------


def _primaries(proposal) -> int:
    return Proponent.objects.filter(proposal=proposal, is_primary=True).count()


def test_the_api_refuses_two_primary_proponents_and_accepts_none(editor_api, proposal, actor):
    other = ActorFactory()
    url = f"{API}/proposals/{proposal.slug}/"
    two = [
        {"id": actor.pk, "role": "called_for", "primary": True},
        {"id": other.pk, "role": "endorsed", "primary": True},
    ]
    assert_problem(write(editor_api, "patch", url, {"proponents": two}), 400, "proponents")
    assert _primaries(proposal) == 1
    none = [{**link, "primary": False} for link in two]
    assert write(editor_api, "patch", url, {"proponents": none}).status_code == 200
    assert _primaries(proposal) == 0


def test_the_proposal_admin_inline_refuses_two_primary_proponents(staff_client, proposal):
    other = ActorFactory()
    url = admin_url("proposal", "change", proposal.pk)
    data = form_data(staff_client.get(url))
    n = int(data["proponents-TOTAL_FORMS"])
    data.update(
        {
            "proponents-TOTAL_FORMS": str(n + 1),
            f"proponents-{n}-proposal": str(proposal.pk),
            f"proponents-{n}-actor": str(other.pk),
            f"proponents-{n}-role": "endorsed",
            f"proponents-{n}-is_primary": "on",
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 200, "two primaries must be a form error"
    assert "primary" in form_errors(response).lower()
    assert _primaries(proposal) == 1


def test_the_proponent_admin_page_refuses_a_second_primary_as_a_form_error(staff_client, proposal):
    other = ActorFactory()
    response = staff_client.post(
        admin_url("proponent", "add"),
        {"proposal": str(proposal.pk), "actor": str(other.pk), "role": "endorsed", "is_primary": "on", "note": ""},
    )
    assert response.status_code == 200, "a second primary must be a form error, not a save or a 500"
    assert "primary" in form_errors(response).lower()
    assert _primaries(proposal) == 1


def test_the_proponent_admin_page_accepts_a_proposal_left_without_a_primary(staff_client, proposal):
    link = Proponent.objects.get(proposal=proposal, is_primary=True)
    response = post_admin_change(staff_client, "proponent", link.pk, is_primary="")
    assert response.status_code == 302, form_errors(response)
    assert _primaries(proposal) == 0


def _seed_copy(tmp_path, mutate):
    data = yaml.safe_load((SEEDS_DIR / "data" / "corpus.yaml").read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "corpus.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, data


def test_the_seed_loader_accepts_a_proposal_without_a_primary_proponent(db, tmp_path):
    def no_primary(data):
        for link in data["proposals"][0]["proponents"]:
            link["primary"] = False

    path, data = _seed_copy(tmp_path, no_primary)
    try:
        load_seeds(path)
    except SeedError as exc:
        pytest.fail(f"the loader refused a proposal with no primary proponent: {exc}")
    assert _primaries(Proposal.objects.get(slug=data["proposals"][0]["slug"])) == 0


def test_the_seed_loader_refuses_two_primary_proponents(db, tmp_path):
    def two_primaries(data):
        proposal = next(p for p in data["proposals"] if len(p["proponents"]) >= 2)
        for link in proposal["proponents"][:2]:
            link["primary"] = True

    path, _ = _seed_copy(tmp_path, two_primaries)
    with pytest.raises(SeedError) as exc:
        load_seeds(path)
    assert exc.value.field == "proponents"
    assert Proposal.objects.count() == 0


# --------------------------------------------------------------------------
# Item 7c: whitespace-only names and titles are refused on every surface
# --------------------------------------------------------------------------

BLANK = "   "

# kind, model, name field, a valid create body (API), a valid add form (admin)
NAMED = [
    ("proposals", Proposal, "title", {"slug": "ws-proposal", "title": "A title"}),
    ("actors", Actor, "name", {"slug": "ws-actor", "name": "A name", "kind": "person"}),
    ("venues", Venue, "name", {"slug": "ws-venue", "name": "A name", "kind": "summit"}),
    ("topics", Topic, "name", {"slug": "ws-topic", "name": "A name"}),
    ("sources", Source, "title", {"slug": "ws-source", "title": "A title", "text": "Some text."}),
]
NAMED_IDS = [case[0] for case in NAMED]


def _api_url(kind, record) -> str:
    return f"{API}/{kind}/{record.slug if kind in ('proposals', 'topics') else record.pk}/"


@pytest.mark.parametrize(("kind", "model", "field", "body"), NAMED, ids=NAMED_IDS)
def test_the_api_refuses_a_whitespace_only_name_on_create(editor_api, kind, model, field, body):
    response = editor_api.post(f"{API}/{kind}/", {**body, field: BLANK}, format="json")
    assert_problem(response, 400, field)
    assert not model.objects.filter(slug=body["slug"]).exists()


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(("kind", "model", "field", "body"), NAMED, ids=NAMED_IDS)
def test_the_api_refuses_a_whitespace_only_name_on_update(editor_api, kind, model, field, body, method):
    assert editor_api.post(f"{API}/{kind}/", body, format="json").status_code == 201
    record = model.objects.get(slug=body["slug"])
    url = _api_url(kind, record)
    change = {**editor_api.get(url).json(), field: BLANK} if method == "put" else {field: BLANK}

    response = write(editor_api, method, url, change)

    assert_problem(response, 400, field)
    record.refresh_from_db()
    assert getattr(record, field) == body[field]


ADMIN_ADD = {
    "proposals": {"slug": "ws-proposal", "title": "A title", "proposed_precision": "day"},
    "actors": {"slug": "ws-actor", "name": "A name", "kind": "person", "named": "on"},
    "venues": {"slug": "ws-venue", "name": "A name", "kind": "summit"},
    "topics": {"slug": "ws-topic", "name": "A name"},
    "sources": {
        "slug": "ws-source",
        "title": "A title",
        "text": "Some text.",
        "published_precision": "day",
        "language": "en",
    },
}


@pytest.mark.parametrize(("kind", "model", "field", "body"), NAMED, ids=NAMED_IDS)
def test_the_admin_refuses_a_whitespace_only_name_on_add(staff_client, kind, model, field, body):
    name = model._meta.model_name
    page = staff_client.get(admin_url(name, "add"))
    response = staff_client.post(admin_url(name, "add"), {**form_data(page), **ADMIN_ADD[kind], field: BLANK})
    assert field_errors(response, field)
    assert not model.objects.filter(slug=body["slug"]).exists()


@pytest.mark.parametrize(("kind", "model", "field", "body"), NAMED, ids=NAMED_IDS)
def test_the_admin_refuses_a_whitespace_only_name_on_change(staff_client, editor_api, kind, model, field, body):
    assert editor_api.post(f"{API}/{kind}/", body, format="json").status_code == 201
    record = model.objects.get(slug=body["slug"])
    response = post_admin_change(staff_client, model._meta.model_name, record.pk, **{field: BLANK})
    assert field_errors(response, field)
    record.refresh_from_db()
    assert getattr(record, field) == body[field]


# --------------------------------------------------------------------------
# Item 8: staff usernames are for editors only
# --------------------------------------------------------------------------

STAFF_NAME = "zz-staffer-quinn"
EDITOR_NAME = "zz-editor-rosa"


@pytest.fixture
def named_staff(django_user_model):
    return django_user_model.objects.create_superuser(STAFF_NAME, "quinn@example.org", "pw-staff-1")


@pytest.fixture
def named_editor(django_user_model):
    user = django_user_model.objects.create_user(EDITOR_NAME, password="pw-editor-1")
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def touched(named_staff, named_editor, source):
    """A proposal created by no one (the system), changed by an editor, and
    given a status event and a quote by staff, through the API."""
    proposal = services.proposal_create(slug="touched", title="Touched", proposed_on=dt.date(2016, 1, 1))
    url = f"{API}/proposals/touched/"
    assert write(_client(named_editor), "patch", url, {"title": "Touched by an editor"}).status_code == 200
    staff_api = _client(named_staff)
    event = {"status": "adopted", "occurred_on": "2016-06-01"}
    assert staff_api.post(f"{url}events/", event, format="json").status_code == 201
    quote = {"source": {"id": source.pk}, "quote": "A researcher said the bloc may launch a cooperative mechanism."}
    assert staff_api.post(f"{url}evidence/", quote, format="json").status_code == 201
    return proposal


def _history(client) -> list[dict]:
    response = client.get(f"{API}/proposals/touched/history/")
    assert response.status_code == 200, response.content
    return response.json()


def test_history_entries_carry_a_role_for_everyone(api, touched):
    entries = _history(api)
    assert all("role" in entry for entry in entries), "every history entry needs a role"
    assert all(entry["role"] in {"staff", "editor", "system"} for entry in entries), entries
    roles = {entry["role"] for entry in entries}
    assert roles == {"staff", "editor", "system"}
    assert entries[-1]["role"] == "system"  # created without a user


def test_history_shows_usernames_to_editors(named_editor, touched):
    entries = _history(_client(named_editor))
    by_role = {(entry.get("role"), entry["user"]) for entry in entries}
    assert ("staff", STAFF_NAME) in by_role
    assert ("editor", EDITOR_NAME) in by_role
    assert ("system", None) in by_role


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_history_hides_usernames_from_non_editors(reader, touched, who):
    client = _client(reader if who == "reader" else None)
    entries = _history(client)
    assert entries
    assert all(entry["user"] is None for entry in entries), entries
    assert all("role" in entry for entry in entries)


def test_no_staff_username_appears_in_any_anonymous_response(api, touched, source):
    urls = [
        f"{API}/proposals/",
        f"{API}/proposals/touched/",
        f"{API}/proposals/touched/events/",
        f"{API}/proposals/touched/evidence/",
        f"{API}/proposals/touched/history/",
        f"{API}/sources/{source.pk}/",
        f"{API}/sources/{source.pk}/history/",
    ]
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, (url, response.content)
        body = response.content.decode()
        assert STAFF_NAME not in body, f"{url} shows a staff username to an anonymous reader"
        assert EDITOR_NAME not in body, f"{url} shows an editor's username to an anonymous reader"


def test_status_events_show_the_recorders_role_and_editors_find_the_name_in_history(named_editor, touched, api):
    """The representation is the same for everyone (one ETag per version),
    so events carry the recorder's role; the name is in the history, for
    editors only."""
    public = api.get(f"{API}/proposals/touched/").json()
    editor = _client(named_editor).get(f"{API}/proposals/touched/").json()
    assert public == editor
    assert {event["recorded_by_role"] for event in public["events"]} >= {"staff"}
    reasons = {(e["user"], e["reason"]) for e in _history(_client(named_editor))}
    assert any(user == STAFF_NAME and "status event added" in (reason or "") for user, reason in reasons), reasons
