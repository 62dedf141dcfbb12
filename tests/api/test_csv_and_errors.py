"""The CSV export, and the one error format (problem details) everywhere."""

import csv
import datetime as dt
import io

import pytest

from proposals.models import Proposal
from tests.factories import ActorFactory, ProposalFactory, TopicFactory, VenueFactory, create_proposals_in_bulk

from .helpers import assert_problem, error_fields, write

URL = "/api/v1/proposals/"
COLUMNS = [
    "slug",
    "title",
    "status",
    "status_label",
    "venue_id",
    "venue",
    "primary_proponent",
    "proponents",
    "topics",
    "proposed_on",
    "proposed_precision",
    "updated_at",
    "url",
    "participation",
    "aliases",
]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"\xef\xbb\xbf"), "the export starts with a UTF-8 BOM, for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.fixture
def exported(db):
    venue = VenueFactory(name="Summit, with a comma")
    lead, backer = ActorFactory(name='Lead "quoted"'), ActorFactory(name="Backer")
    first = ProposalFactory(
        slug="first",
        title="First, with\na newline",
        venue=venue,
        proponents=[
            {"actor": lead, "role": "proposed", "is_primary": True},
            {"actor": backer, "role": "endorsed", "is_primary": False},
        ],
        # Named, so their order (by name) does not depend on the factory sequence.
        topics=[
            TopicFactory(slug="borders", name="Border control"),
            TopicFactory(slug="finance", name="Terror financing"),
        ],
        proposed_on=dt.date(2016, 5, 1),
        proposed_precision="month",
        initial_status="adopted",
    )
    second = ProposalFactory(slug="second", title="Second", venue=None, proponents=[], proposed_on=None)
    return first, second


@pytest.mark.parametrize("how", [{"path": f"{URL}?format=csv"}, {"path": URL, "HTTP_ACCEPT": "text/csv"}])
def test_csv_export_has_the_documented_columns_and_one_row_per_proposal(api, exported, how):
    first, second = exported
    first.refresh_from_db()
    second.refresh_from_db()

    rows = read_csv(api.get(**how))

    assert rows[0] == COLUMNS
    by_slug = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}
    assert len(rows) == 3
    assert by_slug["first"] == {
        "slug": "first",
        "title": "First, with\na newline",
        "status": "adopted",
        "status_label": "Adopted / signed",
        "venue_id": str(first.venue_id),
        "venue": "Summit, with a comma",
        "primary_proponent": 'Lead "quoted"',
        "proponents": 'Lead "quoted" (proposed); Backer (endorsed)',
        "topics": "borders; finance",
        "proposed_on": "2016-05-01",
        "proposed_precision": "month",
        "updated_at": first.updated_at.isoformat(),
        "url": "http://testserver/api/v1/proposals/first/",
        "participation": "",
        "aliases": "",
    }
    assert by_slug["second"]["venue_id"] == ""
    assert by_slug["second"]["venue"] == ""
    assert by_slug["second"]["primary_proponent"] == ""
    assert by_slug["second"]["proposed_on"] == ""


def test_csv_export_applies_the_filters_and_ordering(api, exported):
    rows = read_csv(api.get(f"{URL}?format=csv&status=adopted"))
    assert [row[0] for row in rows[1:]] == ["first"]
    rows = read_csv(api.get(f"{URL}?format=csv&ordering=-slug"))
    assert [row[0] for row in rows[1:]] == ["second", "first"]
    rows = read_csv(api.get(f"{URL}?format=csv&q=newline"))
    assert [row[0] for row in rows[1:]] == ["first"]


def test_csv_export_is_not_paginated(api, db):
    create_proposals_in_bulk(55)
    rows = read_csv(api.get(f"{URL}?format=csv"))
    assert len(rows) == 56


def test_csv_export_with_a_bad_filter_is_problem_json(api, exported):
    for response in (api.get(f"{URL}?format=csv&status=finished"), api.get(f"{URL}?status=x", HTTP_ACCEPT="text/csv")):
        body = assert_problem(response, 400, "status")
        assert body["errors"][0]["code"] == "invalid_choice"


# --------------------------------------------------------------------------
# Problem details
# --------------------------------------------------------------------------


def test_unknown_url_under_api_is_a_json_404(api, db):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Nothing matches the given URI",
    }
    assert_problem(api.get("/api/nothing-here"), 404)


def test_malformed_json_is_a_400(editor_api, db):
    response = editor_api.post(URL, '{"slug": "x",', content_type="application/json")
    body = assert_problem(response, 400)
    assert body["detail"].startswith("JSON parse error")
    assert not Proposal.objects.exists()


def test_wrong_content_type_is_a_415(editor_api, db):
    response = editor_api.post(URL, "slug=x", content_type="text/plain")
    body = assert_problem(response, 415)
    assert body["detail"] == 'Unsupported media type "text/plain" in request.'


def test_unknown_body_fields_are_a_400_naming_each(editor_api, db):
    response = editor_api.post(URL, {"slug": "x", "title": "X", "colour": "red", "owner": 1}, format="json")
    body = assert_problem(response, 400)
    assert body["errors"] == [
        {"field": "colour", "code": "invalid", "detail": "Unknown field."},
        {"field": "owner", "code": "invalid", "detail": "Unknown field."},
    ]
    assert not Proposal.objects.exists()


def test_unknown_nested_fields_are_named_with_dots(editor_api, db):
    actor = ActorFactory()
    response = editor_api.post(
        URL,
        {"slug": "x", "title": "X", "proponents": [{"id": actor.pk, "role": "proposed", "weight": 3}]},
        format="json",
    )
    assert_problem(response, 400, "proponents.0.weight")


def test_nested_validation_errors_are_named_with_dots(editor_api, db):
    a, b = ActorFactory(), ActorFactory()
    response = editor_api.post(
        URL,
        {
            "slug": "x",
            "title": "X",
            "proponents": [
                {"id": a.pk, "role": "proposed", "primary": True},
                {"id": b.pk, "role": "boss"},
            ],
        },
        format="json",
    )
    body = assert_problem(response, 400)
    assert body["errors"] == [
        {"field": "proponents.1.role", "code": "invalid_choice", "detail": '"boss" is not a valid choice.'}
    ]


def test_missing_required_fields_are_each_named(editor_api, db):
    response = editor_api.post(URL, {}, format="json")
    assert_problem(response, 400)
    assert sorted(error_fields(response)) == ["slug", "title"]
    assert {e["code"] for e in response.json()["errors"]} == {"required"}


def test_wrong_types_are_named(editor_api, db):
    response = editor_api.post(
        URL, {"slug": "not a slug!", "title": ["x"], "proposed_on": "soon", "topics": "borders"}, format="json"
    )
    assert_problem(response, 400)
    assert sorted(error_fields(response)) == ["proposed_on", "slug", "title", "topics"]


def test_a_body_that_is_not_an_object_is_a_400(editor_api, db):
    assert_problem(editor_api.post(URL, [1, 2], format="json"), 400, "non_field_errors")


def test_errors_in_patch_name_the_field_and_change_nothing(editor_api, db):
    ProposalFactory(slug="kept", title="Kept")
    response = write(editor_api, "patch", f"{URL}kept/", {"title": "", "proposed_precision": "week"})
    assert_problem(response, 400)
    assert sorted(error_fields(response)) == ["proposed_precision", "title"]
    assert Proposal.objects.get(slug="kept").title == "Kept"


def test_method_not_allowed_is_problem_json(editor_api, db):
    ProposalFactory(slug="p")
    assert_problem(editor_api.delete(URL), 405)
    assert_problem(editor_api.put("/api/v1/proposals/p/events/", {}, format="json"), 405)


def test_not_acceptable_is_problem_json(api, db):
    response = api.get(URL, HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert response.json()["status"] == 406
