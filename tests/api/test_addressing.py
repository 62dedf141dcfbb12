"""Addressing (issue item 9), after NetBox: every resource is reachable by
its slug, every relation filter takes the slug under its plain name and the
id under ``<name>_id``, and every parameter is described in the schema."""

import pytest
import yaml
from django.core.management import call_command

from tests.factories import ActorFactory, SourceFactory, VenueFactory

from .helpers import assert_problem, write

API = "/api/v1"

FACTORIES = {"actors": ActorFactory, "venues": VenueFactory, "sources": SourceFactory}


def test_an_actor_is_reachable_by_its_slug(api, actor):
    response = api.get(f"{API}/actors/li-keqiang/")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == actor.pk


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_every_resource_is_reachable_by_slug_for_reads_and_writes(editor_api, kind):
    record = FACTORIES[kind]()
    url = f"{API}/{kind}/{record.slug}/"
    assert editor_api.get(url).json()["id"] == record.pk
    assert editor_api.get(f"{url}history/").status_code == 200
    response = write(editor_api, "patch", url, {"slug": f"{record.slug}-renamed"})
    assert response.status_code == 200, response.content
    assert editor_api.get(f"{API}/{kind}/{record.slug}-renamed/").json()["id"] == record.pk
    assert_problem(editor_api.get(url), 404)


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_a_number_that_is_no_slug_still_finds_the_record_by_id(api, db, kind):
    record = FACTORIES[kind]()
    response = api.get(f"{API}/{kind}/{record.pk}/")
    assert response.status_code == 200, response.content
    assert response.json()["slug"] == record.slug


def test_an_all_digit_slug_wins_over_an_id(api, db):
    first = ActorFactory()
    second = ActorFactory(slug=str(first.pk))
    assert api.get(f"{API}/actors/{first.pk}/").json()["id"] == second.pk


@pytest.mark.parametrize("value", ["no-such-actor", "999999", "99999999999999999999"])
def test_an_unknown_slug_or_id_is_a_404(api, db, value):
    assert_problem(api.get(f"{API}/actors/{value}/"), 404)


def test_venue_organisation_filter_takes_a_slug_and_organisation_id_an_id(api, db):
    org = ActorFactory(organisation=True)
    venue = VenueFactory(organisation=org)
    VenueFactory()
    by_slug = api.get(f"{API}/venues/?organisation={org.slug}").json()["results"]
    by_id = api.get(f"{API}/venues/?organisation_id={org.pk}").json()["results"]
    assert [row["id"] for row in by_slug] == [row["id"] for row in by_id] == [venue.pk]
    assert_problem(api.get(f"{API}/venues/?organisation={org.pk}"), 400, "organisation")


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--file", str(path))
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _parameters(schema):
    for route, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                yield route, method, parameter


def test_every_parameter_has_a_description(schema):
    missing = [
        f"{method.upper()} {route} {parameter['in']}:{parameter['name']}"
        for route, method, parameter in _parameters(schema)
        if not parameter.get("description", "").strip()
    ]
    assert missing == []


def test_every_relation_filter_has_a_slug_and_an_id_form(schema):
    names = {p["name"] for p in schema["paths"]["/api/v1/proposals/"]["get"]["parameters"]}
    for name in ("venue", "proponent", "topic", "party", "source"):
        assert {name, f"{name}_id"} <= names, name
    venue_names = {p["name"] for p in schema["paths"]["/api/v1/venues/"]["get"]["parameters"]}
    assert {"organisation", "organisation_id"} <= venue_names


def test_detail_paths_are_addressed_by_slug(schema):
    for kind in ("proposals", "actors", "venues", "sources", "topics"):
        assert f"/api/v1/{kind}/{{slug}}/" in schema["paths"], kind
