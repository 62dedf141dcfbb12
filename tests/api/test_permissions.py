"""Who may write: every write endpoint for every kind of caller.

Callers authenticate the way real clients do (a knox token in
``Authorization: Token …``, or a session cookie from signing in), not with
``force_authenticate``, so the authentication classes are under test too.
Anonymous writes are 401 with a ``WWW-Authenticate`` challenge, signed-in
users without the model permission 403, and members of the "Editors" group
succeed; a refused write leaves every table, history included, untouched.
"""

import datetime as dt

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from proposals.models import Actor, Evidence, Proposal, Source, Topic, Venue
from proposals.representations.stored import STORED_FIELDS
from tests.factories import ActorFactory, EvidenceFactory, ProposalFactory, SourceFactory, TopicFactory, VenueFactory

from .helpers import assert_problem

API = "/api/v1"
ROLES = ["anonymous", "reader", "editor_session", "editor_token"]
EDITORS = {"editor_session", "editor_token"}
MODELS = {"proposals": Proposal, "actors": Actor, "venues": Venue, "sources": Source, "topics": Topic}
# The field each kind's PUT and PATCH change.
NAME_FIELD = {"proposals": "title", "actors": "name", "venues": "name", "sources": "title", "topics": "name"}


def _token_client(user) -> APIClient:
    _, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _client_for(role, django_user_model) -> tuple[APIClient, object]:
    """(client, user) for ``role``; the user is None for anonymous."""
    if role == "anonymous":
        return APIClient(), None
    if role == "reader":
        user = django_user_model.objects.create_user("perm-reader", password="pw-reader-1")
        return _token_client(user), user
    user = django_user_model.objects.create_user("perm-editor", password="pw-editor-1")
    user.groups.add(Group.objects.get(name="Editors"))
    # The permissions come from the group alone.
    assert not user.user_permissions.exists()
    if role == "editor_token":
        return _token_client(user), user
    client = APIClient()
    # A real password sign-in; django-axes needs the request it throttles by.
    assert client.login(request=RequestFactory().post("/admin/login/"), username="perm-editor", password="pw-editor-1")
    return client, user


def _snapshot() -> dict:
    """Every row of every table of the app, historical tables included,
    without the stored renderings (a read may store a proposal's detail:
    derived from the data, not data; proposals/representations/stored.py)."""
    return {
        model._meta.label: [
            {k: v for k, v in row.items() if k not in STORED_FIELDS}
            for row in model._base_manager.order_by("pk").values()
        ]
        for model in apps.get_app_config("proposals").get_models()
    }


@pytest.fixture
def world(db):
    """One record of each kind nobody refers to, plus a proposal whose venue,
    proponent actor and quoted source are therefore protected from deletion."""
    proposal = ProposalFactory(slug="perm-proposal", title="Permission proposal")
    EvidenceFactory(proposal=proposal)
    return {
        "proposals": proposal,
        "actors": ActorFactory(slug="perm-actor"),
        "venues": VenueFactory(slug="perm-venue"),
        "sources": SourceFactory(slug="perm-source"),
        "topics": TopicFactory(slug="perm-topic", name="Permission topic"),
        "used_venue": proposal.venue,
        "used_actor": proposal.proponents.get().actor,
        "used_source": proposal.evidence.get().source,
    }


def _detail(kind, record) -> str:
    key = record.slug if kind in ("proposals", "topics") else record.pk
    return f"{API}/{kind}/{key}/"


def _create_payload(kind, world) -> dict:
    return {
        "proposals": {
            "slug": "perm-new-proposal",
            "title": "A new proposal",
            "venue": {"id": world["venues"].pk},
            "proponents": [{"id": world["actors"].pk, "role": "proposed", "primary": True}],
            "topics": [{"slug": world["topics"].slug}],
        },
        "actors": {"slug": "perm-new-actor", "name": "New actor", "kind": "organisation"},
        "venues": {"slug": "perm-new-venue", "name": "New venue", "kind": "summit"},
        "sources": {"slug": "perm-new-source", "title": "New source", "text": "Some text."},
        "topics": {"slug": "perm-new-topic", "name": "New topic"},
    }[kind]


# (operation id, expected editor status)
OPERATIONS = [
    *[(f"{kind}:{op}", code) for kind in MODELS for op, code in (("post", 201), ("put", 200), ("patch", 200))],
    *[(f"{kind}:delete", 204) for kind in MODELS],
    ("venues:delete-in-use", 409),
    ("actors:delete-in-use", 409),
    ("sources:delete-in-use", 409),
    ("events:post", 201),
    ("evidence:post", 201),
]


def _request(client, operation, world):
    """Perform ``operation``; PUT/PATCH/DELETE carry a current If-Match, so
    only who is asking decides the outcome. Returns (response, check) where
    ``check()`` asserts the editor's write took effect."""
    kind, op = operation.split(":")
    proposal = world["proposals"]
    if kind == "events":
        url = f"{API}/proposals/{proposal.slug}/events/"
        response = client.post(url, {"status": "adopted", "occurred_on": "2018-01-01"}, format="json")
        return response, lambda: Proposal.objects.get(pk=proposal.pk).status == "adopted"
    if kind == "evidence":
        source = world["sources"]
        quote = source.text.split(". ")[1] + "."
        url = f"{API}/proposals/{proposal.slug}/evidence/"
        response = client.post(url, {"source": {"id": source.pk}, "quote": quote}, format="json")
        return response, lambda: Evidence.objects.filter(proposal=proposal, source=source, quote=quote).exists()

    model = MODELS[kind]
    if op == "post":
        payload = _create_payload(kind, world)
        response = client.post(f"{API}/{kind}/", payload, format="json")
        return response, lambda: model.objects.filter(slug=payload["slug"]).exists()

    record = world[f"used_{kind[:-1]}"] if op == "delete-in-use" else world[kind]
    url = _detail(kind, record)
    current = APIClient().get(url)  # reading is public
    assert current.status_code == 200
    headers = {"HTTP_IF_MATCH": current["ETag"]}
    field = NAME_FIELD[kind]
    if op == "put":
        body = {**current.json(), field: "Replaced"}  # read-only fields are ignored
        response = client.put(url, body, format="json", **headers)
        return response, lambda: getattr(model.objects.get(pk=record.pk), field) == "Replaced"
    if op == "patch":
        response = client.patch(url, {field: "Patched"}, format="json", **headers)
        return response, lambda: getattr(model.objects.get(pk=record.pk), field) == "Patched"
    response = client.delete(url, **headers)
    if op == "delete":
        return response, lambda: not model.objects.filter(pk=record.pk).exists()
    return response, lambda: model.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize(("operation", "editor_status"), OPERATIONS, ids=[op for op, _ in OPERATIONS])
@pytest.mark.parametrize("role", ROLES)
def test_write_matrix(world, django_user_model, role, operation, editor_status):
    client, user = _client_for(role, django_user_model)
    before = _snapshot()

    response, took_effect = _request(client, operation, world)

    if role == "anonymous":
        assert_problem(response, 401)
        assert response["WWW-Authenticate"] == "Token"
        assert _snapshot() == before
    elif role == "reader":
        assert_problem(response, 403)
        assert _snapshot() == before
    elif editor_status == 409:
        body = assert_problem(response, 409)
        # The detail names what still refers to the record.
        blocker = {"venues": "proposals", "actors": "proponents", "sources": "evidence"}[operation.split(":")[0]]
        assert blocker in body["detail"], body
        assert took_effect()
        assert _snapshot() == before
    else:
        assert response.status_code == editor_status, response.content
        assert took_effect()
        assert _snapshot() != before
        # Every history row the write added credits the caller, whichever way it signed in.
        added = _added_history_rows(before)
        assert added
        assert {(label, row["history_user_id"]) for label, row in added} == {(label, user.pk) for label, _ in added}


def _added_history_rows(before) -> list[tuple[str, dict]]:
    after = _snapshot()
    added = []
    for label, rows in after.items():
        if "Historical" in label:
            seen = {row["history_id"] for row in before[label]}
            added += [(label, row) for row in rows if row["history_id"] not in seen]
    return added


# --------------------------------------------------------------------------
# Reading when the deployment requires authentication
# --------------------------------------------------------------------------


def _read_urls(world) -> list[str]:
    slug = world["proposals"].slug
    return [
        f"{API}/proposals/",
        f"{API}/proposals/{slug}/",
        f"{API}/proposals/{slug}/events/",
        f"{API}/proposals/{slug}/evidence/",
        f"{API}/proposals/{slug}/history/",
        f"{API}/actors/",
        _detail("venues", world["venues"]),
        f"{API}/sources/",
        _detail("topics", world["topics"]),
    ]


def test_reading_is_public_by_default(world):
    for url in _read_urls(world):
        assert APIClient().get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["reader", "editor_session", "editor_token"])
def test_read_requires_auth_lets_any_signed_in_user_read(world, settings, django_user_model, role):
    settings.API_READ_REQUIRES_AUTH = True
    client, _ = _client_for(role, django_user_model)
    for url in _read_urls(world):
        assert client.get(url).status_code == 200, url


def test_read_requires_auth_refuses_anonymous_reads_with_401(world, settings):
    settings.API_READ_REQUIRES_AUTH = True
    for url in _read_urls(world):
        response = APIClient().get(url)
        assert_problem(response, 401)
        assert response["WWW-Authenticate"] == "Token"


# --------------------------------------------------------------------------
# Tokens that no longer hold
# --------------------------------------------------------------------------


@pytest.fixture
def editor_token(db, editor):
    instance, token = AuthToken.objects.create(editor)
    return instance, token


def _patch_with_token(token, record) -> object:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    url = f"{API}/topics/{record.slug}/"
    tag = APIClient().get(url)["ETag"]
    return client.patch(url, {"name": "Changed"}, format="json", HTTP_IF_MATCH=tag)


def test_a_live_editor_token_writes(editor_token):
    topic = TopicFactory()
    assert _patch_with_token(editor_token[1], topic).status_code == 200


def test_an_expired_token_is_401_and_changes_nothing(editor_token):
    instance, token = editor_token
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    topic = TopicFactory(name="Unchanged")
    before = _snapshot()

    response = _patch_with_token(token, topic)

    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.filter(pk=instance.pk).exists()  # knox deletes it
    assert _snapshot()["proposals.Topic"] == before["proposals.Topic"]


def test_a_revoked_token_is_401_and_changes_nothing(editor_token):
    instance, token = editor_token
    instance.delete()  # what revoking in the admin or `logout` does
    topic = TopicFactory(name="Unchanged")
    before = _snapshot()

    response = _patch_with_token(token, topic)

    assert_problem(response, 401)
    assert _snapshot() == before


def test_a_garbled_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_problem(client.post(f"{API}/topics/", {"slug": "x", "name": "X"}, format="json"), 401)
    assert not Topic.objects.filter(slug="x").exists()


def test_a_token_of_a_deactivated_user_is_401(editor_token, editor):
    editor.is_active = False
    editor.save()
    response = APIClient()
    response.credentials(HTTP_AUTHORIZATION=f"Token {editor_token[1]}")
    assert_problem(response.post(f"{API}/topics/", {"slug": "x", "name": "X"}, format="json"), 401)
    assert not Topic.objects.filter(slug="x").exists()
