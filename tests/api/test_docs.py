"""The generated API docs say what the API does (issue item 13): every
operation has its own summary and description saying what it does, who may
call it and its errors; public reads carry no lock; the token scheme says
how to get a token; and the behaviour the docs describe is the behaviour
(JSON-only bodies, PUT keeping left-out fields, whole-word search)."""

import pytest
import yaml
from django.core.management import call_command

from tests.factories import EvidenceFactory, ProposalFactory, SourceFactory

from .helpers import assert_problem, write

API = "/api/v1"
RESOURCES = ["proposals", "actors", "venues", "sources", "topics"]


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory):
    path = tmp_path_factory.mktemp("docs") / "openapi.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--file", str(path))
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def operations(schema):
    for route, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {route}", method, operation


# ------------------------------------------------------------------ sweeps


def test_every_operation_has_its_own_summary_and_description(schema):
    summaries, descriptions = {}, {}
    for name, _method, operation in operations(schema):
        assert operation.get("summary", "").strip(), name
        assert operation.get("description", "").strip(), name
        summaries.setdefault(operation["summary"], []).append(name)
        descriptions.setdefault(operation["description"], []).append(name)
    assert [names for names in summaries.values() if len(names) > 1] == []
    assert [names for names in descriptions.values() if len(names) > 1] == []


def test_every_operation_says_who_may_call_it_and_its_errors(schema):
    for name, _method, operation in operations(schema):
        description = operation["description"]
        assert "**Who may call it:**" in description, name
        assert "**Errors**" in description, name
        for code in operation["responses"]:
            if code.startswith(("4", "5")):
                assert f"`{code}`" in description, (name, code)


def test_public_reads_need_no_credentials_and_writes_do(schema):
    for name, method, operation in operations(schema):
        if method == "get":
            assert {} in operation["security"], name
        else:
            assert {} not in operation["security"], name
            assert {"knoxApiToken": []} in operation["security"], name


def test_the_token_scheme_says_how_to_get_a_token(schema):
    scheme = schema["components"]["securitySchemes"]["knoxApiToken"]
    assert "issue_token" in scheme["description"]
    assert "issue_token" in schema["info"]["description"]


def test_every_write_takes_json_only(schema):
    for name, _method, operation in operations(schema):
        if "requestBody" in operation:
            assert set(operation["requestBody"]["content"]) == {"application/json"}, name


@pytest.mark.parametrize("kind", RESOURCES)
@pytest.mark.parametrize("content_type", ["multipart", "form"])
def test_form_bodies_are_refused_with_415(editor_api, db, kind, content_type):
    body = {"slug": "from-a-form", "name": "From a form", "title": "From a form", "kind": "summit"}
    if content_type == "multipart":
        response = editor_api.post(f"{API}/{kind}/", body, format="multipart")
    else:
        response = editor_api.post(
            f"{API}/{kind}/", "slug=from-a-form&name=From", content_type="application/x-www-form-urlencoded"
        )
    assert_problem(response, 415)


# ---------------------------------------------------------------- examples


def test_put_is_documented_as_keeping_left_out_fields_and_does(schema, editor_api, proposal):
    put = schema["paths"]["/api/v1/proposals/{slug}/"]["put"]
    assert "Replace" not in put["summary"]
    assert "left out keeps its current value" in put["description"]
    response = write(editor_api, "put", f"{API}/proposals/{proposal.slug}/", {"slug": proposal.slug, "title": "New"})
    assert response.status_code == 200, response.content
    assert response.json()["summary"] == "A treaty against extremism."  # left out: kept


def test_proposal_patch_has_its_own_text(schema):
    patch = schema["paths"]["/api/v1/proposals/{slug}/"]["patch"]
    assert not patch["description"].startswith("Policy proposals: who put each forward")
    assert "only the fields sent" in patch["description"]


def test_timeline_description_says_more_than_oldest_first(schema):
    timeline = schema["paths"]["/api/v1/proposals/{proposal_slug}/events/"]["get"]["description"]
    assert not timeline.startswith("Oldest first.")
    assert "precision" in timeline


def test_resources_have_a_text_per_operation(schema):
    texts = {schema["paths"]["/api/v1/actors/{slug}/"][m]["description"] for m in ("get", "put", "patch", "delete")}
    assert len(texts) == 4


def test_browsable_api_still_offers_a_json_form(editor, client):
    client.force_login(editor)
    response = client.get(f"{API}/topics/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="_content"' in page  # the raw-data form
    assert "application/json" in page


@pytest.fixture
def words(db):
    source = SourceFactory(text="Officials mentioned cryptocurrency tracing in passing. Nothing else.")
    crypto = ProposalFactory(slug="crypto", title="Cryptocurrency tracing", summary="For the border.")
    EvidenceFactory(proposal=crypto, source=source, quote="Officials mentioned cryptocurrency tracing in passing.")
    ProposalFactory(slug="other", title="Information sharing", summary="Forums for ministers.")


def _slugs(api, query):
    response = api.get(f"{API}/proposals/?{query}")
    assert response.status_code == 200, response.content
    return {row["slug"] for row in response.json()["results"]}


def test_q_matches_whole_words_not_substrings(api, words):
    assert _slugs(api, "q=cryptocurrency") == {"crypto"}
    assert _slugs(api, "q=ryptocurrenc") == set()  # inside a word: no match, on either database
    assert _slugs(api, "q=orum") == set()


def test_q_or_alone_matches_nothing(api, words):
    # On SQLite "or" used to match every proposal with "for", "border", "information"...
    assert _slugs(api, "q=or") == set()
