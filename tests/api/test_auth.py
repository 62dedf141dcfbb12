"""Token owners revoke their own tokens: ``POST /api/v1/auth/logout/`` (this
token) and ``/api/v1/auth/logout-all/`` (every token of the user)."""

from knox.models import AuthToken
from rest_framework.test import APIClient

from .helpers import assert_problem

API = "/api/v1"


def _client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_logout_revokes_only_this_token(editor, proposal):
    _, first = AuthToken.objects.create(editor)
    _, second = AuthToken.objects.create(editor)
    response = _client(first).post(f"{API}/auth/logout/")
    assert response.status_code == 204
    assert_problem(_client(first).get(f"{API}/proposals/"), 401)
    assert _client(second).get(f"{API}/proposals/").status_code == 200
    assert AuthToken.objects.filter(user=editor).count() == 1


def test_logout_all_revokes_every_token_of_the_user_and_no_one_elses(editor, reader, proposal):
    _, first = AuthToken.objects.create(editor)
    _, second = AuthToken.objects.create(editor)
    _, readers = AuthToken.objects.create(reader)
    assert _client(first).post(f"{API}/auth/logout-all/").status_code == 204
    for token in (first, second):
        assert_problem(_client(token).get(f"{API}/proposals/"), 401)
    assert _client(readers).get(f"{API}/proposals/").status_code == 200


def test_logout_needs_a_token(api, editor, db):
    for path in ("logout", "logout-all"):
        assert_problem(api.post(f"{API}/auth/{path}/"), 401)
        assert_problem(_client("0" * 64).post(f"{API}/auth/{path}/"), 401)
    # A session is not a token: nothing to revoke, and a cross-site form could not sign anyone out.
    session = APIClient()
    session.force_login(editor)
    assert_problem(session.post(f"{API}/auth/logout/"), 401)


def test_logout_refuses_get(editor, db):
    _, token = AuthToken.objects.create(editor)
    assert_problem(_client(token).get(f"{API}/auth/logout/"), 405)
    assert AuthToken.objects.filter(user=editor).count() == 1
